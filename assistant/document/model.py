"""The parsed plan as plain frozen records.

    Document                       one file: metadata, parts, sections, tasks, context, warnings
    ├── parts: Part                一、… (top heading level), may be empty
    ├── sections: Section          （一）… (second heading level), may be empty; ``part_no`` may be None
    ├── tasks: Task                a numbered item that names its units (or one sub-task of it)
    ├── context: Paragraph         text that is not a task: preamble, goals, principles, unit-less items
    └── warnings: ParseWarning     what the parser could not place, with the line

Numbering: ``Part.no``, ``Section.no`` and ``Task.n`` are unique 1-based positions in the
document (1, 2, 3, …), whatever the document writes. What the document writes is kept beside
them: ``Part.marker``/``Section.marker`` (``一、``, ``（三）``) and ``Task.label`` (``32``, ``5-2``
for the second sub-task of item 5, ``（三）2`` when numbering restarts in each section). In the
reference plan the two coincide (task 32 has ``n == 32`` and ``label == "32"``).

Lines are 1-based lines of the text the parser saw: for a ``.txt`` file its lines, for a ``.docx``
its paragraphs (table rows count one each), for a PDF the lines of its extracted text.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

NUMERALS = "一二三四五六七八九十"


def numeral_to_int(numeral: str) -> int:
    """Chinese numeral 一..九十九 -> int (``十五`` -> 15, ``二十`` -> 20)."""
    if not numeral or any(c not in NUMERALS for c in numeral):
        raise ValueError(f"not a Chinese numeral: {numeral!r}")
    if "十" not in numeral:
        if len(numeral) != 1:
            raise ValueError(f"not a Chinese numeral: {numeral!r}")
        return NUMERALS.index(numeral) + 1
    tens, _, ones = numeral.partition("十")
    if len(tens) > 1 or len(ones) > 1 or "十" in tens + ones:
        raise ValueError(f"not a Chinese numeral: {numeral!r}")
    return (NUMERALS.index(tens) + 1 if tens else 1) * 10 + (NUMERALS.index(ones) + 1 if ones else 0)


def int_to_numeral(n: int) -> str:
    """int 1..99 -> Chinese numeral (15 -> ``十五``)."""
    if not 1 <= n <= 99:
        raise ValueError(n)
    tens, ones = divmod(n, 10)
    head = "" if tens == 0 else ("十" if tens == 1 else NUMERALS[tens - 1] + "十")
    return head + (NUMERALS[ones - 1] if ones else "")


@dataclass(frozen=True)
class Part:
    """A part of the plan (the top heading level, usually ``一、…``).

    ``no`` is the part's 1-based position; ``marker`` its numbering as written (``一、``,
    ``第一部分``), by default ``{no in Chinese}、``.
    """

    no: int
    title: str
    marker: str = ""
    line: int = 0  # 1-based line of the heading

    def __post_init__(self) -> None:
        if not self.marker:
            object.__setattr__(self, "marker", f"{int_to_numeral(self.no)}、")

    @property
    def label(self) -> str:
        return f"{self.marker}{self.title}"


@dataclass(frozen=True)
class Section:
    """A section (the heading level below parts, usually ``（一）…``).

    ``no`` is the section's 1-based position in the whole document (never restarts);
    ``marker`` its numbering as written (``（三）``), by default ``（{no in Chinese}）``, which may
    repeat when the document restarts section numbers in each part. ``part_no`` is the enclosing
    part's ``no``, or None in a document without parts.
    """

    no: int
    title: str
    part_no: int | None
    marker: str = ""
    line: int = 0

    def __post_init__(self) -> None:
        if not self.marker:
            object.__setattr__(self, "marker", f"（{int_to_numeral(self.no)}）")

    @property
    def label(self) -> str:
        return f"{self.marker}{self.title}"


@dataclass(frozen=True)
class Task:
    """One task: a numbered item of the plan that names its responsible units.

    * ``n``: unique 1-based position in the document; the chunk id and citation key.
    * ``label``: the document's own numbering (``"32"``; ``"5-2"`` for the second of several
      unit brackets inside item 5; ``"（三）2"`` when numbering restarts per section, ``"三、2"``
      per part). Defaults to ``str(n)``. Unique unless the document itself repeats a number
      (then a warning says so).
    * ``part``/``section``: where it sits; None when the document has no such level there.
    * ``text``: the task text without its units, in display form (:func:`assistant.text.clean`).
    * ``units``: every unit named, in the document's order, leads included, each once.
    * ``leads``: the lead units (牵头) by the document's rule, see :attr:`Document.lead_rule`:
      an explicit 牵头单位 / "X牵头" first, else the convention the document states, else the
      first unit listed. Defaults to ``units[:1]``.
    * ``scope``: where the task applies when the units bracket says so (适用范围), else "".
    * ``line``: 1-based line where the item starts.
    * ``doc``: the key of its document in the corpus (the file name without extension; "" outside a corpus).
    * ``uid``: its id across the whole corpus (:mod:`assistant.corpus`): ``n`` in the reference plan,
      ``1000 * k + n`` in the k-th other document. Search, conversations and the index key on it.
    * ``cite_as``: its document's short name, for citations; ``primary``: whether that is the reference plan
      (whose in-text keys need no name: 〔任务32〕, but 〔营商环境分工方案·任务5〕).
    """

    n: int
    part: Part | None
    section: Section | None
    text: str
    units: tuple[str, ...]
    line: int = 0
    label: str = ""
    leads: tuple[str, ...] = ()
    scope: str = ""
    doc: str = ""
    uid: int = 0
    cite_as: str = ""  # the short name of its document in citations (《任务分工方案》第32项); "" outside a corpus

    def __post_init__(self) -> None:
        if not self.label:
            object.__setattr__(self, "label", str(self.n))
        if not self.leads:
            object.__setattr__(self, "leads", self.units[:1])
        if not self.uid:
            object.__setattr__(self, "uid", self.n)

    @property
    def lead_unit(self) -> str:
        """The (first) lead unit; "" only for a task without units."""
        return self.leads[0] if self.leads else ""

    @property
    def primary(self) -> bool:
        return self.uid == self.n

    def to_dict(self) -> dict[str, object]:
        """The stable JSON shape of a task in citations and the reference golden file."""
        return {
            "n": self.n,
            "part": _label(self.part),
            "section": _label(self.section),
            "text": self.text,
            "units": list(self.units),
            "lead_unit": self.lead_unit,
        }

    def to_full_dict(self) -> dict[str, object]:
        """:meth:`to_dict` plus ``label``, ``leads``, ``scope`` and ``line`` (``tasks --json``)."""
        return {**self.to_dict(), "label": self.label, "leads": list(self.leads), "scope": self.scope,
                "line": self.line}


@dataclass(frozen=True)
class Paragraph:
    """Text of the document that is not a task, with where it sits.

    The preamble, goals and principles, an intro under a heading, a numbered item without units,
    or text the parser could not attach (then there is also a warning on the same line).
    """

    text: str
    line: int
    part: Part | None = None
    section: Section | None = None

    def to_dict(self) -> dict[str, object]:
        return {"text": self.text, "line": self.line, "part": _label(self.part), "section": _label(self.section)}


@dataclass(frozen=True)
class ParseWarning:
    """Something the parser could not place or had to repair; ``message`` is Chinese, ``line`` 1-based (0: none)."""

    line: int
    message: str

    def __str__(self) -> str:
        return f"第{self.line}行：{self.message}" if self.line else self.message

    def to_dict(self) -> dict[str, object]:
        return {"line": self.line, "message": self.message}


@dataclass(frozen=True)
class Document:
    """One parsed plan with its own metadata.

    Metadata is "" (``issued`` None) when the document does not state it; a warning says so.
    ``lead_rule`` says in Chinese how :attr:`Task.leads` were determined, e.g.
    ``文件说明：排在第一位的部门为牵头部门``. ``source`` is the path it was loaded from, if any.
    """

    title: str  # e.g. 〈…〉任务分工方案, without the outer 《》
    doc_number: str  # 文号, e.g. 沪区域办〔2025〕2号
    issuer: str
    issued: date | None
    parts: tuple[Part, ...]
    sections: tuple[Section, ...]
    tasks: tuple[Task, ...]
    sha256: str = ""
    context: tuple[Paragraph, ...] = ()
    warnings: tuple[ParseWarning, ...] = ()
    lead_rule: str = ""
    source: str = ""
    key: str = ""  # its key in a corpus (file name without extension)
    short: str = ""  # the short name citations use: 《任务分工方案》第32项 (from its .meta.toml)
    _by_n: dict[int, Task] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._by_n.update({t.n: t for t in self.tasks})

    def task(self, n: int) -> Task | None:
        return self._by_n.get(n)

    def tasks_labelled(self, label: str) -> list[Task]:
        """Tasks whose :attr:`Task.label` is ``label`` (one, unless the document repeats a number)."""
        return [t for t in self.tasks if t.label == label]

    def section(self, no: int | None) -> Section | None:
        return next((s for s in self.sections if s.no == no), None)

    def part(self, no: int | None) -> Part | None:
        return next((p for p in self.parts if p.no == no), None)

    def tasks_in_section(self, no: int) -> list[Task]:
        return [t for t in self.tasks if t.section is not None and t.section.no == no]

    def tasks_in_part(self, no: int) -> list[Task]:
        return [t for t in self.tasks if t.part is not None and t.part.no == no]

    def units(self) -> list[str]:
        """Distinct unit names in order of first appearance."""
        return list(dict.fromkeys(u for t in self.tasks for u in t.units))

    def to_dict(self) -> dict[str, object]:
        """Everything parsed, as JSON-ready data (``tasks --file F --json``)."""
        return {
            "source": self.source,
            "title": self.title,
            "doc_number": self.doc_number,
            "issuer": self.issuer,
            "issued": self.issued.isoformat() if self.issued else None,
            "lead_rule": self.lead_rule,
            "parts": [p.label for p in self.parts],
            "sections": [{"label": s.label, "part": _label(self.part(s.part_no))} for s in self.sections],
            "tasks": [t.to_full_dict() for t in self.tasks],
            "context": [p.to_dict() for p in self.context],
            "warnings": [w.to_dict() for w in self.warnings],
        }


def _label(heading: Part | Section | None) -> str | None:
    return heading.label if heading else None

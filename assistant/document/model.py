"""The parsed plan as plain frozen records: :class:`Document` -> :class:`Part` -> :class:`Section` -> :class:`Task`."""

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
    """A part of the plan: 一、… (1..5)."""

    no: int
    title: str

    @property
    def label(self) -> str:
        return f"{int_to_numeral(self.no)}、{self.title}"


@dataclass(frozen=True)
class Section:
    """A section: （一）… (1..20), numbered across the whole document."""

    no: int
    title: str
    part_no: int

    @property
    def label(self) -> str:
        return f"（{int_to_numeral(self.no)}）{self.title}"


@dataclass(frozen=True)
class Task:
    """One numbered task. ``units[0]`` is the lead unit (牵头单位)."""

    n: int
    part: Part
    section: Section
    text: str
    units: tuple[str, ...]
    line: int = 0  # 1-based line where the task starts in the source

    @property
    def lead_unit(self) -> str:
        return self.units[0]

    def to_dict(self) -> dict[str, object]:
        """The stable JSON shape of a task (``tasks --json`` and answer citations)."""
        return {
            "n": self.n,
            "part": self.part.label,
            "section": self.section.label,
            "text": self.text,
            "units": list(self.units),
            "lead_unit": self.lead_unit,
        }


@dataclass(frozen=True)
class Document:
    """The parsed work plan with its own metadata."""

    title: str  # 〈…〉任务分工方案, without the outer 《》
    doc_number: str  # 文号, e.g. 沪区域办〔2025〕2号
    issuer: str
    issued: date
    parts: tuple[Part, ...]
    sections: tuple[Section, ...]
    tasks: tuple[Task, ...]
    sha256: str = ""
    _by_n: dict[int, Task] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._by_n.update({t.n: t for t in self.tasks})

    def task(self, n: int) -> Task | None:
        return self._by_n.get(n)

    def section(self, no: int) -> Section | None:
        return next((s for s in self.sections if s.no == no), None)

    def part(self, no: int) -> Part | None:
        return next((p for p in self.parts if p.no == no), None)

    def tasks_in_section(self, no: int) -> list[Task]:
        return [t for t in self.tasks if t.section.no == no]

    def tasks_in_part(self, no: int) -> list[Task]:
        return [t for t in self.tasks if t.part.no == no]

    def units(self) -> list[str]:
        """Distinct unit names in order of first appearance."""
        return list(dict.fromkeys(u for t in self.tasks for u in t.units))

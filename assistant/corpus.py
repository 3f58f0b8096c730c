"""The corpus: every plan the assistant answers from, each cited by its own short name.

A corpus is given as one or more paths (``POLICYQA_CORPUS``, separated by ``:``): a folder stands for the
plans in it (``.txt``, ``.docx``, ``.pdf``), a file for itself. Beside each plan may lie

* ``<name>.meta.toml`` — how to cite it::

      short = "任务分工方案"            # 《任务分工方案》第32项
      title = "〈…〉任务分工方案"       # when the file's own heading does not say it
      number = "沪区域办〔2025〕2号"
      date = 2025-01-13
      primary = true                   # the reference plan: its tasks keep their numbers as ids
      note = "…"                       # shown beside the document (e.g. that it is a sample)

* ``<name>.views.toml`` — everyday-language views of its tasks (:mod:`assistant.views`).

Every task gets an id across the corpus, :attr:`~assistant.document.Task.uid`: its own number in the primary
plan (so the reference plan's task 32 is id 32 everywhere), ``1000 * k + n`` in the k-th other plan. Search,
the index, conversations and answers key on it; citations show the plan's own number and short name.

:class:`Corpus` offers the single-document calls the rest of the code makes (``tasks``, ``task``,
``units``, ``sections``…), answering for all plans where that makes sense (tasks, units) and for the
primary plan where a number only means something within one plan (sections, parts, 文号).
"""

from __future__ import annotations

import hashlib
import os
import re
import tomllib
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path

from .document import Document, Part, Section, Task
from .document import load as load_document
from .errors import ParseError
from .text import fold

DOCUMENT_SUFFIXES = (".txt", ".docx", ".pdf")
META_SUFFIX = ".meta.toml"
UID_BLOCK = 1000
NAME_CHARS = 4  # a question names a plan by a stretch of its name at least this long that only it has
_META_KEYS = {"short", "title", "number", "date", "primary", "note"}


@dataclass(frozen=True)
class Meta:
    """What a plan's ``.meta.toml`` says about it (every field optional)."""

    short: str = ""
    title: str = ""
    number: str = ""
    date: date | None = None
    primary: bool = False
    note: str = ""


def meta_path(path: str | Path) -> Path:
    path = Path(path)
    return path.with_name(path.stem + META_SUFFIX)


def load_meta(path: str | Path) -> Meta:
    """The sidecar of plan ``path`` (an empty :class:`Meta` when there is none)."""
    sidecar = meta_path(path)
    try:
        raw = tomllib.loads(sidecar.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return Meta()
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ParseError(f"说明文件格式错误：{exc}", 0, str(sidecar)) from None
    unknown = set(raw) - _META_KEYS
    if unknown:
        raise ParseError(f"说明文件中有未知的键：{'、'.join(sorted(unknown))}（可用：{'、'.join(sorted(_META_KEYS))}）",
                         0, str(sidecar))
    when = raw.get("date")
    if when is not None and not isinstance(when, date):
        raise ParseError("说明文件中的 date 应写成 2025-01-13", 0, str(sidecar))
    return Meta(str(raw.get("short", "")).strip("《》 "), str(raw.get("title", "")), str(raw.get("number", "")), when,
                bool(raw.get("primary", False)), str(raw.get("note", "")))


def corpus_files(spec: str | Path) -> list[Path]:
    """The plan files a corpus setting names, in order (folders: their plans sorted by name)."""
    files: list[Path] = []
    for part in str(spec).split(os.pathsep):
        if not part.strip():
            continue
        path = Path(part.strip()).expanduser()
        if not path.exists():
            raise ParseError(f"语料路径不存在：{path}", 0)
        if path.is_dir():
            files += sorted(p for p in path.iterdir() if p.suffix.lower() in DOCUMENT_SUFFIXES and p.is_file())
        else:
            files.append(path)
    return list(dict.fromkeys(files))


def short_name(document: Document, meta: Meta, path: Path) -> str:
    """The name citations use: the sidecar's ``short``, else the title's last 《…》 part, else the file name."""
    if meta.short:
        return meta.short
    title = meta.title or document.title
    if title:
        inner = re.findall(r"[《〈]([^《》〈〉]+)[》〉]", title)
        name = re.sub(r"^关于印发|的通知$", "", inner[-1] if inner else title)
        return name[-24:] if len(name) > 24 else name
    return path.stem


def load_corpus(spec: str | Path, strict: bool = False) -> Corpus:
    """Parse every plan of the corpus setting; the primary one first (the sidecar's ``primary``, else the first)."""
    files = corpus_files(spec)
    if not files:
        raise ParseError(f"语料中没有找到任何文件（{spec}）：请放入 .txt、.docx 或 .pdf 格式的分工方案", 0)
    loaded = []
    for path in files:
        document = load_document(path, strict=strict)
        loaded.append((path, document, load_meta(path)))
    primary = next((i for i, (_, _, meta) in enumerate(loaded) if meta.primary), 0)
    loaded.insert(0, loaded.pop(primary))
    documents = []
    keys: set[str] = set()
    for k, (path, document, meta) in enumerate(loaded):
        key = path.stem if path.stem not in keys else f"{path.stem}-{k}"
        keys.add(key)
        documents.append(_identify(document, meta, path, key, k))
    return Corpus(tuple(documents), tuple(files))


def _identify(document: Document, meta: Meta, path: Path, key: str, k: int) -> Document:
    """The document with its key, short name, metadata from the sidecar, and every task's corpus id."""
    if any(t.n >= UID_BLOCK for t in document.tasks):
        raise ParseError(f"任务编号超过{UID_BLOCK - 1}，无法编入语料", 0, str(path))
    short = short_name(document, meta, path)
    tasks = tuple(replace(t, doc=key, uid=t.n if k == 0 else UID_BLOCK * k + t.n, cite_as=short) for t in document.tasks)
    return replace(
        document,
        tasks=tasks,
        key=key,
        short=short,
        title=meta.title or document.title,
        doc_number=meta.number or document.doc_number,
        issued=meta.date or document.issued,
        source=str(path),
        _by_n={},
    )


# Words of the genre's titles that name no particular plan (several plans share them).
_GENERIC_NAME = re.compile(r"实施方案|实施意见|行动计划|行动方案|重点任务|任务分工|分工方案|工作方案|工作要点|若干措施|若干意见|"
                           r"责任分解|五年|年度|关于|印发|通知|上海市|上海")


def _naming(run: str) -> bool:
    """A stretch of a plan's name that can name it in a question: Chinese only, not a genre word."""
    return all("\u4e00" <= c <= "\u9fff" for c in run) and not _GENERIC_NAME.search(run)


@dataclass(frozen=True)
class Corpus:
    """The plans, the primary one first, and every task by its corpus id."""

    documents: tuple[Document, ...]
    files: tuple[Path, ...] = ()
    _by_uid: dict[int, Task] = field(default_factory=dict, repr=False, compare=False)
    _doc_of: dict[str, Document] = field(default_factory=dict, repr=False, compare=False)
    _runs: dict[str, list[str]] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._by_uid.update({t.uid: t for d in self.documents for t in d.tasks})
        self._doc_of.update({d.key: d for d in self.documents})

    @classmethod
    def of(cls, document: Document) -> Corpus:
        """A corpus of one parsed document (tests, ``tasks --file``)."""
        key = document.key or Path(document.source or "plan").stem
        short = document.short or short_name(document, Meta(), Path(key))
        return cls((replace(document, key=key, short=short, _by_n={},
                            tasks=tuple(replace(t, doc=key, cite_as=t.cite_as or short) for t in document.tasks)),))

    # -- the corpus as a whole ------------------------------------------------------------------------

    @property
    def primary(self) -> Document:
        return self.documents[0]

    @property
    def tasks(self) -> tuple[Task, ...]:
        return tuple(t for d in self.documents for t in d.tasks)

    def task(self, uid: int) -> Task | None:
        """The task with this corpus id (in the primary plan: its number)."""
        return self._by_uid.get(uid)

    def document(self, key: str) -> Document | None:
        return self._doc_of.get(key)

    def document_of(self, task: Task) -> Document:
        return self._doc_of.get(task.doc, self.primary)

    def units(self) -> list[str]:
        """Distinct unit names of every plan, in order of first appearance."""
        return list(dict.fromkeys(u for t in self.tasks for u in t.units))

    @property
    def sha256(self) -> str:
        """One fingerprint of every plan's bytes, key and short name (a changed corpus makes the index stale)."""
        if len(self.documents) == 1 and not self.files[1:]:
            return self.primary.sha256
        digest = hashlib.sha256()
        for d in self.documents:
            digest.update(f"{d.key}\t{d.short}\t{d.sha256}\n".encode())
        return digest.hexdigest()

    def named_in(self, text: str) -> Document | None:
        """The plan a question names (several plans only): by 文号 (国发〔2019〕3号), or by a stretch of at least
        :data:`NAME_CHARS` characters of its short name or title that no other plan's names share
        ("营商环境方案里…" names 《营商环境分工方案》; "任务分工方案" names none)."""
        if len(self.documents) < 2:
            return None
        folded = fold(text)
        for d in self.documents:
            if d.doc_number and fold(d.doc_number) in folded:
                return d
        for d in self.documents:
            if any(run in folded for run in self._name_runs()[d.key]):
                return d
        return None

    def without_names(self, text: str) -> str:
        """``text`` without the plan names :meth:`named_in` looks for (the longest first)."""
        for d in self.documents:
            for name in (d.doc_number, f"《{d.short}》", d.short, *sorted(self._name_runs()[d.key], key=len, reverse=True)):
                if name:
                    text = text.replace(name, " ")
        return text

    def _name_runs(self) -> dict[str, list[str]]:
        """Per plan, the stretches of its names (>= NAME_CHARS characters) that no other plan's names contain,
        longest first, without the ones that contain a shorter such stretch."""
        if not self._runs:
            names = {d.key: [part for n in (d.short, d.title) if n for part in _GENERIC_NAME.split(fold(n)) if part]
                     for d in self.documents}
            for d in self.documents:
                others = "\n".join(n for k, ns in names.items() if k != d.key for n in ns)
                runs = {n[i : i + size] for n in names[d.key] for size in range(NAME_CHARS, len(n) + 1)
                        for i in range(len(n) - size + 1)}
                distinct = sorted((r for r in runs if r not in others and _naming(r)), key=len)
                minimal = [r for r in distinct if not any(m in r for m in distinct if m != r and len(m) < len(r))]
                self._runs[d.key] = minimal
        return self._runs

    # -- single-plan calls, answered for the primary plan ---------------------------------------------

    @property
    def title(self) -> str:
        return self.primary.title

    @property
    def doc_number(self) -> str:
        return self.primary.doc_number

    @property
    def issuer(self) -> str:
        return self.primary.issuer

    @property
    def issued(self) -> date | None:
        return self.primary.issued

    @property
    def sections(self) -> tuple[Section, ...]:
        return self.primary.sections

    @property
    def parts(self) -> tuple[Part, ...]:
        return self.primary.parts

    def section(self, no: int | None) -> Section | None:
        return self.primary.section(no)

    def part(self, no: int | None) -> Part | None:
        return self.primary.part(no)

    def tasks_in_section(self, no: int) -> list[Task]:
        return self.primary.tasks_in_section(no)

    def tasks_in_part(self, no: int) -> list[Task]:
        return self.primary.tasks_in_part(no)

    def numbered(self, n: int, document: Document | None = None) -> Task | None:
        """Task number ``n`` as a plan writes it (the primary plan unless another is given)."""
        document = document or self.primary
        return next((t for t in document.tasks if t.n == n), None)



Plans = Document | Corpus  # what the search and answering code accepts: one parsed plan, or a corpus of plans

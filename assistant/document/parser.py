"""Document text -> :class:`Document`: parts, sections, tasks, context and warnings.

:func:`parse` reads text (or the bytes of a .txt, .docx or PDF file, see :mod:`.readers`);
:func:`load` reads a file. The lines are walked once (:mod:`.outline` says which are headings
and items):

* An item runs from its number until the next heading or item. Its lines are joined without
  separators (OCR broke lines inside words) and cleaned by :func:`assistant.text.clean`.
* Once an item ends in a units bracket (:mod:`.unit_tail`) it is closed: a following line joins
  it only when it names units itself (``责任单位：…`` on its own line, or a further bracketed
  sub-task). Other text there cannot be attached: it is kept as context, with a warning.
* Text before the first heading, or between a heading and its first item, is context (the
  preamble, goals, an intro); OCR-broken context lines are joined when a line is long and does
  not end a sentence.
* An item with several units brackets is several tasks (labels ``5-1``, ``5-2``); an item
  without units is context, with a warning when other items under the same heading have units.
* Task numbers may run straight through the document or restart in each part or section; the
  reading with the fewest gaps wins, and each gap or repeat is a warning.

Default mode keeps going and records a :class:`ParseWarning` (line, Chinese message) for
everything it could not place; ``strict=True`` raises :class:`ParseError` for the first one
(by line). A file that cannot be read, or has no task at all, raises in both modes.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import ParseError
from ..text import clean
from .metadata import TITLE_WORDS, metadata
from .model import Document, Paragraph, ParseWarning, Part, Section, Task, int_to_numeral
from .outline import RANK, Levels, Line, Numbered, levels, source_lines
from .readers import read_lines
from .unit_tail import (
    Tail,
    ends_with_tail,
    field_role,
    find_tails,
    is_units_line,
    lead_convention,
    mentions_units,
    read_bracket,
)

_TRAILING = "。；，、.;, "
_SENTENCE_END = ("。", "；", "！", "？", "：", "”", "’", "）", "…")
_JOIN_WIDTH = 25  # a context line at least this long and not ending a sentence was broken by OCR


def parse(source: str | bytes, path: str | None = None, strict: bool = False) -> Document:
    """Parse document text, or a file's bytes (.txt, .docx, PDF), into a :class:`Document`."""
    data = source.encode("utf-8") if isinstance(source, str) else source
    raw_lines, warnings = read_lines(data, path, strict)
    lines = source_lines(raw_lines)
    found = levels(lines)
    if found is None:
        raise _no_tasks(lines, path)
    builder = _Builder(found, warnings)
    for line in lines:
        builder.feed(line)
    document = builder.finish(hashlib.sha256(data).hexdigest(), path or "")
    if strict and document.warnings:
        first = min(document.warnings, key=lambda w: w.line)
        raise ParseError(first.message, first.line, path)
    return document


def _no_tasks(lines: list[Line], path: str | None) -> ParseError:
    """No item names units: point at the first item of the deepest numbering level, if any."""
    numbered = [(RANK[line.numbering.style], line) for line in lines if line.numbering]
    if not numbered:
        return ParseError("文档中没有找到任何编号任务（形如“1. …（责任单位：…）”）", 0, path)
    deepest = max(rank for rank, _ in numbered)
    first = next(line for rank, line in numbered if rank == deepest)
    return ParseError(f"文档中没有找到任何编号任务：编号条目都缺少（责任单位：…），如“{clean(first.text)[:20]}”", first.no, path)


def load(path: str | Path, strict: bool = False) -> Document:
    """Read and parse a document file (.txt, .docx or PDF with a text layer)."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ParseError(f"无法读取文件：{exc.strerror or exc}", 0, str(path)) from None
    return parse(data, str(path), strict)


@dataclass
class _Item:
    """A numbered item at the task level while it is being read."""

    numbering: Numbered
    line: int
    part: Part | None
    section: Section | None
    chunks: list[str] = field(default_factory=list)
    fields_open: bool = False  # the last chunk is a bracket built from ``label：…`` lines
    details: bool = False  # lines numbered below the task level came after its units
    label: str = ""  # set once the numbering scheme is known

    def text(self) -> str:
        return clean("".join(self.chunks))

    def closed(self) -> bool:
        """Ends in a units bracket (and not in a units line broken after 、)."""
        broken = self.fields_open and self.chunks[-1][:-1].endswith(("、", "，"))
        return not broken and ends_with_tail(self.text())

    def add(self, text: str, detail: bool = False) -> None:
        if self.fields_open and self.chunks[-1][:-1].endswith(("、", "，")):
            self.chunks[-1] = f"{self.chunks[-1][:-1]}{clean(text)}）"  # a units line broken after 、
            return
        self.details = self.details or (detail and self.closed())
        self.chunks.append(text)
        self.fields_open = False

    def add_field(self, text: str) -> None:
        """A ``label：…`` line joins the units bracket the item ends with, or becomes one."""
        body = clean(text).rstrip("。；")
        last = self.chunks[-1].rstrip(_TRAILING) if self.chunks else ""
        if last.endswith(("）", ")")) and ends_with_tail(self.text()):
            self.chunks[-1] = f"{last[:-1]}；{body}）"
        else:
            self.chunks.append(f"（{body}）")
        self.fields_open = True


@dataclass
class _Block:
    """A context paragraph while it is being read."""

    line: int
    part: Part | None
    section: Section | None
    chunks: list[str]
    marked: bool = False  # its last line is a heading-marked line

    def goes_on(self, line: Line) -> bool:
        """Whether ``line`` continues this paragraph (OCR broke a long line mid-sentence)."""
        last = clean(self.chunks[-1])
        ends = (*_SENTENCE_END, *TITLE_WORDS)  # a sentence, or a title line (…的通知, …分工方案)
        return not (self.marked or line.marked) and len(last) >= _JOIN_WIDTH and not last.endswith(ends)


class _Builder:
    def __init__(self, found: Levels, warnings: list[ParseWarning]) -> None:
        self.levels = found
        self.warnings = warnings
        self.parts: list[Part] = []
        self.sections: list[Section] = []
        self.written: dict[Part | Section, int] = {}  # a heading's number as written
        self.part: Part | None = None
        self.section: Section | None = None
        self.items: list[_Item] = []
        self.context: list[Paragraph] = []
        self.front: list[tuple[int, str]] = []  # lines before the first heading or item
        self.item: _Item | None = None
        self.block: _Block | None = None
        self.block_stray = False
        self.after_item = False  # an item closed under the current heading: text here is stray
        self.started = False
        self.heading_used = True  # the current heading has an item, a context line or a sub-heading
        self.explicit_leads: list[bool] = []  # per task: leads marked in its bracket (牵头单位：…, X牵头)

    def warn(self, line: int, message: str) -> None:
        self.warnings.append(ParseWarning(line, message))

    # --- walking the lines ----------------------------------------------------------------

    def feed(self, line: Line) -> None:
        numbering, found = line.numbering, self.levels
        if numbering is None:
            self.text(line)
        elif numbering.style == found.part:
            self.open_part(line, numbering)
        elif numbering.style == found.section:
            self.open_section(line, numbering)
        elif numbering.style == found.task:
            self.open_item(line, numbering)
        elif numbering.style in found.between:  # a heading level between section and task: kept as context
            self.new_heading()
            self.add_context(line, stray=False)
        else:  # a level below the task level continues the item, like text
            self.text(line)

    def text(self, line: Line) -> None:
        """A line that is not a heading or a task item: it continues the item, or is context."""
        cleaned = clean(line.text)
        item = self.item
        if item is not None:
            text = item.text()
            role = field_role(cleaned) if text.count("（") <= text.count("）") else None  # not inside a bracket
            if role is not None:
                item.add_field(cleaned)
                return
            if not item.closed() or mentions_units(cleaned) or line.numbering is not None:
                item.add(line.text, detail=line.numbering is not None)  # a numbered line below the task level
                return
            self.close_item()
        if not self.started:
            self.front.append((line.no, line.text))
        self.add_context(line, stray=self.after_item or is_units_line(cleaned))

    def add_context(self, line: Line, stray: bool) -> None:
        self.heading_used = True
        if self.block is not None and self.block_stray == stray and self.block.goes_on(line):
            self.block.chunks.append(line.text)
            return
        self.flush_block()
        self.block, self.block_stray = _Block(line.no, self.part, self.section, [line.text], line.marked), stray
        if stray:
            what = "责任单位行" if is_units_line(clean(line.text)) else "文本"
            self.warn(line.no, f"无法归属的{what}（不属于任何任务）：{clean(line.text)[:30]}")

    def flush_block(self) -> None:
        if self.block is not None:
            self.context.append(Paragraph(clean("".join(self.block.chunks)), self.block.line, self.block.part,
                                          self.block.section))
            self.block = None

    def close_item(self) -> None:
        if self.item is not None:
            self.items.append(self.item)
            self.item = None
            self.after_item = True

    def new_heading(self) -> None:
        self.close_item()
        self.flush_block()
        self.started = True
        self.after_item = False

    def open_part(self, line: Line, numbering: Numbered) -> None:
        self.new_heading()
        self.check_used(self.section or self.part)
        previous = self.written[self.parts[-1]] if self.parts else 0
        self.check_next("部分", numbering.number, (previous + 1,), line.no)
        self.part = Part(len(self.parts) + 1, clean(numbering.rest), numbering.marker, line.no)
        self.written[self.part] = numbering.number
        self.parts.append(self.part)
        self.section = None
        self.heading_used = False

    def open_section(self, line: Line, numbering: Numbered) -> None:
        self.new_heading()
        self.check_used(self.section)  # a part with a section in it is used
        if self.levels.part and self.part is None:
            self.warn(line.no, f"章节{numbering.marker}出现在任何部分（一、…）之前")
        previous = self.written[self.sections[-1]] if self.sections else 0
        first_in_part = self.section is None and bool(self.sections)
        expected = (previous + 1, 1) if first_in_part else (previous + 1,)  # straight on, or restarting per part
        self.check_next("章节", numbering.number, expected, line.no)
        self.section = Section(len(self.sections) + 1, clean(numbering.rest), self.part.no if self.part else None,
                               numbering.marker, line.no)
        self.written[self.section] = numbering.number
        self.sections.append(self.section)
        self.heading_used = False

    def open_item(self, line: Line, numbering: Numbered) -> None:
        self.new_heading()
        self.heading_used = True
        if self.levels.part and self.part is None:
            self.warn(line.no, f"第{numbering.label}项出现在任何部分（一、…）之前")
        self.item = _Item(numbering, line.no, self.part, self.section, [numbering.rest] if numbering.rest else [])

    def check_used(self, heading: Part | Section | None) -> None:
        if heading is not None and not self.heading_used:
            self.warn(heading.line, f"{heading.label}下没有任何任务或文字")

    def check_next(self, kind: str, no: int, expected: tuple[int, ...], line: int) -> None:
        if no not in expected:
            problem = "重复" if no < expected[0] else "不连续"
            self.warn(line, f"{kind}序号{problem}：应为{_numeral(expected[0])}，实为{_numeral(no)}")

    # --- after the last line --------------------------------------------------------------

    def finish(self, sha256: str, source: str) -> Document:
        self.new_heading()
        self.check_used(self.section or self.part)
        self.check_task_numbers()
        self.check_first_section()
        tasks = self.tasks()
        if not tasks:
            raise ParseError("文档中没有找到任何编号任务（形如“1. …（责任单位：…）”）", 0, source or None)
        context = sorted(self.context, key=lambda p: p.line)
        title, number, issuer, issued = metadata(self.front, context, self.warnings)
        headings = [p.title for p in self.parts] + [s.title for s in self.sections]
        return Document(
            title=title, doc_number=number, issuer=issuer, issued=issued,
            parts=tuple(self.parts), sections=tuple(self.sections), tasks=tuple(tasks), sha256=sha256,
            context=tuple(context), warnings=tuple(sorted(self.warnings, key=lambda w: w.line)),
            lead_rule=_lead_rule(self.explicit_leads, lead_convention([*(p.text for p in context), *headings])),
            source=source,
        )  # fmt: skip

    def check_task_numbers(self) -> None:
        """Pick straight / per-part / per-section numbering (fewest gaps), label items, warn on gaps."""
        schemes = ["document"] + (["part"] if self.parts else []) + (["section"] if self.sections else [])
        gaps = {scheme: self.gaps(scheme) for scheme in schemes}
        scheme = min(schemes, key=lambda s: len(gaps[s]))  # min keeps the first of equals: straight wins ties
        for item, expected, repeated in gaps[scheme]:
            problem = "重复" if repeated else "不连续"
            self.warn(item.line, f"任务编号{problem}：应为第{expected}项，实为第{item.numbering.number}项")
        sections_restart = len({s.marker for s in self.sections}) < len(self.sections)
        for item in self.items:
            heading = _scope_heading(item, scheme)
            prefix = heading.marker.strip() if heading else ""
            if isinstance(heading, Section) and sections_restart and item.part is not None:
                prefix = item.part.marker + prefix  # section numbers restart per part too: 一、（一）1
            item.label = prefix + item.numbering.label

    def gaps(self, scheme: str) -> list[tuple[_Item, int, bool]]:
        """(item, expected number, number seen before) for each item off the count under ``scheme``."""
        last: dict[Part | Section | None, int] = {}
        seen: dict[Part | Section | None, set[int]] = {}
        found = []
        for item in self.items:
            key = _scope_heading(item, scheme)
            number, expected = item.numbering.number, last.get(key, 0) + 1
            if number != expected:
                found.append((item, expected, number in seen.get(key, set())))
            last[key] = number
            seen.setdefault(key, set()).add(number)
        return found

    def check_first_section(self) -> None:
        """Items before the first section when sections start above （一）: the （一） heading is missing."""
        if not self.sections or self.written[self.sections[0]] == 1:
            return
        first = next((i for i in self.items if i.section is None and i.line < self.sections[0].line), None)
        if first is not None:
            self.warn(first.line, f"第{first.label}项出现在任何章节（（一）…）之前")

    def tasks(self) -> list[Task]:
        tasks: list[Task] = []
        with_units = {(i.part, i.section) for i in self.items if find_tails(i.text())[0]}
        for item in self.items:
            text = item.text()
            tails, unclosed = find_tails(text)
            if not tails and unclosed is not None:
                self.warn(item.line, f"第{item.label}项的（责任单位：…）没有闭合")
                recovered = read_bracket(text[unclosed + 1 :], unclosed, len(text))
                tails = [recovered] if recovered else []
            if not tails:
                if (item.part, item.section) in with_units:
                    self.warn(item.line, f"第{item.label}项缺少（责任单位：…）")
                self.context.append(Paragraph(f"{item.numbering.marker}{text}", item.line, item.part, item.section))
                continue
            tasks.extend(self.split(item, text, tails, len(tasks)))
        return tasks

    def split(self, item: _Item, text: str, tails: list[Tail], done: int) -> list[Task]:
        """One task per units bracket; brackets back to back (牵头…）（配合…） are one."""
        groups: list[tuple[str, Tail]] = []
        end = 0
        for tail in tails:
            segment = text[end : tail.start]
            if groups and not segment.strip(_TRAILING):
                groups[-1] = (groups[-1][0], _merge(groups[-1][1], tail))
            else:
                groups.append((segment.strip() if not groups else segment.lstrip(_TRAILING).strip(), tail))
            end = tail.end
        trailing = text[end:].strip(_TRAILING)
        if trailing:  # kept with the last task; expected after units when numbered details follow them
            if not item.details:
                self.warn(item.line, f"第{item.label}项的责任单位之后还有文字：{trailing[:30]}")
            groups[-1] = (f"{groups[-1][0]}{text[end:].rstrip(_TRAILING)}", groups[-1][1])
        tasks: list[Task] = []
        for k, (body, tail) in enumerate(groups, start=1):
            label = item.label if len(groups) == 1 else f"{item.label}-{k}"
            if not tail.units:
                self.warn(item.line, f"第{label}项的责任单位为空")
                self.context.append(Paragraph(body, item.line, item.part, item.section))
                continue
            if tail.repeated:
                self.warn(item.line, f"第{label}项的责任单位重复：{'、'.join(tail.repeated)}")
            if not body:
                self.warn(item.line, f"第{label}项没有任务内容")
            text_with_notes = body + "".join(f"（{note}）" for note in tail.notes)
            self.explicit_leads.append(bool(tail.leads))
            tasks.append(Task(done + len(tasks) + 1, item.part, item.section, text_with_notes, tail.units, item.line,
                              label, tail.leads, tail.scope))
        return tasks


def _scope_heading(item: _Item, scheme: str) -> Part | Section | None:
    if scheme == "section":
        return item.section or item.part
    return item.part if scheme == "part" else None


def _merge(a: Tail, b: Tail) -> Tail:
    units = tuple(dict.fromkeys((*a.units, *b.units)))
    return Tail(a.start, b.end, units, a.leads + tuple(u for u in b.leads if u not in a.leads),
                "，".join(s for s in (a.scope, b.scope) if s), a.notes + b.notes, a.repeated + b.repeated)


def _lead_rule(explicit: list[bool], convention: str) -> str:
    """How leads were determined, in Chinese (:attr:`Document.lead_rule`)."""
    otherwise = f"文件说明：{convention}" if convention else "文件未说明牵头单位，取每项第一个列出的单位"
    if all(explicit):
        return "逐项注明牵头单位（牵头单位：…／“X牵头”）"
    if any(explicit):
        return f"注明牵头单位的从其注明；其余{otherwise}"
    return otherwise


def _numeral(n: int) -> str:
    return int_to_numeral(n) if 1 <= n <= 99 else str(n)

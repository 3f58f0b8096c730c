"""The outline of a task-division plan: which lines are headings, items and text.

A line is numbered or not. Numbering styles rank from the top:
``第一部分`` > ``一、`` > ``（一）`` > ``1.``/``1、`` > ``（1）`` > ``①``. The *task level* is the style
whose items most often end in a units bracket (:mod:`.unit_tail`); the styles above it are
headings, the outermost a :class:`Part`, the next a :class:`Section` (a single heading level is a
part when written ``一、``/``第一部分``, else a section). Styles below the task level continue the
item they sit in.

How items, context and warnings are built from these lines is :mod:`.parser`.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from ..text import clean
from .model import NUMERALS, int_to_numeral, numeral_to_int
from .unit_tail import is_units_line, mentions_units

_HEADING_MARKS = re.compile(r"^#{1,6}\s*")
# Page-break debris: page numbers (— 3 —, - 3 -, 3, 第3页, 3/12) and form feeds.
_DEBRIS = re.compile(r"^(?:[-—–_－\s]*\d{1,3}[-—–_－\s]*|第\s*\d+\s*页(?:\s*共\s*\d+\s*页)?|\d+\s*/\s*\d+|\f+)$")
_CN = f"[{NUMERALS}]+"
_CIRCLED = "①②③④⑤⑥⑦⑧⑨⑩⑪⑫⑬⑭⑮⑯⑰⑱⑲⑳"

# (style, pattern with groups number and rest), from the top level down.
STYLES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("chapter", re.compile(rf"^第\s*({_CN}|\d{{1,2}})\s*(?:部分|章|篇)[、，,.．:：\s]*(.*)$")),
    ("cn", re.compile(rf"^({_CN})\s*[、,，.．]\s*(\S.*)$")),
    ("paren_cn", re.compile(rf"^[（(]\s*({_CN})\s*[）)]\s*(\S.*)$")),
    ("arabic", re.compile(r"^(\d{1,3})\s*(?:[．、]|\.(?!\d))\s*(.*)$")),
    ("paren_arabic", re.compile(r"^[（(]\s*(\d{1,3})\s*[）)]\s*(\S.*)$")),
    ("circled", re.compile(rf"^([{_CIRCLED}])\s*(\S.*)$")),
)
RANK = {style: i for i, (style, _) in enumerate(STYLES)}


@dataclass(frozen=True)
class Numbered:
    """A line's own numbering: its style, value, and marker in canonical form (``（三）``)."""

    style: str
    number: int
    rest: str

    @property
    def marker(self) -> str:
        cn = int_to_numeral(self.number) if 1 <= self.number <= 99 else str(self.number)
        if self.style == "circled":
            return _CIRCLED[self.number - 1]
        return {"chapter": f"第{cn}部分 ", "cn": f"{cn}、", "paren_cn": f"（{cn}）", "arabic": f"{self.number}.",
                "paren_arabic": f"（{self.number}）"}[self.style]

    @property
    def label(self) -> str:
        """How a task numbered this way is cited: ``32``, ``三``, ``（三）``, ``（2）``, ``②``."""
        return self.marker.rstrip("、. ") if self.style in ("arabic", "cn") else self.marker.strip()


def numbered(line: str) -> Numbered | None:
    for style, pattern in STYLES:
        if match := pattern.match(line):
            value = match.group(1)
            if value.isdigit():
                number = int(value)
            elif style == "circled":
                number = _CIRCLED.index(value) + 1
            else:
                try:
                    number = numeral_to_int(value)
                except ValueError:
                    return None
            return Numbered(style, number, match.group(2).strip())
    return None


@dataclass(frozen=True)
class Line:
    no: int  # 1-based line number in the source
    text: str  # without heading marks, stripped
    numbering: Numbered | None
    marked: bool = False  # written with heading marks (#): a line of its own, never joined with the next


def source_lines(raw_lines: list[str]) -> list[Line]:
    """Non-empty lines without heading marks and page-break debris."""
    lines = []
    for no, raw in enumerate(raw_lines, start=1):
        stripped = raw.strip()
        text = _HEADING_MARKS.sub("", stripped).strip()
        if text and not _DEBRIS.match(text):
            lines.append(Line(no, text, numbered(text), text != stripped and stripped.startswith("#")))
    return lines


@dataclass(frozen=True)
class Levels:
    """Which numbering style is the part, section and task level of one document."""

    task: str
    part: str | None
    section: str | None
    between: frozenset[str] = frozenset()  # heading styles between section and task (kept as context)


def levels(lines: list[Line]) -> Levels | None:
    """The task level is the style whose items most often carry units directly; None if none does."""
    counts: Counter[str] = Counter()
    seen: set[str] = set()
    for i, line in enumerate(lines):
        if line.numbering is None:
            continue
        seen.add(line.numbering.style)
        end = next((j for j in range(i + 1, len(lines)) if lines[j].numbering), len(lines))
        segment = clean(line.numbering.rest + "".join(x.text for x in lines[i + 1 : end]))
        if mentions_units(segment) or any(is_units_line(clean(x.text)) for x in lines[i + 1 : end]):
            counts[line.numbering.style] += 1
    if not counts:
        return None
    task = max(counts, key=lambda style: (counts[style], RANK[style]))
    above = sorted((s for s in seen if RANK[s] < RANK[task]), key=RANK.__getitem__)
    if not above:
        return Levels(task, None, None)
    if len(above) == 1:
        top = above[0]
        return Levels(task, top, None) if top in ("chapter", "cn") else Levels(task, None, top)
    return Levels(task, above[0], above[1], frozenset(above[2:]))

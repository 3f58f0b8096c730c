"""Clauses of a draft: where a report paragraph's claims begin and end, and what each says once the
local detail is set aside.

* :func:`split_clauses` cuts a draft into clauses with their offsets (sentences on 。！？； and line
  breaks, a heading off at its colon, then on ，、 where a piece is long enough to carry a claim);
* :func:`marks` finds the citations a clause already carries (〔任务13〕, （第8项）, 任务32, 第30项);
* :func:`plain` is the clause as the plan would say it: traditional characters converted, OCR spaces
  removed, citation marks dropped, and local detail (counts, years, money, 我区/我局/我街道) discounted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .text import clean, simplified

# --- splitting ---------------------------------------------------------------------------------

_SENTENCE_END = "。！？；!?;\n"
# A piece with fewer content characters than this is not a claim of its own: it joins the next piece.
MIN_CLAUSE_CHARS = 6
# 、 separates list items; a piece is split on it only when every item is at least this long.
MIN_ENUM_CHARS = 9
# A run before a sentence's first colon, without commas and at most this long, is a heading.
MAX_HEADING_CHARS = 40
_LEAD_IN = re.compile(
    r"(?:以来|方面|期间|当前|目前|同时|此外|其中|首先|其次|最后|总之|为此|对此|一是|二是|三是|四是|五是|"
    r"今年|去年|上半年|下半年|年内|近年来|截至目前|下一步|与此同时|总体来看|具体来看)$"
)
_CONTENT = re.compile(r"[0-9A-Za-z\u4e00-\u9fff]")
# A run before a colon that announces what follows (…做了以下工作：, 主要做法如下：) is a heading, commas or not.
_ANNOUNCES = re.compile(r"(?:以下|如下|下列|下面)(?:几项|几个方面|几方面|方面|内容|工作|事项|举措|做法)?(?:工作)?\s*$|"
                        r"(?:主要|重点|具体)(?:工作|做法|举措|成效|进展|安排)(?:如下|有)?\s*$|情况(?:如下|汇报)\s*$")
_CJK_RUN = re.compile(r"[\u4e00-\u9fff]{4,}")


@dataclass(frozen=True)
class Span:
    """A stretch of the draft: ``draft[start:end] == text``."""

    text: str
    start: int
    end: int
    heading: bool = False  # a heading cut off at its colon: names the report, claims nothing


def _content_len(text: str) -> int:
    return len(_CONTENT.findall(text))


def _cut(draft: str, start: int, end: int, marks: str) -> list[Span]:
    """``draft[start:end]`` cut at each of ``marks`` (marks dropped, offsets kept)."""
    out, at = [], start
    for i in range(start, end):
        if draft[i] in marks:
            out.append(Span(draft[at:i], at, i))
            at = i + 1
    out.append(Span(draft[at:end], at, end))
    return out


def _trim(draft: str, start: int, end: int) -> Span | None:
    while start < end and (draft[start].isspace() or draft[start] in "，,、"):
        start += 1
    while end > start and (draft[end - 1].isspace() or draft[end - 1] in "，,、"):
        end -= 1
    if start >= end or not _content_len(draft[start:end]):
        return None
    return Span(draft[start:end], start, end)


def _is_lead_in(text: str) -> bool:
    text = text.strip()
    return _content_len(text) < MIN_CLAUSE_CHARS or bool(_LEAD_IN.search(text))


def _headed(draft: str, sentences: list[Span]) -> list[Span]:
    """Sentences with a heading ("宝山区发展改革委2024年工作总结：…", "一、住房保障：") cut off at its colon: a short
    run without commas before the first colon is a heading, not part of the claim after it."""
    out = []
    for sentence in sentences:
        colon = min((i for c in "：:" if (i := sentence.text.find(c)) >= 0), default=-1)
        head = sentence.text[:colon]
        announces = bool(_ANNOUNCES.search(head))  # "2024年，我局围绕稳岗增收做了以下工作：" has a comma and is one
        if colon > 0 and (announces or not re.search(r"[，,、]", head)) and _content_len(head) <= MAX_HEADING_CHARS:
            at = sentence.start + colon
            out += [Span(head, sentence.start, at, heading=True), Span(draft[at + 1 : sentence.end], at + 1, sentence.end)]
        else:
            out.append(sentence)
    return out


def split_clauses(draft: str) -> list[Span]:
    """Clauses of a draft with their offsets.

    Sentences end at 。！？； and line breaks. Inside a sentence, ， always cuts and 、 cuts only when
    every item is long (``完成供水管道改造30公里、排水管道改造25公里``, not ``电动自行车、燃气``). A short
    piece or a lead-in (``今年以来``, ``新城建设方面``) stays with what follows; a short piece at the
    end of a sentence stays with what precedes it.
    """
    clauses: list[Span] = []
    for sentence in _headed(draft, _cut(draft, 0, len(draft), _SENTENCE_END)):
        if sentence.heading:
            if (span := _trim(draft, sentence.start, sentence.end)) is not None:
                clauses.append(Span(span.text, span.start, span.end, heading=True))
            continue
        pieces: list[Span] = []
        for piece in _cut(draft, sentence.start, sentence.end, "，,"):
            items = _cut(draft, piece.start, piece.end, "、")
            if len(items) > 1 and all(_content_len(x.text) >= MIN_ENUM_CHARS for x in items):
                pieces.extend(items)
            else:
                pieces.append(piece)
        groups: list[list[int]] = []
        pending: int | None = None
        for piece in pieces:
            start = piece.start if pending is None else pending
            if _is_lead_in(piece.text):
                pending = start
                continue
            pending = None
            groups.append([start, piece.end])
        if pending is not None:
            if groups:
                groups[-1][1] = sentence.end
            else:
                groups.append([pending, sentence.end])
        for start, end in groups:
            span = _trim(draft, start, end)
            if span is not None:
                clauses.append(span)
    return clauses


# --- citations a clause already carries ----------------------------------------------------------

_MARK = re.compile(
    r"〔\s*任务\s*(\d{1,3})\s*〕|[（(]\s*(?:对应|参见|见)?\s*(?:第\s*(\d{1,3})\s*项|任务\s*(\d{1,3}))\s*[）)]|"
    r"任务\s*(\d{1,3})(?![\d万亿个%])|第\s*(\d{1,3})\s*项"
)


def marks(text: str) -> list[tuple[int, int, int]]:
    """``(task number, start, end)`` of every citation mark in ``text``, in order."""
    out = []
    for m in _MARK.finditer(text):
        number = next(g for g in m.groups() if g is not None)
        out.append((int(number), m.start(), m.end()))
    return out


# --- the clause as the plan would say it ------------------------------------------------------------

# Local detail: counts with their measure words, sums of money, years and dates, "our district".
_LOCAL = re.compile(
    r"\d+(?:\.\d+)?\s*(?:万|亿|千|百)?\s*(?:人次|余人|多人|个|家|座|场|处|项|套|张|所|元|公里|千米|米|平方米|亩|吨|辆|户|次|批|条|倍|"
    r"人|场次|卷|件|台|间|期|节|天|周|月|年度|年|%|％)?|"
    r"[一二三四五六七八九十两]+(?:是|批|场|次)|"
    r"(?:我|本|全)(?:区|局|委|办|街道|镇|乡|中心|所|单位)|今年以来|今年|去年|明年|年内|上半年|下半年|近年来|截至目前"
)


def plain(text: str) -> str:
    """The clause with citation marks removed, simplified, OCR spaces removed and local detail dropped."""
    for _, start, end in reversed(marks(text)):
        text = text[:start] + " " + text[end:]
    text = clean(simplified(text))
    return _LOCAL.sub(" ", text).strip()

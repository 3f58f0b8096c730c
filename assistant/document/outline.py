"""The work plan as data: ``Part`` -> ``Section`` -> ``Task``, parsed from the OCR text.

Pure Python, no llama-index. :func:`parse` turns document text into a :class:`Document`;
:func:`load` reads a file. A malformed document raises :class:`ParseError` naming the line.

The source is OCR text: headings carry 0-5 ``#`` marks or none, punctuation is mixed full/half
width, a task may continue after blank lines and page-break debris, a unit name may be split
across lines, and ``（责任单位：…）`` may stand on its own line. Lines of a task are joined
without separators (OCR broke lines inside words) and then cleaned by :func:`assistant.text.clean`.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from ..errors import ParseError
from ..text import clean
from .model import NUMERALS, Document, Part, Section, Task, int_to_numeral, numeral_to_int

# --- parsing -------------------------------------------------------------------------------

_HEADING_MARKS = re.compile(r"^#{1,6}\s*")
_PART = re.compile(rf"^([{NUMERALS}]+)\s*[、,，.．]\s*(\S.*)$")
_SECTION = re.compile(rf"^[（(]\s*([{NUMERALS}]+)\s*[）)]\s*(\S.*)$")
_TASK = re.compile(r"^(\d{1,3})\s*[.．、]\s*(.*)$")
_UNITS = re.compile(r"[（(]\s*责\s*任\s*单\s*位\s*[:：]\s*(.*?)\s*[）)]\s*$")
_UNITS_START = re.compile(r"[（(]\s*责\s*任\s*单\s*位")
_DOC_NUMBER = re.compile(r"[\u4e00-\u9fff]+\s*〔\s*\d{4}\s*〕\s*\d+\s*号")
_DATE = re.compile(r"(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日")
_NOTICE_TITLE = re.compile(r"印发\s*《(.+)》\s*的通知")
# Page-break debris: page numbers (— 3 —, - 3 -, 3, 第3页, 3/12) and form feeds.
_DEBRIS = re.compile(r"^(?:[-—–_－\s]*\d{1,3}[-—–_－\s]*|第\s*\d+\s*页(?:\s*共\s*\d+\s*页)?|\d+\s*/\s*\d+|\f+)$")


@dataclass
class _OpenTask:
    n: int
    line: int
    section: Section
    part: Part
    chunks: list[str]

    def joined(self) -> str:
        return "".join(self.chunks)

    def units_match(self) -> re.Match[str] | None:
        return _UNITS.search(self.joined())


def _finish(open_task: _OpenTask) -> Task:
    match = open_task.units_match()
    if match is None:  # pragma: no cover - callers check first
        raise ParseError(f"第{open_task.n}项缺少（责任单位：…）", open_task.line)
    body = clean(open_task.joined()[: match.start()])
    units = tuple(u for u in (clean(x) for x in re.split(r"[、，,;；]", match.group(1))) if u)
    if not body:
        raise ParseError(f"第{open_task.n}项没有任务内容", open_task.line)
    if not units:
        raise ParseError(f"第{open_task.n}项的责任单位为空", open_task.line)
    if len(set(units)) != len(units):
        raise ParseError(f"第{open_task.n}项的责任单位重复：{'、'.join(units)}", open_task.line)
    return Task(open_task.n, open_task.part, open_task.section, body, units, open_task.line)


def _decode(data: bytes, path: str | None) -> str:
    if not data.strip():
        raise ParseError("文件为空", 0, path)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ParseError(f"文件不是UTF-8编码（第{exc.start}字节无法解码）", line, path) from None
    return text


def parse(source: str | bytes, path: str | None = None) -> Document:
    """Parse the document text (or raw bytes) into a :class:`Document`."""
    data = source.encode("utf-8") if isinstance(source, str) else source
    text = _decode(data, path)
    if not text.strip():
        raise ParseError("文件为空", 0, path)
    try:
        return _parse_lines(text.replace("\r\n", "\n").replace("\r", "\n").split("\n"), data)
    except ParseError as exc:
        if path and not exc.path:
            raise ParseError(exc.message, exc.line, path) from None
        raise


def _parse_lines(lines: list[str], data: bytes) -> Document:
    parts: list[Part] = []
    sections: list[Section] = []
    tasks: list[Task] = []
    open_task: _OpenTask | None = None
    preamble: list[tuple[int, str]] = []

    def close_open(at_line: int, what: str) -> None:
        nonlocal open_task
        if open_task is None:
            return
        if open_task.units_match() is None:
            where = "缺少（责任单位：…）" if not _UNITS_START.search(open_task.joined()) else "的（责任单位：…）没有闭合"
            raise ParseError(f"第{open_task.n}项{where}（在第{at_line}行{what}之前）", open_task.line)
        tasks.append(_finish(open_task))
        open_task = None

    for lineno, raw in enumerate(lines, start=1):
        line = _HEADING_MARKS.sub("", raw.strip()).strip()
        if not line or _DEBRIS.match(line):
            continue
        if m := _TASK.match(line):
            n = int(m.group(1))
            close_open(lineno, f"第{n}项开始")
            if not sections:
                raise ParseError(f"第{n}项出现在任何章节（（一）…）之前", lineno)
            expected = tasks[-1].n + 1 if tasks else 1
            if n != expected:
                problem = "重复" if any(t.n == n for t in tasks) else "不连续"
                raise ParseError(f"任务编号{problem}：应为第{expected}项，实为第{n}项", lineno)
            open_task = _OpenTask(n, lineno, sections[-1], parts[-1], [m.group(2).strip()])
            continue
        if open_task is not None and open_task.units_match() is None:
            open_task.chunks.append(line)  # continuation of a task broken by OCR
            continue
        if m := _SECTION.match(line):
            close_open(lineno, "章节标题")
            no = _numeral(m.group(1), lineno)
            if not parts:
                raise ParseError(f"章节（{m.group(1)}）出现在任何部分（一、…）之前", lineno)
            _check_next("章节", no, sections[-1].no if sections else 0, lineno)
            if sections and not any(t.section.no == sections[-1].no for t in tasks):
                raise ParseError(f"章节（{int_to_numeral(sections[-1].no)}）下没有任务", lineno)
            sections.append(Section(no, clean(m.group(2)), parts[-1].no))
            continue
        if m := _PART.match(line):
            close_open(lineno, "部分标题")
            no = _numeral(m.group(1), lineno)
            _check_next("部分", no, parts[-1].no if parts else 0, lineno)
            if parts and not any(s.part_no == parts[-1].no for s in sections):
                raise ParseError(f"部分{int_to_numeral(parts[-1].no)}下没有章节", lineno)
            parts.append(Part(no, clean(m.group(2))))
            continue
        if open_task is not None:
            close_open(lineno, "正文")
        if parts:
            raise ParseError(f"无法归属的文本（不属于任何任务）：{line[:30]}", lineno)
        preamble.append((lineno, line))

    close_open(len(lines), "文件结束")
    if not tasks:
        raise ParseError("文档中没有找到任何编号任务（形如“1. …（责任单位：…）”）", 0)
    if not any(t.section.no == sections[-1].no for t in tasks):
        raise ParseError(f"章节（{int_to_numeral(sections[-1].no)}）下没有任务", len(lines))
    title, doc_number, issuer, issued = _metadata(preamble)
    return Document(
        title=title,
        doc_number=doc_number,
        issuer=issuer,
        issued=issued,
        parts=tuple(parts),
        sections=tuple(sections),
        tasks=tuple(tasks),
        sha256=hashlib.sha256(data).hexdigest(),
    )


def _numeral(numeral: str, lineno: int) -> int:
    try:
        return numeral_to_int(numeral)
    except ValueError:
        raise ParseError(f"无法识别的中文序号：{numeral}", lineno) from None


def _check_next(kind: str, no: int, previous: int, lineno: int) -> None:
    if no != previous + 1:
        problem = "重复" if no <= previous else "不连续"
        raise ParseError(
            f"{kind}序号{problem}：应为{int_to_numeral(previous + 1)}，实为{int_to_numeral(no)}", lineno
        )


def _metadata(preamble: list[tuple[int, str]]) -> tuple[str, str, str, date]:
    """Title, 文号, issuer and date from the lines before part 一."""
    text = "\n".join(line for _, line in preamble)
    number = _DOC_NUMBER.search(text)
    if number is None:
        raise ParseError("正文前没有找到文号（如“沪区域办〔2025〕2号”）", preamble[0][0] if preamble else 1)
    title = _NOTICE_TITLE.search(text)
    if title is None:
        raise ParseError("正文前没有找到文件标题（“关于印发《…》的通知”）", preamble[0][0] if preamble else 1)
    issued = _DATE.search(text)
    if issued is None:
        raise ParseError("正文前没有找到成文日期（如“2025年1月13日”）", preamble[0][0] if preamble else 1)
    number_line = next(i for i, (_, line) in enumerate(preamble) if _DOC_NUMBER.search(line))
    issuer = clean(preamble[number_line - 1][1]) if number_line else ""
    if not issuer:
        raise ParseError("文号前没有找到发文机关", preamble[number_line][0])
    try:
        day = date(int(issued.group(1)), int(issued.group(2)), int(issued.group(3)))
    except ValueError:
        raise ParseError(f"成文日期无效：{issued.group(0)}", 0) from None
    return clean(title.group(1)), clean(number.group(0)), issuer, day


def load(path: str | Path) -> Document:
    """Read and parse a document file."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ParseError(f"无法读取文件：{exc.strerror or exc}", 0, str(path)) from None
    return parse(data, str(path))

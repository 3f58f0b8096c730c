"""A plan's own metadata: title, 文号, issuer and date, from the lines before its body.

The reference plan is a notice: issuer, 文号, ``关于印发《…》的通知``, date, then the plan. Plans
published without a notice have a title line and perhaps a signature (issuer, date) at the end;
what is not found is "" (``issued`` None) with a warning.
"""

from __future__ import annotations

import re
from datetime import date

from ..text import clean
from .model import Paragraph, ParseWarning

_DOC_NUMBER = re.compile(r"[\u4e00-\u9fff]+\s*〔\s*\d{4}\s*〕\s*\d+\s*号")
_DATE = re.compile(r"(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日")
_NOTICE_TITLE = re.compile(r"印发\s*《(.+)》\s*的通知")
TITLE_WORDS = ("方案", "要点", "清单", "分工", "计划", "安排", "任务", "通知", "意见")
_TITLE_WIDTH = 60
_SIGNATURE_WIDTH = 30  # an issuer line above a closing date is short and has no punctuation


def metadata(front: list[tuple[int, str]], context: list[Paragraph],
             warnings: list[ParseWarning]) -> tuple[str, str, str, date | None]:
    """``(title, 文号, issuer, issued)`` from ``front`` (line, text) before the body; ``context`` for a closing date."""
    at = front[0][0] if front else 1
    text = "\n".join(line for _, line in front)
    number = _DOC_NUMBER.search(text)
    if number is None:
        warnings.append(ParseWarning(at, "正文前没有找到文号（如“沪区域办〔2025〕2号”）"))
    title = _title(front)
    if not title:
        warnings.append(ParseWarning(at, "正文前没有找到文件标题（“关于印发《…》的通知”或“……方案”）"))
    issuer = ""
    if number is not None:
        number_line = next(i for i, (_, line) in enumerate(front) if _DOC_NUMBER.search(line))
        issuer = clean(front[number_line - 1][1]) if number_line else ""
        if not issuer:
            warnings.append(ParseWarning(front[number_line][0], "文号前没有找到发文机关"))
    issued = _DATE.search(text)
    if issued is None:  # a plan without a notice may be signed and dated at its end
        closing = [p for p in context if _DATE.fullmatch(p.text)]
        if closing:
            issued = _DATE.fullmatch(closing[-1].text)
            before = [p for p in context if p.line < closing[-1].line]
            if not issuer and before and _is_signature(before[-1].text):
                issuer = before[-1].text
    if issued is None:
        warnings.append(ParseWarning(at, "没有找到成文日期（如“2025年1月13日”）"))
        return title, clean(number.group(0)) if number else "", issuer, None
    try:
        day = date(int(issued.group(1)), int(issued.group(2)), int(issued.group(3)))
    except ValueError:
        warnings.append(ParseWarning(at, f"成文日期无效：{issued.group(0)}"))
        day = None
    return title, clean(number.group(0)) if number else "", issuer, day


def _title(front: list[tuple[int, str]]) -> str:
    text = "\n".join(line for _, line in front)
    if notice := _NOTICE_TITLE.search(text):
        return clean(notice.group(1))
    for _, line in front:
        candidate = clean(line)
        if len(candidate) > _TITLE_WIDTH:
            continue
        if candidate.startswith("《") and candidate.endswith("》"):
            return candidate[1:-1]
        if candidate.endswith(TITLE_WORDS) and not candidate.endswith(("通知", "意见")):
            return candidate.replace("《", "〈").replace("》", "〉")  # the notice's own form: 〈…〉任务分工方案
    return ""


def _is_signature(text: str) -> bool:
    return len(text) <= _SIGNATURE_WIDTH and not re.search(r"[，。；：]", text)

"""Dated and quantitative targets stated in task texts (到2028年底…, 1000公里, 64% …).

Used to answer deadline/target questions and to draw the timeline in the UI. Every phrase is
a verbatim slice of a task's text: nothing here rewrites the document.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .corpus import Plans
from .document import Task

_DEADLINE = re.compile(r"到(\d{4})年(底|末|前)?")
_PERIOD = re.compile(r"五年|每年|“十四五”期间")
_QUANTITY = re.compile(
    r"\d+(?:\.\d+)?(?:万平方米|平方米|公里|万张|张|家|微克/立方米|%)(?:以上|以下|左右)?"
    r"|\d+个(?=[。；，]|$)"
)


@dataclass(frozen=True)
class Target:
    """One target clause: its task, deadline (``2028年底``, ``五年``, ``每年``) and quantities."""

    task: int
    phrase: str
    deadline: str | None
    year: int | None
    quantities: tuple[str, ...]

    @property
    def quantity(self) -> str | None:
        return self.quantities[0] if self.quantities else None


def _sentences(text: str) -> list[str]:
    return [s for s in re.split(r"(?<=[；。])", text) if s.strip("；。")]


def targets_of(task: Task) -> list[Target]:
    """Target clauses of one task, in text order."""
    found: list[Target] = []
    for sentence in _sentences(task.text):
        sentence = sentence.rstrip("；。")
        dated = _DEADLINE.search(sentence)
        if dated:
            phrase = sentence[dated.start() :]
            deadline = f"{dated.group(1)}年{dated.group(2) or ''}"
            found.append(Target(task.uid, phrase, deadline, int(dated.group(1)), tuple(_QUANTITY.findall(phrase))))
            continue
        for clause in sentence.split("，"):
            quantities = tuple(_QUANTITY.findall(clause))
            period = _PERIOD.search(clause) or _PERIOD.search(sentence)
            if quantities:
                found.append(Target(task.uid, clause, period.group(0) if period else None, None, quantities))
    return found


def extract_targets(document: Plans) -> list[Target]:
    """All targets of the document: dated ones by year, then the rest by task number."""
    targets = [t for task in document.tasks for t in targets_of(task)]
    return sorted(targets, key=lambda t: (t.year or (9998 if t.deadline else 9999), t.task))


def timeline(document: Plans) -> dict[str, list[Target]]:
    """Targets grouped by deadline label in time order; undated quantitative targets last."""
    groups: dict[str, list[Target]] = {}
    for target in extract_targets(document):
        groups.setdefault(target.deadline or "未设期限的量化指标", []).append(target)
    return groups

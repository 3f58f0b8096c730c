"""Synthetic work plans of ``scale`` x the real one, for the scaling benchmark.

Each real task yields ``scale`` variants: its own clauses plus one clause of another task of the same
section, every number changed (years stay in 2025-2035), and its lead unit kept with co-units redrawn
from the plan's own unit names. The part/section structure is repeated ``min(scale, 4)`` times and
renumbered (so there are at most 20 parts and 80 sections), tasks are renumbered 1..N, and the text is
written in the source's OCR-ish format (``## 一、…`` / ``### （一）…`` / ``N. …（责任单位：…）``).

The parser reads task numbers of at most three digits and section numerals up to 99, so
:func:`synthetic_document` parses the rendered text when the plan has <= 999 tasks (10x: 850) and
otherwise (100x: 8,500) builds the :class:`~assistant.document.Document` from the same records directly.
"""

from __future__ import annotations

import hashlib
import random
import re
from dataclasses import dataclass

from assistant.document import Document, Part, Section, Task, int_to_numeral, parse

_CLAUSE = re.compile(r"(?<=[，；。])")
_NUMBER = re.compile(r"\d+(?:\.\d+)?")
MAX_STRUCTURE_COPIES = 4


@dataclass(frozen=True)
class _Record:
    part: tuple[int, str]
    section: tuple[int, str]
    text: str
    units: tuple[str, ...]


def _vary_numbers(text: str, rng: random.Random) -> str:
    def change(match: re.Match[str]) -> str:
        raw = match.group(0)
        if "." in raw:
            return f"{float(raw) * rng.uniform(0.5, 1.5):.1f}"
        value = int(raw)
        if 2000 <= value <= 2100:
            return str(rng.randint(2025, 2035))
        return str(max(1, round(value * rng.uniform(0.5, 1.5))))

    return _NUMBER.sub(change, text)


def _clauses(text: str) -> list[str]:
    return [c for c in _CLAUSE.split(text) if c.strip("，；。 ")]


def _records(real: Document, scale: int, seed: int) -> list[_Record]:
    rng = random.Random(seed)
    pool = real.units()
    copies = max(1, min(scale, MAX_STRUCTURE_COPIES))
    by_section = {s.no: real.tasks_in_section(s.no) for s in real.sections}
    n_parts, n_sections = len(real.parts), len(real.sections)
    grouped: dict[tuple[int, int], list[_Record]] = {}
    for task in real.tasks:
        for variant in range(scale):
            copy = variant % copies
            if variant == 0:
                text, units = task.text, task.units
            else:
                own = _clauses(task.text)
                keep = own[: rng.randint(1, len(own))]
                donor = rng.choice(by_section[task.section.no])
                extra = rng.choice(_clauses(donor.text)) if donor is not task else ""
                body = "".join(keep).rstrip("，；。") + ("；" + extra.rstrip("，；。") if extra else "")
                text = _vary_numbers(body, rng) + "。"
                others = [u for u in pool if u != task.lead_unit]
                units = (task.lead_unit, *rng.sample(others, rng.randint(0, 4)))
            part = (copy * n_parts + task.part.no, task.part.title + (f"（第{copy + 1}组）" if copy else ""))
            section = (copy * n_sections + task.section.no, task.section.title + (f"（第{copy + 1}组）" if copy else ""))
            grouped.setdefault((copy, task.section.no), []).append(_Record(part, section, text, units))
    return [r for key in sorted(grouped) for r in grouped[key]]


def _preamble(real_text: str) -> str:
    lines = real_text.splitlines()
    first_part = next(i for i, line in enumerate(lines) if re.match(r"^#*\s*一\s*、", line.strip()))
    return "\n".join(lines[:first_part]).rstrip() + "\n"


def render(records: list[_Record], preamble: str) -> str:
    """The plan as OCR-style text: the real preamble, then parts, sections and numbered tasks."""
    out = [preamble]
    part_no = section_no = 0
    for n, record in enumerate(records, start=1):
        if record.part[0] != part_no:
            part_no = record.part[0]
            out.append(f"\n## {int_to_numeral(part_no) if part_no < 100 else part_no}、{record.part[1]}\n")
        if record.section[0] != section_no:
            section_no = record.section[0]
            label = int_to_numeral(section_no) if section_no < 100 else str(section_no)
            out.append(f"\n### （{label}）{record.section[1]}\n")
        out.append(f"\n{n}. {record.text}（责任单位：{'、'.join(record.units)}）\n")
    return "".join(out)


def synthetic_document(real: Document, real_text: str, scale: int, seed: int = 7) -> tuple[Document, str, bool]:
    """``(document, rendered text, parsed)``: a plan with ``scale`` x the real plan's tasks."""
    records = _records(real, scale, seed)
    text = render(records, _preamble(real_text))
    if len(records) <= 999:
        return parse(text), text, True
    parts = {no: Part(no, title) for no, title in (r.part for r in records)}
    sections = {no: Section(no, title, r.part[0]) for r in records for no, title in [r.section]}
    tasks = tuple(Task(n, parts[r.part[0]], sections[r.section[0]], r.text, r.units) for n, r in enumerate(records, start=1))
    document = Document(
        title=real.title, doc_number=real.doc_number, issuer=real.issuer, issued=real.issued,
        parts=tuple(parts.values()), sections=tuple(sections.values()), tasks=tasks,
        sha256=hashlib.sha256(text.encode("utf-8")).hexdigest(),
    )  # fmt: skip
    return document, text, False

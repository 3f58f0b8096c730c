"""Units brackets: who does a task, as task-division plans write it at the end of an item.

:func:`find_tails` finds every units bracket in an item's text (in display form, see
:func:`assistant.text.clean`) and reads it into a :class:`Tail`: the unit names in the document's
order, the explicit leads, the scope (适用范围) and other fields (完成时限). A bracket counts as a
units bracket when a clause in it starts with a field label (``责任单位：``) or ends with a role
word (``X牵头``, ``A、B负责``); brackets of the text (``区（县级市）``, ``出国（境）``,
``（简称“留交会”）``) are neither. Brackets nest: ``市交通委（市道运局）`` is one name.

The words (labels, role words, the lead convention, collective names) live in
``assistant/data/genre.toml``.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import resources

from ..units import read_toml, string_list

OPEN, CLOSE = "（", "）"
_TRAILING = "。；，、.;, "  # punctuation that may follow the last bracket of an item
_LONGEST_NAME = 24  # in a bracket without field labels, a longer "name" means the bracket is prose


@dataclass(frozen=True)
class Vocabulary:
    """The genre's words (``genre.toml``), longest first where prefixes compete."""

    labels: dict[str, str]  # label -> "lead" | "member" | "scope" | "note"
    verbs: dict[str, str]  # role word -> "lead" | "member"
    convention_lead: tuple[str, ...]
    convention_first: tuple[str, ...]
    levels: frozenset[str]
    joiners: tuple[str, ...]
    others: frozenset[str]

    @functools.cached_property
    def label_pattern(self) -> re.Pattern[str]:
        names = sorted(self.labels, key=len, reverse=True)
        return re.compile(rf"^({'|'.join(map(re.escape, names))})[：:]?")

    @functools.cached_property
    def verb_pattern(self) -> re.Pattern[str]:
        names = sorted(self.verbs, key=len, reverse=True)
        return re.compile(rf"({'|'.join(map(re.escape, names))})$")


@functools.cache
def vocabulary() -> Vocabulary:
    source = "assistant/data/genre.toml"
    data = read_toml(resources.files("assistant").joinpath("data/genre.toml").read_bytes(), source)
    labels = {w: role for role in ("lead", "member", "scope", "note")
              for w in string_list(data.get("labels", {}).get(role), f"[labels] {role}", source)}
    verbs = {w: role for role in ("lead", "member")
             for w in string_list(data.get("verbs", {}).get(role), f"[verbs] {role}", source)}
    convention, names = data.get("lead_convention", {}), data.get("names", {})
    return Vocabulary(
        labels=labels,
        verbs=verbs,
        convention_lead=string_list(convention.get("lead"), "[lead_convention] lead", source),
        convention_first=string_list(convention.get("first"), "[lead_convention] first", source),
        levels=frozenset(string_list(names.get("levels"), "[names] levels", source)),
        joiners=string_list(names.get("joiners"), "[names] joiners", source),
        others=frozenset(string_list(names.get("others"), "[names] others", source)),
    )


@dataclass(frozen=True)
class Tail:
    """One units bracket found at ``text[start:end]`` (the brackets included)."""

    start: int
    end: int
    units: tuple[str, ...]  # every name, in order, each once (leads included)
    leads: tuple[str, ...]  # explicitly marked leads (牵头单位：… / X牵头), else ()
    scope: str = ""
    notes: tuple[str, ...] = ()  # other fields as written, e.g. "完成时限：2025年底前"
    repeated: tuple[str, ...] = ()  # names listed twice in the same role (dropped from units)


def find_tails(text: str) -> tuple[list[Tail], int | None]:
    """The units brackets of ``text`` in order, and where an unclosed units bracket opens (or None)."""
    tails: list[Tail] = []
    spans, unclosed = _bracket_spans(text)
    for start, end in spans:
        tail = read_bracket(text[start + 1 : end - 1], start, end)
        if tail is not None:
            tails.append(tail)
    if unclosed is not None and read_bracket(text[unclosed + 1 :], unclosed, len(text)) is None:
        unclosed = None
    return tails, unclosed


def ends_with_tail(text: str) -> bool:
    """Whether ``text`` ends with a closed units bracket (trailing punctuation aside)."""
    stripped = text.rstrip(_TRAILING)
    if not stripped.endswith(CLOSE):
        return False
    tails, _ = find_tails(stripped)
    return bool(tails) and tails[-1].end == len(stripped)


def mentions_units(text: str) -> bool:
    """Whether ``text`` holds a units bracket, an unclosed one, or is a units line of its own."""
    tails, unclosed = find_tails(text)
    return bool(tails) or unclosed is not None or is_units_line(text)


def field_role(text: str) -> str | None:
    """The role of a line written ``label：…`` without brackets (``责任单位：区发展和改革局`` -> "member"), or None."""
    match = vocabulary().label_pattern.match(text)
    return vocabulary().labels[match.group(1)] if match and match.group(0)[-1] in "：:" else None


def is_units_line(text: str) -> bool:
    """A line that names units without brackets: ``责任单位：…``, ``牵头单位：…``."""
    return field_role(text) in ("lead", "member")


def lead_convention(texts: Iterable[str]) -> str:
    """The clause stating that the first unit listed leads (``排在第一位的部门为牵头部门``), or ""."""
    vocab = vocabulary()
    for text in texts:
        for clause in re.split(r"[。；，,;（）()\n]", text):
            if any(w in clause for w in vocab.convention_lead) and any(w in clause for w in vocab.convention_first):
                return clause.strip().removeprefix("注：").removeprefix("说明：")
    return ""


def read_bracket(content: str, start: int = 0, end: int = 0) -> Tail | None:
    """Read the inside of one bracket, or None when it does not name units."""
    vocab = vocabulary()
    clauses: list[tuple[str | None, str, str]] = []  # (role or None when unmarked, label, names text)
    for clause in _split_top(content, "；，;,"):
        clause = clause.strip().strip("。.")
        if not clause:
            continue
        role: str | None = None
        label = ""
        if match := vocab.label_pattern.match(clause):
            label, clause = match.group(1), clause[match.end() :]
            role = vocab.labels[label]
        if role in (None, "lead", "member") and (verb := vocab.verb_pattern.search(clause)):
            role = "lead" if vocab.verbs[verb.group(1)] == "lead" else role or "member"
            clause = clause[: verb.start()].removeprefix("由")
        clauses.append((role, label, clause))
    if not any(role in ("lead", "member") for role, _, _ in clauses):
        return None
    labelled = any(label for _, label, _ in clauses)
    units: list[str] = []
    leads: list[str] = []
    scope: list[str] = []
    notes: list[str] = []
    repeated: list[str] = []
    seen: dict[str, str] = {}  # name -> role it was first listed in
    role = next(r for r, _, _ in clauses if r)  # unmarked clauses before the first marked one take its role
    for marked, label, names in clauses:
        role = marked or role
        if role == "scope":
            scope.append(names)
        elif role == "note":
            notes.append(f"{label}：{names}" if label else names)
        else:
            for name in split_names(names):
                if not labelled and len(name) > _LONGEST_NAME:
                    return None  # a sentence ending in 负责, not a list of units
                if name in seen:
                    if seen[name] == role:
                        repeated.append(name)
                    continue
                seen[name] = role
                units.append(name)
                if role == "lead":
                    leads.append(name)
    return Tail(start, end, tuple(units), tuple(leads), "，".join(scope), tuple(notes), tuple(repeated))


def split_names(text: str) -> list[str]:
    """``A、B等有关部门`` -> ``[A, B, 有关部门]``; ``A及B`` -> ``[A, B]``; ``各区、县级市`` stays one name."""
    vocab = vocabulary()
    names: list[str] = []
    for joiner in vocab.joiners:
        text = text.replace(joiner, "、")
    for raw in _split_top(text, "、"):
        name = raw.strip().strip("。.")
        if not name:
            continue
        if names and name in vocab.levels and names[-1].startswith("各"):
            names[-1] += f"、{name}"
            continue
        head, sep, rest = name.rpartition("等")
        if sep and head and (rest in vocab.others or not rest):
            names.append(head)
            if rest:
                names.append(rest)
            continue
        names.append(name)
    return names


def _bracket_spans(text: str) -> tuple[list[tuple[int, int]], int | None]:
    """Top-level ``（…）`` spans as (start, end) with ``text[end - 1] == "）"``, and an unclosed opening."""
    spans: list[tuple[int, int]] = []
    depth, opened = 0, 0
    for i, char in enumerate(text):
        if char == OPEN:
            if depth == 0:
                opened = i
            depth += 1
        elif char == CLOSE and depth:
            depth -= 1
            if depth == 0:
                spans.append((opened, i + 1))
    return spans, (opened if depth else None)


def _split_top(text: str, separators: str) -> list[str]:
    """Split on ``separators`` outside brackets."""
    parts: list[str] = []
    current: list[str] = []
    depth = 0
    for char in text:
        if char == OPEN:
            depth += 1
        elif char == CLOSE and depth:
            depth -= 1
        if char in separators and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return parts

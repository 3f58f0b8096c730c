"""Topic glossary: staff shorthand (旧改, 保租房, sponge city) -> the document's own wording.

The data lives in ``assistant/data/glossary.toml``. Matching follows the unit registry
(:class:`assistant.units.PhraseMatcher`): Chinese on :func:`assistant.text.fold`\\ ed text,
English case-insensitively on word boundaries, longest match first, non-overlapping.
Unit names are not topics: by default every name and alias of the unit registry takes part
in the longest-match contest and is then dropped, so "文旅局" does not expand as the topic "文旅".
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from .errors import RegistryError
from .text import fold
from .units import PhraseMatcher, Registry, read_toml, string_list


@dataclass(frozen=True)
class Term:
    """One topic: the ways people say it and the phrases the document uses for it."""

    shorthand: tuple[str, ...]
    means: tuple[str, ...]


class Glossary:
    """Expands topic shorthand in a question into the document's wording."""

    def __init__(self, terms: Iterable[Term], source: str = "术语表", not_topics: Iterable[str] = ()) -> None:
        self.terms: tuple[Term, ...] = tuple(terms)
        self.source = source
        owner: dict[str, Term] = {}
        for term in self.terms:
            if not term.shorthand or not term.means:
                raise RegistryError(f"{source}：术语“{'、'.join(term.shorthand) or '?'}”缺少 shorthand 或 means")
            for phrase in term.shorthand:
                key = fold(phrase)
                if len(key) < 2:
                    raise RegistryError(f"{source}：简称“{phrase}”太短（至少两个字符）")
                if key in owner:
                    raise RegistryError(f"{source}：简称“{phrase}”重复（已在术语“{owner[key].shorthand[0]}”中）")
                owner[key] = term
        phrases: dict[str, Term | None] = {}
        for phrase in not_topics:
            if fold(phrase) in owner:
                raise RegistryError(f"{source}：简称“{phrase}”是单位名称，不能作为话题")
            phrases[phrase] = None
        phrases.update({phrase: term for term in self.terms for phrase in term.shorthand})
        self._matcher: PhraseMatcher[Term] = PhraseMatcher(phrases)

    @classmethod
    def load(cls, path: Path | None = None, registry: Registry | None = None) -> Glossary:
        """Load a glossary TOML; without ``path`` the bundled one (cached).

        Unit names come from ``registry`` (default: the bundled unit registry).
        """
        if path is None and registry is None:
            return _default_glossary()
        registry = registry or Registry.load()
        if path is None:
            return cls.from_toml(_bundled_bytes(), "内置术语表 glossary.toml", registry)
        path = Path(path)
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise RegistryError(f"无法读取术语表 {path}：{exc.strerror or exc}") from None
        return cls.from_toml(data, str(path), registry)

    @classmethod
    def from_toml(cls, data: bytes | str, source: str = "术语表", registry: Registry | None = None) -> Glossary:
        """Parse and validate glossary TOML text; unit names of ``registry`` are not topics."""
        not_topics = _unit_names(registry) if registry is not None else ()
        return cls(_parse_terms(read_toml(data, source), source), source, not_topics)

    def matches(self, text: str) -> list[tuple[str, list[str]]]:
        """``(shorthand as written in the glossary, means)`` per term found, in text order, once each."""
        seen: set[int] = set()
        out: list[tuple[str, list[str]]] = []
        for phrase, term, _, _ in self._matcher.find(text):
            if id(term) not in seen:
                seen.add(id(term))
                out.append((phrase, list(term.means)))
        return out

    def expand(self, text: str, known: str = "") -> list[str]:
        """The document phrases for every shorthand in ``text``, deduplicated, in text order.

        A shorthand that is itself the plan's wording (``fold``-ed ``known``: the task texts) is not
        expanded: 铁路 already finds the railway tasks, and adding 干线铁路、城际铁路… would drown the
        specific words next to it (沪渝蓉铁路)."""
        return list(dict.fromkeys(m for phrase, means in self.matches(text) if not (known and fold(phrase) in known)
                                  for m in means))

    def check_against(self, task_texts: Iterable[str]) -> None:
        """Raise :class:`RegistryError` naming every ``means`` phrase that occurs in no task text."""
        folded = [fold(t) for t in task_texts]
        missing = [m for term in self.terms for m in term.means if not any(fold(m) in t for t in folded)]
        if missing:
            raise RegistryError(f"{self.source}中这些 means 短语不在任何任务原文中：{'、'.join(missing)}")


def _unit_names(registry: Registry) -> list[str]:
    return [n for u in registry.units for n in (u.name, u.english, *u.aliases, *u.english_aliases)]


def _bundled_bytes() -> bytes:
    resource = resources.files("assistant") / "data" / "glossary.toml"
    try:
        return resource.read_bytes()
    except OSError as exc:
        raise RegistryError(f"无法读取内置术语表：{exc}") from None


@functools.cache
def _default_glossary() -> Glossary:
    return Glossary.from_toml(_bundled_bytes(), "内置术语表 glossary.toml", Registry.load())


def _parse_terms(data: dict[str, Any], source: str) -> list[Term]:
    if set(data) - {"term"}:
        raise RegistryError(f"{source}：未知的顶层键 {', '.join(sorted(set(data) - {'term'}))}")
    entries = data.get("term")
    if not isinstance(entries, list) or not entries:
        raise RegistryError(f"{source}：没有任何 [[term]] 条目")
    terms = []
    for i, entry in enumerate(entries, start=1):
        if not isinstance(entry, dict):
            raise RegistryError(f"{source}：第{i}个 [[term]] 不是表")
        label = f"第{i}个 [[term]]"
        if set(entry) != {"shorthand", "means"}:
            raise RegistryError(f"{source}：{label}必须恰好有 shorthand 和 means 两个字段")
        terms.append(
            Term(
                shorthand=string_list(entry["shorthand"], f"{label}的 shorthand ", source),
                means=string_list(entry["means"], f"{label}的 means ", source),
            )
        )
    return terms

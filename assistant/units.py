"""Unit names: the registry of responsible units (责任单位) and how text names them.

The registry is data (``assistant/data/units.toml``); this module loads and validates it and
finds unit mentions in questions and task texts.

Matching rules (:class:`PhraseMatcher`, shared with :mod:`assistant.glossary`):

* Chinese phrases match on :func:`assistant.text.fold`\\ ed text; offsets map back to the
  original text.
* ASCII phrases (English names, ``DRC``) match case-insensitively on word boundaries, with any
  run of whitespace between their words.
* Longest match first, non-overlapping. Exclusions (``not_units``) take part in the contest and
  are then dropped, so ``崇明`` inside ``崇明世界级生态岛`` is not a unit mention.
"""

from __future__ import annotations

import functools
import re
import tomllib
import unicodedata
import weakref
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Generic, TypeVar

from .errors import RegistryError
from .text import fold

KINDS = ("municipal", "district", "zone", "central", "collective", "document")  # document: known only from a plan
# Suffixes that turn a bureau's name into its line of work (人社那边, 环保系统, 规土部门).
_LINE_OF_WORK = ("那边", "这边", "系统", "部门", "条线", "口子", "方面",
                 # a bare stem in a unit's slot: 那民政也参与伐 / 卫健有份吗 / 交通是牵头的吗
                 "也参与", "也参加", "也在", "也有份", "有份", "参不参与", "是牵头", "牵头吗", "牵头伐", "牵头么")
COVERS = ("district", "municipal")
_UNIT_KEYS = {"name", "kind", "english", "aliases", "english_aliases", "covers"}
_REQUIRED = ("name", "kind", "english", "aliases")

T = TypeVar("T")


@dataclass(frozen=True)
class Unit:
    """One responsible unit. ``aliases`` excludes the canonical ``name``."""

    name: str
    kind: str
    english: str
    aliases: tuple[str, ...]
    english_aliases: tuple[str, ...]
    covers: str | None = None


@dataclass(frozen=True)
class Mention:
    """A unit named in a text: ``text[start:end]`` is the alias as written there."""

    unit: str
    alias: str
    start: int
    end: int


# --- phrase matching --------------------------------------------------------------------------

_WORD_CHAR = "a-z0-9"  # English phrases must not touch these on either side (after lower-casing)


def _key(phrase: str) -> str:
    """Lookup key of a name or phrase (the same for Chinese and English)."""
    return fold(phrase)


def _normalise_with_offsets(text: str, keep_spaces: bool) -> tuple[str, list[int]]:
    """NFKC + lower case, char by char, with the original index of every output char.

    ``keep_spaces=False`` drops whitespace (the :func:`fold` form); ``True`` turns each
    whitespace char into one space (the form English phrases match on).
    """
    out: list[str] = []
    origin: list[int] = []
    for i, ch in enumerate(text):
        norm = _CHAR_FORM.get(ch)
        if norm is None:
            norm = unicodedata.normalize("NFKC", ch).lower()
            if len(_CHAR_FORM) < 65536:
                _CHAR_FORM[ch] = norm
        for c in norm:
            if c.isspace():
                if not keep_spaces:
                    continue
                c = " "
            out.append(c)
            origin.append(i)
    return "".join(out), origin


_MATCHERS: weakref.WeakSet[PhraseMatcher[Any]] = weakref.WeakSet()
_CHAR_FORM: dict[str, str] = {}  # char -> its NFKC lower-case form (a bounded memo of the chars seen)


def clear_match_caches() -> None:
    """Forget every matcher's recent results (benchmarks time each question as if first asked)."""
    for matcher in list(_MATCHERS):
        matcher._find_cached.cache_clear()


class PhraseMatcher(Generic[T]):
    """Finds phrases in text, longest first and non-overlapping.

    ``phrases`` maps a phrase to its payload; a payload of ``None`` marks an exclusion: it can
    win a span but is never reported.
    """

    def __init__(self, phrases: Mapping[str, T | None]) -> None:
        self._cjk: list[tuple[str, str, T | None]] = []
        # Chinese keys by their first two characters (one-character keys by that one): find() looks up the
        # keys that can start at each position of the text instead of searching the text for every key.
        self._starting: dict[str, list[int]] = {}
        self._ascii: list[tuple[re.Pattern[str], str, str, int, T | None]] = []
        self._find_cached = functools.lru_cache(maxsize=2048)(self._find)  # thread-safe; the matcher never changes
        _MATCHERS.add(self)
        for phrase, payload in phrases.items():
            key = _key(phrase)
            if not key:
                continue
            if phrase.isascii():  # English: word-bounded, any whitespace between words
                body = r"\s+".join(re.escape(w) for w in phrase.lower().split())
                pattern = re.compile(rf"(?<![{_WORD_CHAR}]){body}(?![{_WORD_CHAR}])")
                self._ascii.append((pattern, phrase.lower().split()[0], phrase, len(key), payload))
            else:
                self._starting.setdefault(key[:2], []).append(len(self._cjk))
                self._cjk.append((key, phrase, payload))

    def find(self, text: str) -> list[tuple[str, T, int, int]]:
        """``(phrase, payload, start, end)`` for every reported match, in text order."""
        return list(self._find_cached(text))

    def _find(self, text: str) -> tuple[tuple[str, T, int, int], ...]:
        """:meth:`find` itself; a question's text is searched many times while it is understood, so the
        results of the last texts are kept (``_find_cached``)."""
        # (length, start, phrase order, position, end, phrase, payload): longest first, then leftmost, then
        # the phrase given first
        candidates: list[tuple[int, int, int, int, int, str, T | None]] = []
        if self._cjk:
            folded, origin = _normalise_with_offsets(text, keep_spaces=False)
            for at in range(len(folded)):
                for prefix in (folded[at : at + 2], folded[at]) if at + 1 < len(folded) else (folded[at],):
                    for i in self._starting.get(prefix, ()):
                        key, phrase, payload = self._cjk[i]
                        if folded.startswith(key, at):
                            start, end = origin[at], origin[at + len(key) - 1] + 1
                            candidates.append((len(key), start, i, at, end, phrase, payload))
        spaced, origin = _normalise_with_offsets(text, keep_spaces=True) if self._ascii else ("", [])
        if re.search(r"[a-z]", spaced):
            for j, (pattern, first_word, phrase, length, payload) in enumerate(self._ascii, start=len(self._cjk)):
                if first_word not in spaced:  # cheap pre-filter before the word-bounded regex
                    continue
                for m in pattern.finditer(spaced):
                    start, end = origin[m.start()], origin[m.end() - 1] + 1
                    candidates.append((length, start, j, m.start(), end, phrase, payload))
        candidates.sort(key=lambda c: (-c[0], c[1], c[2], c[3]))
        taken = [False] * len(text)
        found: list[tuple[str, T, int, int]] = []
        for _, start, _, _, end, phrase, payload in candidates:
            if any(taken[start:end]):
                continue
            taken[start:end] = [True] * (end - start)
            if payload is not None:
                found.append((phrase, payload, start, end))
        found.sort(key=lambda f: f[2])
        return tuple(found)


# --- the registry -----------------------------------------------------------------------------


class Registry:
    """The unit registry: look up, resolve and group responsible units."""

    def __init__(self, units: Iterable[Unit], not_units: Iterable[str] = (), source: str = "单位名录",
                 kind_words: Mapping[str, Sequence[str]] | None = None) -> None:
        self.units: tuple[Unit, ...] = tuple(units)
        self.not_units: tuple[str, ...] = tuple(not_units)
        self.source = source
        # words for a kind of unit, not one unit (区政府, district government), case-insensitive, longest first
        self.kind_words: dict[str, tuple[str, ...]] = {k: tuple(ws) for k, ws in (kind_words or {}).items()}
        self._kinds = {k: _alternation(ws) for k, ws in self.kind_words.items() if ws}
        self._any_kind = _alternation([w for ws in self.kind_words.values() for w in ws])
        self._by_name: dict[str, Unit] = {}
        self._by_key: dict[str, Unit] = {}
        for unit in self.units:
            if unit.name in self._by_name:
                raise RegistryError(f"{source}：单位“{unit.name}”登记了两次")
            self._by_name[unit.name] = unit
            for alias in (unit.name, unit.english, *unit.aliases, *unit.english_aliases):
                if not alias and unit.kind == "document":
                    continue
                key = _key(alias)
                if len(key) < 2:
                    raise RegistryError(f"{source}：单位“{unit.name}”的别名“{alias}”太短（至少两个字符）")
                other = self._by_key.get(key)
                if other is not None:
                    where = "重复登记" if other is unit else f"已属于“{other.name}”"
                    raise RegistryError(f"{source}：单位“{unit.name}”的别名“{alias}”{where}")
                self._by_key[key] = unit
        derived = self._derived_aliases()
        for phrase in self.not_units:
            if not phrase.strip():
                raise RegistryError(f"{source}：not_units 中有空字符串")
            if (owner := self._by_key.get(_key(phrase))) is not None:
                raise RegistryError(f"{source}：not_units 中的“{phrase}”是单位“{owner.name}”的名称或别名")
        phrases: dict[str, Unit | None] = {}
        for unit in self.units:
            for alias in (unit.name, unit.english, *unit.aliases, *unit.english_aliases):
                if alias:
                    phrases[alias] = unit
        for phrase, unit in derived.items():
            phrases.setdefault(phrase, unit)
        phrases.update(dict.fromkeys(self.not_units))
        self._matcher: PhraseMatcher[Unit] = PhraseMatcher(phrases)

    def _derived_aliases(self) -> dict[str, Unit]:
        """How staff point at a bureau's whole line of work: 人社局 -> 人社那边, 人社系统, 人社部门, 人社条线.

        Derived from every Chinese name ending in 局/委/办 whose stem has at least two characters; a derived
        phrase that is already some unit's name or alias is left to that unit."""
        out: dict[str, Unit] = {}
        for unit in self.units:
            for alias in (unit.name, *unit.aliases):
                if len(alias) < 3 or alias[-1] not in "局委办" or not all("\u4e00" <= c <= "\u9fff" for c in alias):
                    continue
                for stem in {alias[:-1], alias}:
                    for suffix in _LINE_OF_WORK:
                        phrase = stem + suffix
                        if len(stem) >= 2 and _key(phrase) not in self._by_key:
                            out.setdefault(phrase, unit)
        return out

    @classmethod
    def load(cls, path: Path | None = None) -> Registry:
        """Load a registry TOML; without ``path`` the bundled one (cached)."""
        if path is None:
            return _default_registry()
        path = Path(path)
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise RegistryError(f"无法读取单位名录 {path}：{exc.strerror or exc}") from None
        return cls.from_toml(data, str(path))

    @classmethod
    def from_toml(cls, data: bytes | str, source: str = "单位名录") -> Registry:
        """Parse and validate registry TOML text."""
        return cls(*_parse_units(read_toml(data, source), source))

    # --- lookups ---

    def get(self, name: str) -> Unit | None:
        """The unit with this canonical name, alias or English name (``None`` if unknown)."""
        return self._by_name.get(name) or self._by_key.get(_key(name))

    def english(self, name: str) -> str | None:
        unit = self.get(name)
        return unit.english if unit else None

    def resolve(self, text: str) -> list[Mention]:
        """All unit mentions in ``text``, longest match first, non-overlapping, in text order."""
        return [Mention(unit.name, _stem(text[start:end]), start, end) for _, unit, start, end in self._matcher.find(text)]

    def units_in(self, text: str) -> list[str]:
        """Canonical names of the units ``text`` mentions, deduplicated, in text order."""
        return list(dict.fromkeys(m.unit for m in self.resolve(text)))

    def without(self, text: str, mentions: Sequence[Mention] | None = None) -> str:
        """``text`` with the units it names (``mentions``, else :meth:`resolve`'s) blanked out."""
        for m in sorted(self.resolve(text) if mentions is None else mentions, key=lambda m: -m.start):
            text = text[: m.start] + " " + text[m.end :]
        return text

    def kind_in(self, text: str) -> str:
        """The kind of unit ``text`` asks about without naming one (哪些任务是区政府牵头的 -> district), or ""."""
        return next((kind for kind, pattern in self._kinds.items() if pattern.search(text)), "")

    def without_kinds(self, text: str) -> str:
        """``text`` with its words for a kind of unit blanked out."""
        return self._any_kind.sub(" ", text) if self.kind_words else text

    def of_kind(self, kind: str) -> set[str]:
        """Names of the units of ``kind``, with the collectives that cover it (各区人民政府 for district)."""
        return {u.name for u in self.units if u.kind == kind or (u.kind == "collective" and u.covers == kind)}

    def collectives_for(self, name: str) -> list[str]:
        """The collective units that include ``name`` (a district -> 各区人民政府, 各相关区人民政府)."""
        unit = self.get(name)
        if unit is None or unit.kind not in COVERS:
            return []
        return [u.name for u in self.units if u.kind == "collective" and u.covers == unit.kind]

    def with_units(self, names: Iterable[str]) -> Registry:
        """This registry plus every unit a parsed plan names that it does not know, under the plan's own name
        (kind ``document``). A name that is already another unit's alias is left to that unit.

        Such a unit gets the aliases that follow from its name: the parts of ``X（Y）`` (区政务服务办（区数据局）
        is also 区政务服务办 and 区数据局), and for a district or county body whose city counterpart is registered
        (区发展改革委 ~ 市发展改革委), that counterpart's short names with the district prefix (区发改委)."""
        extra: list[Unit] = []
        taken = {_key(p) for p in self._by_key}
        for name in dict.fromkeys(names):
            if self.get(name) is not None or len(_key(name)) < 2:
                continue
            aliases = [a for a in _derived_names(name, self) if _key(a) not in taken and a != name]
            taken.update(_key(a) for a in aliases)
            taken.add(_key(name))
            extra.append(Unit(name, "document", "", tuple(dict.fromkeys(aliases)), ()))
        return Registry((*self.units, *extra), self.not_units, self.source, self.kind_words) if extra else self

    def check_against(self, document_units: Iterable[str]) -> None:
        """Raise :class:`RegistryError` unless every unit the document names is registered under that name."""
        problems: list[str] = []
        for name in dict.fromkeys(document_units):
            if name in self._by_name:
                continue
            other = self.get(name)
            problems.append(f"“{name}”（只登记为“{other.name}”的别名）" if other else f"“{name}”")
        if problems:
            raise RegistryError(f"{self.source}缺少文档中的责任单位：{'、'.join(problems)}")


_LEVELS = ("区", "县", "镇")


def _derived_names(name: str, registry: Registry) -> list[str]:
    """Names that follow from a unit's own name (see :meth:`Registry.with_units`)."""
    out: list[str] = []
    inner = re.fullmatch(r"(.+?)[（(](.+)[）)]", name)
    if inner:
        out += [inner.group(1).strip(), inner.group(2).strip()]
    for full in [name, *out]:
        if full[:1] in _LEVELS and len(full) > 2:
            city = registry.get("市" + full[1:])
            if city is not None:
                out += [full[0] + a.removeprefix("市") for a in city.aliases if len(a.removeprefix("市")) >= 2
                        and not a.startswith(("上海", "市"))]
    return [a for a in out if len(_key(a)) >= 2]


@functools.cache
def _default_registry() -> Registry:
    resource = resources.files("assistant") / "data" / "units.toml"
    try:
        data = resource.read_bytes()
    except OSError as exc:
        raise RegistryError(f"无法读取内置单位名录：{exc}") from None
    return Registry.from_toml(data, "内置单位名录 units.toml")


# --- TOML validation --------------------------------------------------------------------------


def read_toml(data: bytes | str, source: str) -> dict[str, Any]:
    """Parse TOML text, or :class:`RegistryError` naming ``source``."""
    text = data.decode("utf-8") if isinstance(data, bytes) else data
    try:
        return tomllib.loads(text)
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise RegistryError(f"{source} 不是有效的TOML：{exc}") from None


def _alternation(words: Iterable[str]) -> re.Pattern[str]:
    """One case-insensitive pattern matching any of ``words``, longest first."""
    return re.compile("|".join(re.escape(w) for w in sorted(words, key=len, reverse=True)), re.I)


def _stem(alias: str) -> str:
    """An alias as shown: without the line-of-work word it was matched with (人社那边 -> 人社, 民政也参与 -> 民政)."""
    for suffix in _LINE_OF_WORK:
        if alias.endswith(suffix) and len(alias) - len(suffix) >= 2:
            return alias[: -len(suffix)]
    return alias


def string_list(value: object, what: str, source: str) -> tuple[str, ...]:
    """A TOML list of non-empty strings, or :class:`RegistryError` naming ``what``."""
    if not isinstance(value, list) or not all(isinstance(x, str) and x.strip() for x in value):
        raise RegistryError(f"{source}：{what}必须是非空字符串的列表")
    return tuple(x.strip() for x in value)


def _parse_units(data: dict[str, Any], source: str) -> tuple[list[Unit], tuple[str, ...], str, dict[str, list[str]]]:
    unknown_top = set(data) - {"unit", "exclusions", "kinds"}
    if unknown_top:
        raise RegistryError(f"{source}：未知的顶层键 {', '.join(sorted(unknown_top))}")
    entries = data.get("unit")
    if not isinstance(entries, list) or not entries:
        raise RegistryError(f"{source}：没有任何 [[unit]] 条目")
    units = [_parse_unit(entry, i, source) for i, entry in enumerate(entries, start=1)]
    exclusions = data.get("exclusions", {})
    if not isinstance(exclusions, dict) or set(exclusions) - {"not_units"}:
        raise RegistryError(f"{source}：[exclusions] 只能包含 not_units 列表")
    not_units = string_list(exclusions.get("not_units", []), "[exclusions] not_units ", source)
    kinds = data.get("kinds", {})
    if not isinstance(kinds, dict) or set(kinds) - set(KINDS):
        raise RegistryError(f"{source}：[kinds] 的键应为 {' | '.join(KINDS)}")
    kind_words = {k: list(string_list(v, f"[kinds] {k} ", source)) for k, v in kinds.items()}
    return units, not_units, source, kind_words


def _parse_unit(entry: object, i: int, source: str) -> Unit:
    if not isinstance(entry, dict):
        raise RegistryError(f"{source}：第{i}个 [[unit]] 不是表")
    label = f"第{i}个 [[unit]]（{entry.get('name', '无名称')}）"
    unknown = set(entry) - _UNIT_KEYS
    if unknown:
        raise RegistryError(f"{source}：{label}有未知字段 {', '.join(sorted(unknown))}")
    missing = [k for k in _REQUIRED if k not in entry]
    if missing:
        raise RegistryError(f"{source}：{label}缺少字段 {', '.join(missing)}")
    for key in ("name", "kind", "english"):
        if not isinstance(entry[key], str) or not entry[key].strip():
            raise RegistryError(f"{source}：{label}的 {key} 必须是非空字符串")
    kind = entry["kind"]
    if kind not in KINDS:
        raise RegistryError(f"{source}：{label}的 kind“{kind}”未知（应为 {' | '.join(KINDS)}）")
    covers = entry.get("covers")
    if kind == "collective" and covers not in COVERS:
        raise RegistryError(f"{source}：{label}是 collective，covers 必须是 {' 或 '.join(COVERS)}")
    if kind != "collective" and covers is not None:
        raise RegistryError(f"{source}：{label}不是 collective，不能有 covers")
    english_aliases = string_list(entry.get("english_aliases", []), f"{label}的 english_aliases ", source)
    non_ascii = [a for a in (entry["english"], *english_aliases) if not a.isascii()]
    if non_ascii:
        raise RegistryError(f"{source}：{label}的英文名称含非ASCII字符：{'、'.join(non_ascii)}")
    return Unit(
        name=entry["name"].strip(),
        kind=kind,
        english=entry["english"].strip(),
        aliases=string_list(entry["aliases"], f"{label}的 aliases ", source),
        english_aliases=english_aliases,
        covers=covers,
    )

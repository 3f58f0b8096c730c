"""Refuse or answer: one fitted decision over named evidence, so "why did it refuse?" has an answer.

A question that reaches retrieval (a topic, or a unit's tasks) is answered only when the evidence says
the plan covers it. The evidence (:func:`features`), each a named number:

* ``kind``        log-odds that the question, by its own form, asks something the plan never states:
                  a logistic regression over the question's character 1-3-grams and English words
                  (:func:`ngrams`), one per language, fitted on labelled questions (``kind`` block of the
                  parameters); ``kind_en`` holds it for English questions;
* ``dense_top``, ``dense_gap``, ``dense_z``   cosine of the best task (its best passage), its margin over
                  the second, and how far it stands above the mean over all tasks, in standard deviations;
* ``bm25_top``    log(1 + BM25 score of the best task); ``agree``: 1 when BM25 and dense agree on it;
* ``coverage``    share of the question's topic bigrams that occur anywhere in the plan or its views;
  ``topic_in_plan`` / ``topic_in_best``: share of its topic words (jieba) found in any task's text or
  views / in the best task's;
* ``cue_<group>`` 1 when a word of that group of :file:`data/cues.toml` occurs (money, person, procedure,
                  achieved, specific_date, other_place, compare, opinion, legal, news, internal_process,
                  instruction); ``cue_in_task``: 1 when the best task itself uses such a word (补贴, 苏州);
* ``quantity_no_number``  the question asks how many/much and the best task states no figure;
  ``measure_in_task``: it asks how many of a measure (多少套, 几公里) and the best task states a figure in it;
* ``year_not_in_task``  the question names a year, the best task dates its targets, but never by that year;
  ``date_no_deadline``: it asks when, and the best task states no year or period;
* ``year_in_task``: the best task states the year the question names;
* ``foreign_year`` a year the plan never mentions (已经…2024年); ``unit``: a unit is named; ``english``.

The decision is a logistic regression over the features (standardised, except the 0/1 ones); its parameters, the threshold
(chosen by cross-validation for at most ~1% false refusals) and the cross-validated figures live in
:file:`data/refusal.json`, written by ``fitting/fit_refusal.py`` from ``evals/train`` and ``evals/dev``.
"""

from __future__ import annotations

import functools
import itertools
import json
import math
import re
import tomllib
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any

import numpy as np

from .errors import RegistryError
from .text import fold
from .understanding import is_english

MODEL_FILE = "refusal.json"
_EN_WORD = re.compile(r"[a-z]")
_YEAR = re.compile(r"(20\d\d)\s*年?")
_QUANTITY = re.compile(r"多少|几(?:个|项|条|家|张|公里|万|成|星|年|大|所|座|类|种|分钟)|数量|比例|百分之|占比|"
                       r"how (?:many|much|far|long)|what (?:percentage|share|number)", re.I)
# what follows 几个/多少 when the question counts the plan's own parts
_PLAN_COUNT = re.compile(r"\s*(?:个|家|项|条)?\s*(?:部门|单位|责任单位|牵头单位|委办局|局|委|任务|事项|项|条|家)|"
                         r"\s*(?:departments?|units?|bodies|agencies|tasks?|items?)\b", re.I)
_WHEN = re.compile(r"什么时候|哪年|哪一年|何时|几时|多久|什么时间|具体时间|期限|\bwhen\b|what year|which year|how long", re.I)
# a year, a period, or a duration ("1个工作日以内", "30分钟"): what answers 什么时候 / 多久
_DEADLINE = re.compile(r"20\d\d|十[四五]五|[一二三四五两]年|每年|期间|"
                       r"[\d一二三四五六七八九十两半]+\s*个?(?:工作日|天|日内|小时|分钟|个月|周)")
# "多少套" / "几万张" / "how many kilometres": the measure a quantity question asks in
_MEASURE_ASKED = re.compile(r"(?:多少|几)\s*(?:万|千|亿)?\s*(套|公里|千米|张|家|所|座|平方米|吨|户|辆|元|床|间|处|%)")
_FIGURE = re.compile(r"\d|[一二三四五六七八九十百千万两]+(?:个|项|条|家|张|公里|万|星|年|大|所|座|类|种|分钟|倍)")


@dataclass(frozen=True)
class Cues:
    """Groups of cue words (:file:`data/cues.toml`)."""

    groups: Mapping[str, tuple[tuple[str, ...], tuple[re.Pattern[str], ...]]]
    reasons: Mapping[str, tuple[str, str]]  # group -> (Chinese, English) refusal text

    @classmethod
    def load(cls) -> Cues:
        return _default_cues()

    @classmethod
    def from_toml(cls, data: str, source: str = "cues.toml") -> Cues:
        try:
            raw = tomllib.loads(data)
        except tomllib.TOMLDecodeError as exc:
            raise RegistryError(f"{source} 格式错误：{exc}") from None
        groups, reasons = {}, {}
        for name, entry in raw.items():
            if not isinstance(entry, dict) or set(entry) - {"zh", "en", "reason", "reason_en"}:
                raise RegistryError(f"{source}：[{name}] 只能有 zh、en、reason、reason_en")
            zh = tuple(fold(w) for w in entry.get("zh", []))
            en = tuple(re.compile(r"\b" + re.escape(w.lower()) + r"\b") for w in entry.get("en", []))
            groups[name] = (zh, en)
            reasons[name] = (str(entry.get("reason", "")), str(entry.get("reason_en", "")))
        return cls(groups, reasons)

    def found(self, text: str) -> dict[str, list[str]]:
        """Cue words of each group that occur in ``text`` (groups with none are left out)."""
        folded, lower = fold(text), text.lower()
        out: dict[str, list[str]] = {}
        for name, (zh, en) in self.groups.items():
            words = [w for w in zh if w in folded]
            if _EN_WORD.search(lower):
                words += [p.pattern[2:-2].replace("\\", "") for p in en if p.search(lower)]
            if words:
                out[name] = words
        return out


    def reason(self, found: Mapping[str, list[str]], english: bool, plan: str = "《任务分工方案》") -> str:
        """What a refusal says: the reason of the first cue group found, or that the plan does not cover it
        (``{plan}`` in a reason stands for the plan's name)."""
        for name in found:
            zh, en = self.reasons.get(name, ("", ""))
            if (en if english else zh):
                return (en if english else zh).replace("{plan}", plan)
        return ("The plan does not cover this: no task of it is about what you ask." if english
                else f"{plan}没有涉及这个问题：文件中没有与之对应的任务。")


@functools.cache
def _default_cues() -> Cues:
    resource = resources.files("assistant") / "data" / "cues.toml"
    return Cues.from_toml(resource.read_text(encoding="utf-8"), "内置 cues.toml")


def ngrams(text: str) -> list[str]:
    """What the ``kind`` classifier reads (fit and predict alike): character 1-3-grams of the Chinese in
    ``fold(text)``, each number one symbol (2028 and 2025 are the same form), and English words and word pairs
    (character grams of English learn spelling, not form)."""
    folded = re.sub(r"\d+(?:\.\d+)?", "#", re.sub(r"[a-z]+", " ", fold(text)))  # a number's form, not its digits
    grams = [run[i : i + n] for run in folded.split() for n in (1, 2, 3) for i in range(len(run) - n + 1)]
    words = re.findall(r"[a-z]+", unicodedata.normalize("NFKC", text).lower())
    return grams + [f"w:{w}" for w in words] + [f"w:{a}_{b}" for a, b in itertools.pairwise(words)]


def has_figure(text: str) -> bool:
    return bool(_FIGURE.search(text))


def states_measure(question: str, text: str) -> bool:
    """The question asks how many of a measure (多少套) and ``text`` states a figure in it (1000套, 12万张)."""
    return any(re.search(rf"[\d０-９一二三四五六七八九十百千万两]\s*(?:万|千|亿)?\s*{re.escape(m.group(1))}", text)
               for m in _MEASURE_ASKED.finditer(question))


def asks_quantity(question: str) -> bool:
    """How many / how much of something in the world (几个站, 多少公里) — not a count of the plan's own units or
    tasks (几个部门负责, 多少项任务), which the plan always answers."""
    return any(not _PLAN_COUNT.match(question, m.end()) for m in _QUANTITY.finditer(question))


@dataclass(frozen=True)
class Evidence:
    """The inputs of one decision (what :func:`features` needs), gathered by the assistant."""

    question: str  # simplified, markup removed
    dense: np.ndarray | None  # per task, cosine of its best passage (None: not embedded)
    bm25: np.ndarray  # per task, BM25 of its best passage
    top_text: str  # the best task's text (for ``cue_in_task``, ``quantity_no_number``, ``date_no_deadline``)
    coverage: float
    topic_in_plan: float  # share of the topic's words found in any task's text or views
    topic_in_best: float  # ... in the best task's text or views
    units: int  # units named in the question
    english: bool
    plan_years: frozenset[int]
    cue_text: str = ""  # the question without the units it names (市税务局 is no question about tax); "" = question


def features(evidence: Evidence, cues: Cues, kind: Mapping[str, Any] | None) -> dict[str, float]:
    """The named features of one question (see the module docstring)."""
    e = evidence
    out: dict[str, float] = {"kind": kind_score(e.question, kind) if kind else 0.0}
    # the form of an English question, as character n-grams: a separate feature, so each language gets its weight
    out["kind_en"], out["kind"] = (out["kind"], 0.0) if e.english else (0.0, out["kind"])
    if e.dense is not None and len(e.dense) > 1:
        order = np.sort(e.dense)[::-1]
        std = float(e.dense.std()) or 1.0
        out |= {"dense_top": float(order[0]), "dense_gap": float(order[0] - order[1]),
                "dense_z": float((order[0] - e.dense.mean()) / std)}
        agree = float(int(np.argmax(e.dense)) == int(np.argmax(e.bm25))) if e.bm25.max() > 0 else 0.0
    else:
        out |= {"dense_top": 0.0, "dense_gap": 0.0, "dense_z": 0.0}
        agree = 0.0
    out |= {"bm25_top": math.log1p(float(e.bm25.max()) if len(e.bm25) else 0.0), "agree": agree,
            "coverage": e.coverage, "topic_in_plan": e.topic_in_plan, "topic_in_best": e.topic_in_best}
    found = cues.found(e.cue_text or e.question)
    for name in cues.groups:
        out[f"cue_{name}"] = float(name in found)
    top = fold(e.top_text)  # what the plan states, not the everyday views written for retrieval (租金, 事故)
    out["cue_in_task"] = float(any(w in top for words in found.values() for w in words if not w.isascii()))
    # English questions meet Chinese passages: their similarity and coverage run lower, so they get weights of
    # their own (the Chinese features are 0 for them, and the other way round)
    for name in ("dense_top", "coverage"):
        out[f"{name}_en"], out[name] = (out[name], 0.0) if e.english else (0.0, out[name])
    out["quantity_no_number"] = float(asks_quantity(e.question) and not has_figure(e.top_text))
    out["measure_in_task"] = float(states_measure(e.question, e.top_text))
    out["date_no_deadline"] = float(bool(_WHEN.search(e.question)) and not _DEADLINE.search(e.top_text))
    years = {int(y) for y in _YEAR.findall(e.question)}
    out["foreign_year"] = float(bool(years - e.plan_years))
    # "2026年底海绵城市要达到多少" when the task's deadline is 2028: the plan sets no target for the year asked
    task_years = {int(y) for y in _YEAR.findall(e.top_text)}
    out["year_not_in_task"] = float(bool(years) and bool(task_years) and not years & task_years)
    out["year_in_task"] = float(bool(years & task_years))  # "2025年底前要改完的是哪类房子": the task dates it so
    out["unit"] = float(e.units > 0)
    out["english"] = float(e.english)
    return out


def kind_score(question: str, kind: Mapping[str, Any]) -> float:
    """Log-odds, from the question's form alone, that it asks what the plan never states. Chinese and English
    questions have classifiers of their own (``kind["zh"]``, ``kind["en"]``): each its own baseline."""
    if "zh" in kind:
        kind = kind["en" if is_english(question) else "zh"]
    weights: Mapping[str, float] = kind["weights"]
    return float(kind["intercept"]) + sum(weights.get(g, 0.0) for g in set(ngrams(question)))


@dataclass(frozen=True)
class Decision:
    """Refuse or answer, with the probability and each feature's contribution to the log-odds."""

    refuse: bool
    p_answerable: float
    contributions: tuple[tuple[str, float, float], ...]  # (feature, value, contribution), largest first

    def to_dict(self) -> dict[str, object]:
        return {"refuse": self.refuse, "p_answerable": round(self.p_answerable, 4),
                "features": {name: [round(value, 4), round(c, 4)] for name, value, c in self.contributions}}

    def explain(self, limit: int = 5) -> str:
        parts = [f"{name}={value:.2f}（{c:+.2f}）" for name, value, c in self.contributions[:limit]]
        return f"可回答概率 {self.p_answerable:.2f}；主要依据：" + "，".join(parts)


DENSE_FEATURES = ("dense_top", "dense_top_en", "dense_gap", "dense_z", "agree")


class Head:
    """One logistic regression over standardised named features, with its refusal threshold."""

    def __init__(self, params: Mapping[str, Any]) -> None:
        self.names: Sequence[str] = params["features"]
        self.mean = np.asarray(params["mean"], dtype=float)
        self.scale = np.asarray(params["scale"], dtype=float)
        self.coef = np.asarray(params["coef"], dtype=float)
        self.intercept = float(params["intercept"])
        self.threshold = float(params.get("threshold", 0.5))

    def decide(self, values: Mapping[str, float]) -> Decision:
        x = np.array([values.get(n, 0.0) for n in self.names], dtype=float)
        parts = (x - self.mean) / self.scale * self.coef
        p = 1.0 / (1.0 + math.exp(-(self.intercept + float(parts.sum()))))
        order = np.argsort(-np.abs(parts))
        contributions = tuple((self.names[i], float(x[i]), float(parts[i])) for i in order)
        return Decision(p < self.threshold, p, contributions)


class RefusalModel:
    """The fitted decision (parameters from :file:`data/refusal.json`).

    Two heads share the ``kind`` classifier: ``full`` weighs every feature; ``lexical`` leaves out the
    dense ones (:data:`DENSE_FEATURES`). The lexical head only ever *answers*, never refuses: when BM25 is
    decisive (its best task scores at least ``fast_bm25_ratio`` times the second) and the lexical head is at
    least ``fast_min_p`` sure the question is answerable, the question is answered without embedding it
    (the embedding is ~95% of a question's cost). Both values are chosen by ``fitting/fit_refusal.py``.
    """

    def __init__(self, params: Mapping[str, Any]) -> None:
        self.params = params
        self.full = Head(params["full"])
        self.lexical = Head(params["lexical"]) if "lexical" in params else None
        self.kind: Mapping[str, Any] | None = params.get("kind")
        fast = params.get("fast", {})
        self.fast_min_p = float(fast.get("min_p", 2.0))  # above 1: never
        self.fast_bm25_ratio = float(fast.get("bm25_ratio", 1e9))

    @property
    def threshold(self) -> float:
        return self.full.threshold

    @classmethod
    def load(cls) -> RefusalModel | None:
        """The bundled model, or None before the first fit."""
        resource = resources.files("assistant") / "data" / MODEL_FILE
        try:
            return cls(json.loads(resource.read_text(encoding="utf-8")))
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError) as exc:
            raise RegistryError(f"拒答模型参数 {MODEL_FILE} 无法读取：{exc}") from None

    def decide(self, values: Mapping[str, float]) -> Decision:
        """The full decision (every feature)."""
        return self.full.decide(values)

    def answers_fast(self, values: Mapping[str, float]) -> Decision | None:
        """The lexical head's decision when it is sure enough to answer without dense evidence, else None."""
        if self.lexical is None:
            return None
        decision = self.lexical.decide(values)
        return decision if decision.p_answerable >= self.fast_min_p else None

"""The eval runner: score answers against :mod:`assistant.evalcases`, aggregate, print, gate.

Scoring is pure and works on the JSON contract of an answer (``Answer.to_dict()`` or any mapping with
``"answer"``, ``"citations": [{"task": n}, ...]`` and ``"refused"``), so it is tested on synthetic answers:

* :func:`score_case`     one case -> :class:`CaseScore` (citation recall/precision, exact set, units, facts,
  refusal, correct);
* :func:`aggregate`      scores -> metrics; :func:`summarize` per category and overall;
* :func:`ranking_metrics` hit@1, hit@3 and MRR of ranked task lists (retrieval alone);
* :func:`score_draft`    one labelled draft vs the clauses ``Assistant.cite`` returned -> :class:`DraftScore`;
  :func:`aggregate_drafts` clause-level precision and recall of suggested citations;
* :func:`check_gate`     a report vs ``evals/thresholds.toml`` -> the failing metrics.

:func:`run` (``python -m assistant eval``) wires them to a real ``Assistant``, imported lazily.

A case is *correct* when it is answerable and the answer is not a refusal, cites every expected task
(exactly those for ``exact`` cases; otherwise at most max(3, 2 × expected) tasks) and names every expected
unit (not checked in English answers) and fact verbatim; or when it is unanswerable and the answer refuses
without citations. These are the rules of ``../shared/evals-external/score.py``, so the figures of every
suite mean the same thing; text is compared in simplified characters, NFKC, without spaces.

Suites (:data:`SUITES`): ``dev`` (what is tuned on), ``holdout`` (written before any answer was seen, never
tuned on) and ``external`` (written independently of the project, read from ``../shared/evals-external``
when it is beside the checkout). Each has questions and drafts; the gate covers every suite that ran.
"""

from __future__ import annotations

import difflib
import json
import math
import os
import sys
import time
import tomllib
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, TextIO

from .corpus import load_corpus
from .errors import AssistantError
from .evalcases import STRUCTURAL, Case, DraftCase, load_cases, load_drafts, validate
from .settings import PROJECT_ROOT, Settings
from .text import fold, simplified

EVALS_DIR = PROJECT_ROOT / "evals"
EXTERNAL_DIR = PROJECT_ROOT.parent / "shared" / "evals-external"
EXAMPLES_DIR = PROJECT_ROOT / "examples"
DEFAULT_THRESHOLDS = EVALS_DIR / "thresholds.toml"
RETRIEVAL_K = 10
COLLECTIVE = ("各区人民政府", "各相关区人民政府")


@dataclass(frozen=True)
class Suite:
    """One set of eval files. ``complete``: every draft's clauses cover it (our own files are held to that)."""

    name: str
    cases: Path | tuple[Path, ...] | None
    drafts: Path | tuple[Path, ...] | None
    complete: bool = True
    show_failures: bool = True  # the holdout lists only how many failed: reading its misses would be tuning on it
    corpus: str = ""  # the plans to answer from when not the configured corpus (its own index, under index_dir)


# everyday{s}.jsonl and drafts{s}.jsonl in evals/dev
_DEV_DRAFT_SETS = ("", *(f"-{n}" for n in range(2, 26)))  # drafts.jsonl, drafts-2.jsonl … drafts-25.jsonl
_DEV_QUESTION_SETS = ("", *(f"-{n}" for n in range(2, 30)))  # everyday.jsonl, everyday-2.jsonl … everyday-29.jsonl
SUITES = (
    Suite("dev", tuple(EVALS_DIR / "dev" / f for f in ("cases.jsonl", *(f"everyday{s}.jsonl" for s in _DEV_QUESTION_SETS))),
          tuple(EVALS_DIR / "dev" / f"drafts{s}.jsonl" for s in _DEV_DRAFT_SETS)),
    Suite("holdout", EVALS_DIR / "holdout" / "questions.jsonl", EVALS_DIR / "holdout" / "drafts.jsonl",
          show_failures=False),
    Suite("external", EXTERNAL_DIR / "questions.jsonl", EXTERNAL_DIR / "drafts.jsonl", complete=False),
    # two plans in one corpus: the reference plan and a sample plan of the genre (examples/, fictional)
    Suite("multi", EXAMPLES_DIR / "questions.jsonl", None,
          corpus=os.pathsep.join([str(PROJECT_ROOT / "corpus"), str(EXAMPLES_DIR / "business-environment-2025.txt")])),
)

# --- answers -------------------------------------------------------------------------------


def answer_fields(answer: Any) -> tuple[list[int], bool, str, str]:
    """``(cited task numbers, refused, answer markdown, route)`` of an ``Answer`` or its ``to_dict()``."""
    data: Mapping[str, Any] = answer.to_dict() if hasattr(answer, "to_dict") else answer
    cited: list[int] = []
    for citation in data.get("citations") or []:
        n = citation.get("task") if isinstance(citation, Mapping) else citation
        if isinstance(n, int) and n not in cited:
            cited.append(n)
    return cited, bool(data.get("refused")), str(data.get("answer") or ""), str(data.get("route") or "")


def _split_citations(answer: Any, document: str) -> tuple[list[int], int]:
    """(task numbers cited in the case's plan, how many citations point into other plans). ``document`` "" means
    the reference plan, whose citations carry ``uid == task``; a single-plan answer has no other plans."""
    data: Mapping[str, Any] = answer.to_dict() if hasattr(answer, "to_dict") else answer
    mine: list[int] = []
    others = 0
    for c in data.get("citations") or []:
        if not isinstance(c, Mapping):
            n = c if isinstance(c, int) else None
            if n is not None and n not in mine:
                mine.append(n)
            continue
        n = c.get("task")
        if not isinstance(n, int):
            continue
        ours = c.get("document") == document if document else c.get("uid", n) == n
        if ours and n not in mine:
            mine.append(n)
        elif not ours:
            others += 1
    return mine, others


def _collective_tasks(answer: Any) -> set[int]:
    """Tasks an answer cites with 各区人民政府 / 各相关区人民政府 among their units (a district's shared tasks)."""
    data: Mapping[str, Any] = answer.to_dict() if hasattr(answer, "to_dict") else answer
    return {c["task"] for c in data.get("citations") or []
            if isinstance(c, Mapping) and set(c.get("units") or []) & set(COLLECTIVE)}


def _norm(text: str) -> str:
    return simplified(fold(text))


def _present(needles: Sequence[str], text: str) -> tuple[bool | None, tuple[str, ...]]:
    if not needles:
        return None, ()
    haystack = _norm(text)
    missing = tuple(n for n in needles if _norm(n) not in haystack)
    return not missing, missing


# --- one case ------------------------------------------------------------------------------


@dataclass(frozen=True)
class CaseScore:
    """How one answer did on one case. ``None`` means the measure does not apply to the case."""

    id: str
    category: str
    question: str
    answerable: bool
    exact: bool
    expected: tuple[int, ...]
    cited: tuple[int, ...]
    refused: bool
    recall: float | None
    precision: float | None
    exact_match: bool | None
    units_ok: bool | None
    facts_ok: bool | None
    correct: bool
    missing_units: tuple[str, ...] = ()
    missing_facts: tuple[str, ...] = ()
    too_many: bool = False  # more than max(3, 2 x expected) citations on a case that is not an exact list
    latency_ms: float | None = None
    route: str = ""
    answer: str = ""
    error: str = ""

    @property
    def why(self) -> str:
        """A one-line reason the case failed ('' when correct)."""
        if self.correct:
            return ""
        if self.error:
            return f"error: {self.error}"
        if not self.answerable:
            return f"should refuse; cited {list(self.cited)}" if not self.refused else f"refused but cited {list(self.cited)}"
        reasons = ["refused"] if self.refused else []
        missed = sorted(set(self.expected) - set(self.cited))
        extra = sorted(set(self.cited) - set(self.expected))
        if missed:
            reasons.append(f"missed {missed}")
        if self.exact_match is False and extra:
            reasons.append(f"extra {extra}")
        if self.too_many:
            reasons.append(f"{len(self.cited)} citations > {max(3, 2 * len(self.expected))}")
        if self.missing_units:
            reasons.append(f"units missing {list(self.missing_units)}")
        if self.missing_facts:
            reasons.append(f"facts missing {list(self.missing_facts)}")
        return "; ".join(reasons)

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "why": self.why}


def score_case(case: Case, answer: Any, latency_ms: float | None = None, error: str = "") -> CaseScore:
    """Score one answer (an ``Answer`` or its JSON dict) against ``case``."""
    cited, refused, text, route = answer_fields(answer)
    mine, others = _split_citations(answer, case.document)
    expected, got = set(case.expected_tasks), set(mine)
    recall = precision = None
    exact_match = units_ok = facts_ok = None
    missing_units: tuple[str, ...] = ()
    missing_facts: tuple[str, ...] = ()
    too_many = False
    if case.answerable:
        hits = len(expected & got)
        recall = hits / len(expected) if expected else 1.0
        precision = hits / (len(got) + others) if got or others else None
        if case.exact:
            extra = (got - expected) | ({-1} if others else set())
            if "区人民政府" in (case.unit or str((case.target or {}).get("unit", ""))):
                extra -= _collective_tasks(answer)  # a district's list may show the tasks of all districts apart
            exact_match = not (expected - got) and not extra
        else:
            too_many = len(got) + others > max(3, 2 * len(expected))
        if case.category != "english":
            units_ok, missing_units = _present(case.expected_units, text)
        facts_ok, missing_facts = _present(case.expected_facts, text)
        correct = not refused and recall == 1.0 and not too_many and False not in (exact_match, units_ok, facts_ok)
    else:
        correct = refused and not cited
    return CaseScore(
        id=case.id,
        category=case.category,
        question=case.question,
        answerable=case.answerable,
        exact=case.exact,
        expected=case.expected_tasks,
        cited=tuple(cited),
        refused=refused,
        recall=recall,
        precision=precision,
        exact_match=exact_match,
        units_ok=units_ok,
        facts_ok=facts_ok,
        correct=correct and not error,
        missing_units=missing_units,
        missing_facts=missing_facts,
        too_many=too_many,
        latency_ms=latency_ms,
        route=route,
        answer=text,
        error=error,
    )


# --- aggregates ----------------------------------------------------------------------------


def _mean(values: Sequence[float | bool | None]) -> float | None:
    present = [float(v) for v in values if v is not None]
    return sum(present) / len(present) if present else None


def percentile(values: Sequence[float], p: float) -> float | None:
    """Nearest-rank percentile (``p`` in 0..100); ``None`` for no values."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def aggregate(scores: Sequence[CaseScore]) -> dict[str, float | int | None]:
    """Metrics over a set of case scores (``None`` where a metric has nothing to measure)."""
    answerable = [s for s in scores if s.answerable]
    unanswerable = [s for s in scores if not s.answerable]
    refused = [s for s in scores if s.refused]
    refused_right = sum(1 for s in refused if not s.answerable)
    latencies = [s.latency_ms for s in scores if s.latency_ms is not None]
    return {
        "n": len(scores),
        "accuracy": _mean([s.correct for s in scores]),
        "citation_recall": _mean([s.recall for s in answerable]),
        "citation_precision": _mean([s.precision for s in answerable]),
        "exact_set_accuracy": _mean([s.exact_match for s in scores]),
        "unit_match": _mean([s.units_ok for s in scores]),
        "fact_presence": _mean([s.facts_ok for s in scores]),
        "refusal_precision": refused_right / len(refused) if refused else None,
        "refusal_recall": refused_right / len(unanswerable) if unanswerable else None,
        "false_refusal_rate": sum(1 for s in answerable if s.refused) / len(answerable) if answerable else None,
        "latency_p50_ms": percentile(latencies, 50),
        "latency_p95_ms": percentile(latencies, 95),
    }


def summarize(scores: Sequence[CaseScore]) -> dict[str, Any]:
    """``{"overall": metrics, "category": {name: metrics}}`` (categories in first-seen order)."""
    categories = list(dict.fromkeys(s.category for s in scores))
    return {
        "overall": aggregate(scores),
        "category": {c: aggregate([s for s in scores if s.category == c]) for c in categories},
    }


# --- retrieval alone -----------------------------------------------------------------------


def ranking_metrics(rankings: Sequence[Sequence[int]], relevant: Sequence[Collection[int]]) -> dict[str, float | int | None]:
    """hit@1, hit@3 and MRR: a query hits when any relevant task is ranked; MRR uses the first one found.

    Same definitions as llama-index's ``HitRate`` and ``MRR`` retrieval metrics.
    """
    hit1 = hit3 = rr = 0.0
    for ranked, wanted in zip(rankings, relevant, strict=True):
        rank = next((i for i, n in enumerate(ranked, start=1) if n in wanted), None)
        if rank is not None:
            hit1 += rank == 1
            hit3 += rank <= 3
            rr += 1 / rank
    n = len(rankings)
    return {"n": n, "hit_at_1": hit1 / n if n else None, "hit_at_3": hit3 / n if n else None, "mrr": rr / n if n else None}


def retrieval_cases(cases: Sequence[Case]) -> list[Case]:
    """Answerable single-turn topic questions: the ones retrieval alone could answer."""
    structural = {"task", "section", "part", "unit"}
    return [
        c
        for c in cases
        if c.answerable and not c.turns and c.category not in STRUCTURAL and not (c.target and structural & set(c.target))
    ]


def _task_number(item: Any) -> int:
    task = item[0] if isinstance(item, tuple) else getattr(item, "task", item)
    number = getattr(task, "n", task)
    if not isinstance(number, int):
        raise TypeError(f"not a task or task number: {item!r}")
    return number


def evaluate_retrieval(engine: Any, cases: Sequence[Case], k: int = RETRIEVAL_K) -> dict[str, dict[str, Any]]:
    """hit@1/hit@3/MRR for BM25 (``engine.lexical``), dense (``engine.dense``) and hybrid (``engine.search``)."""
    chosen = retrieval_cases(cases)
    methods: dict[str, Callable[[str, int], Sequence[Any]]] = {}
    for name, attr in (("bm25", "lexical"), ("dense", "dense"), ("hybrid", "search")):
        if callable(getattr(engine, attr, None)):
            methods[name] = getattr(engine, attr)
    report: dict[str, dict[str, Any]] = {}
    for name, method in methods.items():
        rankings = []
        for case in chosen:
            try:
                rankings.append([_task_number(item) for item in method(case.question, k)])
            except AssistantError:
                rankings.append([])
        report[name] = ranking_metrics(rankings, [set(c.expected_tasks) for c in chosen])
    return report


# --- drafts --------------------------------------------------------------------------------


@dataclass(frozen=True)
class ClauseScore:
    text: str
    expected: tuple[int, ...]
    suggested: tuple[int, ...]


@dataclass(frozen=True)
class DraftScore:
    """A draft's labelled clauses with the tasks suggested for each; ``stray`` are tasks suggested for
    text that matches no labelled clause (counted as wrong suggestions)."""

    id: str
    clauses: tuple[ClauseScore, ...]
    stray: tuple[int, ...] = ()
    latency_ms: float | None = None
    error: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def predicted_clauses(result: Any) -> list[tuple[str, list[int]]]:
    """``[(clause text, suggested task numbers)]`` from ``Assistant.cite(...)`` or its ``to_dict()``.

    Expects ``{"clauses": [{"text": str, "tasks": [int | {"task": int}, ...]}, ...]}``.
    """
    data: Mapping[str, Any] = result.to_dict() if hasattr(result, "to_dict") else result
    clauses = []
    for clause in data.get("clauses") or []:
        text = str(clause.get("text") or clause.get("clause") or "")
        numbers = []
        for item in clause.get("tasks") or []:
            n = item.get("task", item.get("n")) if isinstance(item, Mapping) else getattr(item, "task", item)
            n = getattr(n, "n", n)
            if isinstance(n, int) and n not in numbers:
                numbers.append(n)
        clauses.append((text, numbers))
    return clauses


def _span(draft: str, text: str, start: int) -> tuple[int, int] | None:
    text = text.strip()
    at = draft.find(text, start)
    if at < 0:
        at = draft.find(text)
    return (at, at + len(text)) if text and at >= 0 else None


def score_draft(
    case: DraftCase, predicted: Sequence[tuple[str, Sequence[int]]], latency_ms: float | None = None, error: str = ""
) -> DraftScore:
    """Assign each predicted clause to the labelled clause it overlaps most (by position in the draft, or by
    text similarity when its text is not verbatim in the draft) and collect the suggested tasks."""
    labelled: list[tuple[int, int]] = []
    cursor = 0
    for clause in case.clauses:
        found = _span(case.draft, clause.text, cursor) or (0, 0)
        labelled.append(found)
        cursor = found[1]
    suggested: list[list[int]] = [[] for _ in case.clauses]
    stray: list[int] = []
    cursor = 0
    for text, tasks in predicted:
        span = _span(case.draft, text, cursor)
        overlaps: list[float]
        if span is not None:
            cursor = span[1]
            overlaps = [float(max(0, min(span[1], b) - max(span[0], a))) for a, b in labelled]
        else:
            overlaps = [difflib.SequenceMatcher(None, text, c.text).ratio() for c in case.clauses]
            overlaps = [o if o >= 0.5 else 0.0 for o in overlaps]
        best = max(range(len(overlaps)), key=overlaps.__getitem__) if overlaps else -1
        target = suggested[best] if best >= 0 and overlaps[best] > 0 else stray
        target.extend(n for n in tasks if n not in target)
    clauses = tuple(ClauseScore(c.text, c.expected_tasks, tuple(s)) for c, s in zip(case.clauses, suggested, strict=True))
    return DraftScore(case.id, clauses, tuple(stray), latency_ms, error)


def aggregate_drafts(scores: Sequence[DraftScore]) -> dict[str, float | int | None]:
    """Clause-level precision/recall of suggested citations, no-citation accuracy for clauses labelled []."""
    clauses = [c for s in scores for c in s.clauses]
    right = sum(len(set(c.suggested) & set(c.expected)) for c in clauses)
    suggested = sum(len(set(c.suggested)) for c in clauses) + sum(len(s.stray) for s in scores)
    expected = sum(len(set(c.expected)) for c in clauses)
    empty = [c for c in clauses if not c.expected]
    latencies = [s.latency_ms for s in scores if s.latency_ms is not None]
    return {
        "drafts": len(scores),
        "clauses": len(clauses),
        "precision": right / suggested if suggested else None,
        "recall": right / expected if expected else None,
        "none_accuracy": sum(1 for c in empty if not c.suggested) / len(empty) if empty else None,
        "clause_accuracy": sum(1 for c in clauses if set(c.suggested) == set(c.expected)) / len(clauses) if clauses else None,
        "latency_p50_ms": percentile(latencies, 50),
        "latency_p95_ms": percentile(latencies, 95),
    }


# --- gate ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class GateFailure:
    metric: str  # dotted path, e.g. "category.who.accuracy"
    value: float | None
    threshold: float
    upper: bool  # True: the value must not exceed the threshold

    def __str__(self) -> str:
        if self.value is None:
            return f"{self.metric}: not measured (threshold {self.threshold:g})"
        sign = ">" if self.upper else "<"
        return f"{self.metric} = {self.value:.3f} {sign} {'max' if self.upper else 'min'} {self.threshold:g}"


def load_thresholds(path: str | Path = DEFAULT_THRESHOLDS) -> dict[str, Any]:
    try:
        with open(path, "rb") as handle:
            return tomllib.load(handle)
    except OSError as exc:
        raise AssistantError(f"无法读取阈值文件 {path}：{exc.strerror or exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise AssistantError(f"阈值文件 {path} 格式错误：{exc}") from None


def check_gate(report: Mapping[str, Any], thresholds: Mapping[str, Any], _path: str = "") -> list[GateFailure]:
    """Every metric below its threshold. Threshold tables mirror the report (``[overall]``,
    ``[category.who]``, ``[retrieval.hybrid]``, ``[drafts]``); a key ``<metric>_max`` is an upper bound,
    any other key a lower bound. A threshold whose metric was not measured fails; a top-level table
    whose part of the suite did not run at all (no ``drafts`` in the report) is skipped."""
    failures = []
    for key, limit in thresholds.items():
        path = f"{_path}.{key}" if _path else key
        optional = (not _path and key in {s.name for s in SUITES}) or key in ("drafts", "retrieval")
        if optional and isinstance(limit, Mapping) and key not in report:
            continue  # a suite, or a whole part of one, that did not run (no ../shared, drafts with --cases only)
        if isinstance(limit, Mapping):
            section = report.get(key) if isinstance(report, Mapping) else None
            failures += check_gate(section if isinstance(section, Mapping) else {}, limit, path)
            continue
        upper = key.endswith("_max")
        metric = key.removesuffix("_max")
        value = report.get(metric)
        value = value if isinstance(value, int | float) and not isinstance(value, bool) else None
        if value is None or (value > limit if upper else value < limit):
            failures.append(GateFailure(f"{_path}.{metric}" if _path else metric, value, float(limit), upper))
    return failures


# --- tables --------------------------------------------------------------------------------

_CASE_COLUMNS = [
    ("n", "n"), ("acc", "accuracy"), ("recall", "citation_recall"), ("prec", "citation_precision"),
    ("exact", "exact_set_accuracy"), ("units", "unit_match"), ("facts", "fact_presence"),
    ("refP", "refusal_precision"), ("refR", "refusal_recall"), ("falseRef", "false_refusal_rate"),
    ("p50ms", "latency_p50_ms"), ("p95ms", "latency_p95_ms"),
]  # fmt: skip


def _cell(value: Any, key: str) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.1f}" if key.endswith("_ms") else f"{value:.3f}"
    return str(value)


def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Left-aligned first column, right-aligned numbers, two spaces between columns."""
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths, strict=True)))

    return "\n".join([line(headers), line(["-" * w for w in widths]), *(line(r) for r in rows)])


def render(report: Mapping[str, Any]) -> str:
    """Plain-text tables: per category and overall; retrieval alone; drafts."""
    parts = []
    if "overall" in report:
        rows = [[name] + [_cell(m.get(k), k) for _, k in _CASE_COLUMNS] for name, m in report.get("category", {}).items()]
        rows.append(["OVERALL"] + [_cell(report["overall"].get(k), k) for _, k in _CASE_COLUMNS])
        parts.append("问答评测 (questions)\n" + table(["category"] + [h for h, _ in _CASE_COLUMNS], rows))
    if report.get("retrieval"):
        keys = ["n", "hit_at_1", "hit_at_3", "mrr"]
        rows = [[name] + [_cell(m.get(k), k) for k in keys] for name, m in report["retrieval"].items()]
        parts.append(
            f"检索单独评测 (retrieval alone, top {RETRIEVAL_K})\n" + table(["method", "n", "hit@1", "hit@3", "MRR"], rows)
        )
    if report.get("drafts"):
        keys = [
            "drafts",
            "clauses",
            "precision",
            "recall",
            "none_accuracy",
            "clause_accuracy",
            "latency_p50_ms",
            "latency_p95_ms",
        ]
        headers = ["drafts", "clauses", "prec", "recall", "noneAcc", "clauseAcc", "p50ms", "p95ms"]
        parts.append("草稿引用评测 (draft citations)\n" + table(headers, [[_cell(report["drafts"].get(k), k) for k in keys]]))
    return "\n\n".join(parts)


# --- running against the assistant ---------------------------------------------------------


def evaluate_cases(assistant: Any, cases: Sequence[Case]) -> list[CaseScore]:
    """Ask every case in its own conversation (earlier turns replayed first); time the final ask."""
    scores = []
    for case in cases:
        try:
            conversation = assistant.new_conversation()
            for turn in case.turns:
                assistant.ask(turn, conversation)
            started = time.perf_counter()
            answer = assistant.ask(case.question, conversation)
            latency = (time.perf_counter() - started) * 1000
        except Exception as exc:  # a crash is a failed case, not a failed run
            scores.append(score_case(case, {}, None, f"{type(exc).__name__}: {exc}"))
            continue
        scores.append(score_case(case, answer, latency))
    return scores


def evaluate_drafts(assistant: Any, drafts: Sequence[DraftCase]) -> list[DraftScore]:
    scores = []
    for draft in drafts:
        try:
            started = time.perf_counter()
            result = assistant.cite(draft.draft)
            latency = (time.perf_counter() - started) * 1000
        except Exception as exc:
            scores.append(score_draft(draft, [], None, f"{type(exc).__name__}: {exc}"))
            continue
        scores.append(score_draft(draft, predicted_clauses(result), latency))
    return scores


def _paths(files: Path | tuple[Path, ...] | None) -> list[Path]:
    """The files of a suite that exist."""
    paths = files if isinstance(files, tuple) else (files,) if files else ()
    return [p for p in paths if p.exists()]


def run_suite(assistant: Any, document: Any, suite: Suite) -> tuple[dict[str, Any], list[CaseScore], list[DraftScore]]:
    """Validate and run one suite: its questions (and retrieval alone, for dev) and its drafts."""
    cases = [c for path in _paths(suite.cases) for c in load_cases(path)]
    drafts = [d for path in _paths(suite.drafts) for d in load_drafts(path)]
    validate(document, cases, drafts, complete=suite.complete)
    case_scores = evaluate_cases(assistant, cases)
    report: dict[str, Any] = summarize(case_scores) if cases else {}
    engine = getattr(assistant, "search_engine", None)
    if cases and engine is not None and suite.name == "dev":
        report["retrieval"] = evaluate_retrieval(engine, cases)
    draft_scores = evaluate_drafts(assistant, drafts)
    if drafts:
        report["drafts"] = aggregate_drafts(draft_scores)
    return report, case_scores, draft_scores


def run(
    settings: Settings,
    suites: Sequence[Suite] = SUITES,
    json_out: str | Path | None = None,
    gate: bool = True,
    *,
    thresholds_path: str | Path = DEFAULT_THRESHOLDS,
    assistant: Any = None,
    out: TextIO | None = None,
) -> int:
    """Run the suites whose files exist, print their tables and the gate; 0 when every gated metric passes,
    1 when one fails, 2 when a case file is invalid. ``assistant`` may be injected (tests)."""
    out = out or sys.stdout
    document = load_corpus(settings.corpus)
    present = [s for s in suites if _paths(s.cases) or _paths(s.drafts)]
    for suite in suites:
        if suite not in present:
            print(f"（{suite.name}：找不到 {suite.cases}，跳过）", file=out)
    if assistant is None and any(not s.corpus for s in present):
        from .qa import Assistant

        assistant = Assistant.open(settings)
    report: dict[str, Any] = {}
    payload: dict[str, Any] = {"report": report, "cases": {}, "drafts": {}}
    for suite in present:
        try:
            if suite.corpus:  # its own plans, its own index
                from .qa import Assistant

                own = settings.with_(corpus=suite.corpus, index_dir=Path(settings.index_dir) / suite.name,
                                     embedding_cache=settings.embedding_cache
                                     or str(Path(settings.index_dir) / "embeddings-cache"))
                result, case_scores, draft_scores = run_suite(Assistant.open(own), load_corpus(own.corpus), suite)
            else:
                result, case_scores, draft_scores = run_suite(assistant, document, suite)
        except AssistantError as exc:
            print(str(exc), file=out)
            return 2
        report[suite.name] = result
        payload["cases"][suite.name] = [s.to_dict() for s in case_scores]
        payload["drafts"][suite.name] = [s.to_dict() for s in draft_scores]
        print(f"\n===== {suite.name} =====", file=out)
        print(render(result), file=out)
        failed = [s for s in case_scores if not s.correct]
        if failed:
            print(f"\n未通过的用例 (failed cases): {len(failed)}", file=out)
            if suite.show_failures:
                for s in failed:
                    print(f"  {s.id:<14} {s.question[:40]}  ->  {s.why}", file=out)
    failures = check_gate(report, load_thresholds(thresholds_path)) if gate else []
    if gate:
        print("\nGATE: " + ("PASS" if not failures else f"FAIL ({len(failures)})"), file=out)
        for failure in failures:
            print(f"  {failure}", file=out)
    if json_out:
        payload["gate"] = {"checked": gate, "passed": not failures, "failures": [str(f) for f in failures]}
        Path(json_out).write_text(json.dumps(payload, ensure_ascii=False, indent=2), encoding="utf-8")
    return 1 if failures else 0


def cmd_eval(settings: Settings, cases: str | None, drafts: str | None, json_out: str | None, gate: bool,
             only: str | None = None) -> int:
    """``python -m assistant eval [--suite dev|holdout|external|multi] [--cases F] [--drafts F] [--json OUT]
    [--no-gate]``.

    ``--cases``/``--drafts`` run those files alone, as one suite named ``custom`` (its gate: no thresholds)."""
    if cases or drafts:
        custom = Suite("custom", Path(cases) if cases else None, Path(drafts) if drafts else None, complete=False)
        return run(settings, [custom], json_out, gate)
    suites = [s for s in SUITES if only in (None, s.name)]
    if not suites:
        raise AssistantError(f"没有名为 {only} 的评测集（可选：{'、'.join(s.name for s in SUITES)}）")
    return run(settings, suites, json_out, gate)

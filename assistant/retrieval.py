"""Hybrid retrieval: dense (the Chroma index) + BM25 (jieba tokens), fused by reciprocal rank.

Both retrievers see every :class:`~assistant.views.Passage` of a task (its text, its sub-points and its
everyday-language views) and score the task by its best passage.

Reciprocal rank fusion: ``score(task) = Σ 1 / (RRF_K + rank)`` over the retrievers that *matched*
the query. Dense retrieval always ranks every task; BM25 votes only for tasks with a positive score,
and a query with no BM25 match at all gives BM25 no vote (an all-zero BM25 ranking is arbitrary and
would drag good dense hits down).

Dense search runs on an in-memory copy of the passage vectors read back from Chroma at open (a matrix
product: microseconds, versus ~1 ms for a Chroma HNSW query); Chroma stays the persisted source of
truth and :meth:`SearchEngine.dense_chroma` queries it directly.

Query expansion: :mod:`assistant.glossary` (shorthand such as 旧改 -> document phrases) and
:mod:`assistant.units` (abbreviations such as 人社局 -> canonical unit names) are appended to the query that
BM25 sees; the dense retriever embeds the query as written.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .corpus import Corpus, Plans
from .document import Task
from .embedding import Embedder, make_embedder
from .errors import InputError
from .glossary import Glossary
from .index import Progress, TaskIndex, open_index
from .lexical import LexicalIndex
from .settings import Settings
from .text import fold
from .units import Registry
from .views import Passage, load_views, passages, views_path

RRF_K = 60
QUERY_CACHE = 1024  # query vectors (384 floats each: 1.5 MB), BM25 and dense score arrays remembered


def _read_only(scores: np.ndarray) -> np.ndarray:
    """``scores``, marked read-only: a remembered array is shared by every caller."""
    scores.flags.writeable = False
    return scores


@dataclass(frozen=True)
class Hit:
    """One ranked task with the evidence for its rank (ranks are 1-based)."""

    task: Task
    score: float
    dense_rank: int | None
    dense_score: float | None
    bm25_rank: int | None
    bm25_score: float | None

    def to_dict(self) -> dict[str, object]:
        return {
            **self.task.to_dict(),
            "score": round(self.score, 6),
            "dense_rank": self.dense_rank,
            "dense_score": None if self.dense_score is None else round(self.dense_score, 6),
            "bm25_rank": self.bm25_rank,
            "bm25_score": None if self.bm25_score is None else round(self.bm25_score, 6),
        }


def rrf(rankings: list[list[int]], k: int = RRF_K) -> dict[int, float]:
    """Reciprocal rank fusion of rankings (lists of ids, best first); empty rankings do not vote."""
    fused: dict[int, float] = {}
    for ranking in rankings:
        for rank, item in enumerate(ranking, start=1):
            fused[item] = fused.get(item, 0.0) + 1.0 / (k + rank)
    return fused


def load_expander(document: Plans) -> Callable[[str], list[str]]:
    """Query expansion: the document's phrases for topic shorthand (glossary; not for words the document
    itself uses) and canonical names for unit abbreviations (registry), appended for both retrievers."""
    glossary = Glossary.load()
    registry = Registry.load()
    known = fold("\n".join(t.text for t in document.tasks))

    def expand(text: str) -> list[str]:
        out: list[str] = []
        for x in [*glossary.expand(text, known), *registry.units_in(text)]:
            if x and x not in out and x not in text:
                out.append(x)
        return out

    return expand


class SearchEngine:
    """Dense + BM25 search over one document's tasks."""

    def __init__(
        self,
        document: Plans,
        embedder: Embedder,
        index: TaskIndex,
        lexical: LexicalIndex,
        expander: Callable[[str], list[str]] | None = None,
    ) -> None:
        self.document = document
        self.passages: tuple[Passage, ...] = index.passages
        self.embedder = embedder
        self.index = index
        self._lexical = lexical
        self.expander = expander
        self._tasks = document.tasks
        self._by_n = {t.uid: t for t in document.tasks}
        self._query_cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._bm25_cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._dense_cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._cache_lock = threading.Lock()

    @classmethod
    def open(
        cls,
        settings: Settings,
        document: Plans,
        embedder: Embedder | None = None,
        progress: Progress | None = None,
        rebuild: bool = False,
        expand: bool = True,
    ) -> SearchEngine:
        """Load the index (building or rebuilding it when needed) and the BM25 index, both over the
        document's passages including the everyday views beside it (:func:`assistant.views.views_path`)."""
        embedder = embedder or make_embedder(settings.embedder)
        corpus = document if isinstance(document, Corpus) else Corpus.of(document)
        views: dict[int, tuple[str, ...]] = {}
        for plan in corpus.documents:
            if plan.source:
                views |= load_views(views_path(plan.source), plan)
        items = passages(corpus, views)
        index = open_index(settings, document, embedder, progress=progress, rebuild=rebuild, items=items)
        lexical = LexicalIndex.from_document(document, [p.text for p in items], index.owner.tolist())
        return cls(document, embedder, index, lexical, load_expander(document) if expand else None)

    # -- the two retrievers --------------------------------------------------------------------

    def expanded(self, query: str) -> str:
        """The query with glossary/unit expansions appended (unchanged without an expander)."""
        if self.expander is None:
            return query
        extra = self.expander(query)
        return " ".join([query, *extra]) if extra else query

    def _bm25(self, query: str) -> np.ndarray:
        """BM25 of every task for the query with its expansions (read-only); the last :data:`QUERY_CACHE` distinct
        queries are remembered (a question about several topics searches each part more than once)."""
        return self._remembered(self._bm25_cache, query, lambda: _read_only(self._lexical.scores(self.expanded(query))))

    def embed_query(self, query: str) -> np.ndarray:
        """The query's vector; the last :data:`QUERY_CACHE` distinct queries are remembered (a question and
        its follow-ups, or one asked again, cost one embedding)."""
        return self._remembered(self._query_cache, query, lambda: self.embedder.embed_queries([query])[0])

    def _remembered(self, cache: OrderedDict[str, np.ndarray], query: str,
                    compute: Callable[[], np.ndarray]) -> np.ndarray:
        """``cache[query]``, computed outside the lock on a miss; the least recently used beyond QUERY_CACHE go."""
        with self._cache_lock:
            value = cache.get(query)
            if value is not None:
                cache.move_to_end(query)
                return value
        value = compute()
        with self._cache_lock:
            cache[query] = value
            while len(cache) > QUERY_CACHE:
                cache.popitem(last=False)
        return value

    def clear_cache(self) -> None:
        """Forget the cached query vectors and scores (benchmarks time questions as if first asked)."""
        with self._cache_lock:
            self._query_cache.clear()
            self._bm25_cache.clear()
            self._dense_cache.clear()

    def _dense_scores(self, query: str) -> np.ndarray:
        """Each task's cosine for the query (read-only), remembered like its vector: a web app answering an office
        spends ~5% of its CPU on this product otherwise."""
        return self._remembered(self._dense_cache, query, lambda: _read_only(self.dense_scores(self.embed_query(query))))

    def dense_scores(self, vectors: np.ndarray) -> np.ndarray:
        """Cosine of each task's best passage, for one query vector (or each row of a matrix)."""
        return self.index.task_scores(np.asarray(vectors) @ self.index.matrix.T)

    def dense(self, query: str, k: int) -> list[tuple[Task, float]]:
        """Top ``k`` tasks by cosine similarity to the query."""
        scores = self._dense_scores(_check(query))
        order = np.argsort(-scores, kind="stable")[:k]
        return [(self._tasks[i], float(scores[i])) for i in order]

    def dense_chroma(self, query: str, k: int) -> list[tuple[Task, float]]:
        """Like :meth:`dense`, but answered by Chroma's own vector index."""
        hits = self.index.query_chroma(self.embed_query(_check(query)), k)
        return [(self._by_n[n], score) for n, score in hits]

    def lexical(self, query: str, k: int) -> list[tuple[Task, float]]:
        """Top ``k`` tasks by BM25 score; only tasks that match at least one query token."""
        return self._lexical.search(self.expanded(_check(query)), k)

    # -- fusion ---------------------------------------------------------------------------------

    def probe(self, query: str, embed: bool = True) -> Probe:
        """Every task's evidence for ``query``: BM25 of the query with its expansions, and (unless ``embed`` is
        False) dense of the query as written: appended expansions blur what the embedding sees (measured on
        report clauses: dense hit@1 0.88 expanded vs 0.97 as written)."""
        query = _check(query)
        bm25 = self._bm25(query)
        dense = self._dense_scores(query) if embed else None
        return Probe(self._tasks, bm25, dense)

    def with_dense(self, probe: Probe, query: str) -> Probe:
        """``probe`` (of ``query``) with the dense evidence added (embeds the query unless it already was)."""
        if probe.dense is not None:
            return probe
        return Probe(probe.tasks, probe.bm25, self._dense_scores(_check(query)))

    def search(self, query: str, k: int = 5, decisive: float | None = None) -> list[Hit]:
        """Top ``k`` tasks by reciprocal rank fusion of dense and BM25 rankings.

        With ``decisive``, when BM25's best score is at least ``decisive`` times its second best, the
        BM25 ranking is returned alone and the query is never embedded (the embedding is ~95% of the
        cost of a search); such hits carry no dense rank or score.
        """
        probe = self.probe(query, embed=False)
        if not (decisive and probe.bm25_decisive(decisive)):
            probe = Probe(self._tasks, probe.bm25, self._dense_scores(query.strip()))
        return probe.hits(k)


@dataclass(frozen=True)
class Probe:
    """What both retrievers say about every task for one query (arrays in document order).

    ``dense`` is the cosine of each task's best passage (None when the query was not embedded),
    ``bm25`` the BM25 score of its best passage (0 where no query token occurs).
    """

    tasks: tuple[Task, ...]
    bm25: np.ndarray
    dense: np.ndarray | None

    def bm25_order(self) -> list[int]:
        return [int(i) for i in np.argsort(-self.bm25, kind="stable") if self.bm25[i] > 0]

    def dense_order(self) -> list[int]:
        return [] if self.dense is None else [int(i) for i in np.argsort(-self.dense, kind="stable")]

    def bm25_decisive(self, ratio: float) -> bool:
        """BM25's best task scores at least ``ratio`` times its second."""
        order = self.bm25_order()
        if not order:
            return False
        second = float(self.bm25[order[1]]) if len(order) > 1 else 0.0
        return float(self.bm25[order[0]]) >= ratio * second

    def hits(self, k: int) -> list[Hit]:
        """Top ``k`` tasks by reciprocal rank fusion (BM25 alone when the query was not embedded)."""
        bm25_order, dense_order = self.bm25_order(), self.dense_order()
        bm25_rank = {i: r for r, i in enumerate(bm25_order, start=1)}
        if self.dense is None:
            return [Hit(self.tasks[i], 1.0 / (RRF_K + r), None, None, r, float(self.bm25[i]))
                    for r, i in enumerate(bm25_order[:k], start=1)]
        fused = rrf([dense_order, bm25_order])
        dense_rank = {i: r for r, i in enumerate(dense_order, start=1)}
        best = sorted(fused, key=lambda i: (-fused[i], dense_rank.get(i, 10**6)))[:k]
        return [
            Hit(
                task=self.tasks[i],
                score=fused[i],
                dense_rank=dense_rank.get(i),
                dense_score=float(self.dense[i]),
                bm25_rank=bm25_rank.get(i),
                bm25_score=float(self.bm25[i]) if i in bm25_rank else None,
            )
            for i in best
        ]


def _check(query: str) -> str:
    query = query.strip()
    if not query:
        raise InputError("问题为空：请输入要查找的内容")
    return query

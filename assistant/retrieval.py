"""Hybrid retrieval: dense (the Chroma index) + BM25 (jieba tokens), fused by reciprocal rank.

Reciprocal rank fusion: ``score(task) = Σ 1 / (RRF_K + rank)`` over the retrievers that *matched*
the query. Dense retrieval always ranks every task; BM25 votes only for tasks with a positive score,
and a query with no BM25 match at all gives BM25 no vote (an all-zero BM25 ranking is arbitrary and
would drag good dense hits down).

Dense search runs on an in-memory copy of the 85 vectors read back from Chroma at open (a matrix
product: microseconds, versus ~1 ms for a Chroma HNSW query); Chroma stays the persisted source of
truth and :meth:`SearchEngine.dense_chroma` queries it directly.

Optional query expansion: when :mod:`assistant.glossary` (shorthand such as 旧改 -> document phrases)
and :mod:`assistant.units` (abbreviations such as 人社局 -> canonical unit names) are present, their
expansions are appended to the query before both retrievers see it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .document import Document, Task
from .embedding import Embedder, make_embedder
from .errors import InputError
from .glossary import Glossary
from .index import Progress, TaskIndex, open_index
from .lexical import LexicalIndex
from .settings import Settings
from .units import Registry

RRF_K = 60


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


def load_expander() -> Callable[[str], list[str]]:
    """Query expansion: the document's phrases for topic shorthand (glossary) and canonical names for
    unit abbreviations (registry), appended to the query for both retrievers."""
    glossary = Glossary.load()
    registry = Registry.load()

    def expand(text: str) -> list[str]:
        out: list[str] = []
        for x in [*glossary.expand(text), *registry.units_in(text)]:
            if x and x not in out and x not in text:
                out.append(x)
        return out

    return expand


class SearchEngine:
    """Dense + BM25 search over one document's tasks."""

    def __init__(
        self,
        document: Document,
        embedder: Embedder,
        index: TaskIndex,
        lexical: LexicalIndex,
        expander: Callable[[str], list[str]] | None = None,
    ) -> None:
        self.document = document
        self.embedder = embedder
        self.index = index
        self._lexical = lexical
        self.expander = expander
        self._tasks = document.tasks
        self._by_n = {t.n: t for t in document.tasks}

    @classmethod
    def open(
        cls,
        settings: Settings,
        document: Document,
        embedder: Embedder | None = None,
        progress: Progress | None = None,
        rebuild: bool = False,
        expand: bool = True,
    ) -> SearchEngine:
        """Load the index (building or rebuilding it when needed) and the BM25 index."""
        embedder = embedder or make_embedder(settings.embedder)
        index = open_index(settings, document, embedder, progress=progress, rebuild=rebuild)
        lexical = LexicalIndex.from_document(document)
        return cls(document, embedder, index, lexical, load_expander() if expand else None)

    # -- the two retrievers --------------------------------------------------------------------

    def expanded(self, query: str) -> str:
        """The query with glossary/unit expansions appended (unchanged without an expander)."""
        if self.expander is None:
            return query
        extra = self.expander(query)
        return " ".join([query, *extra]) if extra else query

    def embed_query(self, query: str) -> np.ndarray:
        return self.embedder.embed_queries([query])[0]

    def _dense_scores(self, query: str) -> np.ndarray:
        return self.index.matrix @ self.embed_query(query)

    def dense(self, query: str, k: int) -> list[tuple[Task, float]]:
        """Top ``k`` tasks by cosine similarity to the (expanded) query."""
        scores = self._dense_scores(self.expanded(_check(query)))
        order = np.argsort(-scores, kind="stable")[:k]
        return [(self._tasks[i], float(scores[i])) for i in order]

    def dense_chroma(self, query: str, k: int) -> list[tuple[Task, float]]:
        """Like :meth:`dense`, but answered by Chroma's own vector index."""
        hits = self.index.query_chroma(self.embed_query(self.expanded(_check(query))), k)
        return [(self._by_n[n], score) for n, score in hits]

    def lexical(self, query: str, k: int) -> list[tuple[Task, float]]:
        """Top ``k`` tasks by BM25 score; only tasks that match at least one query token."""
        return self._lexical.search(self.expanded(_check(query)), k)

    # -- fusion ---------------------------------------------------------------------------------

    def search(self, query: str, k: int = 5, decisive: float | None = None) -> list[Hit]:
        """Top ``k`` tasks by reciprocal rank fusion of dense and BM25 rankings.

        With ``decisive``, when BM25's best score is at least ``decisive`` times its second best, the
        BM25 ranking is returned alone and the query is never embedded (the embedding is ~95% of the
        cost of a search); such hits carry no dense rank or score.
        """
        text = self.expanded(_check(query))
        bm25_scores = self._lexical.scores(text)
        bm25_order = [int(i) for i in np.argsort(-bm25_scores, kind="stable") if bm25_scores[i] > 0]
        if decisive and bm25_order:
            second = float(bm25_scores[bm25_order[1]]) if len(bm25_order) > 1 else 0.0
            if float(bm25_scores[bm25_order[0]]) >= decisive * second:
                return [
                    Hit(self._tasks[i], 1.0 / (RRF_K + r), None, None, r, float(bm25_scores[i]))
                    for r, i in enumerate(bm25_order[:k], start=1)
                ]
        dense_scores = self._dense_scores(text)
        dense_order = [int(i) for i in np.argsort(-dense_scores, kind="stable")]
        fused = rrf([dense_order, bm25_order])
        dense_rank = {i: r for r, i in enumerate(dense_order, start=1)}
        bm25_rank = {i: r for r, i in enumerate(bm25_order, start=1)}
        best = sorted(fused, key=lambda i: (-fused[i], dense_rank.get(i, 10**6)))[:k]
        return [
            Hit(
                task=self._tasks[i],
                score=fused[i],
                dense_rank=dense_rank.get(i),
                dense_score=float(dense_scores[i]) if i in dense_rank else None,
                bm25_rank=bm25_rank.get(i),
                bm25_score=float(bm25_scores[i]) if i in bm25_rank else None,
            )
            for i in best
        ]


def _check(query: str) -> str:
    query = query.strip()
    if not query:
        raise InputError("问题为空：请输入要查找的内容")
    return query

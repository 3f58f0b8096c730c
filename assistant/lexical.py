"""Lexical search: BM25 (bm25s) over jieba tokens of ``fold()``-ed text.

Tasks and questions are tokenised the same way: :func:`assistant.text.clean` (OCR spaces inside
Chinese removed), :func:`assistant.text.fold` per word (NFKC, lower case), then jieba in search
mode (long words plus their shorter dictionary words), minus punctuation and a handful of function
words. The document's own vocabulary — every unit name and
every quoted term (“一网通办”) — is added to a private jieba dictionary so that 责任单位 names stay
whole tokens. Single Chinese characters are dropped: they match almost everything.

The index is built in memory from the parsed :class:`Document` (85 tasks: a few milliseconds); the
jieba dictionary loads once per process (~0.6 s), on first use.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Sequence

import numpy as np

from .corpus import Plans
from .document import Task
from .text import clean, fold

_STOPWORDS_TEXT = """
的 了 和 与 及 等 在 对 为 是 有 哪 哪个 哪些 什么 怎么 怎样 如何 吗 呢 吧 啊 个 项 条 这 那
谁 负责 牵头 我 我们 你 请问 一下 关于 有关 相关 方面 工作 要求 任务 推进 推动 加快 加强
进一步 是否 多少 of the a an and or to in for is what who which how
"""
STOPWORDS = frozenset(_STOPWORDS_TEXT.split())
_TOKEN_OK = re.compile(r"[0-9a-z\u4e00-\u9fff]")
_QUOTED = re.compile(r"[“\"「『]([^”\"」』]{2,20})[”\"」』]")

_lock = threading.Lock()
_tokenizer = None
_added: set[str] = set()


def _jieba():
    """The process-wide private jieba tokenizer (dictionary loaded on first use)."""
    global _tokenizer
    with _lock:
        if _tokenizer is None:
            import logging

            import jieba

            jieba.setLogLevel(logging.WARNING)
            tokenizer = jieba.Tokenizer()
            tokenizer.initialize()
            _tokenizer = tokenizer
        return _tokenizer


_pos_tokenizer = None


def proper_nouns(text: str) -> list[str]:
    """Words jieba's part-of-speech tagger takes for names of places, people or organisations (ns, nr,
    nt, nz): in a report clause mostly local detail (朱家角, 曹杨, 花桥). Uses the same private dictionary."""
    global _pos_tokenizer
    tokenizer = _jieba()
    with _lock:
        if _pos_tokenizer is None:
            import jieba.posseg

            _pos_tokenizer = jieba.posseg.POSTokenizer(tokenizer)
        pos = _pos_tokenizer
    return [w for w, flag in pos.cut(text) if flag in ("ns", "nr", "nt", "nz", "nrt", "nrfg") and len(w) > 1]


def add_words(words: Iterable[str]) -> None:
    """Teach the tokenizer whole words (unit names, document terms); folded like all text."""
    tokenizer = _jieba()
    with _lock:
        for word in words:
            folded = fold(word)
            if len(folded) >= 2 and folded not in _added:
                tokenizer.add_word(folded, freq=200000)
                _added.add(folded)


def document_terms(document: Plans) -> list[str]:
    """Words the tokenizer should keep whole: unit names, their short forms and quoted terms."""
    terms: list[str] = []
    for unit in document.units():
        terms.append(unit)
        if unit.startswith("市") and len(unit) > 3:
            terms.append(unit[1:])  # 住房城乡建设管理委 as well as 市住房城乡建设管理委
    for task in document.tasks:
        terms.extend(_QUOTED.findall(task.text))
    return terms


def tokenize(text: str) -> list[str]:
    """Search tokens of ``text`` (see module docstring)."""
    tokens = []
    # clean() drops OCR spaces inside Chinese but keeps those between ASCII words, so English
    # words are not glued together by fold().
    for chunk in clean(text).split():
        for token in _jieba().cut_for_search(fold(chunk), HMM=True):
            if token in STOPWORDS or not _TOKEN_OK.search(token):
                continue
            if len(token) == 1 and not token.isascii():
                continue
            tokens.append(token)
    return tokens


def task_text(task: Task) -> str:
    """The text BM25 indexes for a task: section title, task text and its units."""
    heading = task.section or task.part  # a plan may have no sections, or neither
    return f"{heading.title if heading else ''}\n{task.text}\n责任单位：{'、'.join(task.units)}".lstrip("\n")


class LexicalIndex:
    """BM25 over the passages of one document's tasks; a task scores by its best passage.

    ``texts``/``owner``: the passages and the task position each belongs to (grouped by task, in
    order). Without them every task is one passage, :func:`task_text`.
    """

    def __init__(self, tasks: Sequence[Task], texts: Sequence[str] | None = None, owner: Sequence[int] | None = None) -> None:
        import bm25s

        self.tasks = tuple(tasks)
        if texts is None:
            texts, owner = [task_text(t) for t in tasks], list(range(len(tasks)))
        owner = list(owner) if owner is not None else list(range(len(texts)))
        if len(owner) != len(texts) or sorted(set(owner)) != list(range(len(self.tasks))) or owner != sorted(owner):
            raise ValueError("passages must be grouped by task, every task with at least one passage")
        self._starts = np.flatnonzero(np.r_[True, np.diff(np.asarray(owner)) != 0])
        corpus = [tokenize(t) for t in texts]
        self._size = len(corpus)
        self._bm25 = bm25s.BM25()
        self._bm25.index(corpus, show_progress=False)

    @classmethod
    def from_document(cls, document: Plans, texts: Sequence[str] | None = None,
                      owner: Sequence[int] | None = None) -> LexicalIndex:
        add_words(document_terms(document))
        return cls(document.tasks, texts, owner)

    def passage_scores(self, query: str) -> np.ndarray:
        """BM25 score of every passage (0 where no query token occurs)."""
        tokens = tokenize(query)
        if not tokens:
            return np.zeros(self._size, dtype=np.float32)
        return np.asarray(self._bm25.get_scores(tokens), dtype=np.float32)

    def scores(self, query: str) -> np.ndarray:
        """BM25 score of every task: its best passage's (0 where no query token occurs)."""
        return np.maximum.reduceat(self.passage_scores(query), self._starts)

    def search(self, query: str, k: int) -> list[tuple[Task, float]]:
        """Top ``k`` tasks with a positive score, best first (ties keep document order)."""
        scores = self.scores(query)
        order = np.argsort(-scores, kind="stable")[:k]
        return [(self.tasks[i], float(scores[i])) for i in order if scores[i] > 0]

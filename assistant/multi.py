"""Several topics in one question: "A和B分别由谁负责？", "A要多少？B哪年完成？".

:func:`split_topics` returns the sub-questions to answer one by one (or [] for a question about one
topic). A question is split when

* it has two or more sentences (？。；) that each carry topic words of their own, or
* it asks 分别 / 各 / 这两件事 / respectively …: its comma pieces that carry topic words are the topics
  (further cut at 和/与/以及/跟 where both sides carry topic words), and the pieces without topic words
  ("这两件事分别由谁负责") are the shared question, appended to each topic;

and only when the pieces find different best tasks (two phrasings of one task are one topic).
"""

from __future__ import annotations

import re
from typing import Protocol

from .understanding import is_english, topic_words

_SEVERAL = re.compile(
    r"分别|各自|各有|各定|各要|各是|各需|各由|各为|各占|两件事|三件事|两项|三项|这两|这三|两个方面|"
    r"\b(?:respectively|both|each of)\b",
    re.I,
)
_SENTENCES = re.compile(r"[？?。；;！!]")
_COMMAS = re.compile(r"[，,]")
_JOINERS = re.compile(r"以及|和|与|跟|及|同|\band\b|&", re.I)
MAX_TOPICS = 4
DECISIVE = 1.5  # a part whose best BM25 task scores this many times the second is not embedded to compare


class _Searcher(Protocol):
    def search(self, query: str, k: int = 5, decisive: float | None = None) -> list: ...


def split_topics(question: str, engine: _Searcher) -> list[str]:
    """The sub-questions of a question about several topics, or [] when it is about one."""
    english = is_english(question)
    if _SEVERAL.search(question):
        parts = _shared_question(question, english)
    else:
        parts = [s.strip() for s in _SENTENCES.split(question) if _has_topic(s, english)]
    if not 2 <= len(parts) <= MAX_TOPICS:
        return []
    tops = []
    for part in parts:
        hits = engine.search(part, k=1, decisive=DECISIVE)
        tops.append(hits[0].task.n if hits else None)
    return parts if len(set(tops)) == len(tops) else []


def _has_topic(text: str, english: bool) -> bool:
    return bool(topic_words(text, english))


def _shared_question(question: str, english: bool) -> list[str]:
    """Topics of "A，和B，分别…" with the shared question appended to each."""
    sentence = max(_SENTENCES.split(question), key=lambda s: len(topic_words(s, english)))
    pieces = [p.strip() for p in _COMMAS.split(sentence) if p.strip()]
    topics, asks = [], []
    for piece in pieces:
        if not _has_topic(piece, english) or (_SEVERAL.search(piece) and len(topic_words(piece, english)) <= 1):
            asks.append(piece)
            continue
        sides = [s.strip() for s in _JOINERS.split(piece) if s.strip()]
        if len(sides) > 1 and all(_has_topic(s, english) for s in sides):
            topics.extend(sides)
        else:
            topics.append(piece)
    ask = "，".join(asks) or "分别是什么"
    rest = [s.strip() for s in _SENTENCES.split(question) if s.strip() and s.strip() != sentence.strip()]
    return [f"{t}，{ask}" for t in topics] + [r for r in rest if _has_topic(r, english)]

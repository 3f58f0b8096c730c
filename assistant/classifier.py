"""Which task a report clause serves, learned from labelled clauses: evidence that survives paraphrase.

Retrieval compares a clause with what the plan and its views say; report language often says it otherwise
(加装电梯 for 全龄友好, 娃娃入读一年级 for 随迁子女义务教育). :class:`TaskClassifier` is a multinomial logistic
regression over TF-IDF weighted character 1-3-grams of the clause (:func:`~assistant.refusal.ngrams`, the
same reading as the ``kind`` classifier), fitted by ``fitting/fit_drafts.py`` on every passage of the reference
plan (its text, sub-points and everyday views) and on the labelled report clauses of ``evals/``. Its
probability for a candidate task is one piece of the draft decision's evidence (``clf``, ``clf_rank`` in
:mod:`assistant.drafts`); its best task is also always a candidate.

Parameters live in :file:`data/drafts-classifier.json`: the task ids it knows (``classes``), their intercepts,
each gram's inverse document frequency (every gram counts towards a clause's length) and its weights (weights
under ``PRUNE`` in magnitude are left out, which moves no probability by more than a few hundredths). A plan it
was not fitted on has no classifier evidence: its tasks are decided without it.
"""

from __future__ import annotations

import functools
import json
import math
from collections import Counter
from collections.abc import Mapping, Sequence
from importlib import resources
from typing import Any

import numpy as np

from .errors import RegistryError
from .refusal import ngrams

MODEL_FILE = "drafts-classifier.json"
PRUNE = 0.1  # weights smaller than this in magnitude are not stored

__all__ = ["MODEL_FILE", "PRUNE", "TaskClassifier"]


class TaskClassifier:
    """P(task | clause) over the task ids of the plan it was fitted on. Read-only: share across threads."""

    def __init__(self, params: Mapping[str, Any]) -> None:
        self.classes: tuple[int, ...] = tuple(int(c) for c in params["classes"])
        self.intercept = np.asarray(params["intercept"], dtype=float)
        self.idf: Mapping[str, float] = params["idf"]
        # gram -> (class positions, weights)
        self.weights: dict[str, tuple[np.ndarray, np.ndarray]] = {
            g: (np.asarray(pos, dtype=np.int32), np.asarray(w, dtype=float)) for g, (pos, w) in params["weights"].items()
        }

    @classmethod
    def load(cls) -> TaskClassifier | None:
        """The shipped classifier, or None when the package has none."""
        return _default()

    def probabilities(self, text: str) -> np.ndarray:
        """P over :attr:`classes` for ``text`` (as the clause reads after :func:`~assistant.clauses.plain`)."""
        counts = Counter(g for g in ngrams(text) if g in self.idf)
        if not counts:
            return np.full(len(self.classes), 1.0 / len(self.classes))
        # sklearn's TfidfVectorizer(sublinear_tf=True, norm="l2"): (1 + log tf) * idf, unit length
        values = {g: (1.0 + math.log(n)) * float(self.idf[g]) for g, n in counts.items()}
        norm = math.sqrt(sum(v * v for v in values.values()))
        scores = self.intercept.copy()
        for g, v in values.items():
            found = self.weights.get(g)
            if found is not None:
                scores[found[0]] += found[1] * (v / norm)
        scores -= scores.max()
        p = np.exp(scores)
        return p / p.sum()

    @staticmethod
    def params(classes: Sequence[int], intercept: Sequence[float], vocabulary: Mapping[str, int],
               idf: Sequence[float], coef: np.ndarray) -> dict[str, Any]:
        """The parameters to store, from a fitted TfidfVectorizer (``vocabulary``, ``idf``) and multinomial
        LogisticRegression (``classes``, ``intercept``, ``coef`` classes x grams); weights under PRUNE dropped."""
        weights = {}
        for gram, j in vocabulary.items():
            column = coef[:, j]
            keep = np.flatnonzero(np.abs(column) >= PRUNE)
            if len(keep):
                weights[gram] = [keep.tolist(), [round(float(w), 4) for w in column[keep]]]
        return {"classes": [int(c) for c in classes], "intercept": [round(float(b), 5) for b in intercept],
                "idf": {g: round(float(idf[j]), 4) for g, j in vocabulary.items()}, "weights": weights}


@functools.cache
def _default() -> TaskClassifier | None:
    resource = resources.files("assistant") / "data" / MODEL_FILE
    if not resource.is_file():
        return None
    try:
        return TaskClassifier(json.loads(resource.read_text(encoding="utf-8")))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise RegistryError(f"草稿引用分类器参数 {MODEL_FILE} 无法读取：{exc}") from None

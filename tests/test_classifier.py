"""The task classifier of draft citations (assistant/classifier.py) and how the decision uses it."""

from __future__ import annotations

import numpy as np
import pytest


def test_probabilities_are_scikit_learns_when_nothing_is_pruned(monkeypatch):
    """The runtime reading (TF-IDF, unit length, weights, softmax) gives what the fitted pipeline gives."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    from assistant import classifier
    from assistant.classifier import TaskClassifier
    from assistant.refusal import ngrams

    texts = ["老公房加装电梯方便老人上下楼", "给老人装电梯", "外地孩子进公办学校读书", "学校扩招学位给外来娃娃",
             "公交车换成纯电动车", "电动大巴替换柴油公交", "老人食堂助餐点", "孩子入学报名"]
    labels = [26, 26, 13, 13, 38, 38, 26, 13]
    model = make_pipeline(TfidfVectorizer(analyzer=ngrams, sublinear_tf=True),
                          LogisticRegression(C=10, max_iter=1000)).fit(texts, labels)
    vectorizer, lr = model.steps[0][1], model.steps[1][1]
    monkeypatch.setattr(classifier, "PRUNE", 0.0)
    ours = TaskClassifier(TaskClassifier.params(lr.classes_, lr.intercept_, vectorizer.vocabulary_, vectorizer.idf_,
                                                lr.coef_))
    for query in ("小区装电梯", "电动公交车 2辆", "娃娃上学", "完全无关的句子"):
        assert ours.probabilities(query) == pytest.approx(model.predict_proba([query])[0], abs=1e-3)
    assert ours.classes == (13, 26, 38)


def test_the_shipped_classifier_knows_every_task_of_the_plan(assistant):
    from assistant.classifier import TaskClassifier

    shipped = TaskClassifier.load()
    assert shipped is not None
    assert shipped.classes == tuple(t.uid for t in assistant.document.tasks)
    p = shipped.probabilities("既有多层住宅加装电梯")
    assert p.sum() == pytest.approx(1.0) and (p >= 0).all()


def test_the_classifiers_best_task_is_always_a_candidate(assistant):
    """Retrieval may rank the task a clause serves low; the classifier's best one is weighed all the same."""
    from dataclasses import replace

    from assistant.drafts import CANDIDATES, DraftCiter

    citer = DraftCiter(assistant.search_engine, assistant.document, assistant.vocabulary, assistant.glossary)
    clause = citer.prepare("推进海绵城市建设", None)
    plain = citer.candidates(clause)
    assert len(plain) == CANDIDATES and all("clf" not in c.values for c in plain)
    far = next(t for t in assistant.document.tasks if t.uid not in {c.task for c in plain})
    learned = np.full(len(assistant.document.tasks), 0.001)
    learned[[t.uid for t in assistant.document.tasks].index(far.uid)] = 0.9
    with_learned = citer.candidates(replace(clause, learned=learned))
    assert [c.task for c in with_learned[:CANDIDATES]] == [c.task for c in plain]
    extra = with_learned[-1]
    assert extra.task == far.uid and extra.values["rank"] == CANDIDATES + 1 and extra.values["clf_rank"] == 1


def test_tasks_the_classifier_never_learned_are_decided_without_it():
    """A second plan's task has no ``clf`` evidence: the ``other_*`` heads, fitted without it, decide it."""
    from assistant.drafts import Candidate, DraftModel

    model = DraftModel.load()
    assert "clf" in model.full.names and "clf" not in model.other_full.names
    assert "clf" in model.lexical.names and "clf" not in model.other_lexical.names
    values = {"rank": 1.0, "bm25": 2.0, "bm25_ratio": 1.0, "bm25_margin": 0.5, "dense": 0.9, "dense_gap": 0.0,
              "dense_margin": 0.02, "dense_rank": 1.0, "coverage": 0.8, "extra": 0.0, "anchor": 0.5,
              "words": 1.5, "kind": -4.0, "pair": 0.0}
    other = Candidate(1001, values)
    assert model.p(other) == pytest.approx(model.other_full.decide(values).p_answerable)
    assert model.p(other, lexical=True) == pytest.approx(model.other_lexical.decide(values).p_answerable)
    known = Candidate(32, {**values, "clf": np.log(0.9), "clf_rank": 1.0})
    assert model.p(known) == pytest.approx(model.full.decide(known.values).p_answerable)


def test_a_plan_the_classifier_does_not_know_spreads_to_nan(assistant):
    from assistant.classifier import TaskClassifier
    from assistant.drafts import DraftCiter

    citer = DraftCiter(assistant.search_engine, assistant.document, assistant.vocabulary, assistant.glossary)
    partial = TaskClassifier({"classes": [32, 9999], "intercept": [0.0, 0.0], "idf": {}, "weights": {}})
    spread = citer.spread(partial, np.array([0.7, 0.3]))
    uids = [t.uid for t in assistant.document.tasks]
    assert spread[uids.index(32)] == pytest.approx(0.7)
    assert np.isnan(spread).sum() == len(uids) - 1

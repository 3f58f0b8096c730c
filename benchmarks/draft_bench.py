"""Time to cite a 10,000-character draft in one ``Assistant.cite`` call, clauses per second, peak RSS.

    .venv/bin/python benchmarks/draft_bench.py [--chars 10000] [--rounds 3]

The draft is made of real report paragraphs: the labelled training and dev drafts (district and bureau
reports with their own places, counts and off-plan clauses), none repeated within 10,000 characters.
Uses the default embedder and a fresh temporary index folder. Prints figures and asserts nothing; the
machine's load average is printed too, since other processes on a small machine change the embedding
time a lot.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from assistant.drafts import split_clauses
from assistant.qa import Assistant
from assistant.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
SOURCES = [ROOT / "evals" / "train" / "drafts.jsonl", ROOT / "evals" / "dev" / "drafts.jsonl"]


def build_draft(chars: int) -> str:
    """Real report paragraphs (the labelled training and dev drafts: 100 distinct paragraphs written as
    district and bureau reports, with their own places, counts and off-plan clauses), one per line, until
    ``chars`` characters; cycled if more are needed."""
    paragraphs = [json.loads(line)["draft"] for path in SOURCES for line in path.read_text(encoding="utf-8").splitlines()
                  if line.strip()]
    parts: list[str] = []
    for paragraph in itertools.cycle(paragraphs):
        if sum(map(len, parts)) + len(paragraph) + 1 > chars:
            break
        parts.append(paragraph)
    return "\n".join(parts)


def peak_rss_mb() -> float:
    kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return kb / 1024 if sys.platform != "darwin" else kb / 1024 / 1024


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chars", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    draft = build_draft(args.chars)
    clauses = split_clauses(draft)
    print(f"draft: {len(draft)} characters, {len(clauses)} clauses, {len({c.text for c in clauses})} distinct")
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        assistant = Assistant.open(Settings.from_env(index_dir=Path(tmp) / "index"))
        print(f"assistant open (index build + warm-up): {time.perf_counter() - start:.2f} s")
        print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        embedder = assistant.search_engine.embedder
        embed_queries, embedded = embedder.embed_queries, []

        def timed(texts):  # how much of the time is the embedding model
            start = time.perf_counter()
            vectors = embed_queries(texts)
            embedded.append((len(texts), time.perf_counter() - start))
            return vectors

        embedder.embed_queries = timed
        times = []
        for _ in range(args.rounds):
            embedded.clear()
            start = time.perf_counter()
            result = assistant.cite(draft)
            times.append(time.perf_counter() - start)
            queries, seconds = map(sum, zip(*embedded, strict=True)) if embedded else (0, 0.0)
            print(f"  round: {times[-1]:.2f} s, of which embedding {seconds:.2f} s ({queries} queries in {len(embedded)} call)")
        cited = sum(1 for c in result.clauses if c.tasks)
        best, worst = min(times), max(times)
        print(f"cite 10k draft: best {best:.2f} s, worst {worst:.2f} s over {args.rounds} rounds")
        print(f"clauses/second (best): {len(result.clauses) / best:.0f}")
        print(f"clauses with a citation: {cited} of {len(result.clauses)}")
        print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"peak RSS: {peak_rss_mb():.0f} MB (OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

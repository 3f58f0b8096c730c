"""Eval scoring on synthetic answers: per-case scores, aggregates, retrieval metrics, drafts, the gate."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest

from assistant.answer import Answer, Citation
from assistant.document import load
from assistant.evalcases import Case, Clause, DraftCase
from assistant.evals import (
    Suite,
    aggregate,
    aggregate_drafts,
    check_gate,
    percentile,
    predicted_clauses,
    ranking_metrics,
    run,
    score_case,
    score_draft,
    summarize,
)
from assistant.settings import REFERENCE_PLAN, Settings

ZJ, SW = "市住房城乡建设管理委", "市水务局"
SPONGE = Case("who-1", "who", "海绵城市谁负责？", (32,), (ZJ, SW), ("64%",))
LIST = Case("units-1", "unit_list", "医保局有哪些任务", (20, 21, 22, 70), ("市医保局",), exact=True, target={"unit": "市医保局"})
FEE = Case("ref-1", "refusal", "公租房租金多少钱", (), answerable=False)


def answer(tasks: list[int], text: str = "", refused: bool = False) -> dict[str, Any]:
    return {"question": "q", "answer": text, "citations": [{"task": n} for n in tasks], "refused": refused}


GOOD_TEXT = f"〔任务32〕责任单位：{ZJ}（牵头）、{SW}。到2028年底，全市建成区面积64%达到海绵城市建设要求。"


# --- one case ------------------------------------------------------------------------------


def test_perfect_answer() -> None:
    s = score_case(SPONGE, answer([32], GOOD_TEXT), latency_ms=3.0)
    assert (s.recall, s.precision, s.units_ok, s.facts_ok, s.correct) == (1.0, 1.0, True, True, True)
    assert s.exact_match is None and s.why == ""


def test_answer_object_is_scored_like_its_json() -> None:
    document = load(REFERENCE_PLAN)
    task = document.task(32)
    assert task is not None
    real = Answer("海绵城市谁负责？", GOOD_TEXT, (Citation.of(task),))
    assert score_case(SPONGE, real).correct


def test_missing_citation() -> None:
    s = score_case(SPONGE, answer([30], GOOD_TEXT))
    assert s.recall == 0.0 and s.precision == 0.0 and not s.correct
    assert "missed [32]" in s.why


def test_extra_citation_is_fine_unless_exact() -> None:
    s = score_case(SPONGE, answer([32, 30], GOOD_TEXT))
    assert s.correct and s.precision == 0.5
    units_text = "本单位：市医保局"
    exact = score_case(LIST, answer([20, 21, 22, 70, 1], units_text))
    assert exact.recall == 1.0 and exact.exact_match is False and not exact.correct
    assert "extra [1]" in exact.why
    assert score_case(LIST, answer([70, 22, 21, 20], units_text)).correct


def test_refused_when_answerable() -> None:
    s = score_case(SPONGE, answer([], "《任务分工方案》没有涉及这个问题。", refused=True))
    assert not s.correct and s.refused and s.precision is None
    assert s.why.startswith("refused")


def test_unit_missing_and_fact_missing() -> None:
    no_unit = score_case(SPONGE, answer([32], f"〔任务32〕{ZJ}牵头，64%"))
    assert no_unit.units_ok is False and no_unit.missing_units == (SW,) and not no_unit.correct
    no_fact = score_case(SPONGE, answer([32], f"〔任务32〕{ZJ}、{SW}"))
    assert no_fact.facts_ok is False and no_fact.missing_facts == ("64%",) and not no_fact.correct


def test_units_and_facts_match_across_widths_and_spaces() -> None:
    assert score_case(SPONGE, answer([32], f"{ZJ} {SW} 达到６４％")).correct


def test_refusals() -> None:
    assert score_case(FEE, answer([], "没有规定", refused=True)).correct
    cited = score_case(FEE, answer([18], "没有规定", refused=True))
    assert not cited.correct and "refused but cited" in cited.why
    answered = score_case(FEE, answer([18], "第18项"))
    assert not answered.correct and "should refuse" in answered.why


def test_crash_is_a_failed_case() -> None:
    s = score_case(SPONGE, {}, error="RuntimeError: boom")
    assert not s.correct and s.why == "error: RuntimeError: boom"


# --- aggregates ----------------------------------------------------------------------------


def test_aggregate_metrics() -> None:
    scores = [
        score_case(SPONGE, answer([32], GOOD_TEXT), 10.0),
        score_case(SPONGE, answer([], "", refused=True), 20.0),  # false refusal
        score_case(LIST, answer([20, 21, 22, 70], "市医保局"), 30.0),
        score_case(FEE, answer([], "", refused=True), 40.0),
        score_case(FEE, answer([19], "x"), 50.0),  # answered an unanswerable question
    ]
    m = aggregate(scores)
    assert m["n"] == 5
    assert m["accuracy"] == pytest.approx(3 / 5)
    assert m["citation_recall"] == pytest.approx(2 / 3)
    assert m["citation_precision"] == pytest.approx(1.0)
    assert m["exact_set_accuracy"] == 1.0
    assert m["refusal_precision"] == pytest.approx(1 / 2)
    assert m["refusal_recall"] == pytest.approx(1 / 2)
    assert m["false_refusal_rate"] == pytest.approx(1 / 3)
    assert (m["latency_p50_ms"], m["latency_p95_ms"]) == (30.0, 50.0)
    by = summarize(scores)["category"]
    assert list(by) == ["who", "unit_list", "refusal"]
    assert by["who"]["accuracy"] == 0.5 and by["refusal"]["citation_recall"] is None


def test_percentile_nearest_rank() -> None:
    assert percentile([], 50) is None
    assert percentile([5.0], 95) == 5.0
    values = [float(v) for v in range(1, 101)]
    assert (percentile(values, 50), percentile(values, 95)) == (50.0, 95.0)


def test_ranking_metrics() -> None:
    m = ranking_metrics([[32, 30], [1, 2, 30], [5, 6, 7, 8]], [{32}, {30, 33}, {9}])
    assert m == {
        "n": 3,
        "hit_at_1": pytest.approx(1 / 3),
        "hit_at_3": pytest.approx(2 / 3),
        "mrr": pytest.approx((1 + 1 / 3) / 3),
    }
    assert ranking_metrics([], [])["mrr"] is None


# --- drafts --------------------------------------------------------------------------------

DRAFT = DraftCase(
    "draft-1",
    "我区全面推进海绵城市建设，完成老旧燃气管道改造12公里，同时举办社区读书月活动。",
    (
        Clause("我区全面推进海绵城市建设", (32,)),
        Clause("完成老旧燃气管道改造12公里", (30,)),
        Clause("同时举办社区读书月活动", ()),
    ),
)


def test_draft_perfect_and_with_punctuation() -> None:
    predicted = [("我区全面推进海绵城市建设，", [32]), ("完成老旧燃气管道改造12公里，", [30]), ("同时举办社区读书月活动。", [])]
    m = aggregate_drafts([score_draft(DRAFT, predicted)])
    assert (m["precision"], m["recall"], m["none_accuracy"], m["clause_accuracy"]) == (1.0, 1.0, 1.0, 1.0)


def test_draft_wrong_and_spurious_citations() -> None:
    predicted = [("我区全面推进海绵城市建设", [32, 33]), ("完成老旧燃气管道改造12公里", []), ("同时举办社区读书月活动", [72])]
    score = score_draft(DRAFT, predicted)
    assert [c.suggested for c in score.clauses] == [(32, 33), (), (72,)]
    m = aggregate_drafts([score])
    assert m["precision"] == pytest.approx(1 / 3)
    assert m["recall"] == pytest.approx(1 / 2)
    assert m["none_accuracy"] == 0.0


def test_draft_clause_splits_and_stray_text() -> None:
    merged = [("我区全面推进海绵城市建设，完成老旧燃气管道改造12公里", [32, 30])]  # one predicted clause over two labels
    score = score_draft(DRAFT, merged)
    assert sum(len(c.suggested) for c in score.clauses) == 2
    finer = [("我区全面推进", []), ("海绵城市建设", [32]), ("另一段文字", [5])]
    score = score_draft(DRAFT, finer)
    assert score.clauses[0].suggested == (32,) and score.stray == (5,)
    assert aggregate_drafts([score])["precision"] == pytest.approx(1 / 2)


def test_predicted_clauses_reads_the_cite_contract() -> None:
    result = {"clauses": [{"text": "甲", "tasks": [{"task": 32}, {"task": 32}, 30]}, {"text": "乙", "tasks": []}]}
    assert predicted_clauses(result) == [("甲", [32, 30]), ("乙", [])]


# --- gate ----------------------------------------------------------------------------------

REPORT = {
    "overall": {"accuracy": 0.96, "false_refusal_rate": 0.05},
    "category": {"who": {"accuracy": 0.85}, "lead": {"accuracy": 1.0}},
}


def test_gate_passes_and_fails() -> None:
    assert check_gate(REPORT, {"overall": {"accuracy": 0.95}, "category": {"lead": {"accuracy": 0.9}}}) == []
    failures = check_gate(
        REPORT,
        {
            "overall": {"accuracy": 0.97, "false_refusal_rate_max": 0.02},
            "category": {"who": {"accuracy": 0.9}, "multi": {"accuracy": 0.9}},
        },
    )
    assert [f.metric for f in failures] == [
        "overall.accuracy",
        "overall.false_refusal_rate",
        "category.who.accuracy",
        "category.multi.accuracy",
    ]
    assert failures[1].upper and "max" in str(failures[1])
    assert "not measured" in str(failures[3])


def test_gate_skips_parts_that_did_not_run() -> None:
    assert check_gate(REPORT, {"drafts": {"precision": 0.8}}) == []
    assert [f.metric for f in check_gate({**REPORT, "drafts": {"precision": 0.5}}, {"drafts": {"precision": 0.8}})] == [
        "drafts.precision"
    ]
    # a suite that did not run (no ../shared beside the checkout) is skipped; one that ran is gated
    suites = {"dev": {**REPORT, "drafts": {"precision": 0.5}}}
    thresholds = {"dev": {"drafts": {"precision": 0.8}}, "external": {"overall": {"accuracy": 0.95}}}
    assert [f.metric for f in check_gate(suites, thresholds)] == ["dev.drafts.precision"]


# --- run() with a fake assistant -----------------------------------------------------------


class FakeEngine:
    def lexical(self, query: str, k: int) -> list[tuple[int, float]]:
        return [(32, 1.0), (30, 0.5)][:k]

    dense = lexical

    def search(self, query: str, k: int = 5) -> list[Any]:
        return [type("Hit", (), {"task": 30})(), type("Hit", (), {"task": 32})()][:k]


class FakeAssistant:
    """Answers every question about 海绵城市 correctly and refuses everything else."""

    search_engine = FakeEngine()

    def new_conversation(self) -> list[str]:
        return []

    def ask(self, question: str, conversation: list[str] | None = None) -> dict[str, Any]:
        if "海绵" in question:
            return answer([32], GOOD_TEXT)
        return answer([], "《任务分工方案》没有涉及这个问题。", refused=True)

    def cite(self, text: str) -> dict[str, Any]:
        return {"clauses": [{"text": "我区全面推进海绵城市建设", "tasks": [{"task": 32}]}]}


def write_jsonl(path: Path, records: list[dict[str, Any]]) -> Path:
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in records) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def suite(tmp_path: Path) -> tuple[Path, Path]:
    cases = write_jsonl(
        tmp_path / "cases.jsonl",
        [
            {"id": "who-1", "category": "who", "question": "海绵城市谁负责？", "expected_tasks": [32],
             "expected_units": [ZJ, SW], "expected_facts": ["64%"]},
            {"id": "ref-1", "category": "refusal", "question": "公租房租金多少钱", "expected_tasks": [], "answerable": False},
            {"id": "who-2", "category": "who", "question": "燃气管道改造谁负责", "expected_tasks": [30]},
        ],
    )  # fmt: skip
    drafts = write_jsonl(
        tmp_path / "drafts.jsonl",
        [{"id": "draft-1", "draft": DRAFT.draft, "clauses": [{"text": c.text, "expected_tasks": list(c.expected_tasks)}
                                                              for c in DRAFT.clauses]}],
    )  # fmt: skip
    return cases, drafts


def test_run_prints_tables_writes_json_and_gates(tmp_path: Path, suite: tuple[Path, Path]) -> None:
    cases, drafts = suite
    thresholds = tmp_path / "thresholds.toml"
    thresholds.write_text("[dev.overall]\naccuracy = 0.6\n[dev.category.who]\naccuracy = 0.9\n[dev.drafts]\nrecall = 0.5\n",
                          encoding="utf-8")
    out, report = io.StringIO(), tmp_path / "report.json"
    code = run(Settings(), [Suite("dev", cases, drafts)], report, True, thresholds_path=thresholds,
               assistant=FakeAssistant(), out=out)
    text = out.getvalue()
    assert code == 1
    assert "OVERALL" in text and "hybrid" in text and "draft" in text
    assert "who-2" in text and "refused; missed [30]" in text
    assert "dev.category.who.accuracy = 0.500 < min 0.9" in text and "overall.accuracy" not in text.split("GATE")[1]
    data = json.loads(report.read_text(encoding="utf-8"))
    assert data["report"]["dev"]["overall"]["accuracy"] == pytest.approx(2 / 3)
    assert data["report"]["dev"]["retrieval"]["bm25"]["hit_at_1"] == 0.5
    assert data["report"]["dev"]["retrieval"]["hybrid"]["hit_at_1"] == 0.5
    assert data["report"]["dev"]["drafts"]["recall"] == 0.5
    assert data["gate"]["passed"] is False
    assert [c["id"] for c in data["cases"]["dev"] if not c["correct"]] == ["who-2"]


def test_holdout_failures_are_counted_not_listed(tmp_path: Path, suite: tuple[Path, Path]) -> None:
    cases, _ = suite
    out = io.StringIO()
    run(Settings(), [Suite("holdout", cases, None, show_failures=False)], gate=False, assistant=FakeAssistant(), out=out)
    assert "未通过的用例 (failed cases): 1" in out.getvalue() and "who-2" not in out.getvalue()


def test_run_without_gate_returns_zero(suite: tuple[Path, Path]) -> None:
    cases, _ = suite
    assert run(Settings(), [Suite("dev", cases, None)], gate=False, assistant=FakeAssistant(), out=io.StringIO()) == 0


def test_run_rejects_invalid_cases(tmp_path: Path) -> None:
    bad = write_jsonl(tmp_path / "cases.jsonl", [{"id": "bad-1", "category": "who", "question": "q", "expected_tasks": [99]}])
    out = io.StringIO()
    assert run(Settings(), [Suite("dev", bad, None)], assistant=FakeAssistant(), out=out) == 2
    assert "[bad-1]" in out.getvalue()

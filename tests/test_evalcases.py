"""The eval case files validate against the document, and broken cases are caught with their id."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assistant.document import Document, load
from assistant.evalcases import CATEGORIES, EvalCaseError, load_cases, load_drafts, target_tasks, validate
from assistant.settings import PROJECT_ROOT, REFERENCE_PLAN

CASES = PROJECT_ROOT / "evals" / "dev" / "cases.jsonl"
DRAFTS = PROJECT_ROOT / "evals" / "dev" / "drafts.jsonl"
HOLDOUT = PROJECT_ROOT / "evals" / "holdout"


@pytest.fixture(scope="module")
def document() -> Document:
    return load(REFERENCE_PLAN)


def write(tmp_path: Path, records: list[dict], name: str = "cases.jsonl") -> Path:
    path = tmp_path / name
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in records) + "\n", encoding="utf-8")
    return path


def case(**fields: object) -> dict:
    base = {
        "id": "x-001",
        "category": "who",
        "question": "海绵城市谁负责？",
        "expected_tasks": [32],
        "expected_units": ["市住房城乡建设管理委", "市水务局"],
        "expected_facts": ["64%"],
        "answerable": True,
        "exact": False,
    }
    return {**base, **fields}


def errors_for(tmp_path: Path, document: Document, *records: dict) -> str:
    with pytest.raises(EvalCaseError) as info:
        validate(document, load_cases(write(tmp_path, list(records))))
    return str(info.value)


# --- the real files ------------------------------------------------------------------------


def test_real_cases_and_drafts_validate(document: Document) -> None:
    cases, drafts = load_cases(CASES), load_drafts(DRAFTS)
    summary = validate(document, cases, drafts)
    assert summary["cases"] >= 170
    assert summary["drafts"] >= 24
    small = {"section", "part"}
    for category in CATEGORIES[:12]:  # the dev categories (the rest are the holdout's and external sets')
        assert summary[category] >= (10 if category in small else 12), category
    assert summary["refusal"] >= 20


def test_holdout_validates_and_is_large_enough(document: Document) -> None:
    """The holdout: at least 150 questions in everyday words and labelled drafts, checked against the document."""
    summary = validate(document, load_cases(HOLDOUT / "questions.jsonl"), load_drafts(HOLDOUT / "drafts.jsonl"))
    assert summary["cases"] >= 150 and summary["drafts"] >= 15
    assert summary["unanswerable"] >= 20 and summary["multi_turn"] >= 20


def test_real_cases_shape(document: Document) -> None:
    cases = load_cases(CASES)
    assert all(c.exact for c in cases if c.category in {"unit_list", "by_number", "section", "part"})
    assert not any(c.exact for c in cases if c.category in {"who", "lead", "target", "english", "multi"})
    assert all(c.turns for c in cases if c.category == "followup")
    drafts = load_drafts(DRAFTS)
    assert all(2 <= len(d.clauses) <= 6 for d in drafts)
    assert any(not c.expected_tasks for d in drafts for c in d.clauses)


# --- broken cases are reported with their id -----------------------------------------------


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"expected_tasks": [86]}, "任务不存在"),
        ({"expected_tasks": [31], "expected_facts": []}, "不在任何预期任务的责任单位中"),
        ({"expected_units": ["市住建委"]}, "不是文档里的单位名称"),
        ({"expected_facts": ["65%"]}, "不是任何预期任务原文的子串"),
        ({"expected_facts": ["2028 年底"]}, "不是任何预期任务原文的子串"),
        ({"answerable": False}, "answerable=false"),
        ({"category": "lead", "expected_units": ["市水务局"]}, "不是任何预期任务的牵头单位"),
        ({"category": "whom"}, "未知类别"),
        ({"category": "followup"}, "followup 用例需要 turns"),
        ({"exact": True}, "exact=true 的用例需要 target"),
        ({"category": "by_number", "exact": True}, "by_number 用例需要 target"),
    ],
)
def test_broken_case_names_its_id_and_line(tmp_path: Path, document: Document, fields: dict, message: str) -> None:
    good = case(id="good-1", question="谁管海绵城市？", expected_facts=[])
    text = errors_for(tmp_path, document, good, case(id="bad-7", **fields))
    assert "[bad-7]" in text
    assert "cases.jsonl:2" in text
    assert message in text
    assert "[good-1]" not in text


def test_wrong_section_set_is_reported(tmp_path: Path, document: Document) -> None:
    bad = case(
        id="sec-x", category="section", question="（八）有哪些任务", expected_tasks=[29, 30, 31, 32],
        expected_units=[], expected_facts=[], exact=True, target={"section": 8},
    )  # fmt: skip
    text = errors_for(tmp_path, document, bad)
    assert "[sec-x]" in text and "缺少 [33]" in text


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ({"task": 32}, [32]),
        ({"task": [4, 3]}, [3, 4]),
        ({"section": 8}, [29, 30, 31, 32, 33]),
        ({"part": 5}, list(range(77, 86))),
        ({"unit": "市医保局", "role": "any"}, [20, 21, 22, 70]),
        ({"unit": "市医保局", "role": "lead"}, [22]),
        ({"unit": "各区人民政府"}, [1, 13, 14, 77, 79, 80]),
        ({"unit": "徐汇区人民政府", "collective": True}, [1, 13, 14, 45, 46, 47, 53, 54, 55, 56, 57, 77, 79, 80]),
        ({"unit": "宝山区人民政府", "collective": True}, [1, 13, 14, 45, 46, 47, 52, 53, 54, 55, 56, 57, 77, 79, 80]),
        ({"contains": "燃气"}, [30, 33]),
    ],
)
def test_targets_are_recomputed_from_the_document(document: Document, target: dict, expected: list[int]) -> None:
    assert target_tasks(target, document) == expected


@pytest.mark.parametrize(
    "target",
    [
        {"section": 21},
        {"part": 6},
        {"task": 0},
        {"unit": "徐汇区人民政府"},  # not in the document, and not asked collectively
        {"unit": "市人社局"},  # an alias, not the document's name
        {"unit": "徐汇区人民政府", "role": "lead", "collective": True},
        {"unit": "市医保局", "collective": True},
        {"contains": "地铁票价"},
        {"section": 8, "part": 2},
    ],
)
def test_bad_targets_raise(document: Document, target: dict) -> None:
    with pytest.raises(ValueError):
        target_tasks(target, document)


def test_unit_list_must_name_the_unit_asked_about(tmp_path: Path, document: Document) -> None:
    bad = case(
        id="units-x", category="unit_list", question="医保局有哪些任务", expected_tasks=[20, 21, 22, 70],
        expected_units=["市人力资源社会保障局"], expected_facts=[], exact=True, target={"unit": "市医保局"},
    )  # fmt: skip
    assert "应包含所问单位 '市医保局'" in errors_for(tmp_path, document, bad)


def test_duplicate_ids_and_questions(tmp_path: Path, document: Document) -> None:
    text = errors_for(tmp_path, document, case(), case())
    assert "id 重复" in text and "问题完全相同" in text


def test_malformed_json_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "cases.jsonl"
    path.write_text(json.dumps(case(), ensure_ascii=False) + "\n{not json\n", encoding="utf-8")
    with pytest.raises(EvalCaseError, match=r"cases\.jsonl:2"):
        load_cases(path)


def test_bad_field_types_name_the_case(tmp_path: Path) -> None:
    with pytest.raises(EvalCaseError, match=r"\[bad-2\] expected_tasks"):
        load_cases(write(tmp_path, [case(id="bad-2", expected_tasks=["32"])]))


# --- drafts --------------------------------------------------------------------------------


def draft(**fields: object) -> dict:
    base = {
        "id": "draft-x",
        "draft": "我区全面推进海绵城市建设，同时举办社区读书月活动。",
        "clauses": [
            {"text": "我区全面推进海绵城市建设", "expected_tasks": [32]},
            {"text": "同时举办社区读书月活动", "expected_tasks": []},
        ],
    }
    return {**base, **fields}


def draft_errors(tmp_path: Path, document: Document, record: dict) -> str:
    with pytest.raises(EvalCaseError) as info:
        validate(document, drafts=load_drafts(write(tmp_path, [record], "drafts.jsonl")))
    return str(info.value)


def test_good_draft_validates(tmp_path: Path, document: Document) -> None:
    assert validate(document, drafts=load_drafts(write(tmp_path, [draft()], "drafts.jsonl")))["drafts"] == 1


SPONGE = {"text": "我区全面推进海绵城市建设", "expected_tasks": [32]}
READING = {"text": "同时举办社区读书月活动", "expected_tasks": []}


@pytest.mark.parametrize(
    ("clauses", "message"),
    [
        # clauses may split anywhere, as long as together they cover the draft
        ([{"text": "我区全面推进海绵城市", "expected_tasks": [32]}, {**READING, "text": "建设，同时举办社区读书月活动"}], None),
        ([{"text": "全面推进海绵城市建设工作", "expected_tasks": [32]}], "不是草稿的子串"),
        ([{**SPONGE, "expected_tasks": [99]}, READING], "任务不存在"),
        ([SPONGE], "未标注的文字"),
        ([READING, SPONGE], "顺序不对"),
    ],
)  # fmt: skip
def test_broken_drafts(tmp_path: Path, document: Document, clauses: list, message: str | None) -> None:
    record = draft(id="draft-bad", clauses=clauses)
    if message is None:
        validate(document, drafts=load_drafts(write(tmp_path, [record], "drafts.jsonl")))
        return
    text = draft_errors(tmp_path, document, record)
    assert "[draft-bad]" in text and message in text

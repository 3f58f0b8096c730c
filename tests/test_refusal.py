"""The refusal decision: cue data, the fitted heads, and the decisions on wording no eval file uses."""

from __future__ import annotations

import pytest

from assistant.errors import RegistryError
from assistant.refusal import Cues, Head, RefusalModel, features, ngrams


def test_cue_groups_match_words_and_english_word_boundaries():
    cues = Cues.from_toml('[money]\nzh = ["多少钱"]\nen = ["fee"]\nreason = "没有金额"\n[news]\nzh = ["新闻"]\n')
    assert cues.found("停车一小时多少钱？") == {"money": ["多少钱"]}
    assert cues.found("What is the fee?") == {"money": ["fee"]} and cues.found("coffee please") == {}
    assert cues.reason(cues.found("多少钱"), english=False) == "没有金额"
    assert "does not cover" in cues.reason({}, english=True)


def test_malformed_cues_are_reported():
    with pytest.raises(RegistryError, match="只能有"):
        Cues.from_toml('[money]\nwords = ["x"]\n')


def test_bundled_cues_load_and_every_group_has_a_reason():
    cues = Cues.load()
    assert {"money", "person", "procedure", "achieved", "other_place", "opinion", "legal", "instruction"} <= set(
        cues.groups)
    assert all(zh and en for zh, en in cues.reasons.values())


def test_ngrams_are_chinese_character_grams_and_english_words():
    assert ngrams("海绵城") == ["海", "绵", "城", "海绵", "绵城", "海绵城"]
    assert ngrams("Ａ drainage pipes") == ["w:a", "w:drainage", "w:pipes", "w:a_drainage", "w:drainage_pipes"]
    assert ngrams("G60走廊") == ["#", "走", "廊", "#走", "走廊", "#走廊", "w:g"]  # a number is one symbol
    assert ngrams("2025年底前") == ngrams("2028年底前")  # which year is no part of a question's form


def test_a_head_is_a_standardised_logistic_regression():
    head = Head({"features": ["x", "y"], "mean": [1, 0], "scale": [2, 1], "coef": [2.0, -1.0], "intercept": 0.5,
                 "threshold": 0.5})
    decision = head.decide({"x": 3.0, "y": 1.0})  # z = (1, 1): logit 0.5 + 2 - 1 = 1.5
    assert decision.p_answerable == pytest.approx(1 / (1 + 2.718281828 ** -1.5), rel=1e-6)
    assert not decision.refuse and decision.contributions[0][0] == "x"
    assert "可回答概率" in decision.explain()


def test_the_bundled_model_states_how_it_was_fitted():
    model = RefusalModel.load()
    assert model is not None and 0 < model.threshold < 1
    fitted = model.params["fitted"]
    assert fitted["questions"] >= 400 and fitted["script"] == "fitting/fit_refusal.py"
    assert set(model.full.names) >= {"kind", "dense_top", "coverage", "cue_money", "topic_in_best"}


@pytest.mark.parametrize(
    "question",
    [
        "市水务局的局长是哪位",  # a person
        "建设者之家一张床每月收多少房租",  # money
        "保障性租赁住房的申请表在哪里领",  # procedure
        "去年全市已经改造了多少公里燃气管道",  # achieved
        "深圳的海绵城市是怎么搞的",  # another city
        "你觉得五个新城哪个最有前途",  # opinion
        "违规转租保租房要判几年",  # law
        "帮我写一首关于城市更新的诗",  # not a question about the plan
        "全市的献血站归哪个部门管",  # a topic the plan does not cover
        "平急两用设施具体建在哪几个地方",  # sites the plan does not list
        "城中村改造涉及哪些村",  # names the plan does not list
    ],
)
def test_out_of_plan_questions_are_refused_with_the_evidence(assistant, question):
    answer = assistant.ask(question)
    assert answer.refused and answer.citations == (), answer.answer
    evidence = answer.to_dict()["evidence"]
    assert evidence["refuse"] is True and evidence["p_answerable"] < 0.5


@pytest.mark.parametrize(
    ("question", "task"),
    [
        ("城里的公共服务和基础设施往乡下延伸，这事谁牵头", 27),
        ("打工人的孩子在上海读书有保障吗，归谁管", 13),
        ("楼道里电瓶车乱充电的隐患谁来整治", 33),
        ("老公房里的煤气管子换新，是哪几个部门的活", 30),
        ("江浙沪的检测机构搞能力比对，谁牵头", 68),
    ],
)
def test_everyday_wording_is_answered(assistant, question, task):
    answer = assistant.ask(question)
    assert not answer.refused, answer.answer
    assert task in [c.task for c in answer.citations]


def test_a_decisive_question_is_answered_without_embedding(assistant):
    engine = assistant.search_engine
    calls = []
    original = engine.embedder.embed_queries
    engine.embedder.embed_queries = lambda texts: calls.append(texts) or original(texts)  # type: ignore[method-assign]
    try:
        answer = assistant.ask("定向培训补贴由哪个部门负责？")
    finally:
        engine.embedder.embed_queries = original  # type: ignore[method-assign]
    assert [c.task for c in answer.citations] == [10] and calls == []


@pytest.mark.parametrize(("question", "shown"), [("第零项任务是什么", "没有第0项"), ("任务-3讲的是什么", "没有第-3项"),
                                                 ("第86项是什么", "没有第86项")])
def test_task_numbers_outside_the_plan(assistant, question, shown):
    answer = assistant.ask(question)
    assert answer.refused and shown in answer.answer and "第1至85项" in answer.answer


def test_traditional_characters_are_answered(assistant):
    answer = assistant.ask("誰負責城中村整體改造？")
    assert [c.task for c in answer.citations][:1] == [24] and "市住房城乡建设管理委" in answer.answer


def test_participating_units_get_the_whole_picture(assistant):
    units = [t for t in assistant.document.tasks if "市财政局" in t.units]
    lead = [t for t in units if t.lead_unit == "市财政局"]
    answer = assistant.ask("财政局配合别人的事有哪些")
    assert f"共涉及 **{len(units)}** 项任务，其中牵头 {len(lead)} 项" in answer.answer
    assert [c.task for c in answer.citations] == [t.n for t in units if t not in lead]


def test_a_unit_name_is_no_cue(assistant):
    """市税务局 names a unit; 'tax' in its English name is no question about tax."""
    answer = assistant.ask("Which tasks is the municipal tax bureau listed on?")
    assert not answer.refused and [c.task for c in answer.citations] == [
        t.n for t in assistant.document.tasks if "市税务局" in t.units]


def test_a_cue_counts_as_stated_only_in_the_task_text_not_its_everyday_views(assistant):
    """The everyday views of a task are written for retrieval (租金 for rental housing); that the plan *states*
    a sum of money is judged on the task's own text."""
    question = "城市建设者管理者之家住一晚收多少租金"
    intent = assistant.understand(question)
    probe = assistant.search_engine.probe(intent.query)
    evidence = assistant.evidence(intent, probe)
    assert "租金" not in evidence.top_text
    values = features(evidence, assistant.cues, None)
    assert values["cue_money"] == 1.0 and values["cue_in_task"] == 0.0
    assert assistant.ask(question).refused


@pytest.mark.parametrize(("question", "text", "states"), [
    ("保租房今年要筹多少套", "新增筹措保障性租赁住房3万套", True),
    ("充电桩要建几千座", "建成公共充电桩2000座", True),
    ("绿道一共修多少公里", "建成区面积64%达到要求", False),  # a figure, but not in the measure asked
    ("谁牵头", "筹措床位12万张", False),  # no quantity asked
])
def test_measure_in_task_is_a_quantity_question_the_task_answers(question, text, states):
    from assistant.refusal import states_measure

    assert states_measure(question, text) is states


@pytest.mark.parametrize(("question", "stated"), [
    ("2028年底前海绵城市要达到什么要求", True),  # task 32 dates its target 2028
    ("2026年底海绵城市要达到多少", False),  # a year the task never names
])
def test_year_in_task_is_a_year_the_best_task_states(assistant, question, stated):
    probe = assistant.search_engine.probe(question)
    values = features(assistant.evidence(assistant.understand(question), probe), assistant.cues, None)
    assert values["year_in_task"] == float(stated) and values["year_not_in_task"] == float(not stated)

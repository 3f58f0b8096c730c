"""Several topics in one question: split, answered one by one with their own citations, a compact table."""

from __future__ import annotations

import pytest

from assistant.multi import split_topics


@pytest.mark.parametrize(
    ("question", "parts"),
    [
        ("垃圾分类和海绵城市各由谁负责", 0),  # one topic is not in the plan: still split into two
        ("燃气管道改造和海绵城市分别归谁管", 2),
        ("公园城市、碳普惠、绿色建筑，各要做到什么程度", 3),
        ("建设者之家要建几张床位？保租房归谁管？", 2),
        ("城中村改造哪年全面铺开，轨道交通里程要到多少", 2),
        ("海绵城市谁负责", 0),
        ("养老护理和家政服务的技能培训归谁管", 0),  # one task, two words
        ("路边电线入地、杆箱整治，谁负责？", 0),
        ("建设者之家和保租房，期限一样不", 2),  # a comparison: each side answered the same way
        ("海绵城市要到多少？公园城市呢？", 2),  # "X呢" asks the question before it again
        ("燃气管道改造谁管 & 碳普惠谁管", 2),  # two whole questions joined by "&"
        ("保租房归哪个局，建设者之家床位几张，海绵城市谁牵头", 3),
    ],
)
def test_split(assistant, question, parts):
    got = split_topics(question, assistant.search_engine)
    if question.startswith("垃圾分类"):
        assert len(got) in (0, 2)
    else:
        assert len(got) == parts, got


def test_answered_topic_by_topic_with_a_table(assistant):
    answer = assistant.ask("燃气管道改造和海绵城市分别归谁管")
    assert answer.route == "several"
    assert {30, 32} <= {c.task for c in answer.citations}
    assert "| 事项 |" in answer.answer and "市水务局" in answer.answer


def test_figures_for_each_topic(assistant):
    answer = assistant.ask("建设者之家床位和品牌首店，各定了多少？")
    assert {17, 46} <= {c.task for c in answer.citations}
    assert "12万张" in answer.answer and "800家" in answer.answer


def test_parts_that_find_one_task_are_kept_when_others_differ(assistant):
    """Three questions, two of them about one task (燃气管道 and 供水管道 are both task 30): each is answered."""
    answer = assistant.ask("供水管道改多少公里，燃气管道又是谁牵头，海绵城市比例要达到多少")
    assert answer.route == "several" and {c.task for c in answer.citations} == {30, 32}
    assert "同上" in answer.answer


def test_topics_listed_then_one_unit_question(assistant):
    """"A、B，这几条都是X牵头么": each topic answered with its lead, not X's whole list."""
    answer = assistant.ask("沪渝蓉铁路、省际公路，这几条都是交通委牵头么")
    assert answer.route == "several" and {c.task for c in answer.citations} == {58, 61}


def test_a_subject_before_the_pointer_back_is_not_a_topic(assistant):
    """"A，B，应急局在这两条里…": 应急局 asks about A and B; it is not a third topic."""
    parts = split_topics("平急两用设施，房屋体检制度，应急局在这两条里是牵头还是配合", assistant.search_engine)
    assert len(parts) == 2 and all("应急局" in p for p in parts)


def test_two_units_lists_side_by_side(assistant):
    answer = assistant.ask("人才局跟编办分别负责几条，列一下")
    talent = {t.n for t in assistant.document.tasks if "市人才工作局" in t.units}
    office = {t.n for t in assistant.document.tasks if "市委编办" in t.units}
    assert answer.route == "several" and {c.task for c in answer.citations} == talent | office


@pytest.mark.parametrize("question", [
    "零星二级旧里哪年改完、建设者之家床位搞多少、试点社区体检多少个，一口气告诉我",  # listed with 、
    "三个问题：1）旧里哪年改完 2）建设者之家床位多少张 3）社区体检试点多少个",  # numbered
])
def test_questions_listed_with_enumeration_marks(assistant, question):
    answer = assistant.ask(question)
    assert answer.route == "several" and {24, 17, 33} <= {c.task for c in answer.citations}


@pytest.mark.parametrize(
    ("question", "parts", "context"),
    [
        # the question counts three topics; the last piece lists three, the piece before says who they are for
        ("新就业形态的骑手、网约车司机，办职工医保、住房公积金缴存、职业伤害保障，这三块分别由谁负责？", 3, "骑手"),
        # it counts two; the comma pieces are two, so "A、B" is one topic
        ("城市更新、旧改收尾，和海绵城市，这两块分别谁牵头", 2, ""),
    ],
)
def test_the_number_a_question_counts_decides_its_topics(assistant, question, parts, context):
    got = split_topics(question, assistant.search_engine)
    assert len(got) == parts, got
    assert all(context in part for part in got)


def test_a_list_set_off_after_a_pointer_names_the_topics(assistant):
    """X那几项（A、B），…: the list after 那几项 gives the topics; a bare word is framed by X, a fuller item that finds
    one of X's tasks stands alone."""
    got = split_topics("长三角交通那几项（沪苏11号线运营衔接、省际公路通达），牵头单位分别是谁", assistant.search_engine)
    assert len(got) == 2 and got[1] == "省际公路通达，牵头单位分别是谁" and "沪苏11号线运营衔接" in got[0]
    answer = assistant.ask("长三角交通那几项（沪苏11号线运营衔接、省际公路通达），牵头单位分别是谁")
    assert {c.task for c in answer.citations} == {59, 61}
    got = split_topics("五个新城那几条——产业、公共服务——分别谁牵头", assistant.search_engine)
    assert got == ["五个新城产业，分别谁牵头", "五个新城公共服务，分别谁牵头"]
    assert split_topics("公园城市（口袋公园、绿道）由谁负责", assistant.search_engine) == []  # no pointer: examples


def test_each_topic_of_several_gets_its_own_best_tasks_even_when_asked_which(assistant):
    """"A和B，分别是哪几条": each topic cites its best task (and a near-tie), not a long list."""
    answer = assistant.ask("架空线入地和长三角政务服务，各是哪几条")
    assert answer.route == "several" and len(answer.citations) <= 4 and {30, 69} <= {c.task for c in answer.citations}


@pytest.mark.parametrize(("question", "parts"), [
    ("燃气管道改造完成和公园城市建设，哪个先到期？", 2),  # 哪个先: a comparison, each side answered
    ("口袋公园要建多少个？听说我们街道也要建一个", 0),  # the second sentence asks nothing: context, not a topic
])
def test_comparisons_and_statements(assistant, question, parts):
    assert len(split_topics(question, assistant.search_engine)) == parts


def test_items_framed_by_a_pointer_share_out_its_tasks(assistant):
    """青吴嘉那边这三块（A、B、C）: when the framing words outweigh every bare item (all find one task), each item
    takes the framed task it ranks best on its own."""
    answer = assistant.ask("青吴嘉那边这三块（产业、交通、生活）各由谁牵头")
    assert answer.route == "several" and {c.task for c in answer.citations} == {74, 75, 76}


@pytest.mark.parametrize(("question", "topics"), [
    # 协同 and 同城 are words, not "A同B"
    ("长三角养老产业协同和社保卡同城待遇，分别谁牵头", ["长三角养老产业协同", "社保卡同城待遇"]),
    # the words before the colon announce the topics; a leading 和 joins, it is not a topic's word
    ("开会前想确认两件事：灵活就业人员交公积金，和随迁子女入学，分别归谁", ["灵活就业人员交公积金", "随迁子女入学"]),
    # a piece pointing at a task by a phrase (…那条) is one topic, joiners and all
    ("特色小镇认定那条，跟主城区与新城衔接互补那条，各由谁牵头", ["特色小镇认定那条", "主城区与新城衔接互补那条"]),
    # a quoted name is never cut at its 、
    ("“一张床、一间房、一套房”和保租房筹措，分别归谁管", ["“一张床、一间房、一套房”", "保租房筹措"]),
    # one piece, then a list: the piece says what each listed topic is about
    ("来沪务工人员的小孩，读书和看病，方案里各归哪个部门", ["来沪务工人员的小孩，读书", "来沪务工人员的小孩，看病"]),
])
def test_the_topics_of_a_shared_question(assistant, question, topics):
    got = split_topics(question, assistant.search_engine)
    assert len(got) == len(topics), got
    assert all(part.startswith(topic + "，") for part, topic in zip(got, topics, strict=True)), got


def test_a_unit_set_aside_after_the_topics_is_no_topic(assistant):
    """…分别在哪条？除了住建委还有哪些单位: 住建委 is set aside, not asked about (its whole list)."""
    answer = assistant.ask("海绵城市和架空线入地，分别在哪条？除了住建委还有哪些单位负责？")
    assert {c.task for c in answer.citations} == {30, 32}


@pytest.mark.parametrize(("question", "tasks"), [
    # "A、B、C，牵头的都是X吗": the same check on each
    ("绿色这块：公交电动化、建筑光伏、海绵城市，牵头的都是住建委吗", {32, 37, 38}),
    # a frame before the colon, then topics joined by 还有; the frame is no topic of its own
    # (新城主导产业, not 新城产业导入: that one is 48's 功能导入 as much as 49's 产业引领)
    ("嘉定的事：新城主导产业，还有轨交运营里程，各自哪个单位牵头", {49, 28}),
])
def test_a_check_on_each_topic_and_a_frame_before_the_colon(assistant, question, tasks):
    answer = assistant.ask(question)
    assert answer.route == "several" and tasks <= {c.task for c in answer.citations}, answer.answer
    assert len(answer.citations) <= 2 * len(tasks)  # each topic its best task and at most a near-tie


def test_the_askers_own_clause_is_no_topic(assistant):
    got = split_topics("我是浦东的快递员，想学门技能，又想交公积金，这两件事分别归谁", assistant.search_engine)
    assert len(got) == 2 and not any("快递员" in part for part in got), got


def test_numbered_items_are_the_topics(assistant):
    got = split_topics("1.海绵城市 2.架空线入地 3.口袋公园，这三样各归谁管", assistant.search_engine)
    assert [part.split("，")[0] for part in got] == ["海绵城市", "架空线入地", "口袋公园"], got
    assert split_topics("绿道建2.5万公里和海绵城市，分别谁牵头", assistant.search_engine)[0].startswith("绿道建2.5万公里")


def test_a_sentence_pointing_back_is_the_same_topic(assistant):
    """"…能不能装充电桩？这事归谁管": the second sentence asks about the first, it is no second topic."""
    assert split_topics("小区里能不能多装些充电桩？方案里哪个部门在研究推进这个", assistant.search_engine) == []


def test_a_count_announced_before_a_colon_with_a_verb(assistant):
    """"两样东西麻烦查下：A、B，各…": the words before the colon announce the topics, they are none of them."""
    got = split_topics("两样东西麻烦查下：海绵城市、口袋公园，各自谁牵头", assistant.search_engine)
    assert [part.split("，")[0] for part in got] == ["海绵城市", "口袋公园"], got


def test_a_place_before_a_listing_comma_modifies_what_follows(assistant):
    """"在嘉定、松江新城落户的人…，和…，分别": 在嘉定 is where the first topic happens, not a topic."""
    got = split_topics("在嘉定、松江新城工作的人才积分加分，和口袋公园建设，分别是哪个单位", assistant.search_engine)
    assert len(got) == 2 and got[0].startswith("在嘉定、松江新城工作的人才积分加分"), got


def test_a_latin_term_is_a_topic_and_each_asks_the_shared_question(assistant):
    """"PM10和公交电动化各啥要求": PM10 names a topic of its own; 各啥 asks each the same."""
    got = split_topics("细颗粒物PM2.5和公交电动化各啥要求", assistant.search_engine)
    assert [part.split("，")[0] for part in got] == ["细颗粒物PM2.5", "公交电动化"], got


@pytest.mark.parametrize(("question", "topics"), [
    # X的A和B: B is said of X
    ("外地孩子的上学和看病分别谁管", ["外地孩子的上学", "外地孩子的看病"]),
    # the sides as written find one task: the short side is said of the first side's subject
    ("随迁子女医保和读书，分别是谁负责", ["随迁子女医保", "随迁子女读书"]),
])
def test_a_short_side_is_said_of_the_first_sides_subject(assistant, question, topics):
    got = split_topics(question, assistant.search_engine)
    assert [part.split("，")[0] for part in got] == topics, got


def test_a_comparison_with_words_between_which_and_earlier(assistant):
    """"A和B，哪个完成时间更早": each side's deadline, side by side."""
    answer = assistant.ask("建设者之家床位筹措和城中村改造项目，哪个完成时间更早？")
    assert answer.route == "several" and {17, 24} <= {c.task for c in answer.citations}, answer.answer


def test_which_comes_first_with_nothing_between(assistant):
    """"A，跟B，哪个在前": a comparison with nothing between 哪个 and 在前 still asks each side."""
    answer = assistant.ask("社区体检试点铺开，跟小梁薄板房屋改完，哪个在前？")
    assert answer.route == "several" and {24, 33} <= {c.task for c in answer.citations}, answer.answer




def test_an_ordinal_pointing_at_the_questions_own_topics_is_no_task_number(assistant):
    """"A和B，这两条里谁牵头？X在不在第一条里": 第一条 is the first topic, not task 1."""
    answer = assistant.ask("公园城市建设和燃气管道老化更新，这两条里各自谁牵头？绿化市容局在不在第一条里？")
    assert answer.route == "several", answer.answer
    assert 1 not in {c.task for c in answer.citations}, answer.answer


@pytest.mark.parametrize(("question", "topics"), [
    # a side with no topic words of its own, listed with 、, is said with the next one
    ("年度重点交通项目清单和上海、嘉兴之间的省际公路打通，这两条牵头的是不是同一家",
     ["年度重点交通项目清单", "上海、嘉兴之间的省际公路打通"]),
    # the question says two: 、 lists inside a topic, 和 between them
    ("农民工技能培训和体检、评估、更新的城市体检，这两条各自是谁牵头",
     ["农民工技能培训", "体检、评估、更新的城市体检"]),
    # a list that ends in 以及: 、 and 以及 cut between the topics, 和 joins inside one
    ("海绵城市、口袋公园以及燃气管道和供水管网更新这三件事分别谁牵头",
     ["海绵城市", "口袋公园", "燃气管道和供水管网更新"]),
    # a side with no topic words of its own: cut at one level of joiner only
    ("城市体检评估、各区自己定的支持政策和项目清单，分别有哪些单位负责",
     ["城市体检评估", "各区自己定的支持政策和项目清单"]),
])
def test_one_level_of_joiner_separates_the_topics(assistant, question, topics):
    got = split_topics(question, assistant.search_engine)
    assert [part.split("，")[0] for part in got] == topics, got


def test_an_english_serial_list_is_the_topics(assistant):
    """"…the sponge city, the pocket parks and the gas pipes, respectively": a comma list in English, not a frame."""
    got = split_topics("Which tasks deal with sponge city building, pocket parks and gas pipe renewal, respectively?",
                       assistant.search_engine)
    assert len(got) == 3, got


def test_each_topic_is_asked_without_the_word_for_each(assistant):
    """"A、B，分别谁牵头": each topic asks 谁牵头; 分别 would only blur its search."""
    got = split_topics("口袋公园和燃气管道更新，分别谁牵头", assistant.search_engine)
    assert got == ["口袋公园，谁牵头", "燃气管道更新，谁牵头"], got


def test_a_part_in_everyday_words_is_a_topic_of_its_own(assistant):
    """"…和烧煤占用能源的份额，各定了多少": words the plan never uses still name a topic; the part is not folded
    into the one before it as if it only asked more about it."""
    parts = assistant._fold_checks(["细颗粒物年均浓度，定了多少", "烧煤占用能源的份额，定了多少"])
    assert len(parts) == 2, parts


def test_a_sentence_starting_with_this_item_points_back(assistant):
    """"…居住证积分能额外加分吗？这条由哪些单位落实？": 这条 is the sentence before it, one question."""
    answer = assistant.ask("咱们临港这边外地来的人又上班又住，居住证积分能额外加分吗？这条由哪些单位落实？")
    assert answer.route != "several" and [c.task for c in answer.citations] == [2], answer.answer

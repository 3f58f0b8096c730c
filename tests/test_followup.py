"""Follow-up shapes, each in a conversation on the real assistant (wording that no eval file uses)."""

from __future__ import annotations

import pytest

from assistant.facts import targets_of


def chat(assistant, *questions):
    conversation = assistant.new_conversation()
    return [assistant.ask(q, conversation) for q in questions]


def cited(answer):
    return [c.task for c in answer.citations]


def test_ordinal_into_a_unit_list_counts_in_task_order(assistant):
    units = [t.n for t in assistant.document.tasks if "市商务委" in t.units]
    first, second, last = chat(assistant, "商务委这边摊了几件事", "排第二的那条是啥", "最后一个呢")
    assert cited(first) == units
    assert cited(second) == [units[1]] and cited(last) == [units[-1]]


def test_yes_no_membership_answers_shi_or_fou_then_cites(assistant):
    _, yes, no = chat(assistant, "平急两用设施建设归谁管", "住建委也在里头吗", "那体育局也算一个吗")
    task = cited(yes)[0]
    assert "市住房城乡建设管理委" in assistant.document.task(task).units
    assert yes.answer.startswith("是") and cited(no) == [task] and no.answer.startswith("否")


def test_yes_no_about_the_lead(assistant):
    _, answer = chat(assistant, "海绵城市归谁管", "水务局是挑头的那个吗")
    assert answer.answer.startswith("否") and "市住房城乡建设管理委" in answer.answer and cited(answer) == [32]


def test_a_district_is_in_a_task_of_all_districts(assistant):
    _, answer = chat(assistant, "第13项说的是什么", "徐汇区政府也有份吗")
    assert answer.answer.startswith("是") and "各区人民政府" in answer.answer


def test_narrowing_a_list_by_topic_and_by_unit(assistant):
    section = [t.n for t in assistant.document.tasks_in_section(8)]
    _, by_unit, by_topic = chat(assistant, "第八节都有什么", "其中房管局参与的有哪些", "这些里面讲房屋体检的是哪条")
    assert set(cited(by_unit)) <= set(section) and all(
        "市房屋管理局" in assistant.document.task(n).units for n in cited(by_unit))
    assert cited(by_topic) == [33]


def test_another_unit_same_question(assistant):
    _, answer = chat(assistant, "民政局挑头的有哪些", "那卫健委呢")
    assert answer.route == "unit" and "市卫生健康委" in answer.answer
    assert all(assistant.document.task(n).lead_unit == "市卫生健康委" for n in cited(answer))


def test_another_topic_same_question(assistant):
    _, answer = chat(assistant, "社保卡在江浙沪通用这事归谁管", "那长护险异地用呢")
    assert cited(answer)[0] == 70 and "市发展改革委" in answer.answer


@pytest.mark.parametrize(("follow", "fact"), [("这项要做到多少个", "300个"), ("那条啥时候完成", "2028年底")])
def test_questions_about_the_previous_task(assistant, follow, fact):
    _, answer = chat(assistant, "社区体检试点归哪个部门", follow)
    assert cited(answer) == [33] and fact in answer.answer


def test_new_words_about_the_same_task_prefer_it(assistant):
    _, answer = chat(assistant, "政务服务一网通办是哪条", "它打造的品牌叫啥名")
    assert cited(answer) == [41] and "智慧好办" in answer.answer


def test_three_turns_narrowing_twice(assistant):
    answers = chat(assistant, "第四部分有哪些任务", "其中讲铁路的", "谁牵头")
    assert 58 in cited(answers[1]) and cited(answers[2])[0] in cited(answers[1])
    assert "牵头" in answers[2].answer


def test_english_follow_up(assistant):
    _, answer = chat(assistant, "Which task covers electric buses?", "Who leads it?")
    assert cited(answer) == [38] and "市交通委" in answer.answer


def test_a_full_question_after_a_list_stands_alone(assistant):
    _, answer = chat(assistant, "教委有哪些任务", "城中村改造谁负责")
    assert cited(answer) == [24]


def test_everyday_words_the_plan_lacks_lean_on_the_previous_task(assistant):
    """No pronoun, and the only topic words are ones the plan does not know: a detail of the previous task."""
    _, when, wording = chat(assistant, "社区嵌入式服务设施谁负责", "啥时候能搞掂", "把原话发我")
    assert cited(when) == [26] and cited(wording) == [26]


def test_a_new_question_outside_the_plan_stands_alone(assistant):
    _, answer = chat(assistant, "社区嵌入式服务设施谁负责", "日本签证咋办")
    assert answer.refused and cited(answer) == []


def test_a_short_question_in_the_previous_tasks_words_prefers_it(assistant):
    _, answer = chat(assistant, "城市建设者之家谁负责", "床位弄多少")
    assert cited(answer) == [17] and "12万张" in answer.answer


def test_ordinals_from_the_start_and_from_the_end(assistant):
    units = [t.n for t in assistant.document.tasks if "市商务委" in t.units]
    _, first, second_last = chat(assistant, "商务委这边摊了几件事", "头一条讲啥", "倒数第二个谁牵头")
    assert cited(first) == [units[0]] and cited(second_last) == [units[-2]]


@pytest.mark.parametrize("check", ["住建委牵头对吧", "住建委有份伐？"])
def test_yes_no_particles(assistant, check):
    _, answer = chat(assistant, "海绵城市归谁管", check)
    assert answer.answer.startswith("是") and cited(answer) == [32]


def test_involvement_lists_every_task_of_the_unit(assistant):
    """参与 is any involvement: the unit's whole list (co-only is asked with 配合 or 不牵头)."""
    tasks = [t.n for t in assistant.document.tasks if "市数据局" in t.units]
    co = [t.n for t in assistant.document.tasks if "市数据局" in t.units[1:]]
    involved, = chat(assistant, "数据局都参与了啥")
    supporting, = chat(assistant, "数据局配合的有哪些")
    assert sorted(cited(involved)) == tasks and sorted(cited(supporting)) == co


def test_narrowing_keeps_every_item_that_quotes_the_word(assistant):
    listed, narrowed = chat(assistant, "交通委负责哪些任务", "这里头跟铁路沾边的有哪几条")
    quoting = [n for n in cited(listed) if "铁路" in assistant.document.task(n).text]
    assert len(quoting) > 3 and sorted(cited(narrowed)) == sorted(quoting)


def test_which_of_two_units_leads_the_previous_task(assistant):
    _, answer = chat(assistant, "海绵城市归谁管", "那这条是水务局牵头还是住建委牵头")
    assert cited(answer) == [32] and "市住房城乡建设管理委" in answer.answer


def test_these_two_means_the_tasks_of_the_last_two_turns(assistant):
    *_, answer = chat(assistant, "海绵城市归谁管", "那燃气管道改造呢", "这两条牵头的是同一家吗")
    assert sorted(cited(answer)) == [30, 32]


def test_narrowing_a_units_list_by_its_role(assistant):
    lead = [t.n for t in assistant.document.tasks if t.lead_unit == "市科委"]
    listed, narrowed = chat(assistant, "科委都管哪些事", "其中它牵头的是哪几条")
    assert len(cited(listed)) > len(lead) and sorted(cited(narrowed)) == lead


def test_a_bare_confirmation_naming_units_checks_them(assistant):
    _, answer = chat(assistant, "品牌首店那条谁负责", "只有商务委？没有发改委？")
    assert cited(answer) == [46] and answer.answer.startswith(("是", "否"))


def test_narrowing_by_the_measure_of_a_target(assistant):
    listed, narrowed = chat(assistant, "住建委牵头哪些任务", "这些里面有平方米目标的是哪条")
    assert len(cited(listed)) > 2 and cited(narrowed) == [37]


def test_narrowing_a_unit_list_to_one_section(assistant):
    document = assistant.document
    section = next(s for s in document.sections if "通勤圈" in s.title)
    expected = [t.n for t in document.tasks_in_section(section.no) if "市交通委" in t.units]
    _, narrowed = chat(assistant, "交通委参与的任务有哪些", "光看通勤圈那一节的")
    assert cited(narrowed) == expected and len(expected) > 1
    assert "在上面列出的" in narrowed.answer


def test_a_follow_up_asking_which_districts_stays_on_the_task(assistant):
    first, districts = chat(assistant, "南北转型那条是哪些单位在做", "里面区政府是哪几个区")
    task = assistant.document.task(cited(first)[0])
    assert cited(districts) == [task.n]
    assert all(u in districts.answer for u in task.units if u.endswith("区人民政府"))


def test_a_unit_with_a_new_topic_is_a_new_question_not_a_yes_no(assistant):
    eco, points = chat(assistant, "生态岛建设谁来抓", "那奉贤在居住证积分上能不能多加分")
    assert cited(eco) == [39]
    assert 2 in cited(points) and not points.answer.startswith(("是", "否"))


def test_is_any_unit_of_a_kind_on_the_task(assistant):
    _, yes = chat(assistant, "大零号湾创新策源那条谁管", "那有没有区政府参加")
    assert yes.answer.startswith("是") and "闵行区人民政府" in yes.answer
    _, no = chat(assistant, "海绵城市那条归谁", "Is a district-level government among them?")
    assert no.answer.startswith("No") and cited(no) == [32]


def test_which_items_a_unit_is_in_is_a_narrowing_not_a_yes_no(assistant):
    first, narrowed = chat(assistant, "方案里跟新城有关的任务有哪些", "其中交通委有份的是哪几条")
    expected = [n for n in cited(first) if "市交通委" in assistant.document.task(n).units]
    assert expected and sorted(cited(narrowed)) == sorted(expected)


def test_a_section_named_by_those_items_in_a_who_question(assistant):
    answer = assistant.ask("通勤圈那几条分别谁负责")
    section = next(s for s in assistant.document.sections if "通勤圈" in s.title)
    assert cited(answer) == [t.n for t in assistant.document.tasks_in_section(section.no)]


def test_narrowing_by_a_topic_counts_the_title_of_a_task_s_part(assistant):
    document = assistant.document
    first, narrowed = chat(assistant, "人社局的任务有哪些", "里面跟长三角沾边的")
    part = next(p for p in document.parts if "长三角" in p.title)
    expected = {n for n in cited(first) if document.task(n).part == part}
    assert expected and expected <= set(cited(narrowed))


@pytest.mark.parametrize(("listing", "narrow"), [
    ("交通委参与的任务", "其中写明了哪年要完成的目标是哪几条"),
    ("住建委负责哪几件事", "有明确年份节点的是哪几条"),  # without 其中: still a question about the list's items
])
def test_narrowing_to_the_items_with_a_dated_target(assistant, listing, narrow):
    from assistant.facts import targets_of
    first, narrowed = chat(assistant, listing, narrow)
    expected = [n for n in cited(first) if any(t.year for t in targets_of(assistant.document.task(n)))]
    assert expected and sorted(cited(narrowed)) == sorted(expected)


def test_an_english_follow_up_asking_who_looks_after_it(assistant):
    first, who = chat(assistant, "Which task is about the Metro Line 11 link with Suzhou?", "And who looks after it?")
    assert cited(first)[:1] == [59] and cited(who) == [59]


def test_a_bare_line_of_work_name_in_a_unit_slot(assistant):
    _, yes = chat(assistant, "一老一小社区嵌入式服务那条谁在抓", "那卫健也有份吗")
    task = assistant.document.task(cited(yes)[0])
    assert yes.answer.startswith("是" if "市卫生健康委" in task.units else "否")
    assert "市卫生健康委" in yes.answer


def test_an_item_of_the_list_named_by_its_words_then_yes_no(assistant):
    """(新市镇那一节) 靠生态风光吃饭的那条，文旅局有份伐: the item about 生态风光, not the list's first."""
    _, answer = chat(assistant, "分类推进新市镇发展这一节下面有哪几项", "靠生态风光吃饭的那条，文旅局有份伐？")
    assert cited(answer) == [55] and answer.answer.startswith("是")


def test_narrowing_a_units_list_to_what_it_does_alone(assistant):
    sole = [t.n for t in assistant.document.tasks if t.units == ("市规划资源局",)]
    _, answer = chat(assistant, "规划资源局挑头的事有哪些", "里头就它自己、没有协办部门的是哪几条？")
    assert sole and cited(answer) == sole


def test_na_with_a_pointer_back_is_a_yes_no_about_the_item(assistant):
    """那X也在这条里？ points back (这条), so 那 does not start a new question about X's whole list."""
    _, _, answer = chat(assistant, "交通委牵头哪几条", "第二条讲的啥", "那公安局也在这条里？")
    second = [t.n for t in assistant.document.tasks if t.units[0] == "市交通委"][1]
    assert answer.route == "check" and [c.task for c in answer.citations] == [second]
    assert answer.answer.startswith("否")


@pytest.mark.parametrize(("first", "narrow", "expected"), [
    ("人社局牵头哪些任务", "当中农民工技能培训方面的是哪些", {8, 9, 10}),  # 农民工 counts once, not also as 农民 and 民工
    ("交通委牵头哪些", "这些里面长三角通勤圈的是哪几条", {58, 59, 60, 61}),  # four of seven items: still a narrowing
])
def test_narrowing_keeps_every_item_about_the_topic(assistant, first, narrow, expected):
    _, answer = chat(assistant, first, narrow)
    assert expected <= set(cited(answer))


def test_an_ordinal_with_no_topic_of_its_own_counts_in_the_list(assistant):
    listed = [t.n for t in assistant.document.tasks if "市商务委" in t.units]
    _, answer = chat(assistant, "商务委参与哪些任务", "依次排下来，第二条说的是什么内容")
    assert cited(answer) == [listed[1]]


def test_what_else_a_unit_leads_after_one_task_is_its_list(assistant):
    """(after one task) 那X除了这条，还负责哪几条: X's tasks, not a yes/no about this one."""
    _, answer = chat(assistant, "品牌首店谁负责", "那商务委除了这条，还牵头了哪条？")
    leads = [t.n for t in assistant.document.tasks if t.units[0] == "市商务委"]
    assert answer.route == "unit" and set(leads) <= set(cited(answer))


def test_narrowing_to_the_items_that_are_not_about_a_topic(assistant):
    """(临港新片区管委会参与的) 里面跟新城无关的是哪条: the items that do not quote 新城."""
    first, answer = chat(assistant, "临港管委会都参与了哪几项", "里面跟新城无关的是哪条")
    expected = [n for n in cited(first) if "新城" not in assistant.document.task(n).text]
    assert expected and cited(answer) == expected


@pytest.mark.parametrize(("first", "narrow", "figure"), [
    ("住建委牵头的有哪几条", "哪条提到了12万张", "12万张"),  # a figure quoted from the plan
    ("房管局参与了哪些", "当中哪条有具体的公里数", "公里"),  # 公里数: the items with a count in kilometres
])
def test_narrowing_by_a_figure_keeps_the_items_that_state_it(assistant, first, narrow, figure):
    first_answer, answer = chat(assistant, first, narrow)
    expected = [n for n in cited(first_answer) if figure in assistant.document.task(n).text.replace(" ", "")]
    assert expected and len(expected) < len(cited(first_answer)) and cited(answer) == expected


def test_the_ones_above_narrow_the_previous_list(assistant):
    """(科委负责哪些) 上面那几条它自己牵头几条: the unit's own leads among the listed items."""
    first, answer = chat(assistant, "科委负责哪些事", "上面那几条它自己牵头几条？")
    leads = [n for n in cited(first) if assistant.document.task(n).units[0] == "市科委"]
    assert leads and len(leads) < len(cited(first)) and cited(answer) == leads


def test_narrowing_to_the_items_that_name_a_year(assistant):
    """(交通委牵头的) 哪条写了年份: the items whose targets carry a year."""
    first, answer = chat(assistant, "交通委牵头哪几项", "当中哪条有写明年份？")
    dated = [n for n in cited(first) if any(t.year for t in targets_of(assistant.document.task(n)))]
    assert dated and len(dated) < len(cited(first)) and cited(answer) == dated


@pytest.mark.parametrize(("question", "task"), [
    ("职业伤害那条，医保局有没有参与？", 23),
    ("公积金那条，医保局是不是也负责", 19),
])
def test_a_check_finds_its_task_without_the_unit_it_checks(assistant, question, task):
    """The task is found by the question's topic; the checked unit's name must not pull in the tasks that list
    it (the answer would then lean to 是)."""
    answer = assistant.ask(question)
    units = assistant.document.task(task).units
    assert cited(answer) == [task] and answer.answer.startswith("是" if "市医保局" in units else "否")


def test_a_phrase_names_one_item_of_the_list_just_given(assistant):
    """(示范区执委会负责哪些) 生活那条讲的啥: the listed item about 生活, not a new search."""
    first, answer = chat(assistant, "示范区执委会负责哪些", "生活那条讲的啥")
    about = [n for n in cited(first) if "生活" in assistant.document.task(n).text]
    assert len(about) == 1 and cited(answer) == about


def test_another_task_named_by_a_phrase_after_an_interjection(assistant):
    """(海绵城市谁负责) 好，那口袋公园那条呢: another task, named by its own words."""
    _, answer = chat(assistant, "海绵城市谁负责", "好，那口袋公园那条呢，也是这家牵头？")
    alone = cited(assistant.ask("口袋公园谁牵头"))[0]
    assert alone != 32 and cited(answer) == [alone]


def test_narrowing_to_a_section_title_keeps_every_item_in_it(assistant):
    """(农业农村委参与哪些) 当中属于新市镇的有几条: the listed items of the 新市镇 section, whose own text may
    say only 镇."""
    first, answer = chat(assistant, "农业农村委参与哪些", "当中属于新市镇的有几条")
    in_section = {n for n in cited(first) if "新市镇" in assistant.document.task(n).section.title}
    assert len(in_section) >= 4 and in_section <= set(cited(answer))


@pytest.mark.parametrize(("question", "words"), [
    ("生活圈那一块哪一条是讲文体旅游的", "文化体育和旅游"),
    ("韧性安全那块是哪一条讲燃气管道", "燃气"),
])
def test_one_item_of_a_section_named_by_its_title(assistant, question, words):
    """"X那块是哪一条讲Y": one task of section X, not the whole section."""
    answer = assistant.ask(question)
    assert len(cited(answer)) == 1 and words in assistant.document.task(cited(answer)[0]).text


def test_na_then_a_phrase_all_in_one_listed_item_is_that_item(assistant):
    """(示范区执委会牵头几条) 那生态那条讲的啥: 那 does not start over when the phrase is all in one listed item."""
    first, answer = chat(assistant, "示范区执委会牵头几条？", "那生态那条讲的啥")
    assert 76 in cited(first) and cited(answer) == [76], answer.answer

"""Question understanding, table-driven: routes, numbers, sections, units, follow-ups, refusal evidence."""

from __future__ import annotations

import pytest

from assistant.document import load
from assistant.followup import resolve
from assistant.glossary import Glossary
from assistant.settings import REFERENCE_PLAN
from assistant.understanding import Context, find_task_numbers, understand, vocabulary_for
from assistant.units import Registry


@pytest.fixture(scope="module")
def env():
    document = load(REFERENCE_PLAN)
    registry = Registry.load()
    glossary = Glossary.load()
    return document, registry, glossary, vocabulary_for(document, registry, glossary)


def route(env, question, context=None):
    document, registry, glossary, vocabulary = env
    intent = understand(question, document, registry, glossary, vocabulary)
    return resolve(intent, context, document) if context is not None else intent


@pytest.mark.parametrize(
    ("text", "numbers"),
    [
        ("第32项是什么", [32]),
        ("第三十二条讲了什么", [32]),
        ("任务32", [32]),
        ("32号任务谁负责", [32]),
        ("第八十五项", [85]),
        ("task 32", [32]),
        ("What is task #7 about?", [7]),
        ("第32和33项", [32, 33]),
        ("第十项", [10]),
        ("到2028年底要完成什么", []),
        ("轨道交通11号线", []),
        ("12万张床位", []),
    ],
)
def test_task_numbers(text, numbers):
    assert find_task_numbers(text) == numbers


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("第32项是什么？", {"route": "task", "tasks": (32,)}),
        ("第八十五项谁牵头", {"route": "task", "tasks": (85,), "asks_lead": True}),
        ("（八）有哪些任务", {"route": "section", "section": 8}),
        ("韧性安全城市那部分有哪些任务", {"route": "section", "section": 8}),
        ("数字智慧城市这一块包括什么", {"route": "section", "section": 10}),
        ("第四部分讲什么", {"route": "part", "part": 4}),
        ("组织实施部分有哪些任务", {"route": "part", "part": 5}),
        ("人社局牵头哪些任务？", {"route": "unit", "units": ("市人力资源社会保障局",), "role": "lead"}),
        ("住建委负责哪些任务", {"route": "unit", "units": ("市住房城乡建设管理委",), "role": "any"}),
        # 参与 is any involvement ("数据局都参与了哪些工作": its whole list); co-only is said with 配合 or against 牵头
        ("发改委参与了哪些任务", {"route": "unit", "units": ("市发展改革委",), "role": "any"}),
        ("发改委配合了哪些任务", {"route": "unit", "units": ("市发展改革委",), "role": "co"}),
        ("发改委只参与不牵头的任务有哪些", {"route": "unit", "units": ("市发展改革委",), "role": "co"}),
        ("List the tasks led by the Housing Administration Bureau", {"route": "unit", "role": "lead"}),
        # other ways of saying "leads": listed first, 当头; "谁牵头" asks who leads, it restricts no unit
        ("住建委排在第一位的任务", {"route": "unit", "role": "lead"}),
        ("民政局当头的有哪些", {"route": "unit", "role": "lead"}),
        ("商务委出现在哪几条，这几条谁牵头", {"route": "unit", "role": "any"}),
        # a one-character typo inside a longer abbreviation
        ("规划资原局负责哪些", {"route": "unit", "units": ("市规划资源局",)}),
        # several years at once go to the deadline route
        ("2026、2027年底各自要完成啥", {"route": "deadline"}),
        ("浦东有哪些任务", {"route": "unit", "units": ("浦东新区人民政府",)}),
        ("What tasks does the Pudong government have?", {"route": "unit", "units": ("浦东新区人民政府",)}),
        ("2028年底要完成什么？", {"route": "deadline", "year": 2028}),
        ("到2027年底有什么目标", {"route": "deadline", "year": 2027}),
        ("谁负责海绵城市?", {"route": "topic", "asks_who": True}),
        ("海绵城市归谁管", {"route": "topic", "asks_who": True}),
        ("轨道交通的目标是多少公里", {"route": "topic", "asks_target": True}),
        ("旧改谁牵头", {"route": "topic", "asks_lead": True}),
        ("Who is responsible for the sponge city?", {"route": "topic", "english": True, "asks_who": True}),
    ],
)
def test_routes(env, question, expected):
    intent = route(env, question)
    for key, value in expected.items():
        assert getattr(intent, key) == value, (question, key, intent)


@pytest.mark.parametrize(
    ("question", "low"),
    [
        ("疫苗接种谁负责", True),
        ("垃圾分类归哪个部门管", True),
        ("共享单车谁负责", True),
        ("海绵城市谁负责", False),
        ("海棉城市谁负责", False),  # typo repaired
        ("旧改谁负责", False),  # glossary shorthand
        ("外卖骑手的职业伤害保障谁负责", False),
    ],
)
def test_coverage_of_the_topic(env, question, low):
    """Coverage is one feature of the refusal decision: how much of the topic the plan's words cover."""
    assert (route(env, question).coverage < 0.5) is low


def test_typo_is_repaired_into_the_query(env):
    intent = route(env, "海棉城市谁负责")
    assert ("海棉城市", "海绵城市") in intent.corrections
    assert "海绵城市" in intent.query and "海棉城市" in intent.query  # added, not substituted


def test_everyday_wording_is_not_taken_for_a_typo(env):
    """城镇 is one character from the plan's 古镇, but 代化城镇 is made of pairs the plan uses."""
    intent = route(env, "靠近市区的小镇怎么升级成现代化城镇")
    assert not intent.corrections and "古镇" not in intent.query


def test_followups(env):
    previous = route(env, "谁负责海绵城市?")
    context = Context(tasks=(32,), units=("市住房城乡建设管理委", "市水务局"), intent=previous)
    target = route(env, "那它的目标是多少?", context)
    assert (target.route, target.tasks, target.asks_target) == ("task", (32,), True)
    lead = route(env, "这条谁牵头?", context)
    assert (lead.route, lead.tasks, lead.asks_lead) == ("task", (32,), True)
    more = route(env, "它还负责什么?", context)
    assert (more.route, more.units) == ("unit", ("市住房城乡建设管理委",))
    listed = Context(tasks=(29, 30, 31), units=("市应急局",), intent=route(env, "（八）有哪些任务"))
    second = route(env, "第二个呢?", listed)
    assert (second.route, second.tasks) == ("task", (30,))
    other = route(env, "那燃气管道呢?", context)
    assert other.route == "topic" and other.asks_who and other.followup == "new-topic"
    unit = route(env, "那水务局呢?", Context(tasks=(8,), units=("市人力资源社会保障局",),
                                              intent=route(env, "人社局牵头哪些任务")))
    assert (unit.route, unit.units, unit.role) == ("unit", ("市水务局",), "lead")


def test_no_followup_without_history(env):
    assert route(env, "那它的目标是多少?").route == "topic"


def _repair_reference(text, index, longest, known):
    """repair_with as first written: every window and pair searched for in the whole known text."""
    for length in range(longest, 2, -1):
        for i in range(len(text) - length + 1):
            window = text[i : i + length]
            if window in known:
                continue
            for j in range(1, length - 1):
                if window[j - 1 : j + 1] in known or window[j : j + 2] in known:
                    continue
                word = index.get(window[:j] + "?" + window[j + 1 :])
                if word and word != window:
                    return text[:i] + word + text[i + length :], window, word
    return None


def test_typo_repair_with_pair_set_agrees_with_the_whole_text_scan(env):
    """The known pairs as a set change the repair's speed, not its answers (typos, everyday words, odd text)."""
    from assistant.understanding import TYPO_CHARS, repair_with

    vocabulary = env[3]
    texts = ["海棉城市谁负责", "靠近市区的小镇怎么升级成现代化城镇", "保樟性住房的筹措", "城中材改造", "轨道交诵网",
             "长三角生态绿色一体化发展示笵区", "abc？？", "", "的的的的的", "公园城是建设", "积分落护政策"]
    texts += [t.text[k : k + 12] for t in env[0].tasks for k in (0, 7)]
    for text in texts:
        expected = _repair_reference(text, vocabulary._wildcards, TYPO_CHARS, vocabulary.text)
        assert repair_with(text, vocabulary._wildcards, TYPO_CHARS, known=vocabulary.text,
                           known_pairs=vocabulary.bigrams) == expected, text
        assert repair_with(text, vocabulary._wildcards, TYPO_CHARS, known=vocabulary.text) == expected, text


@pytest.mark.parametrize(("question", "units"), [
    ("市场监管局(即原工商局)参与哪些任务", ("市市场监管局",)),
    ("住建委（原来的建设交通委）牵头哪些", ("市住房城乡建设管理委",)),
    ("数据局（原来的经信委信息化处）参与哪些", ("市数据局",)),
    ("房管局和规划资源局分别牵头哪些", ("市房屋管理局", "市规划资源局")),  # two units, no bracket
])
def test_a_name_in_brackets_after_a_unit_glosses_it(env, question, units):
    intent = route(env, question)
    assert intent.units == units and intent.route == "unit"


@pytest.mark.parametrize(("text", "ordinal"), [("序号靠后的那条讲啥", -1), ("靠前那项谁牵头", 1), ("前一阵子的新闻", None)])
def test_front_and_back_of_a_list(text, ordinal):
    from assistant.understanding import _ordinal

    assert _ordinal(text) == ordinal


def test_a_leading_situation_is_left_out_of_the_search(assistant):
    """"上周家门口停水了半天，城市燃气管道老化更新归谁管": the asker's situation asks nothing and names no plan term;
    both retrievers search the clause that asks (家门口 alone would find the 15-minute-circle task)."""
    intent = assistant.understand("上周家门口停水了半天，燃气管道老化更新改造归谁管")
    assert intent.query.startswith("燃气管道")
    assert assistant.understand("我家孩子在外地读书，回上海上学谁管").query.startswith("我家孩子")  # the topic is before


@pytest.mark.parametrize("question", ["由商务委担任牵头单位的任务有哪些", "商务委的任务只列它排第一的"])
def test_a_units_own_leads_asked_in_other_words(assistant, question):
    """牵头单位 in "由X担任牵头单位的任务" is X, not a who-question; 只列它排第一的 keeps the leads (not 只列了它一家)."""
    answer = assistant.ask(question)
    leads = [t.uid for t in assistant.document.tasks if t.units[0] == "市商务委"]
    assert answer.route == "unit" and [c.task for c in answer.citations] == leads, answer.answer


@pytest.mark.parametrize(("question", "unit"), [
    ("规划资源局作为牵头单位的有几项", "市规划资源局"),  # the role a unit takes is no who-question
    ("商务委牵头的活多不多", "市商务委"),  # 多不多 asks how many
])
def test_a_units_leads_asked_as_its_role_or_a_count(assistant, question, unit):
    answer = assistant.ask(question)
    leads = [t.uid for t in assistant.document.tasks if t.units[0] == unit]
    assert answer.route == "unit" and [c.task for c in answer.citations] == leads, answer.answer


def test_the_district_government_is_the_askers_own_district(assistant):
    """"我是青浦区规划资源局的，我们区政府…": the asker's district, its collectives' tasks shown with it."""
    for question in ("我是青浦区规划资源局的，方案里区政府要落实哪些，各区、各相关区的也算",
                     "我在宝山区工作，我们区政府要做哪些"):
        answer = assistant.ask(question)
        district = "青浦区人民政府" if "青浦" in question else "宝山区人民政府"
        own = {t.uid for t in assistant.document.tasks if district in t.units}
        assert answer.route == "unit" and own <= {c.task for c in answer.citations}, answer.answer
        assert district in answer.answer


def test_where_the_asker_lives_is_no_unit_asked_about(assistant):
    """"我家在虹口区，…归哪几个单位管": 虹口区 is where the asker lives, not a unit whose tasks are asked for, and it is
    not searched for (a district's name finds the tasks of every district)."""
    intent = assistant.understand("我家在虹口区，住的老式旧里没有独立厨卫，说要改造，归哪几个单位管")
    assert intent.units == () and "虹口区" not in intent.query
    # …在不在名单里: a list of places the plan does not have, not a yes/no check on the district's government
    assert assistant.ask("我家在长宁区那片老公房，在不在这次改造的名单里").refused


def test_an_asking_clause_that_points_back_keeps_what_it_points_at(assistant):
    """"楼道里电瓶车充电冒烟，这类隐患整治…": 这类 is the clause before it, so both are searched."""
    assert assistant.understand("楼道里电瓶车充电冒烟，这类隐患整治由哪个部门管").query.startswith("楼道里电瓶车")

"""The unit registry on real data: the bundled units.toml against the real work plan."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.document import Document, load
from assistant.errors import RegistryError
from assistant.units import KINDS, Mention, Registry

CORPUS = Path(__file__).resolve().parent.parent / "corpus" / "task-division-plan-2025.txt"
EXTRA_DISTRICTS = ["黄浦区人民政府", "徐汇区人民政府", "长宁区人民政府", "静安区人民政府", "普陀区人民政府",
                   "虹口区人民政府", "杨浦区人民政府"]  # fmt: skip


@pytest.fixture(scope="module")
def doc() -> Document:
    return load(CORPUS)


@pytest.fixture(scope="module")
def registry() -> Registry:
    return Registry.load()


def test_default_registry_is_cached(registry: Registry) -> None:
    assert Registry.load() is registry


def test_every_document_unit_is_registered_by_its_own_name(doc: Document, registry: Registry) -> None:
    registry.check_against(doc.units())
    assert len(doc.units()) == 52


def test_registry_holds_the_document_units_plus_the_seven_unnamed_districts(doc: Document, registry: Registry) -> None:
    names = [u.name for u in registry.units]
    assert sorted(names) == sorted([*doc.units(), *EXTRA_DISTRICTS])
    districts = [u.name for u in registry.units if u.kind == "district"]
    assert len(districts) == 16
    assert all(u.english and u.english.isascii() for u in registry.units)
    assert all(u.kind in KINDS for u in registry.units)


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("市发展改革委", "municipal"),
        ("市委编办", "municipal"),
        ("浦东新区人民政府", "district"),
        ("徐汇区人民政府", "district"),
        ("临港新片区管委会", "zone"),
        ("虹桥国际中央商务区管委会", "zone"),
        ("长三角生态绿色一体化发展示范区执委会", "zone"),
        ("人民银行上海总部", "central"),
        ("上海金融监管局", "central"),
        ("上海证监局", "central"),
        ("各区人民政府", "collective"),
        ("各相关区人民政府", "collective"),
        ("各相关市级部门", "collective"),
    ],
)
def test_kinds(registry: Registry, name: str, kind: str) -> None:
    unit = registry.get(name)
    assert unit is not None and unit.kind == kind


def test_every_alias_resolves_to_its_unit(registry: Registry) -> None:
    for unit in registry.units:
        for alias in (unit.name, unit.english, *unit.aliases, *unit.english_aliases):
            assert registry.get(alias) == unit, alias
            assert registry.units_in(alias) == [unit.name], alias
            assert registry.units_in(f"请问{alias}负责哪些任务？") == [unit.name], alias


@pytest.mark.parametrize(
    ("alias", "unit"),
    [
        ("住建委", "市住房城乡建设管理委"),
        ("市住建委", "市住房城乡建设管理委"),
        ("人社局", "市人力资源社会保障局"),
        ("发改委", "市发展改革委"),
        ("市发改委", "市发展改革委"),
        ("房管局", "市房屋管理局"),
        ("规资局", "市规划资源局"),
        ("经信委", "市经济信息化委"),
        ("卫健委", "市卫生健康委"),
        ("文旅局", "市文化旅游局"),
        ("绿容局", "市绿化市容局"),
        ("医保局", "市医保局"),
        ("编办", "市委编办"),
        ("教委", "市教委"),
        ("公安局", "市公安局"),
        ("民政局", "市民政局"),
        ("人才局", "市人才工作局"),
        ("商务委", "市商务委"),
        ("妇儿工委", "市妇儿工委办"),
        ("交通委", "市交通委"),
        ("应急局", "市应急局"),
        ("水务局", "市水务局"),
        ("环保局", "市生态环境局"),
        ("生态环境局", "市生态环境局"),
        ("农委", "市农业农村委"),
        ("农业农村委", "市农业农村委"),
        ("机管局", "市机管局"),
        ("数据局", "市数据局"),
        ("政府办公厅", "市政府办公厅"),
        ("市府办", "市政府办公厅"),
        ("通管局", "市通信管理局"),
        ("通信管理局", "市通信管理局"),
        ("科委", "市科委"),
        ("市场监管局", "市市场监管局"),
        ("知识产权局", "市知识产权局"),
        ("财政局", "市财政局"),
        ("体育局", "市体育局"),
        ("税务局", "市税务局"),
        ("统计局", "市统计局"),
        ("金融办", "市委金融办"),
        ("人民银行", "人民银行上海总部"),
        ("人行上海总部", "人民银行上海总部"),
        ("金融监管局", "上海金融监管局"),
        ("证监局", "上海证监局"),
        ("浦东", "浦东新区人民政府"),
        ("浦东新区", "浦东新区人民政府"),
        ("浦东新区政府", "浦东新区人民政府"),
        ("嘉定", "嘉定区人民政府"),
        ("嘉定区", "嘉定区人民政府"),
        ("嘉定区政府", "嘉定区人民政府"),
        ("徐汇", "徐汇区人民政府"),
        ("崇明区", "崇明区人民政府"),
        ("临港", "临港新片区管委会"),
        ("临港新片区", "临港新片区管委会"),
        ("临港管委会", "临港新片区管委会"),
        ("虹桥商务区", "虹桥国际中央商务区管委会"),
        ("虹桥管委会", "虹桥国际中央商务区管委会"),
        ("示范区执委会", "长三角生态绿色一体化发展示范区执委会"),
        ("一体化示范区", "长三角生态绿色一体化发展示范区执委会"),
        ("长三角示范区", "长三角生态绿色一体化发展示范区执委会"),
        ("各区", "各区人民政府"),
        ("Pudong", "浦东新区人民政府"),
        ("pudong new area", "浦东新区人民政府"),
        ("Housing Commission", "市住房城乡建设管理委"),
        ("Development and Reform Commission", "市发展改革委"),
        ("DRC", "市发展改革委"),
        ("Human Resources and Social Security Bureau", "市人力资源社会保障局"),
        ("ＤＲＣ", "市发展改革委"),  # full-width letters fold to ASCII
        ("住 建 委", "市住房城乡建设管理委"),  # OCR spaces
    ],
)
def test_required_abbreviations(registry: Registry, alias: str, unit: str) -> None:
    assert registry.units_in(alias) == [unit]
    found = registry.get(alias)
    assert found is not None and found.name == unit


@pytest.mark.parametrize(
    ("question", "units"),
    [
        ("人社局牵头哪些任务", ["市人力资源社会保障局"]),
        ("徐汇区有哪些任务", ["徐汇区人民政府"]),
        ("housing commission tasks", ["市住房城乡建设管理委"]),
        ("What is the Housing Bureau responsible for?", ["市房屋管理局"]),
        ("住建委和房管局共同负责哪些任务？", ["市住房城乡建设管理委", "市房屋管理局"]),
        ("浦东新区人民政府和临港有什么任务", ["浦东新区人民政府", "临港新片区管委会"]),
        ("嘉定、青浦、松江、奉贤的新城任务", ["嘉定区人民政府", "青浦区人民政府", "松江区人民政府", "奉贤区人民政府"]),
        ("tasks for Pudong and the DRC", ["浦东新区人民政府", "市发展改革委"]),
        ("崇明世界级生态岛建设进展如何", []),
        ("全球新品首发地示范区在哪里", []),
        ("黄浦江沿岸有什么规划", []),
        ("文旅品牌和交通数据", []),
        ("示范区有哪些任务", []),
        ("财政资金怎么倾斜", []),
        ("drcs are not units; a pudongese neither", []),  # word boundaries
    ],
)
def test_questions(registry: Registry, question: str, units: list[str]) -> None:
    assert registry.units_in(question) == units


def test_mentions_carry_offsets_into_the_original_text(registry: Registry) -> None:
    text = "请问 住 建 委 和Ｐｕｄｏｎｇ 的任务"
    mentions = registry.resolve(text)
    assert mentions == [
        Mention("市住房城乡建设管理委", "住 建 委", 3, 8),
        Mention("浦东新区人民政府", "Ｐｕｄｏｎｇ", 10, 16),
    ]
    assert all(text[m.start : m.end] == m.alias for m in mentions)


def test_longest_match_wins_and_is_reported_once(registry: Registry) -> None:
    assert registry.resolve("浦东新区人民政府") == [Mention("浦东新区人民政府", "浦东新区人民政府", 0, 8)]
    assert registry.units_in("各相关区人民政府和各区人民政府") == ["各相关区人民政府", "各区人民政府"]
    assert registry.units_in("市市场监管局") == ["市市场监管局"]


def test_task_texts_mention_only_their_own_units(doc: Document, registry: Registry) -> None:
    false_hits = {t.n: extra for t in doc.tasks if (extra := [u for u in registry.units_in(t.text) if u not in t.units])}
    assert false_hits == {}


def test_units_clause_resolves_to_exactly_the_task_units(doc: Document, registry: Registry) -> None:
    for task in doc.tasks:
        assert registry.units_in("、".join(task.units)) == list(task.units), task.n
        assert registry.units_in(f"（责任单位：{'、'.join(task.units)}）") == list(task.units), task.n


@pytest.mark.parametrize(
    ("name", "collectives"),
    [
        ("徐汇区人民政府", ["各区人民政府", "各相关区人民政府"]),
        ("徐汇", ["各区人民政府", "各相关区人民政府"]),
        ("浦东新区人民政府", ["各区人民政府", "各相关区人民政府"]),
        ("住建委", ["各相关市级部门"]),
        ("市发展改革委", ["各相关市级部门"]),
        ("临港新片区管委会", []),
        ("上海证监局", []),
        ("各区人民政府", []),
        ("不存在的单位", []),
    ],
)
def test_collectives_for(registry: Registry, name: str, collectives: list[str]) -> None:
    assert registry.collectives_for(name) == collectives


def test_english(registry: Registry) -> None:
    assert registry.english("房管局") == "Shanghai Municipal Housing Administration Bureau"
    assert registry.english("浦东") == "Pudong New Area People's Government"
    assert registry.english("不存在的单位") is None
    assert registry.get("不存在的单位") is None


def test_check_against_names_missing_units(registry: Registry) -> None:
    with pytest.raises(RegistryError, match="市未知局"):
        registry.check_against(["市发展改革委", "市未知局"])
    with pytest.raises(RegistryError, match=r"住建委.*别名"):
        registry.check_against(["住建委"])


GOOD_UNIT = """
[[unit]]
name = "市发展改革委"
kind = "municipal"
english = "Development and Reform Commission"
aliases = ["发改委"]
"""


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ("[[unit]\nname = ", "不是有效的TOML"),
        ("title = 'x'", "未知的顶层键"),
        ("", r"没有任何 \[\[unit\]\]"),
        ('[[unit]]\nname = "市X局"\nkind = "municipal"\naliases = []\n', "缺少字段 english"),
        ('[[unit]]\nname = "市X局"\nkind = "ministry"\nenglish = "X"\naliases = []\n', "kind“ministry”未知"),
        ('[[unit]]\nname = "市X局"\nkind = "municipal"\nenglish = "X"\naliases = []\nalias = []\n', "未知字段 alias"),
        ('[[unit]]\nname = "市X局"\nkind = "municipal"\nenglish = "X"\naliases = "X局"\n', "aliases 必须是"),
        ('[[unit]]\nname = "各区"\nkind = "collective"\nenglish = "All"\naliases = []\n', "covers"),
        ('[[unit]]\nname = "市X局"\nkind = "municipal"\nenglish = "X"\naliases = []\ncovers = "district"\n', "covers"),
        (GOOD_UNIT + GOOD_UNIT, "登记了两次"),
        (GOOD_UNIT + '[[unit]]\nname = "市Y局"\nkind = "municipal"\nenglish = "Y Bureau"\naliases = ["发改委"]\n',
         "“发改委”已属于“市发展改革委”"),
        (GOOD_UNIT.replace('["发改委"]', '["发改委", "发改委"]'), "“发改委”重复登记"),
        (GOOD_UNIT.replace('["发改委"]', '["委"]'), "太短"),
        (GOOD_UNIT.replace('english = "Development', 'english = "发展'), "非ASCII"),
        (GOOD_UNIT + '[exclusions]\nnot_units = ["发改委"]\n', "not_units 中的“发改委”"),
        (GOOD_UNIT + '[exclusions]\nother = ["x"]\n', "只能包含 not_units"),
        (GOOD_UNIT + '[kinds]\nministry = ["部委"]\n', r"\[kinds\] 的键"),
        (GOOD_UNIT + '[kinds]\ndistrict = "区政府"\n', "必须是非空字符串的列表"),
    ],
)  # fmt: skip
def test_malformed_registry_raises_a_clear_error(tmp_path: Path, toml: str, message: str) -> None:
    path = tmp_path / "units.toml"
    path.write_text(toml, encoding="utf-8")
    with pytest.raises(RegistryError, match=message) as info:
        Registry.load(path)
    assert str(path) in str(info.value)


def test_missing_registry_file(tmp_path: Path) -> None:
    with pytest.raises(RegistryError, match="无法读取单位名录"):
        Registry.load(tmp_path / "nope.toml")


def test_a_small_registry_from_a_file(tmp_path: Path) -> None:
    path = tmp_path / "units.toml"
    path.write_text(GOOD_UNIT + '[exclusions]\nnot_units = ["发改委员会议"]\n', encoding="utf-8")
    registry = Registry.load(path)
    assert registry.units_in("发改委的任务；发改委员会议") == ["市发展改革委"]
    assert len(registry.resolve("发改委的任务；发改委员会议")) == 1


def _reference_find(matcher, text: str) -> list:
    """PhraseMatcher.find as first written: every key searched for in the whole text (slow, obviously right)."""
    import re as _re

    from assistant.units import _normalise_with_offsets

    candidates = []
    folded, origin = _normalise_with_offsets(text, keep_spaces=False)
    for key, phrase, payload in matcher._cjk:
        at = folded.find(key)
        while at != -1:
            candidates.append((len(key), origin[at], origin[at + len(key) - 1] + 1, phrase, payload))
            at = folded.find(key, at + 1)
    spaced, origin = _normalise_with_offsets(text, keep_spaces=True)
    if _re.search(r"[a-z]", spaced):
        for pattern, first_word, phrase, length, payload in matcher._ascii:
            if first_word in spaced:
                for m in pattern.finditer(spaced):
                    candidates.append((length, origin[m.start()], origin[m.end() - 1] + 1, phrase, payload))
    candidates.sort(key=lambda c: (-c[0], c[1]))
    taken = [False] * len(text)
    found = []
    for _, start, end, phrase, payload in candidates:
        if any(taken[start:end]):
            continue
        taken[start:end] = [True] * (end - start)
        if payload is not None:
            found.append((phrase, payload, start, end))
    return sorted(found, key=lambda f: f[2])


def test_phrase_matcher_finds_what_searching_for_every_phrase_finds(doc: Document, registry: Registry) -> None:
    """The prefix index of PhraseMatcher.find changes its speed, not its answers: the registry's and the
    glossary's matchers agree with the reference on every task, question and unit name (and on odd text)."""
    import json

    from assistant.glossary import Glossary

    root = Path(__file__).resolve().parent.parent
    texts = [t.text for t in doc.tasks] + [u.name for u in registry.units]
    texts += [a for u in registry.units for a in (*u.aliases, u.english)]
    for path in sorted((root / "evals").glob("*/*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            item = json.loads(line)
            texts += [item[k] for k in ("question", "draft") if isinstance(item.get(k), str)]
    texts += ["", "市", "ＮＤＲＣ 和 住建委", "㈠住建委 Housing  Commission,发改委员会议", "住 建 委\n人社局"]
    for matcher in (registry._matcher, Glossary.load()._matcher):
        for text in texts:
            assert matcher.find(text) == _reference_find(matcher, text), text


def test_a_kind_of_unit_is_found_when_no_unit_is_named(registry: Registry) -> None:
    assert registry.kind_in("有没有区人民政府打头的任务") == "district"
    assert registry.kind_in("Does any district-level body take part?") == "district"
    assert registry.kind_in("海绵城市谁负责") == ""
    assert {"崇明区人民政府", "各区人民政府", "各相关区人民政府"} <= registry.of_kind("district")
    assert "市交通委" not in registry.of_kind("district")


def test_find_results_are_the_callers_own_and_caches_can_be_cleared(registry):
    """find keeps recent results: a caller that edits its list must not change what the next caller gets."""
    from assistant.units import clear_match_caches

    first = registry.resolve("市水务局和市住房城乡建设管理委一起办")
    first.clear()
    again = registry.resolve("市水务局和市住房城乡建设管理委一起办")
    assert [m.unit for m in again] == ["市水务局", "市住房城乡建设管理委"]
    clear_match_caches()
    assert registry.resolve("市水务局和市住房城乡建设管理委一起办") == again

"""The topic glossary on real data: every expansion points at wording the work plan really uses."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.document import Document, load
from assistant.errors import RegistryError
from assistant.glossary import Glossary
from assistant.text import fold
from assistant.units import Registry

CORPUS = Path(__file__).resolve().parent.parent / "corpus" / "task-division-plan-2025.txt"


@pytest.fixture(scope="module")
def doc() -> Document:
    return load(CORPUS)


@pytest.fixture(scope="module")
def glossary() -> Glossary:
    return Glossary.load()


def test_default_glossary_is_cached(glossary: Glossary) -> None:
    assert Glossary.load() is glossary


def test_every_means_phrase_occurs_in_some_task(doc: Document, glossary: Glossary) -> None:
    texts = [fold(t.text) for t in doc.tasks]
    missing = [m for term in glossary.terms for m in term.means if not any(fold(m) in t for t in texts)]
    assert missing == []
    glossary.check_against(t.text for t in doc.tasks)


def test_check_against_names_phrases_not_in_the_document(tmp_path: Path, doc: Document) -> None:
    path = tmp_path / "glossary.toml"
    path.write_text('[[term]]\nshorthand = ["飞船"]\nmeans = ["星际航行", "轨道交通"]\n', encoding="utf-8")
    with pytest.raises(RegistryError, match="星际航行") as info:
        Glossary.load(path).check_against(t.text for t in doc.tasks)
    assert "轨道交通" not in str(info.value)


def test_no_shorthand_is_a_unit_name(glossary: Glossary) -> None:
    registry = Registry.load()
    for term in glossary.terms:
        for phrase in term.shorthand:
            assert registry.get(phrase) is None, phrase


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("旧改进展如何", ["二级旧里以下房屋改造", "小梁薄板房屋改造", "城市更新"]),
        ("旧区改造什么时候完成", ["二级旧里以下房屋改造", "小梁薄板房屋改造", "城市更新"]),
        ("电瓶车安全谁管", ["电动自行车"]),
        ("电动车", ["电动自行车"]),
        ("保租房有多少", ["保障性租赁住房", "租赁住房"]),
        ("轨交里程目标", ["轨道交通"]),
        ("地铁", ["轨道交通"]),
        ("充电桩覆盖", ["快充站"]),
        ("快充", ["快充站"]),
        ("公积金", ["住房公积金"]),
        ("农民工子女上学", ["随迁子女", "教育资源"]),  # going to school, not which school (家门口学校)
        ("长护险", ["长期护理保险"]),
        ("社保卡", ["社会保障卡", "一卡通"]),
        ("外卖骑手的工伤", ["新就业形态人员职业伤害保障"]),
        ("PM2.5", ["细颗粒物", "蓝天"]),
        ("pm2.5 target", ["细颗粒物", "蓝天"]),
        ("sponge city targets", ["海绵城市"]),
        ("What about e-bikes and the metro?", ["电动自行车", "轨道交通"]),
        ("Rail Transit mileage", ["轨道交通"]),
        ("gas pipeline renewal", ["燃气管道"]),
        ("affordable rental housing", ["保障性租赁住房", "租赁住房"]),
        ("carbon emissions", ["碳排放强度", "碳普惠"]),
        ("M0用地", ["工业上楼", "智造空间", "产业用地"]),
    ],
)
def test_expand(glossary: Glossary, question: str, expected: list[str]) -> None:
    assert glossary.expand(question) == expected


@pytest.mark.parametrize(
    "question",
    [
        "住建委负责哪些任务",
        "文旅局有哪些任务",  # 文旅 is a topic, 文旅局 a unit
        "医保局",
        "体育局",
        "Intellectual Property Administration",
        "metros and metropolitan",  # English matches whole words only
        "",
    ],
)
def test_no_expansion(glossary: Glossary, question: str) -> None:
    assert glossary.expand(question) == []


def test_matches_reports_the_shorthand_once_per_term_in_text_order(glossary: Glossary) -> None:
    assert glossary.matches("轨交、电瓶车和地铁") == [("轨交", ["轨道交通"]), ("电瓶车", ["电动自行车"])]


def test_longest_shorthand_wins(glossary: Glossary) -> None:
    assert glossary.matches("农民工子女") == [("农民工子女", ["随迁子女"])]
    assert glossary.matches("碳普惠") == [("碳普惠", ["碳普惠"])]


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ("[[term]\n", "不是有效的TOML"),
        ("", r"没有任何 \[\[term\]\]"),
        ('[[term]]\nshorthand = ["旧改"]\n', "恰好有 shorthand 和 means"),
        ('[[term]]\nshorthand = "旧改"\nmeans = ["城市更新"]\n', "shorthand 必须是"),
        ('[[term]]\nshorthand = []\nmeans = ["城市更新"]\n', "缺少 shorthand 或 means"),
        ('[[term]]\nshorthand = ["改"]\nmeans = ["城市更新"]\n', "太短"),
        ('[[term]]\nshorthand = ["旧改"]\nmeans = ["城市更新"]\n[[term]]\nshorthand = ["旧改"]\nmeans = ["城中村"]\n',
         "“旧改”重复"),
        ('[[term]]\nshorthand = ["住建委"]\nmeans = ["城市更新"]\n', "是单位名称"),
    ],
)  # fmt: skip
def test_malformed_glossary_raises_a_clear_error(tmp_path: Path, toml: str, message: str) -> None:
    path = tmp_path / "glossary.toml"
    path.write_text(toml, encoding="utf-8")
    with pytest.raises(RegistryError, match=message) as info:
        Glossary.load(path)
    assert str(path) in str(info.value)

"""The parser against the real document (exact golden data) and crafted malformed documents."""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path

import pytest

from assistant.document import int_to_numeral, load, numeral_to_int, parse
from assistant.errors import ParseError
from assistant.settings import REFERENCE_PLAN

GOLDEN = Path(__file__).parent / "golden" / "tasks.json"
SOURCE = Path(__file__).resolve().parents[2] / "shared" / "source" / "task-division-plan-2025.txt"


@pytest.fixture(scope="module")
def doc():
    return load(REFERENCE_PLAN)


def test_corpus_is_the_source_unchanged():
    if not SOURCE.exists():
        pytest.skip("shared/source is not beside this checkout")
    assert REFERENCE_PLAN.read_bytes() == SOURCE.read_bytes()


def test_metadata(doc):
    assert doc.title == "〈上海市深入实施以人为本的新型城镇化战略五年行动计划的实施方案〉任务分工方案"
    assert doc.doc_number == "沪区域办〔2025〕2号"
    assert doc.issuer == "上海市区域高质量发展领导小组办公室"
    assert doc.issued == date(2025, 1, 13)


def test_structure_counts(doc):
    assert [t.n for t in doc.tasks] == list(range(1, 86))
    assert [p.no for p in doc.parts] == [1, 2, 3, 4, 5]
    assert [s.no for s in doc.sections] == list(range(1, 21))
    assert len(doc.units()) == 52
    assert all(t.units for t in doc.tasks)
    per_part = {p.no: len(doc.tasks_in_part(p.no)) for p in doc.parts}
    assert per_part == {1: 23, 2: 19, 3: 15, 4: 19, 5: 9}


def test_reference_document_has_no_warnings(doc):
    assert doc.warnings == ()
    assert load(REFERENCE_PLAN, strict=True).tasks == doc.tasks
    assert [t.label for t in doc.tasks] == [str(n) for n in range(1, 86)]
    assert all(t.leads == t.units[:1] and t.scope == "" for t in doc.tasks)
    assert doc.lead_rule == "文件未说明牵头单位，取每项第一个列出的单位"
    assert doc.context[0].text == "上海市区域高质量发展领导小组办公室" and doc.context[0].line == 3
    assert doc.context[-1].text.startswith("认真贯彻落实《上海市深入实施") and doc.context[-1].part is None


def test_matches_reviewed_golden_data(doc):
    """Every task's number, part, section, text and units, in order (reviewed by hand against the PDF text)."""
    assert [t.to_dict() for t in doc.tasks] == json.loads(GOLDEN.read_text(encoding="utf-8"))


@pytest.mark.parametrize(
    ("n", "fragment"),
    [
        (17, "五年建设筹措新时代城市建设者管理者之家床位12万张以上"),  # continued after a blank line
        (24, "全面启动城中村整体改造项目"),  # word split across lines
        (30, "开展老化管道更新改造试点，以廊体标准化"),
        (41, "打造“智慧好办”政务服务品牌"),  # across page-break debris (blank lines)
        (45, "实施高端专业服务机构集聚专项行动"),
        (58, "沪渝蓉铁路（上海经南京至合肥段）"),  # half-width parentheses normalised
        (72, "联合开展精品活动赛事"),
        (83, "闲置宅基地房屋盘活利用等政策"),
        (28, "到2028年底，全市轨道交通运营里程突破1000公里"),  # OCR spaces removed
        (32, "全市建成区面积64%达到海绵城市建设要求"),
        (82, "产业融合管理要求（M0）"),
    ],
)
def test_ocr_breaks_are_joined(doc, n, fragment):
    assert fragment in doc.task(n).text


@pytest.mark.parametrize(
    ("n", "units"),
    [
        (24, ("市住房城乡建设管理委", "市房屋管理局", "市发展改革委")),  # units on their own line
        (35, ("市生态环境局", "市水务局", "市农业农村委", "市规划资源局")),  # 市规划资 / 源局
        (54, ("市经济信息化委", "市农业农村委", "市商务委", "各相关区人民政府")),
        (59, ("市交通委", "市发展改革委")),  # half-width colon and parenthesis
        (65, ("市经济信息化委", "市交通委", "市公安局", "市应急局", "市住房城乡建设管理委", "市数据局", "市通信管理局",
              "市发展改革委")),
        (76, ("长三角生态绿色一体化发展示范区执委会", "市发展改革委", "市财政局", "市人力资源社会保障局", "市文化旅游局",
              "市生态环境局")),
        (77, ("市发展改革委", "各相关市级部门", "各区人民政府")),
        (85, ("市委金融办", "市发展改革委", "人民银行上海总部", "上海金融监管局", "上海证监局", "市财政局")),
    ],
)
def test_units_in_order(doc, n, units):
    assert doc.task(n).units == units
    assert doc.task(n).lead_unit == units[0]


def test_sections_and_parts_placed(doc):
    assert doc.task(1).section.label == "（一）优化户籍和居住证政策"
    assert doc.task(29).section.label == "（八）建设韧性安全城市"
    assert doc.task(74).section.label == "（十八）率先打造长三角生态绿色一体化发展示范区样板间"  # heading without '#'
    assert doc.task(74).part.label == "四、实施上海大都市圈引领长三角一体化发展行动"
    assert doc.task(85).part.label == "五、组织实施"
    assert [t.n for t in doc.tasks_in_section(8)] == [29, 30, 31, 32, 33]


def test_text_is_clean_chinese_typography(doc):
    for task in doc.tasks:
        for text in (task.text, *task.units):
            assert not re.search(r"[(),:;]", text), (task.n, text)
            assert not re.search(r"(?<=[^\x00-\x7f])\s|\s(?=[^\x00-\x7f])", text), (task.n, text)
            assert "责任单位" not in text


def test_numerals_round_trip():
    for n in range(1, 100):
        assert numeral_to_int(int_to_numeral(n)) == n
    assert numeral_to_int("八十五") == 85
    with pytest.raises(ValueError):
        numeral_to_int("十十")


# --- malformed documents -----------------------------------------------------------------------

HEADER = """# 上海市区域高质量发展领导小组办公室

沪区域办〔2025〕2号

## 关于印发《〈测试方案〉任务分工方案》的通知

2025年1月13日
"""


def _doc(body: str) -> str:
    return HEADER + body


GOOD_BODY = """
## 一、第一部分

### （一）第一节

1. 第一项任务。（责任单位：市发展改革委）

2. 第二项任务，
到 2028 年底完成。
（责任单位：市交通委、市规划资
源局）

## 二、第二部分

（二）第二节

3. 第三项任务。(责任单位:市水务局)
"""


def test_crafted_good_document_parses():
    doc = parse(_doc(GOOD_BODY), strict=True)
    assert doc.warnings == ()
    assert [t.n for t in doc.tasks] == [1, 2, 3]
    assert doc.task(2).text == "第二项任务，到2028年底完成。"
    assert doc.task(2).units == ("市交通委", "市规划资源局")
    assert doc.task(3).section.no == 2 and doc.task(3).part.no == 2


def _line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.split("\n"), start=1) if needle in line)


@pytest.mark.parametrize(
    ("body", "needle", "message"),
    [
        (GOOD_BODY.replace("（责任单位：市发展改革委）", ""), "1. 第一项任务", "缺少（责任单位"),
        (GOOD_BODY.replace("3. 第三项", "4. 第三项"), "4. 第三项", "不连续"),
        (GOOD_BODY.replace("3. 第三项", "2. 第三项"), "2. 第三项", "重复"),
        (GOOD_BODY.replace("### （一）第一节\n", ""), "1. 第一项任务", "之前"),
        (GOOD_BODY.replace("(责任单位:市水务局)", "(责任单位:)"), "3. 第三项", "责任单位为空"),
        (GOOD_BODY.replace("（二）第二节", "（三）第二节"), "（三）第二节", "章节序号不连续"),
        (GOOD_BODY.replace("(责任单位:市水务局)", "(责任单位:市水务局"), "3. 第三项", "没有闭合"),
    ],
)
def test_malformed_documents_name_the_line(body, needle, message):
    text = _doc(body)
    with pytest.raises(ParseError) as info:
        parse(text, strict=True)
    assert message in str(info.value)
    assert info.value.line == _line_of(text, needle)
    assert f"第{info.value.line}行" in str(info.value)
    # The default mode keeps going and reports the same problem, on the same line, as a warning.
    doc = parse(text)
    assert any(message in w.message and w.line == info.value.line for w in doc.warnings), doc.warnings
    assert doc.tasks


def test_stray_text_between_tasks_is_reported():
    text = _doc(GOOD_BODY.replace("## 二、第二部分", "这是一段不属于任何任务的文字\n\n## 二、第二部分"))
    with pytest.raises(ParseError) as info:
        parse(text, strict=True)
    assert info.value.line == _line_of(text, "这是一段不属于")
    doc = parse(text)
    message = "无法归属的文本（不属于任何任务）：这是一段不属于任何任务的文字"
    assert [(w.line, w.message) for w in doc.warnings] == [(info.value.line, message)]
    assert [t.n for t in doc.tasks] == [1, 2, 3]
    stray = next(p for p in doc.context if p.line == info.value.line)
    assert stray.text == "这是一段不属于任何任务的文字" and stray.part.no == 1 and stray.section.no == 1


def test_empty_file(tmp_path):
    path = tmp_path / "empty.txt"
    path.write_bytes(b"  \n\n")
    with pytest.raises(ParseError, match="文件为空"):
        load(path)


def test_not_utf8(tmp_path):
    path = tmp_path / "gbk.txt"
    path.write_bytes(_doc(GOOD_BODY).encode("gbk"))
    with pytest.raises(ParseError, match="UTF-8") as info:
        load(path, strict=True)
    assert info.value.line >= 1
    assert str(path) in str(info.value)


def test_missing_file(tmp_path):
    with pytest.raises(ParseError, match="无法读取"):
        load(tmp_path / "nope.txt")


def test_no_tasks_at_all():
    with pytest.raises(ParseError, match="没有找到任何编号任务"):
        parse(HEADER + "\n一些文字\n")


def test_missing_doc_number():
    text = _doc(GOOD_BODY).replace("沪区域办〔2025〕2号", "")
    with pytest.raises(ParseError, match="文号"):
        parse(text, strict=True)
    doc = parse(text)
    assert doc.doc_number == "" and [t.n for t in doc.tasks] == [1, 2, 3]
    assert [w.message for w in doc.warnings] == ["正文前没有找到文号（如“沪区域办〔2025〕2号”）"]


def test_page_debris_is_skipped():
    body = GOOD_BODY.replace("到 2028 年底完成。", "\n— 3 —\n\n到 2028 年底完成。")
    assert parse(_doc(body)).task(2).text == "第二项任务，到2028年底完成。"

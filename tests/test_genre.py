"""The parser across the genre of task-division plans: one small document per form seen in real plans.

Each case is a document written here and what it must give: tasks as (label, text, units, leads),
where they sit, context paragraphs, warnings with their lines, and the lead rule. The reference
plan itself is pinned by tests/test_document.py and tests/golden/tasks.json.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from assistant.document import Document, load, parse
from assistant.errors import ParseError

ROOT = Path(__file__).resolve().parent.parent

NOTICE = """某市人民政府办公厅
某府办〔2024〕7号
关于印发《某市优化营商环境重点任务分工方案》的通知
各区人民政府，市政府各部门：
现将《某市优化营商环境重点任务分工方案》印发给你们，请认真贯彻执行。
某市人民政府办公厅
2024年3月5日
"""


@dataclass
class Case:
    id: str
    text: str
    # (label, text, units, leads); leads None means "the first unit listed"
    tasks: list[tuple[str, str, tuple[str, ...], tuple[str, ...] | None]]
    where: dict[str, tuple[str | None, str | None]] = field(default_factory=dict)  # label -> (part, section)
    context: list[str] = field(default_factory=list)  # texts that must be context paragraphs
    warnings: list[tuple[str, str]] = field(default_factory=list)  # (text on the line, part of the message)
    lead_rule: str | None = None
    scope: dict[str, str] = field(default_factory=dict)


CASES = [
    Case(
        "numbers-1、-straight-through-parts-without-sections",
        NOTICE + """
一、深化“放管服”改革
1、推行企业开办“一网通办”。（责任单位：市市场监管局、市数据局，各区人民政府）
2、压缩工程建设项目审批时间。（责任单位：市住房城乡建设局）
二、优化法治环境
3、规范涉企行政检查。（责任单位：市司法局）
""",
        [("1", "推行企业开办“一网通办”。", ("市市场监管局", "市数据局", "各区人民政府"), None),
         ("2", "压缩工程建设项目审批时间。", ("市住房城乡建设局",), None),
         ("3", "规范涉企行政检查。", ("市司法局",), None)],
        where={"1": ("一、深化“放管服”改革", None), "3": ("二、优化法治环境", None)},
        lead_rule="文件未说明牵头单位，取每项第一个列出的单位",
    ),
    Case(
        "numbers-restart-per-section",
        NOTICE + """
一、主要任务
（一）提升政务服务
1. 推进政务服务事项“一网通办”。（责任单位：市数据局）
2. 推进“高效办成一件事”。（责任单位：市政府办公厅、市数据局）
（二）提升监管效能
1. 推行“综合查一次”。（责任单位：市司法局）
二、保障措施
（三）强化组织领导
1. 建立工作专班。（责任单位：市发展改革委）
""",
        [("（一）1", "推进政务服务事项“一网通办”。", ("市数据局",), None),
         ("（一）2", "推进“高效办成一件事”。", ("市政府办公厅", "市数据局"), None),
         ("（二）1", "推行“综合查一次”。", ("市司法局",), None),
         ("（三）1", "建立工作专班。", ("市发展改革委",), None)],
        where={"（二）1": ("一、主要任务", "（二）提升监管效能"), "（三）1": ("二、保障措施", "（三）强化组织领导")},
    ),
    Case(
        "numbers-restart-per-part-sections-restart-too",
        NOTICE + """
一、重点任务
（一）营商环境
1. 推进A。（责任单位：市发展改革委）
（二）开放环境
2. 推进B。（责任单位：市商务委）
二、保障措施
（一）组织保障
1. 推进C。（责任单位：市政府办公厅）
""",
        [("一、1", "推进A。", ("市发展改革委",), None), ("一、2", "推进B。", ("市商务委",), None),
         ("二、1", "推进C。", ("市政府办公厅",), None)],
        where={"二、1": ("二、保障措施", "（一）组织保障")},
    ),
    Case(
        "numbers-restart-per-section-and-sections-restart-per-part",
        NOTICE + """
一、重点任务
（一）营商环境
1. 推进A。（责任单位：市发展改革委）
2. 推进B。（责任单位：市商务委）
（二）开放环境
1. 推进C。（责任单位：市商务委）
二、保障措施
（一）组织保障
1. 推进D。（责任单位：市政府办公厅）
""",
        [("一、（一）1", "推进A。", ("市发展改革委",), None), ("一、（一）2", "推进B。", ("市商务委",), None),
         ("一、（二）1", "推进C。", ("市商务委",), None), ("二、（一）1", "推进D。", ("市政府办公厅",), None)],
    ),
    Case(
        "numbers-（一）-tasks-restarting-in-each-part",
        NOTICE + """
一、提升便利度
（一）推进企业开办便利化。（责任单位：市市场监管局）
（二）推进不动产登记便利化。（责任单位：市规划资源局）
二、提升公平性
（一）清理妨碍统一市场的规定。（责任单位：市发展改革委、市市场监管局）
""",
        [("一、（一）", "推进企业开办便利化。", ("市市场监管局",), None),
         ("一、（二）", "推进不动产登记便利化。", ("市规划资源局",), None),
         ("二、（一）", "清理妨碍统一市场的规定。", ("市发展改革委", "市市场监管局"), None)],
        where={"二、（一）": ("二、提升公平性", None)},
    ),
    Case(
        "numbers-一、-at-task-level-work-points",
        """2024年全市数字化转型工作要点
一、建设城市数据底座。（牵头单位：市数据局；责任单位：市经济信息化委、市通信管理局）
二、推进公共数据开放。（牵头单位：市数据局）
三、培育数据要素市场。（市数据局、市发展改革委负责）
""",
        [("一", "建设城市数据底座。", ("市数据局", "市经济信息化委", "市通信管理局"), ("市数据局",)),
         ("二", "推进公共数据开放。", ("市数据局",), ("市数据局",)),
         ("三", "培育数据要素市场。", ("市数据局", "市发展改革委"), None)],
        where={"一": (None, None)},
        context=["2024年全市数字化转型工作要点"],
        lead_rule="注明牵头单位的从其注明；其余文件未说明牵头单位，取每项第一个列出的单位",
    ),
    Case(
        "numbers-一、-at-section-level-under-第一部分",
        """第一部分 总体要求
到2025年，营商环境便利度明显提升。
第二部分 重点任务
一、优化市场环境
1. 破除市场准入壁垒。（责任单位：市发展改革委）
二、优化政务环境
2. 推进“一业一证”改革。（责任单位：市审改办）
""",
        [("1", "破除市场准入壁垒。", ("市发展改革委",), None), ("2", "推进“一业一证”改革。", ("市审改办",), None)],
        where={"1": ("第二部分 重点任务", "一、优化市场环境"), "2": ("第二部分 重点任务", "二、优化政务环境")},
        context=["到2025年，营商环境便利度明显提升。"],
    ),
    Case(
        "numbers-1.-at-section-level-（1）-tasks",
        """街道2024年重点工作责任分解
1. 民生保障
（1）完善社区养老服务。（责 任 单 位：社区服务办、各居委会）
（2）开展就业帮扶。（责任单位：社区服务办）
2. 城市管理
（1）整治背街小巷。（责任单位：城管中队）
""",
        [("1.（1）", "完善社区养老服务。", ("社区服务办", "各居委会"), None),
         ("1.（2）", "开展就业帮扶。", ("社区服务办",), None),
         ("2.（1）", "整治背街小巷。", ("城管中队",), None)],
        where={"2.（1）": (None, "2.城市管理")},
    ),
    Case(
        "no-parts-no-sections",
        """重点任务责任分解方案
1. 开展消费券发放活动。（责任单位：区商务委）
2. 举办夜间经济节。（责任单位：区商务委、区文化旅游局）
""",
        [("1", "开展消费券发放活动。", ("区商务委",), None),
         ("2", "举办夜间经济节。", ("区商务委", "区文化旅游局"), None)],
        where={"1": (None, None)},
    ),
    Case(
        "sections-without-parts",
        """（一）稳定就业
1. 落实稳岗返还政策。（责任单位：区人力资源社会保障局）
（二）扩大消费
2. 开展促消费活动。（责任单位：区商务委）
""",
        [("1", "落实稳岗返还政策。", ("区人力资源社会保障局",), None),
         ("2", "开展促消费活动。", ("区商务委",), None)],
        where={"2": (None, "（二）扩大消费")},
    ),
    Case(
        "parts-with-and-without-sections-and-a-goals-part",
        NOTICE + """
一、总体要求
以习近平新时代中国特色社会主义思想为指导，全面优化营商环境。
二、重点任务
（一）市场环境
1. 破除隐性壁垒。（责任单位：市发展改革委）
（二）政务环境
2. 推进一网通办。（责任单位：市数据局）
三、保障措施
3. 加强督查考核。（责任单位：市政府督查室）
""",
        [("1", "破除隐性壁垒。", ("市发展改革委",), None), ("2", "推进一网通办。", ("市数据局",), None),
         ("3", "加强督查考核。", ("市政府督查室",), None)],
        where={"3": ("三、保障措施", None), "2": ("二、重点任务", "（二）政务环境")},
        context=["以习近平新时代中国特色社会主义思想为指导，全面优化营商环境。"],
    ),
    Case(
        "goals-and-principles-items-without-units-are-context",
        NOTICE + """
一、工作目标
1. 到2025年，企业开办时间压缩至1个工作日。
2. 坚持问题导向，坚持系统观念。
二、重点任务
3. 推进企业开办全程网办。（责任单位：市市场监管局）
4. 推进证照分离改革。（责任单位：市市场监管局、市审改办）
""",
        [("3", "推进企业开办全程网办。", ("市市场监管局",), None),
         ("4", "推进证照分离改革。", ("市市场监管局", "市审改办"), None)],
        context=["1.到2025年，企业开办时间压缩至1个工作日。", "2.坚持问题导向，坚持系统观念。"],
    ),
    Case(
        "units-lead-and-responsible",
        NOTICE + """
1. 推进政务服务标准化。（牵头单位：市数据局；责任单位：市市场监管局、市司法局）
2. 推进跨省通办。（责任单位：市政府办公厅、市公安局；牵头单位：市数据局）
""",
        [("1", "推进政务服务标准化。", ("市数据局", "市市场监管局", "市司法局"), ("市数据局",)),
         ("2", "推进跨省通办。", ("市政府办公厅", "市公安局", "市数据局"), ("市数据局",))],
        lead_rule="逐项注明牵头单位（牵头单位：…／“X牵头”）",
    ),
    Case(
        "units-cooperating-and-collective-各区、县级市",
        NOTICE + """
1. 推进“一件事一次办”。（牵头单位：市政务服务数据管理局，配合单位：市公安局、市人力资源社会保障局，各区、县级市）
""",
        [("1", "推进“一件事一次办”。", ("市政务服务数据管理局", "市公安局", "市人力资源社会保障局", "各区、县级市"),
          ("市政务服务数据管理局",))],
    ),
    Case(
        "units-负责-with-the-first-listed-leading-by-the-preamble",
        """关于印发《重点任务分工方案》的通知
各项任务中，排在第一位的部门为牵头部门，其他部门按职责分工负责。
1. 完善企业信用修复机制。（市发展改革委、市市场监管局、人民银行市分行负责）
2. 推行信用承诺制。（市发展改革委负责）
""",
        [("1", "完善企业信用修复机制。", ("市发展改革委", "市市场监管局", "人民银行市分行"), ("市发展改革委",)),
         ("2", "推行信用承诺制。", ("市发展改革委",), None)],
        lead_rule="文件说明：排在第一位的部门为牵头部门",
    ),
    Case(
        "units-负责部门-and-适用范围",
        """自贸试验区改革任务分工
1. 试点跨境服务贸易负面清单管理。（负责部门：市商务委、市发展改革委，适用范围：中国（上海）自由贸易试验区临港新片区）
2. 推进数据跨境流动便利化。（负责部门：市网信办）
""",
        [("1", "试点跨境服务贸易负面清单管理。", ("市商务委", "市发展改革委"), None),
         ("2", "推进数据跨境流动便利化。", ("市网信办",), None)],
        scope={"1": "中国（上海）自由贸易试验区临港新片区", "2": ""},
    ),
    Case(
        "units-X牵头-others-按职责分工负责",
        """工作任务清单
1. 建立重点企业服务包制度。（市经济信息化委牵头，市发展改革委、市商务委按职责分工负责）
2. 完善惠企政策直达机制。（市财政局、市税务局牵头，各区政府配合）
3. 实施行政许可事项清单管理。(市政府办公室牵头,市级各有关部门及各县市区政府按职责分工负责)
""",
        [("1", "建立重点企业服务包制度。", ("市经济信息化委", "市发展改革委", "市商务委"), ("市经济信息化委",)),
         ("2", "完善惠企政策直达机制。", ("市财政局", "市税务局", "各区政府"), ("市财政局", "市税务局")),
         ("3", "实施行政许可事项清单管理。", ("市政府办公室", "市级各有关部门", "各县市区政府"), ("市政府办公室",))],
        lead_rule="逐项注明牵头单位（牵头单位：…／“X牵头”）",
    ),
    Case(
        "units-等有关部门负责-and-placeholders",
        """工作任务清单
1. 开展营商环境评价。（市发展改革委、市统计局等有关部门负责）
2. 做好政策宣传解读。（责任单位：各有关单位）
""",
        [("1", "开展营商环境评价。", ("市发展改革委", "市统计局", "有关部门"), None),
         ("2", "做好政策宣传解读。", ("各有关单位",), None)],
    ),
    Case(
        "units-on-their-own-line",
        """区重点任务分工方案
1. 推动区域经济高质量发展，编制年度重大项目清单。
责任单位：区发展和改革局
2. 推进老旧小区改造。
牵头单位：区住房和城乡建设局
配合单位：区财政局、
各街道办事处
""",
        [("1", "推动区域经济高质量发展，编制年度重大项目清单。", ("区发展和改革局",), None),
         ("2", "推进老旧小区改造。", ("区住房和城乡建设局", "区财政局", "各街道办事处"), ("区住房和城乡建设局",))],
    ),
    Case(
        "fields-on-their-own-lines-time-limit-and-scope",
        """区重点任务分工方案
1. 推进城市更新。（责任单位：区住房和城乡建设局）
完成时限：2026年底
适用范围：中心城区
2. 推进数字化转型。
牵头单位：区数据局
完成时限：2025年底
""",
        [("1", "推进城市更新。（完成时限：2026年底）", ("区住房和城乡建设局",), None),
         ("2", "推进数字化转型。（完成时限：2025年底）", ("区数据局",), ("区数据局",))],
        scope={"1": "中心城区", "2": ""},
    ),
    Case(
        "units-at-the-item-head-with-numbered-details-below",
        """重点工作任务清单
（一）推进数字政府建设（牵头单位：市数据局）
1. 建设政务云；
2. 完善数据共享。
（二）推进城市更新。（责任单位：市住房城乡建设管理委）
""",
        [("（一）", "推进数字政府建设1.建设政务云；2.完善数据共享", ("市数据局",), ("市数据局",)),
         ("（二）", "推进城市更新。", ("市住房城乡建设管理委",), None)],
    ),
    Case(
        "text-after-the-units-stays-with-the-task-with-a-warning",
        """重点任务分工
1. 推进营商环境改革。（责任单位：市发展改革委）（2025年底前完成）
""",
        [("1", "推进营商环境改革。（2025年底前完成）", ("市发展改革委",), None)],
        warnings=[("1. 推进营商", "第1项的责任单位之后还有文字：（2025年底前完成）")],
    ),
    Case(
        "units-with-a-bracket-inside-and-；各区政府",
        """交通任务分工
1. 推进道路运输电子证照应用。（责任单位：市交通委（市道运局）、市公安局交警总队；各区政府）
""",
        [("1", "推进道路运输电子证照应用。", ("市交通委（市道运局）", "市公安局交警总队", "各区政府"), None)],
    ),
    Case(
        "sub-tasks-two-and-three-brackets-in-one-item",
        """重点任务分工
1. 推进首发经济。（责任单位：市商务委）
2. 打造国际消费中心城市（责任单位：市商务委）；建设夜间经济集聚区（责任单位：市商务委、各区政府）。
3. 建设城市绿道（责任单位：市绿化市容局）；推进口袋公园建设（牵头单位：市绿化市容局，
配合单位：各区政府）；实施河道整治（责任单位：市水务局）。
""",
        [("1", "推进首发经济。", ("市商务委",), None),
         ("2-1", "打造国际消费中心城市", ("市商务委",), None),
         ("2-2", "建设夜间经济集聚区", ("市商务委", "各区政府"), None),
         ("3-1", "建设城市绿道", ("市绿化市容局",), None),
         ("3-2", "推进口袋公园建设", ("市绿化市容局", "各区政府"), ("市绿化市容局",)),
         ("3-3", "实施河道整治", ("市水务局",), None)],
    ),
    Case(
        "brackets-in-the-text-that-are-not-units",
        """人才工作任务分工
1. 支持区（县级市）建设人才驿站，简化因公出国（境）审批，办好中国留学人员交流大会（简称“留交会”）。（责任单位：市人才办、市外办）
""",
        [("1", "支持区（县级市）建设人才驿站，简化因公出国（境）审批，办好中国留学人员交流大会（简称“留交会”）。",
          ("市人才办", "市外办"), None)],
    ),
    Case(
        "ocr-debris",
        """# 上海市XX领导小组办公室

沪XX办〔2025〕3号

## 关于印发《XX任务分工方案》的通知

2025年2月1日

## 一、第一部分

### (一) 第一节

1. 推进城市更新,到 2026 年底,全面启动城中村整

体改造项目。

— 2 —

(责任单位:市住房城乡建设管理委、市规划资

源局)

2. 建设海绵城市,建成区面积 64%达到要求。(责任单位: 市水务局)
""",
        [("1", "推进城市更新，到2026年底，全面启动城中村整体改造项目。", ("市住房城乡建设管理委", "市规划资源局"), None),
         ("2", "建设海绵城市，建成区面积64%达到要求。", ("市水务局",), None)],
        where={"2": ("一、第一部分", "（一）第一节")},
    ),
    Case(
        "warnings-gap-stray-text-unclosed-duplicate-missing",
        NOTICE + """
一、重点任务
1. 推进A。（责任单位：市发展改革委）
3. 推进B。（责任单位：市商务委、市商务委）
这是一段放错位置的文字。
4. 推进C。
5. 推进D。（责任单位：市财政局
""",
        [("1", "推进A。", ("市发展改革委",), None), ("3", "推进B。", ("市商务委",), None),
         ("5", "推进D。", ("市财政局",), None)],
        context=["这是一段放错位置的文字。", "4.推进C。"],
        warnings=[("3. 推进B", "任务编号不连续：应为第2项，实为第3项"), ("3. 推进B", "第3项的责任单位重复：市商务委"),
                  ("这是一段放错位置", "无法归属的文本（不属于任何任务）：这是一段放错位置的文字。"),
                  ("4. 推进C", "第4项缺少（责任单位：…）"), ("5. 推进D", "第5项的（责任单位：…）没有闭合")],
    ),
]


def _about_metadata(message: str) -> bool:
    """Plans published without a notice lack 文号 and date; tested once in test_plan_without_notice…."""
    return message.startswith(("正文前没有找到", "没有找到成文日期", "文号前没有找到"))


def _case(case_id: str) -> Case:
    return next(c for c in CASES if c.id == case_id)


def _line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.split("\n"), start=1) if needle in line)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_genre_form(case: Case):
    doc = parse(case.text)
    got = [(t.label, t.text, t.units, t.leads) for t in doc.tasks]
    want = [(label, text, units, leads if leads is not None else units[:1]) for label, text, units, leads in case.tasks]
    assert got == want
    assert [t.n for t in doc.tasks] == list(range(1, len(doc.tasks) + 1))
    lines = case.text.split("\n")
    for t in doc.tasks:
        assert t.lead_unit == t.leads[0]
        first = doc.tasks_labelled(t.label.replace("-2", "-1").replace("-3", "-1"))[0]  # a sub-task: its item's line
        assert first.text[:4] in lines[t.line - 1], (t.label, t.line)
    for label, (part, section) in case.where.items():
        task = doc.tasks_labelled(label)[0]
        assert (task.part.label if task.part else None, task.section.label if task.section else None) == (part, section)
    contexts = [p.text for p in doc.context]
    for text in case.context:
        assert text in contexts
    want_warnings = sorted((_line_of(case.text, needle), message) for needle, message in case.warnings)
    assert sorted((w.line, w.message) for w in doc.warnings if not _about_metadata(w.message)) == want_warnings
    if case.lead_rule is not None:
        assert doc.lead_rule == case.lead_rule
    for label, scope in case.scope.items():
        assert doc.tasks_labelled(label)[0].scope == scope
    if doc.warnings:  # strict mode stops at the first one
        with pytest.raises(ParseError) as info:
            parse(case.text, strict=True)
        assert info.value.line == min(w.line for w in doc.warnings)
    else:
        assert parse(case.text, strict=True).tasks == doc.tasks


def test_notice_metadata():
    doc = parse(_case("numbers-1、-straight-through-parts-without-sections").text, strict=True)
    assert (doc.title, doc.doc_number, doc.issuer, str(doc.issued)) == (
        "某市优化营商环境重点任务分工方案", "某府办〔2024〕7号", "某市人民政府办公厅", "2024-03-05")


def test_plan_without_notice_has_empty_metadata_and_says_so():
    text = _case("no-parts-no-sections").text
    doc = parse(text)
    assert (doc.title, doc.doc_number, doc.issuer, doc.issued) == ("重点任务责任分解方案", "", "", None)
    assert [w.message for w in doc.warnings] == ["正文前没有找到文号（如“沪区域办〔2025〕2号”）",
                                                  "没有找到成文日期（如“2025年1月13日”）"]
    with pytest.raises(ParseError, match="文号"):
        parse(text, strict=True)


def test_closing_signature_gives_issuer_and_date():
    doc = parse(_case("no-parts-no-sections").text + "\n某区人民政府办公室\n2024年6月1日\n")
    assert (doc.issuer, str(doc.issued)) == ("某区人民政府办公室", "2024-06-01")


def test_context_sits_under_its_heading():
    text = _case("parts-with-and-without-sections-and-a-goals-part").text
    doc = parse(text)
    goal = next(p for p in doc.context if p.text.startswith("以习近平"))
    assert goal.part is not None and goal.part.label == "一、总体要求" and goal.section is None
    assert goal.line == _line_of(text, "以习近平")


def test_numbers_written_straight_through_are_positions_too():
    # goals 1-2 are context, tasks are written 3 and 4
    doc = parse(_case("goals-and-principles-items-without-units-are-context").text)
    assert [(t.n, t.label) for t in doc.tasks] == [(1, "3"), (2, "4")]
    assert doc.task(1).label == "3" and doc.tasks_labelled("4")[0].n == 2


def test_no_tasks_at_all_raises_in_both_modes():
    for strict in (False, True):
        with pytest.raises(ParseError, match="没有找到任何编号任务"):
            parse("工作方案\n一、总体要求\n做好各项工作。\n", strict=strict)


def test_to_dict_is_json_ready():
    doc = parse(_case("units-负责部门-and-适用范围").text)
    data = json.loads(json.dumps(doc.to_dict(), ensure_ascii=False))
    assert data["tasks"][0]["scope"] == "中国（上海）自由贸易试验区临港新片区"
    assert set(data) >= {"title", "doc_number", "issuer", "issued", "lead_rule", "parts", "sections", "tasks", "context",
                         "warnings"}


# --- file formats ------------------------------------------------------------------------------

PLAN_LINES = [
    "某区人民政府办公室",
    "某府办〔2024〕9号",
    "2024年5月6日",
    "区重点任务分工方案",
    "一、重点任务",
    "1. 推进老旧小区改造。（牵头单位：区住房和城乡建设局；配合单位：区财政局）",
    "2. 建设口袋公园（责任单位：区绿化市容局）；整治背街小巷（责任单位：区城管执法局、各街道办事处）。",
]


def _check_plan(doc: Document) -> None:
    assert [(t.label, t.text, t.units, t.leads) for t in doc.tasks] == [
        ("1", "推进老旧小区改造。", ("区住房和城乡建设局", "区财政局"), ("区住房和城乡建设局",)),
        ("2-1", "建设口袋公园", ("区绿化市容局",), ("区绿化市容局",)),
        ("2-2", "整治背街小巷", ("区城管执法局", "各街道办事处"), ("区城管执法局",)),
    ]
    assert doc.tasks[0].part is not None and doc.tasks[0].part.label == "一、重点任务"


def test_docx_paragraphs(tmp_path):
    docx = pytest.importorskip("docx")
    word = docx.Document()
    for line in PLAN_LINES:
        word.add_paragraph(line)
    path = tmp_path / "plan.docx"
    word.save(str(path))
    doc = load(path, strict=True)
    _check_plan(doc)
    assert doc.tasks[1].line == 7  # the paragraph number
    assert (doc.title, doc.doc_number, str(doc.issued)) == ("区重点任务分工方案", "某府办〔2024〕9号", "2024-05-06")
    assert doc.source == str(path)


def test_docx_table_with_unit_columns(tmp_path):
    docx = pytest.importorskip("docx")
    word = docx.Document()
    word.add_paragraph("重点任务分工表")
    table = word.add_table(rows=3, cols=4)
    for row, cells in zip(table.rows, [("序号", "重点任务", "牵头单位", "配合单位"),
                                       ("1", "推进老旧小区改造。", "区住房和城乡建设局", "区财政局\n各街道办事处"),
                                       ("2", "建设口袋公园。", "区绿化市容局", "")], strict=True):
        for cell, text in zip(row.cells, cells, strict=True):
            cell.text = text
    path = tmp_path / "table.docx"
    word.save(str(path))
    doc = load(path)
    assert [(t.label, t.text, t.units, t.leads) for t in doc.tasks] == [
        ("1", "推进老旧小区改造。", ("区住房和城乡建设局", "区财政局", "各街道办事处"), ("区住房和城乡建设局",)),
        ("2", "建设口袋公园。", ("区绿化市容局",), ("区绿化市容局",)),
    ]


def test_docx_auto_numbering_is_reported(tmp_path):
    docx = pytest.importorskip("docx")
    word = docx.Document()
    word.add_paragraph("1. 推进A。（责任单位：区发展和改革局）")
    word.add_paragraph("推进B。（责任单位：区财政局）", style="List Number")
    path = tmp_path / "auto.docx"
    word.save(str(path))
    doc = load(path)
    assert doc.tasks[0].text == "推进A。"
    assert any("Word自动编号" in w.message and w.line == 2 for w in doc.warnings)


def make_pdf(pages: list[list[str]]) -> bytes:
    """A minimal PDF with a text layer: STSong-Light through the predefined UniGB-UCS2-H CMap (no font file)."""
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b""]  # pages object filled in below
    font = 3
    objects.append(b"<< /Type /Font /Subtype /Type0 /BaseFont /STSong-Light /Encoding /UniGB-UCS2-H "
                   b"/DescendantFonts [4 0 R] >>")
    objects.append(b"<< /Type /Font /Subtype /CIDFontType0 /BaseFont /STSong-Light /CIDSystemInfo << /Registry (Adobe) "
                   b"/Ordering (GB1) /Supplement 2 >> /FontDescriptor 5 0 R >>")
    objects.append(b"<< /Type /FontDescriptor /FontName /STSong-Light /Flags 6 /FontBBox [0 -200 1000 900] "
                   b"/ItalicAngle 0 /Ascent 880 /Descent -120 /CapHeight 880 /StemV 93 >>")
    kids = []
    for lines in pages:
        ops = ["BT", f"/F{font} 11 Tf", "14 TL", "40 800 Td"]
        ops += [f"<{line.encode('utf-16-be').hex()}> Tj T*" for line in lines]
        stream = "\n".join([*ops, "ET"]).encode()
        objects.append(b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream))
        content = len(objects)
        objects.append(b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F%d %d 0 R >> >> "
                       b"/Contents %d 0 R >>" % (font, font, content))
        kids.append(len(objects))
    objects[1] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (b" ".join(b"%d 0 R" % k for k in kids), len(kids))
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n%s\nendobj\n" % (number, body))
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    out.write(b"".join(b"%010d 00000 n \n" % offset for offset in offsets))
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref))
    return out.getvalue()


def test_pdf_text_layer(tmp_path):
    pytest.importorskip("pypdf")
    path = tmp_path / "plan.pdf"
    path.write_bytes(make_pdf([PLAN_LINES[:6], ["— 1 —", PLAN_LINES[6]]]))
    doc = load(path, strict=True)
    _check_plan(doc)
    assert doc.warnings == ()


def test_pdf_running_header_inside_a_task_is_dropped(tmp_path):
    pytest.importorskip("pypdf")
    head = "区重点任务分工方案（征求意见稿）"
    pages = [[head, *PLAN_LINES[:5], "1. 推进老旧小区改造，完成既有多层住宅加装电梯", "— 1 —"],
             [head, "200台。（牵头单位：区住房和城乡建设局）", "2. 建设口袋公园。（责任单位：区绿化市容局）", "— 2 —"],
             [head, "3. 整治背街小巷。（责任单位：区城管执法局）", "— 3 —"]]
    path = tmp_path / "plan.pdf"
    path.write_bytes(make_pdf(pages))
    doc = load(path, strict=True)
    assert [(t.label, t.text) for t in doc.tasks] == [("1", "推进老旧小区改造，完成既有多层住宅加装电梯200台。"),
                                                      ("2", "建设口袋公园。"), ("3", "整治背街小巷。")]


def test_scanned_pdf_without_text_layer(tmp_path):
    pytest.importorskip("pypdf")
    path = tmp_path / "scan.pdf"
    path.write_bytes(make_pdf([[], []]))
    for strict in (False, True):
        with pytest.raises(ParseError, match="没有文字层") as info:
            load(path, strict=strict)
        assert str(path) in str(info.value)


def test_gbk_text_is_decoded_with_a_warning(tmp_path):
    path = tmp_path / "gbk.txt"
    path.write_bytes("\n".join(PLAN_LINES).encode("gbk"))
    doc = load(path)
    _check_plan(doc)
    assert [str(w) for w in doc.warnings if w.line == 0] == ["文件不是UTF-8编码，已按GBK（GB18030）解码"]
    with pytest.raises(ParseError, match="UTF-8"):
        load(path, strict=True)


def test_utf16_with_bom_is_read(tmp_path):
    path = tmp_path / "utf16.txt"
    path.write_bytes("\r\n".join(PLAN_LINES).encode("utf-16"))
    _check_plan(load(path, strict=True))


def test_damaged_utf8_is_refused_not_guessed(tmp_path):
    data = "\n".join(PLAN_LINES).encode("utf-8")
    path = tmp_path / "broken.txt"
    cut = data.index("1. 推进".encode())
    path.write_bytes(data[:cut] + b"\xff" + data[cut:])
    with pytest.raises(ParseError, match="UTF-8") as info:
        load(path)
    assert info.value.line == 6


def test_old_word_files_are_refused(tmp_path):
    path = tmp_path / "old.doc"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100)
    with pytest.raises(ParseError, match=r"\.docx"):
        load(path)


# --- the command line ---------------------------------------------------------------------------


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1"}
    return subprocess.run([sys.executable, "-m", "assistant", *args], capture_output=True, text=True, env=env,
                          cwd=ROOT, timeout=120)


WARNINGS_CASE = "warnings-gap-stray-text-unclosed-duplicate-missing"


def test_cli_tasks_file_json(tmp_path):
    text = _case(WARNINGS_CASE).text
    path = tmp_path / "plan.txt"
    path.write_text(text, encoding="utf-8")
    out = _cli("tasks", "--file", str(path), "--json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert [t["label"] for t in data["tasks"]] == ["1", "3", "5"]
    assert data["tasks"][0] == {"n": 1, "label": "1", "part": "一、重点任务", "section": None, "text": "推进A。",
                                "units": ["市发展改革委"], "lead_unit": "市发展改革委", "leads": ["市发展改革委"],
                                "scope": "", "line": _line_of(text, "1. 推进A")}
    stray = _line_of(text, "这是一段放错位置")
    assert {"line": stray, "message": "无法归属的文本（不属于任何任务）：这是一段放错位置的文字。"} in data["warnings"]
    assert {"text": "4.推进C。", "line": stray + 1, "part": "一、重点任务", "section": None} in data["context"]
    assert (data["title"], data["doc_number"], data["issued"]) == ("某市优化营商环境重点任务分工方案", "某府办〔2024〕7号",
                                                                   "2024-03-05")
    assert data["lead_rule"] == "文件未说明牵头单位，取每项第一个列出的单位"


def test_cli_tasks_file_summary(tmp_path):
    text = _case(WARNINGS_CASE).text
    path = tmp_path / "plan.txt"
    path.write_text(text, encoding="utf-8")
    out = _cli("tasks", "--file", str(path))
    assert out.returncode == 0, out.stderr
    assert "一、重点任务" in out.stdout and "3. 推进B。" in out.stdout and "责任单位：市商务委（牵头）" in out.stdout
    assert f"第{_line_of(text, '这是一段放错位置')}行：无法归属的文本" in out.stdout
    assert "1 个部分，0 个章节，3 项任务" in out.stdout


def test_cli_tasks_file_errors_are_plain(tmp_path):
    out = _cli("tasks", "--file", str(tmp_path / "missing.txt"))
    assert out.returncode == 2 and "无法读取文件" in out.stderr and "Traceback" not in out.stderr
    text = _case(WARNINGS_CASE).text
    path = tmp_path / "plan.txt"
    path.write_text(text, encoding="utf-8")
    out = _cli("tasks", "--file", str(path), "--strict")
    assert out.returncode == 2 and f"第{_line_of(text, '3. 推进B')}行" in out.stderr and "Traceback" not in out.stderr


def test_cli_tasks_json_for_the_configured_corpus():
    out = _cli("tasks", "--json")
    assert out.returncode == 0, out.stderr
    tasks = json.loads(out.stdout)
    assert [t["n"] for t in tasks] == list(range(1, 86))
    assert tasks[31]["label"] == "32" and tasks[31]["leads"] == ["市住房城乡建设管理委"]

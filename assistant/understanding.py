"""Question understanding: a question (plus conversation state) -> an :class:`Intent`.

Runs before retrieval and decides the route:

* ``task``     task numbers in any form (第32项, 第三十二条, 任务32, 32号任务, task 32);
* ``section`` / ``part``  （八）, 第四部分, or the words of a section title plus a structural cue;
* ``unit``     a unit's complete task list (registry names and abbreviations), 牵头 vs 参与;
* ``deadline`` "2028年底要完成什么" -> every target dated that year;
* ``topic``    everything else goes to retrieval, with flags for who/lead/target questions.

It also collects the evidence used to refuse: questions asking for specifics the plan never
states (fees, prices, points values, eligibility rules) and topics whose words do not occur in
the document at all. Pure functions over plain data; no retrieval here.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Callable, Iterable
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from functools import cached_property

from .corpus import Plans
from .document import NUMERALS, numeral_to_int
from .text import fold
from .units import Mention

# --- cues ----------------------------------------------------------------------------------

_WHO = re.compile(
    r"谁|哪个部门|哪些部门|哪几个部门|哪个单位|哪些单位|哪家|什么部门|什么单位|哪个机构|哪些机构|归口|主管|责任单位|负责单位|"
    r"负责部门|由哪|派给|分给了?哪|归哪|哪个委|哪个局|哪个办|哪几个委|哪几个局|啥单位|啥部门|"
    r"(?:哪几|哪)个区|哪些区|哪几家|哪些家|"
    r"配合单位|参与单位|协办单位|配合部门|参与部门|牵头单位|牵头部门|"
    r"\bwho\b|which (?:department|unit|agency|body|bodies|departments|units|agencies|office)|"
    r"responsible|in charge",
    re.I,
)
_LEAD = re.compile(r"牵头|主责|主要负责|带头|挑头|领头|打头|当头|领衔|挂帅|第一责任|排(?:在)?(?:责任单位)?第一|排头|"
                   r"\blead(?:s|ing)?\b|\bled\b|\bheads?\b", re.I)
# "谁牵头" / "哪个单位牵头": 牵头 asks who leads, it does not restrict a named unit to its lead role
# a unit taking a role (作为牵头单位 / 担任配合部门 / 以它为牵头单位): said of a unit already named
_ROLE_TAKEN = re.compile(r"(?:作为|担任|充当|身为|当了?|以\S{1,20}?为)(?:牵头|主责|配合|参与|协办|责任)(?:单位|部门|方)")
_WHO_LEADS = re.compile(r"(?:谁|哪个?(?:单位|部门|家)?|由谁)\s*(?:来|在)?\s*(?:牵头|负责牵头|主责|挑头|带头)")
# Staff say 参与 for any involvement ("数据局都参与了哪些工作" means its whole list); co-only takes 配合/协同 or a
# contrast with 牵头 (_NOT_LEAD).
_CO = re.compile(r"配合|协同|协助|co-?responsible|support(?:ing)?\b", re.I)
_INVOLVED = re.compile(r"参与|参加|involved", re.I)
_LIST = re.compile(
    r"哪些任务|什么任务|负责什么|负责哪些|管什么|管哪些|干什么|做什么|干啥|做啥|承担|职责|任务清单|(?<!什么)(?<!啥)清单(?!是|叫)|有哪些|"
    r"多少项|多不多|(?:[干做办]|落实)哪些|(?<!第)几项|(?<!第)几条|多少条|多少个任务|全部任务|所有任务|全部列|都列|还负责|还管|涉及|相关的?任务|哪几项|哪几条|哪些条|哪些活|哪些事|哪些工作|"
    r"摊上|摊了|摊到|分到|分了|沾边|梳理|列出|列一下|一条不落|有没有任务|几件|多少件|哪几件|哪些件|"
    r"担子|差事|[挑扛接揽]了哪些|一条不要漏|一条不漏|不要漏|别漏|条目|列全|列齐|出现了?几次|出现在哪几?|"
    r"\btasks\b|what (?:does|do)\b",
    re.I,
)
_TARGET = re.compile(
    r"目标|指标|多少|(?<!哪)几个(?!部门|单位|委|局|区|家)|几张|几大|几星|几年|几类|完成什么|要求|达到|比例|百分之|期限|截止|什么时候|啥时候?|几时|"
    r"何时|哪年|哪一年|年份|年底|啥辰光|"
    r"时间节点|节点|量化|时间表|时限|多长时间|多久|什么程度|什么水平|\btargets?\b|\bgoals?\b|how (?:many|much|far|long)|"
    r"\bwhen\b|deadline|\bby 20\d\d|what year",
    re.I,
)
# 其中写明哪年年底完成的: the items whose targets carry a year
DATED_ASKED = re.compile(r"哪年|哪一年|年份|年底|年末|期限|时限|时间节点|截止|deadline|by when|what year|dated", re.I)
# "有公里数目标的" / "有百分比指标的": the measure a target is counted in
# 不是讲X的 / 跟X无关的 / 除了X以外的: narrowing a list to the items that do not quote X (是不是 is no negation)
NEGATED = re.compile(r"(?<!是)不是(?:讲|说|关于|有关|涉及)?|不属于|不涉及|不讲|没讲|没有讲|无关|除了|以外的|之外的|"
                     r"\b(?:not about|not related to|other than|apart from|except)\b", re.I)
# "…分别在哪条？除了发改委还有哪些单位": a unit set aside, no subject of its own
SET_ASIDE = re.compile(r"除了|除去|除开|\b(?:besides|apart from|other than)\b", re.I)
MEASURE_ASKED = re.compile(r"(公里|平方米|万张|%|个|家|张|套)(?:数)?的?(?:目标|指标|要求)|(公里|平方米|千米)数")
# 哪条里提到了12万 / which one says 1,000 km: a figure quoted from the plan (a count with its unit, or 万/亿)
FIGURE_QUOTED = re.compile(r"\d+(?:\.\d+)?(?:万|亿|千)?(?:公里|平方米|%|个|家|张|套|辆|处|所|座|户|床|项|条)|"
                           r"\d+(?:\.\d+)?(?:万|亿)")
_STRUCT = re.compile(r"部分|章节|这节|那节|一节|板块|篇章|那块|这块|那一块|这一块|栏目|\bsection\b|\bpart\b", re.I)
_THOSE_ITEMS = re.compile(r"[那这][几些][条项]")
# "这两条 / 这三项": the question's own topics, counted
_LISTED = re.compile(r"这([两俩二三仨四])[条项件个块]")
COUNT_WORDS = {"两": 2, "俩": 2, "二": 2, "三": 3, "仨": 3, "四": 4}  # how many, as a question counts its topics
_TASK_LIST = re.compile(r"任务(?:都)?(?:有哪些|是哪些|有哪几[项条个])|哪些任务|哪几[项条个]任务")
# "吴淞那块南北转型是哪一条": one item asked for, so 那块 points at a place, not at a section
_ONE_ITEM = re.compile(r"(?:是|在)?哪一?[条项](?![们些])|第几[条项]")
_ASKS = re.compile(r"哪条|哪项|哪一条|哪一项|第几项|第几条|是什么|讲什么|讲的是|怎么安排|哪些|\bwhat\b|\bwhich\b", re.I)
_YESNO = re.compile(
    # 伐/么/哇 ending a question (Shanghainese and everyday 有份伐？/ 是交通委牵头么), 对吧, 要不要…不？
    r"吗|是否|是不是|有没有|在不在|算不算|对不对|对吧|是吧|对伐|是伐|是么|有份|(?:[伐哇嘛]|(?<![什怎这那])么)[?？!！。\s]*$|的吧[?？!！。\s]*$|"
    r"[不没][?？]+\s*$|"
    r"\b(?:is|are|does|do|did|was)\b.*\?$",
    re.I,
)
_DEADLINE_Q = re.compile(r"(?:到|在|截至|截止到?|by\s*(?:the\s*end\s*of\s*)?)?\s*(20\d\d)\s*(?:年底|年末|年前|年|\b)", re.I)

# Task numbers: 第32项 / 第三十二条 / 任务32 / 32号任务 / 第85 / task 32 / #32
_CN = f"[{NUMERALS}]+"
_TASK_FORMS = [
    re.compile(rf"第\s*([-－负]?\s*\d{{1,3}}|{_CN}|零)\s*(?:项|条|号|个任务|项任务|条任务)"),
    re.compile(r"(?:任务|事项)\s*(?:第\s*)?([-－负]?\s*\d{1,3})(?!\d|\s*(?:年|公里|万|个|%|号线))"),
    re.compile(r"(\d{1,3})\s*号?\s*任务"),
    re.compile(r"\b(?:task|item)s?\s*(?:no\.?|number|#)?\s*(\d{1,3})\b", re.I),
    re.compile(r"#\s*(\d{1,3})\b"),
    re.compile(r"第\s*(\d{1,3})(?=\s*(?:[和、及与跟,，]|$|[?？。!！]|呢|吗|是|讲|说|写|的内容|谁))"),
]
_SECTION_FORMS = [
    re.compile(rf"[（(]\s*({_CN})\s*[）)]"),
    re.compile(rf"第\s*({_CN}|\d{{1,2}})\s*(?:节|章|小节)"),
    re.compile(r"\bsection\s*(\d{1,2})\b", re.I),
]
_PART_FORMS = [
    re.compile(rf"第\s*({_CN}|\d)\s*(?:部分|大部分|篇|板块)"),
    re.compile(rf"(?:^|[^（(])\b({_CN})\s*、"),
    re.compile(r"\bpart\s*(\d)\b", re.I),
]
_ORDINAL = re.compile(
    rf"(?:第|倒数第)\s*({_CN}|\d{{1,2}})\s*(?:个|条|项|件)?|(最后一|末一|最后那|(?:编号|序号|排在?)?靠后(?:的|面的)?那|后一)(?:个|条|项|件)|"
    rf"(头一|头那|开头那|打头那|打头的那|(?:编号|序号|排在?)?靠前(?:的|面的)?那|前一)(?:个|条|项|件)|"
    rf"\b(?:the\s*)?(first|second|third|fourth|fifth|last)\b(?!\s+(?:time|year))",
    re.I,
)
_EN_ORD = {"first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "last": -1}
_PRONOUN = re.compile(
    r"它|它们|他们|她|这条|那条|这项|那项|该项|该条|该任务|这个任务|那个任务|这件事|那件事|这事|上面|上述|刚才|前面|"
    r"你说的|其中|这个单位|该单位|这个部门|该部门|这些|那这|这一条|那一条|^那|^那么|^还有|^\s*(?:and|what about|how about)\b|"
    r"\b(?:it|its|they|their|them|this task|that task|this one|that one)\b",
    re.I,
)
_NO_WORDS = re.compile(r"[\W_]+", re.UNICODE)
_TAGS = re.compile(r"<[^>]*>")
# Question scaffolding removed before judging whether the topic occurs in the document.
_SCAFFOLD = re.compile(
    r"请问|请|一下|我想|想知道|知道|问问|能否|可以|告诉我|帮我|查查|查一下|谁来|谁|负责|牵头|哪个|哪些|哪家|什么|啥|"
    r"部门|单位|机构|任务|工作|事情|事项|方面|相关|有关|关于|具体|主要|需要|要|应该|应当|的|了|吗|呢|啊|呀|吧|是|在|和|与|"
    r"及|或|还|也|都|由|归|管|对|把|被|给|这|那|它|该|个|项|条|有|没有|几|多少|目标|指标|要求|怎么|如何|为什么|"
    r"文件|方案|分工|规定|提到|说|讲|写|上海|我市|本市|全市|市里|我们|我|你|计划|行动|推进|开展|实施|加强|建设|"
    r"完成|做|干|搞|情况|内容|措施|政策|问题|分别|一共|总共|共有|列出|列一下|列举|都|哪|这块|那块|这部分|里头|"
    r"全部|所有|讲讲|说说|介绍|自己|本身|一起|一块|一道|就一|只有|仅有|就只|各自|捋一下|梳理|"
    r"公里|平方米|万张|比例|百分比|期限|时候|哪年|时间|截止|数字|数量|是否|能不能|会不会|出现|提及|涉及|其中|里面|当中|"
    r"这些|上述|以上",
)
_CJK_RUN = re.compile(r"[\u4e00-\u9fff]{2,}")
# The question referring to the plan itself ("在这个城镇化方案里", "这份分工方案中"): not a topic.
_PLAN_REFERENCE = re.compile(
    r"(?:这个|这份|该|本|整个|咱们的?|我们的?)?(?:新型)?(?:城镇化)?(?:战略)?(?:五年)?(?:行动)?(?:任务)?(?:分工)?(?:实施)?"
    r"(?:方案|文件|计划|文件里)(?:里面|里头|里|中|当中|内|上)?|"
    r"(?:这个|这份|该|本|整个)?(?:新型)?城镇化(?:任务)?分工(?:里面|里头|里|中|当中|内|上)?"  # 卫健委在城镇化分工里出现几次
)
ALIAS_TYPO_CHARS = 6  # unit abbreviations up to this long are repaired for a one-character typo (规划资原局)
TYPO_CHARS = 4  # plan words of 3 to this many characters are repaired for a one-character typo (海棉城市)
MIN_COVERAGE = 0.5  # uncovered(): a topic with a smaller share of its bigrams in the plan is "not in the plan"


@dataclass(frozen=True)
class Intent:
    """What a question asks, before retrieval (and before :mod:`assistant.followup` re-reads it)."""

    route: str  # task | section | part | unit | deadline | topic | check (a yes/no follow-up)
    question: str  # the question as asked (cleaned of markup, simplified)
    query: str  # text to retrieve with: the question plus its spelling repairs (expansions: assistant.retrieval)
    tasks: tuple[int, ...] = ()  # task ids (:attr:`~assistant.document.Task.uid`; in the reference plan, numbers)
    section: int | None = None
    part: int | None = None
    units: tuple[str, ...] = ()
    unit_kind: str = ""  # a kind of unit asked about without naming one (区政府 -> district; units.toml [kinds])
    role: str = "any"  # any | lead | co | sole
    asks_who: bool = False
    asks_lead: bool = False
    asks_target: bool = False
    asks_list: bool = False  # "有哪些任务 / 涉及…的任务": every matching task, not just the best
    year: int | None = None
    english: bool = False
    coverage: float = 1.0  # share of the topic's bigrams that the plan (or its views) contains
    corrections: tuple[tuple[str, str], ...] = ()  # (typed, document form)
    topic: tuple[str, ...] = ()  # content words left once units, cue words and scaffolding are removed
    known: tuple[str, ...] = ()  # topic words the plan or its views know (most of their bigrams occur there)
    specific: tuple[str, ...] = ()  # topic words the plan quotes verbatim (3+ characters; English: view words)
    pronoun: bool = False  # leans on an earlier turn (它/这条/那…呢/其中…)
    ordinal: int | None = None  # 第二个 -> 2, 最后一个 -> -1
    yesno: bool = False  # 吗/是否/有没有…
    outside: bool = False  # words that point outside the plan (a refusal cue: 美国, 票价, 局长…)
    followup: str = ""  # how the question leaned on the conversation, if it did
    within: tuple[int, ...] = ()  # search only these tasks (其中… after a list answer)
    scope: str = ""  # the key of the one plan the question is about ("" = all plans; numbers: the reference plan)
    prefer: tuple[int, ...] = ()  # tasks of the previous answer, preferred when they match (它…)
    notes: dict[str, object] = field(default_factory=dict, compare=False)


_NOT_LEAD = re.compile(
    r"(?:不是|非|不算|不含|除了|除去|排除)[它其该]?\s*牵头|(?:不|没|没有)牵头|只参与|牵头的?(?:不用|不要|除外|不算|不列)|"
    r"not (?:the )?lead|without leading", re.I
)


_NOT_CO = re.compile(
    r"(?:配合|参与|协同)的?(?:不用|不要|除外|不算|不列|就不|别列)|只要牵头|只看牵头|只列牵头|only (?:the )?lead", re.I
)


# Two units in one question: tasks they share (交通委和住建委都参与的; 数据局牵头的里哪些办公厅也参与) or each
# unit's own list side by side (分别负责几条)
JOINT = re.compile(r"[也都均](?:有|在|参与|参加|负责|涉及|是|列|出现|有份)|共同|一起|同时|一块|联合|交集|重合|重叠|"
                   r"\b(?:both|together|jointly|shared?)\b", re.I)
SIDE_BY_SIDE = re.compile(r"分别|各自|各有|各管|各负责|比较|对比|(?:谁|哪个|哪家|哪一个)[^，。？?,]{0,14}[多少]|"
                          r"\b(?:respectively|each|more|fewer|compare)\b", re.I)
# Words that place a unit among a task's units: "…谁牵头，闵行也有份吗" asks about it as one of the units, not as
# the lead. assistant.followup adds the words that point back to the previous answer (其中, 名单里, on that one).
MEMBERSHIP_WORDS = r"也|还|名单|之列|之一|在内|包括|包含|参与"
MEMBERSHIP_ENGLISH = r"also|too|involved|among|included|part of"
MEMBERSHIP = re.compile(rf"{MEMBERSHIP_WORDS}|有份|参加|配合|协同|\b(?:{MEMBERSHIP_ENGLISH})\b", re.I)
# 跟崇明有关的 / 涉及浦东的: a district as a place (tasks that name it), not only its government's duties
ABOUT_PLACE = re.compile(r"有关|相关|涉及|提到|提及|说到|讲到|关于|related|about|mention", re.I)
LEADS_AFTER = re.compile(r"\s*(?:来|在)?\s*(?:牵头|主责|挑头|带头|领头|lead)", re.I)  # right after a unit's name


# 单独负责 / 责任单位只写了它: the unit is the task's only responsible unit
_SOLE = re.compile(r"单独|独自|独立负责|独家|一家(?:单位)?(?:负责|承担|包)|唯一(?:的)?(?:责任)?单位|"
                   # 只列了它一家 is sole; 只列它排第一位的 / 只列牵头的 keeps the list to its leads
                   r"只写了?(?![^，。？?]{0,4}(?:排第一|第一位|排头|打头|牵头))|只列了?(?![^，。？?]{0,4}(?:排第一|第一位|排头|打头|牵头))|"
                   r"没有(?:别的|其他|其它|配合|协办|参与)的?(?:单位|部门)|无(?:其他|其它|配合|协办)(?:单位|部门)|"
                   r"只有(?:它|他|该单位|这家|这个部门|这个单位)?(?:一家|自己)|就它一家|"
                   r"\b(?:alone|solely|sole|on (?:its|their) own|by itself)\b", re.I)


# 配合的也算 / 参与的也列上: every role
_ALSO_CO = re.compile(r"(?:配合|参与|协同|协办|参加)的?(?:也算|也要|也列|也包括|都算|都列|算上|也一起)|都算上?|都列上?|"
                      r"包括(?:配合|参与)|牵头(?:或|或者|还是|和|跟|与)(?:配合|参与|协办)|"
                      r"\b(?:lead or (?:partner|co-?lead|co-?responsible|support(?:ing|er)?|participant|contributor)s?|"
                      r"(?:in )?(?:either|any) role|whether (?:as )?lead(?:ing)? or not)\b", re.I)


def _role(q: str) -> str:
    """sole (单独负责), lead (牵头哪些), co (参与哪些, 不是它牵头的) or any (both named, or neither: 牵头和配合的都算)."""
    if _SOLE.search(q):
        return "sole"
    if _ALSO_CO.search(q):
        return "any"
    if _NOT_LEAD.search(q):
        return "co"
    if _NOT_CO.search(q):  # 牵头的是哪几条？配合的不用列
        return "lead"
    lead, co = bool(_LEAD.search(_WHO_LEADS.sub(" ", q))), bool(_CO.search(q)) and not _WHO.search(q)
    if lead and _INVOLVED.search(q):  # 牵头和参与的都列一下
        return "any"
    return "lead" if lead and not co else ("co" if co and not lead else "any")


def is_english(text: str) -> bool:
    letters = sum(1 for c in text if c.isascii() and c.isalpha())
    cjk = sum(1 for c in text if "\u4e00" <= c <= "\u9fff")
    return letters >= 3 and letters > 2 * cjk


_SCRIPT = re.compile(r"<(script|style)\b.*?(?:</\1\s*>|$)", re.I | re.S)


def strip_markup(text: str) -> str:
    """Remove scripts, HTML tags and control characters; keep the words."""
    text = html.unescape(_TAGS.sub(" ", _SCRIPT.sub(" ", text)))
    return "".join(c for c in text if unicodedata.category(c)[0] != "C" or c in "\n\t").strip()


def has_words(text: str) -> bool:
    """True if the text has at least one letter, digit or CJK character."""
    return any(c.isalnum() for c in text)


def _to_int(token: str) -> int | None:
    token = re.sub(r"\s", "", token).replace("－", "-").replace("负", "-")
    if token == "零":
        return 0
    try:
        return int(token) if token.lstrip("-").isdigit() else numeral_to_int(token)
    except ValueError:
        return None


def find_task_numbers(text: str) -> list[int]:
    """Task numbers referred to in the text, in order, deduplicated (years are never tasks)."""
    found: list[tuple[int, int]] = []
    for pattern in _TASK_FORMS:
        for m in pattern.finditer(text):
            n = _to_int(m.group(1))
            if n is not None and -999 <= n <= 999:  # 0 and negatives are kept: "there is no task 0"
                found.append((m.start(), n))
    # 第32和33项 / 任务32、33: numbers chained after a match
    for m in re.finditer(r"第?\s*(\d{1,3})\s*(?:[、,，和及与]\s*(?:第\s*)?(\d{1,3}))+\s*(?:项|条|号)", text):
        for part in re.findall(r"\d{1,3}", m.group(0)):
            found.append((m.start(), int(part)))
    return list(dict.fromkeys(n for _, n in sorted(found)))


def _find_numbered(text: str, patterns: list[re.Pattern[str]], exists: Callable[[int], object]) -> list[int]:
    found = [n for pattern in patterns for m in pattern.finditer(text) if (n := _to_int(m.group(1))) and exists(n)]
    return list(dict.fromkeys(found))


def find_sections(text: str, document: Plans) -> list[int]:
    """Sections referred to by number: （八）, 第八节, section 8."""
    return _find_numbered(text, _SECTION_FORMS, document.section)


def find_parts(text: str, document: Plans) -> list[int]:
    """Parts referred to by number: 第四部分, 四、, part 4."""
    return _find_numbered(text, _PART_FORMS, document.part)


def _core(title: str) -> str:
    """A section/part title without its generic leading verb (建设品质宜居城市 -> 品质宜居城市)."""
    return re.sub(r"^(实施|建设|完善|健全|优化|保障|扩大|发挥|增强|着力推动|分类推进|织密|打造|形成|强化|率先打造)", "", title)


def match_titles(text: str, document: Plans, strict: bool = False) -> tuple[list[int], list[int]]:
    """Sections and parts whose title the text quotes: the longest shared run of >= 3 characters
    that no other title shares (通勤圈 -> （十五）, 长三角一体化 -> 四、, 韧性安全城市 -> （八）)."""
    folded = fold(text)
    titles = [("section", s.no, fold(_core(s.title))) for s in document.sections]
    titles += [("part", p.no, fold(_core(p.title))) for p in document.parts]
    best: dict[tuple[str, int], int] = {}
    for kind, no, core in titles:
        for length in range(len(core), 2, -1):
            runs = [core[i : i + length] for i in range(len(core) - length + 1)]
            shared = [r for r in runs if r in folded and _distinctive(r, core, titles)]
            if shared and strict and length < 0.8 * len(core):
                break
            if shared:
                best[(kind, no)] = length
                break
    if not best:
        return [], []
    top = max(best.values())
    winners = [key for key, length in best.items() if length == top]
    return [n for k, n in winners if k == "section"], [n for k, n in winners if k == "part"]


def _distinctive(run: str, core: str, titles: list[tuple[str, int, str]]) -> bool:
    """A run that occurs in this title only (a part's title may share it with its own sections)."""
    return sum(1 for _, _, other in titles if run in other) <= 2 and run not in _GENERIC_TITLE_WORDS


_GENERIC_TITLE_WORDS = frozenset({"城市", "建设", "发展", "推进", "实施", "行动", "体系", "一体化", "长三角", "新型城镇化",
                                  "城镇化"})


class Vocabulary:
    """What the document says, for typo repair and "is this topic in the plan at all" checks."""

    def __init__(self, document: Plans, aliases: list[str] | None = None, english: list[str] | None = None,
                 views: list[str] | None = None) -> None:
        self.aliases = list(aliases or [])  # unit names staff use; part of the vocabulary, and typo-repairable
        self.plan_text = fold("\n".join(t.text for t in document.tasks))  # the task texts alone
        texts = [t.text for t in document.tasks] + [s.title for s in document.sections]
        texts += [p.title for p in document.parts] + list(document.units()) + self.aliases + list(views or [])
        self.text = fold("\n".join(texts))
        self.english_words = {w for phrase in english or [] for w in re.findall(r"[a-z][a-z\-]+", phrase.lower())}
        # English topic words: those of the English views (the names of units are not topics)
        self.english_topics = {w for v in views or [] if is_english(v) for w in re.findall(r"[a-z][a-z\-]+", v.lower())
                               if w not in _EN_STOP and len(w) > 2}
        self.english_words |= self.english_topics

    @cached_property
    def bigrams(self) -> frozenset[str]:
        """Every two-character string of :attr:`text` (a set lookup instead of a scan of the whole text)."""
        return pairs_of(self.text)

    @cached_property
    def _wildcards(self) -> dict[str, str]:
        windows = (self.text[i : i + n] for n in range(3, TYPO_CHARS + 1) for i in range(len(self.text) - n + 1))
        return wildcard_index(windows, longest=TYPO_CHARS)

    @cached_property
    def _alias_wildcards(self) -> dict[str, str]:
        return wildcard_index(self.aliases, longest=ALIAS_TYPO_CHARS)

    def prepare(self) -> None:
        """Build the typo indexes now (about 30 ms) rather than on the first question that needs them."""
        _ = self._wildcards, self._alias_wildcards, self.bigrams

    def repair_alias(self, text: str) -> tuple[str, str, str] | None:
        """``text`` with a one-character typo inside a unit abbreviation fixed (住健委 -> 住建委); see :func:`repair_with`."""
        return repair_with(text, self._alias_wildcards, ALIAS_TYPO_CHARS)

    def contains(self, term: str) -> bool:
        return fold(term) in self.text

    def repair(self, run: str) -> str | None:
        """``run`` with a 3-4 character window replaced by the document string one character away."""
        repaired = repair_with(run, self._wildcards, TYPO_CHARS, known=self.text, known_pairs=self.bigrams)
        return repaired[0] if repaired else None

    def uncovered(self, text: str) -> tuple[list[str], list[tuple[str, str]]]:
        """Topic words not in the document, when most of the topic is absent; and the typo repairs made.

        Coverage is the share of the topic's character bigrams (question scaffolding removed, typos
        repaired) that occur in the document. A topic below :data:`MIN_COVERAGE` is outside the plan;
        leftover scaffolding ("什么时候", "这事") cannot sink a question whose real topic is covered.
        """
        topic = _SCAFFOLD.sub(" ", fold(text))
        missing: list[str] = []
        fixes: list[tuple[str, str]] = []
        total = covered = 0
        for run in _CJK_RUN.findall(topic):
            if run in self.text:
                total += len(run) - 1
                covered += len(run) - 1
                continue
            fixed = self.repair(run)
            if fixed and fixed != run:
                fixes.append((run, fixed))
                run = fixed
            bigrams = [run[i : i + 2] for i in range(len(run) - 1)]
            hits = sum(1 for b in bigrams if b in self.bigrams)
            total += len(bigrams)
            covered += hits
            if hits / len(bigrams) < 0.5:
                missing.append(run)
        coverage = covered / total if total else 1.0
        return (missing if coverage < MIN_COVERAGE else []), fixes

    def coverage(self, text: str) -> float:
        """Share of the topic's character bigrams (question scaffolding removed, typos repaired) that
        occur in the plan's text, its views or its unit names (1.0 when there is no topic)."""
        total = covered = 0
        for run in _CJK_RUN.findall(_SCAFFOLD.sub(" ", fold(text))):
            if run not in self.text:
                run = self.repair(run) or run
            bigrams = [run[i : i + 2] for i in range(len(run) - 1)]
            total += len(bigrams)
            covered += sum(1 for b in bigrams if b in self.bigrams)
        return covered / total if total else 1.0

    def topic_runs(self, text: str) -> list[str]:
        """Chinese topic words of a question that the document contains verbatim."""
        return [run for run in _CJK_RUN.findall(_SCAFFOLD.sub(" ", fold(text))) if run in self.text]

    def english_unknown(self, words: list[str]) -> list[str]:
        """English topic words unknown to the glossary and the unit registry."""
        return [w for w in words if w not in self.english_words and w.rstrip("s") not in self.english_words]


def vocabulary_for(document: Plans, registry: object, glossary: object | None,
                   views: list[str] | None = None) -> Vocabulary:
    """The document's vocabulary plus its everyday views and the names and English words the registry
    and glossary know."""
    units = registry.units  # type: ignore[attr-defined]
    aliases = [a for u in units for a in u.aliases]
    english = [u.english for u in units] + [a for u in units for a in u.english_aliases]
    if glossary is not None:
        english += [s for term in glossary.terms for s in term.shorthand if is_english(s)]  # type: ignore[attr-defined]
    return Vocabulary(document, aliases=aliases, english=english, views=views)


# --- the router ------------------------------------------------------------------------------


@dataclass
class Context:
    """What the router may lean on from earlier turns (see :mod:`assistant.conversation`)."""

    tasks: tuple[int, ...] = ()  # ids of the tasks the previous answer cited, in order
    units: tuple[str, ...] = ()  # units the previous answer was about (lead first)
    intent: Intent | None = None
    listing: tuple[int, ...] = ()  # the last list answered (kept while follow-ups pick items from it)
    recent: tuple[int, ...] = ()  # the main task of each of the last turns, oldest first (这两条 across two answers)


def understand(
    question: str,
    document: Plans,
    registry: object,
    glossary: object | None,
    vocabulary: Vocabulary,
) -> Intent:
    """Route a (cleaned, simplified, non-empty) question on its own terms. Whether it leans on earlier
    turns is decided afterwards, by :func:`assistant.followup.resolve`, from the signals recorded here
    (``topic``, ``pronoun``, ``ordinal``, ``yesno``). ``registry``/``glossary`` follow assistant.units/glossary."""
    q = question.strip()
    english = is_english(q)
    role = _role(q)
    # 经信委作为牵头单位的有哪几项: the role a unit takes is no question about who
    asked = _ROLE_TAKEN.sub("", q)
    asks_who = bool(_WHO.search(asked)) or (role == "lead" and not _LIST.search(q))
    flags = {
        "asks_who": asks_who,
        "asks_lead": role == "lead" or bool(_WHO_LEADS.search(q)),
        "asks_target": bool(_TARGET.search(q)),
        "asks_list": bool(_LIST.search(q)) and not _WHO.search(asked),
        "english": english,
    }

    q, unit_fixes = _repair_unit_names(q, registry, vocabulary)
    mentions = registry.resolve(q)  # type: ignore[attr-defined]
    unglossed, mentions = _without_glosses(q, mentions)
    unglossed, mentions = _without_speaker(unglossed, mentions, registry)
    # 我家在黄浦区…的老式旧里，这活儿归哪几个单位 / 我家在静安区…在不在名单里: where the asker lives, not a unit asked about
    searched = q
    if asks_who or _YESNO.search(q):
        places = [(lives.start(), m.end) for m in mentions if not m.alias.endswith(("政府", "区府"))
                  and (lives := _LIVES_IN.search(unglossed, 0, m.start))]
        mentions = [m for m in mentions if not any(start < m.end <= end for start, end in places)]
        for start, end in reversed(places):  # nor is it searched for (黄浦区 would find the tasks of every district)
            searched = searched[:start] + searched[end:]
    units = tuple(dict.fromkeys(m.unit for m in mentions))
    residue = registry.without(unglossed, mentions)  # type: ignore[attr-defined]
    kind = "" if units else registry.kind_in(residue)  # type: ignore[attr-defined]  # 区政府牵头的: every district
    if kind or units:  # a kind's word beside a named unit (我是闵行区的，我们区政府要干哪些) is no topic either
        residue = registry.without_kinds(residue)  # type: ignore[attr-defined]

    expansions = list(glossary.expand(q, vocabulary.plan_text)) if glossary is not None else []  # type: ignore[attr-defined]
    fixes: list[tuple[str, str]] = []
    if english:  # English words cannot be checked against the Chinese text: they must map via the glossary
        words = _topic_words(_glossary_residue(residue, glossary), True)
        unknown = vocabulary.english_unknown(words)
        coverage = 1.0 if (units or expansions or not words) else 1.0 - len(unknown) / len(words)
    else:
        _, fixes = vocabulary.uncovered(_glossary_residue(residue, glossary))
        coverage = vocabulary.coverage(_glossary_residue(residue, glossary))
    # Spelling repairs are added to the query, not substituted: a "typo" may be everyday wording (城镇 is
    # one character away from the plan's 古镇), and both retrievers still see what was typed.
    # the engine adds glossary expansions
    query = " ".join([_asked_part(searched, vocabulary) if not english else q,
                      *dict.fromkeys(fixed for _, fixed in fixes)])
    topic_words = _topic_words(residue, english)
    if english:
        known = [w for w in topic_words if w in vocabulary.english_words or w.rstrip("s") in vocabulary.english_words]
        specific = [w for w in topic_words if w in vocabulary.english_topics]
    else:
        known = [w for w in topic_words if vocabulary.coverage(w) >= MIN_COVERAGE]
        specific = [w for w in topic_words if len(w) >= 3 and vocabulary.contains(w)]
    base = dict(
        question=q,
        query=query,
        units=units,
        unit_kind=kind,
        role=role,
        coverage=coverage,
        corrections=tuple(unit_fixes + fixes),
        topic=tuple(topic_words),
        known=tuple(known),
        specific=tuple(specific),
        pronoun=bool(_PRONOUN.search(q)),
        ordinal=_ordinal(q),
        yesno=bool(_YESNO.search(q)),
        **flags,
    )

    tasks = find_task_numbers(q)
    # "随迁子女上学和人口服务，这两条里…教委在不在第二条里": 第二条 is the second of the topics listed, not task 2
    listed = _LISTED.search(q)
    if tasks and listed and specific and all(1 <= n <= COUNT_WORDS[listed.group(1)] for n in tasks):
        tasks = []
    if tasks:
        return Intent(route="task", tasks=tuple(tasks), **base)  # type: ignore[arg-type]
    sections, parts = find_sections(q, document), find_parts(q, document)
    # 生活圈那几条分别是谁负责的: a section named by its title words and "those items", even in a who-question
    items = bool(_THOSE_ITEMS.search(q))
    one_item = bool(_ONE_ITEM.search(q)) and not _LIST.search(q)
    if not sections and not parts and (not asks_who or items) and not one_item \
            and (_STRUCT.search(q) or items or (_LIST.search(q) and not units)):
        sections, parts = match_titles(residue, document, strict=not (_STRUCT.search(q) or items))
        if sections and parts:
            if re.search(r"部分|\bpart\b", q, re.I):
                sections = []
            else:
                parts = []
    if sections and not units:
        return Intent(route="section", section=sections[0], **base)  # type: ignore[arg-type]
    if parts and not units:
        return Intent(route="part", part=parts[0], **base)  # type: ignore[arg-type]

    year = _year(q)
    if year and not known and not units:  # 2025、2026、2027、2028年底各要完成啥
        return Intent(route="deadline", year=year, **base)  # type: ignore[arg-type]
    # A unit's task list, unless the question also names a topic of the plan (人社局在技能培训方面有哪些任务).
    real_topic = specific
    list_only = flags["asks_list"] and not asks_who and not flags["asks_target"]
    # 医保局牵头的就一条吗？: a unit, a role or a list, and no topic the plan knows -> that unit's tasks
    about_units = bool(units) and not known and (flags["asks_list"] or role != "any") and (not asks_who or role == "sole")
    # 由数据局担任牵头单位的任务有哪些: a named unit's tasks, though 牵头单位 sounds like "who"
    about_units = about_units or (bool(units) and not known and bool(_TASK_LIST.search(q)))
    # 应急局跟水务局比，谁分到的任务多: two units' lists side by side
    about_units = about_units or (len(units) > 1 and not specific and bool(SIDE_BY_SIDE.search(q))
                                  and bool(re.search(r"任务|事项|事情|活|几条|几项|\btasks?\b|\bwork\b", q, re.I)))
    # 哪些任务是区政府自己牵头的: the tasks of every unit of that kind
    about_kind = bool(kind) and not known and (flags["asks_list"] or role != "any")
    if (units and (not topic_words or (list_only and not real_topic) or about_units)) or about_kind:
        return Intent(route="unit", **base)  # type: ignore[arg-type]
    # 通勤圈那块是哪一条讲省际公路: one item of the section its words name, preferred when it ranks near the top
    sections = match_titles(residue, document)[0] if one_item and _STRUCT.search(q) and not units else []
    prefer = tuple(t.uid for t in document.tasks_in_section(sections[0])) if sections else ()
    return Intent(route="topic", year=year, prefer=prefer, **base)  # type: ignore[arg-type]


# 住建委（原来的建交委）/ 市场监管局(即原工商局): a short bracket right after a unit's name glosses it
_GLOSS = re.compile(r"\s*[（(][^（()）]{1,12}[）)]")


def _without_glosses(text: str, mentions: list) -> tuple[str, list]:
    """``text`` with each bracket that glosses a unit's name (another or former name of it) blanked, and the
    ``mentions`` without the names inside those brackets."""
    kept: list = []
    for m in mentions:
        gloss = _GLOSS.match(text, kept[-1].end) if kept else None
        if gloss and gloss.start() <= m.start and m.end <= gloss.end():
            text = text[: gloss.start()] + " " * (gloss.end() - gloss.start()) + text[gloss.end() :]
            continue
        kept.append(m)
    return text, kept


# "我是嘉定区发改委的，…" / "I work for the X, …": who is asking, said in a clause of its own
SPEAKER = re.compile(r"\s*(?:我们|我|本人|咱们|咱)(?:是|在|系|来自)[^，,。？?！!；;]{1,30}[，,。；;]|"
                      r"\s*I(?:'m| am) (?:from|with|at)\b[^,.?!;]{1,60}[,.;]|\s*I work (?:at|for|in)\b[^,.?!;]{1,60}[,.;]")


# "我家在黄浦区" / "住在崇明": a place the asker lives or works in, right before a district's name
_LIVES_IN = re.compile(r"(?:(?:我家|家里?|我们|我|咱们|咱)(?:就|还)?(?:住在|住|在|位于)|住在)\s*$")
# "区政府 / 我们区 / 本区" without a district's name: the asker's own district
_OWN_DISTRICT = re.compile(r"(?<![各该])区(?:人民)?政府|我们区|我区|本区|咱们区|咱区")


def _without_speaker(text: str, mentions: list, registry: object) -> tuple[str, list]:
    """When the question names a unit after a clause that says who is asking (我是嘉定区发改委的，方案里点名嘉定区
    人民政府的…), the speaker's own unit is no subject of it: that clause is blanked and its names dropped. A
    speaker's unit that is the only one named stays (我是人社局的，我们负责哪些)."""
    intro = SPEAKER.match(text)
    if not intro or not any(m.start >= intro.end() for m in mentions):
        return text, mentions
    kept = [m for m in mentions if m.start >= intro.end()]
    # 我们是松江区发改委的，…要区政府落实的任务（各区、各相关区的也算上）: "the district government" is the speaker's
    # district; the collectives it belongs to come with its list anyway
    def kind(m: Mention) -> str:
        unit = registry.get(m.unit)  # type: ignore[attr-defined]
        return unit.kind if unit else ""

    district = [m for m in mentions if m.start < intro.end() and kind(m) == "district"]
    if district and _OWN_DISTRICT.search(text, intro.end()):
        for m in kept:
            if kind(m) == "collective":
                text = text[: m.start] + " " * (m.end - m.start) + text[m.end :]
        kept = district[-1:] + [m for m in kept if kind(m) != "collective"]
    return " " * intro.end() + text[intro.end() :], kept


def _repair_unit_names(question: str, registry: object, vocabulary: Vocabulary) -> tuple[str, list[tuple[str, str]]]:
    """Fix a one-character typo inside a unit abbreviation (住健委 -> 住建委) when nothing resolves."""
    if registry.resolve(question):  # type: ignore[attr-defined]
        return question, []
    repaired = vocabulary.repair_alias(question)
    if repaired is None:
        return question, []
    text, typed, word = repaired
    return text, [(typed, word)]


def wildcard_index(words: Iterable[str], longest: int) -> dict[str, str]:
    """Map each 3-``longest`` character Chinese word, with one inner character masked ("海?城市"), to the word."""
    keys: dict[str, str] = {}
    for word in words:
        if 3 <= len(word) <= longest and all("\u4e00" <= c <= "\u9fff" for c in word):
            for j in range(1, len(word) - 1):  # typos inside a word, not at its edges
                keys.setdefault(word[:j] + "?" + word[j + 1 :], word)
    return keys


def pairs_of(text: str) -> frozenset[str]:
    """Every two-character string of ``text``."""
    return frozenset(text[i : i + 2] for i in range(len(text) - 1))


def repair_with(text: str, index: dict[str, str], longest: int, known: str = "",
                known_pairs: AbstractSet[str] | None = None) -> tuple[str, str, str] | None:
    """``(repaired text, typed window, word)``: the first window of ``text``, longest (``longest``, what the index
    was built with) to 3 characters, that is not in ``known`` but is one inner character away from a word of
    ``index``, replaced by it.

    With ``known``, only a character that pairs with neither neighbour anywhere in ``known`` is taken for a
    typo (海棉城市: 海棉 and 棉城 occur nowhere); everyday wording made of known pairs (现代化城镇) is left alone.
    ``known_pairs``, the two-character strings of ``known``, makes that test a set lookup (a caller that repairs
    often keeps it); ``known`` itself is scanned only for a window that has a candidate.
    """
    if known and known_pairs is None:
        known_pairs = pairs_of(known)
    for length in range(longest, 2, -1):
        for i in range(len(text) - length + 1):
            window = text[i : i + length]
            for j in range(1, length - 1):
                if known_pairs is not None and (window[j - 1 : j + 1] in known_pairs or window[j : j + 2] in known_pairs):
                    continue
                word = index.get(window[:j] + "?" + window[j + 1 :])
                if word and word != window:
                    if known and window in known:
                        break
                    return text[:i] + word + text[i + length :], window, word
    return None


def _glossary_residue(text: str, glossary: object | None) -> str:
    """The text with glossary shorthands replaced by the document's wording (known topics, not unknown words)."""
    if glossary is None:
        return text
    for shorthand, means in glossary.matches(text):  # type: ignore[attr-defined]
        text = re.sub(re.escape(shorthand), " " + (means[0] if means and not is_english(shorthand) else "") + " ",
                      text, flags=re.I)
    return text


_EN_STOP = frozenset(
    """work works working such as like also other things thing matters matter issue issues handle handles handling
    a an the of for in on at to by is are was be which who whom whose what when where how many much
    does do did responsible lead leads leading task tasks item number plan shanghai city municipal
    government this that it its and or with about under list all any please tell me show units unit
    department departments agency agencies body bodies goal goals target targets deadline section
    part there their they them has have will should must involve involves involved involving concern concerns
    related relate named mention mentions mentioned name one ones whos over period periods timeframe time years
    every each whole full complete entire same different differ difference
    year long km kilometres kilometers metres meters square percent percentage share figure figures number
    look looks looking after care charge oversee oversees overseeing run runs running behind
    appear appears appeared appearing anywhere somewhere feature features featured show shows shown
    take takes taking took whether either neither supporting give gives""".split()
)


_CLAUSE_END = re.compile(r"[，,。；;！!？?]")
TERM_CHARS = 4  # a stretch of a question this long found verbatim in the plan names a term of it


_POINTS_BACK = re.compile(r"\s*(?:那|而)?(?:这类|这种|这些|这个|这样的?|这事|这件事|这块|此类|该类|类似的?)")


def _asked_part(question: str, vocabulary: Vocabulary) -> str:
    """What both retrievers search: the question from its asking clause on, when the clauses before it ask nothing
    and name no term of the plan while the asking clause does (一下大雨小区门口就积水，全市海绵城市建设谁负责: 小区门口
    would find the 家门口 task); else the whole question."""
    cuts = [m.end() for m in _CLAUSE_END.finditer(question)]
    starts = [0, *[c for c in cuts if c < len(question.rstrip())]]
    for i, start in enumerate(starts[1:], start=1):
        clause = question[start : cuts[i] if i < len(cuts) else len(question)]
        if not asks_something(clause):
            continue
        before = question[:start]
        if asks_something(before) or _plan_terms(before, vocabulary) or not _plan_terms(clause, vocabulary) \
                or _POINTS_BACK.match(clause):  # 电瓶车充电老是起火，这类隐患整治…: 这类 is what was said before
            return question
        return question[start:]
    return question


def _plan_terms(text: str, vocabulary: Vocabulary) -> list[str]:
    """The 4-character stretches of ``text``'s topic words that the plan quotes verbatim (燃气管道 in 燃气管道老化更新)."""
    return [run[i : i + TERM_CHARS] for run in _topic_words(text, False) for i in range(len(run) - TERM_CHARS + 1)
            if vocabulary.contains(run[i : i + TERM_CHARS])]


def asks_something(text: str) -> bool:
    """The text asks a question of its own: who, how many, when, which task, what."""
    return bool(_WHO.search(text) or _TARGET.search(text) or _LEAD.search(text) or _ASKS.search(text))


def topic_words(text: str, english: bool = False) -> list[str]:
    """Content words of ``text`` once question scaffolding, years and cue words are removed."""
    return _topic_words(text, english)


def _topic_words(residue: str, english: bool) -> list[str]:
    """Content words left once question scaffolding, units, years and cue words are removed."""
    text = _PLAN_REFERENCE.sub(" ", _DEADLINE_Q.sub(" ", residue))
    for cue in (_WHO, _LEAD, _CO, _INVOLVED, _LIST, _TARGET, _STRUCT, _ORDINAL, _SOLE, _ALSO_CO):
        text = cue.sub(" ", text)
    if english:
        return [w for w in re.findall(r"[a-z][a-z\-]+", text.lower()) if w not in _EN_STOP and len(w) > 2]
    return _CJK_RUN.findall(_SCAFFOLD.sub(" ", fold(text)))


def _year(text: str) -> int | None:
    m = _DEADLINE_Q.search(text)
    return int(m.group(1)) if m else None


def _ordinal(text: str) -> int | None:
    """第二个 -> 2, 倒数第二 -> -2, 最后一个 / the last -> -1; None without an ordinal."""
    m = _ORDINAL.search(text)
    if not m:
        return None
    if m.group(4):
        return _EN_ORD[m.group(4).lower()]
    if m.group(3):
        return 1
    if m.group(2):
        return -1
    n = _to_int(m.group(1))
    if n is None or n == 0:
        return None
    return -n if m.group(0).startswith("倒数") else n



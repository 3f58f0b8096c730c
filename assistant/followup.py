"""Follow-ups: re-read a question against the conversation so far.

:func:`assistant.understanding.understand` routes a question on its own terms and records the signals
a follow-up leaves (``pronoun``, ``ordinal``, ``yesno``, the ``topic`` words left over). :func:`resolve`
decides, from those signals and the previous turn (:class:`~assistant.understanding.Context`), which of
these shapes the question has, and returns the intent to answer:

=================  =====================================================  =========================
shape              example (after …)                                      becomes
=================  =====================================================  =========================
ordinal            第二个呢？ / 你说的第三条 / 商务委的第二条 / 最后一个   ``task``: that list item
yes/no membership  卫健委也参与吗？ / 民政局是牵头的吗？ / 青浦也在名单里吗  ``check``: 是/否, then cites
another unit       那人社局呢？                                            ``unit``, same role
narrowing          其中跟宅基地有关的是哪条？ / 其中住建委参与的有哪些？      ``topic`` / ``unit`` within the list
a listed item      (after a list) 交通那条讲的啥？                          ``task``: the item its words name
about the same     它的目标是多少？ / 这条谁牵头？ / Who is responsible   ``task``: the previous task
                   for it?
same, new words    它要打造的品牌叫什么？                                  ``topic``, previous tasks
                                                                          preferred
another topic      那沪通铁路二期呢？ / 好，那检测认证那条呢？               ``topic``, same question
=================  =====================================================  =========================

A question with its own task number, section, part or year, or a full question of its own, stands alone.
"""

from __future__ import annotations

import re
from dataclasses import replace

from .corpus import Plans
from .text import fold
from .understanding import (
    DATED_ASKED,
    FIGURE_QUOTED,
    MEASURE_ASKED,
    MEMBERSHIP_ENGLISH,
    MEMBERSHIP_WORDS,
    Context,
    Intent,
    match_titles,
)

# Words that point at a list answered before ("其中…", "这些里…").
# 只看 / 只挑 / 光要: keep part of the previous list
NEW_TOPIC_CHARS = 3  # a plan word this long, mostly absent from the previous task, starts a new question
_ONLY = re.compile(r"只看|只挑|只要|只留|只列|只说|光看|光要|仅看|仅列|单看|就看|筛一下|筛出|挑出|\b(?:only|just)\b", re.I)
_STRUCT_WORD = re.compile(r"部分|章节|一节|这节|那节|板块|那块|这块|一块|方面|领域|section|part", re.I)
_WHICH = re.compile(r"哪[一几]?[条项个件]|哪些|\bwhich\b", re.I)
_WITHIN = re.compile(
    r"其中|这些任务|这些里|这几条|这几项|这几个|那几条|那几项|那些里|上面|里面|里头|当中|上述|以上|among (?:them|these)|"
    r"of these|which of", re.I
)
# Words that put a unit inside or outside the previous answer ("也在名单里吗", "也参与吗").
_MEMBERSHIP = re.compile(rf"{MEMBERSHIP_WORDS}|其中|里面|负责|牵头|"
                         rf"\b(?:{MEMBERSHIP_ENGLISH}|listed|on (?:it|that|this|the list))\b", re.I)
# "那X呢" starts over with X; "那这个活儿…" / "那它…" still points back.
_STARTS_OVER = re.compile(r"^\s*(?:(?:好的?|嗯|哦|噢|行|对了|ok|okay)[，,。！!\s]*)?(?:那么?(?![这它那个])|还有|再问|另外|"
                          r"(?:and|what about|how about)\b(?!.*\b(?:it|that one|this one|that task|this task)\b))", re.I)
# "那公安局也在这条里？": a pointer back to what was just cited (so 那 does not start a new question)
_BACK = re.compile(r"[这那该此][条项个件份]|名单|里面|里头|其中|\b(?:that one|this one|on it|in it)\b", re.I)
_PLURAL = re.compile(r"它们|这些|这几|这两|两者|二者|这俩|他们|\bthey\b|\bthem\b|\btheir\b|\bboth\b", re.I)
_UNIT_PRONOUN = re.compile(r"它|他们|该单位|这个单位|这个部门|该部门|这家|\b(?:it|they)\b", re.I)
# "还负责什么": a question about a unit's tasks, so its pronoun means the unit just named.
_UNIT_TASKS = re.compile(r"还负责|还管|还牵头|还参与|负责哪些|负责什么|管哪些|管什么|牵头哪些|牵头了哪些|参与哪些|参与了哪些|"
                         r"有哪些任务|what else|other tasks|which tasks", re.I)
# "原文给我看看", "具体咋说的": asking for the wording of what was just cited
_CONTENT = re.compile(r"原文|原话|全文|具体内容|具体怎么|咋说|怎么说|怎么写|写了啥|说了啥|讲了啥|讲啥|说啥|详细|细节|"
                      r"\b(?:details?|full text|wording|exact words)\b", re.I)
# "A还是B": which of two units
_EITHER = re.compile(r"还是|\bor\b", re.I)
# "这两条" / "两者": the two tasks of the last turns, when the last answer cited one
_BOTH = re.compile(r"这两|两条|两项|两者|二者|这俩|\bboth\b|these two|the two", re.I)
SHORT = 14  # characters (folded): a follow-up this short leans on the previous turn
SHORT_WORDS = 8  # ... or, in English, this many words


def resolve(intent: Intent, context: Context, document: Plans) -> Intent:
    """The intent to answer, given the previous turn (``intent`` itself when it stands alone)."""
    previous = context.intent
    if previous is None or not (context.tasks or context.units) or intent.route == "deadline":
        return intent
    q = intent.question
    short = len(q.split()) <= SHORT_WORDS if intent.english else len(fold(q)) <= SHORT
    listed = len(context.tasks) > 1
    # 0. narrowing the previous list to a section or part: (人社局的任务…) 只看长三角一体化那一块的 / 其中第三部分的
    narrowing = listed and bool(_WITHIN.search(q) or _ONLY.search(q))
    if narrowing and intent.route == "task" and not (intent.asks_who or intent.asks_target):
        return intent
    if narrowing and intent.route not in ("section", "part") and _STRUCT_WORD.search(q):
        sections, parts = match_titles(q, document)
        if sections or parts:
            route, no = ("section", sections[0]) if sections else ("part", parts[0])
            intent = replace(intent, route=route, units=(), section=no if route == "section" else None,
                             part=no if route == "part" else None)
    if intent.route in ("section", "part"):
        return replace(intent, within=context.tasks, followup="within-structure") if narrowing else intent
    # 1. an ordinal into the last list (第三条 after a list is its third item, not task 3; after "第二个呢"
    #    a "最后一个呢" still counts in that list; so does "按编号排，最后一条讲的啥", with no topic of its own)
    ordinal = intent.ordinal
    items = context.tasks if listed else context.listing
    leaning = short or intent.pronoun or _names_context_unit(intent, context) or not intent.known
    not_a_number = intent.route != "task" or (intent.tasks and abs(ordinal or 0) == intent.tasks[0])
    if ordinal and len(items) > 1 and leaning and not_a_number and abs(ordinal) <= len(items):
        picked = items[ordinal - 1 if ordinal > 0 else ordinal]
        return replace(_carry(previous, intent), route="task", tasks=(picked,), units=(), followup="ordinal")
    if intent.route == "task":
        return intent
    # 2a. "A还是B牵头" about the previous task: which of them — answered by naming the task's units / lead
    if len(intent.units) > 1 and _EITHER.search(q) and context.tasks and (short or intent.pronoun):
        return replace(intent, route="task", tasks=context.tasks[:1], units=(), asks_who=True, followup="either")
    # 2. yes/no: is this unit among the previous task's units (or its lead)? Also a bare confirmation that names
    #    units and nothing else ("就发改委一家？没有市场监管局？")
    confirming = (q.rstrip().endswith(("？", "?")) and not intent.known and not intent.asks_list
                  and (not _STARTS_OVER.search(q) or bool(_BACK.search(q))) and not re.search("[呢咧嘞哩]", q))
    # 其中文旅局有份的是哪几条: asks which items, not whether
    # (after one task) 那X除了这条，还牵头了哪条: asks for X's other tasks, not whether X is on this one
    asks_which = bool(_WHICH.search(q)) and (listed or bool(_UNIT_TASKS.search(q)))
    # ... unless it brings a topic the previous task never mentions (那崇明在居住证积分上有没有照顾: a new question)
    before = "".join(fold(t.text) for uid in context.tasks[:3] if (t := document.task(uid)))
    new_topic = any(len(w) >= NEW_TOPIC_CHARS and sum(w[i:i + 2] in before for i in range(len(w) - 1)) < (len(w) - 1) / 2
                    for w in intent.known if not _MEMBERSHIP.search(w))  # 名单里 points back
    if (intent.yesno or confirming) and (intent.units or intent.unit_kind) and context.tasks and not new_topic \
            and not asks_which \
            and (short or intent.pronoun or _MEMBERSHIP.search(q) or confirming):
        focus = context.tasks if _PLURAL.search(q) or (listed and previous.route == "unit") else context.tasks[:1]
        named = _item_named(intent, context.tasks, document) if listed else None
        if named is not None:  # (新市镇那一节有几条？) 远郊镇那条，文旅局参与伐: the item its words name
            focus = (named,)
        return replace(intent, route="check", tasks=tuple(focus), followup="yes-no")
    has_topic = bool(intent.topic)
    # Topic words the plan does not know (这个活儿, 啥辰光…弄好, 原文给我看看) are how people talk, not a new topic.
    known = bool(intent.known)
    starts_over = bool(_STARTS_OVER.search(q))
    within = bool(_WITHIN.search(q)) and listed
    # 3a. narrowing the previous list to one unit's items: 其中住建委参与的有哪些？ / (after 科委负责哪些) 其中它自己牵头的
    if intent.units and within and not known:
        return replace(intent, route="unit", within=context.tasks, followup="within-unit")
    if within and not known and not intent.units and intent.role != "any" and context.units and previous.route == "unit":
        return replace(intent, route="unit", units=context.units[:1], within=context.tasks, followup="within-unit")
    # 3. the same question about another unit: 那人社局呢？
    if intent.units:
        if not has_topic and (short or starts_over) and (intent.pronoun or starts_over):
            return replace(_carry(previous, intent), route="unit", followup="new-unit")
        return intent
    # 4. narrowing the previous list: 其中跟宅基地有关的是哪条？ / 其中有公里数目标的是哪条
    dated = intent.asks_target and bool(DATED_ASKED.search(q))
    # (交通委负责哪些事？) 有具体年份要求的是哪条: a question about "which of them" with no topic of its own
    measured = bool(MEASURE_ASKED.search(q) or FIGURE_QUOTED.search(fold(q)))  # 有公里数的 / 提到12万的
    if (within or (asks_which and not intent.specific and (dated or measured))) and (has_topic or measured or dated):
        return replace(intent, route="topic", within=context.tasks, followup="within")
    # 5. the previous unit again: 它牵头哪些？ / (after 海绵城市谁牵头？) 它还负责什么？
    unit_question = previous.route == "unit" and (intent.asks_list or intent.role != "any")
    if context.units and not has_topic and _UNIT_PRONOUN.search(q) and (unit_question or _UNIT_TASKS.search(q)):
        return replace(intent, route="unit", units=context.units[:1], followup="pronoun-unit")
    if has_topic:
        # 6a. (示范区执委会管哪几条？) 交通那条讲的啥？: the listed item the phrase names
        #     (那交通那条依托的是哪个项目: 那 starts over only when the phrase is not all in one listed item)
        named = _item_named(intent, context.tasks, document, whole=starts_over) if listed and intent.pronoun else None
        if named is not None:
            return replace(intent, route="task", tasks=(named,), followup="named-item")
        # 6. another topic, same question: 那沪通铁路二期呢？
        if starts_over and short:
            return replace(_carry(previous, intent), route="topic", followup="new-topic")
        # 7. new words about the same task(s): 它要打造的品牌叫什么？ — unless they are words the task never uses
        #    (好，那长三角检测认证那条呢: another task, named by a phrase of its own)
        if intent.pronoun and context.tasks and not starts_over and known and (intent.english or not new_topic):
            return replace(intent, route="topic", prefer=context.tasks, followup="pronoun-topic")
        # 7b. a short question without a pronoun (要多长时间建好，建多少张床 / 每年新开几家才算达标): about the same task
        #     when it ranks near the top and holds the question's own plan terms (qa.Assistant._topic decides)
        if short and context.tasks and not starts_over and known:
            return replace(intent, route="topic", prefer=context.tasks, followup="same-topic")
        if known:
            return intent
    # 8. about the previous task(s): 它的目标是多少？ / 这条谁牵头？ / 其中谁牵头？ — and, when its only topic words
    #    are ones the plan does not know, a question that asks for a detail (啥辰光要全部弄好？/ 原文给我看看),
    #    unless those words point outside the plan (美国签证怎么办？ stands alone, and is refused)
    asks_detail = intent.asks_who or intent.asks_lead or intent.asks_target or intent.yesno
    if (has_topic and not (intent.pronoun or asks_detail or _CONTENT.search(q))) or (intent.outside and not intent.pronoun):
        return intent
    if intent.pronoun or within or asks_detail or short:
        if not context.tasks:
            return intent
        tasks = context.tasks if (_PLURAL.search(q) or (within and not (intent.asks_who or intent.asks_lead))) \
            else context.tasks[:1]
        if _BOTH.search(q) and len(tasks) < 2 and len(context.recent) >= 2:  # 这两条: the last two tasks talked about
            tasks = context.recent[-2:]
        return replace(intent, route="task", tasks=tuple(tasks), followup="pronoun-task")
    return intent


def _item_named(intent: Intent, tasks: tuple[int, ...], document: Plans, whole: bool = False) -> int | None:
    """The one task of a listed ``tasks`` whose text holds the most of the question's topic bigrams (远郊镇那条 ->
    the item about 位于远郊的镇), when it holds clearly more than every other item (and, with ``whole``, all of
    them); else ``None``."""
    bigrams = {w[i : i + 2] for w in intent.topic for i in range(len(w) - 1)}
    if not bigrams:
        return None
    scores = []
    for uid in tasks:
        task = document.task(uid)
        text = fold(task.text) if task else ""
        scores.append((sum(b in text for b in bigrams), uid))
    scores.sort(reverse=True)
    best, uid = scores[0]
    runner_up = scores[1][0] if len(scores) > 1 else 0
    return uid if best >= 1 and best > runner_up and (not whole or best == len(bigrams)) else None


def _names_context_unit(intent: Intent, context: Context) -> bool:
    return bool(intent.units) and bool(context.units) and intent.units[0] == context.units[0]


def _carry(previous: Intent, current: Intent) -> Intent:
    """``current`` with what a bare "那X呢？" / "第二个呢？" keeps of the previous question."""
    return replace(
        current,
        asks_who=previous.asks_who or current.asks_who,
        asks_lead=previous.asks_lead or current.asks_lead,
        asks_target=previous.asks_target or current.asks_target,
        role=previous.role if current.role == "any" else current.role,
    )

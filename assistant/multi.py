"""Several topics in one question: "A和B分别由谁负责？", "A要多少？B哪年完成？", "A哪年完成，B是哪条".

:func:`split_topics` returns the sub-questions to answer one by one (or [] for a question about one
topic). A question is split when

* it asks 分别 / 各 / 各谁 / 这两件事 / respectively …: the words before that cue, cut at 和/与/跟/及/、 and at
  commas where each side carries topic words (a Latin term such as PM2.5 counts), are the topics, and the rest
  ("分别由谁负责") is the shared question, appended to each topic; short sides after a longer first one are said
  of its subject (外地孩子的上学和看病: 外地孩子的看病; 随迁子女医保和读书, when the sides as written find one task:
  随迁子女读书); or
* it compares (A和B，截止时间一样吗 / 牵头单位一样不), or checks the same thing of each (A、B、C，牵头的都是X吗 /
  A和B是不是都归X管): the sides are answered side by side, the same way;
* it has two or more sentences (or parts joined by "&") or comma clauses that each carry topic words and a
  question of their own (谁/多少/哪年/哪条…, or "X呢" asking the question before it again);
* a list is set off after a pointer (示范区那三条（产业、交通、生活）): the items are the topics, framed by the
  words before the pointer, and share out its tasks when the framing words alone would find one task for all
  (then the split stands whatever the pieces find);

the topics may come as numbered items (1.A 2.B 3.C); a colon that announces how many (要核对两件事：, 三件事一起问：)
leaves what stands before it out, any other colon makes it the frame of each topic (数字城市这块：A、B、C); one piece followed
by a list (随迁人员的孩子，上学和看病，分别…) frames each item; a clause saying who asks (我是…的，) is no topic, nor is
a sentence pointing back at the one before it (…？谁在研究这个), nor a place listed with 、 before what it modifies
(在崇明、新城上班的人…); a piece that points at a task by a phrase (…那条)
and a quoted name (“一张床、一间房、一套房”) are never cut at their joiners;

and only when the pieces find at least two different best tasks (two phrasings of one task are one topic).
"""

import re
from typing import Protocol

from .answer import paste_label
from .understanding import COUNT_WORDS, SPEAKER, asks_something, find_task_numbers, is_english, topic_words

_SEVERAL = re.compile(
    r"分别|各自|各有|各定|各要|各是|各需|各由|各为|各占|各归|各属|各管|各(?=谁|啥|什么|多少|哪|几|怎|咋)|两件事|三件事|两项|三项|这两|这三|这几|两个方面|"
    # comparisons ("A和B，截止时间一样吗"): each side is answered, side by side
    r"一样吗|一样不|一样么|一样伐|是否一样|是否一致|一致吗|相同吗|相同不|同一个|有何不同|有什么不同|有啥不同|不一样|区别|差别|"
    r"哪个先|哪项先|哪条先|谁先|哪个早|哪个晚|哪个更早|哪个更晚|是不是同一|是否同一|同一年|"
    # "A和B，哪个截止时间更早 / 哪个期限先到": which of them, with what is compared in between
    r"哪[个项条][^，,。？?]{0,6}(?:更早|更晚|先到|先完成|在前|早些|晚些)|"
    # "A、B、C，牵头的都是数据局吗" / "A和B是不是都归发改委管": the same check on each side
    r"都是[^，。？?]{1,12}[吗么伐]|是不是都|是否都|都归|都由|"
    r"\b(?:respectively|both|each of|the same|differ)\b",
    re.I,
)
_PREPOSITION = re.compile(r"(?:在|对|对于|就|于)\s*$")
# Sentence ends, and "&" (staff join two whole questions with it)
_SENTENCES = re.compile(r"[？?。；;！!]|\s&\s|&|[（(]?\b\d{1,2}\s*[)）](?!\d)|[①-⑩]")
# "…谁在研究这个" / "这事归谁": a sentence that points back at the one before it
_BACK = re.compile(r"^(?:那)?(?:这个|这事|这件事|此事|它|这一?[项条块类种]|该[项条])|"
                   r"(?:这个|这事|这件事|此事|它)(?:呢|吗|么)?\s*$")
# "X呢": a clause that asks the question before it again, about X
_ASKS_AGAIN = re.compile(r"呢\s*$|\bwhat about\b|\bhow about\b", re.I)
_COMMAS = re.compile(r"[，,]")
# the pieces a list of topics comes in: comma clauses, or numbered items (1.A 2.B 3.C / 1、A 2、B)
_PIECES = re.compile(r"[，,]|(?<![\d.])\d{1,2}\s*[.．、](?!\d)")
# a clause that carries the question before it on to another topic
_CONTINUES = re.compile(r"\s*(?:and\s+(?:for|on|about|also|what about|the)\b|as well as\b|plus\b|以及|还有|另外|再就是|还要问)",
                        re.I)
# 和/与/及/同 join two topics, not inside a word (和美乡村, 参与, 及时, 协同, 同城待遇)
_JOINERS = re.compile(r"以及|(?<![平共温缓调])和(?![美平])|(?<!参)与|跟|(?<![以涉普波])及(?!时)|"
                      r"(?<![协共相不合如会陪一])同(?![城等步时一样意])|、|\band\b|&|\s+vs\.?\s+|\s+versus\s+", re.I)
_JOINER_WORDS = "以及|还有|和|与|跟|及|同"
_LEADING_JOINER = re.compile(rf"^(?:{_JOINER_WORDS})")
# "…那条": a piece that points at one task by a phrase of its own is one topic, whatever joiners it holds
_POINTED = re.compile(r"[那这][一]?[条项个]\s*$")
_POINTED_JOINERS = re.compile(rf"(?<=[那这][条项个])\s*(?:{_JOINER_WORDS}|、)")
# "要核对两件事：A，和B，…": what comes before a colon that announces the topics is not one of them
_ANNOUNCED = re.compile(r"[两俩二三仨四几]\s*(?:件事|个事|个问题|件|个|项|条|点|块|类|方面|部分|样)[^，,。？?：:]{0,8}[:：]")
# "这两件事", "这俩": pointers back to the topics, not topics themselves
_DEICTIC = re.compile(r"这[两三四几俩仨]?(?:件事|个事|项|个|件|条|方面|块)?|两件事|三件事|这俩|这仨|二者|两者|这些事")
# "分别谁牵头" / "各由谁": each topic is asked on its own (谁牵头 / 由谁); 分别 only blurs its search
_EACH = re.compile(r"^(?:分别|各自)(?=.)|^各(?=谁|啥|什么|多少|哪|几|怎|咋|有|定|要|是|需|由|为|占|归|属|管)")
# "这两条里各自…": what is left of "in these" once the pointer is gone
_INSIDE = re.compile(r"^(?:里面?|里头|之中|当中|中)\s*")
# "截止时间一样吗" / "负责单位有啥不一样": the comparison itself, left off the question each side is asked
_COMPARE = re.compile(
    r"[，,\s]*(?:是否|有啥|有什么|有何)?[，,\s]*(?:一样|一致|相同|不一样|不同|区别|差别)(?:吗|不|么|伐|呢)?\s*$"
)
# "哪个截止时间更早": each side is asked for what is compared (截止时间)
_WHICH_FIRST = re.compile(r"哪[个项条]([^，,。？?]{0,6}?)(?:更早|更晚|先到|先完成|在前|早些|晚些)")
# "这三块" / "两件事" / "三项": how many topics the question says it holds
_COUNT = re.compile(r"([两俩二三仨四])(?:块|件|项|个|条|方面|部分|样)?")
MAX_TOPICS = 4
CONTEXT_TASKS = 8  # the tasks that the words framing a list (示范区那三条) find, for its items to land among
BARE_ITEM = 3  # characters: a listed item this short (产业, 交通) is always asked with the words framing the list
PIN_RANK = 10  # a listed item names the framed task it ranks within this many of, searched on its own
DECISIVE = 1.5  # a part whose best BM25 task scores this many times the second is not embedded to compare


class _Searcher(Protocol):
    def search(self, query: str, k: int = 5, decisive: float | None = None) -> list: ...


def split_topics(question: str, engine: _Searcher) -> list[str]:
    """The sub-questions of a question about several topics, or [] when it is about one."""
    english = is_english(question)
    parts, pinned = _aside(question, english, engine)
    if pinned:
        return parts
    several = len(parts) < 2 and bool(_SEVERAL.search(question))
    if several:
        parts = _shared_question(question, english)
    if len(parts) < 2:
        parts = _own_questions(question, english)
    if _distinct(parts, engine):
        return parts
    # one task found for every part: one topic in several phrasings, unless the short sides are said of the first
    # side's subject (随迁子女医保和读书各谁管: 随迁子女读书)
    parts = _shared_question(question, english, inherit=True) if several else []
    return parts if _distinct(parts, engine) else []


def _distinct(parts: list[str], engine: _Searcher) -> bool:
    """2 to MAX_TOPICS parts whose best tasks are not all one."""
    if not 2 <= len(parts) <= MAX_TOPICS:
        return False
    tops = []
    for part in parts:
        hits = engine.search(part, k=1, decisive=DECISIVE)
        tops.append(hits[0].task.uid if hits else None)
    return len(set(tops)) >= 2


def _has_topic(text: str, english: bool) -> bool:
    # PM2.5 / 5G in a Chinese question name a topic too
    return bool(topic_words(_DEICTIC.sub(" ", text), english)) or (not english and bool(_LATIN_TERM.search(text)))


def _own_questions(question: str, english: bool) -> list[str]:
    """Sentences, then comma clauses, that each carry topic words and a question of their own."""
    sentences: list[str] = []
    for sentence in (s.strip() for s in _SENTENCES.split(question) if s.strip()):
        if sentences and _BACK.search(sentence):  # "…能不能交公积金？方案里是谁在研究这个": the same topic, asked on
            sentences[-1] += "，" + sentence
        else:
            sentences.append(sentence)
    pieces = _with_statements(question, [s for s in sentences if _has_topic(s, english)])
    if len(pieces) >= 2:
        return pieces
    clauses = []
    for clause in (c.strip() for s in sentences for c in _COMMAS.split(s) if c.strip()):
        items = [i.strip() for i in clause.split("、") if i.strip()]  # "A哪年改完、B搞多少、C多少个": listed with 、
        asks_each = len(items) > 1 and all(_has_topic(i, english) and asks_something(i) for i in items)
        clauses += items if asks_each else [clause]
    topical = [c for c in clauses if _has_topic(c, english)]
    asking = [c for c in topical if asks_something(c) or _ASKS_AGAIN.search(c)]
    # every clause with topic words asks something; a closing request ("一口气告诉我") may not
    rest = [c for c in topical if c not in asking]
    if len(asking) == 1 and rest and topical[0] in asking and all(_CONTINUES.match(c) for c in rest):
        # "What are the targets for A, and for B?" / "A的目标是多少，还有B": B is asked the same
        return [topical[0], *(_carried(topical[0], c) for c in rest)]
    return asking if len(asking) >= 2 and (not rest or rest == topical[-1:]) else []


# "What are the targets for A": the question up to the preposition that introduces its topic
_EN_FRAME = re.compile(r"^(.*\b(?:for|of|about|on|in)\b)\s", re.I)
_EN_CONTINUES = re.compile(r"^\s*(?:and|as well as|plus)\s+(?:(?:what|how) about\s+|also\s+)?(?:for|of|about|on|in)?\s*", re.I)


def _carried(first: str, clause: str) -> str:
    """An English clause that carries the first one's question on to another topic, asked in full ("and for B"
    after "What are the targets for A" -> "What are the targets for B"); other clauses as they are."""
    frame = _EN_FRAME.match(first)
    if not frame or not is_english(first):
        return clause
    return f"{frame.group(1)} {_EN_CONTINUES.sub('', clause)}"


# "示范区那三条——产业、交通、生活便利——各是谁牵头" / "新城那几条（产业、公共服务）": a list set off by dashes or
# brackets right after a pointer at several items (那三条, 这几项) names the topics
_ASIDE = re.compile(r"(?:——|—|--|[（(])([^—（()）]*[、，,][^—（()）]*)(?:——|—|--|[）)])")
_POINTER = re.compile(r"[那这][两三四五六几些]?[条项个件块]+(?:任务|事)?\s*$")


def _aside(question: str, english: bool, engine: _Searcher) -> tuple[list[str], bool]:
    """The topics of a list set off after a pointer, each with the question after the list. A bare word (产业 in
    示范区那三条), or an item whose own best task is not among those the words before the pointer find, is asked
    together with those words. When items so asked would find the same task (青吴嘉 outweighs 产业 and 交通 alike),
    the pointer's tasks are shared out among the items instead: each item names the framed task it ranks highest on
    its own (second value True)."""
    m = _ASIDE.search(question)
    pointer = _POINTER.search(question[: m.start()]) if m else None
    if not m or not pointer:
        return [], False
    items = [i.strip() for i in re.split(r"[、，,]", m.group(1)) if i.strip()]
    context = question[: pointer.start()].strip("，, ")
    ask = question[m.end() :].strip("，, ")
    if not ask or not 2 <= len(items) <= MAX_TOPICS or not all(_has_topic(i, english) for i in items):
        return [], False
    framed = engine.search(context, k=CONTEXT_TASKS) if _has_topic(context, english) else []
    uids = {h.task.uid for h in framed}
    parts, framed_parts = [], []
    for item in items:
        hits = engine.search(item, k=1) if len(item) > BARE_ITEM else []
        alone = not uids or bool(hits and hits[0].task.uid in uids)
        parts.append(f"{'' if alone else context}{item}，{ask}")
        if not alone:
            framed_parts.append(parts[-1])
    tops = [hits[0].task.uid for p in framed_parts if (hits := engine.search(p, k=1, decisive=DECISIVE))]
    if len(set(tops)) < len(tops) and (shared := _share_out(items, framed, engine)):
        return [f"{context}{item}（{paste_label(task)}），{ask}" for item, task in zip(items, shared, strict=True)], True
    return parts, False


def _share_out(items: list[str], framed: list, engine: _Searcher) -> list | None:
    """One framed task per item, distinct: the pairs whose rank for the words before the pointer plus rank for the
    item on its own is least go first (产业 -> the 示范区 task on industry). None when an item ranks none of the free
    framed tasks within PIN_RANK."""
    pairs = []
    for i, item in enumerate(items):
        order = [h.task.uid for h in engine.search(item, k=PIN_RANK)]
        pairs += [(rank + order.index(h.task.uid), i, h.task) for rank, h in enumerate(framed) if h.task.uid in order]
    chosen: dict[int, object] = {}
    for _, i, task in sorted(pairs, key=lambda p: (p[0], p[1])):
        if i not in chosen and all(task is not t for t in chosen.values()):
            chosen[i] = task
    return [chosen[i] for i in range(len(items))] if len(chosen) == len(items) else None


def _with_statements(question: str, pieces: list[str]) -> list[str]:
    """Sentences that ask nothing ("听说又有大项目落地了", "我住朱家角等着坐呢") are what the question next to them is
    about, not topics of their own: each joins the asking sentence before it (or, first, the one after)."""
    def asks(piece: str) -> bool:
        end = question.find(piece) + len(piece)
        return asks_something(piece) or question[end : end + 1] in ("？", "?") or bool(_ASKS_AGAIN.search(piece))

    out: list[str] = []
    waiting = ""
    for piece in pieces:
        if asks(piece):
            out.append(f"{waiting}，{piece}" if waiting else piece)
            waiting = ""
        elif out:
            out[-1] += "，" + piece
        else:
            waiting = f"{waiting}，{piece}" if waiting else piece
    if waiting:
        out.append(waiting)
    return out


_LATIN_TERM = re.compile(r"[A-Za-z]{2,}[\d.]*\d|\d+[A-Za-z]{1,3}\b")
_PREPOSITIONS = ("在", "从", "到", "对", "给", "为", "向", "往")
_MODIFIER = re.compile(rf"^[{''.join(_PREPOSITIONS)}][\u4e00-\u9fff]{{1,4}}$")
_QUOTED = re.compile(r"“[^”]*”|「[^」]*」|‘[^’]*’|\"[^\"]*\"")


def _sides(piece: str, level: str = "") -> list[str]:
    """The topics a comma piece joins (A和B, A、B), never cutting a quoted name (“一张床、一间房、一套房”). With
    ``level`` only the joiners of one level cut: "list" (、 and 以及: A、B以及C和D has three topics) or "pair" (and
    not 、: A和B、C的D has two)."""
    joiners = _JOINERS if not _POINTED.search(piece) else _POINTED_JOINERS
    masked = _QUOTED.sub(lambda m: "\0" * len(m.group(0)), piece)
    sides, start, commas = [], 0, []
    for m in joiners.finditer(masked):
        if (level == "pair" and m.group(0) == "、") or (level == "list" and m.group(0) not in ("、", "以及")):
            continue
        sides.append(piece[start : m.start()])
        commas.append(m.group(0) == "、")
        start = m.end()
    sides.append(piece[start:])
    sides = [s.strip() for s in sides]
    # "在崇明、新城上班的人…": a side that is only a preposition and a short name, listed with 、 before a side
    # that does not repeat the preposition, modifies what follows it (在全市层面和在示范区层面 are two sides)
    merged: list[str] = []
    for i, side in enumerate(sides):
        # "上海、苏州11号线的运营衔接": a side with no topic words of its own, listed with 、, is said with the next one
        if merged and commas[i - 1] and (_MODIFIER.match(merged[-1]) or not _has_topic(merged[-1], False)) \
                and not side.startswith(_PREPOSITIONS):
            merged[-1] += "、" + side
        else:
            merged.append(side)
    return [s for s in merged if s]


def _shared_subject(sides: list[str], inherit: bool) -> list[str]:
    """"外地孩子的上学和看病": short sides after a longer first side are said of its subject, the first side up to its
    last 的 (外地孩子的看病). With ``inherit`` (asked when the sides as written all find one task: 随迁子女医保和读书),
    the subject is also the first side less as many characters as the short side has (随迁子女读书)."""
    if len(sides) < 2 or len(sides[0]) <= BARE_ITEM or not all(len(s) <= BARE_ITEM for s in sides[1:]):
        return sides
    first = sides[0]
    if "的" in first[1:]:
        cut = first.rfind("的") + 1
    elif inherit:
        cut = len(first) - max(len(s) for s in sides[1:])
    else:
        return sides
    subject = first[:cut]
    return [first, *(subject + s for s in sides[1:])] if len(subject) >= 2 else sides


def _shared_question(question: str, english: bool, announced: int = 0, inherit: bool = False) -> list[str]:
    """Topics of "A，和B，分别…" / "A跟B分别…" with the shared question appended to each."""
    # "要核对两件事：A，和B，这两条分别…": the words before the colon announce how many topics follow, no more
    said = list(_ANNOUNCED.finditer(question))
    if said and _SEVERAL.search(question, said[-1].end()):
        count = _COUNT.search(said[-1].group(0))
        return _shared_question(question[said[-1].end() :], english, COUNT_WORDS.get(count.group(1), 0) if count else 0,
                                inherit)
    cue = _SEVERAL.search(question)
    assert cue is not None
    head, ask = question[: cue.start()], question[cue.start() :]
    # "A，B，应急局在这两条里是牵头还是配合": a clause whose words before the pointer back (这两条) end in a preposition
    # is the subject of the question, not a topic
    start = max(head.rfind(c) for c in "，,") + 1
    if _DEICTIC.match(cue.group(0)) and start > 0 and _PREPOSITION.search(head):
        head, ask = question[:start], question[start:]
    # "A和B，这两件事分别…": a trailing clause without topic words belongs to the question
    # "数字城市这块：A、B、C，…" / "崇明的事：A，还有B，…": what comes before a colon that announces no count is what
    # each topic after it is about; a clause saying who asks (我是外地来的电工，…) is neither a topic nor a frame
    frame, colon, listed = max(head.rpartition("："), head.rpartition(":"), key=lambda p: len(p[0]))
    frame = frame.strip("，, ") if colon and _has_topic(frame, english) else ""
    head = listed if colon else head
    raw = [p.strip() for p in _PIECES.split(head) if p and p.strip()]
    raw = [p for p in raw if not SPEAKER.match(p + "，")]
    joined = bool(raw) and bool(_LEADING_JOINER.match(raw[-1]))  # "A，跟B、C，分别…": B、C is beside A, not about it
    pieces = [_LEADING_JOINER.sub("", p) for p in raw]
    while pieces and not _has_topic(pieces[-1], english):
        ask = pieces.pop() + "，" + ask
    groups: list[list[str]] = []  # the topics of each comma piece
    for piece in pieces:
        sides = _shared_subject(_sides(piece), inherit)
        if len(sides) > 1 and not all(_has_topic(s, english) for s in sides):
            # "区区结对合作、各区制定支持政策和项目清单": cut at one level of joiner only, when that leaves topics
            sides = next((cut for level in ("list", "pair") if len(cut := _sides(piece, level)) > 1
                          and all(_has_topic(s, english) for s in cut)), sides)
        if len(sides) > 1 and all(_has_topic(s, english) for s in sides):
            groups.append(sides)
        elif _has_topic(piece, english):
            groups.append([piece])
    topics = [t for g in groups for t in g]
    # The question may say how many topics it holds (这两块, 三件事). When the topics found are not that many, and
    # the comma pieces are, each piece is one topic ("A、B，和C，这两块分别…": A、B is one); when the last piece lists
    # that many, those are the topics and the pieces before it say what each is about ("灵活就业的人，参加A、B、C，
    # 这三块分别…"). Without a count, a question with more than MAX_TOPICS topics is read the second way.
    count = _COUNT.search(question[max(cue.start() - 2, 0) : cue.end() + 2])
    wanted = COUNT_WORDS.get(count.group(1), 0) if count else announced
    if wanted and len(topics) > wanted:
        # "随迁子女上学和全人群、全生命周期的人口服务，这两条…": 、 lists within a topic, 和 between the topics;
        # when the list ends in 以及, 和 joins inside a topic (A、B以及C和D)
        level = "list" if any("以及" in piece for piece in pieces) else "pair"
        fewer = [sides for piece in pieces if _has_topic(piece, english)
                 for sides in [[s for s in _sides(piece, level) if s]]]
        if sum(len(g) for g in fewer) == wanted and all(_has_topic(s, english) for g in fewer for s in g):
            groups, topics = fewer, [t for g in fewer for t in g]
    last = groups[-1] if groups else []
    if wanted and len(topics) != wanted and len(groups) == wanted:
        topics = ["、".join(g) for g in groups]
    elif not wanted and len(groups) == 2 and len(groups[0]) == 1 and len(last) > 1 and not joined \
            and not _POINTED.search(pieces[0]) and not english:  # English lists "A, B and C" with a comma
        # "外地来沪人员的孩子，上学和看病，分别…": one piece, then a comma and a list: the piece is what each is about
        topics = [f"{groups[0][0]}，{t}" for t in last]
    elif ((wanted and len(topics) != wanted) or len(topics) > MAX_TOPICS) and len(last) == (wanted or len(last)) > 1:
        context = "，".join("、".join(g) for g in groups[:-1])
        topics = [f"{context}，{t}" if context else t for t in last]
    topics = [f"{frame}，{t}" for t in topics] if frame else topics
    ask = _SENTENCES.split(ask)[0].strip("，, ")
    # "这几条都是交通委牵头么" / "截止时间一样吗": each topic is asked "交通委牵头么" / "截止时间"
    ask = _COMPARE.sub("", _DEICTIC.sub("", _WHICH_FIRST.sub(r"\1", ask))).strip("，, 都")
    ask = _EACH.sub("", _INSIDE.sub("", ask)) or "是什么"
    # a further sentence is asked on its own, unless it points at one of the topics by its place (在不在第二条里)
    rest = [s.strip() for s in _SENTENCES.split(question[cue.start() :])[1:] if _has_topic(s, english)
            and not (wanted and any(1 <= n <= wanted for n in find_task_numbers(s)))]
    return [f"{t}，{ask}" for t in topics] + rest

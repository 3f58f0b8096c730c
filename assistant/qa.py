"""The :class:`Assistant`: question -> :class:`~assistant.answer.Answer`, grounded and cited.

Flow (one way): question -> input checks -> :func:`~assistant.understanding.understand`
-> route (structure lookups from the parsed document, or hybrid retrieval) -> evidence check
(refuse when the plan does not cover it) -> :class:`~assistant.compose.Composer` -> optional
LLM phrasing whose citations are verified (:mod:`assistant.llm`).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING

from .answer import Answer
from .compose import Composer
from .conversation import Conversation
from .document import Document, Task
from .document import load as load_document
from .embedding import Embedder
from .errors import AssistantError, InputError
from .facts import Target, extract_targets, targets_of
from .glossary import Glossary
from .retrieval import Hit, SearchEngine
from .settings import Settings
from .text import fold
from .understanding import Intent, has_words, strip_markup, understand, vocabulary_for
from .units import Registry

if TYPE_CHECKING:
    from .drafts import DraftCiter, DraftResult

Progress = Callable[[str], None]
_QUANTITY_Q = re.compile(r"多少|几个|几张|几公里|数量|比例|百分之|how (?:many|much|far)|what (?:percentage|share)", re.I)
# A runner-up is cited too when its BM25 score is this close to the top hit's and dense ranks it top 3.
RUNNER_UP_BM25_RATIO = 0.7
# A topic question skips the query embedding when BM25's best hit scores this many times its second.
DECISIVE_BM25 = 2.0
# "Which tasks involve X" lists every hit scoring at least this share of the best BM25 score.
LIST_BM25_RATIO = 0.45
LIST_MAX = 10
LIST_DENSE_RANK = 8  # ... and that dense retrieval also ranks this high


def _concepts(query: str) -> list[str]:
    """The parts of a list question joined by 、/和/及 …: each is searched on its own."""
    return [c for c in re.split(r"[、，,/和及与]|以及|还有", query) if c.strip()]


class Assistant:
    """Answers questions about the plan. Build with :meth:`open`; share across threads."""

    def __init__(self, settings: Settings, document: Document, registry: Registry, glossary: Glossary | None,
                 engine: SearchEngine, llm: object | None = None) -> None:
        self.settings = settings
        self.document = document
        self.registry = registry
        self.glossary = glossary
        self.search_engine = engine
        self.llm = llm
        self.composer = Composer(document, registry.english)
        self.vocabulary = vocabulary_for(document, registry, glossary)
        self.targets = extract_targets(document)
        self._citer: DraftCiter | None = None

    @classmethod
    def open(cls, settings: Settings, progress: Progress | None = None, embedder: Embedder | None = None) -> Assistant:
        """Parse the corpus, load (or build) the index, load the registries."""
        document = load_document(settings.corpus)
        registry = Registry.load()
        registry.check_against(document.units())
        glossary = Glossary.load()
        engine = SearchEngine.open(settings, document, embedder=embedder, progress=progress)
        llm = None
        if settings.llm_base_url:
            from .llm import LLMPhraser

            llm = LLMPhraser(settings, registry)
        assistant = cls(settings, document, registry, glossary, engine, llm)
        assistant.warm_up()
        return assistant

    def warm_up(self) -> None:
        """Pay one-time costs (tokenizer dictionary, typo index, first embedding) at start-up."""
        self.vocabulary.prepare()
        self.search_engine.search("海绵城市建设", k=1)

    def new_conversation(self) -> Conversation:
        return Conversation()

    def cite(self, text: str) -> DraftResult:
        """Suggest task citations for each clause of a draft (see :mod:`assistant.drafts`)."""
        from .drafts import DraftCiter

        if not isinstance(text, str) or not strip_markup(text) or not has_words(strip_markup(text)):
            raise InputError("请粘贴一段草稿文字。")
        if len(text) > self.settings.max_draft_chars:
            raise InputError(f"草稿太长（{len(text)}字）。一次最多处理{self.settings.max_draft_chars}字，请分段粘贴。")
        if self._citer is None:
            self._citer = DraftCiter(self.search_engine, self.document, self.vocabulary, self.glossary)
        return self._citer.cite(strip_markup(text))

    # --- asking ----------------------------------------------------------------------------

    def ask(self, question: str, conversation: Conversation | None = None) -> Answer:
        """Answer one question; never raises for bad input (returns ``kind="invalid"``)."""
        started = time.perf_counter()
        conversation = conversation or Conversation()
        with conversation.lock:
            intent, answer = self._ask(question, conversation)
            answer = replace(answer, extra={**answer.extra, "ms": round((time.perf_counter() - started) * 1000, 2)})
            conversation.remember(intent, answer)
        return answer

    def _ask(self, question: object, conversation: Conversation) -> tuple[Intent | None, Answer]:
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
        intent = understand(text, self.document, self.registry, self.glossary, self.vocabulary, conversation.context())
        try:
            answer = self._route(intent)
        except AssistantError as exc:
            return intent, Composer.invalid(text, str(exc))
        if self.llm is not None and not answer.refused:
            answer = self.llm.rephrase(answer, self.document)  # type: ignore[attr-defined]
        return intent, answer

    def _route(self, intent: Intent) -> Answer:
        route = {
            "task": self._by_number,
            "section": self._section,
            "part": self._part,
            "unit": self._unit,
            "deadline": self._deadline,
        }.get(intent.route, self._topic)
        return route(intent)

    # --- structural routes ---------------------------------------------------------------------

    def _by_number(self, intent: Intent) -> Answer:
        tasks = [t for n in intent.tasks if (t := self.document.task(n))]
        missing = [n for n in intent.tasks if not self.document.task(n)]
        total = len(self.document.tasks)
        if not tasks:
            numbers = "、".join(f"第{n}项" for n in missing)
            reason = (f"The plan has {total} tasks (1–{total}); there is no task {', '.join(map(str, missing))}."
                      if intent.english else f"《任务分工方案》共有{total}项任务（第1至{total}项），没有{numbers}。")
            return self.composer.refusal(intent.question, reason, [], intent.english)
        if intent.asks_target and not intent.asks_who:
            pairs = [(t, targets_of(t)) for t in tasks]
            return self.composer.targets(intent.question, pairs, intent.english, "task")
        focus = "lead" if intent.asks_lead else ("units" if intent.asks_who else "all")
        return self.composer.task_detail(intent.question, tasks, intent.english, focus=focus)

    def _section(self, intent: Intent) -> Answer:
        section = self.document.section(intent.section or 0)
        assert section is not None
        tasks = self.document.tasks_in_section(section.no)
        part = self.document.part(section.part_no)
        heading = (f"Section **{section.label}** (in {part.label if part else ''}) has **{len(tasks)}** tasks:"
                   if intent.english else
                   f"**{section.label}**（属于“{part.label if part else ''}”）共 **{len(tasks)}** 项任务：")
        return self.composer.task_list(intent.question, heading, tasks, intent.english, "section")

    def _part(self, intent: Intent) -> Answer:
        part = self.document.part(intent.part or 0)
        assert part is not None
        tasks = self.document.tasks_in_part(part.no)
        sections = [s for s in self.document.sections if s.part_no == part.no]
        names = "、".join(s.label for s in sections)
        heading = (f"Part **{part.label}** has {len(sections)} sections ({names}) and **{len(tasks)}** tasks:"
                   if intent.english else
                   f"**{part.label}** 下设{len(sections)}节（{names}），共 **{len(tasks)}** 项任务：")
        return self.composer.task_list(intent.question, heading, tasks, intent.english, "part")

    def _unit(self, intent: Intent) -> Answer:
        unit = intent.units[0]
        info = self.registry.get(unit)
        mine = [t for t in self.document.tasks if unit in t.units]
        lead = [t for t in mine if t.lead_unit == unit]
        co = [t for t in mine if t.lead_unit != unit]
        collective: dict[str, list[Task]] = {}
        if info is not None and info.kind == "district" and intent.role != "lead":
            for group in self.registry.collectives_for(unit):
                collective[group] = [t for t in self.document.tasks if group in t.units and t not in mine]
        alias = next((m.alias for m in self.registry.resolve(intent.question) if m.unit == unit), "")
        return self.composer.unit_tasks(intent.question, unit, lead, co, collective, intent.role, intent.english, alias)

    def _deadline(self, intent: Intent) -> Answer:
        dated = [t for t in self.targets if t.year == intent.year]
        if not dated:
            years = sorted({t.year for t in self.targets if t.year})
            reason = (f"The plan sets no target dated {intent.year}. Dated targets exist for: {', '.join(map(str, years))}."
                      if intent.english else
                      f"《任务分工方案》没有以{intent.year}年为期限的目标。文件中有明确期限的目标年份为："
                      f"{'、'.join(f'{y}年底' for y in years)}。")
            return self.composer.refusal(intent.question, reason, [], intent.english)
        pairs = self._group(dated)
        heading = (f"Targets dated {intent.year} ({len(pairs)} task(s)):" if intent.english
                   else f"《任务分工方案》中以{intent.year}年为期限的目标共涉及 {len(pairs)} 项任务：")
        return self.composer.targets(intent.question, pairs, intent.english, "deadline", heading)

    def _group(self, targets: list[Target]) -> list[tuple[Task, list[Target]]]:
        grouped: dict[int, list[Target]] = {}
        for t in targets:
            grouped.setdefault(t.task, []).append(t)
        return [(task, grouped[n]) for n in grouped if (task := self.document.task(n))]

    # --- retrieval route -------------------------------------------------------------------------

    def _topic(self, intent: Intent) -> Answer:
        k = len(self.document.tasks) if intent.within else max(self.settings.top_k, 10)
        # A list question over several concepts searches each concept on its own: its first search only
        # supplies related tasks and a fallback, so BM25 may decide it alone.
        single_list = intent.asks_list and len(_concepts(intent.query)) == 1
        shortcut = None if (single_list or intent.within or intent.english) else DECISIVE_BM25
        hits = self.search_engine.search(intent.query, k=k, decisive=shortcut)
        if intent.within:
            hits = [h for h in hits if h.task.n in intent.within]
        if intent.units:
            hits = [h for h in hits if set(intent.units) & set(h.task.units)] or hits
        related = [h.task for h in hits[:3]]
        if intent.specifics:
            return self.composer.refusal(intent.question, self._no_specifics(intent), related, intent.english)
        if intent.uncovered and not intent.units:
            words = "、".join(f"“{w}”" for w in intent.uncovered)
            reason = (f"The plan does not cover this: it never mentions {words}." if intent.english
                      else f"《任务分工方案》没有涉及这个问题：文件中没有提到{words}。")
            return self.composer.refusal(intent.question, reason, related[:2], intent.english)
        if not hits:
            reason = "The plan does not cover this." if intent.english else "《任务分工方案》没有涉及这个问题。"
            return self.composer.refusal(intent.question, reason, [], intent.english)
        chosen = self._select_many(intent, hits) if intent.asks_list and not intent.asks_who else self._select(hits)
        if intent.asks_target and not intent.asks_list:
            pairs = [(t, targets_of(t)) for t in chosen]
            with_targets = [(t, ts) for t, ts in pairs if ts]
            if _QUANTITY_Q.search(intent.question) and not with_targets and not any(re.search(r"\d", t.text) for t in chosen):
                reason = ("The plan states no figure for this." if intent.english
                          else "《任务分工方案》对此没有规定具体数字或指标。")
                return self.composer.refusal(intent.question, reason, chosen, intent.english)
            if with_targets:
                return self.composer.targets(intent.question, with_targets, intent.english, "target")
        return self.composer.who(intent.question, chosen, intent.english, lead_only=intent.asks_lead)

    @staticmethod
    def _select(hits: list[Hit]) -> list[Task]:
        """The top hit, plus close runners-up that both retrievers agree on."""
        top = hits[0]
        chosen = [top.task]
        if not top.bm25_score:
            return chosen
        for hit in hits[1:4]:
            close = (hit.bm25_score or 0.0) >= RUNNER_UP_BM25_RATIO * top.bm25_score
            if close and (hit.dense_rank or 99) <= 3:
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
                found = [h for h in found if h.task.n in intent.within]
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

    def _no_specifics(self, intent: Intent) -> str:
        cue = intent.specifics
        if intent.english:
            return (f"The plan does not specify this ({cue}): it assigns tasks and responsible units, "
                    "not fees, prices, scores, eligibility rules or procedures.")
        return (f"《任务分工方案》没有规定这方面的具体内容（“{cue}”）。该文件只分配任务和责任单位，"
                "不规定费用、价格、分值、申请条件或办理流程；请以主管部门发布的具体政策为准。")

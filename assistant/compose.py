"""The grounded answer composer: deterministic markdown from parsed tasks, no LLM.

Every sentence that states a fact quotes the task text verbatim and carries its citation key
(〔任务32〕); unit names are written exactly as the document writes them, the lead unit marked.
English questions get English scaffolding around the same Chinese quotes and unit names.
"""

from __future__ import annotations

from collections.abc import Sequence

from .answer import Answer, Citation, cite_key, paste_label
from .corpus import Plans
from .document import Task
from .facts import Target, targets_of

MAX_PASTE_LINES = 10  # longer lists keep their citations in Answer.citations only


class Composer:
    """Builds :class:`Answer` objects; ``english_name(unit)`` glosses units in English answers."""

    def __init__(self, document: Plans, english_name: object | None = None) -> None:
        self.document = document
        self._english_name = english_name

    # --- small pieces --------------------------------------------------------------------

    def units_line(self, task: Task, english: bool = False, bold_lead: bool = True) -> str:
        names = []
        for i, unit in enumerate(task.units):
            label = f"**{unit}**" if (i == 0 and bold_lead) else unit
            gloss = self._gloss(unit) if english else ""
            if i == 0:
                label += f"（{gloss + ', ' if gloss else ''}{'lead' if english else '牵头'}）"
            elif gloss:
                label += f"（{gloss}）"
            names.append(label)
        return "、".join(names)

    def name(self, tasks: Sequence[Task]) -> str:
        """《任务分工方案》: the plan these tasks come from; several plans are named one after another; with no
        task, the reference plan (or "各文件" when the corpus holds several)."""
        names = list(dict.fromkeys(t.cite_as for t in tasks if t.cite_as))
        if not names:
            plans = getattr(self.document, "documents", ())
            if len(plans) > 1:
                return "各文件"
            names = [getattr(self.document, "short", "") or (plans[0].short if plans else "") or "任务分工方案"]
        return "".join(f"《{n}》" for n in names)

    def _gloss(self, unit: str) -> str:
        if self._english_name is None:
            return ""
        return self._english_name(unit) or ""  # type: ignore[operator]

    def where(self, task: Task) -> str:
        """Where the task sits: its part and section, and its document when it is not the reference plan."""
        places = [f"《{task.cite_as}》"] if not task.primary else []
        places += [h.label for h in (task.part, task.section) if h is not None]
        return " › ".join(places)

    def paste_block(self, tasks: Sequence[Task], english: bool = False) -> str:
        if not tasks or len(tasks) > MAX_PASTE_LINES:
            return ""
        head = "**Citations (ready to paste):**" if english else "**可直接粘贴的引用：**"
        return "\n\n" + head + "\n" + "\n".join(f"- {Citation.of(t).paste}" for t in tasks)

    @staticmethod
    def brief(task: Task, limit: int = 48) -> str:
        """The start of a task's text, verbatim, cut at a clause boundary when long."""
        text = task.text
        if len(text) <= limit:
            return text
        cut = max(text.rfind(p, 0, limit) for p in "，；、")
        return text[: cut if cut > 12 else limit] + "…"

    def _answer(self, question: str, body: str, tasks: Sequence[Task], route: str, english: bool) -> Answer:
        tasks = list(dict.fromkeys(tasks))
        return Answer(
            question=question,
            answer=body + self.paste_block(tasks, english),
            citations=tuple(Citation.of(t) for t in tasks),
            route=route,
            language="en" if english else "zh",
            extra={"body": body},
        )

    # --- routes ----------------------------------------------------------------------------

    def task_detail(self, question: str, tasks: Sequence[Task], english: bool, route: str = "task",
                    focus: str = "all") -> Answer:
        """One or more tasks by number: text, place in the plan, units (lead first)."""
        blocks = []
        for t in tasks:
            if english:
                head = f"**Task {t.label}** {cite_key(t)} — {self.where(t)}"
                lead = f"Lead unit: **{t.lead_unit}**" + (f" ({self._gloss(t.lead_unit)})" if self._gloss(t.lead_unit) else "")
                units = f"Responsible units: {self.units_line(t, english=True)}"
            else:
                head = f"**第{t.label}项** {cite_key(t)}（{self.where(t)}）"
                lead = f"牵头单位：**{t.lead_unit}**"
                units = f"责任单位：{self.units_line(t)}"
            quote = f"> {t.text}"
            if focus == "lead":
                blocks.append(f"{head}\n\n{lead}\n\n{units}\n\n{quote}")
            elif focus == "units":
                blocks.append(f"{head}\n\n{units}\n\n{quote}")
            else:
                blocks.append(f"{head}\n\n{quote}\n\n{units}")
        return self._answer(question, "\n\n---\n\n".join(blocks), tasks, route, english)

    def who(self, question: str, tasks: Sequence[Task], english: bool, lead_only: bool = False) -> Answer:
        """Responsible units for a topic, each task quoted."""
        lines = []
        for t in tasks:
            if english:
                who = f"lead unit **{t.lead_unit}**" if lead_only else f"{self.units_line(t, english=True)}"
                lines.append(f"- {cite_key(t)} Task {t.label}: {who}\n  > {t.text}")
            elif lead_only:
                others = "、".join(t.units[1:])
                rest = f"；会同{others}" if others else ""
                lines.append(f"- {cite_key(t)} 由 **{t.lead_unit}** 牵头{rest}。\n  > {t.text}")
            else:
                lines.append(f"- {cite_key(t)} 责任单位：{self.units_line(t)}\n  > {t.text}")
        if english:
            intro = "According to the plan, this is assigned as follows:" if len(tasks) > 1 else "According to the plan:"
        else:
            intro = (f"根据{self.name(tasks)}，涉及 {len(tasks)} 项任务：" if len(tasks) > 1
                     else f"根据{self.name(tasks)}：")
        return self._answer(question, intro + "\n\n" + "\n".join(lines), tasks, "who", english)

    def targets(self, question: str, pairs: Sequence[tuple[Task, list[Target]]], english: bool, route: str,
                heading: str = "") -> Answer:
        """Target clauses quoted verbatim (in bold) with the whole task text, its tasks and units."""
        lines = []
        for task, targets in pairs:
            if targets:
                phrases = "；".join(f"**{t.phrase}**" for t in targets)
            else:
                phrases = "No figure or deadline is stated for this task." if english else "该项没有写明具体数字或期限。"
            units = self.units_line(task, english=english)
            label = "Responsible" if english else "责任单位"
            lines.append(f"- {cite_key(task)} {phrases}\n  > {task.text}\n  {label}：{units}")
        if not heading:
            heading = "The plan sets these targets:" if english else f"{self.name([t for t, _ in pairs])}中的相关目标："
        return self._answer(question, heading + "\n\n" + "\n".join(lines), [t for t, _ in pairs], route, english)

    def task_list(self, question: str, heading: str, tasks: Sequence[Task], english: bool, route: str,
                  show_units: bool = True) -> Answer:
        lines = []
        for t in tasks:
            units = f"（{'、'.join(t.units)}）" if show_units else ""
            lines.append(f"- {cite_key(t)} {self.brief(t)}{units}")
        return self._answer(question, heading + "\n\n" + "\n".join(lines), tasks, route, english)

    def unit_tasks(self, question: str, unit: str, lead: Sequence[Task], co: Sequence[Task],
                   collective: dict[str, list[Task]], role: str, english: bool, alias: str = "",
                   within: int = 0, mentioned: Sequence[Task] = (), shared: dict[str, int] | None = None) -> Answer:
        """A unit's complete task list in task-number order (牵头 marked), plus tasks assigned to all districts.

        The heading always gives the whole picture (共涉及N项：牵头a项、参与b项) before the list the question
        asked for (all, lead only, or participating only).
        """
        name = f"**{unit}**" + (f"（{alias}）" if alias and alias != unit else "")
        gloss = self._gloss(unit) if english else ""
        lead_set = {t.uid for t in lead}
        total = len(lead) + len(co)
        if english:
            where = f"Of the {within} tasks listed before, " if within else ""
            whole = (f"{where}{name}" + (f" ({gloss})" if gloss else "") + f" is named in **{total}** task(s): "
                     f"lead in {len(lead)}, co-responsible in {len(co)}.")
        else:
            where = f"在上面列出的 {within} 项任务中，" if within else ""
            plans = self.name([*lead, *co]) if (lead or co) else self.name([])
            whole = (f"{where}{name}" + ("" if within else f"在{plans}中") +
                     f"共涉及 **{total}** 项任务，其中牵头 {len(lead)} 项、参与 {len(co)} 项。")
        sole = [t for t in sorted([*lead, *co], key=lambda t: t.uid) if list(t.units) == [unit]]
        asked = {"lead": list(lead), "co": list(co), "sole": sole}.get(role, sorted([*lead, *co], key=lambda t: t.uid))
        if role == "sole":
            title = (f"Tasks where it is the only responsible unit ({len(sole)}):" if english
                     else f"由它单独负责（责任单位只有它一家）的 {len(sole)} 项：")
            if not sole:
                title = ("It is the only responsible unit of no task." if english
                         else "没有由它单独负责的任务（每项都有其他单位共同负责）。")
        elif role == "lead":
            title = f"Tasks it leads ({len(lead)}):" if english else f"牵头的 {len(lead)} 项："
            if not lead:
                title = ("It leads no task (it is never listed first)." if english
                         else "没有牵头的任务（未被列为第一责任单位）。")
        elif role == "co":
            title = (f"Tasks where it is co-responsible, not lead ({len(co)}):" if english
                     else f"作为参与单位（非牵头）的 {len(co)} 项：")
        else:
            title = "All of them, in task order:" if english else "按任务编号排列："
        marker = " (lead)" if english else "（牵头）"
        parts = [f"{whole}\n\n{title}"] if asked or role in ("lead", "sole") else [whole]
        if asked:
            several = len({t.doc for t in asked}) > 1  # grouped by plan when the corpus has several
            lines: list[str] = []
            previous = None
            for t in asked:
                if several and t.doc != previous:
                    lines.append(f"{self.name([t])}：")
                previous = t.doc
                mark = marker if t.uid in lead_set and role not in ("lead", "sole") else ""
                lines.append(f"- {cite_key(t)} {self.brief(t)}{mark}")
            parts[0] += "\n" + "\n".join(lines)
        shown: list[Task] = list(asked)
        if mentioned:  # 跟崇明有关的: tasks whose text names the place, though not its government
            place = alias or unit
            heading = (f"Tasks whose text names {place} ({len(mentioned)})" if english
                       else f"文中提到“{place}”的任务（{len(mentioned)}项）")
            parts.append(f"**{heading}**\n" + "\n".join(f"- {cite_key(t)} {self.brief(t)}（{'、'.join(t.units)}）"
                                                          for t in mentioned))
            shown.extend(mentioned)
        for group, n in (shared or {}).items():  # counted, not listed: they concern every district alike
            if n:
                parts.append(f"Another {n} task(s) are assigned to {group} as a whole." if english
                             else f"另有 {n} 项任务由“{group}”共同承担（未逐项列出）。")
        for group, tasks in collective.items():
            if tasks:
                heading = f"Assigned to {group} ({len(tasks)})" if english else f"由“{group}”共同承担（{len(tasks)}项）"
                parts.append(f"**{heading}**\n" + "\n".join(f"- {cite_key(t)} {self.brief(t)}" for t in tasks))
                shown.extend(tasks)
        if total == 0 and not any(collective.values()) and not mentioned:
            parts = [f"{name} is not named as a responsible unit in the plan." if english
                     else f"{name}未在{self.name([])}中被单独列为责任单位。"]
        elif total == 0:
            groups = "”“".join(g for g, ts in collective.items() if ts)
            parts[0] = (f"{name} is not named individually; as one of “{groups}” it shares these tasks:" if english
                        else f"{name}未在{self.name([])}中被单独列为责任单位，但作为“{groups}”之一，共同承担以下任务：")
        return self._answer(question, "\n\n".join(parts), shown, "unit", english)

    def check(self, question: str, tasks: Sequence[Task], units: Sequence[str], collectives: dict[str, list[str]],
              lead: bool, english: bool) -> Answer:
        """A yes/no follow-up about the previous task(s): 是/否 first, then the task's units, cited."""
        verdicts = []
        for unit in units:
            for t in tasks:
                groups = [g for g in collectives.get(unit, []) if g in t.units]
                if lead:
                    yes = t.lead_unit == unit
                    if english:
                        why = (f"{unit} leads task {t.label}." if yes else
                               f"Task {t.label} is led by {t.lead_unit}" + (f"; {unit} is co-responsible." if unit in t.units
                                                                          else f"; {unit} is not among its units."))
                    else:
                        why = (f"第{t.label}项由**{unit}**牵头。" if yes else
                               f"第{t.label}项的牵头单位是**{t.lead_unit}**" + ("，" + unit + "是参与单位。" if unit in t.units
                                                                          else f"，{unit}不在其责任单位之列。"))
                else:
                    yes = unit in t.units or bool(groups)
                    if english:
                        why = (f"{unit} is among the units of task {t.label}" + (f" (as one of {groups[0]})." if groups and
                                                                            unit not in t.units else ".")
                               if yes else f"{unit} is not among the units of task {t.label}.")
                    elif unit in t.units:
                        why = f"**{unit}**是第{t.label}项的责任单位" + ("（牵头）。" if t.lead_unit == unit else "。")
                    elif groups:
                        why = f"第{t.label}项的责任单位包括“{groups[0]}”，**{unit}**作为其中之一参与。"
                    else:
                        why = f"第{t.label}项的责任单位中没有{unit}。"
                verdicts.append((yes, why))
        yes_all = all(v for v, _ in verdicts)
        head = ("Yes. " if yes_all else "No. ") if english else ("是。" if yes_all else "否。")
        return self._verdict(question, head + " ".join(w for _, w in verdicts), tasks, english)

    def check_kind(self, question: str, tasks: Sequence[Task], kind: str, english: bool) -> Answer:
        """A yes/no about a kind of unit (any district government?) that none of the tasks' units is."""
        label = {"district": ("区政府", "district government"), "zone": ("管委会或执委会", "zone committee")}.get(
            kind, (kind, kind))
        numbers = "、".join(f"第{t.label}项" for t in tasks)
        verdict = (f"No. No {label[1]} is among the units of task(s) {', '.join(t.label for t in tasks)}." if english
                   else f"否。{numbers}的责任单位中没有{label[0]}。")
        return self._verdict(question, verdict, tasks, english)

    def _verdict(self, question: str, verdict: str, tasks: Sequence[Task], english: bool) -> Answer:
        """是/否 and why, then each task with its units and text, cited."""
        label = "Responsible units" if english else "责任单位"
        lines = [verdict] + [f"- {cite_key(t)} {label}：{self.units_line(t, english=english)}\n  > {t.text}"
                             for t in tasks]
        return self._answer(question, "\n\n".join(lines), tasks, "check", english)

    def several(self, question: str, answers: Sequence[tuple[str, Answer]], english: bool, summary: str = "") -> Answer:
        """Several topics answered one by one under their own headings, with a compact table first."""
        rows, blocks, tasks = [], [], []
        for i, (topic, answer) in enumerate(answers, start=1):
            body = str(answer.extra.get("body") or answer.answer)
            blocks.append(f"**{i}. {topic}**\n\n{body}")
            for c in answer.citations:
                task = self.document.task(c.uid or c.task)
                if task is None:
                    continue
                if task in tasks:  # another of the topics rests on the same task
                    same = "same as above" if english else "同上"
                    rows.append(f"| {topic} | {cite_key(task)} | {same} | {same} |")
                    continue
                tasks.append(task)
                figures = "；".join(t.phrase for t in targets_of(task)) or "—"
                rows.append(f"| {topic} | {cite_key(task)} | {'、'.join(task.units)} | {figures} |")
            if not answer.citations:
                none = "not in the plan" if english else "文件未涉及"
                rows.append(f"| {topic} | — | {none} | — |")
        head = ("| Topic | Task | Responsible units (lead first) | Targets |" if english
                else "| 事项 | 任务 | 责任单位（牵头在前） | 目标与期限 |")
        table = "\n".join([head, "|---|---|---|---|", *rows])
        intro = "According to the plan, topic by topic:" if english else f"根据{self.name(tasks)}，分别如下："
        if summary:
            intro = summary + "\n\n" + intro
        return self._answer(question, intro + "\n\n" + table + "\n\n" + "\n\n".join(blocks), tasks, "several", english)

    def refusal(self, question: str, reason: str, related: Sequence[Task], english: bool) -> Answer:
        lines = [reason]
        if related:
            lines.append("")
            lines.append("**Related tasks (for reference, not a source for this answer):**" if english
                         else "**相关任务（仅供参考，并非对该问题的依据）：**")
            lines += [f"- {paste_label(t)}：{self.brief(t)}（责任单位：{'、'.join(t.units)}）" for t in related]
        return Answer(
            question=question,
            answer="\n".join(lines),
            kind="refusal",
            related=tuple(Citation.of(t) for t in related),
            route="refusal",
            language="en" if english else "zh",
        )

    @staticmethod
    def invalid(question: str, message: str) -> Answer:
        return Answer(question=question, answer=message, kind="invalid", route="invalid")

"""The grounded answer composer: deterministic markdown from parsed tasks, no LLM.

Every sentence that states a fact quotes the task text verbatim and carries its citation key
(〔任务32〕); unit names are written exactly as the document writes them, the lead unit marked.
English questions get English scaffolding around the same Chinese quotes and unit names.
"""

from __future__ import annotations

from collections.abc import Sequence

from .answer import Answer, Citation, cite_key
from .document import Document, Task
from .facts import Target

MAX_PASTE_LINES = 10  # longer lists keep their citations in Answer.citations only


class Composer:
    """Builds :class:`Answer` objects; ``english_name(unit)`` glosses units in English answers."""

    def __init__(self, document: Document, english_name: object | None = None) -> None:
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

    def _gloss(self, unit: str) -> str:
        if self._english_name is None:
            return ""
        return self._english_name(unit) or ""  # type: ignore[operator]

    def where(self, task: Task) -> str:
        return f"{task.part.label} › {task.section.label}"

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
        )

    # --- routes ----------------------------------------------------------------------------

    def task_detail(self, question: str, tasks: Sequence[Task], english: bool, route: str = "task",
                    focus: str = "all") -> Answer:
        """One or more tasks by number: text, place in the plan, units (lead first)."""
        blocks = []
        for t in tasks:
            if english:
                head = f"**Task {t.n}** {cite_key(t.n)} — {self.where(t)}"
                lead = f"Lead unit: **{t.lead_unit}**" + (f" ({self._gloss(t.lead_unit)})" if self._gloss(t.lead_unit) else "")
                units = f"Responsible units: {self.units_line(t, english=True)}"
            else:
                head = f"**第{t.n}项** {cite_key(t.n)}（{self.where(t)}）"
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
                lines.append(f"- {cite_key(t.n)} Task {t.n}: {who}\n  > {t.text}")
            elif lead_only:
                others = "、".join(t.units[1:])
                rest = f"；会同{others}" if others else ""
                lines.append(f"- {cite_key(t.n)} 由 **{t.lead_unit}** 牵头{rest}。\n  > {t.text}")
            else:
                lines.append(f"- {cite_key(t.n)} 责任单位：{self.units_line(t)}\n  > {t.text}")
        if english:
            intro = "According to the plan, this is assigned as follows:" if len(tasks) > 1 else "According to the plan:"
        else:
            intro = f"根据《任务分工方案》，涉及 {len(tasks)} 项任务：" if len(tasks) > 1 else "根据《任务分工方案》："
        return self._answer(question, intro + "\n\n" + "\n".join(lines), tasks, "who", english)

    def targets(self, question: str, pairs: Sequence[tuple[Task, list[Target]]], english: bool, route: str,
                heading: str = "") -> Answer:
        """Target clauses quoted verbatim with their tasks and units."""
        lines = []
        for task, targets in pairs:
            phrases = "；".join(t.phrase for t in targets) if targets else task.text
            units = self.units_line(task, english=english)
            label = "Responsible" if english else "责任单位"
            lines.append(f"- {cite_key(task.n)} {phrases}。\n  {label}：{units}")
        if not heading:
            heading = "The plan sets these targets:" if english else "《任务分工方案》中的相关目标："
        return self._answer(question, heading + "\n\n" + "\n".join(lines), [t for t, _ in pairs], route, english)

    def task_list(self, question: str, heading: str, tasks: Sequence[Task], english: bool, route: str,
                  show_units: bool = True) -> Answer:
        lines = []
        for t in tasks:
            units = f"（{'、'.join(t.units)}）" if show_units else ""
            lines.append(f"- {cite_key(t.n)} {self.brief(t)}{units}")
        return self._answer(question, heading + "\n\n" + "\n".join(lines), tasks, route, english)

    def unit_tasks(self, question: str, unit: str, lead: Sequence[Task], co: Sequence[Task],
                   collective: dict[str, list[Task]], role: str, english: bool, alias: str = "") -> Answer:
        """A unit's complete task list (牵头 / 参与), plus tasks assigned to all districts."""
        name = f"**{unit}**" + (f"（{alias}）" if alias and alias != unit else "")
        gloss = self._gloss(unit) if english else ""
        shown: list[Task] = []
        parts: list[str] = []

        def block(title: str, tasks: Sequence[Task]) -> None:
            if tasks:
                parts.append(f"**{title}**\n" + "\n".join(f"- {cite_key(t.n)} {self.brief(t)}" for t in tasks))
                shown.extend(tasks)

        if role == "lead" and not lead and co:
            total = 0
            head = (f"{name} leads no task in the plan; it is co-responsible for {len(co)}:" if english
                    else f"{name}在《任务分工方案》中没有牵头的任务（未被列为第一责任单位），作为参与单位涉及 {len(co)} 项：")
            block("Co-responsible" if english else f"参与（{len(co)}项）", co)
        elif role == "lead":
            total = len(lead)
            head = (f"{name} leads {total} task(s) in the plan" + (f" ({gloss})" if gloss else "") + ":") if english \
                else f"{name}在《任务分工方案》中牵头 **{total}** 项任务（列为第一责任单位）："
            block("Lead" if english else f"牵头（{len(lead)}项）", lead)
        elif role == "co":
            total = len(co)
            head = f"{name} co-leads (is listed after the lead unit in) {total} task(s):" if english \
                else f"{name}作为参与单位（非牵头）的任务共 **{total}** 项："
            block("Co-responsible" if english else f"参与（{len(co)}项）", co)
        else:
            total = len(lead) + len(co)
            head = (f"{name}" + (f" ({gloss})" if gloss else "") + f" is named in **{total}** task(s): "
                    f"lead in {len(lead)}, co-responsible in {len(co)}.") if english \
                else f"{name}在《任务分工方案》中共涉及 **{total}** 项任务，其中牵头 {len(lead)} 项、参与 {len(co)} 项。"
            block("Lead" if english else f"牵头（{len(lead)}项）", lead)
            block("Co-responsible" if english else f"参与（{len(co)}项）", co)
        if total == 0 and not collective:
            head = f"{name} is not named as a responsible unit in the plan." if english \
                else f"{name}未在《任务分工方案》中被单独列为责任单位。"
        for group, tasks in collective.items():
            if tasks:
                title = f"Assigned to {group} ({len(tasks)})" if english else f"由“{group}”共同承担（{len(tasks)}项）"
                block(title, tasks)
        if total == 0 and collective:
            groups = "”“".join(g for g, ts in collective.items() if ts)
            head = (f"{name} is not named individually; as one of “{groups}” it shares these tasks:" if english
                    else f"{name}未在《任务分工方案》中被单独列为责任单位，但作为“{groups}”之一，共同承担以下任务：")
        return self._answer(question, head + "\n\n" + "\n\n".join(parts), shown, "unit", english)

    def refusal(self, question: str, reason: str, related: Sequence[Task], english: bool) -> Answer:
        lines = [reason]
        if related:
            lines.append("")
            lines.append("**Related tasks (for reference, not a source for this answer):**" if english
                         else "**相关任务（仅供参考，并非对该问题的依据）：**")
            lines += [f"- 第{t.n}项：{self.brief(t)}（责任单位：{'、'.join(t.units)}）" for t in related]
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

"""What an answer is: :class:`Citation` and :class:`Answer`, plain frozen records.

``Answer.to_dict()`` is the stable JSON contract of ``python -m assistant ask --json``:
``{"question", "answer", "citations": [{"task", "document", "part", "section", "units", "lead_unit", "text"}],
"refused"}``: ``task`` is the number in its document, ``document`` that document's short name. Also
``"related"``, ``"route"``, ``"paste"``, ``"uid"`` and, where the refusal decision ran, ``"evidence"``:
fields that consumers may ignore.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .document import Task

DEFAULT_SHORT = "任务分工方案"  # the reference plan's short name when no corpus names it


def cite_key(task: Task | int) -> str:
    """The in-text citation form used in every answer: 〔任务32〕 in the reference plan, 〔营商环境分工方案·任务5〕
    in another plan of the corpus (an int is a task of the reference plan)."""
    if isinstance(task, int):
        return f"〔任务{task}〕"
    return f"〔任务{task.label}〕" if task.primary else f"〔{task.cite_as}·任务{task.label}〕"


def paste_label(task: Task) -> str:
    """第32项, or 《营商环境分工方案》第5项 outside the reference plan."""
    return f"第{task.label}项" if task.primary else f"《{task.cite_as}》第{task.label}项"


def paste_citation(task: Task) -> str:
    """Ready-to-paste citation: 《任务分工方案》第32项（责任单位：市住房城乡建设管理委、市水务局）."""
    return f"《{task.cite_as or DEFAULT_SHORT}》第{task.label}项（责任单位：{'、'.join(task.units)}）"


@dataclass(frozen=True)
class Citation:
    """One task an answer rests on."""

    task: int  # the task's number in its document
    part: str
    section: str
    units: tuple[str, ...]
    lead_unit: str
    text: str
    paste: str
    document: str = DEFAULT_SHORT  # the document's short name
    uid: int = 0  # the task's id across the corpus (= ``task`` in the reference plan)

    @classmethod
    def of(cls, task: Task) -> Citation:
        return cls(
            task=task.n,
            part=task.part.label if task.part else "",
            section=task.section.label if task.section else "",
            units=task.units,
            lead_unit=task.lead_unit,
            text=task.text,
            paste=paste_citation(task),
            document=task.cite_as or DEFAULT_SHORT,
            uid=task.uid,
        )

    def to_dict(self) -> dict[str, object]:
        return {
            "task": self.task,
            "document": self.document,
            "part": self.part,
            "section": self.section,
            "units": list(self.units),
            "lead_unit": self.lead_unit,
            "text": self.text,
            "paste": self.paste,
            "uid": self.uid or self.task,
        }


@dataclass(frozen=True)
class Answer:
    """A composed answer.

    ``kind`` is ``"answer"`` (grounded, with citations), ``"refusal"`` (the plan does not cover it;
    ``related`` may hold nearby tasks, which are *not* citations) or ``"invalid"`` (bad input:
    empty, too long, no words...).
    """

    question: str
    answer: str  # markdown, in the question's language
    citations: tuple[Citation, ...] = ()
    kind: str = "answer"
    related: tuple[Citation, ...] = ()
    route: str = ""  # which understanding route produced it (for evals and debugging)
    language: str = "zh"
    extra: dict[str, object] = field(default_factory=dict, compare=False)

    @property
    def refused(self) -> bool:
        return self.kind != "answer"

    @property
    def task_numbers(self) -> list[int]:
        """The cited tasks' corpus ids (in the reference plan: their numbers)."""
        return [c.uid or c.task for c in self.citations]

    def to_dict(self) -> dict[str, object]:
        data: dict[str, object] = {
            "question": self.question,
            "answer": self.answer,
            "citations": [c.to_dict() for c in self.citations],
            "refused": self.refused,
            "kind": self.kind,
            "related": [c.to_dict() for c in self.related],
            "route": self.route,
        }
        if "evidence" in self.extra:  # the refusal decision: probability and each feature's contribution
            data["evidence"] = self.extra["evidence"]
        return data

"""What an answer is: :class:`Citation` and :class:`Answer`, plain frozen records.

``Answer.to_dict()`` is the stable JSON contract of ``python -m assistant ask --json``:
``{"question", "answer", "citations": [{"task", "part", "section", "units", "lead_unit", "text"}],
"refused"}`` (plus ``"related"``, ``"route"``, ``"paste"`` and, where the refusal decision ran,
``"evidence"`` fields that consumers may ignore).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .document import Task

SHORT_TITLE = "《任务分工方案》"


def cite_key(n: int) -> str:
    """The in-text citation form used in every answer: 〔任务32〕."""
    return f"〔任务{n}〕"


def paste_citation(task: Task) -> str:
    """Ready-to-paste citation: 《任务分工方案》第32项（责任单位：市住房城乡建设管理委、市水务局）."""
    return f"{SHORT_TITLE}第{task.n}项（责任单位：{'、'.join(task.units)}）"


@dataclass(frozen=True)
class Citation:
    """One task an answer rests on."""

    task: int
    part: str
    section: str
    units: tuple[str, ...]
    lead_unit: str
    text: str
    paste: str

    @classmethod
    def of(cls, task: Task) -> Citation:
        return cls(
            task=task.n,
            part=task.part.label,
            section=task.section.label,
            units=task.units,
            lead_unit=task.lead_unit,
            text=task.text,
            paste=paste_citation(task),
        )

    def to_dict(self) -> dict[str, object]:
        return {
            "task": self.task,
            "part": self.part,
            "section": self.section,
            "units": list(self.units),
            "lead_unit": self.lead_unit,
            "text": self.text,
            "paste": self.paste,
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
        return [c.task for c in self.citations]

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

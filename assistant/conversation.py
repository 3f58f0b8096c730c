"""Per-conversation state, so follow-ups ("那它的目标是多少?", "第二个呢?") resolve.

A :class:`Conversation` belongs to one user session (a browser tab, a CLI chat, one batch
line); the assistant itself holds no conversation state. Access is serialised by a lock so a
UI that fires two requests for one session cannot interleave them.
"""

from __future__ import annotations

import threading
import uuid
from dataclasses import dataclass, field

from .answer import Answer
from .understanding import Context, Intent

RECENT = 6  # the main task of each of the last turns, remembered for "这两条"


@dataclass
class Conversation:
    id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    history: list[tuple[str, Answer]] = field(default_factory=list)
    _context: Context = field(default_factory=Context)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def context(self) -> Context:
        return self._context

    def remember(self, intent: Intent | None, answer: Answer) -> None:
        """Record a turn; invalid input and refusals keep the previous referents."""
        self.history.append((answer.question, answer))
        if intent is None or answer.kind == "invalid":
            return
        listing = self._context.listing
        recent = self._context.recent
        if answer.refused:
            self._context = Context(self._context.tasks, self._context.units, intent, listing, recent)
            return
        tasks = tuple(c.uid or c.task for c in answer.citations)
        if len(tasks) > 1:
            listing = tasks
        if intent.route == "unit" and intent.units:
            units: tuple[str, ...] = intent.units
        elif answer.citations:
            units = answer.citations[0].units
        else:
            units = self._context.units
        if tasks:  # the task each turn was mainly about (its first citation)
            recent = tuple(n for n in recent if n != tasks[0])[-(RECENT - 1):] + tasks[:1]
        self._context = Context(tasks or self._context.tasks, units, intent, listing, recent)

"""Passages: what search indexes for each task, so that a task is found by its best description.

A task is indexed as several passages, all pointing back to it:

* ``task``   its section title, text and ``责任单位：…`` (:func:`assistant.lexical.task_text`);
* ``clause`` each sub-point of a long task text (cut at 。；), so a question about one sub-point of a
  four-point task is not diluted by the other three;
* ``view``   everyday-language descriptions of the task from a reviewed data file beside the document
  (``corpus/<name>.views.toml``): how residents, district staff and reporters describe it
  (外地来沪打工人员的孩子上学 for 随迁子女受教育权利), in Chinese and English.

Both retrievers score a task by its best passage. The views file is knowledge, not code::

    [[task]]
    n = 13
    views = ["外地来沪打工人员的孩子在上海上学", "…"]
"""

from __future__ import annotations

import hashlib
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from .corpus import Plans
from .document import Document, Task
from .errors import RegistryError
from .lexical import task_text

VIEWS_SUFFIX = ".views.toml"
# A task text longer than this is also indexed by its sub-points.
CLAUSE_MIN_TASK_CHARS = 50
CLAUSE_MIN_CHARS = 12  # a sub-point shorter than this joins its neighbour
CLAUSE_SPLIT_CHARS = 40  # a sentence at least this long is also cut at its commas


@dataclass(frozen=True)
class Passage:
    """One indexed text of a task. ``task`` is the task's corpus id; ``key`` is unique within the corpus:
    ``32``, ``32-c2``, ``32-v5`` (``1005-v2`` in the first plan after the reference one)."""

    task: int
    kind: str  # task | clause | view
    text: str
    key: str


def views_path(corpus: str | Path) -> Path:
    """Where the everyday views of a document live: ``plan.txt`` -> ``plan.views.toml``."""
    corpus = Path(corpus)
    return corpus.with_name(corpus.stem + VIEWS_SUFFIX)


def load_views(path: str | Path, document: Document) -> dict[int, tuple[str, ...]]:
    """Views per task id (:attr:`~assistant.document.Task.uid`) from a views file, whose entries name the
    document's own task numbers; {} when the file does not exist.

    Raises :class:`RegistryError` naming the entry for a malformed file or an unknown task number.
    """
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise RegistryError(f"无法读取任务说法文件 {path}：{exc}") from None
    entries = data.get("task")
    if set(data) - {"task"} or not isinstance(entries, list):
        raise RegistryError(f"{path}：应只包含 [[task]] 条目")
    views: dict[int, tuple[str, ...]] = {}
    for i, entry in enumerate(entries, start=1):
        n = entry.get("n") if isinstance(entry, dict) else None
        texts = entry.get("views") if isinstance(entry, dict) else None
        task = next((t for t in document.tasks if t.n == n), None) if isinstance(n, int) else None
        if task is None:
            raise RegistryError(f"{path}：第{i}个 [[task]] 的 n={n!r} 不是文件中的任务编号")
        if not isinstance(texts, list) or not all(isinstance(t, str) and t.strip() for t in texts):
            raise RegistryError(f"{path}：第{n}项的 views 应为非空字符串列表")
        if task.uid in views:
            raise RegistryError(f"{path}：第{n}项出现了两次")
        views[task.uid] = tuple(dict.fromkeys(t.strip() for t in texts))
    return views


def clauses(task: Task) -> list[str]:
    """The sub-points of a long task text (cut at 。；, and a long sentence at its commas, short pieces joined);
    [] for a short task. A task that lists several actions in one sentence ("…互认互通，加强氢能基础设施协同布局，
    探索开展低空飞行…") is found by one of them as well as a short task is by its whole text."""
    if len(task.text) < CLAUSE_MIN_TASK_CHARS:
        return []
    sentences = [p for s in re.split(r"[。；]", task.text)
                 for p in (re.split(r"[，,]", s) if len(s) >= CLAUSE_SPLIT_CHARS else [s])]
    pieces: list[str] = []
    for piece in sentences:
        piece = piece.strip("，、 ")
        if not piece:
            continue
        if pieces and (len(piece) < CLAUSE_MIN_CHARS or len(pieces[-1]) < CLAUSE_MIN_CHARS):
            pieces[-1] = pieces[-1] + "，" + piece
        else:
            pieces.append(piece)
    return pieces if len(pieces) > 1 else []


def passages(document: Plans, views: dict[int, tuple[str, ...]] | None = None) -> list[Passage]:
    """Every passage of every task, grouped by task in corpus order (the task's own text first); ``views`` by
    task id."""
    views = views or {}
    out: list[Passage] = []
    for task in document.tasks:
        uid = task.uid
        out.append(Passage(uid, "task", task_text(task), str(uid)))
        out += [Passage(uid, "clause", c, f"{uid}-c{i}") for i, c in enumerate(clauses(task), start=1)]
        out += [Passage(uid, "view", v, f"{uid}-v{i}") for i, v in enumerate(views.get(uid, ()), start=1)]
    return out


def fingerprint(items: list[Passage]) -> str:
    """sha256 over every passage's key and text: a changed views file makes the index stale."""
    digest = hashlib.sha256()
    for p in items:
        digest.update(f"{p.key}\t{p.kind}\t{p.text}\n".encode())
    return digest.hexdigest()

"""Eval cases as data: load ``evals/cases.jsonl`` and ``evals/drafts.jsonl`` and check them against the document.

A question case (one JSON object per line)::

    {"id": "who-001", "category": "who", "question": "海绵城市建设归哪个部门管？", "turns": [],
     "expected_tasks": [32], "expected_units": ["市住房城乡建设管理委", "市水务局"],
     "expected_facts": ["64%"], "answerable": true, "exact": false,
     "target": {"section": 8}}                                      # optional

``target`` states *why* an exact set is what it is, so :func:`validate` can recompute it from the parsed
document and report drift: ``{"task": 32}`` or ``{"task": [3, 4]}``, ``{"section": 8}``, ``{"part": 4}``,
``{"unit": "市人力资源社会保障局", "role": "any"|"lead", "collective": false}`` and ``{"contains": "燃气"}``
(every task whose text contains the string). ``collective: true`` is for a district's whole list (role
``any``): the tasks naming it plus every task of 各区人民政府 and 各相关区人民政府 (a district the document
never names, such as 徐汇区人民政府, has only those). A district's ``lead`` list is only what it leads by name.

A draft case::

    {"id": "draft-01", "draft": "我区全面推进海绵城市建设，…",
     "clauses": [{"text": "我区全面推进海绵城市建设", "expected_tasks": [32]}, ...]}

Every clause text is a substring of the draft, in order; together they cover the draft up to punctuation.

:func:`load_cases` and :func:`load_drafts` parse (shape errors raise at once); :func:`validate` checks the
content against a :class:`~assistant.document.Document` and raises :class:`EvalCaseError` listing every
problem as ``file:line [case id] message``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from .corpus import Corpus
from .document import Document
from .errors import AssistantError

T = TypeVar("T")

CATEGORIES = (
    "who", "lead", "unit_list", "by_number", "section", "part",
    "target", "followup", "refusal", "english", "multi", "typo",
    # the categories of the holdout and external sets (written independently, in everyday words)
    "who_responsible", "lead_unit", "multi_turn", "cross_task", "unanswerable", "targets_deadlines",
    "unit_tasks", "traditional",
)  # fmt: skip
LEAD_CATEGORIES = ("lead", "lead_unit")
FOLLOWUP_CATEGORIES = ("followup", "multi_turn")
# Categories whose expected set is structural: they must carry a ``target`` and be exact.
STRUCTURAL = ("unit_list", "by_number", "section", "part")
# The 16 districts of Shanghai; the document names only some of them.
DISTRICTS = tuple(
    f"{name}人民政府"
    for name in (
        "浦东新区", "黄浦区", "徐汇区", "长宁区", "静安区", "普陀区", "虹口区", "杨浦区",
        "闵行区", "宝山区", "嘉定区", "金山区", "松江区", "青浦区", "奉贤区", "崇明区",
    )
)  # fmt: skip
# Collective units that include every (relevant) district.
DISTRICT_COLLECTIVES = ("各区人民政府", "各相关区人民政府")
_TARGET_KEYS = {"task", "section", "part", "unit", "contains"}
# What may be left of a draft outside its labelled clauses: punctuation and connectives.
_PUNCTUATION = re.compile(
    r"(?:[\s，。；、：！？,.;:!?“”‘’\"'（）()《》〈〉…—-]|[一二三四五六七八九十]\s*是|[一二三四五六七八九十]\s*、|\d{1,2}[.、．]|[（(]\d{1,2}[)）]|[①-⑳]|[·•●▪■◆\-*]|此外|同时|另外|另|下一步|其中|首先|其次|最后|"
    r"以及|并且|而且|与此同时|另一方面)*"
)


class EvalCaseError(AssistantError):
    """An eval case file is malformed or disagrees with the document; ``errors`` lists every problem."""

    def __init__(self, errors: Sequence[str]) -> None:
        self.errors = list(errors)
        head = f"评测用例有{len(self.errors)}处错误："
        super().__init__("\n".join([head, *self.errors]))


@dataclass(frozen=True)
class Case:
    """One question with what a correct answer must contain."""

    id: str
    category: str
    question: str
    expected_tasks: tuple[int, ...]
    expected_units: tuple[str, ...] = ()
    expected_facts: tuple[str, ...] = ()
    answerable: bool = True
    exact: bool = False
    turns: tuple[str, ...] = ()
    target: dict[str, Any] | None = field(default=None, compare=False)
    unit: str = ""  # for a unit's list: the unit asked about (external sets name it instead of a target)
    document: str = ""  # the short name of the plan the expected tasks belong to ("" = the reference plan)
    kind: str = ""  # what a follow-up or traditional-character question really asks (informational)
    path: str = ""
    line: int = 0

    @property
    def where(self) -> str:
        return f"{self.path}:{self.line} [{self.id}]"


@dataclass(frozen=True)
class Clause:
    """A labelled clause of a draft; ``expected_tasks`` empty means "no task fits"."""

    text: str
    expected_tasks: tuple[int, ...]


@dataclass(frozen=True)
class DraftCase:
    id: str
    draft: str
    clauses: tuple[Clause, ...]
    path: str = ""
    line: int = 0

    @property
    def where(self) -> str:
        return f"{self.path}:{self.line} [{self.id}]"


# --- loading -------------------------------------------------------------------------------


def _records(path: str | Path) -> Iterable[tuple[int, dict[str, Any]]]:
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise EvalCaseError([f"{path}: 无法读取：{exc.strerror or exc}"]) from None
    errors = []
    for lineno, raw in enumerate(lines, start=1):
        if not raw.strip() or raw.lstrip().startswith("#"):
            continue
        try:
            record = json.loads(raw)
        except json.JSONDecodeError as exc:
            errors.append(f"{path}:{lineno} 不是合法的JSON：{exc.msg}")
            continue
        if not isinstance(record, dict):
            errors.append(f"{path}:{lineno} 每行应是一个JSON对象")
            continue
        yield lineno, record
    if errors:
        raise EvalCaseError(errors)


def _ints(value: Any, what: str) -> tuple[int, ...]:
    if not isinstance(value, list) or not all(isinstance(v, int) and not isinstance(v, bool) for v in value):
        raise ValueError(f"{what} 应是整数列表")
    return tuple(value)


def _strs(value: Any, what: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise ValueError(f"{what} 应是非空字符串列表")
    return tuple(value)


def _case(record: dict[str, Any], path: str, line: int) -> Case:
    case_id = record.get("id")
    if not isinstance(case_id, str) or not case_id:
        raise ValueError("缺少 id")
    question = record.get("question")
    if not isinstance(question, str) or not question.strip():
        raise ValueError("缺少 question")
    answerable, exact = record.get("answerable", True), record.get("exact", False)
    if not isinstance(answerable, bool) or not isinstance(exact, bool):
        raise ValueError("answerable 和 exact 应是 true/false")
    target = record.get("target")
    if target is not None and not isinstance(target, dict):
        raise ValueError("target 应是JSON对象")
    unit = record.get("unit", "")
    if not isinstance(unit, str):
        raise ValueError("unit 应是字符串")
    if target is None and unit and exact:
        target = {"unit": unit, "role": "any"}
    return Case(
        id=case_id,
        category=str(record.get("category", "")),
        question=question,
        expected_tasks=_ints(record.get("expected_tasks", []), "expected_tasks"),
        expected_units=_strs(record.get("expected_units", []), "expected_units"),
        expected_facts=_strs(record.get("expected_facts", []), "expected_facts"),
        answerable=answerable,
        exact=exact,
        turns=_strs(record.get("turns", []), "turns"),
        target=target,
        unit=unit,
        kind=str(record.get("kind", "")),
        document=str(record.get("document", "")),
        path=path,
        line=line,
    )


def _load(path: str | Path, parse: Callable[[dict[str, Any], str, int], T]) -> list[T]:
    """Parse every record of a JSONL file; all malformed records are reported together."""
    items: list[T] = []
    errors: list[str] = []
    for line, record in _records(path):
        try:
            items.append(parse(record, str(path), line))
        except ValueError as exc:
            errors.append(f"{path}:{line} [{record.get('id', '?')}] {exc}")
    if errors:
        raise EvalCaseError(errors)
    return items


def load_cases(path: str | Path) -> list[Case]:
    """Parse a cases file; malformed records raise :class:`EvalCaseError` (content is checked by :func:`validate`)."""
    return _load(path, _case)


def _draft(record: dict[str, Any], path: str, line: int) -> DraftCase:
    draft_id, draft = record.get("id"), record.get("draft")
    if not isinstance(draft_id, str) or not draft_id:
        raise ValueError("缺少 id")
    if not isinstance(draft, str) or not draft.strip():
        raise ValueError("缺少 draft")
    raw = record.get("clauses")
    if not isinstance(raw, list) or not raw:
        raise ValueError("clauses 应是非空列表")
    clauses = []
    for item in raw:
        if not isinstance(item, dict) or not isinstance(item.get("text"), str) or not item["text"].strip():
            raise ValueError("每个 clause 应有非空的 text")
        clauses.append(Clause(item["text"], _ints(item.get("expected_tasks", []), "expected_tasks")))
    return DraftCase(draft_id, draft, tuple(clauses), path, line)


def load_drafts(path: str | Path) -> list[DraftCase]:
    """Parse a drafts file; malformed records raise :class:`EvalCaseError`."""
    return _load(path, _draft)


# --- validation ----------------------------------------------------------------------------


def target_tasks(target: dict[str, Any], document: Document) -> list[int]:
    """The task numbers a structural ``target`` denotes, computed from the document.

    Raises :class:`ValueError` for a target that is malformed or names nothing in the document.
    """
    keys = set(target) & _TARGET_KEYS
    if len(keys) != 1:
        raise ValueError(f"target 应恰有一个键（{'/'.join(sorted(_TARGET_KEYS))}）：{target}")
    (key,) = keys
    value = target[key]
    if key == "task":
        numbers = [value] if isinstance(value, int) else value
        if not isinstance(numbers, list) or not all(isinstance(n, int) for n in numbers):
            raise ValueError(f"target.task 应是任务编号或编号列表：{value!r}")
        missing = [n for n in numbers if document.task(n) is None]
        if missing:
            raise ValueError(f"target.task 中的任务不存在：{missing}")
        return sorted(set(numbers))
    if key == "section":
        if not isinstance(value, int) or document.section(value) is None:
            raise ValueError(f"target.section 不存在：{value!r}")
        return [t.n for t in document.tasks_in_section(value)]
    if key == "part":
        if not isinstance(value, int) or document.part(value) is None:
            raise ValueError(f"target.part 不存在：{value!r}")
        return [t.n for t in document.tasks_in_part(value)]
    if key == "contains":
        if not isinstance(value, str) or not value:
            raise ValueError("target.contains 应是非空字符串")
        found = [t.n for t in document.tasks if value in t.text]
        if not found:
            raise ValueError(f"没有任务的原文包含 {value!r}")
        return found
    return _unit_tasks(target, document)


def _unit_tasks(target: dict[str, Any], document: Document) -> list[int]:
    unit, role, collective = target["unit"], target.get("role", "any"), target.get("collective", False)
    if role not in ("any", "lead", "sole"):
        raise ValueError(f"target.role 应为 any、lead 或 sole（唯一责任单位）：{role!r}")
    if not isinstance(collective, bool):
        raise ValueError("target.collective 应是 true/false")
    if collective and (unit not in DISTRICTS or role != "any"):
        raise ValueError(f"collective 只用于区政府的 role=any：{unit}")
    if unit not in document.units() and not collective:
        raise ValueError(f"target.unit 不是文档中的责任单位：{unit}")
    names = {unit, *DISTRICT_COLLECTIVES} if collective else {unit}
    if role == "lead":
        return [t.n for t in document.tasks if t.lead_unit == unit]
    if role == "sole":
        return [t.n for t in document.tasks if list(t.units) == [unit]]
    return [t.n for t in document.tasks if names & set(t.units)]


def _check_case(case: Case, document: Document) -> list[str]:
    problems: list[str] = []
    say = problems.append
    if case.category not in CATEGORIES:
        say(f"未知类别 {case.category!r}（应为 {', '.join(CATEGORIES)}）")
    if len(set(case.expected_tasks)) != len(case.expected_tasks):
        say("expected_tasks 有重复")
    tasks = [document.task(n) for n in case.expected_tasks]
    missing = [n for n, t in zip(case.expected_tasks, tasks, strict=True) if t is None]
    if missing:
        say(f"expected_tasks 中的任务不存在：{missing}")
    found = [t for t in tasks if t is not None]
    if not case.answerable:
        if case.expected_tasks or case.expected_units or case.expected_facts:
            say("answerable=false 的用例不应有 expected_tasks/units/facts")
        if case.exact or case.target:
            say("answerable=false 的用例不应有 exact/target")
    elif not case.expected_tasks:
        say("answerable=true 的用例需要 expected_tasks")
    doc_units = set(document.units())
    for unit in case.expected_units:
        if unit not in doc_units:
            say(f"expected_units 中的 {unit!r} 不是文档里的单位名称")
        elif found and not any(unit in t.units for t in found):
            say(f"expected_units 中的 {unit!r} 不在任何预期任务的责任单位中")
        elif case.category in LEAD_CATEGORIES and not any(t.lead_unit == unit for t in found):
            say(f"{unit!r} 不是任何预期任务的牵头单位")
    for fact in case.expected_facts:
        if found and not any(fact in t.text for t in found):
            say(f"expected_facts 中的 {fact!r} 不是任何预期任务原文的子串")
    if case.category in FOLLOWUP_CATEGORIES and not case.turns:
        say(f"{case.category} 用例需要 turns")
    if case.category in STRUCTURAL and (case.target is None or not case.exact):
        say(f"{case.category} 用例需要 target 且 exact=true")
    if case.exact and case.target is None:
        say("exact=true 的用例需要 target，以便从文档重新计算任务集合")
    if case.target is not None:
        problems.extend(_check_target(case, document))
    return problems


def _check_target(case: Case, document: Document) -> list[str]:
    assert case.target is not None
    try:
        want = target_tasks(case.target, document)
    except ValueError as exc:
        return [str(exc)]
    problems = []
    if sorted(case.expected_tasks) != want:
        got = set(case.expected_tasks)
        problems.append(
            f"expected_tasks 与文档不符（target={json.dumps(case.target, ensure_ascii=False)}）："
            f"缺少 {sorted(set(want) - got)}，多出 {sorted(got - set(want))}；应为 {want}"
        )
    unit = case.target.get("unit")
    if case.category == "unit_list" and unit in document.units() and unit not in case.expected_units:
        problems.append(f"unit_list 用例的 expected_units 应包含所问单位 {unit!r}")
    return problems


def _check_draft(draft: DraftCase, document: Document, complete: bool = True) -> list[str]:
    problems = []
    cursor, uncovered = 0, []
    for clause in draft.clauses:
        missing = [n for n in clause.expected_tasks if document.task(n) is None]
        if missing:
            problems.append(f"clause {clause.text!r} 的 expected_tasks 中的任务不存在：{missing}")
        if len(set(clause.expected_tasks)) != len(clause.expected_tasks):
            problems.append(f"clause {clause.text!r} 的 expected_tasks 有重复")
        at = draft.draft.find(clause.text, cursor)
        if at < 0:
            where = "不是草稿的子串" if clause.text not in draft.draft else "与前一个 clause 重叠或顺序不对"
            problems.append(f"clause {clause.text!r} {where}")
            continue
        uncovered.append(draft.draft[cursor:at])
        cursor = at + len(clause.text)
    uncovered.append(draft.draft[cursor:])
    leftover = "".join(uncovered)
    if complete and not problems and not _PUNCTUATION.fullmatch(leftover):
        problems.append(f"草稿中有未标注的文字：{_PUNCTUATION.sub('', leftover)!r}")
    return problems


def _duplicate_ids(items: Sequence[Case] | Sequence[DraftCase]) -> list[str]:
    seen: dict[str, str] = {}
    errors = []
    for item in items:
        if item.id in seen:
            errors.append(f"{item.where} id 重复（首次出现在 {seen[item.id]}）")
        seen.setdefault(item.id, item.where)
    return errors


def validate(document: Document | Corpus, cases: Sequence[Case] = (), drafts: Sequence[DraftCase] = (),
             complete: bool = True) -> dict[str, int]:
    """Check cases and drafts against ``document``; raise :class:`EvalCaseError` listing every problem.
    ``complete``: a draft's clauses must cover all of it but punctuation and connectives.

    Returns a summary: number of cases per category, plus ``"cases"`` and ``"drafts"`` totals.
    """
    errors: list[str] = []
    errors += _duplicate_ids(cases) + _duplicate_ids(drafts)
    plans = {d.short: d for d in document.documents} if isinstance(document, Corpus) else {}
    reference = document.primary if isinstance(document, Corpus) else document
    for case in cases:
        plan = plans.get(case.document) if case.document else reference
        if plan is None:
            errors.append(f"{case.where} 语料中没有《{case.document}》")
            continue
        errors.extend(f"{case.where} {p}" for p in _check_case(case, plan))
    for draft in drafts:
        errors.extend(f"{draft.where} {p}" for p in _check_draft(draft, reference, complete))
    asked: dict[tuple[str, ...], str] = {}
    for case in cases:
        key = (*case.turns, case.question.strip())
        if key in asked:
            errors.append(f"{case.where} 与 {asked[key]} 的问题完全相同")
        asked.setdefault(key, case.where)
    if errors:
        raise EvalCaseError(errors)
    summary = {c: sum(1 for case in cases if case.category == c) for c in CATEGORIES}
    summary.update(cases=len(cases), drafts=len(drafts))
    return summary

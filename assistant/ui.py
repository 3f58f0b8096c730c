"""The web app: chat with cited sources, browsing by unit / structure / deadline, draft citations, export.

:func:`build_app` lays out the Gradio Blocks around an ``Assistant``; :func:`launch` checks the
network exposure, opens (and if needed builds) the index with visible progress, and serves.

Everything a user typed is escaped before it reaches the page (:func:`esc`): the chat renders
markdown with HTML escaped, and the HTML panels are built here from escaped text only.
Per-browser memory lives in a ``gr.State`` holding that session's ``Conversation``.
"""

from __future__ import annotations

import os

os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"  # before gradio is imported, anywhere
# Gradio 6.31's queue rebuilds a pandas summary of its last 10,000 events after every event, for the
# monitoring dashboard this app never enables (launch(enable_monitoring=False)): 1-4 ms of CPU per answer,
# a quarter of the server's time under load. Read when the queue is made; an operator's value wins.
os.environ.setdefault("GRADIO_ANALYTICS_CACHE_FREQUENCY", str(10**9))
os.environ.setdefault("GRADIO_ANALYTICS_MAX_EVENTS", "100")

import html
import importlib.util
import ipaddress
import logging
import re
import sys
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import gradio as gr

# Gradio tries `import matplotlib` twice around every event (to switch its backend); where it is not installed,
# each failed import searches sys.path on disk: about 7% of the server's CPU per answer under load. A None entry
# makes the import fail at once, as it would anyway.
if "matplotlib" not in sys.modules and importlib.util.find_spec("matplotlib") is None:
    sys.modules["matplotlib"] = None  # type: ignore[assignment]

from .answer import Answer, Citation
from .document import Document, Task
from .errors import AssistantError, ConfigError
from .export import responsibility_matrix, to_csv, to_xlsx
from .facts import timeline
from .settings import PREFIX, Settings
from .wordfile import MAX_BYTES as MAX_WORD_BYTES
from .wordfile import CitedWord, WordDraft

log = logging.getLogger(__name__)

EXAMPLES = ("谁负责海绵城市建设？", "人社局牵头哪些任务？", "2028年底要完成什么？", "第32项是什么？")
CONCURRENCY = 20  # simultaneous runs of each other event (drafts, Word files, unit views, exports)
# The chat's events (ask, example, 新对话) share one queue, "chat". An answer costs a few ms of CPU and the
# Assistant is thread-safe, so a whole office is answered at once instead of queueing behind one another
# (benchmarks/load_bench.py); Gradio's own limit is 1 per event unless told otherwise.
CHAT_CONCURRENCY = 64
REFUSAL_LABEL = "文件未涉及"

FONTS = ["Noto Sans CJK SC", "PingFang SC", "Microsoft YaHei", "Source Han Sans SC", "sans-serif"]
MONO = ["Noto Sans Mono CJK SC", "Menlo", "Consolas", "monospace"]

CSS = """
.gradio-container {max-width: 1280px !important; width: 100% !important; margin: 0 auto !important;}
#pq-matrix .pq-table {width: auto; min-width: 520px;}
#pq-header {border-bottom: 3px solid #b91c1c; padding: 6px 2px 10px; margin-bottom: 4px;}
#pq-header h1 {color: #991b1b; font-size: 1.6em; margin: 0;}
#pq-header p {color: #57534e; margin: 4px 0 0; font-size: .92em;}
.pq-panel {font-size: .95em; line-height: 1.65;}
.pq-empty {color: #78716c; padding: 18px 6px;}
.pq-head {font-weight: 600; margin: 4px 0 8px; color: #44403c;}
.pq-card {border: 1px solid #e7e5e4; border-left: 4px solid #b91c1c; border-radius: 8px;
  padding: 6px 12px; margin: 8px 0; background: #fff;}
.pq-card > summary {cursor: pointer; padding: 4px 0; list-style-position: outside;}
.pq-card[open] > summary {border-bottom: 1px dashed #e7e5e4; margin-bottom: 6px;}
.pq-tag {display: inline-block; background: #b91c1c; color: #fff; border-radius: 4px;
  padding: 0 7px; margin-right: 6px; font-weight: 600; font-size: .9em;}
.pq-where {color: #78716c; font-size: .88em;}
.pq-text {margin: 6px 0;}
.pq-units {margin: 6px 0;}
.pq-unit {display: inline-block; border: 1px solid #d6d3d1; border-radius: 12px; padding: 0 9px;
  margin: 2px 4px 2px 0; font-size: .9em; background: #fafaf9;}
.pq-unit.pq-lead {border-color: #b91c1c; background: #fef2f2; color: #991b1b; font-weight: 600;}
.pq-lead-mark {margin-left: 4px; font-size: .8em; background: #b91c1c; color: #fff; border-radius: 8px;
  padding: 0 5px;}
.pq-paste {display: flex; gap: 8px; align-items: center; margin: 8px 0 4px;}
.pq-paste code {flex: 1; white-space: normal; background: #f5f5f4; padding: 4px 8px; border-radius: 4px;
  font-size: .88em;}
.pq-copy {border: 1px solid #b91c1c; color: #b91c1c; background: #fff; border-radius: 6px;
  padding: 3px 10px; cursor: pointer; white-space: nowrap; font-size: .88em;}
.pq-copy:hover {background: #fef2f2;}
.pq-copy.pq-copied {background: #15803d; border-color: #15803d; color: #fff;}
.pq-refusal {border: 1px solid #f59e0b; background: #fffbeb; border-radius: 8px; padding: 8px 12px;}
.pq-refusal .pq-badge {background: #b45309;}
.pq-badge {display: inline-block; color: #fff; background: #b91c1c; border-radius: 4px; padding: 0 8px;
  font-weight: 600; font-size: .88em; margin-right: 6px;}
.pq-related {border-left-color: #a8a29e;}
.pq-related .pq-tag {background: #a8a29e;}
.pq-table {border-collapse: collapse; width: 100%; margin: 6px 0 14px;}
.pq-table th, .pq-table td {border: 1px solid #e7e5e4; padding: 5px 8px; vertical-align: top; text-align: left;}
.pq-table th {background: #f5f5f4; white-space: nowrap;}
.pq-count {font-size: 1.05em; margin: 6px 0 10px;}
.pq-count b {color: #991b1b; font-size: 1.2em;}
.pq-year {margin: 14px 0 4px; padding-left: 10px; border-left: 4px solid #b91c1c; font-weight: 700;
  color: #991b1b; font-size: 1.1em;}
.pq-target {margin: 4px 0 4px 14px;}
.pq-qty {display: inline-block; background: #fef3c7; color: #92400e; border-radius: 4px; padding: 0 6px;
  margin-left: 4px; font-size: .88em; font-weight: 600;}
.pq-part > summary {font-weight: 700; font-size: 1.05em; color: #991b1b; cursor: pointer; padding: 6px 0;}
.pq-section {margin-left: 16px;}
.pq-section > summary {font-weight: 600; cursor: pointer; padding: 4px 0;}
.pq-task {margin: 6px 0 6px 18px;}
.pq-conf-高 {color: #15803d; font-weight: 600;} .pq-conf-中 {color: #b45309; font-weight: 600;}
.pq-conf-低 {color: #78716c;}
.pq-refusal-msg {border-left: 4px solid #f59e0b; background: #fffbeb; margin: -4px -8px; padding: 6px 12px;}
.pq-refusal-msg .pq-badge {background: #b45309;}
"""

# Clicks on any [data-copy] button inside an HTML panel copy its text (clipboard API, with a
# textarea fallback for browsers that refuse it) and confirm on the button itself.
COPY_JS = """
element.addEventListener('click', async (event) => {
  const button = event.target.closest('button[data-copy]');
  if (!button) return;
  const text = button.getAttribute('data-copy');
  try {
    await navigator.clipboard.writeText(text);
  } catch (error) {
    const area = document.createElement('textarea');
    area.value = text;
    document.body.appendChild(area);
    area.select();
    document.execCommand('copy');
    area.remove();
  }
  const label = button.getAttribute('data-label') || button.textContent;
  button.setAttribute('data-label', label);
  button.textContent = '已复制 ✓';
  button.classList.add('pq-copied');
  setTimeout(() => { button.textContent = label; button.classList.remove('pq-copied'); }, 1600);
});
"""


# --- safe rendering -------------------------------------------------------------------------


def esc(text: object) -> str:
    """HTML-escape, and neutralise template syntax (``${}``, ``{{}}``) of the HTML component."""
    escaped = html.escape(str(text), quote=True)
    return escaped.replace("{", "&#123;").replace("}", "&#125;").replace("$", "&#36;").replace("`", "&#96;")


def esc_markdown(text: str) -> str:
    """Markdown stays markdown (``>`` quotes included), raw HTML becomes visible text."""
    return text.replace("&", "&amp;").replace("<", "&lt;")


_MARKDOWN_PUNCTUATION = re.compile(r"([\\`*_{}\[\]()#+\-.!|>~])")


def plain_markdown(text: str) -> str:
    """User text shown exactly as typed: no HTML, no markdown (links, emphasis, headings)."""
    return esc_markdown(_MARKDOWN_PUNCTUATION.sub(r"\\\1", text))


def _units_html(units: Iterable[str], lead: str) -> str:
    chips = []
    for unit in units:
        if unit == lead:
            chips.append(f'<span class="pq-unit pq-lead">{esc(unit)}<span class="pq-lead-mark">牵头</span></span>')
        else:
            chips.append(f'<span class="pq-unit">{esc(unit)}</span>')
    return "".join(chips)


def _copy_button(text: str, label: str = "复制引用") -> str:
    return f'<button class="pq-copy" data-copy="{esc(text)}" title="{esc(text)}">{esc(label)}</button>'


def citation_card(citation: Citation, *, related: bool = False, open_: bool = False) -> str:
    """One source: task number, part and section, full text, units (lead marked), copy button."""
    preview = citation.text if len(citation.text) <= 36 else citation.text[:36] + "…"
    body = [
        f'<div class="pq-where">{esc(citation.part)} › {esc(citation.section)}</div>',
        f'<div class="pq-text">{esc(citation.text)}</div>',
        f'<div class="pq-units">责任单位：{_units_html(citation.units, citation.lead_unit)}</div>',
    ]
    if not related:
        body.append(f'<div class="pq-paste"><code>{esc(citation.paste)}</code>{_copy_button(citation.paste)}</div>')
    classes = "pq-card pq-related" if related else "pq-card"
    return (
        f'<details class="{classes}" data-task="{citation.task}"{" open" if open_ else ""}>'
        f'<summary><span class="pq-tag">任务{citation.task}</span>{esc(preview)}</summary>' + "".join(body) + "</details>"
    )


def render_sources(answer: Answer | None) -> str:
    """The sources panel of the latest answer."""
    if answer is None:
        return '<div class="pq-panel pq-empty">提问后，这里列出答案引用的任务原文、责任单位和可粘贴的引用。</div>'
    if answer.kind == "invalid":
        return '<div class="pq-panel pq-empty">请输入一个关于本文件的问题。</div>'
    if answer.refused:
        parts = [
            '<div class="pq-panel"><div class="pq-refusal">'
            f'<span class="pq-badge">{REFUSAL_LABEL}</span>本文件没有涉及这个问题，因此不提供引用。</div>'
        ]
        if answer.related:
            parts.append('<div class="pq-head">相关任务（仅供参考，不作为引用）</div>')
            parts += [citation_card(c, related=True) for c in answer.related]
        return "".join(parts) + "</div>"
    if not answer.citations:
        return '<div class="pq-panel pq-empty">这个回答没有引用具体任务。</div>'
    head = f'<div class="pq-head">来源：{len(answer.citations)} 项任务（点击展开原文）</div>'
    cards = [citation_card(c) for c in answer.citations]
    return f'<div class="pq-panel">{head}{"".join(cards)}</div>'


def render_message(answer: Answer) -> str:
    """The assistant's chat message (markdown, HTML escaped); refusals carry a visible label."""
    text = esc_markdown(answer.answer)
    if answer.kind == "answer":
        return text
    if answer.kind == "invalid":
        return f"⚠️ {text}"
    return f'<div class="pq-refusal-msg"><span class="pq-badge">⚠ {REFUSAL_LABEL}</span>\n\n{text}\n\n</div>'


# --- browse views ---------------------------------------------------------------------------


def _task_rows(tasks: Iterable[Task], *, with_units: bool = True) -> str:
    rows = []
    for task in tasks:
        units = f"<td>{_units_html(task.units, task.lead_unit)}</td>" if with_units else ""
        rows.append(
            f'<tr data-task="{task.uid}"><td><span class="pq-tag">{esc(_tag(task))}</span></td>'
            f'<td><div class="pq-where">{esc(task.section.label if task.section else "")}</div>{esc(task.text)}</td>'
            f"{units}</tr>"
        )
    head = "<th>任务</th><th>内容</th>" + ("<th>责任单位</th>" if with_units else "")
    return f'<table class="pq-table"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>'


def resolve_unit(query: str, document: Document, registry: Any) -> str | None:
    """A canonical unit name from a name, an abbreviation or a phrase naming one unit."""
    query = (query or "").strip()
    if not query:
        return None
    unit = registry.get(query) if registry is not None else None
    if unit is not None:
        return str(unit.name)
    if registry is not None:
        found = registry.units_in(query)
        if len(found) == 1:
            return str(found[0])
    matches = [u for u in document.units() if query in u]
    return matches[0] if len(matches) == 1 else None


def _tag(task: Task) -> str:
    """任务32, or 营商环境分工方案·任务5 outside the reference plan."""
    return f"任务{task.label}" if task.primary else f"{task.cite_as}·任务{task.label}"


def render_unit(query: str, document: Any, registry: Any) -> str:
    """A unit's tasks: 牵头 vs 参与 with counts, plus the collective tasks that include it."""
    if not (query or "").strip():
        return '<div class="pq-panel pq-empty">选择或输入一个单位（可用简称，如“人社局”“住建委”“浦东”）。</div>'
    name = resolve_unit(query, document, registry)
    if name is None:
        return f'<div class="pq-panel pq-empty">没有找到单位“{esc(query)}”。请从列表中选择，或换一个名称。</div>'
    lead = [t for t in document.tasks if t.lead_unit == name]
    co = [t for t in document.tasks if name in t.units[1:]]
    collectives = registry.collectives_for(name) if registry is not None else []
    shared = {c: [t for t in document.tasks if c in t.units] for c in collectives}
    shared = {c: ts for c, ts in shared.items() if ts}
    out = [
        f'<div class="pq-panel"><div class="pq-head" data-unit="{esc(name)}">{esc(name)}</div>',
        f'<div class="pq-count">牵头 <b>{len(lead)}</b> 项 · 参与 <b>{len(co)}</b> 项'
        + (f" · 集体责任 <b>{sum(len(ts) for ts in shared.values())}</b> 项" if shared else "")
        + "</div>",
    ]
    if not lead and not co and not shared:
        out.append('<div class="pq-empty">本文件没有把任务分配给该单位。</div>')
    if lead:
        out += [f'<div class="pq-head">牵头任务（{len(lead)}）</div>', _task_rows(lead)]
    if co:
        out += [f'<div class="pq-head">参与任务（{len(co)}）</div>', _task_rows(co)]
    for collective, tasks in shared.items():
        out += [
            f'<div class="pq-head">作为“{esc(collective)}”之一承担的任务（{len(tasks)}）</div>',
            _task_rows(tasks),
        ]
    return "".join(out) + "</div>"


def render_structure(plans: Any) -> str:
    """Each plan's parts -> sections -> tasks as nested disclosure widgets (a plan without parts or sections
    lists its tasks directly)."""
    documents = getattr(plans, "documents", (plans,))
    if len(documents) == 1:
        return _structure(documents[0])
    return "".join(f'<div class="pq-head" data-document="{esc(d.key)}">《{esc(d.short)}》</div>{_structure(d)}'
                   for d in documents)


def _structure(document: Document) -> str:
    out = ['<div class="pq-panel">']
    if not document.parts and not document.sections:
        for task in document.tasks:
            out.append(_task_div(task))
        return "".join(out) + "</div>"
    for part in document.parts:
        sections = [s for s in document.sections if s.part_no == part.no]
        count = len(document.tasks_in_part(part.no))
        out.append(
            f'<details class="pq-part" data-part="{part.no}"><summary>{esc(part.label)}'
            f'<span class="pq-where">（{len(sections)} 个小节，{count} 项任务）</span></summary>'
        )
        for section in sections:
            tasks = document.tasks_in_section(section.no)
            out.append(
                f'<details class="pq-section" data-section="{section.no}"><summary>{esc(section.label)}'
                f'<span class="pq-where">（任务{tasks[0].label}–{tasks[-1].label}）</span></summary>'
                if tasks
                else f'<details class="pq-section"><summary>{esc(section.label)}</summary>'
            )
            for task in tasks:
                out.append(_task_div(task))
            out.append("</details>")
        out.append("</details>")
    for section in (s for s in document.sections if s.part_no is None):  # sections outside any part
        out.append(f'<details class="pq-section" data-section="{section.no}"><summary>{esc(section.label)}</summary>')
        out += [_task_div(t) for t in document.tasks_in_section(section.no)]
        out.append("</details>")
    return "".join(out) + "</div>"


def _task_div(task: Task) -> str:
    return (f'<div class="pq-task" data-task="{task.uid}"><span class="pq-tag">任务{esc(task.label)}</span>'
            f"{esc(task.text)}<div>{_units_html(task.units, task.lead_unit)}</div></div>")


def render_timeline(document: Any) -> str:
    """Dated targets by year, then every-year / five-year goals, then undated quantitative targets."""
    out = ['<div class="pq-panel">']
    for label, targets in timeline(document).items():
        out.append(f'<div class="pq-year" data-deadline="{esc(label)}">{esc(label)}</div>')
        for target in targets:
            task = document.task(target.task)
            lead = f'<span class="pq-where">（牵头：{esc(task.lead_unit)}）</span>' if task else ""
            qty = "".join(f'<span class="pq-qty">{esc(q)}</span>' for q in target.quantities)
            label = f"{'' if task is None or task.primary else task.cite_as + '·'}任务{task.label if task else target.task}"
            out.append(
                f'<div class="pq-target" data-task="{target.task}"><span class="pq-tag">{esc(label)}</span>'
                f"{esc(target.phrase)}{qty}{lead}</div>"
            )
    return "".join(out) + "</div>"


def render_matrix_summary(document: Any) -> str:
    matrix = responsibility_matrix(document)
    rows = "".join(
        f"<tr><td>{esc(u)}</td><td>{matrix.counts(u)[0]}</td><td>{matrix.counts(u)[1]}</td></tr>" for u in matrix.units
    )
    return (
        f'<div class="pq-panel"><div class="pq-head">{len(matrix.units)} 个责任单位 × '
        f"{len(matrix.tasks)} 项任务。下载的表格中每个单元格为“牵头”“参与”或空。</div>"
        '<table class="pq-table"><thead><tr><th>责任单位</th><th>牵头</th><th>参与</th></tr></thead>'
        f"<tbody>{rows}</tbody></table></div>"
    )


# --- draft citations ------------------------------------------------------------------------


def _task_numbers(tasks: Iterable[Any]) -> list[int]:
    numbers = []
    for t in tasks:
        if isinstance(t, int):
            numbers.append(t)
        elif isinstance(t, dict):
            numbers.append(int(t.get("task") or t.get("n") or 0))
        else:
            numbers.append(int(getattr(t, "task", getattr(t, "n", 0))))
    return [n for n in numbers if n]


def render_draft(result: dict[str, Any]) -> str:
    """Per-clause table of a ``DraftResult.to_dict()``."""
    rows = []
    for clause in result.get("clauses", []):
        numbers = _task_numbers(clause.get("tasks") or [])
        tags = "".join(f'<span class="pq-tag">任务{n}</span>' for n in numbers) or (
            '<span class="pq-where">无匹配任务（文件未涉及，不建议引用）</span>'
        )
        confidence = str(clause.get("confidence") or "") if numbers else ""
        citation = str(clause.get("citation") or "")
        copy = _copy_button(citation) if citation and numbers else ""
        rows.append(
            f"<tr><td>{esc(clause.get('text', ''))}</td><td>{tags}</td>"
            f'<td class="pq-conf-{esc(confidence)}">{esc(confidence)}</td><td>{esc(citation)} {copy}</td></tr>'
        )
    if not rows:
        return '<div class="pq-panel pq-empty">没有可分析的句子。</div>'
    return (
        '<div class="pq-panel"><table class="pq-table"><thead><tr><th>句子</th><th>建议引用</th>'
        f"<th>置信度</th><th>引用文本</th></tr></thead><tbody>{''.join(rows)}</tbody></table></div>"
    )


# --- the app --------------------------------------------------------------------------------


def _export_files(document: Any) -> tuple[Path, Path]:
    """The responsibility matrix of one plan (or of every plan of a corpus) as CSV and XLSX files."""
    folder = Path(tempfile.mkdtemp(prefix="policyqa-export-"))
    matrix = responsibility_matrix(document)
    csv_path = folder / "task-responsibility-matrix.csv"
    xlsx_path = folder / "task-responsibility-matrix.xlsx"
    csv_path.write_bytes(to_csv(matrix))
    plans = getattr(document, "documents", (document,))
    names = "、".join(f"《{d.short or d.title}》" for d in plans)
    xlsx_path.write_bytes(to_xlsx(matrix, title=f"{names}责任矩阵"))
    return csv_path, xlsx_path


def _word_files(cited: CitedWord, stem: str) -> tuple[str, str]:
    """The cited .docx and its clause table, written to a temporary folder of their own."""
    folder = Path(tempfile.mkdtemp(prefix="policyqa-word-"))
    docx_path = folder / f"{stem}-已加引用.docx"
    xlsx_path = folder / f"{stem}-逐句引用表.xlsx"
    docx_path.write_bytes(cited.docx)
    xlsx_path.write_bytes(cited.to_xlsx())
    return str(docx_path), str(xlsx_path)


def build_app(assistant: Any, settings: Settings) -> gr.Blocks:
    """The Blocks app around an ``Assistant`` (``ask``, ``new_conversation``, ``cite``, ``document``)."""
    document: Any = assistant.document  # a Corpus (or one Document)
    plans = getattr(document, "documents", (document,))
    registry = getattr(assistant, "registry", None)
    csv_path, xlsx_path = _export_files(document)
    unit_choices = list(dict.fromkeys([*document.units(), *(u.name for u in getattr(registry, "units", ()))]))
    everything = "全部文件"
    plan_names = {f"《{d.short}》": d for d in plans}

    def chosen(name: str | None) -> Any:
        """The plan the 文件 selector names, or the whole corpus."""
        return plan_names.get(name or "", document)

    def scope_of(name: str | None) -> str:
        plan = plan_names.get(name or "")
        return plan.key if plan is not None and len(plans) > 1 else ""

    def respond(question: str, history: list[dict[str, Any]] | None, conversation: Any, plan: str | None = None):
        history = list(history or [])
        question = (question or "").strip()
        if conversation is None:
            conversation = assistant.new_conversation()
        try:
            scope = scope_of(plan)
            answer = assistant.ask(question, conversation, scope) if scope else assistant.ask(question, conversation)
        except AssistantError as error:  # ask() should not raise; never show a traceback if it does
            answer = Answer(question=question, answer=str(error), kind="invalid")
        history.append({"role": "user", "content": plain_markdown(question) or "（空）"})
        history.append({"role": "assistant", "content": render_message(answer)})
        return history, render_sources(answer), "", conversation, answer.to_dict()

    def respond_example(evt: gr.SelectData, history: list[dict[str, Any]] | None, conversation: Any,
                        plan: str | None = None):
        return respond(str(evt.value.get("text", "")), history, conversation, plan)

    def reset():
        return [], render_sources(None), "", None, {}

    def unit_tasks(query: str, plan: str | None = None) -> str:
        return render_unit(query, chosen(plan), registry)

    def switch(plan: str | None):
        """The browse tabs and the export follow the chosen plan."""
        selection = chosen(plan)
        csv_file, xlsx_file = _export_files(selection)
        return (render_structure(selection), render_timeline(selection), render_matrix_summary(selection),
                str(csv_file), str(xlsx_file))

    def cite_draft(draft: str) -> tuple[str, str]:
        cite = getattr(assistant, "cite", None)
        if cite is None:
            return "", '<div class="pq-panel pq-empty">草稿引用功能尚未就绪。</div>'
        if not (draft or "").strip():
            return "", '<div class="pq-panel pq-empty">请先粘贴一段草稿。</div>'
        try:
            result = cite(draft).to_dict()
        except AssistantError as error:
            return "", f'<div class="pq-panel pq-empty">{esc(error)}</div>'
        return str(result.get("annotated", "")), render_draft(result)

    def cite_word(upload: str | None) -> tuple[str | None, str | None, str, str]:
        """The cited .docx, its clause table, the per-clause view, and "" for the pasted draft's output."""
        cite = getattr(assistant, "cite", None)
        if cite is None:
            return None, None, '<div class="pq-panel pq-empty">草稿引用功能尚未就绪。</div>', ""
        if not upload:
            return None, None, '<div class="pq-panel pq-empty">请上传一份 Word 文档（.docx）。</div>', ""
        try:
            cited = WordDraft.open(upload).cite(cite, settings.max_draft_chars)
        except AssistantError as error:
            return None, None, f'<div class="pq-panel pq-empty">{esc(error)}</div>', ""
        return (*_word_files(cited, Path(upload).stem), render_draft(cited.result.to_dict()), "")

    with gr.Blocks(title="政策问答助手", analytics_enabled=False, fill_width=True) as demo:
        described = "；".join(f"《{esc(d.title or d.short)}》（{esc(d.doc_number)}）{len(d.tasks)} 项任务" for d in plans)
        gr.HTML(
            '<div id="pq-header"><h1>政策问答助手</h1>'
            f"<p>{described} · 每个回答都标注任务编号与责任单位</p></div>"
        )
        plan = gr.Dropdown(
            choices=[everything, *plan_names], value=everything, label="文件（问答、浏览和导出都按所选文件）",
            visible=len(plans) > 1, elem_id="pq-plan", interactive=True,
        )
        with gr.Tabs():
            with gr.Tab("问答", id="chat"):
                conversation = gr.State(None)
                with gr.Row(equal_height=False):
                    with gr.Column(scale=3):
                        chatbot = gr.Chatbot(
                            label="对话",
                            show_label=False,
                            elem_id="pq-chat",
                            elem_classes=["pq-chat"],
                            height=520,
                            placeholder="**向本文件提问**：谁负责什么、某单位牵头哪些任务、某年底要完成什么……",
                            examples=[{"text": q} for q in EXAMPLES],
                            buttons=["copy"],
                            feedback_options=None,
                            sanitize_html=True,
                            group_consecutive_messages=False,
                        )
                        with gr.Row():
                            question = gr.Textbox(
                                placeholder="输入问题，按回车发送（可追问，如“它的牵头单位是谁？”）",
                                show_label=False,
                                elem_id="pq-question",
                                scale=5,
                                max_lines=4,
                                max_length=settings.max_question_chars,
                            )
                            send = gr.Button("发送", variant="primary", scale=1, min_width=80, elem_id="pq-send")
                        clear = gr.Button("新对话", size="sm", variant="secondary", elem_id="pq-clear")
                    with gr.Column(scale=2):
                        sources = gr.HTML(render_sources(None), elem_id="pq-sources", js_on_load=COPY_JS)
                raw = gr.JSON(visible=False)
                outputs = [chatbot, sources, question, conversation, raw]
                chat: dict[str, Any] = {"concurrency_id": "chat", "concurrency_limit": CHAT_CONCURRENCY}
                gr.on([question.submit, send.click], respond, [question, chatbot, conversation, plan], outputs,
                      api_name="ask", **chat)
                chatbot.example_select(respond_example, [chatbot, conversation, plan], outputs, api_visibility="private",
                                       **chat)
                clear.click(reset, None, outputs, api_name="reset", **chat)
                chatbot.clear(reset, None, outputs, api_visibility="private", **chat)  # the trash icon forgets too

            with gr.Tab("按单位", id="units"):
                with gr.Row():
                    unit = gr.Dropdown(
                        choices=unit_choices,
                        value=None,
                        label="单位（可输入简称搜索，如“人社局”“徐汇”）",
                        allow_custom_value=True,
                        filterable=True,
                        elem_id="pq-unit",
                        scale=4,
                    )
                    unit_go = gr.Button("查看任务", variant="primary", scale=1, elem_id="pq-unit-go")
                unit_view = gr.HTML(render_unit("", document, registry), elem_id="pq-unit-view", js_on_load=COPY_JS)
                unit.change(unit_tasks, [unit, plan], unit_view, api_name="unit_tasks")
                unit_go.click(unit_tasks, [unit, plan], unit_view, api_visibility="private")

            with gr.Tab("按结构", id="structure"):
                structure = gr.HTML(render_structure(document), elem_id="pq-structure")

            with gr.Tab("按时间与指标", id="timeline"):
                timeline_view = gr.HTML(render_timeline(document), elem_id="pq-timeline")

            with gr.Tab("草稿引用", id="draft"):
                draft = gr.Textbox(
                    label="粘贴草稿",
                    lines=6,
                    max_lines=20,
                    max_length=settings.max_draft_chars,
                    placeholder="例如：我区全面推进海绵城市建设，完成老旧燃气管道改造……",
                    elem_id="pq-draft",
                )
                draft_go = gr.Button("建议引用", variant="primary", elem_id="pq-draft-go")
                annotated = gr.Textbox(
                    label="加注引用后的草稿（点右上角图标复制）",
                    lines=6,
                    interactive=False,
                    buttons=["copy"],
                    elem_id="pq-annotated",
                )
                gr.Markdown("或上传 Word 文档：在每个找到对应任务的句子后插入〔任务N〕，原有文字、格式、表格不变。")
                with gr.Row():
                    word_in = gr.File(
                        label="上传 Word 文档（.docx）",
                        file_types=[".docx", ".doc"],  # .doc only to be told plainly how to convert it
                        elem_id="pq-word-in",
                    )
                    word_out = gr.File(label="加注引用后的 Word 文档", interactive=False, elem_id="pq-word-out")
                    word_table = gr.File(label="逐句引用表（XLSX）", interactive=False, elem_id="pq-word-table")
                clauses = gr.HTML('<div class="pq-panel pq-empty"></div>', elem_id="pq-clauses", js_on_load=COPY_JS)
                draft_go.click(cite_draft, draft, [annotated, clauses], api_name="cite")
                word_in.upload(cite_word, word_in, [word_out, word_table, clauses, annotated], api_name="cite_docx")

            with gr.Tab("导出", id="export"):
                gr.Markdown("责任矩阵：行为责任单位（按在文件中首次出现的顺序），列为任务 1–85，单元格为“牵头”“参与”或空。")
                with gr.Row():
                    csv_button = gr.DownloadButton("下载 CSV", value=str(csv_path), elem_id="pq-csv")
                    xlsx_button = gr.DownloadButton("下载 Excel（XLSX）", value=str(xlsx_path), elem_id="pq-xlsx")
                csv_button.click(lambda p: str(_export_files(chosen(p))[0]), plan, csv_button, api_name="export_csv")
                xlsx_button.click(lambda p: str(_export_files(chosen(p))[1]), plan, xlsx_button, api_name="export_xlsx")
                matrix = gr.HTML(render_matrix_summary(document), elem_id="pq-matrix")
        plan.change(switch, plan, [structure, timeline_view, matrix, csv_button, xlsx_button], api_name="choose_plan")
        plan.change(unit_tasks, [unit, plan], unit_view, api_visibility="private")
    return demo


# --- serving --------------------------------------------------------------------------------


def is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_exposure(settings: Settings) -> tuple[str, str] | None:
    """The credentials to require, or ``None`` on loopback; refuse an unprotected public bind."""
    if settings.auth:
        user, _, password = settings.auth.partition(":")
        return user, password
    if is_loopback(settings.host):
        return None
    if settings.allow_public_without_auth:
        banner = "!" * 72
        message = (
            f"\n{banner}\n警告：应用将在 {settings.host}:{settings.port} 上对网络公开，且没有设置密码"
            f"（{PREFIX}ALLOW_PUBLIC_WITHOUT_AUTH=true）。同一网络中的任何人都能访问。\n{banner}"
        )
        log.warning(message)
        print(message, file=sys.stderr, flush=True)
        return None
    raise ConfigError(
        f"监听地址 {settings.host} 不是本机回环地址，但没有设置访问密码，为安全起见拒绝对外公开。"
        f"请设置 {PREFIX}AUTH=用户名:密码；确需无密码公开时，设置 {PREFIX}ALLOW_PUBLIC_WITHOUT_AUTH=true；"
        "或改用默认的 127.0.0.1。"
    )


def theme() -> gr.themes.Base:
    return gr.themes.Soft(primary_hue="red", neutral_hue="stone", font=FONTS, font_mono=MONO)


def launch(
    settings: Settings,
    *,
    block: bool = True,
    progress: Callable[[str], None] | None = None,
    assistant: Any = None,
) -> gr.Blocks:
    """Check exposure, open (building if needed) the index, serve. ``block=False`` returns at once."""
    auth = check_exposure(settings)
    if assistant is None:
        from .qa import Assistant

        say = progress or (lambda message: print(f"[政策问答助手] {message}", flush=True))
        say("正在打开索引（缺失或过期时会先重建）……")
        assistant = Assistant.open(settings, progress=say)
        say("索引就绪。")
    demo = build_app(assistant, settings)
    demo.queue(default_concurrency_limit=CONCURRENCY, max_size=10 * CONCURRENCY)
    demo.launch(
        server_name=settings.host,
        server_port=settings.port,
        auth=auth,
        auth_message="请输入访问账号和密码" if auth else None,
        max_threads=CHAT_CONCURRENCY + 2 * CONCURRENCY,  # worker threads, and Gradio's slots for running events
        max_file_size=2 * MAX_WORD_BYTES,  # the upload's own check (in Chinese) refuses above MAX_WORD_BYTES
        prevent_thread_lock=not block,
        share=False,
        show_error=False,
        quiet=not block,
        footer_links=[],
        ssr_mode=False,
        mcp_server=False,
        pwa=False,
        enable_monitoring=False,
        theme=theme(),
        css=CSS,
    )
    return demo

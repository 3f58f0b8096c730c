"""``python -m assistant`` / ``policy-qa``: the command-line interface.

Every command turns :class:`~assistant.errors.AssistantError` into a plain message on stderr
and exit status 2; nothing prints a traceback at a user.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, BinaryIO, TextIO

from .errors import AssistantError
from .settings import Settings, describe

if TYPE_CHECKING:
    from .answer import Answer
    from .corpus import Corpus
    from .document import Document
    from .qa import Assistant

EPILOG = "设置（环境变量）：\n" + describe()


def _progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m assistant",
        description="政策问答助手：就《〈上海市深入实施以人为本的新型城镇化战略五年行动计划的实施方案〉任务分工方案》"
        "（沪区域办〔2025〕2号）提问，得到注明任务编号和责任单位的回答。",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    t = sub.add_parser("tasks", help="列出全部任务（--json 输出机器可读格式）；--file 解析任意一份分工方案")
    t.add_argument("--json", action="store_true",
                   help='每项任务输出 {"n","label","part","section","text","units","lead_unit","leads","scope","line"}；'
                        '与 --file 合用时输出整份解析结果（含说明文字 context、警告 warnings、牵头规则 lead_rule）')
    t.add_argument("--file", metavar="FILE", help="解析这份文件（.txt、.docx 或带文字层的 PDF），不读写索引")
    t.add_argument("--strict", action="store_true", help="有任何警告即报错（指明行号）")

    s = sub.add_parser("show", help="显示一项任务，例如：show 32")
    s.add_argument("number", help="任务编号（1–85），也接受“第三十二项”等写法")

    u = sub.add_parser("units", help="列出责任单位及其任务数；给出名称（可用简称）则解析该单位")
    u.add_argument("name", nargs="?", help="单位名称或简称，如 人社局、浦东")
    u.add_argument("--json", action="store_true")

    d = sub.add_parser("add", help="把一份分工方案加入语料：检查、显示解析结果、更新索引（只计算新增文本的向量）")
    d.add_argument("file", help="分工方案文件（.txt、.docx 或带文字层的 PDF）")
    d.add_argument("--short", help="引用时的简称，如 综保区若干意见（默认：取自标题）")
    d.add_argument("--title", help="完整标题（默认：取自文件）")
    d.add_argument("--number", help="文号，如 国发〔2019〕3号（默认：取自文件）")
    d.add_argument("--date", help="成文日期，如 2019-01-25（默认：取自文件）")
    d.add_argument("--strict", action="store_true", help="有任何解析警告就不加入")

    i = sub.add_parser("index", help="建立或检查检索索引（过期时自动重建）")
    i.add_argument("--rebuild", action="store_true", help="无论是否过期都重建")

    q = sub.add_parser("search", help="检索任务并显示融合得分")
    q.add_argument("query")
    q.add_argument("-k", type=int, default=5, help="返回条数（默认 5）")
    q.add_argument("--json", action="store_true")

    a = sub.add_parser("ask", help="提问，得到带引用的回答")
    a.add_argument("question", nargs="?", help="问题")
    a.add_argument("--json", action="store_true", help='输出 {"question","answer","citations","refused"}')
    a.add_argument("--batch", metavar="FILE.jsonl",
                   help='逐行读取 {"question": str, "turns": [先前的问题]}，每行输出一个 JSON 对象（- 表示标准输入）')

    sub.add_parser("chat", help="在终端中连续对话（支持追问）")

    c = sub.add_parser("cite", help="为一段草稿或一份 Word 文档建议任务引用",
                       description="逐句建议任务引用，并核对草稿中已有的引用（〔任务N〕、（第N项）、任务N、第N项）。"
                       + _bands(), formatter_class=argparse.RawDescriptionHelpFormatter)
    c.add_argument("text", nargs="?", help="草稿文字")
    c.add_argument("--file", help="从文件读取草稿：UTF-8 文本，或 Word 文档（.docx，须同时给出 -o）；- 表示标准输入")
    c.add_argument("-o", "--output", metavar="OUT.docx",
                   help="Word 文档输入时必填：写出加注引用后的 .docx（不能覆盖输入文件）")
    c.add_argument("--xlsx", metavar="TABLE.xlsx",
                   help="Word 文档输入时可选：另写出逐句引用表（段落序号、句子、建议引用任务、可信度、可直接粘贴的引用）")
    c.add_argument("--json", action="store_true", help="输出 JSON（Word 文档输入时每句另含段落序号）")

    e = sub.add_parser("eval", help="运行评测集（dev、holdout、multi，以及 ../shared 下的 external）并按阈值把关")
    e.add_argument("--suite", choices=["dev", "holdout", "external", "multi"], help="只运行这一组（默认全部）")
    e.add_argument("--cases", help="只运行这个问答用例 JSONL 文件（不按阈值把关）")
    e.add_argument("--drafts", help="只运行这个草稿引用用例 JSONL 文件")
    e.add_argument("--json", dest="json_out", metavar="OUT", help="把完整结果写入 JSON 文件")
    e.add_argument("--no-gate", action="store_true", help="只报告，不按 evals/thresholds.toml 判定失败")
    return p


def _bands() -> str:
    """What the confidence bands mean, read from the fitted model (so the help text stays true)."""
    try:
        from .drafts import DraftModel

        return "\n" + DraftModel.load().describe_bands()
    except AssistantError:
        return ""


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command is None:
        _parser().print_help()
        return 0
    try:
        settings = Settings.from_env()
        return _dispatch(args, settings)
    except AssistantError as exc:
        print(f"错误：{exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `ask … | head`: the reader left; nothing more to say
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # so the interpreter's final flush does not complain
        return 141
    except Exception as exc:  # a bug: say so plainly; the traceback only when asked for
        if os.environ.get("POLICYQA_DEBUG"):
            raise
        print(f"内部错误：{type(exc).__name__}: {exc}。这是程序缺陷，请报告；设置 POLICYQA_DEBUG=1 可查看详细信息。",
              file=sys.stderr)
        return 1


def _dispatch(args: argparse.Namespace, settings: Settings) -> int:
    if args.command == "tasks":
        if args.file:
            return _tasks_file(args.file, args.json, args.strict)
        return _tasks(settings, args.json, args.strict)
    if args.command == "show":
        return _show(settings, args.number)
    if args.command == "units":
        return _units(settings, args.name, args.json)
    if args.command == "add":
        return _add(settings, args)
    if args.command == "index":
        from .cli_search import cmd_index

        return cmd_index(settings, args.rebuild)
    if args.command == "search":
        from .cli_search import cmd_search

        return cmd_search(settings, args.query, args.k, args.json)
    if args.command == "ask":
        return _ask(settings, args.question, args.json, args.batch)
    if args.command == "chat":
        return _chat(settings)
    if args.command == "cite":
        if args.file and args.file != "-":
            from .wordfile import looks_like_word

            if looks_like_word(args.file):
                return _cite_word(settings, args.file, args.output, args.xlsx, args.json)
        if args.output or args.xlsx:
            raise AssistantError("-o 和 --xlsx 只用于 Word 文档（--file 草稿.docx）；文字草稿的结果直接输出到屏幕。")
        return _cite(settings, args.text, args.file, args.json)
    if args.command == "eval":
        from .evals import cmd_eval

        return cmd_eval(settings, args.cases, args.drafts, args.json_out, not args.no_gate, args.suite)
    raise AssistantError(f"未知命令：{args.command}")


# --- document commands (no index needed) -----------------------------------------------------


def _document(settings: Settings, strict: bool = False) -> Corpus:
    from .corpus import load_corpus

    return load_corpus(settings.corpus, strict=strict)


def _tasks(settings: Settings, as_json: bool, strict: bool = False) -> int:
    corpus = _document(settings, strict)
    for plan in corpus.documents:
        for warning in plan.warnings:
            print(f"警告：《{plan.short}》{warning}", file=sys.stderr)
    if as_json:
        rows = [{**t.to_full_dict(), "document": t.cite_as, "uid": t.uid} for t in corpus.tasks]
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return 0
    for plan in corpus.documents:
        if len(corpus.documents) > 1:
            print(f"《{plan.short}》（{plan.doc_number or plan.source}）")
        for task in plan.tasks:
            print(f"{task.label:>2}. {task.text}（责任单位：{'、'.join(task.units)}）")
    return 0


def _tasks_file(path: str, as_json: bool, strict: bool) -> int:
    """Parse any one plan and print it: the whole parse as JSON, or a readable summary."""
    from .document import load

    document = load(path, strict=strict)
    if as_json:
        print(json.dumps(document.to_dict(), ensure_ascii=False, indent=2))
        return 0
    _print_parse(document)
    return 0


def _print_parse(document: Document) -> None:
    """A readable summary of one parsed plan: metadata, counts, every task with its units, warnings."""
    issued = document.issued.isoformat() if document.issued else "—"
    print(f"《{document.title or '（无标题）'}》 文号：{document.doc_number or '—'} 发文机关：{document.issuer or '—'} "
          f"成文日期：{issued}")
    print(f"{len(document.parts)} 个部分，{len(document.sections)} 个章节，{len(document.tasks)} 项任务，"
          f"{len(document.units())} 个责任单位，{len(document.context)} 段说明文字，{len(document.warnings)} 条警告")
    print(f"牵头单位：{document.lead_rule}")
    part = section = None
    for task in document.tasks:
        if task.part is not None and task.part != part:
            part = task.part
            print(f"\n{part.label}")
        if task.section is not None and task.section != section:
            section = task.section
            print(f"  {section.label}")
        leads = set(task.leads)
        units = "、".join(f"{u}（牵头）" if u in leads else u for u in task.units)
        scope = f"；适用范围：{task.scope}" if task.scope else ""
        print(f"    {task.label}. {task.text}\n        责任单位：{units}{scope}")
    if document.warnings:
        print("\n警告：")
        for warning in document.warnings:
            print(f"  {warning}")


def _add(settings: Settings, args: argparse.Namespace) -> int:
    """``add FILE``: check the plan, show its parse, copy it (with a .meta.toml) into the corpus folder, and
    bring the index up to date; passages whose vectors are cached are not embedded again."""
    import shutil
    from datetime import date
    from pathlib import Path

    from .corpus import corpus_files, meta_path
    from .document import load
    from .retrieval import SearchEngine

    source = Path(args.file)
    document = load(source, strict=args.strict)
    _print_parse(document)
    folders = [Path(p) for p in str(settings.corpus).split(":") if p and Path(p).is_dir()]
    if not folders:
        raise AssistantError(f"语料设置 {settings.corpus} 中没有文件夹，无法加入文件；请把 POLICYQA_CORPUS 设为一个文件夹")
    target = folders[0] / source.name
    if target.resolve() == source.resolve():
        print(f"\n{source} 已在语料中。")
    elif target.exists():
        if target.read_bytes() != source.read_bytes():
            raise AssistantError(f"语料中已有同名但内容不同的文件：{target}（请改名后再加入）")
        print(f"\n语料中已有相同的文件：{target}")
    else:
        shutil.copyfile(source, target)
        print(f"\n已加入语料：{target}")
    views = source.with_name(source.stem + ".views.toml")
    if views.exists() and not target.with_name(views.name).exists():
        shutil.copyfile(views, target.with_name(views.name))
    sidecar = meta_path(target)
    if args.date:
        try:
            date.fromisoformat(args.date)
        except ValueError:
            raise AssistantError(f"--date 应写成 2019-01-25：{args.date}") from None
    lines = ["# How to cite this plan (assistant/corpus.py); written by `python -m assistant add`."]
    for key, value in (("short", args.short), ("title", args.title), ("number", args.number)):
        if value:
            lines.append(f"{key} = {json.dumps(value, ensure_ascii=False)}")
    if args.date:
        lines.append(f"date = {args.date}")
    if len(lines) > 1 or not sidecar.exists():
        sidecar.write_text("\n".join(lines) + "\n", encoding="utf-8")
    corpus = _document(settings)
    plan = next(p for p in corpus.documents if Path(p.source).resolve() == target.resolve())
    print(f"引用简称：《{plan.short}》；语料共 {len(corpus.documents)} 份文件、{len(corpus.tasks)} 项任务"
          f"（{', '.join(str(f.name) for f in corpus_files(settings.corpus))}）")
    engine = SearchEngine.open(settings, corpus, progress=_progress)
    print(f"索引已更新：{len(engine.passages)} 条索引文本。")
    return 0


def _show(settings: Settings, number: str) -> int:
    from .understanding import find_task_numbers

    corpus = _document(settings)
    plan = corpus.named_in(number) or corpus.primary
    text = corpus.without_names(number)
    numbers = [int(text)] if text.strip().isdigit() else find_task_numbers(text)
    if not numbers:
        raise AssistantError(f"无法识别任务编号：{number}（应为 1–{len(plan.tasks)}）")
    task = corpus.numbered(numbers[0], plan)
    if task is None:
        raise AssistantError(f"《{plan.short}》没有第{numbers[0]}项任务：共 {len(plan.tasks)} 项（第1至{len(plan.tasks)}项）")
    print(f"《{plan.short}》第{task.label}项")
    print(f"部分：{task.part.label if task.part else '—'}")
    print(f"章节：{task.section.label if task.section else '—'}")
    print(f"内容：{task.text}")
    print(f"牵头单位：{task.lead_unit}")
    print(f"责任单位：{'、'.join(task.units)}")
    from .answer import paste_citation

    print(f"引用：{paste_citation(task)}")
    return 0


def _units(settings: Settings, name: str | None, as_json: bool) -> int:
    from .units import Registry

    document = _document(settings)
    registry = Registry.load().with_units(document.units())
    names = document.units()
    if name:
        unit = registry.get(name)
        names = [unit.name] if unit else registry.units_in(name)
        if not names:
            raise AssistantError(f"单位名录中没有“{name}”。可运行 `python -m assistant units` 查看全部单位。")
    rows: list[dict[str, Any]] = []
    for unit_name in names:
        tasks = [t for t in document.tasks if unit_name in t.units]
        info = registry.get(unit_name)
        rows.append({
            "name": unit_name,
            "english": info.english if info else None,
            "aliases": list(info.aliases) if info else [],
            "tasks": [t.uid for t in tasks],  # ids: the number in the reference plan, 1000*k + n in the k-th other
            "lead": [t.uid for t in tasks if t.lead_unit == unit_name],
            "collectives": registry.collectives_for(unit_name),
        })
    if as_json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return 0
    for row in rows:
        print(f"{row['name']}：{len(row['tasks'])} 项任务（牵头 {len(row['lead'])} 项）")
        if name:
            print(f"  英文：{row['english'] or '—'}")
            print(f"  常用简称：{'、'.join(row['aliases']) or '—'}")
            print(f"  牵头：{'、'.join(map(str, row['lead'])) or '—'}")
            print(f"  全部：{'、'.join(map(str, row['tasks'])) or '—'}")
            if row["collectives"]:
                shared = [t.n for t in document.tasks if set(row["collectives"]) & set(t.units)]
                print(f"  另由“{'”“'.join(row['collectives'])}”共同承担：{'、'.join(map(str, shared)) or '—'}")
    return 0


# --- answering commands ----------------------------------------------------------------------


def _assistant(settings: Settings) -> Assistant:
    from .qa import Assistant

    return Assistant.open(settings, progress=_progress)


def _print_answer(answer: Answer, as_json: bool) -> None:
    if as_json:
        print(json.dumps(answer.to_dict(), ensure_ascii=False), flush=True)
    else:
        print(answer.answer, flush=True)


def _ask(settings: Settings, question: str | None, as_json: bool, batch: str | None) -> int:
    if batch is None and question is None:
        raise AssistantError("请给出问题，例如：python -m assistant ask \"谁负责海绵城市建设？\"")
    stream = None
    if batch is not None:  # open the input before the (slower) assistant: a wrong path fails at once
        stream = sys.stdin.buffer if batch == "-" else _open_binary(batch)
    assistant = _assistant(settings)
    if stream is None:
        _print_answer(assistant.ask(question or ""), as_json)
        return 0
    for lineno, raw in enumerate(stream, start=1):
        item = batch_record(raw)
        if isinstance(item, str):  # one output line per input line, always: a bad line gets an error object
            print(f"错误：{batch} 第{lineno}行不是有效的问题记录（{item}）", file=sys.stderr)
            print(json.dumps({"question": None, "answer": f"第{lineno}行格式错误：{item}", "citations": [],
                              "refused": True, "kind": "invalid", "error": item, "line": lineno},
                             ensure_ascii=False), flush=True)
            continue
        conversation = assistant.new_conversation()
        for turn in item["turns"]:
            assistant.ask(turn, conversation)
        print(json.dumps(assistant.ask(item["question"], conversation).to_dict(), ensure_ascii=False), flush=True)
    return 0


def batch_record(raw: bytes) -> dict[str, Any] | str:
    """One line of an ``ask --batch`` file -> ``{"question": str, "turns": [str]}``, or why it is not one."""
    try:
        line = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return f"不是UTF-8编码（第{exc.start + 1}字节无法解码）"
    if not line.strip():
        return "空行"
    try:
        item = json.loads(line)
    except ValueError as exc:
        return f"不是有效的JSON：{exc}"
    if not isinstance(item, dict) or not isinstance(item.get("question"), str):
        return '需要 {"question": 字符串}'
    turns = item.get("turns") or []
    if not isinstance(turns, list) or not all(isinstance(t, str) for t in turns):
        return '"turns" 应为字符串列表'
    return {"question": item["question"], "turns": turns}


def _open_binary(path: str) -> BinaryIO:
    try:
        return open(path, "rb")
    except OSError as exc:
        raise AssistantError(f"无法读取文件 {path}：{exc.strerror}") from None


def _open_text(path: str) -> TextIO:
    try:
        return open(path, encoding="utf-8")
    except OSError as exc:
        raise AssistantError(f"无法读取文件 {path}：{exc.strerror}") from None


def _chat(settings: Settings) -> int:
    assistant = _assistant(settings)
    conversation = assistant.new_conversation()
    print("政策问答助手：请输入问题（例如“谁负责海绵城市建设？”），空行或 Ctrl-D 退出。", flush=True)
    while True:
        try:
            question = input("问> ")
        except EOFError:
            print()
            return 0
        if not question.strip():
            return 0
        answer = assistant.ask(question, conversation)
        print(answer.answer, flush=True)
        print(flush=True)


def _cite(settings: Settings, text: str | None, path: str | None, as_json: bool) -> int:
    if path:
        try:
            text = sys.stdin.read() if path == "-" else _open_text(path).read()
        except UnicodeDecodeError:
            raise AssistantError(f"{path} 不是 UTF-8 文本文件，也不是 Word 文档（.docx）。") from None
    if not text:
        raise AssistantError("请给出草稿文字，或用 --file 指定文件。")
    assistant = _assistant(settings)
    result = assistant.cite(text)
    if as_json:
        print(json.dumps(result.to_dict(), ensure_ascii=False, indent=2))
        return 0
    print(result.render())
    return 0


def _cite_word(settings: Settings, path: str, output: str | None, xlsx: str | None, as_json: bool) -> int:
    """A .docx in, the same document with 〔任务N〕 after each cited clause out (see :mod:`assistant.wordfile`)."""
    from pathlib import Path

    from .wordfile import WordDraft

    source = Path(path)
    if not output:
        raise AssistantError(f"{path} 是 Word 文档：请用 -o 指定输出文件，例如 -o {source.stem}-引用.docx")
    targets = [Path(output)] + ([Path(xlsx)] if xlsx else [])
    if Path(output).suffix.lower() != ".docx":
        raise AssistantError(f"输出文件 {output} 应以 .docx 结尾。")
    if xlsx and Path(xlsx).suffix.lower() != ".xlsx":
        raise AssistantError(f"引用表 {xlsx} 应以 .xlsx 结尾。")
    if xlsx and Path(xlsx).resolve() == Path(output).resolve():
        raise AssistantError("-o 和 --xlsx 不能是同一个文件。")
    for target in targets:
        if target.resolve() == source.resolve() or (target.exists() and source.exists() and target.samefile(source)):
            raise AssistantError(f"输出文件 {target} 就是输入文件：不会覆盖原稿，请换一个文件名。")
    draft = WordDraft.open(source)  # a bad file is reported before the index is opened
    cited = draft.cite(_assistant(settings).cite, settings.max_draft_chars)
    try:
        Path(output).write_bytes(cited.docx)
        if xlsx:
            Path(xlsx).write_bytes(cited.to_xlsx())
    except OSError as exc:
        raise AssistantError(f"无法写入 {exc.filename}：{exc.strerror}") from None
    if as_json:
        print(json.dumps({**cited.to_dict(), "output": output, "xlsx": xlsx}, ensure_ascii=False, indent=2))
        return 0
    print(f"已写出 {output}" + (f" 和逐句引用表 {xlsx}" if xlsx else ""))
    print(f"【逐句引用】共{len(cited.clauses)}句，{len(cited.cited)}句加注了引用")
    for placed in cited.clauses:
        clause = placed.clause
        print(f"第{placed.paragraph}段：{clause.text}")
        if clause.tasks:
            print(f"   → {placed.keys}（可信度：{clause.confidence}）{clause.citation}")
        else:
            print("   → 未找到对应任务（《任务分工方案》没有涉及，不建议引用）")
    return 0

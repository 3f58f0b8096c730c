"""The command line as users and other tools call it: real subprocesses, the JSON contract, clean errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest


@pytest.fixture(scope="module")
def run(assistant):
    env = {**os.environ, "POLICYQA_INDEX_DIR": str(assistant.settings.index_dir), "HF_HUB_OFFLINE": "1"}

    def call(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "assistant", *args], input=stdin, capture_output=True,
                              text=True, env=env, timeout=120)

    return call


def test_help_lists_commands_and_settings(run):
    out = run("--help")
    assert out.returncode == 0
    for word in ("ask", "chat", "cite", "eval", "index", "search", "tasks", "show", "units", "POLICYQA_EMBEDDER"):
        assert word in out.stdout


def test_tasks_json(run):
    tasks = json.loads(run("tasks", "--json").stdout)
    assert [t["n"] for t in tasks] == list(range(1, 86))
    assert set(tasks[0]) == {"n", "label", "part", "section", "text", "units", "lead_unit", "leads", "scope", "line",
                             "document", "uid"}
    assert tasks[31]["document"] == "任务分工方案" and tasks[31]["uid"] == 32


def test_show_and_units(run):
    out = run("show", "32").stdout
    assert "市住房城乡建设管理委" in out and "（八）建设韧性安全城市" in out
    out = run("units", "人社局").stdout
    assert "市人力资源社会保障局：15 项任务（牵头 9 项）" in out
    missing = run("units", "火星局")
    assert missing.returncode == 2 and "Traceback" not in missing.stderr and "没有" in missing.stderr


def test_ask_json_contract(run):
    out = run("ask", "谁负责海绵城市建设？", "--json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["question"] == "谁负责海绵城市建设？" and data["refused"] is False
    assert [c["task"] for c in data["citations"]] == [32]
    assert set(data["citations"][0]) >= {"task", "part", "section", "units", "lead_unit", "text"}


def test_ask_batch_replays_turns_per_line(run, tmp_path):
    lines = [
        {"question": "谁负责海绵城市?"},
        {"question": "那它的目标是多少?", "turns": ["谁负责海绵城市?"]},
        {"question": "第二个呢?", "turns": ["（八）有哪些任务"]},
        {"question": "那它的目标是多少?"},  # no turns: nothing to lean on
        {"question": "公租房租金多少钱"},
    ]
    path = tmp_path / "q.jsonl"
    path.write_text("\n".join(json.dumps(x, ensure_ascii=False) for x in lines) + "\n", encoding="utf-8")
    out = run("ask", "--batch", str(path))
    assert out.returncode == 0, out.stderr
    answers = [json.loads(line) for line in out.stdout.splitlines()]
    assert [a["question"] for a in answers] == [x["question"] for x in lines]
    assert [c["task"] for c in answers[1]["citations"]] == [32] and "64%" in answers[1]["answer"]
    assert [c["task"] for c in answers[2]["citations"]] == [30]
    assert answers[3]["citations"] != answers[1]["citations"]
    assert answers[4]["refused"] is True and answers[4]["citations"] == []


def test_batch_reports_a_bad_line_and_goes_on(run):
    out = run("ask", "--batch", "-", stdin='not json\n{"question": "第32项"}\n')
    answers = [json.loads(line) for line in out.stdout.splitlines()]
    assert answers[0]["refused"] is True and "第1行" in answers[0]["answer"]
    assert [c["task"] for c in answers[1]["citations"]] == [32]
    assert "第1行" in out.stderr and "Traceback" not in out.stderr


@pytest.mark.parametrize("question", ["", "？？？", "x" * 2000])
def test_bad_questions_get_a_message_not_a_traceback(run, question):
    out = run("ask", question, "--json")
    assert out.returncode == 0 and "Traceback" not in out.stderr
    data = json.loads(out.stdout)
    assert data["refused"] is True and data["citations"] == [] and data["answer"]


def test_missing_argument_and_bad_setting(run):
    out = run("ask")
    assert out.returncode == 2 and "请给出问题" in out.stderr
    env_out = subprocess.run([sys.executable, "-m", "assistant", "tasks"], capture_output=True, text=True,
                             env={**os.environ, "POLICYQA_TOP_K": "many"}, timeout=60)
    assert env_out.returncode == 2 and "POLICYQA_TOP_K" in env_out.stderr and "Traceback" not in env_out.stderr


def test_corrupt_document_names_the_line(run, tmp_path):
    bad = tmp_path / "bad.txt"
    text = "沪区域办〔2025〕2号\n关于印发《测试》的通知\n2025年1月1日\n## 一、部分\n（一）节\n1. 没有责任单位的任务。\n"
    bad.write_text(text, encoding="utf-8")
    out = subprocess.run([sys.executable, "-m", "assistant", "tasks"], capture_output=True, text=True,
                         env={**os.environ, "POLICYQA_CORPUS": str(bad)}, timeout=60)
    assert out.returncode == 2 and "第6行" in out.stderr and "Traceback" not in out.stderr


def test_chat_session_follow_up(run):
    out = run("chat", stdin="谁负责海绵城市?\n那它的目标是多少?\n\n")
    assert out.returncode == 0
    assert out.stdout.count("〔任务32〕") >= 2 and "64%" in out.stdout


def test_cite_json(run):
    out = run("cite", "我区全面推进海绵城市建设，组织开展读书月活动。", "--json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert "〔任务32〕" in data["annotated"]
    assert any(c["tasks"] == [] for c in data["clauses"])


def test_batch_prints_one_line_per_input_line_whatever_the_bytes(run, tmp_path):
    """Invalid UTF-8, a blank line, a NUL escape, a 20,000-character question and bad JSON each get their own
    output line, and the lines after them are still answered."""
    raw = b"".join([
        '{"question": "谁负责海绵城市建设？"}\n'.encode(),
        b"\xff\xfe\xfa not utf-8\n",
        b"\n",
        b'{"question": "a\\u0000b"}\n',
        json.dumps({"question": "长" * 20_000}).encode() + b"\n",
        b"{broken\n",
        '{"question": "第32项"}\n'.encode(),
    ])
    path = tmp_path / "mixed.jsonl"
    path.write_bytes(raw)
    out = run("ask", "--batch", str(path))
    assert out.returncode == 0 and "Traceback" not in out.stderr
    answers = [json.loads(line) for line in out.stdout.splitlines()]
    assert len(answers) == 7
    assert [c["task"] for c in answers[0]["citations"]] == [32]
    assert answers[1]["kind"] == "invalid" and "UTF-8" in answers[1]["answer"] and answers[1]["line"] == 2
    assert answers[2]["kind"] == "invalid" and answers[2]["line"] == 3
    assert answers[3]["refused"] is True and answers[3]["citations"] == []  # "ab" once the NUL is dropped
    assert answers[4]["kind"] == "invalid" and "太长" in answers[4]["answer"]
    assert answers[5]["kind"] == "invalid" and answers[5]["line"] == 6
    assert [c["task"] for c in answers[6]["citations"]] == [32]


def test_a_reader_that_leaves_early_is_not_an_error(assistant):
    """`ask --batch … | head -1`: the closed pipe ends the command quietly, with no 内部错误 message."""
    env = {**os.environ, "POLICYQA_INDEX_DIR": str(assistant.settings.index_dir), "HF_HUB_OFFLINE": "1"}
    questions = "".join(f"第{n % 85 + 1}项任务是什么\n" for n in range(400)).encode()
    proc = subprocess.Popen([sys.executable, "-m", "assistant", "ask", "--batch", "-"], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None
    proc.stdin.write(questions)
    proc.stdin.close()
    proc.stdout.readline()
    proc.stdout.close()  # the reader is gone long before 400 answers (about 1 MB) are written
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) in (0, 141)
    assert "内部错误" not in err and "Traceback" not in err

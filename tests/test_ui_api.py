"""The launched app, driven through ``gradio_client``: ask, follow up, browse, export; exposure rules."""

from __future__ import annotations

import csv
import io
import logging
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import free_port

from assistant.errors import ConfigError
from assistant.settings import REFERENCE_PLAN, Settings

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def server(assistant):
    from assistant.ui import launch

    port = free_port()
    demo = launch(Settings.from_env(host="127.0.0.1", port=port), block=False, assistant=assistant)
    yield demo, f"http://127.0.0.1:{port}/"
    demo.close()


@pytest.fixture()
def client(server):
    from gradio_client import Client

    return Client(server[1], verbose=False)


def text_of(message: dict) -> str:
    content = message["content"]
    if isinstance(content, str):
        return content
    return "".join(part.get("text", "") for part in content if isinstance(part, dict))


def test_ask_answers_with_task_units_and_sources(client):
    history, sources, cleared, raw = client.predict("谁负责海绵城市建设？", [], api_name="/ask")
    assert cleared == ""
    assert [m["role"] for m in history] == ["user", "assistant"]
    reply = text_of(history[-1])
    assert "〔任务32〕" in reply and "市住房城乡建设管理委" in reply
    assert raw["kind"] == "answer" and [c["task"] for c in raw["citations"]] == [32]
    # sources panel: number, part/section, full text, lead marked, copy button with the paste text
    assert 'data-task="32"' in sources
    assert "二、实施城市综合承载能力提升行动" in sources and "（八）建设韧性安全城市" in sources
    assert "全市建成区面积64%达到海绵城市建设要求" in sources
    assert "牵头</span>" in sources
    assert 'data-copy="《任务分工方案》第32项（责任单位：市住房城乡建设管理委、市水务局）"' in sources


def test_follow_up_uses_this_session_only(server, client):
    from gradio_client import Client

    history, *_ = client.predict("第24项是什么？", [], api_name="/ask")
    history, _, _, raw = client.predict("它的牵头单位是谁？", history, api_name="/ask")
    assert len(history) == 4
    assert raw["citations"][0]["task"] == 24
    assert "市住房城乡建设管理委" in text_of(history[-1])

    # A second browser (another session) has no memory of task 24.
    other = Client(server[1], verbose=False)
    _, _, _, raw_other = other.predict("它的牵头单位是谁？", [], api_name="/ask")
    assert 24 not in [c["task"] for c in raw_other["citations"]]

    # "新对话" forgets: after reset the same follow-up no longer resolves to 24.
    client.predict(api_name="/reset")
    _, _, _, raw_after = client.predict("它的牵头单位是谁？", [], api_name="/ask")
    assert 24 not in [c["task"] for c in raw_after["citations"]]


def test_refusal_is_labelled_and_related_are_not_citations(client):
    history, sources, _, raw = client.predict("美国签证怎么办？", [], api_name="/ask")
    assert raw["kind"] == "refusal" and raw["citations"] == []
    assert "文件未涉及" in text_of(history[-1]) and "pq-refusal-msg" in text_of(history[-1])
    assert "文件未涉及" in sources and "不作为引用" in sources
    assert "data-copy" not in sources  # related tasks offer no citation to paste


@pytest.mark.parametrize(
    "payload",
    ["<script>alert(1)</script>海绵城市谁负责？", '<img src=x onerror="alert(1)">第32项', "${alert(1)}{{constructor}}"],
)
def test_user_text_is_escaped(client, payload):
    history, sources, _, _ = client.predict(payload, [], api_name="/ask")
    for message in history:
        text = text_of(message)
        assert "<script" not in text and "<img" not in text
    assert "<script" not in sources and "<img" not in sources and "${" not in sources


def test_empty_question_is_invalid_not_an_error(client):
    _, sources, _, raw = client.predict("   ", [], api_name="/ask")
    assert raw["kind"] == "invalid"
    assert "请输入" in sources


def test_unit_tab_accepts_abbreviations_and_counts(server, client):
    from assistant.document import load

    document = load(REFERENCE_PLAN)
    name = "市人力资源社会保障局"
    lead = sum(1 for t in document.tasks if t.lead_unit == name)
    co = sum(1 for t in document.tasks if name in t.units[1:])
    view = client.predict("人社局", api_name="/unit_tasks")
    assert f'data-unit="{name}"' in view
    assert f"牵头 <b>{lead}</b> 项 · 参与 <b>{co}</b> 项" in view
    district = client.predict("徐汇", api_name="/unit_tasks")
    assert 'data-unit="徐汇区人民政府"' in district
    assert "各区人民政府" in district and 'data-task="13"' in district
    assert "没有找到单位" in client.predict("不存在的单位", api_name="/unit_tasks")


def test_csv_and_xlsx_download(client):
    from openpyxl import load_workbook

    csv_path = client.predict("全部文件", api_name="/export_csv")
    data = Path(csv_path).read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0][:2] == ["责任单位", "任务1"] and len(rows[0]) == 1 + 85 + 2
    assert rows[1][0] == "市发展改革委"
    xlsx_path = client.predict("全部文件", api_name="/export_xlsx")
    sheet = load_workbook(xlsx_path)["责任矩阵"]
    assert sheet.max_row == len(rows) + 1  # title row + header + units


def test_cite_endpoint(client):
    from assistant.qa import Assistant

    if not hasattr(Assistant, "cite"):
        pytest.skip("Assistant.cite is not implemented yet (issue 7)")
    annotated, table = client.predict("我区全面推进海绵城市建设。我们还组织了春游。", api_name="/cite")
    assert "〔任务32〕" in annotated
    assert 'class="pq-table"' in table


def test_cite_docx_endpoint(client, tmp_path):
    import docx
    from conftest import write_word_draft
    from gradio_client import handle_file
    from openpyxl import load_workbook

    source = write_word_draft(tmp_path / "草稿.docx")
    cited, table, clauses, annotated = client.predict(handle_file(str(source)), api_name="/cite_docx")
    assert annotated == ""  # the pasted draft's result no longer stands beside this table
    assert Path(cited).name == "草稿-已加引用.docx" and Path(table).name == "草稿-逐句引用表.xlsx"
    texts = [p.text for p in docx.Document(cited).paragraphs]
    assert "我区全面推进海绵城市建设〔任务32〕，完成老旧燃气管道改造〔任务30〕。我们还组织了春游活动。" in texts
    rows = list(load_workbook(table).active.iter_rows(values_only=True))
    assert rows[0] == ("段落序号", "句子", "建议引用任务", "可信度", "可直接粘贴的引用") and len(rows) > 5
    assert 'class="pq-table"' in clauses and "我区全面推进海绵城市建设" in clauses


def test_cite_docx_endpoint_explains_bad_files(client, tmp_path):
    from gradio_client import handle_file

    old = tmp_path / "旧稿.doc"
    old.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600)
    cited, table, message, _ = client.predict(handle_file(str(old)), api_name="/cite_docx")
    assert cited is None and table is None
    assert "旧版 Word 97-2003" in message and "另存为" in message
    broken = tmp_path / "坏.docx"
    broken.write_bytes(b"PK\x03\x04 not a document")
    assert "已损坏" in client.predict(handle_file(str(broken)), api_name="/cite_docx")[2]


# --- exposure ---------------------------------------------------------------------------------


def test_exposure_rules(caplog):
    from assistant.ui import check_exposure

    assert check_exposure(Settings(host="127.0.0.1")) is None
    assert check_exposure(Settings(host="localhost")) is None
    assert check_exposure(Settings(host="::1")) is None
    assert check_exposure(Settings(host="0.0.0.0", auth="staff:secret")) == ("staff", "secret")
    with pytest.raises(ConfigError, match="POLICYQA_AUTH"):
        check_exposure(Settings(host="0.0.0.0"))
    with pytest.raises(ConfigError):
        check_exposure(Settings(host="192.168.1.20"))
    with caplog.at_level(logging.WARNING, logger="assistant.ui"):
        assert check_exposure(Settings(host="0.0.0.0", allow_public_without_auth=True)) is None
    assert "没有设置密码" in caplog.text


def test_app_refuses_public_host_without_auth():
    env = {k: v for k, v in __import__("os").environ.items() if not k.startswith("POLICYQA_")}
    result = subprocess.run(
        [sys.executable, str(ROOT / "app.py"), "--host", "0.0.0.0", "--port", str(free_port())],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        cwd=ROOT,
    )
    assert result.returncode == 2
    assert "拒绝对外公开" in result.stderr and "POLICYQA_AUTH" in result.stderr


def test_app_help_lists_settings():
    result = subprocess.run(
        [sys.executable, str(ROOT / "app.py"), "--help"], capture_output=True, text=True, timeout=60, cwd=ROOT
    )
    assert result.returncode == 0
    assert "--host" in result.stdout and "POLICYQA_AUTH" in result.stdout and "POLICYQA_PORT" in result.stdout


def test_auth_is_enforced_when_configured(assistant):
    """With credentials set, the API refuses anonymous clients and accepts the configured user."""
    from gradio_client import Client

    from assistant.ui import launch

    port = free_port()
    settings = Settings.from_env(host="127.0.0.1", port=port, auth="staff:secret")
    protected = launch(settings, block=False, assistant=assistant)
    try:
        url = f"http://127.0.0.1:{port}/"
        with pytest.raises(Exception):  # noqa: B017 - gradio_client raises a plain ValueError/HTTP error
            Client(url, verbose=False)
        history, *_ = Client(url, auth=("staff", "secret"), verbose=False).predict("第1项是什么？", [], api_name="/ask")
        assert "〔任务1〕" in text_of(history[-1])
    finally:
        protected.close()

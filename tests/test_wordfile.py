"""Word drafts: cited through the real assistant and the CLI, read back with python-docx.

What must hold for any citer: the text already in the document is unchanged apart from the inserted
keys, every run keeps its formatting, each key run copies the run before it, keys sit right after
the clauses the citer cited, the whole document is cited in one call, and the XLSX lists the same
clauses. What the citer decides is the drafts module's business: only the plainest cases (海绵城市 ->
32, 燃气管道 -> 30, 城中村 -> 24, 春游 -> nothing) are pinned here.
"""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
import zipfile
from copy import deepcopy

import docx
import pytest
from conftest import write_word_draft
from docx.oxml.ns import qn
from openpyxl import Workbook, load_workbook

from assistant.drafts import ClauseCitation, DraftResult
from assistant.errors import InputError
from assistant.understanding import strip_markup
from assistant.wordfile import NO_TASK, XLSX_HEADER, WordDraft, insert_after, looks_like_word, paragraphs

KEY = re.compile(r"〔任务\d+〕")


def rpr(run) -> str:
    """A run's character formatting as XML ("" when it has none)."""
    properties = run._r.rPr
    return "" if properties is None else properties.xml


def chars(paragraph, *, skip_keys: bool) -> list[tuple[str, str]]:
    """(character, formatting of its run) for each character of the paragraph's runs."""
    out = []
    for run in paragraph.runs:
        if skip_keys and KEY.fullmatch(run.text):
            continue
        out.extend((c, rpr(run)) for c in run.text)
    return out


def all_text(document) -> list[str]:
    return [p.text for p in paragraphs(document)]


@pytest.fixture(scope="module")
def draft_path(tmp_path_factory):
    return write_word_draft(tmp_path_factory.mktemp("word") / "草稿.docx")


@pytest.fixture(scope="module")
def cited(assistant, draft_path):
    return WordDraft.open(draft_path).cite(assistant.cite, assistant.settings.max_draft_chars)


@pytest.fixture(scope="module")
def output(cited):
    return docx.Document(io.BytesIO(cited.docx))


# --- the real assistant ------------------------------------------------------------------------


def test_text_is_unchanged_apart_from_the_keys(draft_path, output):
    before = docx.Document(str(draft_path))
    after = [KEY.sub("", t) for t in all_text(output)]
    assert after == all_text(before)
    assert len(after) == 8  # heading, 3 body paragraphs, 3 distinct table cells (the merged one once), closing line
    assert output.sections[0].header.paragraphs[0].text == "内部资料：海绵城市建设情况"  # headers are not cited


def test_keys_follow_the_cited_clauses(output, cited):
    texts = all_text(output)
    assert texts[1] == "我区全面推进海绵城市建设〔任务32〕，完成老旧燃气管道改造〔任务30〕。我们还组织了春游活动。"
    assert texts[4].startswith("加快推进城中村改造〔任务24〕，")
    assert texts[2] == ""
    numbered = [t for t in texts if t.strip()]  # 段落序号 counts the non-empty paragraphs
    for placed in cited.clauses:  # whatever else the citer decided lands right after its clause
        text = numbered[placed.paragraph - 1]
        end = text.index(placed.clause.text) + len(placed.clause.text)
        assert text[end:].startswith(placed.keys)
        if not placed.keys:
            assert not KEY.match(text[end:])
    assert sum(len(KEY.findall(t)) for t in texts) == sum(len(p.clause.tasks) for p in cited.clauses)


def test_runs_styles_numbering_and_tables_are_kept(draft_path, output):
    before = docx.Document(str(draft_path))
    old, new = paragraphs(before), paragraphs(output)
    assert [p.style.name for p in new] == [p.style.name for p in old]
    assert new[1].style.name == "List Number" and new[0].style.name == "Heading 1"
    for a, b in zip(old, new, strict=True):
        assert (b._p.pPr.xml if b._p.pPr is not None else "") == (a._p.pPr.xml if a._p.pPr is not None else "")
        assert chars(b, skip_keys=True) == chars(a, skip_keys=False)  # every character keeps its run's formatting
    assert len(output.tables) == 1 and output.tables[0].style.name == "Table Grid"
    assert len(output.tables[0].rows) == 2


def test_each_key_run_copies_the_run_before_it(output):
    body = paragraphs(output)[1]
    runs = [(r.text, r.bold, r.italic) for r in body.runs]
    assert runs == [
        ("我区全面推进", True, None),
        ("海绵城市建设", None, None),  # the clause ended with this run: no split
        ("〔任务32〕", None, None),
        ("，完成老旧燃气管道改造", None, True),  # the clause ended inside the italic run: split there
        ("〔任务30〕", None, True),
        ("。我们还组织了春游活动。", None, True),
    ]
    for paragraph in paragraphs(output):
        runs = paragraph.runs
        for i, run in enumerate(runs):
            if KEY.fullmatch(run.text):
                assert i > 0 and rpr(run) == rpr(runs[i - 1])
    cell = output.tables[0].cell(0, 0).paragraphs[0]
    assert [(r.text, r.underline) for r in cell.runs][:2] == [("加快推进城中村改造", True), ("〔任务24〕", True)]


def test_xlsx_lists_every_clause(cited):
    sheet = load_workbook(io.BytesIO(cited.to_xlsx())).active
    rows = [[cell if cell is not None else "" for cell in row] for row in sheet.iter_rows(values_only=True)]
    assert tuple(rows[0]) == XLSX_HEADER
    assert rows[1:] == [p.row() for p in cited.clauses]
    by_text = {r[1]: r for r in rows[1:]}
    sponge = by_text["我区全面推进海绵城市建设"]
    assert sponge[:3] == [2, "我区全面推进海绵城市建设", "〔任务32〕"] and sponge[3] in {"高", "中", "低"}
    assert sponge[4].startswith("《任务分工方案》第32项")
    assert by_text["我们还组织了春游活动"][2:] == [NO_TASK, "", ""]
    assert by_text["加快推进城中村改造"][0] == 4  # the table's merged first cell: the 4th non-empty paragraph


def test_one_batched_call_over_all_paragraphs(assistant, draft_path):
    calls: list[str] = []

    def counting(text: str) -> DraftResult:
        calls.append(text)
        return assistant.cite(text)

    draft = WordDraft.open(draft_path)
    draft.cite(counting)
    assert calls == ["\n".join(p.text for p in draft.paragraphs)]
    draft.cite(counting)  # citing again starts from the original document
    assert len(calls) == 2


def test_input_file_is_not_modified(draft_path, cited):
    before = draft_path.read_bytes()
    WordDraft.open(draft_path).cite(lambda text: DraftResult(text, (), text))
    assert draft_path.read_bytes() == before
    assert cited.docx != before


# --- offsets: the citer cleans the text it is given -----------------------------------------------


def fake_citer(word: str, task: int = 32):
    """Cleans the text as Assistant.cite does and 'cites' every occurrence of ``word``."""

    def cite(text: str) -> DraftResult:
        draft = strip_markup(text)
        clauses = tuple(
            ClauseCitation(word, m.start(), m.end(), (task,), "高", f"第{task}项") for m in re.finditer(word, draft)
        )
        return DraftResult(draft, clauses, draft)

    return cite


def word_bytes(*texts: str) -> bytes:
    document = docx.Document()
    for text in texts:
        document.add_paragraph(text)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


@pytest.mark.parametrize(
    "texts",
    [
        ["", "", "  推进海绵城市建设。"],  # leading empty paragraphs and spaces are stripped by the citer
        ["<b>标题</b>", "推进海绵城市建设，A&amp;B。", "5<6 且 7>3，海绵城市建设"],  # markup and entities
        ["<p", "多行>", "海绵城市建设\t海绵城市建设"],  # a "tag" across paragraphs
    ],
)
def test_keys_land_right_even_when_the_citer_changes_the_text(texts):
    cited = WordDraft(word_bytes(*texts)).cite(fake_citer("海绵城市建设"))
    after = all_text(docx.Document(io.BytesIO(cited.docx)))
    assert [KEY.sub("", t) for t in after] == texts
    expected = [t.replace("海绵城市建设", "海绵城市建设〔任务32〕") for t in texts]
    assert after == expected


# --- inserting into runs -------------------------------------------------------------------------

W = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'


def paragraph_from(xml: str):
    document = docx.Document()
    body = document.element.body
    from docx.oxml import parse_xml

    p = parse_xml(f"<w:p {W}>{xml}</w:p>")
    body.insert(0, p)
    return document.paragraphs[0]


@pytest.mark.parametrize(
    ("xml", "offset", "text"),
    [
        # a tab and a line break count as one character each, as python-docx reads them
        ('<w:r><w:rPr><w:b/></w:rPr><w:t>甲乙</w:t><w:tab/><w:t>丙丁</w:t></w:r>', 3, "甲乙\t〔任务1〕丙丁"),
        ('<w:r><w:t>甲乙</w:t><w:br/><w:t>丙丁</w:t></w:r>', 4, "甲乙\n丙〔任务1〕丁"),
        ('<w:r><w:t xml:space="preserve">甲 乙 </w:t></w:r><w:r><w:t>丙</w:t></w:r>', 2, "甲 〔任务1〕乙 丙"),
        ('<w:r><w:t>甲乙</w:t><w:drawing/><w:t>丙</w:t></w:r>', 2, "甲乙〔任务1〕丙"),
    ],
)
def test_insert_splits_runs_at_the_right_character(xml, offset, text):
    paragraph = paragraph_from(xml)
    before = deepcopy(paragraph._p)
    insert_after(paragraph, offset, "〔任务1〕")
    assert paragraph.text == text
    assert len(paragraph._p.findall(qn("w:r"))) >= len(before.findall(qn("w:r"))) + 1
    assert len(paragraph._p.findall(f".//{qn('w:drawing')}")) == len(before.findall(f".//{qn('w:drawing')}"))


def test_a_drawing_at_the_cut_stays_before_the_key():
    paragraph = paragraph_from("<w:r><w:t>甲乙</w:t><w:drawing/><w:t>丙</w:t></w:r>")
    insert_after(paragraph, 2, "〔任务1〕")
    kinds = [[c.tag.split("}")[1] for c in r if c.tag != qn("w:rPr")] for r in paragraph._p.findall(qn("w:r"))]
    assert kinds == [["t", "drawing"], ["t"], ["t"]]


def test_keys_go_after_a_link_that_ends_the_clause_not_into_it():
    paragraph = paragraph_from(
        '<w:hyperlink><w:r><w:rPr><w:i/></w:rPr><w:t>海绵城市建设</w:t></w:r></w:hyperlink><w:r><w:t>，其他。</w:t></w:r>'
    )
    insert_after(paragraph, 6, "〔任务32〕")
    assert paragraph.text == "海绵城市建设〔任务32〕，其他。"
    link = paragraph._p.find(qn("w:hyperlink"))
    assert "".join(t.text for t in link.iter(qn("w:t"))) == "海绵城市建设"
    key = link.getnext()
    assert key.tag == qn("w:r") and key.find(qn("w:rPr")).find(qn("w:i")) is not None


# --- bad input -----------------------------------------------------------------------------------


def xlsx_bytes() -> bytes:
    buffer = io.BytesIO()
    Workbook().save(buffer)
    return buffer.getvalue()


def empty_word() -> bytes:
    document = docx.Document()
    document.add_paragraph("")
    document.add_table(rows=1, cols=1)
    document.add_paragraph("   ")
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "是空的"),
        ("我区全面推进海绵城市建设。".encode(), "不是 Word 文档"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600, "旧版 Word 97-2003（.doc）"),
        (word_bytes("海绵城市建设")[:700], "已损坏"),
        (b"PK\x03\x04" + b"\0" * 100, "已损坏"),
        (xlsx_bytes(), "不是 Word 文档"),
        (empty_word(), "没有可分析的文字"),
        (b"PK\x03\x04" + b"\0" * (21 * 1024 * 1024), "太大"),
    ],
    ids=["empty-file", "text", "doc", "truncated", "zip-garbage", "xlsx", "no-text", "too-large"],
)
def test_bad_input_is_a_plain_message(data, message):
    with pytest.raises(InputError) as error:
        WordDraft(data, "草稿.docx")
    assert message in str(error.value) and "草稿.docx" in str(error.value)


def test_a_zip_that_is_not_office_and_a_broken_part():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("readme.txt", "hello")
    with pytest.raises(InputError, match="不是 Word 文档"):
        WordDraft(buffer.getvalue())
    broken = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(word_bytes("海绵城市")), "r") as source, zipfile.ZipFile(broken, "w") as target:
        for item in source.infolist():
            data = source.read(item.filename)
            target.writestr(item, b"<w:document" if item.filename == "word/document.xml" else data)
    with pytest.raises(InputError, match="已损坏"):
        WordDraft(broken.getvalue())


def test_too_many_characters():
    draft = WordDraft(word_bytes("海绵城市建设。" * 100))
    with pytest.raises(InputError, match="文字太多（700字）。一次最多处理500字"):
        draft.cite(fake_citer("海绵"), max_chars=500)


def test_missing_file():
    with pytest.raises(InputError, match="无法读取文件"):
        WordDraft.open("/nonexistent/草稿.docx")


def test_word_files_are_recognised_by_extension_or_magic(tmp_path):
    (tmp_path / "a.txt").write_text("海绵城市", encoding="utf-8")
    (tmp_path / "b.txt").write_bytes(word_bytes("海绵城市"))
    (tmp_path / "c.DOC").write_bytes(b"whatever")
    assert not looks_like_word(tmp_path / "a.txt")
    assert looks_like_word(tmp_path / "b.txt") and looks_like_word(tmp_path / "c.DOC")
    assert looks_like_word(tmp_path / "missing.docx") and not looks_like_word(tmp_path / "missing.txt")


# --- the command line ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def run(assistant):
    env = {**os.environ, "POLICYQA_INDEX_DIR": str(assistant.settings.index_dir), "HF_HUB_OFFLINE": "1"}

    def call(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "assistant", *args], capture_output=True, text=True, env=env,
                              timeout=120)

    return call


def test_cli_writes_the_cited_document_and_table(run, tmp_path, draft_path, output):
    source = tmp_path / "草稿.docx"
    source.write_bytes(draft_path.read_bytes())
    out = run("cite", "--file", str(source), "-o", str(tmp_path / "cited.docx"), "--xlsx", str(tmp_path / "t.xlsx"))
    assert out.returncode == 0, out.stderr
    assert source.read_bytes() == draft_path.read_bytes()
    assert all_text(docx.Document(str(tmp_path / "cited.docx"))) == all_text(output)
    rows = list(load_workbook(tmp_path / "t.xlsx").active.iter_rows(values_only=True))
    assert rows[0] == XLSX_HEADER and any(r[1] == "我区全面推进海绵城市建设" and r[2] == "〔任务32〕" for r in rows)
    assert "第2段：我区全面推进海绵城市建设" in out.stdout and "〔任务32〕" in out.stdout


def test_cli_json_carries_paragraph_numbers(run, tmp_path, draft_path):
    import json

    out = run("cite", "--file", str(draft_path), "-o", str(tmp_path / "c.docx"), "--json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    first = next(c for c in data["clauses"] if c["text"] == "我区全面推进海绵城市建设")
    assert first["paragraph"] == 2 and first["tasks"] == [32] and data["output"] == str(tmp_path / "c.docx")


def test_cli_text_files_work_as_before(run, tmp_path):
    path = tmp_path / "draft.txt"
    path.write_text("我区全面推进海绵城市建设。", encoding="utf-8")
    out = run("cite", "--file", str(path))
    assert out.returncode == 0 and "海绵城市建设〔任务32〕" in out.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-o", "{src}"], "就是输入文件"),
        ([], "请用 -o 指定输出文件"),
        (["-o", "{dir}/out.txt"], "应以 .docx 结尾"),
        (["-o", "{dir}/o.docx", "--xlsx", "{src}"], "应以 .xlsx 结尾"),
    ],
)
def test_cli_refuses_unsafe_or_missing_outputs(run, tmp_path, draft_path, args, message):
    source = tmp_path / "草稿.docx"
    source.write_bytes(draft_path.read_bytes())
    args = [a.format(src=source, dir=tmp_path) for a in args]
    out = run("cite", "--file", str(source), *args)
    assert out.returncode == 2 and message in out.stderr and "Traceback" not in out.stderr
    assert source.read_bytes() == draft_path.read_bytes()


@pytest.mark.parametrize(
    ("name", "data", "extra", "message"),
    [
        ("old.doc", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600, ["-o", "x.docx"], "另存为"),
        ("broken.docx", b"PK\x03\x04 not really", ["-o", "x.docx"], "已损坏"),
        ("binary.txt", b"\xff\xfe\x00\x01garbage", [], "不是 UTF-8 文本文件"),
    ],
)
def test_cli_bad_files(run, tmp_path, name, data, extra, message):
    (tmp_path / name).write_bytes(data)
    out = run("cite", "--file", str(tmp_path / name), *[str(tmp_path / a) if a.endswith(".docx") else a for a in extra])
    assert out.returncode == 2 and message in out.stderr and "Traceback" not in out.stderr, out.stderr
    assert not (tmp_path / "x.docx").exists()


def test_cli_output_options_need_a_word_file(run, tmp_path):
    out = run("cite", "海绵城市建设", "-o", str(tmp_path / "x.docx"))
    assert out.returncode == 2 and "只用于 Word 文档" in out.stderr


def test_cli_help_describes_word_output(run):
    out = run("cite", "--help")
    assert "-o" in out.stdout and "--xlsx" in out.stdout and "Word" in out.stdout and ".docx" in out.stdout

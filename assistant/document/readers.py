"""File bytes -> lines of text for the parser: plain text, Word (.docx) and PDF with a text layer.

The format is told by the bytes, not the name: ``%PDF`` is a PDF, a zip holding
``word/document.xml`` is a .docx, an OLE file is an old .doc (refused), anything else is text.

* Text: UTF-8 (a BOM is fine), or UTF-16 with its BOM. A GBK/GB18030 file is decoded with a warning; in strict mode it
  is refused naming the first undecodable byte's line. Damaged UTF-8 is always refused.
* .docx: body paragraphs and tables in order, one line per paragraph or table row. Word's
  automatic numbering is not part of the paragraph text; a warning says when a file uses it.
  A table whose header names units (``牵头单位``, ``责任单位`` …) becomes one task line per row,
  ``{序号}. {text}（{header}：{cell}；…）``; other tables give one line per row.
* PDF: the text layer page by page (pypdf), running headers and footers blanked. A PDF without
  one (a scan) raises ``ParseError``. Lines are lines of the extracted text, counted across pages.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections import Counter

from ..errors import ParseError
from ..text import clean
from .model import ParseWarning
from .unit_tail import vocabulary

Lines = tuple[list[str], list[ParseWarning]]

_CJK = re.compile(r"[\u4e00-\u9fff]")


def read_lines(data: bytes, path: str | None = None, strict: bool = False) -> Lines:
    """The lines of a document file's bytes, and warnings about reading it."""
    if not data.strip():
        raise ParseError("文件为空", 0, path)
    if data.startswith(b"%PDF"):
        return _pdf_lines(data, path), []
    if data.startswith(b"PK\x03\x04"):
        return _docx_lines(data, path)
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        raise ParseError("不支持旧版Word（.doc）或其他OLE文件，请另存为.docx或.txt后再读取", 0, path)
    return _text_lines(data, path, strict)


def _split(text: str) -> list[str]:
    return text.replace("\r\n", "\n").replace("\r", "\n").split("\n")


def _text_lines(data: bytes, path: str | None, strict: bool) -> Lines:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):  # Windows "Unicode" text: UTF-16 with its BOM
        try:
            return _split(data.decode("utf-16")), []
        except UnicodeDecodeError:
            raise ParseError("文件以UTF-16标记开头，但无法按UTF-16解码", 0, path) from None
    try:
        return _split(data.decode("utf-8-sig")), []
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        error = ParseError(f"文件不是UTF-8编码（第{exc.start}字节无法解码）", line, path)
    as_utf8 = data.decode("utf-8", errors="replace")
    if strict or len(_CJK.findall(as_utf8)) > as_utf8.count("\ufffd"):
        raise error from None  # strict, or mostly UTF-8 with damaged bytes: do not guess
    try:
        text = data.decode("gb18030")
    except UnicodeDecodeError:
        raise error from None
    return _split(text), [ParseWarning(0, "文件不是UTF-8编码，已按GBK（GB18030）解码")]


def _pdf_lines(data: bytes, path: str | None) -> list[str]:
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            reader.decrypt("")
        pages = [page.extract_text() or "" for page in reader.pages]
    except (PyPdfError, ValueError, KeyError, OSError) as exc:
        raise ParseError(f"无法读取PDF：{exc}", 0, path) from None
    if not "".join(pages).strip():
        raise ParseError(f"PDF没有文字层（共{len(pages)}页，可能是扫描件），请先做文字识别（OCR）后再读取", 0, path)
    return _drop_running_heads([_split(page) for page in pages])


def _drop_running_heads(pages: list[list[str]]) -> list[str]:
    """All lines in page order, with running headers/footers blanked (line numbers stay put).

    A running head is a line among the first or last two of a page that recurs, digits aside, on
    at least three pages and most of them; it would otherwise land inside a task broken by the page.
    """
    def key(line: str) -> str:
        return re.sub(r"\d+", "#", re.sub(r"\s+", "", line))

    counts: Counter[str] = Counter()
    for lines in pages:
        filled = [line for line in lines if line.strip()]
        counts.update({key(line) for line in filled[:2] + filled[-2:]})
    heads = {k for k, n in counts.items() if k and n >= 3 and n > len(pages) / 2}
    return ["" if key(line) in heads else line for lines in pages for line in lines]


def _docx_lines(data: bytes, path: str | None) -> Lines:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            is_docx = "word/document.xml" in archive.namelist()
    except zipfile.BadZipFile:
        raise ParseError("文件损坏：看起来是zip/docx但无法打开", 0, path) from None
    if not is_docx:
        raise ParseError("不支持的文件格式：zip压缩包中没有Word文档", 0, path)
    import docx
    from docx.table import Table

    try:
        document = docx.Document(io.BytesIO(data))
    except Exception as exc:  # python-docx raises assorted errors for broken parts
        raise ParseError(f"无法读取Word文档：{exc}", 0, path) from None
    lines: list[str] = []
    auto_numbered: list[int] = []
    for block in document.iter_inner_content():
        if isinstance(block, Table):
            lines.extend(_table_lines(block))
            continue
        text = block.text.replace("\n", " ").replace("\t", " ")
        if text.strip() and _auto_numbered(block):
            auto_numbered.append(len(lines) + 1)
        lines.append(text)
    warnings = []
    if auto_numbered:
        warnings.append(ParseWarning(auto_numbered[0], f"有{len(auto_numbered)}段使用Word自动编号，编号不在文字中，"
                                                       "这些段落按无编号文字处理"))
    return lines, warnings


def _auto_numbered(paragraph: object) -> bool:
    """Whether Word numbers this paragraph itself (list numbering on the paragraph or its style)."""
    ppr = paragraph._p.pPr  # type: ignore[attr-defined]
    if ppr is not None and ppr.numPr is not None:
        return True
    style = paragraph.style  # type: ignore[attr-defined]
    while style is not None:
        style_ppr = style.element.pPr
        if style_ppr is not None and style_ppr.numPr is not None:
            return True
        style = style.base_style
    return False


def _table_lines(table: object) -> list[str]:
    """One line per row; rows of a units table become task lines (see module docstring)."""
    rows: list[list[str]] = []
    for row in table.rows:  # type: ignore[attr-defined]
        cells: list[str] = []
        for cell in row.cells:
            text = clean(cell.text.replace("\n", "、"))
            if not cells or text != cells[-1]:  # a merged cell repeats
                cells.append(text)
        rows.append(cells)
    labels = vocabulary().labels
    header = next((i for i, cells in enumerate(rows) if any(c.rstrip("：:") in labels for c in cells)), None)
    if header is None:
        return [" ".join(c for c in cells if c) for cells in rows]
    columns = [c.rstrip("：:") for c in rows[header]]
    lines = [" ".join(cells) for cells in rows[: header + 1]]
    counter = 0
    for cells in rows[header + 1 :]:
        if len(cells) != len(columns):  # a heading row spanning the table, or an irregular row
            lines.append(" ".join(c for c in cells if c))
            continue
        number = next((c for h, c in zip(columns, cells, strict=True) if h in ("序号", "编号")), "")
        counter = int(number) if number.isdigit() else counter + 1
        text = "；".join(c for h, c in zip(columns, cells, strict=True) if c and h not in labels and h not in ("序号", "编号"))
        fields = "；".join(f"{h}：{c}" for h, c in zip(columns, cells, strict=True) if c and h in labels)
        lines.append(f"{counter}. {text}（{fields}）" if fields else f"{counter}. {text}")
    return lines

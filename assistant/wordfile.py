"""Word drafts: a .docx in, the same .docx out with 〔任务N〕 after each cited clause, plus the clause table.

Flow: bytes -> checks (size, zip, old .doc, Word package) -> python-docx ``Document`` -> its paragraphs
in reading order (body paragraphs, and the paragraphs of table cells, nested tables included, where the
table stands) -> their texts joined with "\\n" -> ONE call of the citer (``Assistant.cite``) -> each
clause's end mapped back to (paragraph, offset) -> the keys inserted there as a new run that copies the
formatting of the run holding the clause's last character (that run is split in two when the clause
ends inside it) -> bytes.

Only runs are split or added: every character already in a paragraph stays where it was, and paragraph
properties (styles, numbering), tables, headers, footers, images and the other parts of the package are
written back untouched.

The citer may clean the text before splitting it (``Assistant.cite`` strips markup and the outer
whitespace), so clause offsets point into ``DraftResult.draft``; that text is aligned back to the joined
paragraphs, and a leading empty paragraph or a literal ``<`` in the document cannot shift a key.

Not read, but kept as they are: headers, footers, footnotes, comments, text boxes, content controls and
text inside tracked insertions (python-docx's paragraph text leaves them out).
"""

from __future__ import annotations

import io
import zipfile
from bisect import bisect_right
from collections.abc import Callable, Iterator
from copy import deepcopy
from dataclasses import dataclass
from difflib import SequenceMatcher
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import InputError

if TYPE_CHECKING:
    from docx.document import Document as WordDocument
    from docx.text.paragraph import Paragraph

    from .drafts import ClauseCitation, DraftResult

Cite = Callable[[str], "DraftResult"]

MB = 1024 * 1024
MAX_BYTES = 20 * MB  # a larger .docx is refused before it is opened
MAX_UNPACKED_BYTES = 200 * MB  # ... and so is one whose parts unpack to more than this
WORD_SUFFIXES = (".docx", ".docm", ".dotx", ".doc")  # read as Word (the last three only to explain why not)
_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # Word 97-2003 .doc, and password-protected .docx

XLSX_HEADER = ("段落序号", "句子", "建议引用任务", "可信度", "可直接粘贴的引用")
NO_TASK = "无匹配任务（文件未涉及，不建议引用）"


def looks_like_word(path: str | Path) -> bool:
    """True for a file to read as a Word document: by its extension, else by its first bytes."""
    path = Path(path)
    if path.suffix.lower() in WORD_SUFFIXES:
        return True
    try:
        with path.open("rb") as stream:
            head = stream.read(8)
    except OSError:
        return False
    return head.startswith(_ZIP_MAGIC) or head == _OLE_MAGIC


# --- results -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PlacedClause:
    """A clause of the Word draft and where its keys go."""

    paragraph: int  # 1-based number among the document's non-empty paragraphs, in reading order
    offset: int  # position in that paragraph's text right after the clause
    clause: ClauseCitation

    @property
    def keys(self) -> str:
        return "".join(self.clause.keys)

    def row(self) -> list[str | int]:
        """One row of the clause table (see :data:`XLSX_HEADER`)."""
        c = self.clause
        return [self.paragraph, c.text, self.keys or NO_TASK, c.confidence, c.citation]


@dataclass(frozen=True)
class CitedWord:
    """A cited Word draft: the new .docx, the citer's result over the joined text, and each clause placed."""

    docx: bytes
    result: DraftResult
    clauses: tuple[PlacedClause, ...]

    @property
    def cited(self) -> tuple[PlacedClause, ...]:
        return tuple(c for c in self.clauses if c.clause.tasks)

    def to_dict(self) -> dict[str, object]:
        return {"clauses": [{"paragraph": c.paragraph, **c.clause.to_dict()} for c in self.clauses]}

    def to_xlsx(self) -> bytes:
        """The clause table as one sheet: header frozen, long texts wrapped."""
        from openpyxl import Workbook
        from openpyxl.styles import Alignment, Font

        workbook = Workbook()
        sheet = workbook.active
        sheet.title = "逐句引用"
        sheet.append(list(XLSX_HEADER))
        for clause in self.clauses:
            sheet.append(clause.row())
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        wrap = Alignment(wrap_text=True, vertical="top")
        for row in sheet.iter_rows(min_row=2):
            for cell in row:
                cell.alignment = wrap
        for column, width in zip("ABCDE", (10, 50, 18, 8, 60), strict=True):
            sheet.column_dimensions[column].width = width
        sheet.freeze_panes = "A2"
        buffer = io.BytesIO()
        workbook.save(buffer)
        return buffer.getvalue()


# --- reading -------------------------------------------------------------------------------------


class WordDraft:
    """A .docx read and checked: its paragraphs in reading order and their joined text."""

    def __init__(self, data: bytes, name: str = "") -> None:
        self.data = data
        self.name = name
        self.document = _open(data, name)
        self.paragraphs = paragraphs(self.document)
        self.text = "\n".join(p.text for p in self.paragraphs)
        if not any(c.isalnum() for c in self.text):
            raise InputError(f"{_subject(name)}中没有可分析的文字（正文和表格都是空的）。")

    @classmethod
    def open(cls, path: str | Path) -> WordDraft:
        path = Path(path)
        try:
            size = path.stat().st_size
            _check_size(size, path.name)
            data = path.read_bytes()
        except OSError as exc:
            raise InputError(f"无法读取文件 {path}：{exc.strerror}") from None
        return cls(data, path.name)

    def cite(self, cite: Cite, max_chars: int | None = None) -> CitedWord:
        """Cite all paragraphs in one call of ``cite`` and write the keys into a copy of the document."""
        if max_chars is not None and len(self.text) > max_chars:
            raise InputError(
                f"{_subject(self.name)}的文字太多（{len(self.text)}字）。一次最多处理{max_chars}字，请拆分文档后分别处理。"
            )
        result = cite(self.text)
        starts = [0]
        for p in self.paragraphs:
            starts.append(starts[-1] + len(p.text) + 1)
        numbers = _numbers(self.paragraphs)
        to_text = _aligner(result.draft, self.text)
        placed: list[tuple[int, PlacedClause]] = []
        for clause in result.clauses:
            end = to_text(clause.end)
            index = bisect_right(starts, end - 1) - 1
            offset = min(end - starts[index], len(self.paragraphs[index].text))
            placed.append((index, PlacedClause(numbers[index], offset, clause)))
        document = _open(self.data, self.name)  # a fresh copy: this draft can be cited again
        targets = paragraphs(document)
        for index, where in sorted(placed, key=lambda x: (x[0], -x[1].offset)):  # right to left per paragraph
            if where.keys:
                insert_after(targets[index], where.offset, where.keys)
        buffer = io.BytesIO()
        document.save(buffer)
        return CitedWord(buffer.getvalue(), result, tuple(where for _, where in placed))


def _subject(name: str) -> str:
    return f"文件“{name}”" if name else "该文件"


def _check_size(size: int, name: str) -> None:
    if size > MAX_BYTES:
        raise InputError(f"{_subject(name)}太大（{size / MB:.1f} MB）。一次最多处理 {MAX_BYTES // MB} MB 的 Word 文档。")


def _open(data: bytes, name: str) -> WordDocument:
    """The python-docx document, or :class:`InputError` saying in plain words why not."""
    import docx

    subject = _subject(name)
    if not data:
        raise InputError(f"{subject}是空的。")
    _check_size(len(data), name)
    if data.startswith(_OLE_MAGIC):
        raise InputError(
            f"{subject}是旧版 Word 97-2003（.doc）格式，或设有打开密码，无法读取。"
            "请在 Word 中“另存为”Word 文档（.docx，不设密码）后再试。"
        )
    if not data.startswith(_ZIP_MAGIC):
        raise InputError(f"{subject}不是 Word 文档（.docx）。请提供用 Word 或 WPS 保存的 .docx 文件。")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            infos = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError):
        raise InputError(f"{subject}已损坏，无法作为 Word 文档（.docx）打开。") from None
    if sum(info.file_size for info in infos) > MAX_UNPACKED_BYTES:
        raise InputError(f"{subject}解压后超过 {MAX_UNPACKED_BYTES // MB} MB，不予处理。")
    if "[Content_Types].xml" not in {info.filename for info in infos}:
        raise InputError(f"{subject}不是 Word 文档（.docx），而是别的压缩文件。")
    try:
        document = docx.Document(io.BytesIO(data))
    except ValueError as exc:  # python-docx: the package's main part is not a Word document
        kind = "启用宏的 Word 文档（.docm）或模板" if "macroEnabled" in str(exc) or "template" in str(exc) else "别的 Office 文件"
        raise InputError(f"{subject}是{kind}，不是 Word 文档（.docx）。请在 Word 中另存为 .docx 后再试。") from None
    except Exception:  # any other failure to parse the package is a damaged file, not a bug to show
        raise InputError(f"{subject}已损坏，无法作为 Word 文档（.docx）打开。") from None
    return document


def paragraphs(document: WordDocument) -> list[Paragraph]:
    """Body paragraphs and table-cell paragraphs (nested tables too), in reading order.

    Cells are walked by their ``w:tc`` elements: ``row.cells`` repeats a merged cell once per grid
    column it spans, and its paragraphs would be cited (and annotated) twice.
    """
    from docx.table import Table, _Cell
    from docx.text.paragraph import Paragraph

    out: list[Paragraph] = []

    def walk(items: Iterator[Paragraph | Table]) -> None:
        for item in items:
            if isinstance(item, Paragraph):
                out.append(item)
                continue
            for tr in item._tbl.tr_lst:
                for tc in tr.tc_lst:
                    walk(_Cell(tc, item).iter_inner_content())

    walk(document.iter_inner_content())
    return out


def _numbers(items: list[Paragraph]) -> list[int]:
    """Each paragraph's 1-based number among the non-empty ones (an empty one gets its predecessor's)."""
    out, n = [], 0
    for p in items:
        n += bool(p.text.strip())
        out.append(n)
    return out


def _aligner(draft: str, text: str) -> Callable[[int], int]:
    """Maps an end offset in ``draft`` (the text the citer analysed) to the same place in ``text``."""
    if draft == text:
        return lambda end: end
    shift = len(text) - len(text.lstrip())
    if text[shift : shift + len(draft)] == draft:  # only the outer whitespace was stripped
        return lambda end: end + shift
    blocks = SequenceMatcher(None, draft, text, autojunk=False).get_opcodes()
    firsts = [block[1] for block in blocks]

    def to_text(end: int) -> int:
        last = end - 1  # the clause's last character
        tag, i1, _, j1, j2 = blocks[bisect_right(firsts, last) - 1]
        return j1 + (last - i1) + 1 if tag == "equal" else j2

    return to_text


# --- writing -------------------------------------------------------------------------------------

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
# Run children with a text equivalent, exactly as python-docx's ``CT_R.text`` reads them.
_TEXT_TAGS = frozenset(_W + t for t in ("br", "cr", "noBreakHyphen", "ptab", "t", "tab"))
_XML_SPACE = "{http://www.w3.org/XML/1998/namespace}space"


def _length(child: Any) -> int:
    return len(str(child)) if child.tag in _TEXT_TAGS else 0


def _runs(p: Any) -> Iterator[tuple[Any, int, int]]:
    """Each ``w:r`` of a paragraph (inside hyperlinks too) with its [start, end) in the paragraph text."""
    at = 0
    for item in p.xpath("w:r | w:hyperlink"):
        for r in [item] if item.tag == _W + "r" else item.xpath("w:r"):
            n = sum(_length(child) for child in r)
            yield r, at, at + n
            at += n


def insert_after(paragraph: Paragraph, offset: int, keys: str) -> None:
    """Insert ``keys`` at ``offset`` of the paragraph's text as a new run formatted like the run before it."""
    before = paragraph.text
    if not 0 < offset <= len(before):
        raise ValueError(f"offset {offset} outside paragraph of {len(before)} characters")
    run, start, end = next((r, s, e) for r, s, e in _runs(paragraph._p) if s < offset <= e)
    if offset < end:
        _split(run, offset - start)
    anchor = run
    parent = run.getparent()
    if parent.tag == _W + "hyperlink" and all(
        sum(_length(c) for c in r) == 0 for r in run.itersiblings(_W + "r")
    ):  # the clause ends with the link's text: the keys go after the link, not into it
        anchor = parent
    anchor.addnext(_key_run(run, keys))
    if paragraph.text != before[:offset] + keys + before[offset:]:
        raise RuntimeError(f"inserting {keys} changed the paragraph's text: {paragraph.text!r}")


def _split(run: Any, at: int) -> None:
    """Split ``run`` after its ``at``-th character: ``run`` keeps the first part, a copy after it the rest."""
    rest = deepcopy(run)
    _keep(run, at, first=True)
    _keep(rest, at, first=False)
    run.addnext(rest)


def _keep(run: Any, cut: int, *, first: bool) -> None:
    """Remove the content of ``run`` after (``first``) or up to character ``cut``; formatting stays.

    An element without text (a drawing, a field character) sitting exactly at ``cut`` stays in the
    first part, as it does when a clause ends at the end of a run.
    """
    at = 0
    for child in list(run):
        if child.tag == _W + "rPr":
            continue
        n = _length(child)
        start, at = at, at + n
        if n == 0:
            if (start > cut) == first:
                run.remove(child)
        elif at <= cut:
            if not first:
                run.remove(child)
        elif start >= cut:
            if first:
                run.remove(child)
        else:  # a w:t straddling the cut (every other text element is one character)
            child.text = child.text[: cut - start] if first else child.text[cut - start :]
            child.set(_XML_SPACE, "preserve")


def _key_run(after: Any, keys: str) -> Any:
    """A new ``w:r`` holding ``keys`` with the character formatting of ``after``."""
    from docx.oxml import OxmlElement

    run = OxmlElement("w:r")
    properties = after.find(_W + "rPr")
    if properties is not None:
        properties = deepcopy(properties)
        for change in properties.findall(_W + "rPrChange"):  # not a tracked formatting change of its own
            properties.remove(change)
        run.append(properties)
    text = OxmlElement("w:t")
    text.text = keys
    run.append(text)
    return run

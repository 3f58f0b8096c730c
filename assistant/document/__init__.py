"""Task-division plans as data: :class:`Document` -> :class:`Part` -> :class:`Section` -> :class:`Task`.

:func:`parse` turns document text (or a .txt/.docx/PDF file's bytes) into a :class:`Document`;
:func:`load` reads a file. Problems become :class:`ParseWarning`\\ s with their line, or with
``strict=True`` a :class:`~assistant.errors.ParseError` naming the line.

    model.py      the records (Document, Part, Section, Task, Paragraph, ParseWarning), numerals
    readers.py    file bytes -> lines (.txt UTF-8/GBK, .docx, PDF text layer)
    outline.py    numbering styles: which lines are parts, sections, task items
    unit_tail.py  units brackets: units in order, leads, scope (words in data/genre.toml)
    metadata.py   title, 文号, issuer, date
    parser.py     parse/load: lines -> Document, context and warnings
"""

from ..errors import ParseError
from .model import NUMERALS, Document, Paragraph, ParseWarning, Part, Section, Task, int_to_numeral, numeral_to_int
from .parser import load, parse

__all__ = [
    "NUMERALS",
    "Document",
    "Paragraph",
    "ParseError",
    "ParseWarning",
    "Part",
    "Section",
    "Task",
    "int_to_numeral",
    "load",
    "numeral_to_int",
    "parse",
]

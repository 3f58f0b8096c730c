"""The work plan as data: ``Part`` -> ``Section`` -> ``Task``, parsed from the document text.

:func:`parse` turns document text into a :class:`Document`; :func:`load` reads a file.
A malformed document raises :class:`~assistant.errors.ParseError` naming the line.
"""

from ..errors import ParseError
from .model import NUMERALS, Document, Part, Section, Task, int_to_numeral, numeral_to_int
from .outline import load, parse

__all__ = [
    "NUMERALS",
    "Document",
    "ParseError",
    "Part",
    "Section",
    "Task",
    "int_to_numeral",
    "load",
    "numeral_to_int",
    "parse",
]

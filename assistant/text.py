"""Text normalisation: one place for how OCR text becomes clean Chinese text.

Two forms:

* :func:`clean` gives the *display* form used for task texts and unit names: the document's
  own Chinese typography (full-width ，：；（）), ASCII digits and letters, and no OCR spaces
  (``到 2025 年底`` -> ``到2025年底``). Spaces survive only between two ASCII letters/digits.
* :func:`fold` gives the *matching* form used by search and name resolution on both sides
  (task texts and questions): NFKC, lower case, no whitespace at all.
"""

from __future__ import annotations

import re
import threading
import unicodedata

# Half-width punctuation that OCR substitutes for the full-width marks of Chinese text.
_TO_FULL = str.maketrans({",": "，", ":": "：", ";": "；", "(": "（", ")": "）", "!": "！", "?": "？"})
# Full-width letters, digits and a few symbols that Chinese typesetting writes half-width.
_TO_HALF = {chr(c): chr(c - 0xFEE0) for c in range(0xFF10, 0xFF1A)}
_TO_HALF.update({chr(c): chr(c - 0xFEE0) for c in range(0xFF21, 0xFF3B)})
_TO_HALF.update({chr(c): chr(c - 0xFEE0) for c in range(0xFF41, 0xFF5B)})
_TO_HALF.update({"％": "%", "／": "/", "＋": "+", "\u3000": " ", "\xa0": " "})
_TO_HALF_TABLE = str.maketrans(_TO_HALF)

_ASCII_WORD = re.compile(r"[A-Za-z0-9]")
_SPACES = re.compile(r"\s+")


def _drop_ocr_spaces(text: str) -> str:
    """Remove whitespace runs except a single space between two ASCII letters/digits."""

    def keep(match: re.Match[str]) -> str:
        start, end = match.start(), match.end()
        before = text[start - 1] if start else ""
        after = text[end] if end < len(text) else ""
        return " " if _ASCII_WORD.match(before or " ") and _ASCII_WORD.match(after or " ") else ""

    return _SPACES.sub(keep, text)


def clean(text: str) -> str:
    """Display form of OCR'd Chinese text (see module docstring)."""
    text = text.translate(_TO_HALF_TABLE).translate(_TO_FULL)
    return _drop_ocr_spaces(text).strip()


def fold(text: str) -> str:
    """Matching form: NFKC, lower case, whitespace removed."""
    return _SPACES.sub("", unicodedata.normalize("NFKC", text)).lower()


_t2s = None
_t2s_lock = threading.Lock()


def simplified(text: str) -> str:
    """Traditional Chinese converted to simplified with OpenCC (``t2s``, dictionaries bundled in the wheel):
    誰負責海綿城市建設 -> 谁负责海绵城市建设. Simplified text and ASCII come back unchanged."""
    global _t2s
    if not any("\u4e00" <= c <= "\u9fff" for c in text):
        return text
    with _t2s_lock:  # one converter per process; OpenCC objects are not documented as thread-safe
        if _t2s is None:
            import opencc

            _t2s = opencc.OpenCC("t2s")
        return str(_t2s.convert(text))

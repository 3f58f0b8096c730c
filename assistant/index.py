"""The persistent vector index: one Chroma record per task, built through llama-index.

Records
    one per :class:`~assistant.views.Passage` of a task (its text, its sub-points, its everyday views):
    id ``task-<key>`` (``task-32``, ``task-32-c2``, ``task-32-v5``); document = the passage text;
    metadata ``n``, ``kind``, ``part``/``part_no``, ``section``/``section_no``, ``units``, ``lead_unit``.
    Vectors always come from our :class:`~assistant.embedding.Embedder` and are passed explicitly
    (``TextNode.embedding`` -> ``ChromaVectorStore.add``); no llama-index global ``Settings`` and never
    Chroma's default embedding function (it would try to download an ONNX model). Cosine space.

List metadata (a deliberate choice)
    llama-index's ``ChromaVectorStore`` rejects list metadata, so ``units`` is stored as one string
    joined with ``、`` (filterable with llama-index's ``==``/``in`` only on ``lead_unit``). The exact
    unit lists live in the parsed :class:`~assistant.document.Document`, which every caller has and
    which the manifest pins by sha256; who-is-responsible questions are answered from it, not from
    Chroma metadata.

Local layout (``settings.index_dir``)::

    manifest.json            identity of the live index, the name of its store folder, sha256 of vectors.npy
    store-<identity>-<rand>/ a Chroma PersistentClient folder (the source of truth for vectors),
                             plus vectors.npy: the same vectors in task order, read back and verified
                             from Chroma at build time
    embeddings-cache/        passage vectors keyed by embedder id + sha256(text), reused on rebuild

Atomic rebuild: a new store is built aside in a fresh folder that no manifest names yet; only when
it is complete and verified is ``manifest.json`` replaced (``os.replace``, atomic) to point at it.
A crash mid-build therefore leaves the previous manifest and store untouched and usable; leftover
folders are removed by the next successful build.

Server mode (``settings.chroma_url``): there is no manifest file, so the collection name encodes the
identity (``tasks-<identity>``) and the manifest is also kept in the collection metadata. A rebuild
goes into ``tasks-<identity>-building-<rand>`` and is renamed when complete.

On open (local mode), the Chroma sqlite file is checked with the standard library (``PRAGMA
quick_check`` and one record per task) and the vectors come from ``vectors.npy`` (sha256 in the
manifest), so a question is answered without importing chromadb (~1.7 s of start-up); the Chroma client
opens on first use of ``TaskIndex.collection``. A missing/mismatched manifest, unreadable or incomplete
files are reported through ``progress`` and rebuilt.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import uuid
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import numpy as np

from .corpus import Plans
from .document import Task
from .embedding import Embedder
from .errors import IndexStateError
from .lexical import task_text
from .settings import Settings
from .views import Passage, fingerprint, passages

SCHEMA_VERSION = 3  # 2: vectors.npy beside each store, pinned by the manifest; 3: several passages per task
MANIFEST = "manifest.json"
VECTORS = "vectors.npy"
CACHE_DIR = "embeddings-cache"
BATCH = 32

Progress = Callable[[str], None]

__all__ = ["SCHEMA_VERSION", "EmbeddingCache", "Manifest", "TaskIndex", "open_index", "task_text"]


def _quiet(_: str) -> None:
    pass


@dataclass(frozen=True)
class Manifest:
    """What a built index was built from; any difference means the index is stale."""

    corpus_sha256: str
    embedder_id: str
    dim: int
    schema: int
    count: int
    passages_sha256: str = ""  # every indexed passage (task texts, sub-points, everyday views)
    store: str = ""  # local mode: the store folder this manifest points at
    vectors_sha256: str = ""  # local mode: sha256 of the store's vectors.npy (the fast open path)

    @property
    def identity(self) -> str:
        key = f"{self.schema}|{self.corpus_sha256}|{self.embedder_id}|{self.dim}|{self.count}|{self.passages_sha256}"
        return hashlib.sha256(key.encode()).hexdigest()[:12]

    def differences(self, other: Manifest) -> list[str]:
        """Human-readable reasons why ``self`` (on disk) is not ``other`` (wanted)."""
        labels = {
            "schema": "索引格式版本",
            "corpus_sha256": "文档内容",
            "embedder_id": "嵌入模型",
            "dim": "向量维度",
            "count": "索引条数",
            "passages_sha256": "任务说法（views）",
        }
        out = []
        for field, label in labels.items():
            old, new = getattr(self, field), getattr(other, field)
            if old != new:
                shown = (str(old)[:12], str(new)[:12]) if field.endswith("sha256") else (old, new)
                out.append(f"{label}由 {shown[0]} 变为 {shown[1]}")
        return out

    def to_metadata(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if k not in ("store", "vectors_sha256")}


def wanted_manifest(document: Plans, embedder: Embedder, items: Sequence[Passage]) -> Manifest:
    return Manifest(document.sha256, embedder.id, int(embedder.dim), SCHEMA_VERSION, len(items), fingerprint(list(items)))


# --- embedding cache -----------------------------------------------------------------------


class EmbeddingCache:
    """Passage vectors on disk, keyed by embedder id + sha256 of the passage text."""

    def __init__(self, folder: Path, embedder_id: str) -> None:
        slug = hashlib.sha256(embedder_id.encode()).hexdigest()[:16]
        self.path = Path(folder) / f"{slug}.npz"
        self.embedder_id = embedder_id
        self._vectors: dict[str, np.ndarray] = {}
        self._load()

    def _load(self) -> None:
        try:
            with np.load(self.path, allow_pickle=False) as data:
                if str(data["embedder_id"]) != self.embedder_id:
                    return
                self._vectors = dict(zip(data["keys"].tolist(), data["vectors"], strict=True))
        except Exception:  # missing or unreadable cache: start empty
            self._vectors = {}

    @staticmethod
    def key(text: str) -> str:
        return hashlib.sha256(text.encode("utf-8")).hexdigest()

    def embed(self, embedder: Embedder, texts: Sequence[str], progress: Progress = _quiet) -> np.ndarray:
        """Vectors for ``texts``: cached ones reused, the rest embedded and saved."""
        keys = [self.key(t) for t in texts]
        missing = [i for i, k in enumerate(keys) if k not in self._vectors]
        if missing:
            progress(f"正在计算 {len(missing)} 条文本的向量（{len(texts) - len(missing)} 条取自缓存）…")
            vectors = embedder.embed_passages([texts[i] for i in missing])
            for i, vector in zip(missing, vectors, strict=True):
                self._vectors[keys[i]] = np.asarray(vector, dtype=np.float32)
            self._save()
        else:
            progress(f"全部 {len(texts)} 条文本的向量取自缓存")
        return np.stack([self._vectors[k] for k in keys]).astype(np.float32)

    def _save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(f".{self.path.stem}-{uuid.uuid4().hex[:8]}.npz")
        keys = list(self._vectors)
        np.savez(
            tmp,
            embedder_id=np.array(self.embedder_id),
            keys=np.array(keys),
            vectors=np.stack([self._vectors[k] for k in keys]),
        )
        os.replace(tmp, self.path)


# --- Chroma plumbing -----------------------------------------------------------------------


def _chroma_settings():
    from chromadb.config import Settings as ChromaSettings

    return ChromaSettings(anonymized_telemetry=False, allow_reset=False)


def _persistent_client(path: Path):
    import chromadb

    return chromadb.PersistentClient(path=str(path), settings=_chroma_settings())


def _http_client(url: str):
    import chromadb

    parsed = urlparse(url if "://" in url else f"http://{url}")
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise IndexStateError(f"Chroma 服务器地址无效：{url}（应形如 http://127.0.0.1:8000）")
    port = parsed.port or (443 if parsed.scheme == "https" else 8000)
    try:
        client = chromadb.HttpClient(
            host=parsed.hostname, port=port, ssl=parsed.scheme == "https", settings=_chroma_settings()
        )
        client.heartbeat()
    except Exception as exc:
        raise IndexStateError(f"无法连接 Chroma 服务器 {url}：{exc}") from exc
    return client


def _release(path: Path) -> None:
    """Drop chromadb's cached in-process system for ``path`` so its files can be removed."""
    try:
        from chromadb.api.shared_system_client import SharedSystemClient

        system = SharedSystemClient._identifier_to_system.pop(str(path), None)
        if system is not None:
            system.stop()
    except Exception:  # best effort: only file handles are at stake
        pass


def _metadata(task: Task, kind: str) -> dict[str, Any]:
    return {
        "n": task.n,
        "uid": task.uid,
        "document": task.doc,
        "kind": kind,
        "part": task.part.label if task.part else "",
        "part_no": task.part.no if task.part else 0,
        "section": task.section.label if task.section else "",
        "section_no": task.section.no if task.section else 0,
        "units": "、".join(task.units),  # llama-index's store rejects lists; see module docstring
        "lead_unit": task.lead_unit,
    }


def _add_batch(store: Any, nodes: list[Any]) -> None:
    """One write to the store (a seam for crash tests)."""
    store.add(nodes)


def _fill(collection: Any, document: Plans, items: Sequence[Passage], vectors: np.ndarray) -> None:
    """Write every passage through llama-index's ChromaVectorStore, vectors passed explicitly."""
    from llama_index.core.schema import TextNode
    from llama_index.vector_stores.chroma import ChromaVectorStore

    store = ChromaVectorStore(chroma_collection=collection)
    nodes = [
        TextNode(id_=f"task-{p.key}", text=p.text, metadata=_metadata(_task(document, p), p.kind),
                 embedding=[float(x) for x in vector])
        for p, vector in zip(items, vectors, strict=True)
    ]
    for start in range(0, len(nodes), BATCH):
        _add_batch(store, nodes[start : start + BATCH])


def _task(document: Plans, passage: Passage) -> Task:
    task = document.task(passage.task)
    if task is None:  # pragma: no cover - passages come from the document
        raise IndexStateError(f"索引条目 {passage.key} 指向不存在的任务")
    return task


def _create_collection(client: Any, name: str, manifest: Manifest) -> Any:
    return client.create_collection(
        name,
        configuration={"hnsw": {"space": "cosine"}},
        metadata=manifest.to_metadata(),
        embedding_function=None,
    )


# --- the index -----------------------------------------------------------------------------


class TaskIndex:
    """A verified, open index: the Chroma collection plus its vectors as a matrix in passage order.

    ``matrix`` has one row per passage (``passages``), grouped by task in document order; ``starts``
    holds the first row of each task (for per-task maxima with ``np.maximum.reduceat``) and ``owner``
    the task position of each row.

    Built or opened through Chroma, the matrix is read back from the collection and checked. Opened
    through the fast path (:func:`_open_fast`), the matrix comes from the store's checksummed
    ``vectors.npy`` and the Chroma client is opened only when ``collection`` is first used, so answering
    a question never imports chromadb.
    """

    def __init__(self, manifest: Manifest, collection: Any, document: Plans, items: Sequence[Passage],
                 client: Any = None, matrix: np.ndarray | None = None, store: Path | None = None) -> None:
        self.manifest = manifest
        self._collection = collection
        self._client = client  # keeps an HTTP/persistent client alive
        self._store = store
        self.tasks = document.tasks
        self.passages = tuple(items)
        position = {t.uid: i for i, t in enumerate(document.tasks)}
        self.owner = np.array([position[p.task] for p in self.passages], dtype=np.int64)
        if len(self.owner) and (np.any(np.diff(self.owner) < 0) or len(set(self.owner.tolist())) != len(self.tasks)):
            raise IndexStateError("索引条目应按任务顺序排列，且每项任务至少一条")
        self.starts = np.flatnonzero(np.r_[True, np.diff(self.owner) != 0]) if len(self.owner) else self.owner
        self.matrix = matrix if matrix is not None else self._load_matrix()

    def task_scores(self, rows: np.ndarray) -> np.ndarray:
        """Per-task maxima of per-passage scores (last axis: passages -> tasks)."""
        return np.maximum.reduceat(rows, self.starts, axis=-1)

    @property
    def collection(self) -> Any:
        if self._collection is None:
            if self._store is None:  # pragma: no cover - every lazy index has a store
                raise IndexStateError("索引没有关联的 Chroma 存储")
            self._client = _persistent_client(self._store)
            self._collection = self._client.get_collection("tasks")
        return self._collection

    def _load_matrix(self) -> np.ndarray:
        """Read every vector back from Chroma and check it against the manifest (raises on mismatch)."""
        got = self.collection.get(include=["embeddings"])
        ids = list(got["ids"])
        wanted = [f"task-{p.key}" for p in self.passages]
        if sorted(ids) != sorted(wanted):
            raise ValueError(f"记录数 {len(ids)} 与索引条数 {len(wanted)} 不符或编号不一致")
        embeddings = np.asarray(got["embeddings"], dtype=np.float32)
        if embeddings.shape != (len(wanted), self.manifest.dim) or not np.isfinite(embeddings).all():
            raise ValueError(f"向量形状 {embeddings.shape} 与清单不符")
        position = {id_: i for i, id_ in enumerate(ids)}
        return np.ascontiguousarray(embeddings[[position[w] for w in wanted]])

    def query_chroma(self, vector: np.ndarray, k: int) -> list[tuple[int, float]]:
        """Top ``k`` (task id, cosine of its best passage) straight from Chroma's HNSW index."""
        result = self.collection.query(
            query_embeddings=[np.asarray(vector, dtype=np.float32)],
            n_results=min(len(self.passages), max(k * 20, 50)),
            include=["distances", "metadatas"],
        )
        best: dict[int, float] = {}
        for meta, d in zip(result["metadatas"][0], result["distances"][0], strict=True):
            uid = int(meta.get("uid", meta["n"]))
            best[uid] = max(best.get(uid, -1.0), 1.0 - float(d))
        return sorted(best.items(), key=lambda kv: -kv[1])[:k]


def open_index(
    settings: Settings,
    document: Plans,
    embedder: Embedder,
    progress: Progress | None = None,
    rebuild: bool = False,
    items: Sequence[Passage] | None = None,
) -> TaskIndex:
    """Open the index of ``items`` (default: the document's own passages, no views) + ``embedder``;
    build or rebuild it when needed."""
    progress = progress or _quiet
    items = list(items) if items is not None else passages(document)
    wanted = wanted_manifest(document, embedder, items)
    if settings.chroma_url:
        return _open_server(settings, document, embedder, items, wanted, progress, rebuild)
    cache = Path(settings.embedding_cache) if settings.embedding_cache else Path(settings.index_dir) / CACHE_DIR
    return _open_local(Path(settings.index_dir), document, embedder, items, wanted, progress, rebuild, cache)


def _read_manifest(index_dir: Path) -> Manifest:
    path = index_dir / MANIFEST
    raw = json.loads(path.read_text(encoding="utf-8"))
    manifest = Manifest(
        corpus_sha256=str(raw["corpus_sha256"]),
        embedder_id=str(raw["embedder_id"]),
        dim=int(raw["dim"]),
        schema=int(raw["schema"]),
        count=int(raw["count"]),
        passages_sha256=str(raw.get("passages_sha256", "")),
        store=str(raw["store"]),
        vectors_sha256=str(raw.get("vectors_sha256", "")),
    )
    if not manifest.store.startswith("store-") or "/" in manifest.store:
        raise ValueError(f"store 字段无效：{manifest.store!r}")
    return manifest


def _open_local(
    index_dir: Path, document: Plans, embedder: Embedder, items: list[Passage], wanted: Manifest, progress: Progress,
    rebuild: bool, cache: Path | None = None,
) -> TaskIndex:
    if rebuild:
        progress("按要求重建索引…")
        return _build_local(index_dir, document, embedder, items, wanted, progress, cache)
    try:
        current = _read_manifest(index_dir)
    except FileNotFoundError:
        progress(f"还没有索引（{index_dir}），正在构建…")
        return _build_local(index_dir, document, embedder, items, wanted, progress, cache)
    except Exception as exc:
        progress(f"索引清单 {index_dir / MANIFEST} 已损坏（{exc}），正在重建…")
        return _build_local(index_dir, document, embedder, items, wanted, progress, cache)
    reasons = current.differences(wanted)
    if reasons:
        progress(f"索引已过期（{'；'.join(reasons)}），正在重建…")
        return _build_local(index_dir, document, embedder, items, wanted, progress, cache)
    store = index_dir / current.store
    try:
        return _open_fast(store, current, document, items)
    except Exception as exc:
        _release(store)
        progress(f"索引文件已损坏或不完整（{_short(exc)}），正在重建…")
        return _build_local(index_dir, document, embedder, items, wanted, progress, cache)


def _open_fast(store: Path, manifest: Manifest, document: Plans, items: list[Passage]) -> TaskIndex:
    """Open without chromadb: check the Chroma sqlite file (integrity and one record per passage) with the
    standard library, load ``vectors.npy`` and check it against the manifest's sha256 and shape."""
    import sqlite3

    database = store / "chroma.sqlite3"
    if not database.is_file():
        raise FileNotFoundError(f"缺少 {database}")
    connection = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    try:
        if connection.execute("PRAGMA quick_check").fetchone()[0] != "ok":
            raise ValueError("chroma.sqlite3 完整性检查未通过")
        ids = {row[0] for row in connection.execute("SELECT embedding_id FROM embeddings")}
    except sqlite3.DatabaseError as exc:
        raise ValueError(f"chroma.sqlite3 无法读取：{exc}") from exc
    finally:
        connection.close()
    if ids != {f"task-{p.key}" for p in items}:
        raise ValueError(f"记录数 {len(ids)} 与索引条数 {len(items)} 不符或编号不一致")
    path = store / VECTORS
    data = path.read_bytes()
    if hashlib.sha256(data).hexdigest() != manifest.vectors_sha256:
        raise ValueError(f"{VECTORS} 与清单中的校验和不符")
    matrix = np.load(path, allow_pickle=False)
    if matrix.shape != (manifest.count, manifest.dim) or not np.isfinite(matrix).all():
        raise ValueError(f"{VECTORS} 形状 {matrix.shape} 与清单不符")
    return TaskIndex(manifest, None, document, items, matrix=np.ascontiguousarray(matrix, dtype=np.float32), store=store)


def _save_vectors(store: Path, matrix: np.ndarray) -> str:
    path = store / VECTORS
    np.save(path, np.ascontiguousarray(matrix, dtype=np.float32), allow_pickle=False)
    with open(path, "rb") as handle:
        os.fsync(handle.fileno())
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:200]


def _build_local(
    index_dir: Path, document: Plans, embedder: Embedder, items: list[Passage], wanted: Manifest, progress: Progress,
    cache: Path | None = None,
) -> TaskIndex:
    index_dir.mkdir(parents=True, exist_ok=True)
    vectors = EmbeddingCache(cache or index_dir / CACHE_DIR, embedder.id).embed(embedder, [p.text for p in items], progress)
    name = f"store-{wanted.identity}-{uuid.uuid4().hex[:8]}"
    store = index_dir / name
    progress(f"正在写入 Chroma（{len(document.tasks)} 项任务，{len(items)} 条索引文本）…")
    try:
        client = _persistent_client(store)
        collection = _create_collection(client, "tasks", wanted)
        _fill(collection, document, items, vectors)
        index = TaskIndex(wanted, collection, document, items, client)  # reads back and verifies what was written
        manifest = Manifest(**{**asdict(wanted), "store": name, "vectors_sha256": _save_vectors(store, index.matrix)})
        index.manifest = manifest
    except BaseException:
        _release(store)
        shutil.rmtree(store, ignore_errors=True)
        raise
    _write_manifest(index_dir, manifest)  # the atomic swap
    _remove_other_stores(index_dir, keep=name)
    progress(f"索引已就绪：{len(document.tasks)} 项任务（{len(items)} 条索引文本），嵌入模型 {embedder.id}，维度 {embedder.dim}")
    return index


def _write_manifest(index_dir: Path, manifest: Manifest) -> None:
    tmp = index_dir / f".{MANIFEST}.{uuid.uuid4().hex[:8]}"
    tmp.write_text(json.dumps(asdict(manifest), ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    with open(tmp, "rb") as handle:
        os.fsync(handle.fileno())
    os.replace(tmp, index_dir / MANIFEST)


def _remove_other_stores(index_dir: Path, keep: str) -> None:
    for path in index_dir.glob("store-*"):
        if path.name != keep and path.is_dir():
            _release(path)
            shutil.rmtree(path, ignore_errors=True)


# --- server mode ---------------------------------------------------------------------------


def _open_server(
    settings: Settings,
    document: Plans,
    embedder: Embedder,
    items: list[Passage],
    wanted: Manifest,
    progress: Progress,
    rebuild: bool,
) -> TaskIndex:
    client = _http_client(settings.chroma_url)
    name = f"tasks-{wanted.identity}"
    if not rebuild:
        try:
            collection = client.get_collection(name)
        except Exception:
            progress(f"Chroma 服务器上还没有集合 {name}，正在构建…")
        else:
            try:
                stored = Manifest(**{**wanted.to_metadata(), **_manifest_fields(collection.metadata)})
                if stored.differences(wanted):
                    raise ValueError("；".join(stored.differences(wanted)))
                return TaskIndex(wanted, collection, document, items, client)
            except Exception as exc:
                progress(f"服务器上的集合 {name} 不完整或已损坏（{_short(exc)}），正在重建…")
    else:
        progress("按要求重建索引…")
    texts = [p.text for p in items]
    cache = Path(settings.embedding_cache) if settings.embedding_cache else Path(settings.index_dir) / CACHE_DIR
    vectors = EmbeddingCache(cache, embedder.id).embed(embedder, texts, progress)
    temp = f"{name}-building-{uuid.uuid4().hex[:8]}"
    progress(f"正在写入 Chroma 服务器 {settings.chroma_url}（{len(texts)} 条索引文本）…")
    collection = _create_collection(client, temp, wanted)
    try:
        _fill(collection, document, items, vectors)
        TaskIndex(wanted, collection, document, items, client)  # verify before the swap
        with contextlib.suppress(Exception):  # nothing to replace on a first build
            client.delete_collection(name)
        collection.modify(name=name)
    except BaseException:
        with contextlib.suppress(Exception):
            client.delete_collection(temp)
        raise
    index = TaskIndex(wanted, client.get_collection(name), document, items, client)
    progress(f"索引已就绪：{len(texts)} 条索引文本，集合 {name}")
    return index


def _manifest_fields(metadata: dict[str, Any] | None) -> dict[str, Any]:
    metadata = metadata or {}
    keys = ("corpus_sha256", "embedder_id", "dim", "schema", "count", "passages_sha256")
    return {k: metadata[k] for k in keys if k in metadata}

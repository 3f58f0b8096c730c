"""The persistent Chroma index: build, reload, staleness, crash safety, corruption, cache (real Chroma)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import assistant.index as index_module
from assistant.document import load, parse
from assistant.embedding import HashEmbedder
from assistant.index import MANIFEST, SCHEMA_VERSION, open_index, task_text
from assistant.settings import REFERENCE_PLAN, Settings
from assistant.views import passages


class CountingEmbedder(HashEmbedder):
    """HashEmbedder that counts the passages it is asked to embed."""

    def __init__(self, dim: int = 64) -> None:
        super().__init__(dim)
        self.passages = 0

    def embed_passages(self, texts):
        self.passages += len(texts)
        return super().embed_passages(texts)


@pytest.fixture(scope="module")
def document():
    return load(REFERENCE_PLAN)


RECORDS = len(passages(load(REFERENCE_PLAN)))  # one per passage: each task's text and its sub-points (no views here)


@pytest.fixture
def settings(tmp_path):
    return Settings(index_dir=tmp_path / "index")


def _open(settings, document, embedder, **kwargs):
    messages: list[str] = []
    index = open_index(settings, document, embedder, progress=messages.append, **kwargs)
    return index, messages


def _store(settings) -> Path:
    manifest = json.loads((settings.index_dir / MANIFEST).read_text(encoding="utf-8"))
    return settings.index_dir / manifest["store"]


def test_build_writes_one_record_per_task_with_manifest(settings, document):
    embedder = CountingEmbedder()
    index, messages = _open(settings, document, embedder)
    assert any("还没有索引" in m for m in messages)
    manifest = json.loads((settings.index_dir / MANIFEST).read_text(encoding="utf-8"))
    assert manifest["corpus_sha256"] == document.sha256
    assert manifest["embedder_id"] == "hash-64"
    assert manifest["dim"] == 64 and manifest["count"] == RECORDS and manifest["schema"] == SCHEMA_VERSION
    got = index.collection.get(ids=["task-32"], include=["documents", "metadatas"])
    task = document.task(32)
    assert got["documents"][0] == task_text(task)
    assert "责任单位：市住房城乡建设管理委、市水务局" in got["documents"][0]
    meta = got["metadatas"][0]
    assert meta["n"] == 32 and meta["section_no"] == task.section.no and meta["part_no"] == task.part.no
    assert meta["units"] == "、".join(task.units) and meta["lead_unit"] == task.lead_unit
    assert index.collection.configuration["hnsw"]["space"] == "cosine"
    assert index.collection.count() == RECORDS
    # The matrix read back from Chroma is in passage order (grouped by task) and equals the embedder's vectors.
    items = passages(document)
    assert [p.task for p in items] == sorted(p.task for p in items) and items[0].text == task_text(document.task(1))
    expected = embedder.embed_passages([p.text for p in items])
    assert np.allclose(index.matrix, expected, atol=1e-6)
    # Chroma's own HNSW query agrees with the in-memory matrix (a task scores by its best passage).
    tenth = next(i for i, p in enumerate(items) if p.key == "10")
    top = index.query_chroma(expected[tenth], 3)
    assert top[0][0] == 10 and top[0][1] == pytest.approx(1.0, abs=1e-4)
    assert index.task_scores(expected[tenth] @ index.matrix.T).shape == (85,)


def test_reload_does_not_rebuild_or_embed(settings, document):
    _open(settings, document, CountingEmbedder())
    embedder = CountingEmbedder()
    index, messages = _open(settings, document, embedder)
    assert messages == []
    assert embedder.passages == 0
    assert index.matrix.shape == (RECORDS, 64)


def test_embedder_change_rebuilds_with_message(settings, document):
    _open(settings, document, CountingEmbedder(64))
    old_store = _store(settings)
    index, messages = _open(settings, document, CountingEmbedder(32))
    assert any("已过期" in m and "嵌入模型" in m for m in messages)
    assert index.manifest.dim == 32 and index.matrix.shape == (RECORDS, 32)
    assert not old_store.exists()  # the replaced store is cleaned up


def test_corpus_change_rebuilds_and_reuses_cached_vectors(settings, document):
    _open(settings, document, CountingEmbedder())
    source = REFERENCE_PLAN.read_text(encoding="utf-8")
    changed = parse(source.replace("探索推动灵活就业人员参加住房公积金制度", "推动灵活就业人员参加住房公积金制度"))
    assert changed.sha256 != document.sha256
    embedder = CountingEmbedder()
    index, messages = _open(settings, changed, embedder)
    assert any("文档内容" in m for m in messages)
    assert embedder.passages == 1  # only the edited task is embedded again
    assert "探索推动" not in index.collection.get(ids=["task-19"], include=["documents"])["documents"][0]


def test_forced_rebuild_uses_the_embedding_cache(settings, document):
    _open(settings, document, CountingEmbedder())
    embedder = CountingEmbedder()
    _, messages = _open(settings, document, embedder, rebuild=True)
    assert embedder.passages == 0
    assert any("取自缓存" in m for m in messages)


def test_exception_mid_build_leaves_previous_index_usable(settings, document, monkeypatch):
    first, _ = _open(settings, document, CountingEmbedder())
    old_manifest = (settings.index_dir / MANIFEST).read_text(encoding="utf-8")
    calls = {"n": 0}
    real_add = index_module._add_batch

    def failing_add(store, nodes):
        calls["n"] += 1
        real_add(store, nodes)  # some records really are written first
        if calls["n"] == 2:
            raise RuntimeError("simulated crash")

    monkeypatch.setattr(index_module, "_add_batch", failing_add)
    with pytest.raises(RuntimeError, match="simulated crash"):
        _open(settings, document, CountingEmbedder(), rebuild=True)
    monkeypatch.undo()
    assert calls["n"] == 2
    assert (settings.index_dir / MANIFEST).read_text(encoding="utf-8") == old_manifest
    assert sorted(p.name for p in settings.index_dir.glob("store-*")) == [_store(settings).name]
    index, messages = _open(settings, document, CountingEmbedder())
    assert messages == []
    assert np.allclose(index.matrix, first.matrix)


def test_hard_crash_mid_build_leaves_previous_index_usable(settings, document):
    """A process killed mid-build (no cleanup at all) leaves the old index; the next build tidies up."""
    first, _ = _open(settings, document, CountingEmbedder())
    script = textwrap.dedent(
        f"""
        import os
        import assistant.index as ix
        from assistant.document import load
        from assistant.embedding import HashEmbedder
        from assistant.settings import Settings
        real = ix._add_batch
        def add(store, nodes):
            real(store, nodes)
            os._exit(9)
        ix._add_batch = add
        ix.open_index(Settings(index_dir={str(settings.index_dir)!r}), load({str(REFERENCE_PLAN)!r}),
                      HashEmbedder(64), rebuild=True)
        """
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, timeout=120)
    assert result.returncode == 9, result.stderr.decode()
    assert len(list(settings.index_dir.glob("store-*"))) == 2  # the half-built store is left behind
    index, messages = _open(settings, document, CountingEmbedder())
    assert messages == []
    assert np.allclose(index.matrix, first.matrix)
    _open(settings, document, CountingEmbedder(), rebuild=True)
    assert len(list(settings.index_dir.glob("store-*"))) == 1


def test_corrupted_sqlite_is_reported_and_rebuilt(settings, document):
    _open(settings, document, CountingEmbedder())
    sqlite = _store(settings) / "chroma.sqlite3"
    sqlite.write_bytes(b"this is not a database" * 500)
    index, messages = _open(settings, document, CountingEmbedder())
    assert any("索引文件已损坏" in m for m in messages), messages
    assert index.collection.count() == RECORDS


def test_missing_store_is_reported_and_rebuilt(settings, document):
    _open(settings, document, CountingEmbedder())
    import shutil

    shutil.rmtree(_store(settings))
    index, messages = _open(settings, document, CountingEmbedder())
    assert any("索引文件已损坏或不完整" in m for m in messages)
    assert index.collection.count() == RECORDS


@pytest.mark.parametrize("content", ["{not json", '{"schema": 1}', '{"schema": 1, "corpus_sha256": "x", '
                                     '"embedder_id": "hash-64", "dim": 64, "count": 85, "store": "../evil"}'])
def test_bad_manifest_is_reported_and_rebuilt(settings, document, content):
    _open(settings, document, CountingEmbedder())
    (settings.index_dir / MANIFEST).write_text(content, encoding="utf-8")
    index, messages = _open(settings, document, CountingEmbedder())
    assert any("manifest.json 已损坏" in m for m in messages), messages
    assert index.collection.count() == RECORDS
    assert json.loads((settings.index_dir / MANIFEST).read_text(encoding="utf-8"))["count"] == RECORDS


def test_store_with_missing_records_is_rebuilt(settings, document):
    index, _ = _open(settings, document, CountingEmbedder())
    index.collection.delete(ids=["task-5"])
    again, messages = _open(settings, document, CountingEmbedder())
    assert any("索引文件已损坏或不完整" in m for m in messages)
    assert again.collection.count() == RECORDS

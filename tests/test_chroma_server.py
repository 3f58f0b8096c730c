"""The same build and search against a real Chroma server (``chroma run`` on 127.0.0.1)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from assistant.document import load
from assistant.embedding import HashEmbedder
from assistant.errors import IndexStateError
from assistant.index import open_index
from assistant.retrieval import SearchEngine
from assistant.settings import REFERENCE_PLAN, Settings

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    chroma = Path(sys.executable).with_name("chroma")
    if not chroma.exists():
        pytest.skip("the chroma command is not installed in this environment")
    port = _free_port()
    data = tmp_path_factory.mktemp("chroma-server")
    env = {**os.environ, "ANONYMIZED_TELEMETRY": "False"}
    process = subprocess.Popen(
        [str(chroma), "run", "--host", "127.0.0.1", "--port", str(port), "--path", str(data)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{url}/api/v2/heartbeat", timeout=1) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail("chroma run did not come up")
            time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="module")
def document():
    return load(REFERENCE_PLAN)


def test_build_and_search_against_a_server(server, document, tmp_path):
    settings = Settings(index_dir=tmp_path / "local", chroma_url=server)
    messages: list[str] = []
    engine = SearchEngine.open(settings, document, embedder=HashEmbedder(64), progress=messages.append)
    assert any("还没有集合" in m for m in messages)
    name = engine.index.collection.name
    assert name == f"tasks-{engine.index.manifest.identity}"
    assert engine.index.collection.count() == len(engine.passages)
    assert engine.index.collection.metadata["corpus_sha256"] == document.sha256
    assert engine.search("海绵城市", 3)[0].task.n == 32
    assert [t.n for t, _ in engine.dense_chroma("海绵城市建设", 3)] == [t.n for t, _ in engine.dense("海绵城市建设", 3)]
    assert not (tmp_path / "local" / "manifest.json").exists()  # nothing local but the embedding cache

    # Reopening finds the collection and does not rebuild.
    again: list[str] = []
    SearchEngine.open(settings, document, embedder=HashEmbedder(64), progress=again.append)
    assert again == []

    # A forced rebuild replaces the collection under the same name.
    rebuilt: list[str] = []
    engine = SearchEngine.open(settings, document, embedder=HashEmbedder(64), progress=rebuilt.append, rebuild=True)
    assert any("取自缓存" in m for m in rebuilt)
    assert engine.index.collection.name == name and engine.index.collection.count() == len(engine.passages)
    names = {c.name for c in engine.index._client.list_collections()}
    assert not any("building" in n for n in names)


def test_damaged_server_collection_is_rebuilt(server, document, tmp_path):
    settings = Settings(index_dir=tmp_path / "local", chroma_url=server)
    index = open_index(settings, document, HashEmbedder(48))
    index.collection.delete(ids=["task-1", "task-2"])
    messages: list[str] = []
    again = open_index(settings, document, HashEmbedder(48), progress=messages.append)
    assert any("不完整或已损坏" in m for m in messages)
    assert again.collection.count() == len(again.passages)


def test_unreachable_server_is_a_clear_error(document, tmp_path):
    settings = Settings(index_dir=tmp_path, chroma_url=f"http://127.0.0.1:{_free_port()}")
    with pytest.raises(IndexStateError, match="无法连接 Chroma 服务器"):
        open_index(settings, document, HashEmbedder(16))

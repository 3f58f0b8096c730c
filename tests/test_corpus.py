"""Several plans in one corpus: ids, short names, document-qualified citations, naming a plan, `add`."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from assistant.corpus import UID_BLOCK, Corpus, load_corpus, load_meta
from assistant.errors import ParseError
from assistant.index import CACHE_DIR
from assistant.qa import Assistant
from assistant.settings import DEFAULT_INDEX_DIR, PROJECT_ROOT, REFERENCE_PLAN, Settings

SECOND = """示区府办〔2024〕5号

关于印发《示例区绿色出行若干举措任务分工》的通知

各有关单位：现印发任务分工。排在第一位的部门为牵头部门。

示例区人民政府办公室
2024年6月1日

一、公交优先

1. 新辟社区巴士线路，到2025年底社区巴士覆盖全部街镇。（区交通委、区财政局负责）

2. 优化共享单车停放点位。（区城管执法局、各街道负责）

二、慢行交通

3. 建设滨河慢行步道。（牵头单位：区绿化市容局；配合单位：区水务局）
"""


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    corpus = tmp_path_factory.mktemp("corpus")
    shutil.copy(REFERENCE_PLAN, corpus / REFERENCE_PLAN.name)
    shutil.copy(REFERENCE_PLAN.with_name(REFERENCE_PLAN.stem + ".meta.toml"), corpus)
    (corpus / "green-travel.txt").write_text(SECOND, encoding="utf-8")
    (corpus / "green-travel.meta.toml").write_text('short = "绿色出行分工"\n', encoding="utf-8")
    return corpus


@pytest.fixture(scope="module")
def two(folder, tmp_path_factory) -> Assistant:
    """Both plans on the real embedder (the fitted refusal weighs dense evidence); passages the project index has
    embedded already come from its cache."""
    settings = Settings.from_env(env={}, corpus=str(folder), index_dir=tmp_path_factory.mktemp("index"),
                                 embedding_cache=str(DEFAULT_INDEX_DIR / CACHE_DIR))
    return Assistant.open(settings)


def test_the_reference_plan_keeps_its_numbers_as_ids(folder):
    corpus = load_corpus(folder)
    assert [d.short for d in corpus.documents] == ["任务分工方案", "绿色出行分工"]
    assert corpus.task(32).n == 32 and corpus.task(32).doc == REFERENCE_PLAN.stem
    second = corpus.documents[1]
    assert [t.uid for t in second.tasks] == [UID_BLOCK + 1, UID_BLOCK + 2, UID_BLOCK + 3]
    assert corpus.numbered(3, second).leads == ("区绿化市容局",) and corpus.numbered(3).n == 3
    assert len(corpus.tasks) == 88 and corpus.sha256 != load_corpus(REFERENCE_PLAN).sha256


def test_a_plan_is_named_by_its_number_or_a_stretch_of_name_only_it_has(folder):
    corpus = load_corpus(folder)
    assert corpus.named_in("示区府办〔2024〕5号里谁负责社区巴士").short == "绿色出行分工"
    assert corpus.named_in("绿色出行那份文件里有什么").short == "绿色出行分工"
    assert corpus.named_in("任务分工方案里谁负责") is None  # both plans are 任务分工
    assert corpus.named_in("谁负责海绵城市") is None


def test_answers_from_both_plans_with_their_own_citations(two):
    bus = two.ask("社区巴士归谁管")
    citation = bus.to_dict()["citations"][0]
    assert (citation["task"], citation["document"], citation["uid"]) == (1, "绿色出行分工", UID_BLOCK + 1)
    assert "〔绿色出行分工·任务1〕" in bus.answer and "《绿色出行分工》第1项（责任单位：区交通委、区财政局）" in bus.answer
    sponge = two.ask("谁负责海绵城市建设？")
    assert sponge.to_dict()["citations"][0]["document"] == "任务分工方案" and "〔任务32〕" in sponge.answer


def test_a_draft_cites_both_plans(two):
    """The task classifier knows only the reference plan; the second plan's tasks are weighed without it."""
    result = two.cite("新辟社区巴士线路3条；全面推进海绵城市建设。")
    bus, sponge = result.clauses
    assert bus.tasks == (UID_BLOCK + 1,) and bus.keys == ("〔绿色出行分工·任务1〕",)
    assert sponge.tasks == (32,) and sponge.keys == ("〔任务32〕",)


def test_numbers_mean_the_named_plan(two):
    assert two.ask("第3项是什么").task_numbers == [3]
    named = two.ask("示区府办〔2024〕5号第3项是什么")
    assert named.task_numbers == [UID_BLOCK + 3] and "区绿化市容局" in named.answer
    missing = two.ask("示区府办〔2024〕5号第9项是什么")
    assert missing.refused and "《绿色出行分工》共有3项任务" in missing.answer


def test_a_plans_own_units_are_known_and_lists_group_by_plan(two):
    answer = two.ask("区交通委负责哪些任务")
    assert answer.task_numbers == [UID_BLOCK + 1]
    answer = two.ask("各街道有哪些任务")
    assert answer.task_numbers == [UID_BLOCK + 2]


def test_scope_limits_an_answer_to_one_plan(two):
    answer = two.ask("到2025年底要完成什么", scope="green-travel")
    assert answer.task_numbers == [UID_BLOCK + 1]


def test_meta_errors_name_the_file(tmp_path):
    plan = tmp_path / "x.txt"
    plan.write_text(SECOND, encoding="utf-8")
    (tmp_path / "x.meta.toml").write_text('short = "x"\ncolour = "red"\n', encoding="utf-8")
    with pytest.raises(ParseError, match="colour"):
        load_meta(plan)
    with pytest.raises(ParseError, match="语料路径不存在"):
        load_corpus(tmp_path / "not-there")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ParseError, match="没有找到任何文件"):
        load_corpus(tmp_path / "empty")


def test_corpus_of_one_document():
    corpus = Corpus.of(load_corpus(REFERENCE_PLAN).primary)
    assert corpus.named_in("任何问题") is None and len(corpus.tasks) == 85


def test_add_checks_copies_and_reindexes(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(REFERENCE_PLAN, corpus)
    shutil.copy(REFERENCE_PLAN.with_name(REFERENCE_PLAN.stem + ".meta.toml"), corpus)
    source = tmp_path / "green.txt"
    source.write_text(SECOND, encoding="utf-8")
    shared_cache = PROJECT_ROOT / "index" / "embeddings-cache"
    index = tmp_path / "index"
    if shared_cache.is_dir():  # reuse the reference plan's cached vectors, as a real corpus folder would
        shutil.copytree(shared_cache, index / "embeddings-cache")
    env = {**os.environ, "POLICYQA_CORPUS": str(corpus), "POLICYQA_INDEX_DIR": str(index), "HF_HUB_OFFLINE": "1"}
    out = subprocess.run([sys.executable, "-m", "assistant", "add", str(source), "--short", "绿色出行分工",
                          "--number", "示区府办〔2024〕5号"], capture_output=True, text=True, env=env, timeout=600)
    assert out.returncode == 0, out.stderr
    assert "3 项任务" in out.stdout and "条警告" in out.stdout and "《绿色出行分工》" in out.stdout
    assert (corpus / "green.txt").exists() and "绿色出行分工" in (corpus / "green.meta.toml").read_text(encoding="utf-8")
    assert "索引已更新" in out.stdout and "Traceback" not in out.stderr
    ask = subprocess.run([sys.executable, "-m", "assistant", "ask", "--json", "社区巴士归谁管"], capture_output=True,
                         text=True, env=env, timeout=300)
    assert json.loads(ask.stdout)["citations"][0]["document"] == "绿色出行分工"
    again = subprocess.run([sys.executable, "-m", "assistant", "add", str(corpus / "green.txt")], capture_output=True,
                           text=True, env=env, timeout=300)
    assert again.returncode == 0 and "已在语料中" in again.stdout

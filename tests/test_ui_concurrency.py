"""20 simultaneous sessions: each gets its own answer, and its follow-up resolves in its own state."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from conftest import free_port

from assistant.settings import REFERENCE_PLAN, Settings

pytestmark = pytest.mark.slow

SESSIONS = 20
FOLLOW_UP = "它的牵头单位是谁？"
# question -> the task its answer cites first (and that the follow-up must resolve to)
QUESTIONS = {
    "谁负责海绵城市建设？": 32,
    "轨道交通运营里程目标是多少？": 28,
    "城中村改造谁负责？": 24,
    "品牌首店每年新增多少？": 46,
    "老旧燃气管道改造谁牵头？": 30,
    "居住证积分加分政策谁负责？": 2,
    "随迁子女教育谁负责？": 13,
    **{f"第{n}项是什么？": n for n in (1, 5, 7, 11, 17, 29, 35, 40, 52, 60, 66, 71, 85)},
}


@pytest.fixture(scope="module")
def url(assistant):
    from assistant.ui import launch

    port = free_port()
    demo = launch(Settings.from_env(host="127.0.0.1", port=port), block=False, assistant=assistant)
    yield f"http://127.0.0.1:{port}/"
    demo.close()


def test_twenty_parallel_sessions(url):
    from gradio_client import Client

    from assistant.document import load

    document = load(REFERENCE_PLAN)
    assert len(QUESTIONS) == SESSIONS
    start = threading.Barrier(SESSIONS)

    def session(item: tuple[str, int]) -> tuple[str, int, dict, dict, float]:
        question, _ = item
        client = Client(url, verbose=False)
        start.wait(timeout=60)  # every session asks at the same moment
        began = time.perf_counter()
        history, _, _, first = client.predict(question, [], api_name="/ask")
        _, _, _, follow = client.predict(FOLLOW_UP, history, api_name="/ask")
        return question, item[1], first, follow, time.perf_counter() - began

    with ThreadPoolExecutor(SESSIONS) as pool:
        results = list(pool.map(session, QUESTIONS.items()))

    for question, task, first, follow, _ in results:
        assert first["question"] == question
        assert first["kind"] == "answer", question
        assert first["citations"][0]["task"] == task, question
        assert follow["question"] == FOLLOW_UP
        assert follow["citations"] and follow["citations"][0]["task"] == task, (question, follow["answer"])
        assert document.task(task).lead_unit in follow["answer"]
    slowest = max(r[4] for r in results)
    print(f"{SESSIONS} sessions x 2 questions, slowest session {slowest:.2f}s")
    assert slowest < 30

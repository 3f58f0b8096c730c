"""The tree stays clean under the project's own tools (configured in pyproject.toml)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_ruff():
    out = subprocess.run([sys.executable, "-m", "ruff", "check", "assistant", "tests", "benchmarks", "app.py"],
                         cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr


def test_mypy():
    out = subprocess.run([sys.executable, "-m", "mypy", "assistant"], cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr

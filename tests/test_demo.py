"""``make demo`` runs ``examples/demo.py``: it must keep running end to end, and so must the
representation tour in ``examples/tour.py``."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def test_the_demo_indexes_searches_and_evaluates_real_data(tmp_path):
    # as a user runs it: scikit-image's loaders act differently when they see pytest
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    env.update(DOCSTACK_DEMO_DIR=str(tmp_path), COLUMNS="200")
    proc = subprocess.run(
        [sys.executable, str(EXAMPLES / "demo.py")],
        capture_output=True,
        text=True,
        timeout=900,
        env=env,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = proc.stdout
    assert "news articles" in out and "photos with captions" in out
    # the photo of a cat comes first for 'a cat' among images (found by its caption)
    cat_search = out.split("$ docstack search a cat")[1].split("$ docstack")[0]
    assert (
        "cat.png" in cat_search.split("│ 2 │")[0] or "chelsea.png" in cat_search.split("│ 2 │")[0]
    )
    assert "paired tests against 'text'" in out
    assert "video moments:" in out and "docstack serve" in out


def test_the_tour_runs_end_to_end():
    proc = subprocess.run(
        [sys.executable, str(EXAMPLES / "tour.py")], capture_output=True, text=True, timeout=240
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = proc.stdout
    assert "reopened from disk: 100 digits" in out
    assert "from_bytes gives them back equal: True" in out
    assert "streamed back 100 digits" in out

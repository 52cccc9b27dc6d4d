"""``make demo`` runs ``examples/demo.py``: it must keep running end to end."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

DEMO = Path(__file__).resolve().parent.parent / "examples" / "demo.py"


def test_the_demo_runs_end_to_end():
    proc = subprocess.run([sys.executable, str(DEMO)], capture_output=True, text=True, timeout=240)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = proc.stdout
    assert "reopened from disk: 100 digits" in out
    assert "from_bytes gives them back equal: True" in out
    assert "streamed back 100 digits" in out

"""What the benchmark scripts share: timing, and running a script's DocArray half in the
DocArray environment (``.venv-docarray``: DocArray 0.41 with numpy<2)."""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DOCARRAY_PYTHON = ROOT / ".venv-docarray" / "bin" / "python"


def best_of(
    fn: Callable[..., Any], repeats: int = 3, setup: Callable[[], Any] | None = None
) -> tuple[float, Any]:
    """The fastest of ``repeats`` runs of ``fn``, in seconds, and the last result.

    ``setup()``, when given, runs untimed before each run and its result is passed to ``fn``.
    The previous run's result is released before the next run starts, so that freeing it
    (100k documents take tens of milliseconds to free) is not counted in the next run.
    """
    best, result = float("inf"), None
    for _ in range(repeats):
        # drop the last run's result first: freeing it is not part of what is timed
        result = None
        arg = setup() if setup is not None else None
        t0 = time.perf_counter()
        result = fn(arg) if setup is not None else fn()
        best = min(best, time.perf_counter() - t0)
    return best, result


def in_turns(
    first: Callable[[], Any], second: Callable[[], Any], pairs: int = 20
) -> tuple[float, float]:
    """The best time of each of two functions, run alternately ``pairs`` times: both see the
    same machine, whose speed drifts between one part of the run and another."""
    best_a = best_b = float("inf")
    for _ in range(pairs):
        t0 = time.perf_counter()
        first()
        t1 = time.perf_counter()
        second()
        t2 = time.perf_counter()
        best_a, best_b = min(best_a, t1 - t0), min(best_b, t2 - t1)
    return best_a, best_b


def run_docarray(script: str, args: Sequence[str]) -> dict[str, Any] | None:
    """Run ``script --impl docarray ARGS --json`` in the DocArray environment and return the
    JSON it prints last, or ``None`` (with a hint) when that environment is missing."""
    if not DOCARRAY_PYTHON.exists():
        print("(DocArray environment missing: run `make .venv-docarray/bin/python`)")
        return None
    proc = subprocess.run(
        [str(DOCARRAY_PYTHON), script, "--impl", "docarray", *args, "--json"],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(proc.stdout.strip().splitlines()[-1])

"""What the benchmark scripts share: timing, and running a script's DocArray half in the
DocArray environment (``.venv-docarray``: DocArray 0.41 with numpy<2)."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
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


def half_parser(description: str | None, n_docs: int, rounds: int) -> argparse.ArgumentParser:
    """The flags of a script that runs a docstack half and a DocArray half: ``--impl``
    (``both``, or one half, which is how the script calls itself), ``--n``, ``--rounds``
    and the internal ``--json``."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--impl", default="both", choices=["both", "docstack", "docarray"])
    parser.add_argument("--n", type=int, default=n_docs)
    parser.add_argument(
        "--rounds",
        type=int,
        default=rounds,
        help="run each half this many times, alternating which goes first; a step's time is "
        "its best over the rounds",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON line (internal)")
    return parser


def serve_half(args: argparse.Namespace, run_impl: Callable[[str, int], dict]) -> bool:
    """When the script was called for one half (``--impl docstack|docarray``), run it, print
    its result (one JSON line with ``--json``) and return True."""
    if args.impl == "both":
        return False
    result = run_impl(args.impl, args.n)
    print(json.dumps(result) if args.json else result)
    return True


def _run_half(script: str, impl: str, args: Sequence[str]) -> dict[str, Any] | None:
    python = Path(sys.executable) if impl == "docstack" else DOCARRAY_PYTHON
    if not python.exists():
        print("(DocArray environment missing: run `make .venv-docarray/bin/python`)")
        return None
    proc = subprocess.run(
        [str(python), script, "--impl", impl, *args, "--json"],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _merge(best: dict[str, Any], result: dict[str, Any]) -> None:
    """Keep each timing's best (lowest) value; any other value as first seen."""
    for key, value in result.items():
        if key not in best:
            best[key] = value
        elif isinstance(value, float) and isinstance(best[key], float):
            best[key] = min(best[key], value)


def run_rounds(
    script: str, args: Sequence[str], rounds: int
) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """Run the docstack half and the DocArray half of ``script`` ``rounds`` times each, each
    run in a fresh process, alternating which half goes first, and return each half's best
    time per step (DocArray's is None when its environment is missing).

    This machine's speed drifts from one part of a run to another, and whichever half ran
    first used to meet a slower machine; alternating the order and keeping the best of each
    step puts both libraries on the same footing.
    """
    ours: dict[str, Any] = {}
    theirs: dict[str, Any] | None = {}
    for r in range(max(1, rounds)):
        order = ("docstack", "docarray") if r % 2 == 0 else ("docarray", "docstack")
        for impl in order:
            if impl == "docarray" and theirs is None:
                continue
            result = _run_half(script, impl, args)
            if result is None:
                theirs = None
            else:
                _merge(ours if impl == "docstack" else theirs, result)  # type: ignore[arg-type]
    return ours, theirs

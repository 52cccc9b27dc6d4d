"""Sending data: docstack's serialization against DocArray 0.41 and bare numpy, side by side.

Run ``make bench-transit`` (or ``.venv/bin/python benchmarks/bench_transit.py``). The
DocArray half runs in its own environment (``.venv-docarray``, numpy<2) through a
subprocess running this same file with ``--impl docarray``; both halves build the same
documents (seeded) and time the same calls.

Workload: 100k documents of ``text: str`` + ``embedding: NdArray[128]`` (float32), as a
DocList and as a DocVec. Each step is the best of a few runs; sizes are in MB.
"""

from __future__ import annotations

import io
import os
import platform

import numpy as np

from _common import best_of, half_parser, run_rounds, serve_half

N_DOCS = 100_000
DIM = 128
REPEATS = 3
ROUNDS = 2


def make_data(n: int, dim: int):
    rng = np.random.default_rng(0)
    embeddings = rng.standard_normal((n, dim), dtype=np.float32)
    texts = [f"document number {i}" for i in range(n)]
    ids = [f"{i:032x}" for i in range(n)]
    return ids, texts, embeddings


def run_impl(impl: str, n: int) -> dict[str, float]:
    """Time each step with ``impl`` ('docstack' or 'docarray'); sizes under ``size:`` keys."""
    if impl == "docstack":
        from docstack import BaseDoc, DocList, DocVec
        from docstack.typing import NdArray
    else:
        from docarray import BaseDoc, DocList, DocVec
        from docarray.typing import NdArray

    class MyDoc(BaseDoc):
        text: str
        embedding: NdArray[DIM]

    # pickle finds classes by module and name: make this one a module-level name
    MyDoc.__qualname__ = "MyDoc"
    globals()["MyDoc"] = MyDoc

    ids, texts, embeddings = make_data(n, DIM)
    docs = DocList[MyDoc](
        [MyDoc(id=i, text=t, embedding=e) for i, t, e in zip(ids, texts, embeddings)]
    )
    out: dict[str, float] = {}

    def measure(label: str, protocol: str | None, compress: str | None = None) -> None:
        kwargs = {"compress": compress}
        if protocol is not None:
            kwargs["protocol"] = protocol
        out[f"DocList to_bytes {label}"], data = best_of(lambda: docs.to_bytes(**kwargs))
        out[f"size: {label}"] = len(data) / 1e6
        out[f"DocList from_bytes {label}"], back = best_of(
            lambda: DocList[MyDoc].from_bytes(data, **kwargs)
        )
        assert len(back) == n and back[n - 1].text == texts[-1]

    if impl == "docstack":
        measure("docstack", None)
        measure("docstack + lz4", None, "lz4")
    measure("protobuf-array", "protobuf-array")
    measure("pickle-array", "pickle-array")

    out["DocList to_json"], text = best_of(lambda: docs.to_json())
    out["DocList from_json"], back = best_of(lambda: DocList[MyDoc].from_json(text))
    assert len(back) == n and np.array_equal(
        np.asarray(back[7].embedding, dtype=np.float32), embeddings[7]
    )

    dv = docs.to_doc_vec() if impl == "docstack" else DocVec[MyDoc](docs)
    dv_protocol = None if impl == "docstack" else "protobuf-array"

    def dv_round_trip():
        kw = {} if dv_protocol is None else {"protocol": dv_protocol}
        return DocVec[MyDoc].from_bytes(dv.to_bytes(**kw), **kw)

    out["DocVec round trip (to_bytes + from_bytes)"], back = best_of(dv_round_trip)
    assert np.array_equal(np.asarray(back.embedding), embeddings)
    return out


def bare_numpy(n: int) -> dict[str, float]:
    """``numpy.save`` + ``numpy.load`` of the same columns (ids, texts, embeddings)."""
    ids, texts, embeddings = make_data(n, DIM)
    columns = [np.array(ids), np.array(texts), embeddings]

    def round_trip():
        f = io.BytesIO()
        for c in columns:
            np.save(f, c)
        f.seek(0)
        return [np.load(f) for _ in columns]

    out = {}
    out["numpy.save + numpy.load of the columns"], back = best_of(round_trip)
    assert np.array_equal(back[2], embeddings)
    return out


def _row(label: str, ours: float, theirs: float | None, goal: str = "") -> str:
    ratio = "n/a" if theirs is None else f"{theirs / ours:.1f}x"
    shown = "n/a" if theirs is None else f"{theirs:.3f}"
    return f"| {label} | {ours:.3f} | {shown} | {ratio} | {goal} |"


def main() -> None:
    args = half_parser(__doc__, N_DOCS, ROUNDS).parse_args()
    if serve_half(args, run_impl):
        return

    ours, theirs = run_rounds(__file__, ["--n", str(args.n)], args.rounds)
    theirs = theirs or {}
    bare = bare_numpy(args.n)

    print(
        f"# bench_transit: {args.n} docs of text + NdArray[{DIM}] float32; best of {REPEATS} "
        f"in each of {args.rounds} rounds per library, the order alternating\n"
        f"# machine: {platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}, numpy {np.__version__}"
    )
    print("\n| step | docstack (s) | DocArray 0.41 (s) | DocArray / docstack | goal |")
    print("|---|---:|---:|---:|---|")
    ds_from = ours["DocList from_bytes docstack"]
    rows = [
        (
            "from_bytes: docstack default vs DocArray protobuf-array",
            ds_from,
            theirs.get("DocList from_bytes protobuf-array"),
            ">= 10x",
        ),
        (
            "from_bytes: docstack default vs DocArray pickle-array",
            ds_from,
            theirs.get("DocList from_bytes pickle-array"),
            ">= 3x",
        ),
        (
            "to_bytes: docstack default vs DocArray protobuf-array",
            ours["DocList to_bytes docstack"],
            theirs.get("DocList to_bytes protobuf-array"),
            "",
        ),
        (
            "to_bytes: docstack default vs DocArray pickle-array",
            ours["DocList to_bytes docstack"],
            theirs.get("DocList to_bytes pickle-array"),
            "",
        ),
        ("to_json", ours["DocList to_json"], theirs.get("DocList to_json"), ">= 3x"),
        ("from_json", ours["DocList from_json"], theirs.get("DocList from_json"), ">= 3x"),
    ]
    for proto in ("protobuf-array", "pickle-array"):
        for step in ("to_bytes", "from_bytes"):
            key = f"DocList {step} {proto}"
            rows.append((f"{step} {proto} (same protocol)", ours[key], theirs.get(key), ""))
    rows.append(
        ("DocVec round trip: docstack default vs DocArray protobuf-array",
         ours["DocVec round trip (to_bytes + from_bytes)"],
         theirs.get("DocVec round trip (to_bytes + from_bytes)"), "")
    )  # fmt: skip
    for label, a, b, goal in rows:
        print(_row(label, a, b, goal))

    print("\n| docstack only | seconds |")
    print("|---|---:|")
    for key in ("DocList to_bytes docstack + lz4", "DocList from_bytes docstack + lz4"):
        print(f"| {key} | {ours[key]:.3f} |")

    print("\n| payload size (MB) | docstack | DocArray 0.41 |")
    print("|---|---:|---:|")
    for key in sorted(k for k in ours if k.startswith("size: ")):
        other = theirs.get(key)
        print(f"| {key[6:]} | {ours[key]:.1f} | {'n/a' if other is None else f'{other:.1f}'} |")

    dv_t = ours["DocVec round trip (to_bytes + from_bytes)"]
    (label, np_t), = bare.items()  # fmt: skip
    print("\n| DocVec round trip vs bare numpy | seconds | docstack / bare | goal |")
    print("|---|---:|---:|---|")
    print(f"| {label} | {np_t:.3f} | {dv_t / np_t:.2f}x | <= 3x |")


if __name__ == "__main__":
    main()

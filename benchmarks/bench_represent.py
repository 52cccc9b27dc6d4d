"""Representing data: docstack against DocArray 0.41 and bare numpy, side by side.

Run ``make bench-represent`` (or ``.venv/bin/python benchmarks/bench_represent.py``). The
DocArray half runs in its own environment (``.venv-docarray``, numpy<2, because DocArray's
DocVec breaks on numpy 2) through a subprocess running this same file with ``--impl docarray``;
both halves use the same data (seeded) and the same code.

Workload: 100k documents of ``text: str`` + ``embedding: NdArray[128]`` (float32).
"""

from __future__ import annotations

import os
import platform

import numpy as np

from _common import best_of, half_parser, in_turns, run_rounds, serve_half

N_DOCS = 100_000
DIM = 128
REPEATS = 3
ROUNDS = 3


def make_data(n: int, dim: int):
    rng = np.random.default_rng(0)
    embeddings = rng.standard_normal((n, dim), dtype=np.float32)
    texts = [f"document number {i}" for i in range(n)]
    query = rng.standard_normal(dim, dtype=np.float32)
    return texts, embeddings, query


def dot_topk(embeddings: np.ndarray, query: np.ndarray) -> np.ndarray:
    """Bare numpy's exact top-10 by dot product: one matmul and an argpartition."""
    scores = embeddings @ query
    top = np.argpartition(-scores, 10)[:10]
    return top[np.argsort(-scores[top])]


def run_impl(impl: str, n: int) -> dict[str, float]:
    """Time each step with ``impl`` ('docstack' or 'docarray')."""
    if impl == "docstack":
        from docstack import BaseDoc, DocList
        from docstack.typing import NdArray
        from docstack.utils import find
    else:
        from docarray import BaseDoc, DocList
        from docarray.typing import NdArray
        from docarray.utils.find import find

    class MyDoc(BaseDoc):
        text: str
        embedding: NdArray[DIM]

    texts, embeddings, query = make_data(n, DIM)
    rows = list(embeddings)
    out: dict[str, float] = {}
    out["create documents"], docs = best_of(
        lambda: [MyDoc(text=t, embedding=e) for t, e in zip(texts, rows)]
    )
    out["DocList[...](docs)"], dl = best_of(lambda: DocList[MyDoc](docs))
    out["DocList -> DocVec"], dv = best_of(lambda: dl.to_doc_vec())
    out["read column (DocList)"], _ = best_of(lambda: dl.embedding)
    out["read column (DocVec)"], _ = best_of(lambda: dv.embedding)
    out["iterate DocVec views"], _ = best_of(lambda: [d.text for d in dv])
    out["find cosine, 1 query (DocVec)"], res = best_of(
        lambda: find(dv, query, search_field="embedding", metric="cosine_sim", limit=10),
        repeats=10,
    )
    top_ids = [int(d.text.rsplit(" ", 1)[1]) for d in res.documents]
    if impl == "docstack":
        out["_find in turns"], out["_bare in turns"] = in_turns(
            lambda: find(dv, query, search_field="embedding", metric="cosine_sim", limit=10),
            lambda: dot_topk(embeddings, query),
        )
    # DocArray's to_doc_list() consumes its DocVec: convert a fresh one each run
    out["DocVec -> DocList"], _ = best_of(
        lambda fresh: fresh.to_doc_list(), setup=lambda: dl.to_doc_vec()
    )
    out["_top_ids"] = top_ids  # type: ignore[assignment]
    return out


def bare_numpy(n: int) -> dict[str, float]:
    _, embeddings, query = make_data(n, DIM)

    def cosine_topk():
        scores = (embeddings @ query) / (
            np.linalg.norm(embeddings, axis=1) * np.linalg.norm(query) + 1e-30
        )
        top = np.argpartition(-scores, 10)[:10]
        return top[np.argsort(-scores[top])]

    out = {}
    out["matmul + argpartition"], _ = best_of(lambda: dot_topk(embeddings, query), repeats=10)
    out["cosine matmul + norms + argpartition"], top = best_of(cosine_topk, repeats=10)
    out["_top_ids"] = top.tolist()  # type: ignore[assignment]
    return out


def main() -> None:
    args = half_parser(__doc__, N_DOCS, ROUNDS).parse_args()
    if serve_half(args, run_impl):
        return

    ours, theirs = run_rounds(__file__, ["--n", str(args.n)], args.rounds)
    bare = bare_numpy(args.n)

    print(
        f"# bench_represent: {args.n} docs of text + NdArray[{DIM}] float32; best of "
        f"{REPEATS} (find: best of 10) in each of {args.rounds} rounds per library, the order "
        f"alternating\n# machine: {platform.machine()}, {os.cpu_count()} "
        f"cores, Python {platform.python_version()}, numpy {np.__version__}"
    )
    print("\n| step | docstack (s) | DocArray 0.41 (s) | DocArray / docstack |")
    print("|---|---:|---:|---:|")
    for step, t in ours.items():
        if step.startswith("_"):
            continue
        other = None if theirs is None else theirs.get(step)
        ratio = "n/a" if other is None else f"{other / t:.1f}x"
        shown = "n/a" if other is None else f"{other:.4f}"
        print(f"| {step} | {t:.4f} | {shown} | {ratio} |")
    find_t = ours["find cosine, 1 query (DocVec)"]
    print("\n| exact find vs bare numpy | seconds | docstack / bare |")
    print("|---|---:|---:|")
    for step, t in bare.items():
        if step.startswith("_"):
            continue
        print(f"| {step} | {t:.4f} | {find_t / t:.2f}x |")
    mine, bare_t = ours["_find in turns"], ours["_bare in turns"]
    print(
        f"| matmul + argpartition, timed in turns with docstack's find ({mine:.4f} s) "
        f"| {bare_t:.4f} | {mine / bare_t:.2f}x |"
    )
    same = ours["_top_ids"] == bare["_top_ids"]
    print(f"\ndocstack's cosine top-10 equals bare numpy's: {same}")
    if theirs is not None:
        print(
            f"DocArray's cosine top-10 equals bare numpy's: {theirs['_top_ids'] == bare['_top_ids']}"
        )


if __name__ == "__main__":
    main()

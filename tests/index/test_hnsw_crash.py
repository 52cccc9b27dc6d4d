"""Crash safety of ``HnswDocumentIndex``: a writer process is killed with SIGKILL at random
points of large ``index()`` calls (while rows are written, while the growing segment is merged
into the HNSW graph, while the graph file is saved, while the index opens), the index is
reopened, and every acknowledged write must be there, the write in flight at the kill entirely
there or entirely absent, nothing else, and searches must still work.

The writer runs a fixed, deterministic sequence of operations (``op(n)`` below: large upserts
that also overwrite earlier ids, and deletes), printing ``BEGIN n`` before and ``ACK n`` after
each call returns. The test replays the acknowledged operations on a plain dict (the model) and
restarts the writer on the same ``work_dir`` after every kill, from the next operation.
"""

from __future__ import annotations

import functools
import os
import queue
import random
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import numpy as np
import pytest

# What the writer and the test share: the schema, the index settings and the operations.
# The writer runs it as a script; the test executes it into ``_COMMON_NS``.
_COMMON = textwrap.dedent(
    """
    import numpy as np

    from docstack import BaseDoc, DocList
    from docstack.typing import NdArray

    DIM = 16
    MERGE_THRESHOLD = 3000
    # cheaper graph construction than the defaults keeps the test fast on 2 cores
    COLUMN_CONFIG = {np.ndarray: {"M": 8, "ef_construction": 40}}


    class CrashDoc(BaseDoc):
        ver: int
        emb: NdArray[DIM]


    def op_size(n):
        return 1500 + (n * 617) % 1501


    def is_delete(n):
        return n % 3 == 2


    def op(n):
        \"\"\"The n-th write: ('index', ids, vectors) or ('delete', ids, None).

        Upserts overwrite ids of op n-1 and re-insert (or overwrite) ids of op n-6, some of
        which were deleted; deletes remove op n-2 and half of op n-1 (ids may be absent
        already).
        \"\"\"
        if is_delete(n):
            ids = [f"{n - 2}:{i}" for i in range(op_size(n - 2))]
            ids += [f"{n - 1}:{i}" for i in range(1, op_size(n - 1), 2)]
            return "delete", ids, None
        ids = [f"{n}:{i}" for i in range(op_size(n))]
        if n >= 1 and not is_delete(n - 1):
            ids += [f"{n - 1}:{i}" for i in range(0, op_size(n - 1), 3)]
        if n >= 6 and not is_delete(n - 6):
            ids += [f"{n - 6}:{i}" for i in range(1, op_size(n - 6), 7)]
        rng = np.random.default_rng(1000 + n)
        vectors = rng.standard_normal((len(ids), DIM)).astype(np.float32)
        return "index", ids, vectors


    def make_docs(n, ids, vectors):
        return DocList[CrashDoc]([CrashDoc(id=i, ver=n, emb=v) for i, v in zip(ids, vectors)])


    DOC_CLASS = CrashDoc
    """
)

# The same with sub-documents: every write also replaces the documents' sub-index rows
# (another table, with its own graph) in the same transaction; deletes remove them too.
_SUB_COMMON = textwrap.dedent(
    """
    import numpy as np

    from docstack import BaseDoc, DocList
    from docstack.typing import NdArray

    DIM = 8
    PARTS = 3
    MERGE_THRESHOLD = 1500
    COLUMN_CONFIG = {np.ndarray: {"M": 8, "ef_construction": 40}}


    class Part(BaseDoc):
        ver: int
        vec: NdArray[DIM]


    class Parent(BaseDoc):
        ver: int
        emb: NdArray[DIM]
        parts: DocList[Part]


    def is_delete(n):
        return n % 3 == 2


    def op(n):
        # ('index', ids, (vectors, part vectors)) or ('delete', ids, None)
        if is_delete(n):
            ids = [f"{n - 2}:{i}" for i in range(0, 700, 2)]
            ids += [f"{n - 1}:{i}" for i in range(1, 700, 3)]
            return "delete", ids, None
        ids = [f"{n}:{i}" for i in range(700)]
        if n >= 1 and not is_delete(n - 1):
            ids += [f"{n - 1}:{i}" for i in range(0, 700, 4)]
        rng = np.random.default_rng(5000 + n)
        vectors = rng.standard_normal((len(ids), DIM)).astype(np.float32)
        parts = rng.standard_normal((len(ids), PARTS, DIM)).astype(np.float32)
        return "index", ids, (vectors, parts)


    def make_docs(n, ids, vectors):
        emb, parts = vectors
        return DocList[Parent](
            [
                Parent(
                    id=doc_id,
                    ver=n,
                    emb=emb[j],
                    parts=DocList[Part](
                        [Part(id=f"{doc_id}/{k}", ver=n, vec=parts[j, k]) for k in range(PARTS)]
                    ),
                )
                for j, doc_id in enumerate(ids)
            ]
        )


    DOC_CLASS = Parent
    """
)

_WRITER_MAIN = textwrap.dedent(
    """

    import sys
    import time

    from docstack.index import HnswDocumentIndex

    work_dir, start, stop = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    print("START", flush=True)
    index = HnswDocumentIndex[DOC_CLASS](
        work_dir=work_dir,
        merge_threshold=MERGE_THRESHOLD,
        default_column_config=COLUMN_CONFIG,
    )
    print("OPEN", flush=True)
    for n in range(start, stop):
        kind, ids, vectors = op(n)
        if kind == "index":
            docs = make_docs(n, ids, vectors)
        print(f"BEGIN {n}", flush=True)  # one write: a kill cannot split the line
        if kind == "index":
            index.index(docs)
        else:
            index.delete(ids=ids)
        print(f"ACK {n}", flush=True)
    print("IDLE", flush=True)
    time.sleep(600)
    """
)

_WRITER = _COMMON + _WRITER_MAIN
_SUB_WRITER = _SUB_COMMON + _WRITER_MAIN

_COMMON_NS: dict = {}
exec(compile(_COMMON, "<crash-common>", "exec", dont_inherit=True), _COMMON_NS)
CrashDoc = _COMMON_NS["CrashDoc"]
op = functools.lru_cache(maxsize=64)(_COMMON_NS["op"])
COLUMN_CONFIG = _COMMON_NS["COLUMN_CONFIG"]

_SUB_NS: dict = {}
exec(compile(_SUB_COMMON, "<crash-sub-common>", "exec", dont_inherit=True), _SUB_NS)
Parent = _SUB_NS["Parent"]
sub_op = functools.lru_cache(maxsize=64)(_SUB_NS["op"])

N_KILLS = 24
# where each kill aims: inside a write before its commit, inside the merge that follows a
# commit, while a graph file is being saved, anywhere in a write, while the writer opens
MODES = ["write", "merge", "save", "write", "any", "open", "merge", "save"]
OPS_PER_RUN = 6


@functools.lru_cache(maxsize=64)
def _positions(n: int) -> dict[str, int]:
    return {doc_id: j for j, doc_id in enumerate(op(n)[1])}


def _vector(doc_id: str, ver: int) -> np.ndarray:
    return op(ver)[2][_positions(ver)[doc_id]]


class _Model:
    """The expected content: id -> the op that wrote its current version."""

    def __init__(self, ops=op) -> None:
        self.op = ops
        self.ver: dict[str, int] = {}
        self.superseded: list[tuple[str, int]] = []  # (id, an overwritten version)
        self.deleted: list[str] = []

    def apply(self, n: int) -> None:
        kind, ids, _ = self.op(n)
        if kind == "index":
            for doc_id in ids:
                old = self.ver.get(doc_id)
                if old is not None:
                    self.superseded.append((doc_id, old))
                self.ver[doc_id] = n
        else:
            for doc_id in ids:
                if self.ver.pop(doc_id, None) is not None:
                    self.deleted.append(doc_id)


class _Writer:
    """The writer process and a thread reading its lines with their arrival times."""

    def __init__(self, script: Path, work_dir: Path, start: int, log: Path) -> None:
        self.log = open(log, "ab")  # closed in kill()
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        self.proc = subprocess.Popen(
            [sys.executable, str(script), str(work_dir), str(start), str(start + OPS_PER_RUN)],
            stdout=subprocess.PIPE,
            stderr=self.log,
            env=env,
        )
        self.started = time.monotonic()
        self.lines: queue.Queue = queue.Queue()
        self.acked: list[int] = []
        self.importing_done = False
        self.opened = False
        self.begun: dict[int, float] = {}
        self.ack_time: dict[int, float] = {}
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for raw in self.proc.stdout:
            if not raw.endswith(b"\n"):
                break  # a line the kill cut short (print writes text and newline apart)
            self.lines.put((time.monotonic(), raw.decode().split()))
        self.lines.put((time.monotonic(), ["EOF"]))

    def next_event(self, timeout: float) -> tuple[float, list[str]] | None:
        try:
            t, parts = self.lines.get(timeout=timeout)
        except queue.Empty:
            return None
        if parts[0] == "START":
            self.importing_done = True
            self.started_at = t
        elif parts[0] == "OPEN":
            self.opened = True
        elif parts[0] == "BEGIN":
            self.begun[int(parts[1])] = t
        elif parts[0] == "ACK":
            self.acked.append(int(parts[1]))
            self.ack_time[int(parts[1])] = t
        elif parts[0] == "EOF":
            raise AssertionError(f"the writer exited by itself:\n{self._stderr()}")
        return t, parts

    def wait_for(self, word: str, n: int | None, timeout: float = 60.0) -> float:
        """Wait for ``BEGIN n`` or ``START`` (or ``IDLE``): its arrival time."""
        if word == "BEGIN" and n in self.begun:
            return self.begun[n]
        if word == "START" and self.importing_done:
            return self.started_at
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            assert left > 0, f"no {word} {n} from the writer:\n{self._stderr()}"
            event = self.next_event(left)
            if event is None:
                continue
            t, parts = event
            if parts[0] == word and (n is None or int(parts[1]) == n):
                return t
            if parts[0] == "IDLE":
                return t

    def sleep_until(self, when: float) -> None:
        """Sleep, recording the lines that arrive meanwhile."""
        while True:
            left = when - time.monotonic()
            if left <= 0:
                return
            self.next_event(left)

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=30)
        assert self.proc.returncode == -signal.SIGKILL, self._stderr()
        self.thread.join(timeout=30)
        while True:  # lines written before the kill are still in the pipe
            try:
                self.next_event(5)
            except AssertionError:  # the EOF marker
                break
        self.log.close()

    def _stderr(self) -> str:
        self.log.flush()
        return Path(self.log.name).read_text(errors="replace")[-4000:]


def _open(work_dir: Path, doc_class: type = CrashDoc):
    """The test's own handle. It never merges (a huge merge threshold): rows that a killed
    writer did not merge stay in the growing segment, so the next writer merges them while it
    opens, where a kill can land too."""
    from docstack.index import HnswDocumentIndex

    return HnswDocumentIndex[doc_class](
        work_dir=str(work_dir),
        merge_threshold=10**9,
        default_column_config=COLUMN_CONFIG,
    )


def _settle_in_flight(index, model: _Model, n: int) -> bool:
    """Check op ``n`` (in flight at the kill) is all there or all absent; apply it if there."""
    kind, ids, _ = model.op(n)
    if kind == "index":
        present = [i for i in ids if i in index]
        docs = index[present] if present else []
        written = sorted(d.id for d in docs if d.ver == n)
        assert written in ([], sorted(ids)), (
            f"op {n} (index of {len(ids)} docs) was torn by the kill: "
            f"{len(written)} of its docs carry its version"
        )
        applied = bool(written)
    else:
        expected_there = [i for i in ids if i in model.ver]
        still = [i for i in expected_there if i in index]
        assert len(still) in (0, len(expected_there)), (
            f"op {n} (delete) was torn by the kill: {len(still)} of "
            f"{len(expected_there)} docs survive"
        )
        applied = bool(expected_there) and not still
    if applied:
        model.apply(n)
    return applied


def _check(index, model: _Model, rng: random.Random, probe: int) -> None:
    """The reopened index holds exactly the model, and search, filters and writes work."""
    assert index.num_docs() == len(model.ver)
    ids = list(model.ver)
    if not ids:
        return
    docs = index[ids]
    assert docs.id == ids
    got_ver = np.asarray(docs.ver)
    want_ver = np.asarray([model.ver[i] for i in ids])
    bad = np.flatnonzero(got_ver != want_ver)
    assert not len(bad), f"{len(bad)} docs with a wrong version, e.g. {ids[bad[0]]}"
    got_vec = np.stack([np.asarray(e) for e in docs.emb])
    want_vec = np.stack([_vector(i, model.ver[i]) for i in ids])
    np.testing.assert_array_equal(got_vec, want_vec)

    # vector search: a stored vector finds its own document first, with cosine ~1
    top = max(model.ver.values())
    newest = [i for i in ids if model.ver[i] == top]
    upserted = [i for i, _ in model.superseded if i in model.ver]
    pool = rng.sample(ids, min(12, len(ids)))
    pool += rng.sample(newest, min(6, len(newest)))
    pool += rng.sample(upserted, min(6, len(upserted)))
    queries = np.stack([_vector(i, model.ver[i]) for i in pool])
    matches, scores = index.find_batched(queries, search_field="emb", limit=5)
    for doc_id, m, s in zip(pool, matches, scores):
        assert m[0].id == doc_id, (doc_id, m.id, s)
        assert s[0] == pytest.approx(1.0, abs=1e-4)
        assert all(d.id in model.ver for d in m), "find() returned a document not acknowledged"
        assert np.all(np.diff(s) <= 1e-6)

    # an overwritten version is no longer found
    for doc_id, old in rng.sample(model.superseded, min(8, len(model.superseded))):
        if model.ver.get(doc_id) == old:
            continue
        m, s = index.find(_vector(doc_id, old), search_field="emb", limit=1)
        assert not (m[0].id == doc_id and s[0] > 0.9999), f"old version of {doc_id} found"

    # deleted documents are gone
    for doc_id in rng.sample(model.deleted, min(20, len(model.deleted))):
        if doc_id not in model.ver:
            assert doc_id not in index

    # a filter, and a filtered vector search, on the newest version
    ver = top
    want = sorted(newest)
    got = index.filter({"ver": {"$eq": ver}}, limit=10**7)
    assert sorted(got.id) == want
    target = rng.choice(want)
    q = (
        index.build_query()
        .find(_vector(target, ver), search_field="emb")
        .filter(filter_query={"ver": {"$eq": ver}})
        .build(limit=3)
    )
    res = index.execute_query(q)
    assert res.documents[0].id == target
    assert all(d.ver == ver for d in res.documents)

    # the index still takes writes
    vec = np.random.default_rng(probe).standard_normal(16).astype(np.float32)
    probe_id = f"probe-{probe}"
    index.index(CrashDoc(id=probe_id, ver=-1, emb=vec))
    m, s = index.find(vec, search_field="emb", limit=1)
    assert m[0].id == probe_id and s[0] == pytest.approx(1.0, abs=1e-4)
    del index[probe_id]
    assert probe_id not in index
    assert index.num_docs() == len(model.ver)


def _tmp_files(graph_dir: Path) -> set[str]:
    try:
        return {e.name for e in os.scandir(graph_dir) if e.name.endswith(".tmp")}
    except FileNotFoundError:
        return set()


def _aim(
    writer: _Writer,
    mode: str,
    rng: random.Random,
    est: float,
    first_op: int,
    graph_dir: Path,
    seen_tmp: set[str],
) -> None:
    """Return at the moment to kill the writer, chosen by ``mode``. ``est`` is how long a
    write that merges takes."""
    if mode == "open":
        # START comes after the imports; then the index opens (and merges what a killed
        # writer left unmerged)
        t_start = writer.wait_for("START", None)
        writer.sleep_until(t_start + rng.uniform(0.0, 0.6))
        return
    target = first_op + rng.randrange(2)
    for _ in range(4):
        t_begin = writer.wait_for("BEGIN", target)
        if target not in writer.begun:  # the writer is idle: kill it there
            return
        if mode == "save":
            # watch for the temporary graph file and kill as soon as it appears
            while target not in writer.ack_time and time.monotonic() - t_begin < 30:
                if _tmp_files(graph_dir) - seen_tmp:
                    return
                writer.next_event(0.0005)
            target += 1  # that write did not merge: aim at the next one
            continue
        if mode == "write":
            delay = rng.uniform(0.0, 0.03)
        elif mode == "merge":
            delay = est * rng.uniform(0.1, 0.9)
        else:
            delay = rng.uniform(0.0, est)
        writer.sleep_until(t_begin + delay)
        quick = target in writer.ack_time and writer.ack_time[target] - t_begin < 0.1
        if mode == "merge" and quick:  # that write did not merge: aim at the next one
            target += 1
            continue
        return


def _kill_loop(
    tmp_path: Path,
    writer_text: str,
    model: _Model,
    doc_class: type,
    n_kills: int,
    check,
    seed: int,
) -> tuple[int, dict, Path, random.Random]:
    """Start the writer, kill it, reopen and check; ``n_kills`` times on one work_dir.
    Return the next op, what the kills hit, the work_dir and the random generator."""
    script = tmp_path / "writer.py"
    script.write_text(writer_text)
    work_dir = tmp_path / "index"
    log = tmp_path / "writer.log"
    rng = random.Random(int(os.environ.get("DOCSTACK_CRASH_SEED", seed)))
    next_op = 0
    slow: list[float] = []  # durations of writes that merged into the graph
    stats = {"applied": 0, "absent": 0, "tmp_graph_left": 0, "before_open": 0, "in_open": 0}
    seen_tmp: set[str] = set()

    for kill in range(n_kills):
        writer = _Writer(script, work_dir, next_op, log)
        mode = MODES[kill % len(MODES)]
        est = float(np.median(slow[-4:])) if slow else 0.5
        _aim(writer, mode, rng, est, next_op, work_dir / "hnsw", seen_tmp)
        writer.kill()
        for n in writer.acked:
            dur = writer.ack_time[n] - writer.begun[n]
            if dur > 0.1:
                slow.append(dur)

        # the acknowledged writes, in order, from where this writer started
        assert writer.acked == list(range(next_op, next_op + len(writer.acked)))
        for n in writer.acked:
            model.apply(n)
        in_flight = next_op + len(writer.acked)
        if writer.importing_done and not writer.opened:
            stats["in_open"] += 1
        elif not writer.opened:
            stats["before_open"] += 1
        tmp = _tmp_files(work_dir / "hnsw")
        stats["tmp_graph_left"] += len(tmp - seen_tmp)
        seen_tmp |= tmp

        if not work_dir.exists():  # killed before the index was created
            next_op = in_flight
            continue
        index = _open(work_dir, doc_class)
        try:
            if _settle_in_flight(index, model, in_flight):
                stats["applied"] += 1
            else:
                stats["absent"] += 1
            check(index, model, rng, kill)
        finally:
            index.close()
        next_op = in_flight + 1
    return next_op, stats, work_dir, rng


@pytest.mark.timeout(300)
def test_sigkill_during_large_writes_keeps_acknowledged_data(tmp_path):
    started = time.monotonic()
    model = _Model(op)
    next_op, stats, work_dir, rng = _kill_loop(
        tmp_path, _WRITER, model, CrashDoc, N_KILLS, _check, seed=20240611
    )

    # finally: one more large write and searches after all the crashes
    index = _open(work_dir)
    try:
        _check(index, model, rng, N_KILLS)
        kind, ids, vectors = op(next_op)
        if kind == "delete":
            next_op += 1
            kind, ids, vectors = op(next_op)
        index.index([CrashDoc(id=i, ver=next_op, emb=v) for i, v in zip(ids, vectors)])
        model.apply(next_op)
        _check(index, model, rng, N_KILLS + 1)
        assert len(list((work_dir / "hnsw").glob("*.bin"))) >= 1
    finally:
        index.close()

    elapsed = time.monotonic() - started
    print(
        f"\n{N_KILLS} kills over {next_op} ops in {elapsed:.1f}s: {stats}; "
        f"{len(model.ver)} docs at the end"
    )
    # the kills landed on both sides of the commit
    assert stats["applied"] >= 1 and stats["absent"] >= 1, stats


def _sub_vectors(doc_id: str, ver: int) -> tuple[np.ndarray, np.ndarray]:
    j = _sub_pos(ver)[doc_id]
    emb, parts = sub_op(ver)[2]
    return emb[j], parts[j]


@functools.lru_cache(maxsize=64)
def _sub_pos(n: int) -> dict[str, int]:
    return {doc_id: j for j, doc_id in enumerate(sub_op(n)[1])}


def _check_sub(index, model: _Model, rng: random.Random, probe: int) -> None:
    """Every acknowledged parent with exactly its acknowledged parts, no orphan part, and
    searches of both tables find what they should."""
    n_parts = _SUB_NS["PARTS"]
    assert index.num_docs() == len(model.ver)
    ids = list(model.ver)
    if not ids:
        return
    docs = index[ids]
    assert docs.id == ids
    for d in docs:
        ver = model.ver[d.id]
        emb, parts = _sub_vectors(d.id, ver)
        assert d.ver == ver, (d.id, d.ver, ver)
        np.testing.assert_array_equal(np.asarray(d.emb), emb)
        assert d.parts.id == [f"{d.id}/{k}" for k in range(n_parts)], (d.id, d.parts.id)
        assert d.parts.ver == [ver] * n_parts
        np.testing.assert_array_equal(np.stack([np.asarray(p.vec) for p in d.parts]), parts)
    # no part outlives its parent or its version
    all_parts = index.filter_subindex({}, subindex="parts", limit=10**7)
    assert len(all_parts) == n_parts * len(ids)

    for doc_id in rng.sample(ids, min(10, len(ids))):
        emb, parts = _sub_vectors(doc_id, model.ver[doc_id])
        m, s = index.find(emb, search_field="emb", limit=3)
        assert m[0].id == doc_id and s[0] == pytest.approx(1.0, abs=1e-4)
        k = rng.randrange(n_parts)
        roots, subs, s = index.find_subindex(
            parts[k], subindex="parts", search_field="vec", limit=3
        )
        assert subs[0].id == f"{doc_id}/{k}" and roots[0].id == doc_id
        assert s[0] == pytest.approx(1.0, abs=1e-4)


@pytest.mark.timeout(300)
def test_sigkill_during_writes_with_subindexes(tmp_path):
    model = _Model(sub_op)
    next_op, stats, work_dir, rng = _kill_loop(
        tmp_path, _SUB_WRITER, model, Parent, 10, _check_sub, seed=777
    )
    index = _open(work_dir, Parent)
    try:
        _check_sub(index, model, rng, 10)
        assert any(p.name.startswith("docs__parts.") for p in (work_dir / "hnsw").glob("*.bin"))
    finally:
        index.close()
    print(f"\n10 kills over {next_op} ops: {stats}; {len(model.ver)} parents at the end")


_DIMS_WRITER = textwrap.dedent(
    """
    import os
    import signal
    import sys

    import numpy as np

    from docstack import BaseDoc
    from docstack.index import HnswDocumentIndex
    from docstack.typing import NdArray


    class Loose(BaseDoc):
        emb: NdArray  # no dimension: the first write teaches it


    def die(self):
        # the process dies at this point: after index() committed the rows, before the
        # learnt dimension is stored
        os.kill(os.getpid(), signal.SIGKILL)


    HnswDocumentIndex._b_dims_changed = die
    index = HnswDocumentIndex[Loose](work_dir=sys.argv[1])
    index.index([Loose(id=str(i), emb=np.eye(4)[i]) for i in range(4)])
    """
)


def test_crash_before_the_learnt_dimension_is_stored(tmp_path):
    from docstack import BaseDoc
    from docstack.index import HnswDocumentIndex
    from docstack.typing import NdArray

    class Loose(BaseDoc):
        emb: NdArray

    script = tmp_path / "dims_writer.py"
    script.write_text(_DIMS_WRITER)
    work_dir = tmp_path / "index"
    proc = subprocess.run(
        [sys.executable, str(script), str(work_dir)], capture_output=True, timeout=120
    )
    assert proc.returncode == -signal.SIGKILL, proc.stderr.decode()

    index = HnswDocumentIndex[Loose](work_dir=str(work_dir))
    try:
        # the write in flight is all there or all absent
        assert index.num_docs() in (0, 4)
        if index.num_docs() == 4:
            for i in range(4):
                np.testing.assert_array_equal(index[str(i)].emb, np.eye(4)[i])
                docs, scores = index.find(np.eye(4)[i], search_field="emb", limit=1)
                assert docs.id == [str(i)]
    finally:
        index.close()

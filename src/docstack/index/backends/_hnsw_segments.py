"""The vectors of one field of an embedded HNSW index: an in-memory mirror by sequence number,
a sealed hnswlib graph saved beside the database, and a growing tail searched exactly.

Scores follow ``INDEX_METRICS``: hnswlib's cosine and inner product distances are ``1 - s``
and become similarities again; its ``'l2'`` space measures squared distances, which
``'sqeuclidean'`` keeps and ``'l2'`` takes the square root of.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from typing import Any

import numpy as np

from docstack._internal.metrics import higher_is_better
from docstack._internal.optional import import_optional
from docstack.index._exact import exact_search
from docstack.index._schema import Column, IndexSchema, RowBatch
from docstack.index.backends._hnsw_early import EarlyGraph, new_graph, threads
from docstack.index.backends._hnsw_early import hnsw_space as _hnsw_space
from docstack.index.backends._hnsw_store import Store, fsync_dir

__all__ = ["HNSW_DEFAULTS", "SPACES", "Segments", "start_early_graphs"]

# the metrics a graph file may be built for (its name carries one)
SPACES = ("cosine", "l2", "sqeuclidean", "ip")
# the most memory one cached exact-search subset may hold
_SUBSET_CACHE_BYTES = 256 << 20

HNSW_DEFAULTS: dict[str, Any] = {
    "space": "cosine",
    "max_elements": 1024,
    "ef_construction": 200,
    "ef": 64,
    "M": 16,
    "num_threads": -1,
    "allow_replace_deleted": False,
}


class Segments:
    """The vectors of one field: an in-memory mirror by seq, a sealed graph, a growing tail."""

    def __init__(self, table: str, column: Column, dim: int, store: Store) -> None:
        self.table = table
        self.column = column
        self.name = column.name
        self.dim = dim
        self.store = store
        self.space = column.space
        self.config = {**HNSW_DEFAULTS, **dict(column.config)}
        self.vectors = np.zeros((0, dim), dtype=np.float32)
        self.norms = np.zeros(0, dtype=np.float32)
        self.present = np.zeros(0, dtype=bool)
        self.graph: Any = None
        self.upto = 0  # the graph holds the live rows with seq <= upto
        self.n_present = 0  # rows with a vector
        self.n_sealed = 0  # of them, rows in the graph
        self.version = 0  # bumped by every change of vectors or presence
        # the rows, vectors and norms an exact filtered search gathered last, kept for the
        # next search with the same filter mask (filters repeat: a gather costs as much as
        # the search itself)
        self._subset: tuple[Any, ...] | None = None
        # a graph of the growing rows built while their write committed, adopted by merge()
        self.early: EarlyGraph | None = None

    def ensure(self, size: int) -> None:
        cap = len(self.present)
        if size <= cap:
            return
        new = max(size, 2 * cap, 1024)
        vectors = np.zeros((new, self.dim), dtype=np.float32)
        vectors[:cap] = self.vectors
        norms = np.zeros(new, dtype=np.float32)
        norms[:cap] = self.norms
        present = np.zeros(new, dtype=bool)
        present[:cap] = self.present
        self.vectors, self.norms, self.present = vectors, norms, present
        self.version += 1

    def put(self, seqs: np.ndarray, vectors: np.ndarray, missing: np.ndarray) -> None:
        if not len(seqs):
            return
        self.ensure(int(seqs.max()) + 1)
        first, last = int(seqs[0]), int(seqs[-1])
        if not missing.any() and last - first + 1 == len(seqs) and (np.diff(seqs) == 1).all():
            # one run of new seqs (every write): slices, no gathered copies
            s: Any = slice(first, last + 1)
            self.vectors[s] = vectors
        else:
            keep = ~missing
            s = seqs[keep]
            self.vectors[s] = vectors[keep]
        fresh = int((~self.present[s]).sum())
        rows = self.vectors[s]
        self.norms[s] = np.sqrt(np.einsum("ij,ij->i", rows, rows))
        self.present[s] = True
        self.n_present += fresh
        self.version += 1

    def kill(self, seqs: Sequence[int]) -> None:
        self.version += 1
        for seq in seqs:
            if seq < len(self.present) and self.present[seq]:
                self.present[seq] = False
                self.n_present -= 1
                if self.graph is not None and seq <= self.upto:
                    self.n_sealed -= 1
                    try:
                        self.graph.mark_deleted(int(seq))
                    except RuntimeError:  # already deleted (e.g. in a saved graph)
                        pass

    def growing(self, n_seq: int) -> np.ndarray:
        start = self.upto + 1
        if start >= n_seq:
            return np.zeros(0, dtype=np.int64)
        return start + np.flatnonzero(self.present[start:n_seq]).astype(np.int64)

    def sealed_live(self) -> int:
        return self.n_sealed if self.graph is not None else 0

    # -- graph files

    def _pattern(self) -> str:
        # the space is part of the name: a graph built for another metric is never loaded
        return f"{self.table}.{self.name}.{self.space}."

    def load_graph(self, max_seq: int) -> None:
        files = []
        for p in self.store.graph_dir.glob(self._pattern() + "*.bin"):
            rest = p.name[len(self._pattern()) : -4]
            if rest.isdigit():
                files.append((int(rest), p))
        files.sort(reverse=True)
        writable = not self.store.read_only  # a reader leaves the files to the writer
        for p in self.store.graph_dir.glob(f"{self.table}.{self.name}.*.tmp"):
            if writable:
                p.unlink(missing_ok=True)  # a save cut short by a crash
        hnswlib = import_optional("hnswlib")
        for upto, path in files:
            if upto > max_seq:
                continue  # written for rows that were never committed: ignore
            graph = hnswlib.Index(space=_hnsw_space(self.space), dim=self.dim)
            try:
                graph.load_index(str(path), max_elements=max(upto + 1, 16))
            except Exception:  # noqa: BLE001 - a damaged derived file is rebuilt
                continue
            self.graph, self.upto = graph, upto
            self.n_sealed = int(self.present[: upto + 1].sum())
            graph.set_ef(int(self.config["ef"]))
            graph.set_num_threads(threads(self.config["num_threads"]))
            dead = np.flatnonzero(~self.present[: upto + 1])
            labels = set(graph.get_ids_list())
            for seq in dead.tolist():
                if seq in labels:
                    try:
                        graph.mark_deleted(seq)
                    except RuntimeError:
                        pass
            break
        for upto, path in files:
            if writable and (self.graph is None or upto != self.upto):
                path.unlink(missing_ok=True)

    def merge(self, n_seq: int, progress: Any = None) -> None:
        built = self._adopt_early()
        rows = self.growing(n_seq)
        if len(built):
            rows = np.setdiff1d(rows, built, assume_unique=True)
        elif not len(rows):
            return
        cfg = self.config
        if self.graph is None:
            self.graph = new_graph(self.space, self.dim, cfg, n_seq)
        graph = self.graph
        if graph.get_max_elements() < n_seq:
            graph.resize_index(max(n_seq, 2 * graph.get_max_elements()))
        step = max(len(rows), 1) if progress is None else max(1000, len(rows) // 50)
        for start in range(0, len(rows), step):
            part = rows[start : start + step]
            graph.add_items(self.vectors[part], part, num_threads=threads(cfg["num_threads"]))
            if progress is not None:
                progress(len(part))
        self.upto = n_seq - 1
        self.n_sealed = self.n_present
        self.save()

    def _adopt_early(self) -> np.ndarray:
        """Take the graph built while its write committed (see ``_hnsw_early``); the rows it
        holds (none without one). Its rows deleted since are marked deleted in it."""
        early, self.early = self.early, None
        if early is None or self.graph is not None or early.space != self.space:
            return np.zeros(0, dtype=np.int64)
        graph = early.result()
        labels = early.labels
        gone = labels >= len(self.present)
        gone[~gone] = ~self.present[labels[~gone]]
        for seq in labels[gone].tolist():
            graph.mark_deleted(seq)
        graph.set_ef(int(self.config["ef"]))  # configure() may have changed it since
        graph.set_num_threads(threads(self.config["num_threads"]))
        self.graph = graph
        return labels

    def save(self) -> None:
        if self.graph is None or self.store.read_only:
            return  # a reader keeps a graph it builds (configure()) in memory only
        final = self.store.graph_dir / f"{self._pattern()}{self.upto}.bin"
        tmp = final.with_name(final.name + ".tmp")
        self.graph.save_index(str(tmp))
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(tmp, final)
        fsync_dir(self.store.graph_dir)
        # older graphs of this field, in this space or another (configure(space=) changed
        # it): the new one replaces them all
        prefix = f"{self.table}.{self.name}."
        for p in self.store.graph_dir.glob(prefix + "*.bin"):
            space, _, upto = p.name[len(prefix) : -4].partition(".")
            if p != final and upto.isdigit() and space in SPACES:
                p.unlink(missing_ok=True)

    def reset_graph(self) -> None:
        self.graph = None
        self.early = None
        self.upto = 0
        self.n_sealed = 0
        if self.store.read_only:
            return  # the files are the writer's (and other readers')
        for p in self.store.graph_dir.glob(self._pattern() + "*.bin"):
            p.unlink(missing_ok=True)

    # -- search

    def search(
        self,
        queries: np.ndarray,
        k: int,
        n_seq: int,
        allowed: np.ndarray | None,
        exact_threshold: int,
    ) -> list[tuple[np.ndarray, np.ndarray]]:
        metric = self.space
        if allowed is None:
            live = None
            n_live = self.n_present
        else:
            live = self.present[:n_seq] & allowed[:n_seq]
            n_live = int(live.sum())
        if n_live == 0 or k == 0:
            return [(np.zeros(0, np.int64), np.zeros(0)) for _ in range(len(queries))]
        k = min(k, n_live)
        sealed_live = self.sealed_live() if self.graph is not None else 0
        if (
            self.graph is None
            or sealed_live == 0
            or (allowed is not None and n_live <= exact_threshold)
        ):
            if live is None:
                live = self.present[:n_seq]
                rows = np.flatnonzero(live)
                if len(rows) == n_seq:
                    rows = None
                return exact_search(
                    self.vectors[:n_seq], queries, metric, k, rows=rows, norms=self.norms[:n_seq]
                )
            rows, sub, sub_norms = self._exact_subset(allowed, live, n_seq)
            return exact_search(sub, queries, metric, k, norms=sub_norms, keys=rows)
        grow = self.growing(n_seq)
        if allowed is not None and len(grow):
            grow = grow[allowed[grow]]
        exact = (
            exact_search(self.vectors, queries, metric, k, rows=grow, norms=self.norms)
            if len(grow)
            else None
        )
        graph_hits = self._graph_search(queries, k, allowed, n_live - len(grow), sealed_live)
        out = []
        for i, (gk, gs) in enumerate(graph_hits):
            if exact is not None:
                ek, es = exact[i]
                gk, gs = _merge(gk, gs, ek, es, k, higher_is_better(metric))
            out.append((gk, gs))
        return out

    def _exact_subset(
        self, allowed: np.ndarray, live: np.ndarray, n_seq: int
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The live rows a filter mask allows, with their vectors and norms gathered."""
        cached = self._subset
        if (
            cached is not None
            and cached[0] is allowed
            and cached[1] == n_seq
            and cached[2] == self.version
        ):
            return cached[3], cached[4], cached[5]
        rows = np.flatnonzero(live)
        sub, sub_norms = self.vectors[rows], self.norms[rows]
        self._subset = (
            (allowed, n_seq, self.version, rows, sub, sub_norms)
            if sub.nbytes <= _SUBSET_CACHE_BYTES
            else None
        )
        return rows, sub, sub_norms

    def _graph_search(
        self,
        queries: np.ndarray,
        k: int,
        allowed: np.ndarray | None,
        n_match: int,
        sealed_live: int,
    ) -> list[tuple[np.ndarray, np.ndarray]]:
        want = min(k, n_match)
        if want <= 0:
            return [(np.zeros(0, np.int64), np.zeros(0)) for _ in range(len(queries))]
        fraction = n_match / max(sealed_live, 1)
        fetch = (
            want if allowed is None else min(sealed_live, int(math.ceil(want / fraction * 2)) + 10)
        )
        results: list[tuple[np.ndarray, np.ndarray] | None] = [None] * len(queries)
        todo = np.arange(len(queries))
        base_ef = int(self.config["ef"])
        if allowed is None:
            labels, dists = self._knn(queries, min(want, sealed_live), max(base_ef, want))
            if (labels >= 0).all():  # the common case: every query got its k neighbours
                labels = labels.astype(np.int64)
                scores = _scores(dists, self.space)
                return [(labels[i], scores[i]) for i in range(len(queries))]
        while len(todo):
            fetch = min(fetch, sealed_live)
            ef = max(int(base_ef / fraction) if allowed is not None else base_ef, fetch)
            labels, dists = self._knn(queries[todo], fetch, ef)
            again = []
            for j, qi in enumerate(todo.tolist()):
                lab, dist = labels[j], dists[j]
                valid = lab >= 0
                lab, dist = lab[valid], dist[valid]
                if allowed is not None:
                    ok = allowed[lab]
                    lab, dist = lab[ok], dist[ok]
                if len(lab) >= want or fetch >= sealed_live:
                    results[qi] = (lab[:want].astype(np.int64), _scores(dist[:want], self.space))
                else:
                    again.append(qi)
            todo = np.asarray(again, dtype=np.int64)
            fetch = min(sealed_live, fetch * 4)
        return results  # type: ignore[return-value]

    def _knn(self, queries: np.ndarray, k: int, ef: int) -> tuple[np.ndarray, np.ndarray]:
        graph = self.graph
        graph.set_ef(max(ef, k))
        try:
            while True:
                try:
                    return graph.knn_query(queries, k=k)
                except RuntimeError:
                    # too many deleted neighbours for this ef: widen, then give up on k
                    if graph.ef < 4 * k + 64:
                        graph.set_ef(graph.ef * 2)
                        continue
                    if k <= 1:
                        raise
                    k = max(1, k // 2)
        finally:
            graph.set_ef(int(self.config["ef"]))


def _scores(dist: np.ndarray, metric: str) -> np.ndarray:
    """hnswlib's distances as the index's scores (see ``INDEX_METRICS``)."""
    d = dist.astype(np.float64)
    if metric == "l2":
        return np.sqrt(np.maximum(d, 0.0))
    if metric == "sqeuclidean":
        return np.maximum(d, 0.0)
    return 1.0 - d


def _merge(
    ak: np.ndarray, as_: np.ndarray, bk: np.ndarray, bs: np.ndarray, k: int, higher: bool
) -> tuple[np.ndarray, np.ndarray]:
    keys = np.concatenate([ak, bk])
    scores = np.concatenate([as_, bs])
    order = np.lexsort((keys, -scores if higher else scores))[:k]
    return keys[order], scores[order]


def start_early_graphs(
    schema: IndexSchema,
    segments: dict[str, Segments],
    seqs: np.ndarray,
    batch: RowBatch,
    replaced: list[int],
    threshold: int,
) -> dict[str, EarlyGraph]:
    """Start building, in a background thread while the write commits, the graph of each
    vector field that has none and that the write of ``batch`` (rows ``seqs``, replacing the
    rows ``replaced``) makes due for a merge: a bulk first load then overlaps the graph build
    with the SQLite write. The graph holds the field's growing rows and the new ones."""
    out: dict[str, EarlyGraph] = {}
    for name, col in schema.vector_columns.items():
        vectors, keep = batch.values[name], ~batch.vector_missing[name]
        seg = segments.get(name)
        busy = seg is not None and (seg.graph is not None or seg.early is not None)
        if not vectors.shape[1] or busy:
            continue
        held = np.zeros(0, dtype=np.int64)
        if seg is not None:  # rows of earlier writes, below the merge threshold
            held = np.setdiff1d(seg.growing(int(seqs[0])), replaced)
        if len(held) + int(keep.sum()) < threshold:
            continue
        new = vectors if keep.all() else vectors[keep]
        if seg is None:
            space, config = col.space, {**HNSW_DEFAULTS, **dict(col.config)}
        else:
            space, config = seg.space, seg.config
            if len(held):
                new = np.concatenate([seg.vectors[held], new])
        labels = np.concatenate([held, seqs[keep]])
        out[name] = EarlyGraph(space, config, labels, new, int(seqs[-1]) + 1)
    return out


# doctest compiles examples with the __future__ flags of the module namespace
del annotations

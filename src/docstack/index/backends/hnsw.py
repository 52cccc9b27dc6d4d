"""``HnswDocumentIndex``: the embedded default index. SQLite is the truth, HNSW is derived.

Layout of ``work_dir``:

- ``docstack.sqlite3``: one SQLite database (WAL mode). Each index (the root and every
  sub-index) is a table with a ``seq`` (an increasing number per written row), the document
  ``id``, its parent's id and position (sub-indexes), and one column per field: scalars as
  SQL values (so filters run as SQL), vectors as float32 blobs, other values as bytes. A text
  field gets an FTS5 table (BM25) the first time it is searched; from then on it is kept in
  the same transactions. Every ``index()`` call is one transaction: when it returns, the
  write is durable.
- ``hnsw/<table>.<field>.<seq>.bin``: a sealed HNSW graph (hnswlib) of the rows up to
  ``seq``. Rows written after that form the growing segment, searched exactly (they are in
  memory) until enough of them are merged into the graph, which is then saved under a new
  name (written to a temporary file, synced, renamed). A crash therefore loses nothing
  acknowledged: on open the database is read, the newest graph loaded, and the rows it does
  not cover are the growing segment again.

Filtered vector search is exact on the matching rows when the filter keeps few of them
(``exact_search_threshold``), and otherwise searches the graph for more candidates than asked,
widening until enough of them pass the filter: correct at any selectivity.
"""

from __future__ import annotations

import math
import os
import sqlite3
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np
import orjson

from docstack._internal.optional import import_optional
from docstack._internal.query import FilterNode
from docstack.errors import DocstackError
from docstack.index._base import BaseDBConfig, DocumentIndex
from docstack.index._bm25 import fts_match_expression
from docstack.index._exact import exact_search
from docstack.index._schema import Column, IndexSchema, RowBatch, decode_tensor, encode_tensor
from docstack.index._sql_filter import SqlColumn, compile_filter, register_functions

__all__ = ["HnswDocumentIndex"]

_DB_NAME = "docstack.sqlite3"
_LOCK_NAME = "docstack.lock"
# the metrics a graph file may be built for (its name carries one)
_SPACES = ("cosine", "l2", "ip")
# the most memory one cached exact-search subset may hold
_SUBSET_CACHE_BYTES = 256 << 20
_FORMAT_VERSION = "1"
_SQL_TYPES = {
    "str": "TEXT",
    "int": "INTEGER",
    "float": "REAL",
    "bool": "INTEGER",
    "presence": "INTEGER",
    "vector": "BLOB",
    "tensor": "BLOB",
    "bytes": "BLOB",
    "json": "BLOB",
}
_CHUNK = 5000


@dataclass
class HnswDBConfig(BaseDBConfig):
    """Settings of :class:`HnswDocumentIndex`.

    - ``work_dir``: the folder holding the database and graphs (created if missing).
    - ``merge_threshold``: how many rows the growing segment of a vector field collects
      before they are merged into the HNSW graph.
    - ``exact_search_threshold``: a filtered search over at most this many matching rows is
      exact.
    - ``row_cache_bytes``: the stored values of the documents (all but vectors, which are in
      memory anyway) are also kept in memory, so that building search results reads no
      database, as long as they take at most this much (text and bytes by length, other
      values 8 bytes); beyond it, results are read from SQLite. ``0`` turns the cache off.
    """

    work_dir: str = "."
    merge_threshold: int = 10_000
    exact_search_threshold: int = 20_000
    row_cache_bytes: int = 256 << 20


_HNSW_DEFAULTS: dict[str, Any] = {
    "space": "cosine",
    "max_elements": 1024,
    "ef_construction": 200,
    "ef": 64,
    "M": 16,
    "num_threads": -1,
    "allow_replace_deleted": False,
}


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _lock_work_dir(work_dir: Path) -> Any:
    """Hold an exclusive lock on ``work_dir`` for as long as the returned file is open.

    The in-memory state of an open index (the sequence counter, the vectors of the growing
    segment, the graphs) mirrors the database; a second handle on the same directory would
    drift from it after the first one writes. So a work_dir is opened by one index at a
    time, in this process or any other. The operating system drops the lock when the
    process ends, killed or not.
    """
    f = open(work_dir / _LOCK_NAME, "a+b")  # noqa: SIM115 - held open as the lock
    try:
        if os.name == "nt":  # pragma: no cover - Windows
            import msvcrt

            msvcrt.locking(f.fileno(), msvcrt.LK_NBLCK, 1)
        else:
            import fcntl

            fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        f.close()
        raise DocstackError(
            f"{work_dir} is already open in another HnswDocumentIndex (in this process or "
            "another): close that one first (index.close()), or use another work_dir"
        ) from None
    return f


class _Store:
    """What the root index and its sub-indexes share: the database and pending memory work."""

    def __init__(self, work_dir: Path) -> None:
        self.work_dir = work_dir
        self.graph_dir = work_dir / "hnsw"
        self.graph_dir.mkdir(parents=True, exist_ok=True)
        self.lock = _lock_work_dir(work_dir)
        try:
            self._connect(work_dir)
        except BaseException:
            self.close()
            raise
        self.in_tx = False
        self.after_commit: list[Callable[[], None]] = []

    def close(self) -> None:
        """Close the database and release the work_dir (idempotent)."""
        conn = getattr(self, "conn", None)
        if conn is not None:
            conn.close()
        if not self.lock.closed:
            self.lock.close()

    def _connect(self, work_dir: Path) -> None:
        self.conn = sqlite3.connect(
            str(work_dir / _DB_NAME), isolation_level=None, check_same_thread=False
        )
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=FULL")
        register_functions(self.conn)
        self.conn.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT)")
        version = self.get_meta("format_version")
        if version is None:
            self.set_meta("format_version", _FORMAT_VERSION)
        elif version != _FORMAT_VERSION:
            raise DocstackError(
                f"{work_dir} holds an index of format {version}; this docstack reads "
                f"format {_FORMAT_VERSION}"
            )

    def get_meta(self, key: str) -> str | None:
        row = self.conn.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return None if row is None else row[0]

    def set_meta(self, key: str, value: str) -> None:
        self.conn.execute(
            "INSERT INTO meta(key, value) VALUES(?, ?) "
            "ON CONFLICT(key) DO UPDATE SET value=excluded.value",
            (key, value),
        )

    @contextmanager
    def transaction(self) -> Iterator[None]:
        if self.in_tx:
            yield
            return
        self.conn.execute("BEGIN IMMEDIATE")
        self.in_tx = True
        try:
            yield
        except BaseException:
            self.in_tx = False
            self.after_commit.clear()
            self.conn.execute("ROLLBACK")
            raise
        self.in_tx = False
        try:
            self.conn.execute("COMMIT")
        except BaseException:
            self.after_commit.clear()
            if self.conn.in_transaction:
                self.conn.execute("ROLLBACK")
            raise
        work, self.after_commit = self.after_commit, []
        for fn in work:
            fn()


class _RowCache:
    """The stored values of a table's rows, by seq, as SQLite returns them.

    Filled from the database on first use and then kept in step by the same after-commit
    work that keeps the vector segments in step, so it never holds a write that was rolled
    back. Ids and columns are object arrays indexed by seq (grown by doubling), so the rows
    of a search's results are gathered with one fancy index per column. ``size`` is an
    estimate (text and bytes by length, 8 bytes a value).
    """

    def __init__(self, names: list[str]) -> None:
        self.names = names
        self.n = 0  # seqs below n have a slot
        self.ids = np.full(0, None, dtype=object)  # None: no live row with this seq
        self.live = np.zeros(0, dtype=bool)
        self.columns: list[np.ndarray] = [np.full(0, None, dtype=object) for _ in names]
        self.size = 0

    @staticmethod
    def value_size(value: Any) -> int:
        return len(value) + 8 if isinstance(value, (str, bytes)) else 8

    def _grow(self, n: int) -> None:
        if n <= self.n:
            return
        if n > len(self.ids):
            cap = max(n, 2 * len(self.ids), 1024)

            def widen(arr: np.ndarray, fill: Any) -> np.ndarray:
                out = np.full(cap, fill, dtype=arr.dtype)
                out[: self.n] = arr[: self.n]
                return out

            self.ids = widen(self.ids, None)
            self.live = widen(self.live, False)
            self.columns = [widen(c, None) for c in self.columns]
        self.n = n

    @staticmethod
    def _objects(values: list[Any]) -> np.ndarray:
        out = np.empty(len(values), dtype=object)
        out[:] = values  # element by element: a bytes value stays one object
        return out

    def put(self, seqs: list[int], ids: list[str], columns: list[list[Any]]) -> None:
        """Rows at ``seqs``: their ids and one list of stored values per cached column."""
        if not seqs:
            return
        self._grow(max(seqs) + 1)
        at = np.asarray(seqs, dtype=np.int64)
        size = self.value_size
        self.size += sum(len(i) + 8 for i in ids)
        self.ids[at] = self._objects(ids)
        self.live[at] = True
        for col, values in zip(self.columns, columns):
            col[at] = self._objects(values)
            self.size += sum(map(size, values))

    def set(self, seq: int, j: int, value: Any) -> None:
        col = self.columns[j]
        self.size += self.value_size(value) - self.value_size(col[seq])
        col[seq] = value

    def drop(self, seqs: list[int]) -> None:
        size = self.value_size
        for seq in seqs:
            if seq < self.n and self.live[seq]:
                self.size -= len(self.ids[seq]) + 8
                self.ids[seq] = None
                self.live[seq] = False
                for col in self.columns:
                    self.size -= size(col[seq])
                    col[seq] = None

    def rows(self, seqs: list[int] | np.ndarray) -> tuple[np.ndarray, list[str], list[list[Any]]]:
        """The live ones of ``seqs`` (in order), their ids and their columns."""
        at = np.asarray(seqs, dtype=np.int64)
        at = at[at < self.n]
        found = at[self.live[at]]
        return found, self.ids[found].tolist(), [c[found].tolist() for c in self.columns]


class _Segments:
    """The vectors of one field: an in-memory mirror by seq, a sealed graph, a growing tail."""

    def __init__(self, table: str, column: Column, dim: int, store: _Store) -> None:
        self.table = table
        self.column = column
        self.name = column.name
        self.dim = dim
        self.store = store
        self.space = column.space
        self.config = {**_HNSW_DEFAULTS, **dict(column.config)}
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
        keep = ~missing
        s = seqs[keep]
        fresh = int((~self.present[s]).sum())
        self.vectors[s] = vectors[keep]
        self.norms[s] = np.linalg.norm(vectors[keep], axis=1)
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
        for p in self.store.graph_dir.glob(f"{self.table}.{self.name}.*.tmp"):
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
            graph.set_num_threads(_threads(self.config["num_threads"]))
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
            if self.graph is None or upto != self.upto:
                path.unlink(missing_ok=True)

    def merge(self, n_seq: int, progress: Any = None) -> None:
        rows = self.growing(n_seq)
        if not len(rows):
            return
        hnswlib = import_optional("hnswlib")
        cfg = self.config
        if self.graph is None:
            graph = hnswlib.Index(space=_hnsw_space(self.space), dim=self.dim)
            graph.init_index(
                max_elements=max(int(cfg["max_elements"]), n_seq),
                M=int(cfg["M"]),
                ef_construction=int(cfg["ef_construction"]),
                allow_replace_deleted=bool(cfg["allow_replace_deleted"]),
            )
            graph.set_ef(int(cfg["ef"]))
            graph.set_num_threads(_threads(cfg["num_threads"]))
            self.graph = graph
        graph = self.graph
        if graph.get_max_elements() < n_seq:
            graph.resize_index(max(n_seq, 2 * graph.get_max_elements()))
        step = len(rows) if progress is None else max(1000, len(rows) // 50)
        for start in range(0, len(rows), step):
            part = rows[start : start + step]
            graph.add_items(self.vectors[part], part, num_threads=_threads(cfg["num_threads"]))
            if progress is not None:
                progress(len(part))
        self.upto = n_seq - 1
        self.n_sealed = self.n_present
        self.save()

    def save(self) -> None:
        if self.graph is None:
            return
        final = self.store.graph_dir / f"{self._pattern()}{self.upto}.bin"
        tmp = final.with_name(final.name + ".tmp")
        self.graph.save_index(str(tmp))
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(tmp, final)
        _fsync_dir(self.store.graph_dir)
        # older graphs of this field, in this space or another (configure(space=) changed
        # it): the new one replaces them all
        prefix = f"{self.table}.{self.name}."
        for p in self.store.graph_dir.glob(prefix + "*.bin"):
            space, _, upto = p.name[len(prefix) : -4].partition(".")
            if p != final and upto.isdigit() and space in _SPACES:
                p.unlink(missing_ok=True)

    def reset_graph(self) -> None:
        self.graph = None
        self.upto = 0
        self.n_sealed = 0
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
                gk, gs = _merge(gk, gs, ek, es, k, metric != "l2")
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


def _require_fts5(conn: sqlite3.Connection) -> None:
    """Raise a ``DocstackError`` that says why when this process's SQLite has no FTS5.

    Python's SQLite has FTS5, but TensorFlow bundles an SQLite without it, and when
    ``tensorflow`` is imported before ``sqlite3`` its copy serves the whole process.
    """
    try:
        conn.execute("CREATE VIRTUAL TABLE temp.docstack_fts5_probe USING fts5(body)")
        conn.execute("DROP TABLE temp.docstack_fts5_probe")
    except sqlite3.OperationalError as exc:
        if "fts5" not in str(exc):
            raise
        raise DocstackError(
            f"the SQLite this process uses (version {sqlite3.sqlite_version}) has no FTS5, "
            "which text search needs. TensorFlow brings an SQLite without it: import "
            "docstack.index (or sqlite3) before tensorflow"
        ) from exc


def _threads(n: Any) -> int:
    n = int(n)
    return n if n > 0 else (os.cpu_count() or 1)


def _hnsw_space(metric: str) -> str:
    return {"cosine": "cosine", "l2": "l2", "ip": "ip"}[metric]


def _scores(dist: np.ndarray, metric: str) -> np.ndarray:
    d = dist.astype(np.float64)
    if metric == "l2":
        return np.sqrt(np.maximum(d, 0.0))
    return 1.0 - d


def _merge(
    ak: np.ndarray, as_: np.ndarray, bk: np.ndarray, bs: np.ndarray, k: int, higher: bool
) -> tuple[np.ndarray, np.ndarray]:
    keys = np.concatenate([ak, bk])
    scores = np.concatenate([as_, bs])
    order = np.lexsort((keys, -scores if higher else scores))[:k]
    return keys[order], scores[order]


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(str(path), os.O_RDONLY)
    except OSError:  # pragma: no cover - platforms without directory fds
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class HnswDocumentIndex(DocumentIndex):
    """The embedded, persistent Document Index: SQLite for documents, filters and BM25 text
    search, hnswlib for approximate vector search.

    Per vector field, ``Field(...)`` (or ``configure(default_column_config={np.ndarray:
    {...}})``) sets ``space`` (``'cosine'`` by default, ``'l2'``, ``'ip'``), ``dim``, ``M``
    (16), ``ef_construction`` (200), ``ef`` (64, the search breadth), ``max_elements`` (the
    initial capacity; it grows) and ``num_threads`` (-1: all cores).

    Example
    -------
    >>> import tempfile
    >>> import numpy as np
    >>> from docstack import BaseDoc, DocList
    >>> from docstack.typing import NdArray
    >>> class MyDoc(BaseDoc):
    ...     text: str
    ...     embedding: NdArray[8]
    >>> work_dir = tempfile.mkdtemp()
    >>> index = HnswDocumentIndex[MyDoc](work_dir=work_dir)
    >>> vectors = np.eye(8)
    >>> index.index(DocList[MyDoc]([MyDoc(text=f'text {i}', embedding=vectors[i])
    ...                             for i in range(8)]))
    >>> matches, scores = index.find(vectors[3], search_field='embedding', limit=1)
    >>> matches.text, scores.round(3).tolist()
    (['text 3'], [1.0])
    >>> index.close()  # one open index per work_dir at a time
    >>> HnswDocumentIndex[MyDoc](work_dir=work_dir).num_docs()
    8
    """

    DBConfig = HnswDBConfig

    @classmethod
    def _default_column_config(cls) -> dict[Any, dict[str, Any]]:
        return {np.ndarray: dict(_HNSW_DEFAULTS)}

    # ------------------------------------------------------------------ opening

    def _b_open(self) -> None:
        if not hasattr(self, "_store"):
            import_optional("hnswlib")
            work_dir = Path(self._db_config.work_dir)
            work_dir.mkdir(parents=True, exist_ok=True)
            self._store = _Store(work_dir)
            self._owns_store = True
            self._table = "docs"
        self._filter_cache: OrderedDict[Any, np.ndarray] = OrderedDict()
        self._version = 0
        self._cache: _RowCache | None = None
        self._cache_off = False
        self._create_table()
        self._load_state()

    def _b_abort_open(self) -> None:
        # a failed open releases the work_dir, so that a later open may succeed
        if getattr(self, "_owns_store", False) and hasattr(self, "_store"):
            self._store.close()

    def _b_subindex(self, name: str, doc_type: type) -> DocumentIndex:
        cls = HnswDocumentIndex[doc_type]
        child = cls.__new__(cls)
        child._store = self._store
        child._owns_store = False
        child._table = f"{self._table}__{name}"
        DocumentIndex.__init__(
            child,
            work_dir=self._db_config.work_dir,
            merge_threshold=self._db_config.merge_threshold,
            exact_search_threshold=self._db_config.exact_search_threshold,
            default_column_config=self._db_config.default_column_config,
        )
        child._lock = self._lock
        return child

    def _schema_signature(self) -> str:
        return orjson.dumps({n: c.kind for n, c in self._schema.columns.items()}).decode()

    def _create_table(self) -> None:
        store, table = self._store, self._table
        cols = [
            f"{_q(n)} {_SQL_TYPES[c.kind]}" for n, c in self._schema.columns.items() if n != "id"
        ] + [f"{_q(n + '__orig')} BLOB" for n in self._schema.vector_columns]
        signature = self._schema_signature()
        with store.transaction():
            stored = store.get_meta(f"schema:{table}")
            if stored is not None and stored != signature:
                raise DocstackError(
                    f"the index in {store.work_dir} was created for another schema of "
                    f"{self._doc_type.__name__} (table {table!r}): stored columns "
                    f"{stored}, this schema {signature}; open it with the schema it was "
                    "built with, or use another work_dir"
                )
            store.conn.execute(
                f"CREATE TABLE IF NOT EXISTS {_q(table)} (seq INTEGER PRIMARY KEY "
                "AUTOINCREMENT, id TEXT NOT NULL UNIQUE, parent_id TEXT, position INTEGER"
                + "".join(", " + c for c in cols)
                + ")"
            )
            store.conn.execute(
                f"CREATE INDEX IF NOT EXISTS {_q(table + '_parent')} ON {_q(table)}(parent_id)"
            )
            dims = store.get_meta(f"dims:{table}")
            if dims is not None:
                for name, dim in orjson.loads(dims).items():
                    known = self._dims.get(name)
                    if known is not None and known != dim:
                        raise DocstackError(
                            f"field {name!r} has dimension {known} in the schema but {dim} in "
                            f"the index stored in {store.work_dir}; open it with the schema "
                            "it was built with, or use another work_dir"
                        )
                    self._dims[name] = int(dim)
            store.set_meta(f"schema:{table}", signature)
            store.set_meta(f"dims:{table}", orjson.dumps(self._dims).decode())

    def _b_dims_changed(self) -> None:
        store = self._store
        with store.transaction():
            store.set_meta(f"dims:{self._table}", orjson.dumps(self._dims).decode())

    def _load_state(self) -> None:
        conn, table = self._store.conn, self._table
        rows = conn.execute(f"SELECT seq, id FROM {_q(table)}").fetchall()
        self._seq_of: dict[str, int] = {i: s for s, i in rows}
        row = conn.execute("SELECT seq FROM sqlite_sequence WHERE name=?", (table,)).fetchone()
        self._next_seq = max((row[0] if row else 0), max((s for s, _ in rows), default=0)) + 1
        self._segments: dict[str, _Segments] = {}
        self._fts: set[str] = set()
        fts = self._store.get_meta(f"fts:{table}")
        if fts:
            self._fts = set(orjson.loads(fts))
            _require_fts5(conn)  # every write also writes the text tables
        ordered = np.sort(
            np.fromiter(self._seq_of.values(), dtype=np.int64, count=len(self._seq_of))
        )
        learnt = False
        for name, col in self._schema.vector_columns.items():
            dim = self._dims.get(name)
            if dim is None:
                # rows committed before their learnt dimension was recorded (a crash in
                # between): the stored float32 blobs tell it
                row = conn.execute(
                    f"SELECT length({_q(name)}) FROM {_q(table)} WHERE {_q(name)} IS NOT NULL "
                    "LIMIT 1"
                ).fetchone()
                if row is None or not row[0]:
                    continue
                dim = self._dims[name] = int(row[0]) // 4
                learnt = True
            if learnt:
                with self._store.transaction():
                    self._store.set_meta(f"dims:{table}", orjson.dumps(self._dims).decode())
            seg = _Segments(table, col, dim, self._store)
            seg.ensure(self._next_seq)
            for start in range(0, len(ordered), 50_000):
                part = ordered[start : start + 50_000]
                got = conn.execute(
                    f"SELECT seq, {_q(name)} FROM {_q(table)} WHERE seq >= ? AND seq <= ? "
                    f"AND {_q(name)} IS NOT NULL",
                    (int(part[0]), int(part[-1])),
                ).fetchall()
                if got:
                    s = np.fromiter((g[0] for g in got), dtype=np.int64, count=len(got))
                    v = np.frombuffer(b"".join(g[1] for g in got), dtype=np.float32)
                    seg.put(s, v.reshape(len(got), dim), np.zeros(len(got), dtype=bool))
            seg.load_graph(self._next_seq - 1)
            self._segments[name] = seg
        self._maybe_merge(None)

    # ------------------------------------------------------------------ writes

    @contextmanager
    def _b_transaction(self) -> Iterator[None]:
        with self._store.transaction():
            yield

    def _b_upsert(self, batch: RowBatch) -> None:
        conn, table = self._store.conn, self._table
        old = [self._seq_of[i] for i in batch.ids if i in self._seq_of]
        if old:
            self._delete_seqs(old)
        m = len(batch)
        first = self._next_seq
        seqs = np.arange(first, first + m, dtype=np.int64)
        names = []
        for n, c in self._schema.columns.items():
            if n != "id":
                names.append(n)
                if c.kind == "vector":
                    names.append(n + "__orig")
        columns: list[Any] = []
        for name in names:
            col = self._schema.columns.get(name)
            if col is None:  # the __orig companion, filled with its vector column
                continue
            values = batch.values[name]
            if col.kind == "vector":
                miss = batch.vector_missing[name]
                blobs = [None if miss[i] else values[i].tobytes() for i in range(m)]
                columns.append(blobs)
                orig = batch.originals.get(name)
                columns.append(
                    [None] * m
                    if orig is None
                    else [None if o is None else encode_tensor(o) for o in orig]
                )
            elif col.kind == "bool":
                columns.append([None if v is None else int(v) for v in values])
            elif col.kind == "presence":
                columns.append([int(v) for v in values])
            else:
                columns.append(values)
        parents = batch.parents if batch.parents is not None else [None] * m
        positions = batch.positions if batch.positions is not None else [None] * m
        sql = (
            f"INSERT INTO {_q(table)} (seq, id, parent_id, position"
            + "".join(", " + _q(n) for n in names)
            + ") VALUES (?, ?, ?, ?"
            + ", ?" * len(names)
            + ")"
        )
        conn.executemany(sql, zip(seqs.tolist(), batch.ids, parents, positions, *columns))
        for name in self._fts:
            conn.executemany(
                f"INSERT INTO {_q(self._fts_table(name))} (rowid, body) VALUES (?, ?)",
                [(s, v) for s, v in zip(seqs.tolist(), batch.values[name]) if v is not None],
            )
        ids = list(batch.ids)
        stored = dict(zip([n for n in names], columns))

        def apply() -> None:
            self._next_seq = first + m
            for doc_id, seq in zip(ids, seqs.tolist()):
                self._seq_of[doc_id] = seq
            self._cache_changed(
                lambda cache: cache.put(seqs.tolist(), ids, [stored[name] for name in cache.names])
            )
            for name, col in self._schema.vector_columns.items():
                vectors = batch.values[name]
                seg = self._segments.get(name)
                if seg is None:
                    if not vectors.shape[1]:
                        continue  # no vector seen yet: the dimension is still unknown
                    seg = _Segments(self._table, col, vectors.shape[1], self._store)
                    self._segments[name] = seg
                seg.ensure(self._next_seq)
                seg.put(seqs, vectors, batch.vector_missing[name])
            self._changed()

        self._store.after_commit.append(apply)
        self._next_seq = first + m  # seqs stay unique inside the transaction

    def _delete_seqs(self, seqs: list[int]) -> None:
        conn, table = self._store.conn, self._table
        conn.executemany(f"DELETE FROM {_q(table)} WHERE seq=?", [(s,) for s in seqs])
        for name in self._fts:
            conn.executemany(
                f"DELETE FROM {_q(self._fts_table(name))} WHERE rowid=?", [(s,) for s in seqs]
            )

        def apply() -> None:
            for seg in self._segments.values():
                seg.kill(seqs)
            self._cache_changed(lambda cache: cache.drop(seqs))
            self._changed()

        self._store.after_commit.append(apply)

    def _changed(self) -> None:
        self._version += 1
        self._filter_cache.clear()

    def _b_delete(self, ids: Sequence[str]) -> list[str]:
        found = [i for i in dict.fromkeys(ids) if i in self._seq_of]
        if found:
            seqs = [self._seq_of[i] for i in found]
            self._delete_seqs(seqs)
            self._forget(found)
        return found

    def _forget(self, ids: list[str]) -> None:
        def apply() -> None:
            for i in ids:
                self._seq_of.pop(i, None)

        self._store.after_commit.append(apply)

    def _b_delete_children(self, parent_ids: Sequence[str]) -> list[str]:
        rows = self._select_in("seq, id", "parent_id", list(parent_ids))
        if not rows:
            return []
        self._delete_seqs([r[0] for r in rows])
        ids = [r[1] for r in rows]
        self._forget(ids)
        return ids

    def _b_update(self, doc_id: str, values: dict[str, Any]) -> bool:
        seq = self._seq_of.get(doc_id)
        if seq is None:
            return False
        conn = self._store.conn
        changes: list[tuple[str, Any]] = []
        for name, value in values.items():
            col = self._schema.columns[name]
            stored = int(value) if (col.kind == "bool" and value is not None) else value
            changes.append((name, stored))
            conn.execute(f"UPDATE {_q(self._table)} SET {_q(name)}=? WHERE seq=?", (stored, seq))
            if name in self._fts:
                fts = _q(self._fts_table(name))
                conn.execute(f"DELETE FROM {fts} WHERE rowid=?", (seq,))
                if value is not None:
                    conn.execute(f"INSERT INTO {fts} (rowid, body) VALUES (?, ?)", (seq, value))

        def update_cache(cache: _RowCache) -> None:
            for name, stored in changes:
                cache.set(seq, cache.names.index(name), stored)

        self._store.after_commit.append(lambda: self._cache_changed(update_cache))
        self._store.after_commit.append(self._changed)
        return True

    def _after_write(self, show_progress: bool) -> None:
        self._maybe_merge(show_progress)
        for child in self._subindices.values():
            assert isinstance(child, HnswDocumentIndex)
            child._after_write(False)

    def _maybe_merge(self, show_progress: bool | None) -> None:
        threshold = int(self._db_config.merge_threshold)
        for seg in self._segments.values():
            pending = len(seg.growing(self._next_seq))
            if pending >= threshold:
                if show_progress:
                    from rich.progress import Progress

                    with Progress(transient=True) as bar:
                        task = bar.add_task(f"HNSW {seg.name}", total=pending)
                        seg.merge(self._next_seq, lambda n, t=task, b=bar: b.advance(t, n))
                else:
                    seg.merge(self._next_seq)

    def _b_reconfigured(self, old: IndexSchema) -> None:
        for name, seg in self._segments.items():
            new = {**_HNSW_DEFAULTS, **dict(self._schema.columns[name].config)}
            graph_keys = ("space", "M", "ef_construction")
            changed = any(new[k] != seg.config[k] for k in graph_keys)
            seg.config = new
            seg.column = self._schema.columns[name]
            if changed:
                seg.space = seg.column.space
                seg.reset_graph()
            elif seg.graph is not None:
                seg.graph.set_ef(int(new["ef"]))
        self._maybe_merge(None)

    # ------------------------------------------------------------------ reads

    def _select_in(self, what: str, column: str, values: list[Any], extra: str = "") -> list[Any]:
        out: list[Any] = []
        conn = self._store.conn
        for start in range(0, len(values), _CHUNK):
            part = values[start : start + _CHUNK]
            out.extend(
                conn.execute(
                    f"SELECT {what} FROM {_q(self._table)} WHERE {column} IN "
                    f"({','.join('?' * len(part))}){extra}",
                    part,
                ).fetchall()
            )
        return out

    def _stored_columns(self) -> list[str]:
        return [n for n, c in self._schema.columns.items() if n != "id" and c.kind != "vector"] + [
            n + "__orig" for n in self._schema.vector_columns
        ]

    def _row_cache(self) -> _RowCache | None:
        """The in-memory copy of the stored rows, filled on first use; ``None`` when it is
        off or the rows would take more than ``row_cache_bytes``."""
        cache = self._cache
        if cache is not None or self._cache_off:
            return cache
        budget = int(self._db_config.row_cache_bytes)
        if budget <= 0:
            self._cache_off = True
            return None
        names = self._stored_columns()
        cache = _RowCache(names)
        select = "seq, id" + "".join(", " + _q(n) for n in names)
        cursor = self._store.conn.execute(f"SELECT {select} FROM {_q(self._table)}")
        while True:
            rows = cursor.fetchmany(50_000)
            if not rows:
                break
            cols = list(zip(*rows))
            cache.put(list(cols[0]), list(cols[1]), [list(c) for c in cols[2:]])
            if cache.size > budget:
                self._cache_off = True
                return None
        self._cache = cache
        return cache

    def _cache_changed(self, fn: Callable[[_RowCache], None]) -> None:
        """Apply ``fn`` to the row cache, if there is one, and drop it once it is too big."""
        cache = self._cache
        if cache is None:
            return
        fn(cache)
        if cache.size > int(self._db_config.row_cache_bytes):
            self._cache, self._cache_off = None, True

    def _rows_for_seqs(
        self, seqs: list[int] | np.ndarray
    ) -> tuple[list[str], dict[str, list[Any] | np.ndarray]]:
        """Ids and stored values of the live rows among ``seqs``, in order. A vector column
        whose rows are all float32 and present comes as one 2-D array (a fresh copy)."""
        names = self._stored_columns()
        cache = self._row_cache()
        values: dict[str, Any] = {}
        if cache is not None:
            found, ids, columns = cache.rows(seqs)
            values = dict(zip(names, columns))
        else:
            seqs = np.asarray(seqs, dtype=np.int64).tolist()
            select = "seq, id" + "".join(", " + _q(n) for n in names)
            got = {r[0]: r for r in self._select_in(select, "seq", seqs)}
            rows = [got[s] for s in seqs if s in got]
            for j, name in enumerate(names, start=2):
                values[name] = [r[j] for r in rows]
            found = np.array([r[0] for r in rows], dtype=np.int64)
            ids = [r[1] for r in rows]
        for name in self._schema.vector_columns:
            seg = self._segments.get(name)
            orig = values.pop(name + "__orig")
            if seg is None:
                values[name] = [None] * len(found)
                continue
            vec, present = seg.vectors, seg.present
            if present[found].all() and orig.count(None) == len(orig):
                values[name] = vec[found]  # one gather for the whole column
            else:
                values[name] = [
                    (vec[s] if o is None else decode_tensor(o)) if present[s] else None
                    for s, o in zip(found.tolist(), orig)
                ]
        return ids, values

    def _b_rows(self, keys: np.ndarray) -> tuple[list[str], dict[str, Any]]:
        return self._rows_for_seqs(keys)

    def _b_get(self, ids: Sequence[str]) -> tuple[list[str], dict[str, list[Any]]]:
        seqs = [self._seq_of[i] for i in ids if i in self._seq_of]
        return self._rows_for_seqs(seqs)

    def _b_children(
        self, parent_ids: Sequence[str]
    ) -> tuple[list[str], list[str], dict[str, list[Any]]]:
        rows = self._select_in("seq, parent_id, position", "parent_id", list(parent_ids))
        order = {p: i for i, p in enumerate(parent_ids)}
        rows.sort(key=lambda r: (order[r[1]], r[2]))
        ids, values = self._rows_for_seqs([r[0] for r in rows])
        return ids, [r[1] for r in rows], values

    def _b_parents(self, ids: Sequence[str]) -> dict[str, str]:
        return dict(self._select_in("id, parent_id", "id", list(ids)))

    def _b_count(self) -> int:
        return len(self._seq_of)

    def _b_contains(self, doc_id: str) -> bool:
        return doc_id in self._seq_of

    def _sql_columns(self) -> dict[tuple[str, ...], SqlColumn]:
        cols = {("id",): SqlColumn("id", "str")}
        for name, col in self._schema.filter_columns.items():
            cols[col.path] = SqlColumn(name, col.kind)
        return cols

    def _where(self, node: FilterNode | None) -> tuple[str, list[Any]]:
        if node is None:
            return "1", []
        return compile_filter(node, self._sql_columns())

    def _b_filter(self, node: FilterNode | None, limit: int | None) -> np.ndarray:
        where, params = self._where(node)
        sql = f"SELECT seq FROM {_q(self._table)} WHERE {where} ORDER BY seq"
        if limit is not None:
            sql += " LIMIT ?"
            params = [*params, limit]
        rows = self._store.conn.execute(sql, params).fetchall()
        return np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))

    def _allowed(self, node: FilterNode) -> np.ndarray:
        mask = self._filter_cache.get(node)
        if mask is not None:
            self._filter_cache.move_to_end(node)
            return mask
        keys = self._b_filter(node, None)
        mask = np.zeros(self._next_seq, dtype=bool)
        mask[keys] = True
        self._filter_cache[node] = mask
        while len(self._filter_cache) > 16:
            self._filter_cache.popitem(last=False)
        return mask

    def _b_vector_search(
        self, column: Column, queries: np.ndarray, k: int, node: FilterNode | None
    ) -> list[tuple[np.ndarray, np.ndarray]]:
        seg = self._segments.get(column.name)
        if seg is None:
            return [(np.zeros(0, np.int64), np.zeros(0)) for _ in range(len(queries))]
        allowed = None if node is None else self._allowed(node)
        return seg.search(
            queries, k, self._next_seq, allowed, int(self._db_config.exact_search_threshold)
        )

    def _fts_table(self, name: str) -> str:
        return f"{self._table}__fts__{name}"

    def _ensure_fts(self, name: str) -> None:
        if name in self._fts:
            return
        store, fts = self._store, _q(self._fts_table(name))
        _require_fts5(store.conn)
        with store.transaction():
            store.conn.execute(
                f"CREATE VIRTUAL TABLE IF NOT EXISTS {fts} USING fts5(body, tokenize='unicode61')"
            )
            store.conn.execute(f"DELETE FROM {fts}")
            store.conn.execute(
                f"INSERT INTO {fts} (rowid, body) SELECT seq, {_q(name)} FROM "
                f"{_q(self._table)} WHERE {_q(name)} IS NOT NULL"
            )
            store.set_meta(f"fts:{self._table}", orjson.dumps(sorted(self._fts | {name})).decode())
        self._fts.add(name)

    def _b_text_search(
        self, column: Column, text: str, k: int, node: FilterNode | None
    ) -> tuple[np.ndarray, np.ndarray]:
        match = fts_match_expression(text)
        if match is None or k == 0:
            return np.zeros(0, np.int64), np.zeros(0)
        self._ensure_fts(column.name)
        fts = _q(self._fts_table(column.name))
        where, params = self._where(node)
        sql = (
            f"SELECT f.rowid, -bm25({fts}) AS score FROM {fts} AS f JOIN {_q(self._table)} "
            f"ON {_q(self._table)}.seq = f.rowid WHERE {fts} MATCH ? AND ({where}) "
            "ORDER BY score DESC, f.rowid LIMIT ?"
        )
        rows = self._store.conn.execute(sql, [match, *params, k]).fetchall()
        keys = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
        scores = np.fromiter((r[1] for r in rows), dtype=np.float64, count=len(rows))
        return keys, scores

    def close(self) -> None:
        """Close the database (the index can no longer be used)."""
        with self._lock:
            if self._owns_store:
                self._store.close()


# doctest compiles examples with the __future__ flags of the module namespace
del annotations

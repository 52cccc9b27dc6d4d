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

One open index per ``work_dir``: see :mod:`docstack.index.backends._hnsw_store` (opening it
again in the same process hands it over to the new index; another process is refused). The
graphs of a vector field live in :mod:`docstack.index.backends._hnsw_segments`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np

from docstack.index._base import BaseDBConfig, DocumentIndex
from docstack.index._schema import IndexSchema, RowBatch
from docstack.index._stored import decode_tensor, encode_tensor
from docstack.index.backends._hnsw_early import EarlyGraph
from docstack.index.backends._hnsw_open import HnswOpen
from docstack.index.backends._hnsw_rows import RowCache
from docstack.index.backends._hnsw_search import HnswSearch, _q
from docstack.index.backends._hnsw_segments import HNSW_DEFAULTS, Segments, start_early_graphs
from docstack.index.backends._hnsw_store import vector_blobs

__all__ = ["HnswDocumentIndex"]

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
    - ``text_memory``: once a text field has been searched twice by this process, a copy of
      its BM25 table is built in memory in the background (FTS5 answers until it is ready),
      which answers text searches about 15x faster with the same matches and scores; about
      30 bytes per token of the field. ``False``: always FTS5 (but a read-only handle
      searching a field that has no FTS5 table builds the copy: it cannot create the table).
    - ``read_only``: open an existing index to search and read only. Read-only handles share
      the ``work_dir`` with each other, in any number of processes (several server
      processes, a command-line search beside a running service); a handle that writes
      shares it with none. A write through a read-only handle is a ``DocstackError``; it
      writes no file (``configure()`` changing graph settings rebuilds its graphs in memory).
    """

    work_dir: str = "."
    merge_threshold: int = 10_000
    exact_search_threshold: int = 20_000
    row_cache_bytes: int = 256 << 20
    text_memory: bool = True
    read_only: bool = False


class HnswDocumentIndex(HnswOpen, HnswSearch, DocumentIndex):
    """The embedded, persistent Document Index: SQLite for documents, filters and BM25 text
    search, hnswlib for approximate vector search.

    Per vector field, ``Field(...)`` (or ``configure(default_column_config={np.ndarray:
    {...}})``) sets ``space`` (``'cosine'`` by default, ``'l2'``, ``'sqeuclidean'``,
    ``'ip'``), ``dim``, ``M`` (16), ``ef_construction`` (200), ``ef`` (64, the search
    breadth), ``max_elements`` (the initial capacity; it grows) and ``num_threads`` (-1: all
    cores).

    One open index per ``work_dir``: opening the same ``work_dir`` again in this process
    hands it over to the new index (the old one then raises on use); while it is open,
    another process cannot open it.

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

    def __init__(self, db_config: Any = None, **kwargs: Any) -> None:
        super().__init__(db_config, **kwargs)
        self._store.opened()  # the work_dir is this index's now

    @property
    def index_name(self) -> str | None:
        """The ``index_name`` given when opening, else the ``work_dir``."""
        return self._db_config.index_name or str(self._db_config.work_dir)

    @classmethod
    def _default_column_config(cls) -> dict[Any, dict[str, Any]]:
        return {np.ndarray: dict(HNSW_DEFAULTS)}

    # ------------------------------------------------------------------ opening

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
            row_cache_bytes=self._db_config.row_cache_bytes,
            text_memory=self._db_config.text_memory,
            read_only=self._db_config.read_only,
        )
        child._lock = self._lock
        return child

    # ------------------------------------------------------------------ writes

    def _b_check_writable(self) -> None:
        self._store.check()
        self._store.check_writable()

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
                columns.append(vector_blobs(values, batch.vector_missing[name]))
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
        early = self._early_graphs(seqs, batch, old)
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
        texts = {name: batch.values[name] for name in self._fts}

        def apply() -> None:
            if self._text_mem is not None:
                self._text_mem.inserted(seqs, texts)
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
                    seg = Segments(self._table, col, vectors.shape[1], self._store)
                    self._segments[name] = seg
                seg.ensure(self._next_seq)
                seg.put(seqs, vectors, batch.vector_missing[name])
                if name in early:
                    seg.early = early[name]
            self._changed()

        self._store.after_commit.append(apply)
        self._next_seq = first + m  # seqs stay unique inside the transaction

    def _early_graphs(
        self, seqs: np.ndarray, batch: RowBatch, replaced: list[int]
    ) -> dict[str, EarlyGraph]:
        """Start the graphs that this write makes due (see ``start_early_graphs``), once per
        transaction and not under a progress bar (which shows the merge in steps)."""
        if self._write_progress or self._early_tx == self._store.tx_serial:
            return {}
        self._early_tx = self._store.tx_serial
        threshold = int(self._db_config.merge_threshold)
        return start_early_graphs(self._schema, self._segments, seqs, batch, replaced, threshold)

    def _delete_seqs(self, seqs: list[int]) -> None:
        conn, table = self._store.conn, self._table
        conn.executemany(f"DELETE FROM {_q(table)} WHERE seq=?", [(s,) for s in seqs])
        for name in self._fts:
            conn.executemany(
                f"DELETE FROM {_q(self._fts_table(name))} WHERE rowid=?", [(s,) for s in seqs]
            )

        def apply() -> None:
            if self._text_mem is not None:
                self._text_mem.deleted(seqs)
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

        def update_cache(cache: RowCache) -> None:
            for name, stored in changes:
                cache.set(seq, cache.names.index(name), stored)

        def update_text() -> None:
            if self._text_mem is not None:
                for name, value in changes:
                    self._text_mem.updated(seq, name, value)

        self._store.after_commit.append(update_text)
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
            new = {**HNSW_DEFAULTS, **dict(self._schema.columns[name].config)}
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

    def _row_cache(self) -> RowCache | None:
        """The in-memory copy of the stored rows (filled as rows are needed, see
        :meth:`_rows_for_seqs`); ``None`` when it is off or outgrew ``row_cache_bytes``."""
        cache = self._cache
        if cache is not None or self._cache_off:
            return cache
        if int(self._db_config.row_cache_bytes) <= 0:
            self._cache_off = True
            return None
        self._cache = cache = RowCache(self._stored_columns())
        return cache

    def _cache_changed(self, fn: Callable[[RowCache], None]) -> None:
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
        self._store.check()
        names = self._stored_columns()
        cache = self._row_cache()
        values: dict[str, Any] = {}
        if cache is not None:
            missing = cache.missing(seqs)
            if missing:  # read the rows not held yet, once, and keep them
                select = "seq, id" + "".join(", " + _q(n) for n in names)
                rows = self._select_in(select, "seq", missing)
                if rows:
                    cols = list(zip(*rows))
                    put = [list(c) for c in cols[2:]]
                    self._cache_changed(lambda c: c.put(list(cols[0]), list(cols[1]), put))
                cache = self._cache
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
        self._store.check()
        return len(self._seq_of)

    def _b_contains(self, doc_id: str) -> bool:
        self._store.check()
        return doc_id in self._seq_of

    def close(self) -> None:
        """Close the database and release the work_dir (the index can no longer be used;
        closing again does nothing)."""
        with self._lock:
            if self._owns_store:
                self._store.close()


# doctest compiles examples with the __future__ flags of the module namespace
del annotations

"""Opening an embedded index: the documents table of its schema (created, or checked when
read-only), the learnt dimensions, the ids and the vectors of every row, the newest graphs."""

from __future__ import annotations

from collections import OrderedDict
from pathlib import Path
from typing import Any

import numpy as np
import orjson

from docstack._internal.optional import import_optional
from docstack.errors import DocstackError
from docstack.index.backends._hnsw_rows import RowCache
from docstack.index.backends._hnsw_search import _q
from docstack.index.backends._hnsw_segments import Segments
from docstack.index.backends._hnsw_store import Store, require_fts5
from docstack.index.backends._hnsw_text import TextMemory

__all__ = ["HnswOpen"]

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


class HnswOpen:
    """How :class:`~docstack.index.HnswDocumentIndex` opens (a mixin)."""

    _db_config: Any
    _schema: Any
    _dims: dict[str, int]

    def _b_open(self) -> None:
        if not hasattr(self, "_store"):
            import_optional("hnswlib")
            work_dir = Path(self._db_config.work_dir)
            read_only = bool(self._db_config.read_only)
            if not read_only:
                work_dir.mkdir(parents=True, exist_ok=True)
            self._store = Store(work_dir, self._lock, read_only=read_only)
            self._owns_store = True
            self._table = "docs"
        self._filter_cache: OrderedDict[Any, np.ndarray] = OrderedDict()
        self._version = 0
        self._cache: RowCache | None = None
        self._cache_off = False
        self._early_tx = -1  # the transaction that last started early graphs
        self._create_table()
        self._load_state()

    def _b_abort_open(self) -> None:
        # a failed open releases the work_dir, so that a later open may succeed
        if getattr(self, "_owns_store", False) and hasattr(self, "_store"):
            self._store.close()

    def _schema_signature(self) -> str:
        return orjson.dumps({n: c.kind for n, c in self._schema.columns.items()}).decode()

    def _create_table(self) -> None:
        """Create the documents table of this schema, or check the stored one (read-only:
        it must exist); read the learnt dimensions."""
        store, table = self._store, self._table
        signature = self._schema_signature()
        if store.read_only:
            stored = store.get_meta(f"schema:{table}")
            if stored is None:
                raise DocstackError(
                    f"{store.work_dir} holds no index of {self._doc_type.__name__} (table "
                    f"{table!r}) to open read-only"
                )
            self._check_schema(stored, signature)
            self._read_dims(store.get_meta(f"dims:{table}"))
            return
        cols = [
            f"{_q(n)} {_SQL_TYPES[c.kind]}" for n, c in self._schema.columns.items() if n != "id"
        ] + [f"{_q(n + '__orig')} BLOB" for n in self._schema.vector_columns]
        with store.transaction():
            stored = store.get_meta(f"schema:{table}")
            if stored is not None:
                self._check_schema(stored, signature)
            store.conn.execute(
                f"CREATE TABLE IF NOT EXISTS {_q(table)} (seq INTEGER PRIMARY KEY "
                "AUTOINCREMENT, id TEXT NOT NULL UNIQUE, parent_id TEXT, position INTEGER"
                + "".join(", " + c for c in cols)
                + ")"
            )
            store.conn.execute(
                f"CREATE INDEX IF NOT EXISTS {_q(table + '_parent')} ON {_q(table)}(parent_id)"
            )
            self._read_dims(store.get_meta(f"dims:{table}"))
            store.set_meta(f"schema:{table}", signature)
            store.set_meta(f"dims:{table}", orjson.dumps(self._dims).decode())

    def _read_dims(self, dims: str | None) -> None:
        for name, dim in (orjson.loads(dims) if dims else {}).items():
            known = self._dims.get(name)
            if known is not None and known != dim:
                raise DocstackError(
                    f"field {name!r} has dimension {known} in the schema but {dim} in the "
                    f"index stored in {self._store.work_dir}; open it with the schema it was "
                    "built with, or use another work_dir"
                )
            self._dims[name] = int(dim)

    def _check_schema(self, stored: str, signature: str) -> None:
        if stored != signature:
            raise DocstackError(
                f"the index in {self._store.work_dir} was created for another schema of "
                f"{self._doc_type.__name__} (table {self._table!r}): stored columns {stored}, "
                f"this schema {signature}; open it with the schema it was built with, or use "
                "another work_dir"
            )

    def _b_meta_get(self, key: str) -> str | None:
        return self._store.get_meta(f"{key}:{self._table}")

    def _b_meta_set(self, key: str, value: str) -> None:
        if self._store.read_only:
            return  # a read-only handle checks the stored records and records nothing
        with self._store.transaction():
            self._store.set_meta(f"{key}:{self._table}", value)

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
        self._segments: dict[str, Segments] = {}
        self._fts: set[str] = set()
        self._text_mem: TextMemory | None = None  # made on the first text search
        fts = self._store.get_meta(f"fts:{table}")
        if fts:
            self._fts = set(orjson.loads(fts))
            require_fts5(conn)  # every write also writes the text tables
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
            if learnt and not self._store.read_only:
                with self._store.transaction():
                    self._store.set_meta(f"dims:{table}", orjson.dumps(self._dims).decode())
            seg = Segments(table, col, dim, self._store)
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
        if not self._store.read_only:  # a reader searches the growing rows exactly
            self._maybe_merge(None)


# doctest compiles examples with the __future__ flags of the module namespace
del annotations

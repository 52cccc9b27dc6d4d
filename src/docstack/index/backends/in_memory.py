"""``InMemoryExactNNIndex``: exact search over numpy columns, kept in memory.

For small and medium collections (up to a few hundred thousand vectors) exact search is fast
and always right. Columns are numpy arrays and Python lists with one entry per row; deleting
or replacing a document marks its row dead, and dead rows are compacted away once they are
half of the table. ``persist()`` writes everything to one file that
``InMemoryExactNNIndex[MyDoc](index_file_path=...)`` reopens.

Filters run :func:`~docstack._internal.query_eval.evaluate` over whole columns. List fields
(``list[int|float|str|bool]``) are kept decoded beside their stored JSON (decoded once per
write, in one parse per batch), so a filter on them flattens the lists into one numpy array and
matches the elements in one vectorised pass; only whole-list operands (``{'tags': ['a',
'b']}``) compare the candidate rows of the right length in Python.

As in DocArray, the documents to start with may be given when opening:
``InMemoryExactNNIndex[MyDoc](docs)``.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import orjson

from docstack._internal.query import FilterNode
from docstack._internal.query_eval import evaluate
from docstack.errors import LoadError
from docstack.index._base import BaseDBConfig, DocumentIndex
from docstack.index._bm25 import BM25Index
from docstack.index._exact import exact_search
from docstack.index._schema import Column, RowBatch
from docstack.index._stored import decode_tensor, encode_tensor

__all__ = ["InMemoryExactNNIndex"]

_FORMAT = "docstack-in-memory-index"
_VERSION = 1


@dataclass
class InMemoryDBConfig(BaseDBConfig):
    """Settings of :class:`InMemoryExactNNIndex`.

    ``index_file_path``: a file written by ``persist()`` to load on open (and the default
    target of ``persist()``).
    """

    index_file_path: str | None = None


class InMemoryExactNNIndex(DocumentIndex):
    """A Document Index held in memory, searched exactly.

    Example
    -------
    >>> from docstack import BaseDoc, DocList
    >>> from docstack.typing import NdArray
    >>> class Doc(BaseDoc):
    ...     title: str
    ...     emb: NdArray[3]
    >>> index = InMemoryExactNNIndex[Doc]()
    >>> index.index(DocList[Doc]([Doc(title=f't{i}', emb=[i, 1, 0]) for i in range(4)]))
    >>> docs, scores = index.find([3, 1, 0], search_field='emb', limit=2)
    >>> docs.title
    ['t3', 't2']
    >>> InMemoryExactNNIndex[Doc](docs).num_docs()  # documents to start with
    2
    """

    DBConfig = InMemoryDBConfig

    def __init__(self, docs: Any = None, db_config: Any = None, **kwargs: Any) -> None:
        """Open the index (loading ``index_file_path`` when it exists), then index ``docs``.

        ``docs`` may be left out; a ``DBConfig`` given first is taken as ``db_config``.
        """
        if isinstance(docs, BaseDBConfig):
            if db_config is not None:
                raise TypeError("db_config given twice")
            docs, db_config = None, docs
        super().__init__(db_config, **kwargs)
        if docs is not None:
            self.index(docs)

    # ------------------------------------------------------------------ storage

    def _b_open(self) -> None:
        self._clear()
        path = self._db_config.index_file_path
        if path is not None and Path(path).exists():
            self._load_file(Path(path))

    def _clear(self) -> None:
        self._ids: list[str] = []
        self._row_of: dict[str, int] = {}
        self._alive = np.zeros(0, dtype=bool)
        self._n = 0
        self._values: dict[str, list[Any]] = {
            n: [] for n, c in self._schema.columns.items() if c.kind != "vector" and n != "id"
        }
        #: list columns decoded from their JSON, one value (a list or None) per row
        self._lists: dict[str, list[Any]] = {
            n: [] for n, c in self._schema.columns.items() if c.element is not None
        }
        self._vec: dict[str, np.ndarray] = {}
        self._vmiss: dict[str, np.ndarray] = {}
        self._norms: dict[str, np.ndarray] = {}
        self._orig: dict[str, list[Any]] = {
            n: [] for n, c in self._schema.columns.items() if c.kind == "vector"
        }
        self._parents: list[str | None] = []
        self._positions: list[int] = []
        self._bm25: dict[str, BM25Index] = {}
        self._children_of: dict[str, set[int]] = {}

    def _b_subindex(self, name: str, doc_type: type) -> DocumentIndex:
        return InMemoryExactNNIndex[doc_type](
            default_column_config=self._db_config.default_column_config
        )

    def _grow(self, needed: int) -> None:
        cap = len(self._alive)
        if needed <= cap:
            return
        new_cap = max(needed, 2 * cap, 64)
        alive = np.zeros(new_cap, dtype=bool)
        alive[: self._n] = self._alive[: self._n]
        self._alive = alive
        for name in list(self._vec):
            old = self._vec[name]
            arr = np.zeros((new_cap, old.shape[1]), dtype=np.float32)
            arr[: self._n] = old[: self._n]
            self._vec[name] = arr
            miss = np.ones(new_cap, dtype=bool)
            miss[: self._n] = self._vmiss[name][: self._n]
            self._vmiss[name] = miss
            norms = np.zeros(new_cap, dtype=np.float32)
            norms[: self._n] = self._norms[name][: self._n]
            self._norms[name] = norms

    def _kill(self, rows: list[int]) -> None:
        if not rows:
            return
        arr = np.asarray(rows, dtype=np.int64)
        self._alive[arr] = False
        for r in rows:
            self._row_of.pop(self._ids[r], None)
            parent = self._parents[r]
            if parent is not None:
                siblings = self._children_of.get(parent)
                if siblings is not None:
                    siblings.discard(r)
                    if not siblings:
                        del self._children_of[parent]
        for bm in self._bm25.values():
            bm.remove(arr)

    def _b_upsert(self, batch: RowBatch) -> None:
        old = [r for r in (self._row_of.get(i) for i in batch.ids) if r is not None]
        self._kill(old)
        m = len(batch)
        start = self._n
        self._grow(start + m)
        for name, arr in batch.values.items():
            col = self._schema.columns[name]
            if col.kind == "vector":
                if name not in self._vec:
                    cap = len(self._alive)
                    self._vec[name] = np.zeros((cap, arr.shape[1]), dtype=np.float32)
                    self._vmiss[name] = np.ones(cap, dtype=bool)
                    self._norms[name] = np.zeros(cap, dtype=np.float32)
                if arr.shape[1]:
                    self._vec[name][start : start + m] = arr
                    self._norms[name][start : start + m] = np.linalg.norm(arr, axis=1)
                self._vmiss[name][start : start + m] = batch.vector_missing[name]
                orig = batch.originals.get(name)
                self._orig[name].extend(orig if orig is not None else [None] * m)
            elif name != "id":
                self._values[name].extend(arr)
                if name in self._lists:
                    self._lists[name].extend(_decode_json(arr))
        self._ids.extend(batch.ids)
        self._alive[start : start + m] = True
        self._parents.extend(batch.parents if batch.parents is not None else [None] * m)
        self._positions.extend(batch.positions if batch.positions is not None else [0] * m)
        for i, doc_id in enumerate(batch.ids):
            self._row_of[doc_id] = start + i
        if batch.parents is not None:
            for i, parent in enumerate(batch.parents):
                self._children_of.setdefault(parent, set()).add(start + i)
        self._n = start + m
        keys = np.arange(start, start + m, dtype=np.int64)
        for name, bm in self._bm25.items():
            bm.add(keys, batch.values[name])
        self._maybe_compact()

    def _maybe_compact(self) -> None:
        live = len(self._row_of)
        dead = self._n - live
        if dead < 1024 or dead < live:
            return
        keep = np.flatnonzero(self._alive[: self._n])
        keep_list = keep.tolist()
        self._ids = [self._ids[i] for i in keep_list]
        self._parents = [self._parents[i] for i in keep_list]
        self._positions = [self._positions[i] for i in keep_list]
        for name, values in self._values.items():
            self._values[name] = [values[i] for i in keep_list]
        for name, values in self._lists.items():
            self._lists[name] = [values[i] for i in keep_list]
        for name, values in self._orig.items():
            self._orig[name] = [values[i] for i in keep_list]
        for name in self._vec:
            self._vec[name] = self._vec[name][keep].copy()
            self._vmiss[name] = self._vmiss[name][keep].copy()
            self._norms[name] = self._norms[name][keep].copy()
        self._n = len(keep_list)
        self._alive = np.ones(self._n, dtype=bool)
        self._row_of = {doc_id: i for i, doc_id in enumerate(self._ids)}
        self._children_of = {}
        for i, parent in enumerate(self._parents):
            if parent is not None:
                self._children_of.setdefault(parent, set()).add(i)
        self._bm25 = {}

    def _b_delete(self, ids: Sequence[str]) -> list[str]:
        rows = [self._row_of[i] for i in dict.fromkeys(ids) if i in self._row_of]
        found = [self._ids[r] for r in rows]
        self._kill(rows)
        return found

    def _b_delete_children(self, parent_ids: Sequence[str]) -> list[str]:
        rows = sorted(r for p in set(parent_ids) for r in self._children_of.get(p, ()))
        found = [self._ids[r] for r in rows]
        self._kill(rows)
        return found

    def _values_of(self, rows: Sequence[int]) -> dict[str, list[Any]]:
        out: dict[str, list[Any]] = {}
        for name, col in self._schema.columns.items():
            if name == "id":
                continue
            if col.kind == "vector":
                if name not in self._vec:
                    out[name] = [None] * len(rows)
                    continue
                vec, miss, orig = self._vec[name], self._vmiss[name], self._orig[name]
                out[name] = [
                    None if miss[r] else (vec[r] if orig[r] is None else orig[r]) for r in rows
                ]
            else:
                values = self._values[name]
                out[name] = [values[r] for r in rows]
        return out

    def _b_get(self, ids: Sequence[str]) -> tuple[list[str], dict[str, list[Any]]]:
        rows = [self._row_of[i] for i in ids if i in self._row_of]
        return [self._ids[r] for r in rows], self._values_of(rows)

    def _b_rows(self, keys: np.ndarray) -> tuple[list[str], dict[str, list[Any]]]:
        rows = keys.tolist()
        return [self._ids[r] for r in rows], self._values_of(rows)

    def _b_children(
        self, parent_ids: Sequence[str]
    ) -> tuple[list[str], list[str], dict[str, list[Any]]]:
        order = {p: i for i, p in enumerate(parent_ids)}
        rows = [r for p in order for r in self._children_of.get(p, ())]
        rows.sort(key=lambda r: (order[self._parents[r]], self._positions[r]))
        ids = [self._ids[r] for r in rows]
        parents = [self._parents[r] for r in rows]
        return ids, parents, self._values_of(rows)  # type: ignore[return-value]

    def _b_parents(self, ids: Sequence[str]) -> dict[str, str]:
        return {i: self._parents[self._row_of[i]] for i in ids}  # type: ignore[misc]

    def _b_count(self) -> int:
        return len(self._row_of)

    def _b_contains(self, doc_id: str) -> bool:
        return doc_id in self._row_of

    def _b_update(self, doc_id: str, values: dict[str, Any]) -> bool:
        row = self._row_of.get(doc_id)
        if row is None:
            return False
        for name, value in values.items():
            self._values[name][row] = value
            bm = self._bm25.get(name)
            if bm is not None:
                key = np.array([row], dtype=np.int64)
                bm.remove(key)
                bm.add(key, [value])
        return True

    # ------------------------------------------------------------------ search

    def _mask(self, node: FilterNode | None) -> np.ndarray:
        n = self._n
        mask = self._alive[:n].copy()
        if node is not None and n:

            def column(path: tuple[str, ...]) -> Any:
                name = "__".join(path)
                if name == "id":
                    return self._ids
                lists = self._lists.get(name)
                return self._values[name] if lists is None else lists

            mask &= evaluate(node, column, n)
        return mask

    def _b_filter(self, node: FilterNode | None, limit: int | None) -> np.ndarray:
        keys = np.flatnonzero(self._mask(node)).astype(np.int64)
        return keys if limit is None else keys[:limit]

    def _b_vector_search(
        self, column: Column, queries: np.ndarray, k: int, node: FilterNode | None
    ) -> list[tuple[np.ndarray, np.ndarray]]:
        name = column.name
        if name not in self._vec or self._n == 0:
            return [(np.zeros(0, np.int64), np.zeros(0)) for _ in range(len(queries))]
        mask = self._mask(node) & ~self._vmiss[name][: self._n]
        rows = None if mask.all() else np.flatnonzero(mask)
        return exact_search(
            self._vec[name][: self._n],
            queries,
            column.space,
            k,
            rows=rows,
            norms=self._norms[name][: self._n],
        )

    def _b_text_search(
        self, column: Column, text: str, k: int, node: FilterNode | None
    ) -> tuple[np.ndarray, np.ndarray]:
        bm = self._bm25.get(column.name)
        if bm is None:
            bm = BM25Index()
            rows = np.flatnonzero(self._alive[: self._n])
            values = self._values[column.name]
            bm.add(rows.astype(np.int64), [values[r] for r in rows.tolist()])
            self._bm25[column.name] = bm
        allowed = self._mask(node) if node is not None else None
        keys, scores = bm.search(text, limit=k, allowed=allowed)
        return np.asarray(keys, dtype=np.int64), np.asarray(scores, dtype=np.float64)

    # ------------------------------------------------------------------ persistence

    def persist(self, file: str | os.PathLike | None = None) -> None:
        """Write the whole index (sub-indexes included) to one file, atomically.

        ``file`` defaults to the ``index_file_path`` the index was opened with. Reopen with
        ``InMemoryExactNNIndex[MyDoc](index_file_path=file)``.

        Example
        -------
        >>> import tempfile, os
        >>> from docstack import BaseDoc
        >>> class Doc(BaseDoc):
        ...     title: str
        >>> path = os.path.join(tempfile.mkdtemp(), 'index.bin')
        >>> index = InMemoryExactNNIndex[Doc](index_file_path=path)
        >>> index.index(Doc(id='a', title='hello'))
        >>> index.persist()
        >>> InMemoryExactNNIndex[Doc](index_file_path=path)['a'].title
        'hello'
        """
        target = file if file is not None else self._db_config.index_file_path
        if target is None:
            raise ValueError("persist() needs a file: pass one or open with index_file_path=")
        target = Path(target)
        with self._lock:
            payload = {
                "format": _FORMAT,
                "version": _VERSION,
                "schema": self._doc_type.__name__,
                "tables": self._dump_tables(""),
            }
            data = orjson.dumps(payload, option=orjson.OPT_SERIALIZE_NUMPY)
        tmp = target.with_name(target.name + ".tmp")
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)

    def _dump_tables(self, prefix: str) -> dict[str, Any]:
        rows = np.flatnonzero(self._alive[: self._n])
        rl = rows.tolist()
        table: dict[str, Any] = {
            "columns": {n: c.kind for n, c in self._schema.columns.items()},
            "dims": self._dims,
            "ids": [self._ids[r] for r in rl],
            "parents": [self._parents[r] for r in rl],
            "positions": [self._positions[r] for r in rl],
            "values": {},
            "vectors": {},
        }
        for name, values in self._values.items():
            kind = self._schema.columns[name].kind
            picked = [values[r] for r in rl]
            if kind in ("tensor", "bytes", "json"):
                picked = [None if v is None else base64.b64encode(v).decode() for v in picked]
            table["values"][name] = picked
        for name, vec in self._vec.items():
            table["vectors"][name] = {
                "dim": int(vec.shape[1]),
                "data": base64.b64encode(np.ascontiguousarray(vec[rows]).tobytes()).decode(),
                "missing": self._vmiss[name][rows].tolist(),
                "originals": [
                    None
                    if self._orig[name][r] is None
                    else base64.b64encode(encode_tensor(self._orig[name][r])).decode()
                    for r in rl
                ],
            }
        out = {prefix: table}
        for name, child in self._subindices.items():
            assert isinstance(child, InMemoryExactNNIndex)
            out.update(child._dump_tables(f"{prefix}/{name}" if prefix else name))
        return out

    def _load_file(self, path: Path) -> None:
        try:
            payload = orjson.loads(path.read_bytes())
            if not isinstance(payload, dict) or payload.get("format") != _FORMAT:
                raise LoadError(f"{path} is not a docstack in-memory index file")
            if payload.get("version") != _VERSION:
                raise LoadError(f"{path}: unsupported index file version {payload.get('version')}")
            self._pending_tables = payload["tables"]
        except LoadError:
            raise
        except (OSError, orjson.JSONDecodeError, KeyError, TypeError) as e:
            raise LoadError(f"cannot read index file {path}: {e}") from e

    def _open_subindexes(self) -> None:
        super()._open_subindexes()
        tables = getattr(self, "_pending_tables", None)
        if tables is not None:
            del self._pending_tables
            self._restore_tables(tables, "")

    def _restore_tables(self, tables: dict[str, Any], prefix: str) -> None:
        table = tables.get(prefix)
        if table is None:
            raise LoadError(f"index file lacks the table of sub-index {prefix!r}")
        expected = {n: c.kind for n, c in self._schema.columns.items()}
        if table["columns"] != expected:
            raise LoadError(
                f"index file schema does not match {self._doc_type.__name__}: file columns "
                f"{table['columns']}, schema columns {expected}"
            )
        ids = table["ids"]
        m = len(ids)
        values: dict[str, Any] = {}
        missing: dict[str, np.ndarray] = {}
        originals: dict[str, list[Any] | None] = {}
        for name, col in self._schema.columns.items():
            if col.kind == "vector":
                spec = table["vectors"].get(name)
                if spec is None:
                    values[name] = np.zeros((m, 0), dtype=np.float32)
                    missing[name] = np.ones(m, dtype=bool)
                    continue
                arr = np.frombuffer(base64.b64decode(spec["data"]), dtype=np.float32)
                values[name] = arr.reshape(m, spec["dim"]).copy()
                missing[name] = np.asarray(spec["missing"], dtype=bool)
                originals[name] = [
                    None if v is None else decode_tensor(base64.b64decode(v))
                    for v in spec["originals"]
                ]
            elif name != "id":
                stored = table["values"][name]
                if col.kind in ("tensor", "bytes", "json"):
                    stored = [None if v is None else base64.b64decode(v) for v in stored]
                values[name] = stored
        batch = RowBatch(
            list(ids),
            values,
            missing,
            parents=table["parents"],
            positions=table["positions"],
            originals=originals,
        )
        self._dims.update({k: int(v) for k, v in table["dims"].items()})
        if m:
            self._b_upsert(batch)
        for name, child in self._subindices.items():
            assert isinstance(child, InMemoryExactNNIndex)
            child._restore_tables(tables, f"{prefix}/{name}" if prefix else name)


def _decode_json(values: Sequence[Any]) -> list[Any]:
    """Stored JSON values (bytes, ``None`` where missing) decoded, with one parse per batch.

    Example
    -------
    >>> _decode_json([b'[1,2]', None, b'[]'])
    [[1, 2], None, []]
    """
    present = [v for v in values if v is not None]
    if not present:
        return [None] * len(values)
    decoded = iter(orjson.loads(b"[" + b",".join(present) + b"]"))
    return [None if v is None else next(decoded) for v in values]


# doctest compiles examples with the __future__ flags of the module namespace
del annotations

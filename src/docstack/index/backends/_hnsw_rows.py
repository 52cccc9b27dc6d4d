"""The stored values of the rows of an embedded HNSW index table, kept in memory so that
building search results reads no database (see ``row_cache_bytes``)."""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["RowCache"]


class RowCache:
    """The stored values of a table's rows, by seq, as SQLite returns them.

    Filled row by row as searches need them (a row not held yet is read from the database
    with the others a search asks for, so no single query pays for loading every row), and
    kept in step by the same after-commit work that keeps the vector segments in step, so it
    never holds a write that was rolled back. Ids and columns are object arrays indexed by seq (grown by doubling), so the rows
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
        if seq >= self.n or not self.live[seq]:
            return  # not held: read from the database, with the new value, when needed
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

    def missing(self, seqs: list[int] | np.ndarray) -> list[int]:
        """The ones of ``seqs`` this cache does not hold (deleted rows among them)."""
        at = np.asarray(seqs, dtype=np.int64)
        held = np.zeros(len(at), dtype=bool)
        inside = at < self.n
        held[inside] = self.live[at[inside]]
        return at[~held].tolist()

    def rows(self, seqs: list[int] | np.ndarray) -> tuple[np.ndarray, list[str], list[list[Any]]]:
        """The live ones of ``seqs`` (in order), their ids and their columns."""
        at = np.asarray(seqs, dtype=np.int64)
        at = at[at < self.n]
        found = at[self.live[at]]
        return found, self.ids[found].tolist(), [c[found].tolist() for c in self.columns]


# doctest compiles examples with the __future__ flags of the module namespace
del annotations

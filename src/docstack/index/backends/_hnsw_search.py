"""Filters, vector search and BM25 text search of the embedded index: SQL ``WHERE``
clauses over the documents table, hnswlib segments, SQLite FTS5 tables."""

from __future__ import annotations

from typing import Any

import numpy as np
import orjson

from docstack._internal.query import FilterNode
from docstack.index._bm25 import fts_match_expression
from docstack.index._schema import Column
from docstack.index._sql_filter import SqlColumn, compile_filter
from docstack.index._sql_filter import quote_identifier as _q
from docstack.index.backends._hnsw_store import require_fts5
from docstack.index.backends._hnsw_text import TextMemory

__all__ = ["HnswSearch"]


class HnswSearch:
    """The search primitives of :class:`~docstack.index.HnswDocumentIndex` (a mixin)."""

    def _sql_columns(self) -> dict[tuple[str, ...], SqlColumn]:
        cols = {("id",): SqlColumn("id", "str")}
        for name, col in self._schema.filter_columns.items():
            cols[col.path] = SqlColumn(name, col.kind, col.element)
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
        self._store.check()
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
        require_fts5(store.conn)
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
        if self._text_mem is None:
            self._text_mem = TextMemory(self._store, self._table, self._lock)
        if self._store.read_only and column.name not in self._fts:
            # no FTS5 table, and a reader cannot make one: the copy is the only way
            allowed = None if node is None else self._allowed(node)
            return self._text_mem.search_now(column.name, text, k, allowed)
        self._ensure_fts(column.name)
        copy = self._text_mem.copy_for(column.name) if self._db_config.text_memory else None
        if copy is not None:
            return copy.search(text, k, allowed=None if node is None else self._allowed(node))
        fts = _q(self._fts_table(column.name))
        if node is None:  # the text table holds exactly the live rows: no join needed
            sql = (
                f"SELECT f.rowid, -bm25({fts}) AS score FROM {fts} AS f WHERE {fts} MATCH ? "
                "ORDER BY score DESC, f.rowid LIMIT ?"
            )
            params: list[Any] = []
        else:
            where, params = self._where(node)
            sql = (
                f"SELECT f.rowid, -bm25({fts}) AS score FROM {fts} AS f JOIN "
                f"{_q(self._table)} ON {_q(self._table)}.seq = f.rowid WHERE {fts} MATCH ? "
                f"AND ({where}) ORDER BY score DESC, f.rowid LIMIT ?"
            )
        rows = self._store.conn.execute(sql, [match, *params, k]).fetchall()
        keys = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
        scores = np.fromiter((r[1] for r in rows), dtype=np.float64, count=len(rows))
        return keys, scores


# doctest compiles examples with the __future__ flags of the module namespace
del annotations

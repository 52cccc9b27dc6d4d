"""Filters and search of ``QdrantDocumentIndex``: the portable filter compiled to Qdrant's (or
evaluated in docstack where Qdrant cannot run it), vector search with docstack's scores, and
text search (docstack's BM25, or Qdrant's with ``text_scoring='qdrant'``); a mixin."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from docstack._internal.query import And, Comparison, FilterNode, Not, Or
from docstack._internal.query_eval import evaluate
from docstack.index._bm25 import BM25Index
from docstack.index._schema import Column
from docstack.index.backends._qdrant_filter import (
    NeedsPlanner,
    column_kinds,
    compile_filter,
    native_filter,
    planner_paths,
)

__all__ = ["QdrantSearch"]

_EMPTY = (np.zeros(0, np.int64), np.zeros(0, np.float64))


class QdrantSearch:
    """The filter and search primitives of ``QdrantDocumentIndex`` (a mixin)."""

    _db_config: Any
    _schema: Any
    _collection: str
    _created: bool
    _row_cache: dict[int, dict[str, Any]]
    _bm25: dict[str, BM25Index]
    client: Any
    _call: Any
    _scroll: Any

    def _parse_filter(self, filter_query: Any) -> FilterNode | None:
        if filter_query is not None:
            try:
                native = native_filter(filter_query, self._schema.filter_columns)
            except Exception as e:
                from docstack._internal.query import FilterError

                raise FilterError(f"not a valid Qdrant filter: {e}") from e
            if native is not None:
                return native  # type: ignore[return-value]
        return super()._parse_filter(filter_query)

    def _kinds(self) -> dict[tuple[str, ...], str]:
        return column_kinds(self._schema.filter_columns.values())

    def _resolve(self, node: Any) -> Any:
        """``node`` as a Qdrant ``Filter``; ``None`` for everything, ``False`` for nothing."""
        from qdrant_client import models

        if node is None:
            return None
        try:
            flt = compile_filter(node, self._kinds())
        except NeedsPlanner:
            pids = self._planner_match(node)
            if not pids:
                return False
            return models.Filter(must=[models.HasIdCondition(has_id=pids)])
        return None if flt is True else flt

    def _planner_match(self, node: Any) -> list[Any]:
        """Point ids matching ``node``, parts Qdrant cannot run evaluated in docstack."""
        from qdrant_client import models

        kinds = self._kinds()
        prefilter = None
        if isinstance(node, And):
            native = []
            for child in node.children:
                try:
                    native.append(compile_filter(child, kinds))
                except NeedsPlanner:
                    continue
            if any(c is False for c in native):
                return []
            native = [c for c in native if c is not True]
            prefilter = models.Filter(must=native) if native else None
        keys = sorted({"__".join(p) for p in planner_paths(node)})
        records = self._scroll(prefilter, keys or False)
        if not records:
            return []
        mask = self._mask(node, records, kinds)
        return [r.id for r, ok in zip(records, mask.tolist()) if ok]

    def _mask(self, node: Any, records: list, kinds: dict) -> np.ndarray:
        n = len(records)
        try:
            flt = compile_filter(node, kinds)
        except NeedsPlanner:
            if isinstance(node, Comparison):
                key = "__".join(node.path)
                column = [(r.payload or {}).get(key) for r in records]
                return evaluate(node, lambda path: column, n)
            if isinstance(node, Not):
                return ~self._mask(node.child, records, kinds)
            parts = [self._mask(c, records, kinds) for c in node.children]
            if isinstance(node, Or):
                return np.logical_or.reduce(parts) if parts else np.zeros(n, bool)
            return np.logical_and.reduce(parts) if parts else np.ones(n, bool)
        if isinstance(flt, bool):
            return np.full(n, flt)
        hits = {r.id for r in self._scroll(flt, False)}
        return np.fromiter((r.id in hits for r in records), bool, n)

    def _b_filter(self, node: FilterNode | None, limit: int | None) -> np.ndarray:
        records = self._scroll(self._resolve(node), True, ordered=True, limit=limit)
        self._cache(records)
        return np.array([r.payload["seq"] for r in records], dtype=np.int64)

    def _b_vector_search(
        self, column: Column, queries: np.ndarray, k: int, node: FilterNode | None
    ) -> list[tuple[np.ndarray, np.ndarray]]:
        from qdrant_client import models

        flt = self._resolve(node) if self._created else False
        if flt is False or k <= 0:
            return [_EMPTY for _ in range(len(queries))]
        cfg = self._db_config
        exact = cfg.exact_search and not cfg.is_local  # local mode always searches exactly
        params = models.SearchParams(exact=True) if exact else None
        if not cfg.is_local:  # a raw query's params (local mode warns that it ignores them)
            params = getattr(self, "_raw_params", None) or params
        requests = [
            models.QueryRequest(
                query=q.tolist(),
                using=column.name,
                limit=k,
                filter=flt,
                params=params,
                with_payload=True,
            )
            for q in queries
        ]
        responses = self._call(
            "search",
            self.client.query_batch_points,
            collection_name=self._collection,
            requests=requests,
        )
        out = []
        for response in responses:
            points = response.points
            self._cache(points)
            keys = np.array([p.payload["seq"] for p in points], dtype=np.int64)
            scores = np.array([p.score for p in points], dtype=np.float64)
            if column.space == "sqeuclidean":
                scores = scores**2
            out.append((keys, scores))
        return out

    def _b_hybrid_search(
        self,
        vectors: Sequence[tuple[Column, np.ndarray, int, float]],
        texts: Sequence[tuple[Column, str, int, float]],
        node: FilterNode | None,
        fusion: str,
        rrf_k: int,
        limit: int,
    ) -> tuple[np.ndarray, np.ndarray] | None:
        """RRF in Qdrant: one ``Prefetch`` per part and an ``RrfQuery``.

        Qdrant scores a point ``1 / (rank + k' - 1)`` per prefetch (rank from 1), which is
        docstack's ``1 / (k + rank)`` with ``k' = k + 1``, and orders equal fused scores by
        first appearance as docstack does. Qdrant weighs a prefetch inside the denominator,
        so only equal weights run here (the fused scores are scaled by that weight); weighted
        fusion (Qdrant's DBSF is not min-max), unequal weights and text parts scored by
        docstack's BM25 (the default ``text_scoring``) return ``None`` for the planner.
        """
        from qdrant_client import models

        weights = {w for *_, w in vectors} | {w for *_, w in texts}
        if fusion != "rrf" or len(weights) != 1 or not vectors and not texts:
            return None
        weight = weights.pop()
        if weight <= 0 or (texts and self._db_config.text_scoring != "qdrant"):
            return None
        flt = self._resolve(node) if self._created else False
        if flt is False:
            return _EMPTY
        cfg = self._db_config
        params = models.SearchParams(exact=True) if cfg.exact_search and not cfg.is_local else None
        prefetch = [
            models.Prefetch(query=vec.tolist(), using=col.name, filter=flt, limit=k, params=params)
            for col, vec, k, _ in vectors
            if k > 0
        ]
        prefetch += [
            models.Prefetch(
                query=models.TextQuery(text=models.TextQueryInput(query=text)),
                using=col.name,
                filter=flt,
                limit=k,
            )
            for col, text, k, _ in texts
            if k > 0 and text.strip()
        ]
        if not prefetch:
            return _EMPTY
        response = self._call(
            "hybrid search",
            self.client.query_points,
            collection_name=self._collection,
            prefetch=prefetch,
            query=models.RrfQuery(rrf=models.Rrf(k=int(rrf_k) + 1)),
            limit=max(int(limit), 1),
            with_payload=True,
        )
        points = response.points
        self._cache(points)
        self._native_hybrid = getattr(self, "_native_hybrid", 0) + 1
        keys = np.array([p.payload["seq"] for p in points], dtype=np.int64)
        return keys, np.array([p.score for p in points], dtype=np.float64) * weight

    def _text_index(self, name: str) -> BM25Index:
        bm = self._bm25.get(name)
        if bm is None:
            bm = BM25Index()
            records = self._scroll(None, [name, "seq"], ordered=True)
            keys = np.array([r.payload["seq"] for r in records], dtype=np.int64)
            bm.add(keys, [r.payload.get(name) for r in records])
            self._bm25[name] = bm
        return bm

    def _b_text_search(
        self, column: Column, text: str, k: int, node: FilterNode | None
    ) -> tuple[np.ndarray, np.ndarray]:
        if not self._created:
            return _EMPTY
        if self._db_config.text_scoring == "qdrant":
            return self._native_text_search(column, text, k, node)
        bm = self._text_index(column.name)
        if node is None:
            return bm.search(text, limit=k)
        flt = self._resolve(node)
        if flt is False:
            return _EMPTY
        allowed = np.array([r.payload["seq"] for r in self._scroll(flt, ["seq"])], np.int64)
        keys, scores = bm.search(text, limit=max(len(bm), 1))
        keep = np.isin(keys, allowed)
        return keys[keep][:k], scores[keep][:k]

    def _native_text_search(
        self, column: Column, text: str, k: int, node: FilterNode | None
    ) -> tuple[np.ndarray, np.ndarray]:
        from qdrant_client import models

        flt = self._resolve(node)
        if flt is False or not text.strip():
            return _EMPTY
        response = self._call(
            "search text",
            self.client.query_points,
            collection_name=self._collection,
            query=models.TextQuery(text=models.TextQueryInput(query=text)),
            using=column.name,
            limit=k,
            query_filter=flt,
            with_payload=True,
        )
        points = response.points
        self._cache(points)
        keys = np.array([p.payload["seq"] for p in points], dtype=np.int64)
        return keys, np.array([p.score for p in points], dtype=np.float64)

    def _cache(self, records: Sequence[Any]) -> None:
        if len(self._row_cache) > 100_000:
            self._row_cache.clear()
        for r in records:
            self._row_cache[int(r.payload["seq"])] = r.payload


# doctest compiles examples with the __future__ flags of the module namespace
del annotations

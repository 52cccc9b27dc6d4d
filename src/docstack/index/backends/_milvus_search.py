"""Vector and text search of ``MilvusDocumentIndex``: the engine's candidates, rescored in
docstack's score meaning with ties in insertion order, and Milvus' BM25."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from docstack._internal.metrics import higher_is_better
from docstack._internal.query import FilterNode
from docstack.index._bm25 import tokenize
from docstack.index._schema import Column
from docstack.index.backends._milvus_filter import FALSE, TRUE
from docstack.index.backends._milvus_schema import SEQ, search_params

__all__ = ["MilvusSearch"]


class MilvusSearch:
    """The ``_b_vector_search`` and ``_b_text_search`` primitives of
    :class:`~docstack.index.backends.milvus.MilvusDocumentIndex`."""

    def _b_vector_search(
        self, column: Column, queries: np.ndarray, k: int, node: FilterNode | None
    ) -> list[tuple[np.ndarray, np.ndarray]]:
        empty = [(np.zeros(0, np.int64), np.zeros(0)) for _ in range(len(queries))]
        if not self._exists:
            return empty
        expr = self._expression(node)
        if expr == FALSE:
            return empty
        layout = self._get_layout()
        parts = [] if expr == TRUE else [expr]
        if column.optional:
            parts.append(f"{layout.has_field(column.name)} == true")

        def search(batch: list[Any], depth: int) -> list[Any]:
            params = search_params(column, depth)
            if self._raw_params:
                params["params"] = {**params["params"], **self._raw_params}
                if "ef" in params["params"]:
                    params["params"]["ef"] = max(int(params["params"]["ef"]), depth)
            return self._call(
                "search",
                self._client.search,
                self._collection,
                data=batch,
                anns_field=layout.fields[column.name],
                filter=" and ".join(parts),
                limit=min(depth, 16384),
                output_fields=layout.output_fields(),
                search_params=params,
                consistency_level=self._db_config.consistency_level,
            )

        # one result more than asked shows whether the k-th score is tied with the next; only
        # such queries are searched again deeper, so that equal scores come in insertion
        # order as on every backend (a deeper search for every query costs Milvus Lite about
        # 2.5x: its cost grows with the limit)
        hits = list(search(queries.tolist(), k + 1))
        tied = [i for i, per_query in enumerate(hits) if _tied_at(_distances(per_query), k)]
        if tied:
            deeper = search([queries[i].tolist() for i in tied], k + max(16, k // 2))
            for i, per_query in zip(tied, deeper):
                hits[i] = per_query
        self._row_cache.clear()
        return self._rescore(column, queries, hits, k)

    def _rescore(
        self, column: Column, queries: np.ndarray, hits: list[Any], k: int
    ) -> list[tuple[np.ndarray, np.ndarray]]:
        """The engine's candidates of every query, scored again exactly as the other backends
        score (the documented meaning, equal scores in insertion order), in one numpy pass."""
        fname = self._get_layout().fields[column.name]
        decoded: dict[int, np.ndarray] = {}
        groups = [_candidates(per_query, fname, decoded) for per_query in hits]
        counts = np.fromiter((len(e) for e, _ in groups), np.int64, len(groups))
        width = int(counts.max()) if len(counts) else 0
        if width == 0:
            return [(np.zeros(0, np.int64), np.zeros(0)) for _ in range(len(queries))]
        dim = queries.shape[1]
        matrix = np.zeros((len(groups), width, dim), np.float32)
        seqs = np.full((len(groups), width), np.iinfo(np.int64).max, np.int64)
        for i, (entities, vectors) in enumerate(groups):
            n = len(entities)
            if n:
                matrix[i, :n] = vectors
                seqs[i, :n] = [e[SEQ] for e in entities]
        # candidates in insertion order, so that a stable sort by score keeps it among ties
        by_seq = np.argsort(seqs, axis=1, kind="stable")
        seqs = np.take_along_axis(seqs, by_seq, axis=1)
        matrix = np.take_along_axis(matrix, by_seq[:, :, None], axis=1)
        valid = np.arange(width)[None, :] < counts[:, None]
        scores = _scores(matrix, np.asarray(queries, np.float32), column.space)
        higher = higher_is_better(column.space)
        worst = -np.inf if higher else np.inf
        key = np.where(valid & ~np.isnan(scores), scores, worst)
        order = np.argsort(-key if higher else key, axis=1, kind="stable")
        out = []
        for i, (entities, vectors) in enumerate(groups):
            n = min(k, int(counts[i]))
            picked = order[i, :n]
            keys = seqs[i, picked]
            out.append((keys, scores[i, picked]))
            rows = by_seq[i, picked]
            for row in rows.tolist():
                e = entities[row]
                if fname not in e:
                    e[fname] = vectors[row].copy()
                self._row_cache[int(e[SEQ])] = e
        return out

    def _b_text_search(
        self, column: Column, text: str, k: int, node: FilterNode | None
    ) -> tuple[np.ndarray, np.ndarray]:
        layout = self._get_layout()
        sparse = layout.text_fields.get(column.name)
        if sparse is None:
            self._require(
                "bm25",
                f"Field {column.name!r} cannot be text-searched here; search it with Milvus "
                "2.5+ or Milvus Lite",
            )
            raise ValueError(
                f"field {column.name!r} is not text-searchable in Milvus: BM25 is set up when "
                "the collection is created, for str fields other than ids (mark it "
                "Field(full_text_search=True))"
            )
        empty = (np.zeros(0, np.int64), np.zeros(0))
        if not self._exists or not tokenize(text):
            return empty
        allowed: set[int] | None = None
        if node is not None:
            # Milvus Lite computes BM25 statistics over the filtered rows only: search all
            # rows (the scores of the unfiltered search) and keep the allowed ones
            allowed = set(self._b_filter(node, None).tolist())
            if not allowed:
                return empty
        depth = k if allowed is None else max(4 * k, 64)
        while True:
            hits = self._call(
                "text search",
                self._client.search,
                self._collection,
                data=[text],
                anns_field=sparse,
                filter="",
                limit=min(depth, 16384),
                output_fields=layout.output_fields(),
                search_params={"metric_type": "BM25"},
                consistency_level=self._db_config.consistency_level,
            )[0]
            if allowed is None or len(hits) < depth or depth >= 16384:
                break
            kept = sum(1 for h in hits if int(h["entity"][SEQ]) in allowed)
            if kept >= k:
                break
            depth *= 4
        if allowed is not None:
            hits = [h for h in hits if int(h["entity"][SEQ]) in allowed]
        self._row_cache.clear()
        for h in hits:
            self._row_cache[int(h["entity"][SEQ])] = h["entity"]
        keys = np.fromiter((h["entity"][SEQ] for h in hits), np.int64, len(hits))
        # Milvus reports BM25 as a score; Milvus Lite as its negation
        scores = np.abs(np.fromiter((h["distance"] for h in hits), np.float64, len(hits)))
        order = np.lexsort((keys, -scores))[:k]
        return keys[order], scores[order]


def _tied_at(distances: Sequence[float], k: int) -> bool:
    """Whether the engine's k-th and (k+1)-th results have the same distance (to float32
    precision): the k best are then not settled by the score alone."""
    if len(distances) <= k or k == 0:
        return False
    a, b = float(distances[k - 1]), float(distances[k])
    return abs(a - b) <= 1e-6 * max(1.0, abs(a))


def _distances(per_query: Any) -> Sequence[float]:
    """The engine's distances of one query's hits (without decoding the hits' fields)."""
    distances = getattr(per_query, "distances", None)
    if distances is not None and len(distances) == len(per_query):
        return distances
    return [h["distance"] for h in per_query]


def _candidates(
    per_query: Any, fname: str, decoded: dict[int, np.ndarray]
) -> tuple[list[dict[str, Any]], np.ndarray]:
    """One query's hits: their entities and the float32 vectors of field ``fname``.

    pymilvus decodes a hit's vector into a Python list when the hit is first read; when the
    searched vector is the only field left to decode, it is read for all the hits of the
    search at once, and given to an entity only when that hit is kept (``decoded`` holds the
    search's vectors by field). Otherwise the hits are read as pymilvus gives them.
    """
    lazy = getattr(per_query, "lazy_field_data", None)
    start = getattr(per_query, "start", None)
    if (
        lazy is not None
        and start is not None
        and not getattr(per_query, "has_materialized", True)
        and len(lazy) == 1
        and lazy[0].field_name == fname
        and lazy[0].HasField("vectors")
        and lazy[0].vectors.HasField("float_vector")
        and not len(lazy[0].valid_data)
    ):
        data = lazy[0]
        everything = decoded.get(id(data))
        if everything is None:
            dim = int(data.vectors.dim)
            everything = np.asarray(data.vectors.float_vector.data, np.float32).reshape(-1, dim)
            decoded[id(data)] = everything
        n = len(per_query)
        entities = [per_query.get_raw_item(i)["entity"] for i in range(n)]
        return entities, everything[start : start + n]
    entities = [h["entity"] for h in per_query]
    if not entities:
        return entities, np.zeros((0, 0), np.float32)
    return entities, np.asarray([e[fname] for e in entities], dtype=np.float32)


def _scores(matrix: np.ndarray, queries: np.ndarray, space: str) -> np.ndarray:
    """float64 scores of each query's candidates, ``matrix`` ``(q, c, dim)`` float32, computed
    as :func:`docstack._internal.metrics.scores` computes them (float32, then float64)."""
    out = np.matmul(matrix, queries[:, :, None])[:, :, 0]
    if space != "ip":
        row_sq = np.einsum("qcd,qcd->qc", matrix, matrix)
        query_sq = np.einsum("qd,qd->q", queries, queries)
        if space == "cosine":
            inverse = np.sqrt(query_sq)
            out *= np.divide(1, inverse, out=np.zeros_like(inverse), where=inverse > 0)[:, None]
            norms = np.sqrt(row_sq)
            out *= np.divide(1, norms, out=np.zeros_like(norms), where=norms > 0)
        else:
            out *= -2
            out += row_sq
            out += query_sq[:, None]
            np.maximum(out, 0, out=out)
            if space == "l2":
                np.sqrt(out, out=out)
    return out.astype(np.float64)

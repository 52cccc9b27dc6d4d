"""Hybrid queries of ``MilvusDocumentIndex`` in one ``hybrid_search`` call with Milvus' RRF.

Milvus' ``RRFRanker(k)`` scores ``sum_i 1 / (k + rank_i)`` (ranks from 1), docstack's RRF
with equal weights, but it ranks each part by the engine's float32 distances, orders equal
scores its own way and returns float32 sums. So docstack asks for the whole union of the
parts (each vector part one deeper than its depth), scores every vector part again exactly
(equal scores in insertion order, as ``find`` does), takes the text part's ranks from what is
left of Milvus' fused score, checks that everything adds up, and fuses those ranks with
:func:`docstack.retrieval.reciprocal_rank_fusion`: the ids, order and scores the planner gives.
Where that cannot be proven (weighted fusion, unequal weights, two text parts, a filter with a
text part, since Milvus computes BM25 statistics over the filtered rows only, equal vector
scores, or ranks that do not add up), ``None`` sends the query to the planner.
"""

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
from docstack.index.backends._milvus_search import _scores
from docstack.retrieval import reciprocal_rank_fusion

__all__ = ["MilvusHybrid"]

_EMPTY = (np.zeros(0, np.int64), np.zeros(0))
_MAX_LIMIT = 16384


class MilvusHybrid:
    """The ``_b_hybrid_search`` primitive of
    :class:`~docstack.index.backends.milvus.MilvusDocumentIndex` (a mixin)."""

    def _b_hybrid_search(
        self,
        vectors: Sequence[tuple[Column, np.ndarray, int, float]],
        texts: Sequence[tuple[Column, str, int, float]],
        node: FilterNode | None,
        fusion: str,
        rrf_k: int,
        limit: int,
    ) -> tuple[np.ndarray, np.ndarray] | None:
        """RRF through ``MilvusClient.hybrid_search`` (see the module docstring)."""
        weights = {w for *_, w in vectors} | {w for *_, w in texts}
        if fusion != "rrf" or len(weights) != 1 or not 1 <= rrf_k < _MAX_LIMIT:
            return None
        layout = self._get_layout()
        texts = [t for t in texts if tokenize(t[1]) and t[2] > 0]
        vectors = [v for v in vectors if v[2] > 0]
        if len(texts) > 1 or (texts and node is not None) or weights == {0.0}:
            return None
        if any(col.name not in layout.text_fields for col, *_ in texts):
            return None  # the planner's text search names the field
        if not self._exists or not vectors and not texts:
            return _EMPTY
        if not self._server_features().has("hybrid_search"):
            return None
        expr = self._expression(node)
        if expr == FALSE:
            return _EMPTY
        requests = [self._vector_request(col, vec, k, expr) for col, vec, k, _ in vectors]
        requests += [self._text_request(col, text, k) for col, text, k, _ in texts]
        total = sum(r.limit for r in requests)
        if total > _MAX_LIMIT:
            return None
        from pymilvus import RRFRanker

        hits = self._call(
            "hybrid search",
            self._client.hybrid_search,
            self._collection,
            requests,
            RRFRanker(int(rrf_k)),
            limit=total,
            output_fields=layout.output_fields(),
            consistency_level=self._db_config.consistency_level,
        )[0]
        entities = [h["entity"] for h in hits]
        fused = np.fromiter((h["distance"] for h in hits), np.float64, len(hits))
        ranked = self._recover(vectors, texts, entities, fused, rrf_k)
        if ranked is None:
            return None
        self._row_cache.clear()
        for e in entities:
            self._row_cache[int(e[SEQ])] = e
        self._native_hybrid = getattr(self, "_native_hybrid", 0) + 1
        keys, scores = reciprocal_rank_fusion(
            ranked, k=rrf_k, weights=[weights.pop()] * len(ranked)
        )
        return np.asarray(keys, np.int64), scores

    def _vector_request(self, col: Column, vec: np.ndarray, k: int, expr: str) -> Any:
        from pymilvus import AnnSearchRequest

        layout = self._get_layout()
        parts = [] if expr == TRUE else [expr]
        if col.optional:
            parts.append(f"{layout.has_field(col.name)} == true")
        return AnnSearchRequest(
            data=[np.asarray(vec, np.float32).tolist()],
            anns_field=layout.fields[col.name],
            param=search_params(col, k + 1),
            limit=k + 1,
            expr=" and ".join(parts) or None,
        )

    def _text_request(self, col: Column, text: str, k: int) -> Any:
        from pymilvus import AnnSearchRequest

        return AnnSearchRequest(
            data=[text],
            anns_field=self._get_layout().text_fields[col.name],
            param={"metric_type": "BM25"},
            limit=k,
        )

    def _recover(
        self,
        vectors: Sequence[tuple[Column, np.ndarray, int, float]],
        texts: Sequence[tuple[Column, str, int, float]],
        entities: list[dict],
        fused: np.ndarray,
        rrf_k: int,
    ) -> list[list[int]] | None:
        """Each part's ranking (keys best first) of the union Milvus returned, or ``None``
        where Milvus' fused scores do not add up to those rankings."""
        layout = self._get_layout()
        n = len(entities)
        seqs = np.fromiter((e[SEQ] for e in entities), np.int64, n)
        engine = np.zeros(n)  # what Milvus added up from the vector parts
        ranked: list[list[int]] = []
        for col, vec, k, _ in vectors:
            fname = layout.fields[col.name]
            valid = np.ones(n, bool)
            if col.optional:
                has = layout.has_field(col.name)
                valid = np.fromiter((bool(e.get(has)) for e in entities), bool, n)
            matrix = np.zeros((n, len(vec)), np.float32)
            if n:
                matrix[valid] = [entities[i][fname] for i in np.flatnonzero(valid)]
            query = np.asarray(vec, np.float32)[None, :]
            score = _scores(matrix[None], query, col.space)[0]
            higher = higher_is_better(col.space)
            order = np.lexsort((seqs, -score if higher else score))
            order = order[valid[order] & ~np.isnan(score[order])][: k + 1]
            if _near_tie(score[order]):
                # equal scores (to float32 precision: the planner's own float32 products of
                # equal vectors differ in the last bit) are the planner's to order
                return None
            engine[order] += 1.0 / (rrf_k + np.arange(1, len(order) + 1))
            ranked.append(seqs[order[:k]].tolist())
        rest = fused - engine
        tolerance = 1e-6 * max(1.0, float(np.abs(fused).max(initial=0.0)))
        if not texts:
            return ranked if bool(np.all(np.abs(rest) <= tolerance)) else None
        k_text = texts[0][2]
        present = rest > 0.5 / (rrf_k + k_text + 1)
        if np.any(np.abs(rest[~present]) > tolerance):
            return None
        ranks = 1.0 / rest[present] - rrf_k
        whole = np.rint(ranks)
        m = int(present.sum())
        if np.any(np.abs(ranks - whole) > 0.1) or not np.array_equal(
            np.sort(whole), np.arange(1, m + 1)
        ):
            return None
        ranked.append(seqs[present][np.argsort(whole)].tolist())
        return ranked


def _near_tie(ranked: np.ndarray) -> bool:
    """Whether two neighbours of a ranked score list are equal to float32 precision."""
    if len(ranked) < 2:
        return False
    gaps = np.abs(np.diff(ranked))
    return bool(np.any(gaps <= 1e-6 * np.maximum(1.0, np.abs(ranked[:-1]))))


# doctest compiles examples with the __future__ flags of the module namespace
del annotations

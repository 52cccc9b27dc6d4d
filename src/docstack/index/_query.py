"""Hybrid queries: a fluent builder of vector, text and filter searches, how to fuse them,
and how a built query runs."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from docstack._internal.metrics import higher_is_better
from docstack._internal.query import And, Comparison, FilterNode
from docstack.array.doc_list import DocList
from docstack.index._results import FindResult
from docstack.retrieval import reciprocal_rank_fusion, weighted_fusion

if TYPE_CHECKING:  # pragma: no cover
    from docstack.index._base import DocumentIndex

__all__ = ["Query", "QueryBuilder", "TextQuery", "VectorQuery", "execute_query"]

#: the number of results of a query that names no limit
DEFAULT_LIMIT = 10


@dataclass(frozen=True)
class VectorQuery:
    """One vector search of a hybrid query."""

    vector: np.ndarray
    column: str
    weight: float = 1.0
    limit: int | None = None


@dataclass(frozen=True)
class TextQuery:
    """One text (BM25) search of a hybrid query."""

    text: str
    column: str
    weight: float = 1.0
    limit: int | None = None


@dataclass(frozen=True)
class Query:
    """A built hybrid query; run it with ``index.execute_query(query)``.

    Every filter applies before any limit. With one search its own scores are returned;
    with several (or none) their results are fused: reciprocal rank fusion (``'rrf'``, the
    default, with constant ``rrf_k``) or a weighted sum of normalised scores (``'weighted'``).
    ``candidates`` holds the filters given with a limit before any search: only the first
    ``n`` documents matching each (in insertion order) can be results.
    """

    vectors: tuple[VectorQuery, ...]
    texts: tuple[TextQuery, ...]
    filter: FilterNode | None
    limit: int
    offset: int = 0
    score_threshold: float | None = None
    fusion: Literal["rrf", "weighted"] = "rrf"
    rrf_k: int = 60
    candidates: tuple[tuple[FilterNode, int], ...] = ()
    rerank: RerankStep | None = None


@dataclass(frozen=True)
class RerankStep:
    """A reranker applied to the first ``depth`` results of a query (see ``rerank()``)."""

    reranker: Any
    query: Any = None
    depth: int | None = None


class QueryBuilder:
    """Builds a hybrid :class:`Query`: each method adds a part and returns the builder.

    Limits, as in DocArray: a ``filter(..., limit=n)`` given before any search keeps the
    first ``n`` documents matching it (in insertion order) as the only candidates; given
    after a search, it caps the results at ``n`` (the filter itself still applies before
    every limit, so it never hides matches). With one search, its ``limit`` caps the results
    too; with several, it is how deep that search goes before fusion. ``build(limit=...)``
    is one more cap; with no limit anywhere, a query returns at most 10 documents.

    Example
    -------
    >>> import numpy as np
    >>> from docstack import BaseDoc, DocList
    >>> from docstack.typing import NdArray
    >>> from docstack.index import InMemoryExactNNIndex
    >>> class Doc(BaseDoc):
    ...     text: str
    ...     emb: NdArray[2]
    >>> index = InMemoryExactNNIndex[Doc]()
    >>> index.index(DocList[Doc]([Doc(text='red apple', emb=[1, 0]),
    ...                           Doc(text='green pear', emb=[0, 1])]))
    >>> q = (index.build_query()
    ...      .find(np.array([1.0, 0.1]), search_field='emb')
    ...      .filter({'text': {'$regex': 'pear'}})
    ...      .build(limit=5))
    >>> index.execute_query(q).documents.text
    ['green pear']
    """

    def __init__(self, index: DocumentIndex) -> None:
        self._index = index
        self._vectors: list[VectorQuery] = []
        self._texts: list[TextQuery] = []
        self._filters: list[FilterNode] = []
        self._candidates: list[tuple[FilterNode, int]] = []
        self._caps: list[int] = []
        self._rerank: RerankStep | None = None

    def find(
        self, query: Any, search_field: str = "", weight: float = 1.0, limit: int | None = None
    ) -> QueryBuilder:
        """Add a vector search by a document or a raw vector on ``search_field``."""
        column = self._index._schema.vector_column(search_field)
        vector = self._index._query_vectors(query, column, single=True)[0]
        self._vectors.append(VectorQuery(vector, column.name, _weight(weight), limit))
        return self

    def text_search(
        self, query: str, search_field: str = "", weight: float = 1.0, limit: int | None = None
    ) -> QueryBuilder:
        """Add a BM25 text search of ``query`` in ``search_field``."""
        column = self._index._schema.text_column(search_field)
        text = self._index._query_text(query)
        self._texts.append(TextQuery(text, column.name, _weight(weight), limit))
        return self

    def filter(self, filter_query: Any, limit: int | None = None) -> QueryBuilder:
        """Add a filter (ANDed with any other filter); it applies before every limit.

        ``limit``: before any search, only the first ``limit`` documents matching the
        filter are candidates; after a search, at most ``limit`` results come back.
        """
        node = self._index._parse_filter(filter_query)
        if limit is None:
            self._filters.append(node)
        elif self._vectors or self._texts:
            self._filters.append(node)
            self._caps.append(_count(limit, "limit"))
        else:
            self._candidates.append((node, _count(limit, "limit")))
        return self

    def rerank(self, reranker: Any, query: Any = None, depth: int | None = None) -> QueryBuilder:
        """Rerank the results with a :class:`docstack.retrieval.Reranker`.

        The search (and fusion) fetches ``depth`` candidates (by default twice the limit
        plus 20), the reranker reorders them, then ``offset``/``limit`` apply. Scores are
        the reranker's (higher is better; each reranker says what they mean). ``query``
        is what the reranker compares with (by default the first text search's text or
        the first vector search's vector, as the reranker's ``query_kind`` says).
        ``score_threshold`` applies to the first-stage scores.

        Example
        -------
        >>> import numpy as np
        >>> from docstack import BaseDoc
        >>> from docstack.typing import NdArray
        >>> from docstack.index import InMemoryExactNNIndex
        >>> from docstack.retrieval import MMRReranker
        >>> class Doc(BaseDoc):
        ...     emb: NdArray[2]
        >>> index = InMemoryExactNNIndex[Doc]()
        >>> index.index([Doc(id='a', emb=[1, 0]), Doc(id='a2', emb=[1, 0.01]),
        ...              Doc(id='b', emb=[0.6, 0.8])])
        >>> q = (index.build_query().find(np.array([1.0, 0.2]), search_field='emb')
        ...      .rerank(MMRReranker('emb', lambda_=0.5)).build(limit=2))
        >>> index.execute_query(q).documents.id
        ['a2', 'b']
        """
        from docstack.retrieval import Reranker

        if not isinstance(reranker, Reranker):
            raise TypeError(f"rerank() takes a Reranker, got {type(reranker).__name__}")
        depth = None if depth is None else _count(depth, "depth")
        self._rerank = RerankStep(reranker, query, depth)
        return self

    def build(
        self,
        limit: int | None = None,
        offset: int = 0,
        score_threshold: float | None = None,
        fusion: Literal["rrf", "weighted"] = "rrf",
        rrf_k: int = 60,
    ) -> Query:
        """Finish the query.

        Parameters
        ----------
        limit, offset:
            How many results (at most; see the class docstring for the other limits), after
            skipping ``offset`` of them.
        score_threshold:
            Drop results scoring worse than this (on the returned scores).
        fusion:
            ``'rrf'`` (reciprocal rank fusion) or ``'weighted'`` (weighted sum of min-max
            normalised scores, using each part's ``weight``).
        rrf_k:
            The RRF constant.
        """
        from docstack._internal.query import And

        if fusion not in ("rrf", "weighted"):
            raise ValueError(f"fusion must be 'rrf' or 'weighted', got {fusion!r}")
        node: FilterNode | None
        if not self._filters:
            node = None
        elif len(self._filters) == 1:
            node = self._filters[0]
        else:
            node = And(tuple(self._filters))
        caps = list(self._caps)
        parts = [*self._vectors, *self._texts]
        if len(parts) == 1 and parts[0].limit is not None:
            caps.append(_count(parts[0].limit, "limit"))
        if limit is not None:
            caps.append(_count(limit, "limit"))
        return Query(
            tuple(self._vectors),
            tuple(self._texts),
            node,
            min(caps) if caps else DEFAULT_LIMIT,
            _count(offset, "offset"),
            score_threshold,
            fusion,
            rrf_k,
            tuple(self._candidates),
            rerank=self._rerank,
        )


def execute_query(index: DocumentIndex, query: Query) -> FindResult:
    """Run a built query on ``index`` (what ``index.execute_query(query)`` does)."""
    if not isinstance(query, Query):
        raise TypeError(
            f"execute_query() takes a query from build_query().build(), got "
            f"{type(query).__name__}; backends' native queries are not supported here"
        )
    if query.rerank is not None:
        return _reranked(index, query)
    cols = index._schema.columns
    with index._lock:
        node = query.filter
        for cand, n in query.candidates:
            keys = index._b_filter(cand, n)
            if not len(keys):
                return index._empty_result()
            allowed = Comparison(("id",), "$in", index._b_rows(keys)[0])
            node = allowed if node is None else And((node, allowed))
        if not query.vectors and not query.texts:
            docs = index.filter(node or {}, limit=query.limit, offset=query.offset)
            return FindResult(docs, np.ones(len(docs), dtype=np.float64))
        if len(query.vectors) + len(query.texts) == 1:
            if query.vectors:
                vq = query.vectors[0]
                column = cols[vq.column]
                vectors = vq.vector[None, :]
                threshold = query.score_threshold
                return index._find(column, vectors, query.limit, threshold, query.offset, node)[0]
            tq = query.texts[0]
            return index._text(
                cols[tq.column], tq.text, query.limit, query.score_threshold, query.offset, node
            )
        return _fused(index, query, node)


def _fused(index: DocumentIndex, query: Query, node: FilterNode | None) -> FindResult:
    cols = index._schema.columns
    depth = max(query.limit + query.offset, 1) * 2 + 20
    ranked: list[tuple[np.ndarray, np.ndarray]] = []
    directions: list[bool] = []
    weights: list[float] = []
    native = index._b_hybrid_search(
        [
            (cols[vq.column], vq.vector, vq.limit or depth, vq.weight)
            for vq in query.vectors
            if vq.column in index._dims
        ],
        [(cols[tq.column], tq.text, tq.limit or depth, tq.weight) for tq in query.texts],
        node,
        query.fusion,
        query.rrf_k,
        query.limit + query.offset,
    )
    for vq in query.vectors if native is None else ():
        col = cols[vq.column]
        if col.name not in index._dims:
            continue
        k = vq.limit or depth
        ranked.append(index._b_vector_search(col, vq.vector[None, :], k, node)[0])
        directions.append(higher_is_better(col.space))
        weights.append(vq.weight)
    for tq in query.texts if native is None else ():
        k = tq.limit or depth
        ranked.append(index._b_text_search(cols[tq.column], tq.text, k, node))
        directions.append(True)
        weights.append(tq.weight)
    if native is not None:
        keys, scores = native
    elif query.fusion == "rrf":
        keys, scores = reciprocal_rank_fusion(
            [k.tolist() for k, _ in ranked], k=query.rrf_k, weights=weights
        )
    else:
        keys, scores = weighted_fusion([(k.tolist(), s) for k, s in ranked], weights, directions)
    keys_arr, scores_arr = index._trim(
        np.asarray(keys, dtype=np.int64), scores, query.offset, query.score_threshold, True
    )
    keys_arr, scores_arr = keys_arr[: query.limit], scores_arr[: query.limit]
    docs = index._docs_for_keys(keys_arr) if len(keys_arr) else DocList[index._doc_type]()
    return FindResult(docs, scores_arr)


def _weight(weight: Any) -> float:
    w = float(weight)
    if not np.isfinite(w) or w < 0:
        raise ValueError(f"weight must be finite and >= 0, got {weight!r}")
    return w


def _count(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{what} must be an int, got {type(value).__name__}")
    if value < 0:
        raise ValueError(f"{what} must be >= 0, got {value}")
    return int(value)


def _reranked(index: DocumentIndex, query: Query) -> FindResult:
    step = query.rerank
    assert step is not None
    end = query.offset + query.limit
    depth = max(step.depth if step.depth is not None else end * 2 + 20, end)
    first = execute_query(index, replace(query, rerank=None, limit=depth, offset=0))
    target = step.query
    if target is None:
        kind = getattr(step.reranker, "query_kind", "text")
        parts = query.vectors if kind == "vector" else query.texts
        if not parts:
            raise ValueError(f"the reranker compares with a {kind} query; give rerank(query=...)")
        target = parts[0].vector if kind == "vector" else parts[0].text
    docs, scores = step.reranker.rerank(target, first.documents, first.scores)
    docs = DocList[index._doc_type](list(docs)[query.offset : end], validate_input_docs=False)
    return FindResult(docs, np.asarray(scores, dtype=np.float64)[query.offset : end])


# doctest compiles examples with the __future__ flags of the module namespace
del annotations

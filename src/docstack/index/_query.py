"""Hybrid queries: a fluent builder of vector, text and filter searches and how to fuse them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from docstack._internal.query import FilterNode

if TYPE_CHECKING:  # pragma: no cover
    from docstack.index._base import DocumentIndex

__all__ = ["Query", "QueryBuilder", "TextQuery", "VectorQuery"]


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
    """

    vectors: tuple[VectorQuery, ...]
    texts: tuple[TextQuery, ...]
    filter: FilterNode | None
    limit: int
    offset: int = 0
    score_threshold: float | None = None
    fusion: Literal["rrf", "weighted"] = "rrf"
    rrf_k: int = 60


class QueryBuilder:
    """Builds a hybrid :class:`Query`: each method adds a part and returns the builder.

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
        """Add a filter (ANDed with any other filter); it applies before every limit."""
        self._filters.append(self._index._parse_filter(filter_query))
        return self

    def build(
        self,
        limit: int = 10,
        offset: int = 0,
        score_threshold: float | None = None,
        fusion: Literal["rrf", "weighted"] = "rrf",
        rrf_k: int = 60,
    ) -> Query:
        """Finish the query.

        Parameters
        ----------
        limit, offset:
            How many results, after skipping ``offset`` of them.
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
        return Query(
            tuple(self._vectors),
            tuple(self._texts),
            node,
            _count(limit, "limit"),
            _count(offset, "offset"),
            score_threshold,
            fusion,
            rrf_k,
        )


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


# doctest compiles examples with the __future__ flags of the module namespace
del annotations

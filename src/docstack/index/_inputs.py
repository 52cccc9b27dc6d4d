"""How a Document Index reads what callers give it: documents to index, filters, text and
vector queries (documents or raw vectors of any framework), each checked with a clear error."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from docstack._internal.query import (
    And,
    Comparison,
    FilterError,
    FilterNode,
    Not,
    Or,
    parse_filter,
)
from docstack.array.any_array import AnyDocArray
from docstack.base_doc.doc import BaseDoc
from docstack.errors import DocTypeError, ShapeError
from docstack.index._embed import doc_query_vector, embed_specs, encode_queries
from docstack.index._schema import Column
from docstack.typing.tensor._convert import framework_of, to_numpy

__all__ = ["QueryInputs"]


class QueryInputs:
    """The input checks of :class:`~docstack.index.DocumentIndex` (a mixin: it reads the
    index's ``_schema``, ``_dims`` and ``_doc_type``)."""

    _schema: Any
    _dims: dict[str, int]
    _doc_type: Any

    def _as_docs(self, docs: Any) -> Sequence[Any]:
        if isinstance(docs, BaseDoc):
            docs = [docs]
        elif isinstance(docs, AnyDocArray) and not isinstance(docs, Sequence):
            docs = list(docs)
        elif isinstance(docs, (str, bytes, Mapping)) or not isinstance(docs, Sequence):
            raise DocTypeError(
                f"index() takes documents ({self._doc_type.__name__}, a DocList or a list), "
                f"got {type(docs).__name__}"
            )
        return self._schema.check_doc_types(docs)

    def _parse_filter(self, filter_query: Any) -> FilterNode | None:
        if filter_query is None:
            return None
        if isinstance(filter_query, (And, Or, Not, Comparison)):
            node = filter_query
        else:
            if not isinstance(filter_query, Mapping):
                raise FilterError(
                    f"filter_query must be a dict in the portable query language, got "
                    f"{type(filter_query).__name__}"
                )
            node = parse_filter(filter_query, fields=list(self._schema.filter_columns))
        return node

    def _query_text(self, query: Any) -> str:
        if not isinstance(query, str):
            raise TypeError(f"a text query must be a str, got {type(query).__name__}")
        return query

    def _query_vectors(self, query: Any, column: Column, single: bool) -> np.ndarray:
        """Queries as a float32 ``(n, dim)`` array, from documents or raw vectors (or texts
        and images, for a field that declares its encoder)."""
        spec = embed_specs(self._schema).get(column.name)
        if spec is not None:
            encoded = encode_queries(query, spec, single)
            if encoded is not None:
                query = encoded
        if isinstance(query, BaseDoc):
            query = [query]
            if not single:
                raise TypeError("find_batched() takes several queries; use find() for one")
        if (
            isinstance(query, (AnyDocArray, list, tuple))
            and query
            and all(isinstance(q, BaseDoc) for q in query)
        ):
            vectors = [self._doc_vector(q, column) for q in query]
            arr = np.stack(vectors) if vectors else np.zeros((0, 0), np.float32)
        elif isinstance(query, AnyDocArray):
            arr = np.zeros((0, self._dims.get(column.name) or 0), np.float32)
        else:
            if framework_of(query) is None and not isinstance(query, (list, tuple)):
                raise TypeError(
                    f"a query must be a document or a vector, got {type(query).__name__}"
                )
            try:
                arr = to_numpy(query)
            except Exception as e:
                raise TypeError(f"cannot read the query as a vector: {e}") from e
            if arr.dtype.kind not in "biuf":
                raise TypeError(f"a query vector must be numeric, got dtype {arr.dtype}")
            if arr.ndim == 1:
                arr = arr[None, :]
            elif arr.ndim == 2:
                if single and arr.shape[0] != 1:
                    raise ValueError(
                        f"find() takes one query; got {arr.shape[0]} (use find_batched() "
                        "for several)"
                    )
            else:
                raise ShapeError(f"a query must be 1-D (or 2-D for batches), got {arr.shape}")
        arr = np.ascontiguousarray(arr, dtype=np.float32)
        dim = self._dims.get(column.name)
        if len(arr) and dim is not None and arr.shape[1] != dim:
            raise ShapeError(
                f"query vector has dimension {arr.shape[1]}, but field {column.name!r} has "
                f"dimension {dim}"
            )
        if len(arr) and not np.isfinite(arr).all():
            raise ValueError("query vector holds NaN or infinity")
        return arr

    def _doc_vector(self, doc: Any, column: Column) -> np.ndarray:
        value: Any = doc
        spec = embed_specs(self._schema).get(column.name)
        for part in column.path:
            value = getattr(value, part, None)
            if value is None and spec is not None:
                value = doc_query_vector(doc, spec, self._schema.columns)
                if value is not None:
                    break
            if value is None:
                raise ValueError(
                    f"query document {getattr(doc, 'id', '?')!r} has no value for "
                    f"search field {column.name!r}"
                )
        arr = to_numpy(value)
        if arr.ndim != 1:
            raise ShapeError(f"field {column.name!r} of the query is not a vector: {arr.shape}")
        return arr.astype(np.float32, copy=False)


# doctest compiles examples with the __future__ flags of the module namespace
del annotations

"""Exact nearest-neighbour search over a ``DocList`` or ``DocVec``."""

from __future__ import annotations

import sys
from typing import Any, NamedTuple

import numpy as np

from docstack._internal.metrics import canonical_metric, higher_is_better
from docstack._internal.metrics import scores as _scores
from docstack._internal.metrics import top_k as _top_k
from docstack.base_doc import BaseDocWithoutId
from docstack.typing.tensor._convert import framework_of, to_numpy
from docstack.utils._paths import column_values

__all__ = ["FindResult", "FindResultBatched", "find", "find_batched"]


class FindResult(NamedTuple):
    """The documents found, best first, and their scores."""

    documents: Any
    scores: Any


class FindResultBatched(NamedTuple):
    """Per query, the documents found (best first) and their scores: ``documents[i]`` and
    ``scores[i]`` answer query ``i``. Unpacks as ``docs, scores = find_batched(...)``;
    ``results[i]`` of the per-query view is ``FindResult(*results.for_query(i))``."""

    documents: list[Any]
    scores: list[Any]

    def for_query(self, i: int) -> FindResult:
        """The result of query ``i``."""
        return FindResult(self.documents[i], self.scores[i])

    def per_query(self) -> list[FindResult]:
        """One :class:`FindResult` per query."""
        return [FindResult(d, s) for d, s in zip(self.documents, self.scores)]


def _stack(values: Any, search_field: str) -> tuple[Any, np.ndarray | None]:
    """The index matrix and the positions of documents that have a vector (None: all)."""
    if framework_of(values) is not None:
        return values, None
    present = [i for i, v in enumerate(values) if v is not None]
    if not present:
        raise ValueError(f"no document has a value in search field {search_field!r}")
    rows = values if len(present) == len(values) else [values[i] for i in present]
    if any(isinstance(r, list) for r in rows):
        raise ValueError(
            f"search field {search_field!r} goes through a DocList field: search the nested "
            "documents directly (e.g. docs.traverse_flat(...))"
        )
    fw = {framework_of(r) for r in rows}
    if fw == {"torch"}:
        torch = sys.modules["torch"]
        matrix = torch.stack([r.as_subclass(torch.Tensor) for r in rows])
    else:
        matrix = np.array([to_numpy(r) for r in rows])
    positions = None if len(present) == len(values) else np.asarray(present)
    return matrix, positions


def _index_matrix(index: Any, search_field: str, cache: dict | None) -> tuple[Any, Any]:
    key = (id(index), len(index), search_field)
    if cache is not None and key in cache:
        return cache[key]
    from docstack.array.doc_vec import DocVec

    _check_search_field(index, search_field)
    values = column_values(index, tuple(search_field.split("__")))
    if isinstance(index, DocVec) and framework_of(values) is not None:
        result: tuple[Any, Any] = (values, None)
    elif isinstance(index, DocVec) and "__" not in search_field:
        data, mask = index.get_tensor_column(search_field)
        if data is None:
            raise ValueError(f"no document has a value in search field {search_field!r}")
        if mask is None:
            result = (data, None)
        else:
            positions = np.flatnonzero(mask)
            result = (_take_rows(data, positions), positions)
    else:
        result = _stack(values, search_field)
    if result[0].ndim != 2:
        raise ValueError(
            f"search field {search_field!r} must hold 1-D vectors; the stacked column has "
            f"shape {tuple(result[0].shape)}"
        )
    if cache is not None:
        cache[key] = result
    return result


def _take_rows(data: Any, positions: np.ndarray) -> Any:
    if framework_of(data) == "torch":
        return data[sys.modules["torch"].from_numpy(positions)]
    return data[positions]


def _is_tensor_union(cls: Any, name: str) -> bool:
    """Whether field ``name`` of ``cls`` is a union of tensor types (``Union[NdArray,
    TorchTensor]``, ``Optional[...]`` of one)."""
    from docstack.utils._internal._typing import is_tensor_union

    info = getattr(cls, "model_fields", {}).get(name)
    return info is not None and is_tensor_union(info.annotation)


def _check_search_field(index: Any, search_field: str) -> None:
    """Raise a ValueError naming ``search_field`` unless it is a tensor field of the docs."""
    from docstack._internal.fields import doc_fields
    from docstack.base_doc import AnyDoc

    doc_type = getattr(index, "doc_type", AnyDoc)
    if doc_type is AnyDoc:
        return
    cls: Any = doc_type
    parts = search_field.split("__")
    for i, part in enumerate(parts):
        kinds = doc_fields(cls)
        kind = kinds.get(part)
        if kind is None:
            raise ValueError(
                f"search field {search_field!r}: {cls.__name__} has no field {part!r} "
                f"(fields: {', '.join(kinds)})"
            )
        if i == len(parts) - 1:
            if kind.kind != "tensor" and not _is_tensor_union(cls, part):
                raise ValueError(
                    f"search field {search_field!r} is not a tensor field of {cls.__name__}"
                )
        elif kind.kind == "doc":
            cls = kind.doc_cls
        else:
            raise ValueError(
                f"search field {search_field!r}: {part!r} is not a nested document field"
            )


def _query_matrix(query: Any, search_field: str, batched: bool) -> Any:
    """The queries as a 2-D matrix, one row per query; :func:`find` accepts exactly one."""
    what = "query documents"
    if isinstance(query, BaseDocWithoutId):  # a document
        query = [query]
        batched_docs = True
    else:
        batched_docs = getattr(type(query), "__docstack_doc_array__", False)
    if batched_docs:
        values = column_values(query, tuple(search_field.split("__")))
        if values is None:  # a DocVec column no document has
            values = [None] * len(query)
        if framework_of(values) is None:
            if any(v is None for v in values):
                raise ValueError(f"a query document has no value in {search_field!r}")
            if not values:
                values = np.zeros((0, 0))
            else:
                values = np.stack([to_numpy(v) for v in values])
        query = values
    else:
        what = "query vectors"
        if framework_of(query) is None:
            query = np.asarray(query)
        if query.ndim == 1:
            if batched:
                raise ValueError("find_batched() needs several queries: a 2-D array or documents")
            query = query[None, :]
    if query.ndim != 2:
        raise ValueError(
            f"a query must be a vector (1-D), or for find_batched() a 2-D array with one query "
            f"per row; got an array of shape {tuple(query.shape)}"
        )
    if not batched and query.shape[0] != 1:
        raise ValueError(
            f"find() searches for exactly one query, got {query.shape[0]} {what} (shape "
            f"{tuple(query.shape)}); use find_batched() to search for several at once"
        )
    return query


def _plain(x: Any) -> Any:
    unwrap = getattr(x, "unwrap", None)
    return unwrap() if unwrap is not None else x


def _search(
    index: Any,
    query: Any,
    search_field: str,
    metric: str,
    limit: int,
    device: str | None,
    descending: bool | None,
    cache: dict | None,
    batched: bool,
) -> list[FindResult]:
    metric = canonical_metric(metric)
    if isinstance(limit, float) and limit.is_integer():
        limit = int(limit)  # a whole float (7.0), as DocArray took it
    if isinstance(limit, bool) or not isinstance(limit, (int, np.integer)):
        raise TypeError(f"limit must be a whole number, got {limit!r}")
    if limit < 0:
        raise ValueError(f"limit must be >= 0, got {limit}")
    if not search_field:
        raise ValueError("find() needs search_field=, the name of the vector field to search")
    queries = _query_matrix(query, search_field, batched)  # checked even for an empty index
    if queries.shape[0] == 0:  # find_batched() of no queries
        return []
    if len(index) == 0:
        empty = index[:0]
        return [FindResult(empty, np.zeros(0)) for _ in range(queries.shape[0])]
    matrix, positions = _index_matrix(index, search_field, cache)
    matrix, queries = _plain(matrix), _plain(queries)
    if framework_of(matrix) == "jax" or framework_of(queries) == "jax":
        matrix, queries = to_numpy(matrix), to_numpy(queries)
    if framework_of(matrix) == "torch" or framework_of(queries) == "torch":
        from docstack.typing.tensor._convert import to_torch

        matrix, queries = to_torch(matrix), to_torch(queries)
        if device is not None:
            matrix, queries = matrix.to(device), queries.to(device)
        queries = queries.to(matrix.dtype)
    natural = higher_is_better(metric)
    if descending is None or descending == natural:
        rows, top_scores = _top_k(matrix, queries, metric, limit)
    else:  # the caller asked for the opposite order: worst first
        all_scores = _scores(matrix, queries, metric)
        # best-first picks the highest of the key: the opposite order ranks by the other sign
        key = -all_scores if natural else all_scores
        rows, _ = _top_k_from_scores(key, limit)
        top_scores = _gather(all_scores, rows)
    rows_np = to_numpy(rows).astype(np.int64)
    out = []
    for q in range(rows_np.shape[0]):
        picked = rows_np[q] if positions is None else positions[rows_np[q]]
        out.append(FindResult(index[picked], top_scores[q]))
    return out


def _top_k_from_scores(scores_: Any, k: int) -> tuple[Any, Any]:
    s = to_numpy(scores_)
    k = min(k, s.shape[1])
    part = (
        np.argpartition(-s, k - 1, axis=1)[:, :k]
        if k < s.shape[1]
        else np.tile(np.arange(s.shape[1]), (s.shape[0], 1))
    )
    vals = np.take_along_axis(s, part, axis=1)
    order = np.argsort(-vals, axis=1, kind="stable")
    return np.take_along_axis(part, order, axis=1), np.take_along_axis(vals, order, axis=1)


def _gather(scores_: Any, rows: np.ndarray) -> Any:
    if framework_of(scores_) == "torch":
        torch = sys.modules["torch"]
        return torch.gather(scores_, 1, torch.from_numpy(rows))
    return np.take_along_axis(to_numpy(scores_), rows, axis=1)


def find(
    index: Any,
    query: Any,
    search_field: str = "",
    metric: str = "cosine_sim",
    limit: int = 10,
    device: str | None = None,
    descending: bool | None = None,
    cache: dict | None = None,
) -> FindResult:
    """Exact nearest-neighbour search of one query over a ``DocList`` or ``DocVec``.

    The whole index is scored with one matrix product (numpy, or torch when the vectors are
    torch tensors) and the best ``limit`` are picked with a partial sort.

    Parameters
    ----------
    index:
        The documents to search.
    query:
        A document (its ``search_field`` is used) or a vector (a ``(1, dim)`` array is
        accepted too). Several queries (a 2-D array with more than one row, or several
        documents) raise a ``ValueError``: search them with :func:`find_batched`.
    search_field:
        The vector field to search; nested fields with ``__`` (``'image__embedding'``).
    metric:
        ``'cosine_sim'`` (default), ``'euclidean_dist'``, ``'sqeuclidean_dist'`` or
        ``'dot'`` (also ``'cosine'``, ``'l2'``, ``'ip'``).
    limit:
        How many documents to return.
    device:
        For torch vectors, the device to compute on (e.g. ``'cuda'``).
    descending:
        Order of the results; by default best first (highest similarity, lowest distance).
    cache:
        A dict to reuse the stacked index vectors of a ``DocList`` across calls.

    Returns
    -------
    ``FindResult(documents, scores)``: the documents (same array type as ``index``) and their
    scores, best first. Documents with no vector (``None``) are never returned.

    Example
    -------
    >>> import numpy as np
    >>> from docstack import BaseDoc, DocList
    >>> from docstack.typing import NdArray
    >>> from docstack.utils import find
    >>> class D(BaseDoc):
    ...     emb: NdArray[2]
    >>> docs = DocList[D]([D(emb=[1, 0]), D(emb=[0, 1]), D(emb=[1, 1])])
    >>> result = find(docs, np.array([1.0, 0.1]), search_field='emb', limit=2)
    >>> [d.emb.tolist() for d in result.documents]
    [[1, 0], [1, 1]]
    """
    return _search(index, query, search_field, metric, limit, device, descending, cache, False)[0]


def find_batched(
    index: Any,
    query: Any,
    search_field: str = "",
    metric: str = "cosine_sim",
    limit: int = 10,
    device: str | None = None,
    descending: bool | None = None,
    cache: dict | None = None,
) -> FindResultBatched:
    """Exact nearest-neighbour search of several queries at once.

    Parameters
    ----------
    index, search_field, metric, limit, device, descending, cache:
        As in :func:`find`.
    query:
        A ``DocList``/``DocVec`` of query documents or a 2-D array of query vectors.

    Returns
    -------
    A :class:`FindResultBatched`: ``documents`` holds one array of documents per query,
    ``scores`` one score array per query (as DocArray's ``find_batched`` returns).

    Example
    -------
    >>> import numpy as np
    >>> from docstack import BaseDoc, DocList
    >>> from docstack.typing import NdArray
    >>> from docstack.utils import find_batched
    >>> class D(BaseDoc):
    ...     emb: NdArray[2]
    >>> docs = DocList[D]([D(emb=[1, 0]), D(emb=[0, 1])])
    >>> matches, scores = find_batched(docs, np.eye(2), search_field='emb', limit=1)
    >>> [m[0].emb.tolist() for m in matches]
    [[1, 0], [0, 1]]
    """
    results = _search(index, query, search_field, metric, limit, device, descending, cache, True)
    return FindResultBatched([r.documents for r in results], [r.scores for r in results])

"""Exact vector search over a stacked matrix, restricted to some rows (shared by backends)."""

from __future__ import annotations

import numpy as np

from docstack._internal.metrics import _np_top_k, scores

__all__ = ["exact_search"]


def exact_search(
    matrix: np.ndarray,
    queries: np.ndarray,
    metric: str,
    k: int,
    rows: np.ndarray | None = None,
    norms: np.ndarray | None = None,
    keys: np.ndarray | None = None,
) -> list[tuple[np.ndarray, np.ndarray]]:
    """The ``k`` best rows of ``matrix`` for each query, best first, exactly.

    Parameters
    ----------
    matrix:
        float32 ``(n, dim)``.
    queries:
        float32 ``(q, dim)``.
    metric:
        ``'cosine'`` (similarity), ``'l2'`` (euclidean distance) or ``'ip'``.
    k:
        Results per query.
    rows:
        Row numbers allowed (sorted ascending), or ``None`` for all.
    norms:
        Euclidean norms of the rows of ``matrix`` (computed when omitted).
    keys:
        The key of each row of ``matrix`` (row numbers when omitted).

    Returns
    -------
    list
        Per query ``(keys, scores)``; equal scores keep the lower row first.

    Example
    -------
    >>> m = np.array([[1, 0], [0, 1], [1, 1]], dtype=np.float32)
    >>> [k.tolist() for k, _ in exact_search(m, m[:1], 'cosine', 2)]
    [[0, 2]]
    """
    n = len(matrix) if rows is None else len(rows)
    k = min(k, n)
    if k <= 0 or not len(queries):
        empty = np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float64)
        return [empty for _ in range(len(queries))]
    if rows is not None:
        sub = matrix[rows]
        sub_norms = None if norms is None else norms[rows]
    else:
        sub, sub_norms = matrix, norms
    s = scores(sub, queries, metric, norms=sub_norms)
    idx, best = _np_top_k(s, k, metric in ("cosine", "ip"))
    if rows is not None:
        idx = rows[idx]
    if keys is not None:
        idx = keys[idx]
    return [(idx[i].astype(np.int64), best[i].astype(np.float64)) for i in range(len(queries))]

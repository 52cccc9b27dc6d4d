"""Exact nearest-neighbour kernels: similarity/distance matrices and stable top-k.

Metrics (canonical name first, then accepted aliases):

- ``'cosine'`` (``'cosine_sim'``): cosine similarity, higher is better; a zero vector has
  similarity 0 with everything (never NaN).
- ``'l2'`` (``'euclidean'``, ``'euclidean_dist'``): euclidean distance, lower is better.
- ``'sqeuclidean'`` (``'sqeuclidean_dist'``, ``'sq_euclidean'``): squared euclidean distance,
  lower is better.
- ``'ip'`` (``'dot'``, ``'inner_product'``): inner product, higher is better.

Everything is computed with matrix products (distances as ``|a|^2 - 2 a.b + |b|^2`` clipped at
0), in the framework of the inputs: numpy arrays (or lists) with numpy, torch tensors with torch
on their device, jax arrays with jax. Torch and jax are never imported here; they are
recognised through ``sys.modules``. Mixing frameworks raises ``TypeError``.

Dtypes: floating inputs keep their dtype (float32 stays float32); when the queries' float
dtype differs from the index's, the (small) queries are cast to the index's dtype rather than
copying the index. Integer inputs are computed in the framework's default float type.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    import torch

    Array = np.ndarray | torch.Tensor | Any

__all__ = ["METRICS", "canonical_metric", "higher_is_better", "scores", "top_k"]

METRICS: tuple[str, ...] = ("cosine", "l2", "sqeuclidean", "ip")

_ALIASES: dict[str, str] = {
    "cosine": "cosine",
    "cosine_sim": "cosine",
    "l2": "l2",
    "euclidean": "l2",
    "euclidean_dist": "l2",
    "sqeuclidean": "sqeuclidean",
    "sqeuclidean_dist": "sqeuclidean",
    "sq_euclidean": "sqeuclidean",
    "ip": "ip",
    "dot": "ip",
    "inner_product": "ip",
}


def canonical_metric(name: str) -> str:
    """The canonical name of a metric, given it or one of its aliases.

    Parameters
    ----------
    name:
        A metric name such as ``'cosine'``, ``'euclidean_dist'`` or ``'dot'`` (case and
        surrounding spaces are ignored).

    Returns
    -------
    str
        One of ``'cosine'``, ``'l2'``, ``'sqeuclidean'``, ``'ip'``.

    Raises
    ------
    ValueError
        The name is not a known metric; the message lists the valid names.

    Example
    -------
    >>> canonical_metric('euclidean_dist')
    'l2'
    """
    key = name.strip().lower() if isinstance(name, str) else None
    if key not in _ALIASES:
        aliases = ", ".join(sorted(set(_ALIASES) - set(METRICS)))
        raise ValueError(
            f"unknown metric {name!r}; valid metrics: {', '.join(METRICS)} (aliases: {aliases})"
        )
    return _ALIASES[key]


def higher_is_better(metric: str) -> bool:
    """Whether a larger score means a closer match for ``metric``.

    Parameters
    ----------
    metric:
        A metric name or alias.

    Returns
    -------
    bool
        True for similarities (cosine, ip), False for distances (l2, sqeuclidean).

    Example
    -------
    >>> higher_is_better('cosine'), higher_is_better('l2')
    (True, False)
    """
    return canonical_metric(metric) in ("cosine", "ip")


# --------------------------------------------------------------------------------------------
# Framework dispatch
# --------------------------------------------------------------------------------------------


def _framework(*arrays: Any) -> str:
    kinds = set()
    torch = sys.modules.get("torch")
    jax = sys.modules.get("jax")
    for a in arrays:
        if a is None:
            continue
        if torch is not None and isinstance(a, torch.Tensor):
            kinds.add("torch")
        elif jax is not None and isinstance(a, jax.Array):
            kinds.add("jax")
        else:
            kinds.add("numpy")
    if len(kinds) > 1:
        raise TypeError(
            f"index and queries must come from the same framework, got {sorted(kinds)}; "
            "convert one of them explicitly"
        )
    return kinds.pop() if kinds else "numpy"


def _check_shapes(index: Any, queries: Any) -> None:
    if index.ndim != 2:
        raise ValueError(f"index must be 2-D (n_index, dim), got shape {tuple(index.shape)}")
    if queries.shape[1] != index.shape[1]:
        raise ValueError(
            f"query dimension {queries.shape[1]} does not match index dimension {index.shape[1]}"
        )


def _check_norms(norms: Any, n: int) -> None:
    if tuple(norms.shape) != (n,):
        raise ValueError(f"norms must have shape ({n},), got {tuple(norms.shape)}")


# ---- numpy ---------------------------------------------------------------------------------


def _np_prepare(index: Any, queries: Any) -> tuple[np.ndarray, np.ndarray]:
    index = np.asarray(index)
    queries = np.asarray(queries)
    if queries.ndim == 1:
        queries = queries[None, :]
    elif queries.ndim != 2:
        raise ValueError(
            f"queries must be 1-D (dim,) or 2-D (n_queries, dim), got shape {queries.shape}"
        )
    if index.dtype.kind != "f":
        index = index.astype(np.float64)
    if queries.dtype != index.dtype:
        queries = queries.astype(index.dtype)
    _check_shapes(index, queries)
    return index, queries


def _np_sqnorms(x: np.ndarray) -> np.ndarray:
    if hasattr(np, "vecdot"):  # numpy >= 2: a little faster than einsum
        return np.vecdot(x, x)
    return np.einsum("ij,ij->i", x, x)  # pragma: no cover


def _np_inverse(norms: np.ndarray) -> np.ndarray:
    return np.divide(1, norms, out=np.zeros_like(norms), where=norms > 0)


def _np_scores(
    index: np.ndarray, queries: np.ndarray, metric: str, norms: Any = None
) -> np.ndarray:
    if queries.shape[0] == 1:
        out = (index @ queries[0])[None, :]
    else:
        out = queries @ index.T
    if metric == "ip":
        return out
    if norms is not None:
        norms = np.asarray(norms, dtype=index.dtype)
        _check_norms(norms, index.shape[0])
    if metric == "cosine":
        index_norms = np.sqrt(_np_sqnorms(index)) if norms is None else norms
        out *= _np_inverse(np.sqrt(_np_sqnorms(queries)))[:, None]
        out *= _np_inverse(index_norms)[None, :]
        return out
    index_sq = _np_sqnorms(index) if norms is None else norms * norms
    out *= -2
    out += index_sq[None, :]
    out += _np_sqnorms(queries)[:, None]
    np.maximum(out, 0, out=out)
    if metric == "l2":
        np.sqrt(out, out=out)
    return out


def _np_top_k(s: np.ndarray, k: int, best_high: bool) -> tuple[np.ndarray, np.ndarray]:
    indices = _np_select(s, k, best_high)
    if indices is None:  # NaN scores: rank them last
        worst = -np.inf if best_high else np.inf
        indices = _np_select(np.where(np.isnan(s), worst, s), k, best_high)
    return indices, np.take_along_axis(s, indices, axis=1)


def _np_select(key: np.ndarray, k: int, best_high: bool) -> np.ndarray | None:
    """Indices of the k best keys per row, best first, ties by lower index; None on NaN."""
    m, n = key.shape
    if k < n:
        if best_high:
            candidates = np.argpartition(key, n - k, axis=1)[:, n - k :]
        else:
            candidates = np.argpartition(key, k - 1, axis=1)[:, :k]
        picked = np.take_along_axis(key, candidates, axis=1)
        # argpartition ranks NaN above every number, so a row holding NaN has one among its
        # candidates when higher is better (and when lower is better, only if it must)
        if picked.dtype.kind == "f" and np.isnan(picked).any():
            return None
        threshold = picked.min(axis=1) if best_high else picked.max(axis=1)
        # argpartition picks arbitrarily among values tied with the k-th best: keep the
        # lowest indices instead (only rows where the tie crosses the boundary need work)
        tied_total = np.count_nonzero(key == threshold[:, None], axis=1)
        tied_picked = np.count_nonzero(picked == threshold[:, None], axis=1)
        for row in np.flatnonzero(tied_total > tied_picked).tolist():
            values, t = key[row], threshold[row]
            better = np.flatnonzero(values > t if best_high else values < t)
            tied = np.flatnonzero(values == t)[: k - len(better)]
            candidates[row] = np.concatenate((better, tied))
        candidates.sort(axis=1)
    else:
        if key.dtype.kind == "f" and np.isnan(key).any():
            return None
        candidates = np.broadcast_to(np.arange(n), (m, n))
    picked = np.take_along_axis(key, candidates, axis=1)
    order = np.argsort(-picked if best_high else picked, axis=1, kind="stable")
    return np.take_along_axis(candidates, order, axis=1).astype(np.int64, copy=False)


# ---- torch ---------------------------------------------------------------------------------


def _torch_prepare(index: Any, queries: Any) -> tuple[Any, Any]:
    torch = sys.modules["torch"]
    if queries.ndim == 1:
        queries = queries.unsqueeze(0)
    elif queries.ndim != 2:
        raise ValueError(
            f"queries must be 1-D (dim,) or 2-D (n_queries, dim), got shape {tuple(queries.shape)}"
        )
    if not index.is_floating_point():
        index = index.to(torch.get_default_dtype())
    if queries.dtype != index.dtype:
        queries = queries.to(index.dtype)
    _check_shapes(index, queries)
    return index, queries


def _torch_inverse(norms: Any) -> Any:
    torch = sys.modules["torch"]
    return torch.where(norms > 0, norms.reciprocal(), torch.zeros_like(norms))


def _torch_scores(index: Any, queries: Any, metric: str, norms: Any = None) -> Any:
    torch = sys.modules["torch"]
    if queries.shape[0] == 1:
        out = (index @ queries[0]).unsqueeze(0)
    else:
        out = queries @ index.T
    if metric == "ip":
        return out
    if norms is not None:
        norms = torch.as_tensor(norms, dtype=index.dtype, device=index.device)
        _check_norms(norms, index.shape[0])
    if metric == "cosine":
        index_norms = torch.linalg.vector_norm(index, dim=1) if norms is None else norms
        query_norms = torch.linalg.vector_norm(queries, dim=1)
        return out * _torch_inverse(query_norms)[:, None] * _torch_inverse(index_norms)[None, :]
    index_sq = (index * index).sum(dim=1) if norms is None else norms * norms
    out = (out * -2 + index_sq[None, :] + (queries * queries).sum(dim=1)[:, None]).clamp_min(0)
    return out.sqrt() if metric == "l2" else out


def _torch_top_k(s: Any, k: int, best_high: bool) -> tuple[Any, Any]:
    torch = sys.modules["torch"]
    m, n = s.shape
    key = s
    if s.is_floating_point() and torch.isnan(s).any():
        fill = float("-inf") if best_high else float("inf")
        key = torch.where(torch.isnan(s), torch.full_like(s, fill), s)
    if k < n:
        picked, candidates = torch.topk(key, k, dim=1, largest=best_high, sorted=False)
        threshold = picked.amin(dim=1, keepdim=True) if best_high else picked.amax(1, True)
        ties_cross = (key == threshold).sum(dim=1) > (picked == threshold).sum(dim=1)
        if bool(ties_cross.any()):  # keep the lowest indices among values tied at the boundary
            rows = ties_cross.nonzero().squeeze(1)
            sub, t = key[rows], threshold[rows]
            better = sub > t if best_high else sub < t
            tied = sub == t
            need = k - better.sum(dim=1, keepdim=True)
            chosen = better | (tied & (tied.cumsum(dim=1) <= need))
            candidates[rows] = chosen.nonzero()[:, 1].view(-1, k)
        candidates, _ = candidates.sort(dim=1)
    else:
        candidates = torch.arange(n, device=s.device).expand(m, n)
    picked = key.gather(1, candidates)
    order = picked.sort(dim=1, descending=best_high, stable=True).indices
    indices = candidates.gather(1, order).to(torch.int64)
    return indices, s.gather(1, indices)


# ---- jax -----------------------------------------------------------------------------------


def _jax_prepare(index: Any, queries: Any) -> tuple[Any, Any]:
    jnp = sys.modules["jax"].numpy
    if queries.ndim == 1:
        queries = queries[None, :]
    elif queries.ndim != 2:
        raise ValueError(
            f"queries must be 1-D (dim,) or 2-D (n_queries, dim), got shape {queries.shape}"
        )
    if not jnp.issubdtype(index.dtype, jnp.floating):
        index = index.astype(jnp.result_type(float))
    if queries.dtype != index.dtype:
        queries = queries.astype(index.dtype)
    _check_shapes(index, queries)
    return index, queries


def _jax_scores(index: Any, queries: Any, metric: str, norms: Any = None) -> Any:
    jnp = sys.modules["jax"].numpy
    out = queries @ index.T
    if metric == "ip":
        return out
    if norms is not None:
        norms = jnp.asarray(norms, dtype=index.dtype)
        _check_norms(norms, index.shape[0])

    def inverse(x: Any) -> Any:
        return jnp.where(x > 0, 1 / jnp.where(x > 0, x, 1), 0).astype(x.dtype)

    if metric == "cosine":
        index_norms = jnp.linalg.norm(index, axis=1) if norms is None else norms
        query_norms = jnp.linalg.norm(queries, axis=1)
        return out * inverse(query_norms)[:, None] * inverse(index_norms)[None, :]
    index_sq = (index * index).sum(axis=1) if norms is None else norms * norms
    out = jnp.maximum(out * -2 + index_sq[None, :] + (queries * queries).sum(axis=1)[:, None], 0)
    return jnp.sqrt(out) if metric == "l2" else out


def _jax_top_k(s: Any, k: int, best_high: bool) -> tuple[Any, Any]:
    jax = sys.modules["jax"]
    jnp = jax.numpy
    key = s if best_high else -s
    key = jnp.where(jnp.isnan(key), -jnp.inf, key)
    _, indices = jax.lax.top_k(key, k)  # ties: lower index first
    indices = indices.astype(jnp.int64 if jax.config.jax_enable_x64 else jnp.int32)
    return indices, jnp.take_along_axis(s, indices, axis=1)


_BACKENDS = {
    "numpy": (_np_prepare, _np_scores, _np_top_k),
    "torch": (_torch_prepare, _torch_scores, _torch_top_k),
    "jax": (_jax_prepare, _jax_scores, _jax_top_k),
}


# --------------------------------------------------------------------------------------------
# Public kernels
# --------------------------------------------------------------------------------------------


def scores(index: Array, queries: Array, metric: str, norms: Array | None = None) -> Array:
    """The score of every query against every index row, in the inputs' framework.

    Parameters
    ----------
    index:
        The vectors searched, shape ``(n_index, dim)``: a numpy array (or nested list), a
        torch tensor or a jax array.
    queries:
        Shape ``(n_queries, dim)``, or ``(dim,)`` for a single query; same framework.
    metric:
        ``'cosine'``, ``'l2'``, ``'sqeuclidean'``, ``'ip'`` or an alias.
    norms:
        Optional precomputed euclidean norms of the index rows, shape ``(n_index,)``; used by
        cosine, l2 and sqeuclidean instead of recomputing them.

    Returns
    -------
    array
        Shape ``(n_queries, n_index)`` (``(1, n_index)`` for a 1-D query): cosine
        similarity, euclidean distance, squared euclidean distance or inner product.

    Raises
    ------
    ValueError
        Unknown metric, wrong number of dimensions or a dimension mismatch.
    TypeError
        Index and queries come from different frameworks.

    Example
    -------
    >>> scores(np.array([[1.0, 0.0], [0.0, 2.0]]), np.array([0.0, 1.0]), 'cosine')
    array([[0., 1.]])
    """
    metric = canonical_metric(metric)
    prepare, compute, _ = _BACKENDS[_framework(index, queries)]
    index, queries = prepare(index, queries)
    return compute(index, queries, metric, norms)


def top_k(
    index: Array,
    queries: Array,
    metric: str,
    k: int,
    norms: Array | None = None,
) -> tuple[Array, Array]:
    """The ``k`` best index rows for each query, best first, exactly.

    Parameters
    ----------
    index:
        The vectors searched, shape ``(n_index, dim)`` (numpy, torch or jax).
    queries:
        Shape ``(n_queries, dim)``, or ``(dim,)`` for a single query; same framework.
    metric:
        ``'cosine'``, ``'l2'``, ``'sqeuclidean'``, ``'ip'`` or an alias; similarities are
        ranked high to low, distances low to high.
    k:
        How many results per query; more than ``n_index`` returns all rows.
    norms:
        Optional precomputed euclidean norms of the index rows, shape ``(n_index,)``.

    Returns
    -------
    tuple
        ``(indices, scores)``, both of shape ``(n_queries, min(k, n_index))`` (one row for a
        1-D query), in the inputs' framework; indices are int64 (int32 for jax unless x64 is
        enabled). Equal scores are ordered by lower index first, and a tie at the k-th place
        keeps the lowest indices. NaN scores rank last.

    Raises
    ------
    ValueError
        Unknown metric, negative ``k``, wrong number of dimensions or a dimension mismatch.
    TypeError
        Index and queries come from different frameworks.

    Example
    -------
    >>> index = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    >>> top_k(index, np.array([1.0, 0.2]), 'l2', k=2)[0]
    array([[0, 2]])
    """
    metric = canonical_metric(metric)
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)):
        raise TypeError(f"k must be an int, got {type(k).__name__}")
    if k < 0:
        raise ValueError(f"k must be >= 0, got {k}")
    prepare, compute, select = _BACKENDS[_framework(index, queries)]
    index, queries = prepare(index, queries)
    s = compute(index, queries, metric, norms)
    k = min(int(k), s.shape[1])
    if k == 0:
        empty = s[:, :0]
        return _empty_indices(empty), empty
    return select(s, k, metric in ("cosine", "ip"))


def _empty_indices(like: Any) -> Any:
    torch = sys.modules.get("torch")
    if torch is not None and isinstance(like, torch.Tensor):
        return torch.zeros(like.shape, dtype=torch.int64, device=like.device)
    jax = sys.modules.get("jax")
    if jax is not None and isinstance(like, jax.Array):
        return jax.numpy.zeros(like.shape, dtype=int)
    return np.zeros(like.shape, dtype=np.int64)

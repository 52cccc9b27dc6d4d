"""Fusing ranked result lists: reciprocal rank fusion and weighted score fusion."""

from __future__ import annotations

from collections.abc import Hashable, Sequence

import numpy as np

__all__ = ["reciprocal_rank_fusion", "weighted_fusion"]


def _check_weights(weights: Sequence[float] | None, n: int) -> list[float]:
    if weights is None:
        return [1.0] * n
    weights = [float(w) for w in weights]
    if len(weights) != n:
        raise ValueError(f"got {len(weights)} weights for {n} result lists")
    if any(not np.isfinite(w) or w < 0 for w in weights):
        raise ValueError(f"weights must be finite and >= 0, got {weights}")
    return weights


def _ordered(
    totals: dict[Hashable, float], first_seen: dict[Hashable, int]
) -> tuple[list, np.ndarray]:
    keys = sorted(totals, key=lambda k: (-totals[k], first_seen[k]))
    return keys, np.array([totals[k] for k in keys], dtype=np.float64)


def reciprocal_rank_fusion(
    rankings: Sequence[Sequence[Hashable]],
    k: int = 60,
    weights: Sequence[float] | None = None,
) -> tuple[list, np.ndarray]:
    """Fuse ranked lists by reciprocal rank: ``score(d) = sum_i w_i / (k + rank_i(d))``.

    Ranks start at 1; a document absent from a list gets nothing from it. Ties are broken by
    where a document first appears (earlier lists, then better ranks, first).

    Parameters
    ----------
    rankings:
        Lists of keys (document ids), each best first.
    k:
        The damping constant (60 by default, as in the original RRF paper); must be >= 0.
    weights:
        One non-negative weight per list (all 1 by default).

    Returns
    -------
    tuple
        ``(keys, scores)``: the fused keys best first and their fused scores (higher is
        better).

    Example
    -------
    >>> keys, scores = reciprocal_rank_fusion([['a', 'b', 'c'], ['b', 'c']], k=1)
    >>> keys
    ['b', 'c', 'a']
    >>> [round(float(s), 3) for s in scores]
    [0.833, 0.583, 0.5]
    """
    if isinstance(k, bool) or not isinstance(k, (int, float)) or k < 0:
        raise ValueError(f"k must be a number >= 0, got {k!r}")
    weights = _check_weights(weights, len(rankings))
    totals: dict[Hashable, float] = {}
    first_seen: dict[Hashable, int] = {}
    order = 0
    for ranking, w in zip(rankings, weights):
        for rank, key in enumerate(ranking, start=1):
            totals[key] = totals.get(key, 0.0) + w / (k + rank)
            if key not in first_seen:
                first_seen[key] = order
            order += 1
    return _ordered(totals, first_seen)


def weighted_fusion(
    results: Sequence[tuple[Sequence[Hashable], Sequence[float]]],
    weights: Sequence[float] | None = None,
    higher_is_better: Sequence[bool] | None = None,
) -> tuple[list, np.ndarray]:
    """Fuse scored lists by a weighted sum of min-max normalised scores.

    Each list's scores are scaled to [0, 1] (the best becomes 1, the worst 0; a list whose
    scores are all equal gives 1 to each), distances are flipped first, and a document's fused
    score is ``sum_i w_i * normalised_i(d)`` (0 where a list lacks it).

    Parameters
    ----------
    results:
        ``(keys, scores)`` pairs, each best first.
    weights:
        One non-negative weight per list (all 1 by default).
    higher_is_better:
        Per list, whether a higher score is better (all True by default).

    Returns
    -------
    tuple
        ``(keys, scores)`` best first; fused scores are higher-is-better.

    Example
    -------
    >>> keys, scores = weighted_fusion(
    ...     [(['a', 'b'], [0.9, 0.1]), (['b', 'a'], [1.0, 3.0])],
    ...     weights=[1.0, 0.5], higher_is_better=[True, False])
    >>> keys, scores.tolist()
    (['a', 'b'], [1.0, 0.5])
    """
    weights = _check_weights(weights, len(results))
    directions = list(higher_is_better) if higher_is_better is not None else [True] * len(results)
    if len(directions) != len(results):
        raise ValueError(f"got {len(directions)} directions for {len(results)} result lists")
    totals: dict[Hashable, float] = {}
    first_seen: dict[Hashable, int] = {}
    order = 0
    for (keys, scores), w, high in zip(results, weights, directions):
        s = np.asarray(scores, dtype=np.float64)
        if len(keys) != len(s):
            raise ValueError("each result list needs one score per key")
        if not high:
            s = -s
        lo, hi = (float(s.min()), float(s.max())) if len(s) else (0.0, 0.0)
        norm = (s - lo) / (hi - lo) if hi > lo else np.ones_like(s)
        for key, v in zip(keys, norm.tolist()):
            totals[key] = totals.get(key, 0.0) + w * v
            if key not in first_seen:
                first_seen[key] = order
            order += 1
    return _ordered(totals, first_seen)

"""Ranking metrics over a run and relevance judgments, computed for all queries at once.

Conventions follow trec_eval (and so ``pytrec_eval``), so figures are directly comparable:

- A document is *relevant* when its grade is ``>= relevance_level`` (1 by default); MRR, MAP,
  hits, precision, recall and R-precision count relevant documents only.
- DCG gains are the grades themselves, negative grades counting as 0, whatever the
  ``relevance_level``; the discount of rank ``r`` (from 1) is ``log2(r + 1)``. The ideal DCG
  of nDCG sorts every positive judgment of the query (cut at ``k`` for ``ndcg@k``).
- Unjudged documents are non-relevant with gain 0. ``precision@k`` divides by ``k`` even when
  fewer documents were retrieved; MAP, recall and R-precision divide by the number of relevant
  judgments (a query with none scores 0).
- Ties: trec_eval ranks a scored run by score descending, then **document id descending**
  (``ties='docid'``, the default, equal to trec_eval). ``ties='given'`` keeps the run's own
  order among equal scores. A run given as ranked lists (``{qid: [docid, ...]}``) is always
  taken in the order given.
- Queries: only queries that have judgments are evaluated (an empty ``{}`` of judgments
  counts as none, as in trec_eval). ``missing='skip'`` (the default, as
  ``pytrec_eval``) evaluates the queries of the run (an empty result list scores 0);
  ``missing='zero'`` evaluates every judged query, one absent from the run scoring 0 on every
  metric (trec_eval's ``-c``).
"""

from __future__ import annotations

import re
from collections.abc import Hashable, Iterable, Mapping, Sequence
from itertools import chain, repeat
from typing import Any, Literal

import numpy as np

from docstack.errors import DocstackError

__all__ = [
    "DEFAULT_METRICS",
    "MetricError",
    "RankedRun",
    "compute_metrics",
    "parse_metric",
    "rank_run",
]

#: the metrics evaluated when none are named
DEFAULT_METRICS: tuple[str, ...] = ("mrr", "map", "ndcg@10", "recall@100", "hits@10")

Run = Mapping[Hashable, Mapping[Hashable, float] | Sequence[Hashable]]
Qrels = Mapping[Hashable, Mapping[Hashable, float]]

_NEEDS_K = {"hits", "recall", "precision"}
_NAMES = {"mrr", "map", "dcg", "ndcg", "hits", "recall", "precision", "r_precision"}
_ALIASES = {
    "recip_rank": "mrr",
    "p": "precision",
    "ndcg_cut": "ndcg",
    "success": "hits",
    "map_cut": "map",
    "rprec": "r_precision",
    "r-precision": "r_precision",
}
_PATTERN = re.compile(r"^([A-Za-z_\-]+?)(?:[@_](\d+))?$")


class MetricError(DocstackError, ValueError):
    """A metric name, a run or relevance judgments that cannot be evaluated.

    It is a ``ValueError`` too, so callers that catch those keep working.

    Example
    -------
    >>> parse_metric('hits')
    Traceback (most recent call last):
    ...
    docstack.retrieval._metrics.MetricError: metric 'hits' needs a cutoff, e.g. 'hits@10'
    >>> issubclass(MetricError, ValueError)
    True
    """


def parse_metric(name: str) -> tuple[str, int | None]:
    """Read a metric name into ``(metric, cutoff)``; trec_eval names are accepted too.

    Names: ``mrr``, ``map``, ``dcg``, ``ndcg`` (each optionally ``@k``), ``hits@k``,
    ``recall@k``, ``precision@k`` and ``r_precision``; trec_eval's ``recip_rank``, ``P_10``,
    ``ndcg_cut_10``, ``success_1``, ``map_cut_10`` and ``Rprec`` mean the same.

    Example
    -------
    >>> parse_metric('ndcg@10'), parse_metric('P_5'), parse_metric('Rprec')
    (('ndcg', 10), ('precision', 5), ('r_precision', None))
    """
    if not isinstance(name, str):
        raise MetricError(f"a metric is named by a string, got {name!r}")
    match = _PATTERN.match(name.strip())
    if name.strip().lower() in ("r_precision", "rprec"):
        return "r_precision", None
    if match is None:
        raise MetricError(f"cannot read metric {name!r}; e.g. 'ndcg@10', 'map', 'recall@100'")
    base, k = match.group(1).lower(), match.group(2)
    base = _ALIASES.get(base, base)
    if base not in _NAMES:
        raise MetricError(f"unknown metric {name!r}; known: {sorted(_NAMES)} (with @k)")
    cutoff = int(k) if k is not None else None
    if cutoff is not None and (cutoff < 1 or base == "r_precision"):
        raise MetricError(f"metric {name!r}: the cutoff must be >= 1 (and R-precision has none)")
    if cutoff is None and base in _NEEDS_K:
        raise MetricError(f"metric {name!r} needs a cutoff, e.g. '{base}@10'")
    return base, cutoff


def canonical_name(name: str) -> str:
    """The canonical spelling of a metric: ``'P_10'`` -> ``'precision@10'``."""
    base, k = parse_metric(name)
    return base if k is None else f"{base}@{k}"


class RankedRun:
    """A run flattened to arrays: one entry per retrieved document, queries one after another,
    each query's documents best first, with their judged grade (``-inf`` when unjudged).

    Built by :func:`rank_run`; :meth:`metrics` computes any metric for all queries at once.

    Example
    -------
    >>> ranked = rank_run({'q': ['a', 'b']}, {'q': {'b': 1}})
    >>> ranked.grades.tolist(), ranked.positions.tolist()
    ([-inf, 1.0], [0, 1])
    """

    def __init__(
        self,
        qids: list[Hashable],
        lengths: np.ndarray,
        grades: np.ndarray,
        judged_qidx: np.ndarray,
        judged_grades: np.ndarray,
    ) -> None:
        self.qids = qids
        self.lengths = lengths
        self.grades = grades
        n = len(qids)
        starts = np.cumsum(lengths) - lengths
        self.qidx = np.repeat(np.arange(n), lengths)
        self.positions = np.arange(len(grades)) - starts[self.qidx]
        self._judged_qidx = judged_qidx
        self._judged_grades = judged_grades

    def metrics(self, names: Iterable[str], relevance_level: float = 1) -> dict[str, np.ndarray]:
        """Per-query values (aligned with :attr:`qids`) of each metric, by canonical name.

        Example
        -------
        >>> ranked = rank_run({'q': ['a', 'b']}, {'q': {'b': 1}})
        >>> ranked.metrics(['mrr', 'precision@1'])
        {'mrr': array([0.5]), 'precision@1': array([0.])}
        """
        n = len(self.qids)
        qidx, pos = self.qidx, self.positions
        rel = self.grades >= relevance_level
        gain = np.maximum(self.grades, 0.0)
        disc = 1.0 / np.log2(pos + 2.0)
        num_rel = np.bincount(
            self._judged_qidx, weights=self._judged_grades >= relevance_level, minlength=n
        )
        cum = np.cumsum(rel)
        base = np.concatenate(([0], cum))[np.cumsum(self.lengths) - self.lengths]
        cumrel = cum - base[qidx] if len(cum) else cum

        def per_query(weights: np.ndarray) -> np.ndarray:
            return np.bincount(qidx, weights=weights, minlength=n).astype(np.float64)

        def safe_div(a: np.ndarray, b: np.ndarray) -> np.ndarray:
            return np.divide(a, b, out=np.zeros(n), where=b > 0)

        ideal_pos, ideal_gain = self._ideal()
        out: dict[str, np.ndarray] = {}
        for name in names:
            metric, k = parse_metric(name)
            top = pos < k if k is not None else np.ones(len(pos), dtype=bool)
            if metric == "mrr":
                values = per_query((rel & (cumrel == 1) & top) / (pos + 1.0))
            elif metric == "map":
                values = safe_div(per_query(rel * top * cumrel / (pos + 1.0)), num_rel)
            elif metric in ("dcg", "ndcg"):
                values = per_query(gain * disc * top)
                if metric == "ndcg":
                    keep = ideal_pos < k if k is not None else slice(None)
                    idcg = np.bincount(
                        self._judged_qidx_sorted[keep],
                        weights=(ideal_gain / np.log2(ideal_pos + 2.0))[keep],
                        minlength=n,
                    )
                    values = safe_div(values, idcg)
            elif metric == "hits":
                values = (per_query(rel & top) > 0).astype(np.float64)
            elif metric == "precision":
                values = per_query(rel & top) / float(k)  # type: ignore[arg-type]
            elif metric == "recall":
                values = safe_div(per_query(rel & top), num_rel)
            else:  # r_precision
                values = safe_div(per_query(rel & (pos < num_rel[qidx])), num_rel)
            out[canonical_name(name)] = values
        return out

    def _ideal(self) -> tuple[np.ndarray, np.ndarray]:
        """Positive judged gains sorted best first within each query, with their positions."""
        if not hasattr(self, "_ideal_cache"):
            positive = self._judged_grades > 0
            q, g = self._judged_qidx[positive], self._judged_grades[positive]
            order = np.lexsort((-g, q))
            q, g = q[order], g[order]
            counts = np.bincount(q, minlength=len(self.qids))
            starts = np.cumsum(counts) - counts
            self._judged_qidx_sorted = q
            self._ideal_cache = (np.arange(len(q)) - starts[q], g)
        return self._ideal_cache


def _flat_floats(values: Iterable[Any], count: int, what: str) -> np.ndarray:
    try:
        arr = np.fromiter(values, dtype=np.float64, count=count)
    except (TypeError, ValueError) as exc:
        raise MetricError(f"{what} must be numbers: {exc}") from exc
    if np.isnan(arr).any():
        raise MetricError(f"{what} contain NaN")
    return arr


def rank_run(
    run: Run,
    qrels: Qrels,
    *,
    ties: Literal["docid", "given"] = "docid",
    missing: Literal["skip", "zero"] = "skip",
) -> RankedRun:
    """Rank every query's documents and look up their grades (see the module docstring).

    Parameters
    ----------
    run:
        ``{qid: {docid: score}}`` (higher score is better) or ``{qid: [docid, ...]}`` best first.
    qrels:
        ``{qid: {docid: grade}}``.
    ties, missing:
        How equal scores are ordered and which queries count; see the module docstring.

    Example
    -------
    >>> ranked = rank_run({'q': {'a': 1.0, 'b': 1.0, 'c': 2.0}}, {'q': {'a': 1}})
    >>> ranked.grades.tolist()  # c first, then the tie b, a by docid descending
    [-inf, -inf, 1.0]
    """
    if ties not in ("docid", "given"):
        raise MetricError(f"ties must be 'docid' or 'given', got {ties!r}")
    if missing not in ("skip", "zero"):
        raise MetricError(f"missing must be 'skip' or 'zero', got {missing!r}")
    if not isinstance(run, Mapping) or not isinstance(qrels, Mapping):
        raise MetricError("run and qrels must be mappings keyed by query id")
    if missing == "skip":
        qids = [q for q in run if qrels.get(q)]
    else:
        qids = [q for q in qrels if qrels[q]]
    empty: dict = {}
    lists = [run.get(q, empty) for q in qids]
    scored = [isinstance(x, Mapping) for x in lists]
    if any(not isinstance(x, (Mapping, Sequence)) or isinstance(x, str) for x in lists):
        raise MetricError("each query's results must be {docid: score} or a list of docids")
    lengths = np.fromiter(map(len, lists), dtype=np.int64, count=len(lists))
    total = int(lengths.sum())
    docids = list(chain.from_iterable(lists))
    judged = [qrels[q] for q in qids]
    grades = _flat_floats(
        chain.from_iterable(map(j.get, d, repeat(-np.inf)) for j, d in zip(judged, lists)),
        total,
        "grades",
    )
    if any(scored):
        grades = _sorted_grades(lists, scored, lengths, docids, grades, ties)
    j_lengths = np.fromiter(map(len, judged), dtype=np.int64, count=len(judged))
    j_grades = _flat_floats(
        chain.from_iterable(j.values() for j in judged), int(j_lengths.sum()), "grades"
    )
    j_qidx = np.repeat(np.arange(len(qids)), j_lengths)
    return RankedRun(qids, lengths, grades, j_qidx, j_grades)


def _sorted_grades(
    lists: list[Any],
    scored: list[bool],
    lengths: np.ndarray,
    docids: list[Hashable],
    grades: np.ndarray,
    ties: str,
) -> np.ndarray:
    """Reorder the flat grades so each query's scored documents run best first."""
    total = len(grades)
    scores = _flat_floats(
        chain.from_iterable(
            x.values() if s else (-np.arange(len(x), dtype=np.float64)).tolist()
            for x, s in zip(lists, scored)
        ),
        total,
        "scores",
    )
    qidx = np.repeat(np.arange(len(lists)), lengths)
    order = np.lexsort((-scores, qidx))  # stable: equal scores keep the run's order
    if ties == "docid" and total > 1:
        s_sorted, q_sorted = scores[order], qidx[order]
        same = (s_sorted[1:] == s_sorted[:-1]) & (q_sorted[1:] == q_sorted[:-1])
        tied = np.zeros(total, dtype=bool)
        tied[1:] |= same
        tied[:-1] |= same
        if tied.any():
            slots = np.flatnonzero(tied)
            members = order[slots]
            names = np.array([str(docids[i]) for i in members.tolist()])
            _, name_rank = np.unique(names, return_inverse=True)
            sub = np.lexsort((-name_rank, -scores[members], qidx[members]))
            order[slots] = members[sub]
    return grades[order]


def compute_metrics(
    run: Run,
    qrels: Qrels,
    metrics: Iterable[str] = DEFAULT_METRICS,
    *,
    relevance_level: float = 1,
    ties: Literal["docid", "given"] = "docid",
    missing: Literal["skip", "zero"] = "skip",
) -> dict[str, dict[str, float]]:
    """Per-query metric values, shaped as ``pytrec_eval`` answers: ``{qid: {metric: value}}``.

    The conventions (relevance, gains, ties, which queries count) are trec_eval's; see
    :mod:`docstack.retrieval` and :func:`evaluate_run`, which answers arrays and means.

    Example
    -------
    >>> run = {'q1': {'a': 0.9, 'b': 0.5}, 'q2': ['x', 'y']}
    >>> qrels = {'q1': {'b': 1}, 'q2': {'x': 2, 'z': 1}}
    >>> compute_metrics(run, qrels, ['mrr', 'recall@1'])
    {'q1': {'mrr': 0.5, 'recall@1': 0.0}, 'q2': {'mrr': 1.0, 'recall@1': 0.5}}
    """
    names = [canonical_name(m) for m in metrics]
    ranked = rank_run(run, qrels, ties=ties, missing=missing)
    values = ranked.metrics(names, relevance_level)
    columns = [values[m].tolist() for m in names]
    return {q: dict(zip(names, row)) for q, row in zip(ranked.qids, zip(*columns))}


# doctest compiles examples with the __future__ flags of the module namespace
del annotations

"""Evaluation results: per-query and mean metric values, tables, and paired significance tests."""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from docstack.retrieval._metrics import (
    DEFAULT_METRICS,
    MetricError,
    Qrels,
    Run,
    canonical_name,
    rank_run,
)

__all__ = [
    "ComparisonTable",
    "EvaluationResult",
    "PairedComparison",
    "compare",
    "compare_all",
    "evaluate_run",
]


def _import(module: str, extra: str) -> Any:
    import importlib

    from docstack.errors import MissingDependencyError

    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise MissingDependencyError(
            f"{module!r} is needed for this feature but is not installed: "
            f"pip install 'docstack[{extra}]' (or pip install {module})"
        ) from exc


def _table_string(title: str, header: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    """Render a table with rich into plain text."""
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title)
    for i, name in enumerate(header):
        table.add_column(name, justify="left" if i == 0 else "right")
    for row in rows:
        table.add_row(*row)
    console = Console(width=max(60, 14 * len(header) + 10), record=True, color_system=None)
    with console.capture() as capture:
        console.print(table)
    return capture.get().rstrip()


@dataclass
class EvaluationResult:
    """Metric values of one setup: one value per query (aligned with ``qids``) per metric.

    Example
    -------
    >>> result = evaluate_run({'q1': ['a', 'b'], 'q2': ['c']},
    ...                       {'q1': {'b': 1}, 'q2': {'c': 1}}, ['mrr'], name='demo')
    >>> result.mean()
    {'mrr': 0.75}
    >>> result['mrr'].tolist()
    [0.5, 1.0]
    """

    name: str
    qids: list[Hashable]
    values: dict[str, np.ndarray]

    @property
    def metrics(self) -> list[str]:
        """The metric names, canonical spelling."""
        return list(self.values)

    def __getitem__(self, metric: str) -> np.ndarray:
        """Per-query values of one metric (any accepted spelling: ``'P_10'``)."""
        key = canonical_name(metric)
        if key not in self.values:
            raise MetricError(f"{self.name!r} has no metric {metric!r}; it has {self.metrics}")
        return self.values[key]

    def mean(self) -> dict[str, float]:
        """The mean over queries of every metric (0 for a result without queries).

        >>> run, qrels = {'q1': ['a', 'b'], 'q2': ['b']}, {'q1': {'b': 1}, 'q2': {'b': 1}}
        >>> evaluate_run(run, qrels, ['mrr', 'hits@1']).mean()
        {'mrr': 0.75, 'hits@1': 0.5}
        >>> EvaluationResult('empty', [], {'mrr': np.zeros(0)}).mean()
        {'mrr': 0.0}
        """
        return {m: float(v.mean()) if len(v) else 0.0 for m, v in self.values.items()}

    def per_query(self) -> dict[Hashable, dict[str, float]]:
        """``{qid: {metric: value}}``, the shape ``pytrec_eval`` answers.

        >>> evaluate_run({'q': ['a']}, {'q': {'a': 1}}, ['mrr']).per_query()
        {'q': {'mrr': 1.0}}
        """
        cols = [v.tolist() for v in self.values.values()]
        return {q: dict(zip(self.values, row)) for q, row in zip(self.qids, zip(*cols))}

    def summary(self) -> str:
        """A readable table of the mean of each metric.

        >>> print(evaluate_run({'q': ['a']}, {'q': {'a': 1}}, ['mrr'], name='x').summary())
        ... # doctest: +NORMALIZE_WHITESPACE
                x (1 queries)
        ┏━━━━━━━━┳━━━━━━━━┓
        ┃ metric ┃   mean ┃
        ┡━━━━━━━━╇━━━━━━━━┩
        │ mrr    │ 1.0000 │
        └────────┴────────┘
        """
        rows = [(m, f"{v:.4f}") for m, v in self.mean().items()]
        return _table_string(f"{self.name} ({len(self.qids)} queries)", ["metric", "mean"], rows)

    def to_dataframe(self) -> Any:
        """A pandas DataFrame: one row per query (index ``qid``), one column per metric.

        >>> evaluate_run({'q': ['a']}, {'q': {'a': 1}}, ['mrr']).to_dataframe().loc['q', 'mrr']
        np.float64(1.0)
        """
        pd = _import("pandas", "pandas")
        frame = pd.DataFrame(self.values, index=pd.Index(list(self.qids), name="qid"))
        return frame


def evaluate_run(
    run: Run,
    qrels: Qrels,
    metrics: Iterable[str] = DEFAULT_METRICS,
    *,
    name: str = "run",
    relevance_level: float = 1,
    ties: Literal["docid", "given"] = "docid",
    missing: Literal["skip", "zero"] = "skip",
) -> EvaluationResult:
    """Evaluate a run against relevance judgments with trec_eval's conventions.

    Parameters
    ----------
    run:
        ``{qid: {docid: score}}`` (higher is better) or ``{qid: [docid, ...]}`` best first.
    qrels:
        ``{qid: {docid: grade}}``; a grade ``>= relevance_level`` is relevant.
    metrics:
        Names such as ``'mrr'``, ``'map'``, ``'ndcg@10'``, ``'hits@10'``, ``'recall@100'``,
        ``'precision@10'``, ``'r_precision'``, ``'dcg'`` (trec_eval names work too).
    ties:
        ``'docid'``: equal scores rank by document id descending (trec_eval); ``'given'``:
        equal scores keep the run's order.
    missing:
        ``'skip'``: evaluate the run's judged queries (``pytrec_eval``); ``'zero'``: every
        judged query, those absent from the run scoring 0 (trec_eval ``-c``).

    Returns
    -------
    EvaluationResult

    Example
    -------
    >>> result = evaluate_run({'q1': {'a': 2.0, 'b': 1.0}}, {'q1': {'b': 1}, 'q2': {'c': 1}},
    ...                       ['mrr', 'hits@1'], missing='zero')
    >>> result.qids, result.mean()
    (['q1', 'q2'], {'mrr': 0.25, 'hits@1': 0.0})
    """
    names = list(dict.fromkeys(canonical_name(m) for m in metrics))
    if not names:
        raise MetricError("name at least one metric")
    ranked = rank_run(run, qrels, ties=ties, missing=missing)
    return EvaluationResult(name, ranked.qids, ranked.metrics(names, relevance_level))


@dataclass(frozen=True)
class PairedComparison:
    """A paired comparison of two setups on one metric over the queries both evaluated.

    ``t_pvalue`` is the two-sided paired t-test's p-value (``scipy.stats.ttest_rel``),
    ``permutation_pvalue`` that of a two-sided paired randomization test (signs of the
    per-query differences flipped at random); both are 1.0 when every difference is 0, and the
    t-test's is 0.0 when every query differs by the same nonzero amount.

    Example
    -------
    >>> import numpy as np
    >>> qids = ['q1', 'q2', 'q3', 'q4', 'q5', 'q6']
    >>> a = EvaluationResult('bm25', qids, {'mrr': np.array([0.5, 0.25, 1, 0.5, 0.2, 0.5])})
    >>> b = EvaluationResult('hybrid', qids, {'mrr': np.array([1, 0.5, 1, 1, 0.5, 0.5])})
    >>> c = compare(a, b, 'mrr')
    >>> c.a, c.b, c.n_queries, round(c.mean_a, 4), c.mean_b, round(c.difference, 4)
    ('bm25', 'hybrid', 6, 0.4917, 0.75, 0.2583)

    The t-test calls this significant, the randomization test does not: only four queries
    differ, so at best 2 of their 16 sign patterns are as extreme (p >= 0.125).

    >>> round(c.t_pvalue, 4), round(c.permutation_pvalue, 2)
    (0.0372, 0.12)
    """

    metric: str
    a: str
    b: str
    mean_a: float
    mean_b: float
    n_queries: int
    t_pvalue: float
    permutation_pvalue: float

    @property
    def difference(self) -> float:
        """``mean_b - mean_a``."""
        return self.mean_b - self.mean_a


def _paired(a: EvaluationResult, b: EvaluationResult, metric: str) -> tuple[np.ndarray, ...]:
    if list(a.qids) == list(b.qids):
        return a[metric], b[metric]
    pos_b = {q: i for i, q in enumerate(b.qids)}
    common = [(i, pos_b[q]) for i, q in enumerate(a.qids) if q in pos_b]
    ia = np.array([i for i, _ in common], dtype=np.int64)
    ib = np.array([j for _, j in common], dtype=np.int64)
    return a[metric][ia], b[metric][ib]


def compare(
    a: EvaluationResult,
    b: EvaluationResult,
    metric: str = "ndcg@10",
    *,
    n_resamples: int = 10_000,
    seed: int = 0,
) -> PairedComparison:
    """Test whether ``b`` differs from ``a`` on ``metric``, query by query.

    Both tests are two-sided and paired over the queries the two results share. The
    randomization test draws ``n_resamples`` random sign flips of the differences at once
    (seeded, so repeatable).

    Example
    -------
    >>> qrels = {f'q{i}': {'good': 1} for i in range(8)}
    >>> a = evaluate_run({q: ['bad', 'good'] for q in qrels}, qrels, ['mrr'], name='a')
    >>> b = evaluate_run({q: ['good'] for q in qrels}, qrels, ['mrr'], name='b')
    >>> c = compare(a, b, 'mrr')
    >>> c.difference, c.permutation_pvalue < 0.05
    (0.5, True)
    """
    x, y = _paired(a, b, metric)
    diff = y - x
    n = len(diff)
    if n == 0 or not np.any(diff):
        t_p = perm_p = 1.0
    else:
        if np.ptp(diff) == 0:  # the same nonzero difference on every query
            t_p = 0.0
        else:
            t_p = float(_import("scipy.stats", "eval").ttest_rel(y, x).pvalue)
        rng = np.random.default_rng(seed)
        signs = rng.integers(0, 2, size=(n_resamples, n), dtype=np.int8) * 2 - 1
        observed = abs(diff.mean())
        flipped = np.abs(signs @ diff) / n
        perm_p = float((np.count_nonzero(flipped >= observed - 1e-12) + 1) / (n_resamples + 1))
    return PairedComparison(
        canonical_name(metric),
        a.name,
        b.name,
        float(x.mean()) if n else 0.0,
        float(y.mean()) if n else 0.0,
        n,
        t_p,
        perm_p,
    )


@dataclass
class ComparisonTable:
    """Several setups evaluated side by side; each compared to the first (the baseline).

    ``summary()`` prints one row per setup: the mean of every metric, and for ``metric``
    the paired t-test and randomization p-values against the baseline.

    Example
    -------
    >>> qrels = {'q1': {'a': 1}, 'q2': {'b': 1}, 'q3': {'c': 1}}
    >>> first = evaluate_run({q: ['x', *r] for q, r in qrels.items()}, qrels, ['mrr'], name='bm25')
    >>> second = evaluate_run({q: list(r) for q, r in qrels.items()}, qrels, ['mrr'], name='dense')
    >>> table = compare_all([first, second], 'mrr')
    >>> list(table.results), list(table.comparisons), table.comparisons['dense'].difference
    (['bm25', 'dense'], ['dense'], 0.5)
    """

    results: dict[str, EvaluationResult]
    metric: str
    comparisons: dict[str, PairedComparison]

    def summary(self) -> str:
        """A readable table of every setup's means with p-values against the baseline.

        >>> qrels = {'q1': {'a': 1}, 'q2': {'b': 1}, 'q3': {'c': 1}}
        >>> bm25 = evaluate_run({'q1': ['x', 'a'], 'q2': ['b'], 'q3': ['c']}, qrels, ['mrr'],
        ...                     name='bm25')
        >>> dense = evaluate_run({q: list(r) for q, r in qrels.items()}, qrels, ['mrr'],
        ...                      name='dense')
        >>> print(compare_all([bm25, dense], 'mrr').summary())
        ... # doctest: +NORMALIZE_WHITESPACE
                paired tests against 'bm25'
        ┏━━━━━━━┳━━━━━━━━┳━━━━━━━━━━━━━━━━┳━━━━━━━━━┓
        ┃ setup ┃    mrr ┃ t-test p (mrr) ┃ perm. p ┃
        ┡━━━━━━━╇━━━━━━━━╇━━━━━━━━━━━━━━━━╇━━━━━━━━━┩
        │ bm25  │ 0.8333 │              — │       — │
        │ dense │ 1.0000 │         0.4226 │  1.0000 │
        └───────┴────────┴────────────────┴─────────┘
        """
        first = next(iter(self.results.values()))
        metrics = first.metrics
        header = ["setup", *metrics, f"t-test p ({self.metric})", "perm. p"]
        rows = []
        for name, result in self.results.items():
            means = result.mean()
            cmp = self.comparisons.get(name)
            pvals = (f"{cmp.t_pvalue:.4f}", f"{cmp.permutation_pvalue:.4f}") if cmp else ("—",) * 2
            rows.append((name, *(f"{means[m]:.4f}" for m in metrics), *pvals))
        baseline = next(iter(self.results))
        return _table_string(f"paired tests against {baseline!r}", header, rows)

    def to_dataframe(self) -> Any:
        """A pandas DataFrame: one row per setup, mean metrics and the two p-values.

        The baseline's p-values are NaN (it is not compared with itself).

        >>> qrels = {'q1': {'a': 1}, 'q2': {'b': 1}}
        >>> bm25 = evaluate_run({'q1': ['x', 'a'], 'q2': ['x', 'b']}, qrels, ['mrr'], name='bm25')
        >>> dense = evaluate_run({'q1': ['a'], 'q2': ['b']}, qrels, ['mrr'], name='dense')
        >>> compare_all([bm25, dense], 'mrr').to_dataframe().round(3)
               mrr  t_pvalue  permutation_pvalue
        bm25   0.5       NaN                 NaN
        dense  1.0       0.0               0.501
        """
        pd = _import("pandas", "pandas")
        rows = {}
        for name, result in self.results.items():
            cmp = self.comparisons.get(name)
            rows[name] = {
                **result.mean(),
                "t_pvalue": cmp.t_pvalue if cmp else np.nan,
                "permutation_pvalue": cmp.permutation_pvalue if cmp else np.nan,
            }
        return pd.DataFrame.from_dict(rows, orient="index")


def compare_all(
    results: Mapping[str, EvaluationResult] | Sequence[EvaluationResult],
    metric: str = "ndcg@10",
    **kwargs: Any,
) -> ComparisonTable:
    """Compare every result with the first one (the baseline) on ``metric``.

    ``kwargs`` go to :func:`compare` (``n_resamples``, ``seed``).

    Example
    -------
    >>> qrels = {f'q{i}': {'good': 1} for i in range(8)}
    >>> a = evaluate_run({q: ['bad', 'good'] for q in qrels}, qrels, ['mrr'], name='a')
    >>> b = evaluate_run({q: ['good'] for q in qrels}, qrels, ['mrr'], name='b')
    >>> table = compare_all([a, b], 'mrr')
    >>> round(table.comparisons['b'].difference, 2)
    0.5
    """
    if not isinstance(results, Mapping):
        results = {r.name: r for r in results}
    results = dict(results)
    if not results:
        raise MetricError("compare_all() needs at least one result")
    names = list(results)
    base = results[names[0]]
    comparisons = {n: compare(base, results[n], metric, **kwargs) for n in names[1:]}
    return ComparisonTable(results, canonical_name(metric), comparisons)


# doctest compiles examples with the __future__ flags of the module namespace
del annotations

"""Retrieval helpers shared by every index: fusing ranked lists, reranking candidates, and
evaluating rankings against relevance judgments (trec_eval's conventions, all queries at once).

Example
-------
>>> from docstack.retrieval import evaluate_run, reciprocal_rank_fusion
>>> reciprocal_rank_fusion([['a', 'b'], ['b']])[0]
['b', 'a']
>>> evaluate_run({'q': ['a', 'b']}, {'q': {'b': 1}}, ['mrr']).mean()
{'mrr': 0.5}
"""

from docstack.retrieval._evaluate import evaluate, search_run
from docstack.retrieval._fusion import reciprocal_rank_fusion, weighted_fusion
from docstack.retrieval._metrics import (
    DEFAULT_METRICS,
    MetricError,
    RankedRun,
    compute_metrics,
    parse_metric,
    rank_run,
)
from docstack.retrieval._qrels import (
    SyntheticCollection,
    make_first_sentence_qrels,
    split_sentences,
)
from docstack.retrieval._rerank import (
    CrossEncoderReranker,
    FusionReranker,
    MMRReranker,
    Reranker,
    RerankError,
)
from docstack.retrieval._results import (
    ComparisonTable,
    EvaluationResult,
    PairedComparison,
    compare,
    compare_all,
    evaluate_run,
)

__all__ = [
    "DEFAULT_METRICS",
    "ComparisonTable",
    "CrossEncoderReranker",
    "EvaluationResult",
    "FusionReranker",
    "MMRReranker",
    "MetricError",
    "PairedComparison",
    "RankedRun",
    "RerankError",
    "Reranker",
    "SyntheticCollection",
    "compare",
    "compare_all",
    "compute_metrics",
    "evaluate",
    "evaluate_run",
    "make_first_sentence_qrels",
    "parse_metric",
    "rank_run",
    "reciprocal_rank_fusion",
    "search_run",
    "split_sentences",
    "weighted_fusion",
]

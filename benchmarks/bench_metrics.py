"""Ranking metrics: docstack against pytrec_eval (trec_eval in C), side by side.

Run ``.venv/bin/python benchmarks/bench_metrics.py`` (``--queries``/``--results`` to resize).
Workload: 10,000 queries x 100 scored results each (coarse scores, so ties occur), graded
judgments (20 per query, grades 0-3), the measures map, recip_rank, ndcg, ndcg_cut_10, P_10,
recall_100 and Rprec. Both sides start from the same Python dicts and end with the per-query
values (docstack: arrays, as ``evaluate_run`` answers them; pytrec_eval: its nested dict);
pytrec_eval's evaluator is built once outside the timing, as a caller reuses it. The two
sides run in turns and each keeps its best time. The goal is docstack under 2x pytrec_eval.
"""

from __future__ import annotations

import argparse
import platform

import numpy as np

from _common import in_turns

MEASURES = {
    "map": "map",
    "recip_rank": "mrr",
    "ndcg": "ndcg",
    "ndcg_cut_10": "ndcg@10",
    "P_10": "precision@10",
    "recall_100": "recall@100",
    "Rprec": "r_precision",
}


def make_data(n_queries: int, n_results: int, n_docs: int = 5_000, n_judged: int = 20):
    rng = np.random.default_rng(0)
    run, qrels = {}, {}
    for q in range(n_queries):
        docs = rng.choice(n_docs, n_results, replace=False).tolist()
        scores = (rng.integers(0, 1000, n_results) / 100).tolist()
        run[f"q{q}"] = {f"doc{d}": s for d, s in zip(docs, scores)}
        judged = rng.choice(n_docs, n_judged, replace=False).tolist()
        grades = rng.integers(0, 4, n_judged).tolist()
        qrels[f"q{q}"] = {f"doc{d}": g for d, g in zip(judged, grades)}
    return run, qrels


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--queries", type=int, default=10_000)
    parser.add_argument("--results", type=int, default=100)
    parser.add_argument("--pairs", type=int, default=5)
    args = parser.parse_args()

    import pytrec_eval

    from docstack.retrieval import evaluate_run

    run, qrels = make_data(args.queries, args.results)
    evaluator = pytrec_eval.RelevanceEvaluator(qrels, set(MEASURES))
    names = list(MEASURES.values())

    def ours():
        return evaluate_run(run, qrels, names)

    def theirs():
        return evaluator.evaluate(run)

    t_ours, t_theirs = in_turns(ours, theirs, pairs=args.pairs)
    mine, ref = ours(), theirs()
    worst = max(
        abs(mine[ours_name][i] - ref[q][trec])
        for trec, ours_name in MEASURES.items()
        for i, q in enumerate(mine.qids)
    )
    print(f"machine: {platform.processor() or platform.machine()}, {platform.python_version()}")
    print(f"{args.queries} queries x {args.results} results, measures: {', '.join(MEASURES)}")
    print(f"{'':12} {'seconds':>9}")
    print(f"{'docstack':12} {t_ours:9.3f}")
    print(f"{'pytrec_eval':12} {t_theirs:9.3f}")
    ratio = t_ours / t_theirs
    print(f"ratio docstack / pytrec_eval: {ratio:.2f}x (goal < 2x) {'ok' if ratio < 2 else 'MISS'}")
    print(f"largest difference from trec_eval over every query and measure: {worst:.2e}")


if __name__ == "__main__":
    main()

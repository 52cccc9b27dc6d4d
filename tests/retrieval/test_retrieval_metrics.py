"""docstack's metrics equal trec_eval's (through pytrec_eval) on random runs and judgments."""

from __future__ import annotations

import numpy as np
import pytest

from docstack.errors import DocstackError
from docstack.retrieval import (
    MetricError,
    compute_metrics,
    evaluate_run,
    parse_metric,
)

pytrec_eval = pytest.importorskip("pytrec_eval")

# trec_eval measure -> docstack metric
TREC = {
    "map": "map",
    "recip_rank": "mrr",
    "ndcg": "ndcg",
    "ndcg_cut_10": "ndcg@10",
    "ndcg_cut_5": "ndcg@5",
    "P_5": "precision@5",
    "P_10": "precision@10",
    "recall_10": "recall@10",
    "recall_100": "recall@100",
    "Rprec": "r_precision",
    "success_1": "hits@1",
    "success_10": "hits@10",
    "map_cut_10": "map@10",
}


def random_case(seed: int, graded: bool, n_queries: int = 60, n_docs: int = 40):
    """A run with ties, empty result lists, queries without relevant or any judgments."""
    rng = np.random.default_rng(seed)
    docs = [f"d{i:03d}" for i in range(n_docs)]
    run, qrels = {}, {}
    for q in range(n_queries):
        qid = f"q{q}"
        n_ret = int(rng.integers(0, 30)) if q % 7 else 0
        picked = rng.choice(n_docs, n_ret, replace=False)
        # coarse scores so that many tie; some queries all tied
        scale = 1 if q % 5 == 0 else 4
        run[qid] = {docs[i]: float(rng.integers(0, scale)) / 2 for i in picked}
        n_judged = int(rng.integers(0, 15))
        judged = rng.choice(n_docs, n_judged, replace=False)
        top = 4 if graded else 2
        grades = rng.integers(-1 if graded else 0, top, n_judged)
        if q % 11 == 3:
            grades[:] = 0  # judged, but nothing relevant
        qrels[qid] = {docs[i]: int(g) for i, g in zip(judged, grades)}
    run["not_judged"] = {"d000": 1.0}
    qrels["not_run"] = {"d001": 1}
    return run, qrels


def assert_equal_to_trec(ours: dict, theirs: dict) -> None:
    assert set(ours) == set(theirs)
    for qid, measures in theirs.items():
        for measure, value in measures.items():
            got = ours[qid][TREC[measure]]
            assert got == pytest.approx(value, abs=1e-12), (qid, measure, got, value)


@pytest.mark.parametrize("graded", [True, False])
@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("level", [1, 2])
def test_equal_to_trec_eval_on_random_runs(seed, graded, level):
    run, qrels = random_case(seed, graded)
    trec = pytrec_eval.RelevanceEvaluator(qrels, set(TREC), relevance_level=level)
    theirs = trec.evaluate(run)
    ours = compute_metrics(run, qrels, TREC.values(), relevance_level=level)
    assert_equal_to_trec(ours, theirs)
    assert "not_judged" not in ours and "not_run" not in ours


@pytest.mark.parametrize("seed", range(3))
def test_missing_zero_equals_trec_eval_with_every_judged_query_in_the_run(seed):
    run, qrels = random_case(seed, graded=True)
    del run["q3"], run["q8"]
    padded = {**run, **{q: {} for q in qrels if q not in run}}
    theirs = pytrec_eval.RelevanceEvaluator(qrels, set(TREC)).evaluate(padded)
    ours = compute_metrics(run, qrels, TREC.values(), missing="zero")
    assert_equal_to_trec(ours, theirs)
    assert ours["q3"]["mrr"] == 0.0 and ours["not_run"]["ndcg"] == 0.0
    skipped = compute_metrics(run, qrels, ["mrr"])
    assert "q3" not in skipped and "not_run" not in skipped


def test_ranked_lists_are_taken_in_the_order_given():
    run, qrels = random_case(7, graded=True)
    trec_run = {}
    lists = {}
    for qid, docs in run.items():
        order = list(docs)[::-1]  # any order; scores fall strictly down it
        lists[qid] = order
        trec_run[qid] = {d: float(len(order) - i) for i, d in enumerate(order)}
    theirs = pytrec_eval.RelevanceEvaluator(qrels, set(TREC)).evaluate(trec_run)
    assert_equal_to_trec(compute_metrics(lists, qrels, TREC.values()), theirs)


def test_ties_given_keeps_the_runs_order_and_docid_follows_trec_eval():
    qrels = {"q": {"a": 1}}
    run = {"q": {"a": 1.0, "b": 1.0, "c": 1.0}}
    # trec_eval: equal scores rank by docid descending, so 'a' comes last
    assert compute_metrics(run, qrels, ["mrr"])["q"]["mrr"] == pytest.approx(1 / 3)
    assert compute_metrics(run, qrels, ["mrr"], ties="given")["q"]["mrr"] == 1.0
    theirs = pytrec_eval.RelevanceEvaluator(qrels, {"recip_rank"}).evaluate(run)
    assert theirs["q"]["recip_rank"] == pytest.approx(1 / 3)


def test_hand_computed_values():
    qrels = {"q": {"a": 3, "b": 0, "c": 1, "z": 2}}
    run = {"q": ["x", "c", "b", "a"]}
    m = compute_metrics(run, qrels, ["mrr", "dcg", "dcg@2", "hits@1", "hits@2", "map"])["q"]
    assert m["mrr"] == 0.5
    assert m["dcg"] == pytest.approx(1 / np.log2(3) + 3 / np.log2(5))
    assert m["dcg@2"] == pytest.approx(1 / np.log2(3))
    assert (m["hits@1"], m["hits@2"]) == (0.0, 1.0)
    assert m["map"] == pytest.approx((1 / 2 + 2 / 4) / 3)


def test_metric_names_and_errors():
    assert parse_metric("ndcg_cut_10") == ("ndcg", 10)
    assert parse_metric("success_3") == ("hits", 3)
    with pytest.raises(MetricError, match="needs a cutoff"):
        parse_metric("recall")
    with pytest.raises(MetricError, match="unknown metric 'bleu'"):
        parse_metric("bleu")
    with pytest.raises(MetricError, match="NaN"):
        compute_metrics({"q": {"a": float("nan")}}, {"q": {"a": 1}}, ["mrr"])
    with pytest.raises(MetricError, match="ties"):
        compute_metrics({"q": ["a"]}, {"q": {"a": 1}}, ["mrr"], ties="random")
    assert issubclass(MetricError, DocstackError)


def test_result_object_means_tables_and_frames():
    run, qrels = random_case(1, graded=True)
    result = evaluate_run(run, qrels, ["ndcg@10", "P_10"], name="random")
    per_query = compute_metrics(run, qrels, ["ndcg@10", "precision@10"])
    assert result.per_query() == per_query
    expected = np.mean([v["ndcg@10"] for v in per_query.values()])
    assert result.mean()["ndcg@10"] == pytest.approx(expected)
    assert "precision@10" in result.summary() and "random" in result.summary()
    frame = result.to_dataframe()
    assert list(frame.columns) == ["ndcg@10", "precision@10"]
    assert frame.loc["q1", "ndcg@10"] == per_query["q1"]["ndcg@10"]

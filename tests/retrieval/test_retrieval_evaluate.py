"""evaluate() end to end: BM25, vector and hybrid search of an index, compared side by side."""

from __future__ import annotations

import numpy as np
import pytest
from _collection import HashingEncoder, seed_collection

from docstack import BaseDoc, DocList
from docstack.index import InMemoryExactNNIndex
from docstack.retrieval import (
    ComparisonTable,
    EvaluationResult,
    MetricError,
    compare,
    evaluate,
    evaluate_run,
    make_first_sentence_qrels,
    search_run,
)
from docstack.typing import NdArray


class Passage(BaseDoc):
    text: str
    emb: NdArray[256]


@pytest.fixture(scope="module")
def setup():
    collection = seed_collection()
    encoder = HashingEncoder()
    ids = list(collection.corpus)
    texts = [collection.corpus[i] for i in ids]
    vectors = encoder.encode(texts)
    index = InMemoryExactNNIndex[Passage]()
    index.index(
        DocList[Passage]([Passage(id=i, text=t, emb=v) for i, t, v in zip(ids, texts, vectors)])
    )
    return index, collection, encoder


def test_the_seed_collection_judges_each_query_against_its_paragraph():
    collection = seed_collection()
    assert len(collection.corpus) > 150
    assert set(collection.queries) == set(collection.qrels)
    for qid, judged in collection.qrels.items():
        ((doc_id, grade),) = judged.items()
        assert qid == f"q:{doc_id}" and grade == 1
        # the query sentence is cut from the document it judges
        assert collection.queries[qid] not in collection.corpus[doc_id]
    kept = make_first_sentence_qrels(
        ["One two three. Four five six."], min_chars=5, keep_query_in_doc=True
    )
    assert kept.corpus == {"t0p0": "One two three. Four five six."}


def test_bm25_vector_and_hybrid_side_by_side_with_paired_tests(setup):
    index, collection, encoder = setup
    table = evaluate(
        index,
        collection.queries,
        collection.qrels,
        query_encoder=encoder,
        limit=20,
        metrics=["mrr", "ndcg@10", "hits@1", "recall@20"],
        setups={
            "bm25": {"mode": "text", "search_field": "text"},
            "vector": {"mode": "vector", "search_field": "emb"},
            "hybrid": {"mode": "hybrid", "search_field": "emb", "text_field": "text"},
        },
        compare_metric="ndcg@10",
    )
    assert isinstance(table, ComparisonTable)
    assert list(table.results) == ["bm25", "vector", "hybrid"]
    n = len(collection.queries)
    for result in table.results.values():
        assert len(result.qids) == n
        # far above chance (a random order's MRR is about 0.02 here)
        assert 0.08 < result.mean()["mrr"] <= 1.0
    for name in ("vector", "hybrid"):
        cmp = table.comparisons[name]
        assert cmp.n_queries == n and 0.0 <= cmp.t_pvalue <= 1.0
        assert 0.0 < cmp.permutation_pvalue <= 1.0
        assert cmp.difference == pytest.approx(
            table.results[name].mean()["ndcg@10"] - table.results["bm25"].mean()["ndcg@10"]
        )
    # the hashed bag of words is weaker than BM25; fusing BM25 in lifts it
    assert table.results["hybrid"].mean()["ndcg@10"] > table.results["vector"].mean()["ndcg@10"]
    text = table.summary()
    for word in ("bm25", "vector", "hybrid", "t-test p (ndcg@10)", "perm. p"):
        assert word in text
    frame = table.to_dataframe()
    assert list(frame.index) == ["bm25", "vector", "hybrid"] and "t_pvalue" in frame


def test_the_bm25_run_equals_scoring_the_index_results_directly(setup):
    index, collection, _ = setup
    result = evaluate(
        index,
        collection.queries,
        collection.qrels,
        mode="text",
        search_field="text",
        limit=10,
        metrics=["mrr", "hits@10"],
    )
    assert isinstance(result, EvaluationResult) and result.name == "text"
    qid = next(iter(collection.queries))
    found = index.text_search(collection.queries[qid], search_field="text", limit=10)
    ids = [d.id for d in found.documents]
    target = next(iter(collection.qrels[qid]))
    expected = 1.0 / (ids.index(target) + 1) if target in ids else 0.0
    assert result["mrr"][result.qids.index(qid)] == expected
    assert result.mean()["hits@10"] == pytest.approx(np.mean(result["mrr"] > 0))


def test_vector_queries_given_as_vectors_match_encoded_texts(setup):
    index, collection, encoder = setup
    qids = list(collection.queries)[:20]
    texts = {q: collection.queries[q] for q in qids}
    vectors = dict(zip(qids, encoder.encode(list(texts.values()))))
    by_text = search_run(index, texts, search_field="emb", query_encoder=encoder.encode, limit=5)
    by_vector = search_run(index, vectors, search_field="emb", limit=5)
    assert by_text == by_vector and all(len(v) == 5 for v in by_text.values())


def test_a_callable_mode_and_a_clear_error_without_an_encoder(setup):
    index, collection, _ = setup
    queries = dict(list(collection.queries.items())[:10])
    perfect = evaluate(index, queries, collection.qrels, mode=lambda q: [], metrics=["mrr"])
    assert perfect.mean() == {"mrr": 0.0}
    with pytest.raises(MetricError, match="query_encoder"):
        evaluate(index, queries, collection.qrels, search_field="emb")
    with pytest.raises(MetricError, match="mode must be"):
        evaluate(index, queries, collection.qrels, mode="fuzzy")
    with pytest.raises(MetricError, match="unknown settings"):
        evaluate(index, queries, collection.qrels, setups={"x": {"depth": 3}})


def test_compare_detects_a_real_difference_and_not_a_null_one():
    rng = np.random.default_rng(0)
    qrels = {f"q{i}": {"hit": 1} for i in range(40)}
    weak = {q: ["hit"] if rng.random() < 0.3 else ["miss", "hit"] for q in qrels}
    strong = {q: ["hit"] for q in qrels}
    a = evaluate_run(weak, qrels, ["mrr"], name="weak")
    b = evaluate_run(strong, qrels, ["mrr"], name="strong")
    result = compare(a, b, "mrr")
    assert result.difference > 0 and result.t_pvalue < 1e-3 and result.permutation_pvalue < 1e-3
    same = compare(a, evaluate_run(weak, qrels, ["mrr"], name="again"), "mrr")
    assert same.t_pvalue == 1.0 and same.permutation_pvalue == 1.0


def test_text_queries_use_the_encoder_the_vector_field_declares(setup):
    from pydantic import Field

    from docstack import BaseDoc
    from docstack.index import InMemoryExactNNIndex

    index, collection, encoder = setup

    class Embedded(BaseDoc):
        text: str
        emb: NdArray[encoder.dim] = Field(embed_from="text", encoder=encoder)

    declared = InMemoryExactNNIndex[Embedded]()
    declared.index([Embedded(id=d.id, text=d.text) for d in index.filter({}, limit=10_000)])
    qids = list(collection.queries)[:20]
    texts = {q: collection.queries[q] for q in qids}
    given = search_run(index, texts, search_field="emb", query_encoder=encoder, limit=5)
    assert search_run(declared, texts, search_field="emb", limit=5) == given

"""Hybrid queries: find + filter + text search through the query builder, fused by RRF."""

from __future__ import annotations

import numpy as np
import pytest

from docstack import BaseDoc, DocList
from docstack.index import Query
from docstack.retrieval import reciprocal_rank_fusion, weighted_fusion
from docstack.typing import NdArray


class Doc(BaseDoc):
    text: str
    n: int
    emb: NdArray[4]


WORDS = ["red", "green", "blue", "apple"]


@pytest.fixture
def loaded(make_index):
    rng = np.random.default_rng(3)
    vecs = rng.standard_normal((30, 4)).astype(np.float32)
    docs = [
        Doc(id=f"d{i}", text=" ".join(rng.choice(WORDS, size=3)), n=i, emb=vecs[i])
        for i in range(30)
    ]
    index = make_index(Doc)
    index.index(DocList[Doc](docs))
    return index, docs, vecs


def test_find_with_filter_applies_the_filter_before_the_limit(loaded):
    index, docs, vecs = loaded
    q = vecs[0]
    query = (
        index.build_query().find(q, search_field="emb").filter({"n": {"$gte": 20}}).build(limit=5)
    )
    assert isinstance(query, Query)
    found, scores = index.execute_query(query)
    alone, alone_scores = index.find(q, search_field="emb", limit=30)
    expected = [(i, s) for i, s in zip(alone.id, alone_scores) if int(i[1:]) >= 20][:5]
    assert found.id == [i for i, _ in expected]
    np.testing.assert_allclose(scores, [s for _, s in expected], rtol=1e-5)


def test_filter_that_keeps_one_document(loaded):
    index, *_ = loaded
    query = (
        index.build_query().find(np.ones(4), search_field="emb").filter({"n": 17}).build(limit=10)
    )
    assert index.execute_query(query).documents.id == ["d17"]


def test_two_filters_are_anded(loaded):
    index, *_ = loaded
    query = (
        index.build_query()
        .find(np.ones(4), search_field="emb")
        .filter({"n": {"$gte": 10}})
        .filter({"n": {"$lt": 13}})
        .build(limit=10)
    )
    assert sorted(index.execute_query(query).documents.id) == ["d10", "d11", "d12"]


def test_filter_only_query_returns_matches_in_order(loaded):
    index, *_ = loaded
    res = index.execute_query(index.build_query().filter({"n": {"$lt": 3}}).build(limit=10))
    assert res.documents.id == ["d0", "d1", "d2"]


def test_text_with_filter(loaded):
    index, docs, _ = loaded
    query = (
        index.build_query()
        .text_search("red", search_field="text")
        .filter({"n": {"$lt": 15}})
        .build(limit=30)
    )
    found, scores = index.execute_query(query)
    alone, alone_scores = index.text_search("red", search_field="text", limit=30)
    expected = [(i, s) for i, s in zip(alone.id, alone_scores) if int(i[1:]) < 15]
    assert found.id == [i for i, _ in expected]
    np.testing.assert_allclose(scores, [s for _, s in expected], rtol=1e-9)


def test_vector_and_text_are_fused_with_rrf(loaded):
    index, docs, vecs = loaded
    q = vecs[5]
    query = (
        index.build_query()
        .find(q, search_field="emb")
        .text_search("green apple", search_field="text")
        .build(limit=7)
    )
    found, scores = index.execute_query(query)
    depth = 7 * 2 + 20
    v = index.find(q, search_field="emb", limit=depth).documents.id
    t = index.text_search("green apple", search_field="text", limit=depth).documents.id
    keys, expected = reciprocal_rank_fusion([v, t], k=60)
    assert found.id == keys[:7]
    np.testing.assert_allclose(scores, expected[:7])
    assert (np.diff(scores) <= 0).all()


def test_weighted_fusion_on_request(loaded):
    index, docs, vecs = loaded
    q = vecs[9]
    query = (
        index.build_query()
        .find(q, search_field="emb", weight=2.0)
        .text_search("blue", search_field="text", weight=0.5)
        .build(limit=5, fusion="weighted")
    )
    found, scores = index.execute_query(query)
    depth = 5 * 2 + 20
    v = index.find(q, search_field="emb", limit=depth)
    t = index.text_search("blue", search_field="text", limit=depth)
    keys, expected = weighted_fusion(
        [(v.documents.id, v.scores), (t.documents.id, t.scores)], weights=[2.0, 0.5]
    )
    assert found.id == keys[:5]
    np.testing.assert_allclose(scores, expected[:5], rtol=1e-6)


def test_hybrid_with_filter_and_offset(loaded):
    index, docs, vecs = loaded
    base = (
        index.build_query()
        .find(vecs[1], search_field="emb")
        .text_search("red", search_field="text")
        .filter({"n": {"$gte": 10}})
    )
    full = index.execute_query(base.build(limit=10)).documents.id
    assert all(int(i[1:]) >= 10 for i in full)
    paged = index.execute_query(base.build(limit=3, offset=2)).documents.id
    assert paged == full[2:5]


def test_builder_errors(loaded):
    index, *_ = loaded
    with pytest.raises(ValueError, match="nope"):
        index.build_query().find(np.ones(4), search_field="nope")
    with pytest.raises(ValueError, match="fusion"):
        index.build_query().build(fusion="max")
    with pytest.raises(ValueError):
        index.build_query().find(np.ones(4), search_field="emb", weight=-1)
    with pytest.raises(TypeError):
        index.execute_query({"find": [1, 2]})
    with pytest.raises(ValueError, match="limit"):
        index.build_query().build(limit=-1)

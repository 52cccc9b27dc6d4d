"""Hybrid queries run in the engine (Milvus hybrid_search, Qdrant prefetch + RRF) give the
planner's ids, order and scores; the native path is shown taken by the backend's counter."""

from __future__ import annotations

import numpy as np
import pytest

from docstack import BaseDoc, DocList
from docstack.typing import NdArray

pytest.importorskip("pymilvus")
pytest.importorskip("qdrant_client")

from docstack.index import MilvusDocumentIndex, QdrantDocumentIndex  # noqa: E402

WORDS = ["red", "green", "blue", "apple", "pear", "sky"]


class Doc(BaseDoc):
    text: str
    n: int
    emb: NdArray[6]
    alt: NdArray[6]


class PlannedMilvus(MilvusDocumentIndex):
    """The same engine with the native path switched off: the planner's answer."""

    def _b_hybrid_search(self, *args, **kwargs):
        return None


class PlannedQdrant(QdrantDocumentIndex):
    def _b_hybrid_search(self, *args, **kwargs):
        return None


def _docs(seed: int, n: int = 80, duplicates: bool = False) -> list[Doc]:
    rng = np.random.default_rng(seed)
    emb = rng.standard_normal((n, 6)).astype(np.float32)
    if duplicates:
        emb[1::3] = emb[0]  # many exactly tied vectors
    alt = rng.standard_normal((n, 6)).astype(np.float32)
    return [
        Doc(id=f"d{i}", text=" ".join(rng.choice(WORDS, size=3)), n=i, emb=emb[i], alt=alt[i])
        for i in range(n)
    ]


@pytest.fixture(params=["milvus", "qdrant"])
def pair(request, tmp_path):
    """(native index, planner index) of one engine holding the same documents."""

    def make(docs: list[Doc]):
        if request.param == "milvus":
            uri = str(tmp_path / "m.db")
            a = MilvusDocumentIndex[Doc](uri=uri, index_name="native")
            b = PlannedMilvus[Doc](uri=uri, index_name="planned")
        else:
            a = QdrantDocumentIndex[Doc](location=":memory:", text_scoring="qdrant")
            b = PlannedQdrant[Doc](location=":memory:", text_scoring="qdrant")
        for index in (a, b):
            index.index(DocList[Doc](docs))
        return a, b

    return make


def _run(index, q1, q2, text, flt, limit=10, offset=0, rrf_k=60, weight=1.0):
    b = index.build_query().find(q1, search_field="emb", weight=weight)
    if q2 is not None:
        b = b.find(q2, search_field="alt", weight=weight)
    if text is not None:
        b = b.text_search(text, search_field="text", weight=weight)
    if flt is not None:
        b = b.filter(flt)
    return index.execute_query(b.build(limit=limit, offset=offset, rrf_k=rrf_k))


def _same(a, b) -> None:
    assert a.documents.id == b.documents.id
    np.testing.assert_allclose(a.scores, b.scores, rtol=1e-12, atol=0)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_vector_and_text_rrf_runs_natively_and_equals_the_planner(pair, seed):
    docs = _docs(seed)
    native, planned = pair(docs)
    rng = np.random.default_rng(100 + seed)
    for _ in range(3):
        q1, q2 = rng.standard_normal(6), rng.standard_normal(6)
        text = " ".join(rng.choice(WORDS, size=2))
        before = getattr(native, "_native_hybrid", 0)
        for q2_, text_ in ((q2, None), (None, text), (q2, text)):
            k = int(rng.integers(1, 80))
            limit = int(rng.integers(1, 30))
            _same(
                _run(native, q1, q2_, text_, None, limit=limit, rrf_k=k, weight=0.5),
                _run(planned, q1, q2_, text_, None, limit=limit, rrf_k=k, weight=0.5),
            )
        # ties of BM25 scores and of fused scores are many here: all three ran in the engine
        assert native._native_hybrid == before + 3


@pytest.mark.parametrize("seed", [3, 4])
def test_filtered_hybrid_equals_the_planner(pair, seed):
    docs = _docs(seed)
    native, planned = pair(docs)
    rng = np.random.default_rng(seed)
    flt = {"n": {"$gte": 20, "$lt": 65}}
    q1, q2 = rng.standard_normal(6), rng.standard_normal(6)
    before = getattr(native, "_native_hybrid", 0)
    a = _run(native, q1, q2, None, flt, limit=15, offset=2)
    _same(a, _run(planned, q1, q2, None, flt, limit=15, offset=2))
    assert all(20 <= int(i[1:]) < 65 for i in a.documents.id)
    assert native._native_hybrid == before + 1  # vector parts take the filter in the engine
    _same(_run(native, q1, None, "red apple", flt), _run(planned, q1, None, "red apple", flt))


def test_exactly_tied_vectors_give_the_planners_order(pair):
    native, planned = pair(_docs(5, duplicates=True))
    q = np.asarray(_docs(5, duplicates=True)[0].emb) + 0.01
    for text in (None, "green sky"):
        _same(_run(native, q, -q, text, None, limit=20), _run(planned, q, -q, text, None, limit=20))


def test_what_the_engine_cannot_match_goes_to_the_planner(pair):
    docs = _docs(6)
    native, planned = pair(docs)
    q = np.ones(6)
    before = getattr(native, "_native_hybrid", 0)
    unequal = native.build_query().find(q, search_field="emb", weight=2.0)
    unequal = unequal.find(-q, search_field="alt").build(limit=5)
    weighted = native.build_query().find(q, search_field="emb").find(-q, search_field="alt")
    weighted = weighted.build(limit=5, fusion="weighted")
    for query in (unequal, weighted):
        native.execute_query(query)
    assert getattr(native, "_native_hybrid", 0) == before
    a = native.execute_query(unequal)
    b = planned.execute_query(
        planned.build_query()
        .find(q, search_field="emb", weight=2.0)
        .find(-q, search_field="alt")
        .build(limit=5)
    )
    _same(a, b)

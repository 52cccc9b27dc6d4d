"""docstack against the full Milvus 2.3.5 server: what it supports works with the same
answers as Milvus Lite, and what it lacks (BM25, nullable values, several vector fields,
hybrid_search) is a MilvusFeatureError naming the feature and the version, or the planner.
Filters compile without 'is not null' guards there (no value can be missing), and give the
exact index's answers, list fields stored as ARRAY included."""

from __future__ import annotations

import itertools
from typing import Optional

import numpy as np
import pytest

from docstack import BaseDoc, DocList
from docstack.typing import NdArray

pytest.importorskip("pymilvus")

from milvus23 import milvus23_uri  # noqa: E402,F401

from docstack.index import InMemoryExactNNIndex, MilvusDocumentIndex  # noqa: E402
from docstack.index.backends.milvus import MilvusFeatureError  # noqa: E402

_NAMES = itertools.count()


HOSTILE = ['say "hi"', "back\\slash", "it's", '" or 1==1 or "', "end\\", "tab\tnew\nline", "ü"]


class Doc(BaseDoc):
    title: str
    n: int
    meta: dict = {}
    tags: list[str] = []
    nums: list[int] = []
    emb: NdArray[8]


def _index(uri: str, doc_type: type = Doc) -> MilvusDocumentIndex:
    return MilvusDocumentIndex[doc_type](uri=uri, index_name=f"m23_{next(_NAMES)}")


def _docs(n: int = 60) -> list[Doc]:
    rng = np.random.default_rng(7)
    emb = rng.standard_normal((n, 8)).astype(np.float32)
    return [
        Doc(
            id=f"d{i}",
            title=HOSTILE[i % 7] if i % 3 == 0 else f"t{i % 7}",
            n=i,
            meta={"k": i % 3},
            tags=HOSTILE[i % 5 : i % 5 + i % 3],
            nums=list(range(-(i % 4), i % 3)),
            emb=emb[i],
        )
        for i in range(n)
    ]


@pytest.fixture(scope="module")
def loaded(milvus23_uri):  # noqa: F811
    index = _index(milvus23_uri)
    docs = _docs()
    index.index(DocList[Doc](docs))
    reference = InMemoryExactNNIndex[Doc]()
    reference.index(DocList[Doc](docs))
    return index, reference, docs


def test_the_server_is_2_3_and_its_features_are_read(loaded):
    index, *_ = loaded
    features = index._server_features()
    assert features.version.startswith("v2.3")
    assert not features.has("bm25") and not features.has("hybrid_search")
    assert features.has("array")
    from pymilvus import DataType

    fields = {
        f["name"]: f for f in index._client.describe_collection(index.collection_name)["fields"]
    }
    assert fields["tags"]["type"] == DataType.ARRAY and fields["meta"]["type"] == DataType.JSON


def test_find_and_get_match_the_exact_index(loaded):
    index, reference, docs = loaded
    assert len(index) == len(docs)
    q = np.asarray(docs[3].emb) + 0.1
    a = index.find(q, search_field="emb", limit=8)
    b = reference.find(q, search_field="emb", limit=8)
    assert a.documents.id == b.documents.id
    np.testing.assert_allclose(a.scores, b.scores, rtol=1e-6)
    assert index["d5"].meta == {"k": 2}
    assert index["d7"].tags == docs[7].tags and index["d7"].nums == docs[7].nums


FILTERS = (
    [
        {"n": 5},
        {"n": {"$gte": 10, "$lt": 20.5}},
        {"n": {"$in": [1, 4, 100, None]}},
        {"n": {"$nin": [1, 2, 3]}, "title": {"$neq": "t1"}},
        {"$or": [{"n": {"$lt": 3}}, {"title": "t4"}]},
        {"$not": {"$and": [{"n": {"$gt": 5}}, {"title": {"$in": ["t1", "t2"]}}]}},
        {"title": {"$exists": True}, "n": {"$lte": 2**70}},
        {"title": {"$exists": False}},
        {"title": {"$eq": None}},
        {"title": {"$gt": "t3"}},
    ]
    + [{"title": h} for h in HOSTILE]
    + [{"title": {"$in": HOSTILE[:4]}}]
)

LIST_FILTERS = [
    {"tags": HOSTILE[1]},
    {"tags": {"$in": HOSTILE[:2]}},
    {"tags": {"$nin": [HOSTILE[0]]}},
    {"tags": {"$size": 0}},
    {"nums": -2},
    {"nums": {"$in": [-3, 1]}},
    {"nums": {"$size": 3}, "n": {"$gt": 10}},
    {"$or": [{"nums": {"$gt": 1}}, {"tags": {"$regex": "^b"}}]},
]


@pytest.mark.parametrize("query", FILTERS + LIST_FILTERS, ids=repr)
def test_filters_give_the_exact_index_answers(loaded, query):
    index, _, docs = loaded
    assert index.filter(query, limit=100).id == expected_ids(docs, query)


def expected_ids(docs, query):
    """The portable language's answer (the exact index's), evaluated over the documents."""
    from docstack._internal.query import parse_filter
    from docstack._internal.query_eval import evaluate

    columns = {(f,): [getattr(d, f) for d in docs] for f in ("title", "n", "tags", "nums")}
    mask = evaluate(parse_filter(query), columns.__getitem__, len(docs))
    return [d.id for d, keep in zip(docs, mask) if keep]


def test_filtered_search_matches_the_exact_index(loaded):
    index, reference, docs = loaded
    q = np.asarray(docs[11].emb)
    where = {"$or": [{"n": {"$lt": 30}}, {"title": HOSTILE[0]}]}
    a, b = (
        i.execute_query(i.build_query().find(q, search_field="emb").filter(where).build(limit=7))
        for i in (index, reference)
    )
    assert a.documents.id == b.documents.id
    np.testing.assert_allclose(a.scores, b.scores, rtol=1e-6)


def test_upsert_is_fresh_and_delete_removes(milvus23_uri):  # noqa: F811
    index = _index(milvus23_uri)
    index.index(DocList[Doc](_docs(10)))
    changed = _docs(10)[4]
    changed.title = "changed"
    index.index(DocList[Doc]([changed]))
    assert len(index) == 10 and index["d4"].title == "changed"
    del index["d4"]
    assert "d4" not in index and len(index) == 9


def test_text_search_names_bm25_and_the_version(loaded):
    index, *_ = loaded
    with pytest.raises(MilvusFeatureError, match=r"v2\.3.*BM25.*Milvus 2\.5.*'title'"):
        index.text_search("t1", search_field="title")


def test_explicit_full_text_search_is_refused_before_anything_is_created(milvus23_uri):  # noqa: F811
    from pydantic import Field

    class Searchable(BaseDoc):
        body: str = Field(full_text_search=True)
        emb: NdArray[8]

    index = _index(milvus23_uri, Searchable)
    with pytest.raises(MilvusFeatureError, match=r"BM25.*'body'.*full_text_search=False"):
        index.index(DocList[Searchable]([Searchable(body="x", emb=np.ones(8))]))
    assert len(index) == 0


def test_two_vector_fields_and_none_values_are_named(milvus23_uri):  # noqa: F811
    class Two(BaseDoc):
        a: NdArray[8]
        b: NdArray[8]

    with pytest.raises(MilvusFeatureError, match=r"v2\.3.*several vector fields.*Milvus 2\.4"):
        _index(milvus23_uri, Two).index(DocList[Two]([Two(a=np.ones(8), b=np.ones(8))]))

    class Maybe(BaseDoc):
        n: Optional[int] = None
        emb: NdArray[8]

    index = _index(milvus23_uri, Maybe)
    docs = DocList[Maybe]([Maybe(id="ok", n=1, emb=np.ones(8)), Maybe(id="gap", emb=np.ones(8))])
    with pytest.raises(MilvusFeatureError, match=r"v2\.3.*nullable.*'n'.*'gap'"):
        index.index(docs)
    assert len(index) == 0  # refused before the request: nothing half-written


def test_hybrid_without_hybrid_search_runs_in_the_planner(loaded):
    index, reference, docs = loaded
    q = np.asarray(docs[9].emb)
    queries = [
        i.build_query().find(q, search_field="emb").find(-q, search_field="emb").build(limit=6)
        for i in (index, reference)
    ]
    a, b = index.execute_query(queries[0]), reference.execute_query(queries[1])
    assert getattr(index, "_native_hybrid", 0) == 0
    assert a.documents.id == b.documents.id
    np.testing.assert_allclose(a.scores, b.scores, rtol=1e-12)

"""Vector, filter and text search: the same documents and scores on every backend."""

from __future__ import annotations

import sqlite3
from typing import Optional

import numpy as np
import pytest
from pydantic import Field

from docstack import BaseDoc, DocList
from docstack._internal.query import FilterError
from docstack.typing import AnyTensor, NdArray

DIM = 8
N = 40


class Thumb(BaseDoc):
    tensor: AnyTensor = Field(json_schema_extra={"space": "cosine", "dim": DIM})


class Doc(BaseDoc):
    text: str
    n: int
    price: Optional[float] = None
    thumb: Thumb
    cos: NdArray[DIM] = Field(json_schema_extra={"space": "cosine"})
    l2: NdArray[DIM] = Field(json_schema_extra={"space": "l2"})
    ip: NdArray[DIM] = Field(json_schema_extra={"space": "ip"})


WORDS = ["red", "green", "blue", "apple", "pear", "fox", "whale", "wine"]


def make_data():
    rng = np.random.default_rng(42)
    vecs = rng.standard_normal((N, DIM)).astype(np.float32)
    thumbs = rng.standard_normal((N, DIM)).astype(np.float32)
    texts = [" ".join(rng.choice(WORDS, size=rng.integers(1, 6))) for _ in range(N)]
    docs = [
        Doc(
            id=f"d{i}",
            text=texts[i],
            n=i,
            price=None if i % 4 == 0 else float(i % 7),
            thumb=Thumb(id=f"t{i}", tensor=thumbs[i]),
            cos=vecs[i],
            l2=vecs[i],
            ip=vecs[i],
        )
        for i in range(N)
    ]
    return docs, vecs, thumbs


@pytest.fixture
def loaded(make_index):
    docs, vecs, thumbs = make_data()
    index = make_index(Doc)
    index.index(DocList[Doc](docs[:25]))
    index.index(DocList[Doc](docs[25:]))
    return index, docs, vecs, thumbs


def reference(vecs, query, metric, rows=None):
    rows = np.arange(len(vecs)) if rows is None else np.asarray(rows)
    m = vecs[rows].astype(np.float64)
    q = query.astype(np.float64)
    if metric == "cosine":
        s = m @ q / (np.linalg.norm(m, axis=1) * np.linalg.norm(q))
        order = np.argsort(-s, kind="stable")
    elif metric == "ip":
        s = m @ q
        order = np.argsort(-s, kind="stable")
    else:
        s = np.linalg.norm(m - q, axis=1)
        order = np.argsort(s, kind="stable")
    return [f"d{rows[i]}" for i in order], s[order]


@pytest.mark.parametrize("field,metric", [("cos", "cosine"), ("l2", "l2"), ("ip", "ip")])
def test_find_by_vector_matches_exact_reference(loaded, field, metric):
    index, docs, vecs, _ = loaded
    query = np.random.default_rng(1).standard_normal(DIM).astype(np.float32)
    found, scores = index.find(query, search_field=field, limit=5)
    ids, expected = reference(vecs, query, metric)
    assert found.id == ids[:5]
    np.testing.assert_allclose(scores, expected[:5], rtol=1e-5, atol=1e-5)
    assert scores.dtype == np.float64


def test_find_by_document_uses_its_search_field(loaded):
    index, docs, vecs, _ = loaded
    found, scores = index.find(docs[7], search_field="cos", limit=3)
    assert found.id[0] == "d7"
    assert scores[0] == pytest.approx(1.0, abs=1e-5)
    assert isinstance(found, DocList)
    assert found[0] == docs[7]


def test_find_on_nested_field(loaded):
    index, docs, _, thumbs = loaded
    query = thumbs[11] + 0.01
    for field in ("thumb__tensor", "thumb.tensor"):
        found, scores = index.find(query, search_field=field, limit=4)
        ids, expected = reference(thumbs, query, "cosine")
        assert found.id == ids[:4]
        np.testing.assert_allclose(scores, expected[:4], rtol=1e-5, atol=1e-5)


def test_find_limit_offset_and_threshold(loaded):
    index, _, vecs, _ = loaded
    query = vecs[3]
    ids, expected = reference(vecs, query, "cosine")
    found, _ = index.find(query, search_field="cos", limit=4, offset=2)
    assert found.id == ids[2:6]
    found, scores = index.find(query, search_field="cos", limit=100)
    assert found.id == ids
    threshold = float(expected[5])
    found, scores = index.find(
        query, search_field="cos", limit=100, score_threshold=threshold - 1e-6
    )
    assert found.id == ids[:6]
    assert (scores >= threshold - 1e-5).all()
    ids_l2, dist = reference(vecs, query, "l2")
    found, scores = index.find(
        query, search_field="l2", limit=100, score_threshold=float(dist[3]) + 1e-6
    )
    assert found.id == ids_l2[:4]
    assert len(index.find(query, search_field="cos", limit=0).documents) == 0


def test_find_batched(loaded):
    index, docs, vecs, _ = loaded
    queries = vecs[[2, 9, 30]] + 0.05
    result = index.find_batched(queries, search_field="l2", limit=3)
    assert len(result.documents) == len(result.scores) == 3
    for q, found, scores in zip(queries, result.documents, result.scores):
        ids, expected = reference(vecs, q, "l2")
        assert found.id == ids[:3]
        np.testing.assert_allclose(scores, expected[:3], rtol=1e-5, atol=1e-5)
    by_docs = index.find_batched(DocList[Doc]([docs[2], docs[9]]), search_field="cos", limit=1)
    assert [d.id[0] for d in by_docs.documents] == ["d2", "d9"]


def test_find_metric_aliases_score_the_same(make_index):
    class Aliased(BaseDoc):
        a: NdArray[3] = Field(json_schema_extra={"space": "cosine_sim"})
        b: NdArray[3] = Field(json_schema_extra={"space": "euclidean_dist"})
        c: NdArray[3] = Field(json_schema_extra={"space": "dot"})

    index = make_index(Aliased)
    v = np.array([1.0, 2.0, 2.0])
    index.index(Aliased(a=v, b=v, c=v))
    q = np.array([2.0, 0.0, 0.0])
    assert index.find(q, search_field="a").scores[0] == pytest.approx(1 / 3, rel=1e-5)
    assert index.find(q, search_field="b").scores[0] == pytest.approx(np.sqrt(9.0), rel=1e-5)
    assert index.find(q, search_field="c").scores[0] == pytest.approx(2.0, rel=1e-5)


@pytest.mark.parametrize(
    "query,expected",
    [
        ({"n": {"$lt": 3}}, [0, 1, 2]),
        ({"n": {"$gte": 37}}, [37, 38, 39]),
        ({"n": {"$in": [5, 1, 99]}}, [1, 5]),
        ({"price": None}, [i for i in range(N) if i % 4 == 0]),
        ({"price": {"$exists": False}}, [i for i in range(N) if i % 4 == 0]),
        ({"price": {"$gt": 5.5}}, [i for i in range(N) if i % 4 and i % 7 > 5.5]),
        ({"price": {"$neq": 6.0}}, [i for i in range(N) if i % 4 == 0 or i % 7 != 6]),
        ({"$or": [{"n": 1}, {"n": {"$gt": 38}}]}, [1, 39]),
        ({"$not": {"n": {"$gte": 2}}}, [0, 1]),
        ({"n": {"$nin": list(range(3, 40))}}, [0, 1, 2]),
        ({"id": "d4"}, [4]),
        ({"thumb__id": {"$in": ["t2", "t3"]}}, [2, 3]),
        ({"n": {"$gte": 10, "$lt": 12}}, [10, 11]),
    ],
)
def test_filter_matches_expected_documents_in_insertion_order(loaded, query, expected):
    index, *_ = loaded
    found = index.filter(query, limit=100)
    assert found.id == [f"d{i}" for i in expected]


def test_filter_regex_and_size(loaded):
    index, docs, *_ = loaded
    found = index.filter({"text": {"$regex": "^red"}}, limit=100)
    assert found.id == [d.id for d in docs if d.text.startswith("red")]
    size = len(docs[0].text)
    found = index.filter({"text": {"$size": size}}, limit=100)
    assert found.id == [d.id for d in docs if len(d.text) == size]


def test_filter_limit_and_offset(loaded):
    index, *_ = loaded
    assert index.filter({"n": {"$gte": 0}}, limit=3).id == ["d0", "d1", "d2"]
    assert index.filter({"n": {"$gte": 0}}, limit=2, offset=5).id == ["d5", "d6"]
    assert index.filter({}, limit=1).id == ["d0"]


def test_filter_batched(loaded):
    index, *_ = loaded
    out = index.filter_batched([{"n": 1}, {"n": 2}])
    assert [d.id for d in out] == [["d1"], ["d2"]]


def test_filter_errors_name_the_problem(loaded, backend):
    index, *_ = loaded
    with pytest.raises(FilterError, match="nope"):
        index.filter({"nope": 1})
    with pytest.raises(FilterError, match=r"\$bogus"):
        index.filter({"n": {"$bogus": 1}})
    with pytest.raises(FilterError, match="cos"):
        index.filter({"cos": 1})
    if backend.startswith("milvus"):
        # Milvus takes its own expression language as a filter string (DocArray's API)
        assert index.filter("n > 37", limit=100).id == ["d38", "d39"]
    else:
        with pytest.raises(FilterError):
            index.filter("n > 3")


def fts_reference(docs, query, rows=None):
    """BM25 as SQLite FTS5 computes it: the reference for every backend's text search."""
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE VIRTUAL TABLE t USING fts5(body, tokenize='unicode61')")
    conn.executemany(
        "INSERT INTO t(rowid, body) VALUES (?, ?)", [(i, d.text) for i, d in enumerate(docs)]
    )
    match = " OR ".join(f'"{w}"' for w in query.lower().split())
    got = conn.execute(
        "SELECT rowid, -bm25(t) FROM t WHERE t MATCH ? ORDER BY bm25(t), rowid", (match,)
    ).fetchall()
    if rows is not None:
        got = [g for g in got if g[0] in rows]
    return [f"d{r}" for r, _ in got], np.array([s for _, s in got])


MILVUS_BM25 = (
    "Milvus scores with its own BM25 (IDF log(1 + (N - n + 0.5) / (n + 0.5)), its own length "
    "statistics): the same matches, other scores and, for several terms, another order"
)


@pytest.mark.parametrize("query", ["red", "apple pear", "WHALE wine fox", "blue"])
def test_text_search_is_fts5_bm25(loaded, query, backend):
    index, docs, *_ = loaded
    found, scores = index.text_search(query, search_field="text", limit=100)
    ids, expected = fts_reference(docs, query)
    if backend.startswith("milvus"):
        assert sorted(found.id) == sorted(ids)
        assert (np.diff(scores) <= 0).all()
        pytest.skip(MILVUS_BM25)
    assert found.id == ids
    np.testing.assert_allclose(scores, expected, rtol=1e-9)
    assert (np.diff(scores) <= 1e-12).all()


def test_text_search_limit_offset_threshold_and_no_match(loaded, backend):
    index, docs, *_ = loaded
    if backend.startswith("milvus"):
        assert len(index.text_search("zebra", search_field="text").documents) == 0
        assert len(index.text_search("", search_field="text").documents) == 0
        found = index.text_search("red green", search_field="text", limit=100)
        assert (
            found.documents.id[2:5]
            == index.text_search("red green", search_field="text", limit=3, offset=2).documents.id
        )
        pytest.skip(MILVUS_BM25)
    ids, expected = fts_reference(docs, "red green")
    assert index.text_search("red green", search_field="text", limit=3).documents.id == ids[:3]
    assert (
        index.text_search("red green", search_field="text", limit=3, offset=2).documents.id
        == ids[2:5]
    )
    res = index.text_search(
        "red green", search_field="text", limit=100, score_threshold=float(expected[4]) - 1e-9
    )
    assert res.documents.id == ids[: len(res.documents)]
    assert len(res.documents) >= 5
    assert len(index.text_search("zebra", search_field="text").documents) == 0
    assert len(index.text_search("", search_field="text").documents) == 0
    assert len(index.text_search("  ,;  ", search_field="text").documents) == 0


def test_text_search_batched(loaded):
    index, docs, *_ = loaded
    res = index.text_search_batched(["red", "pear"], search_field="text", limit=2)
    assert [d.id for d in res.documents] == [
        fts_reference(docs, "red")[0][:2],
        fts_reference(docs, "pear")[0][:2],
    ]


def test_text_search_after_writes_sees_them(loaded):
    index, docs, *_ = loaded
    index.text_search("red", search_field="text")  # the text index now exists
    new = docs[0].model_copy(update={"text": "zebra zebra"})
    index.index(new)
    assert index.text_search("zebra", search_field="text").documents.id == ["d0"]
    index.update("d1", text="zebra")
    assert index.text_search("zebra", search_field="text").documents.id == ["d0", "d1"]
    del index["d0"]
    assert index.text_search("zebra", search_field="text").documents.id == ["d1"]


def test_search_field_errors(loaded):
    index, *_ = loaded
    with pytest.raises(ValueError, match="nope"):
        index.find(np.ones(DIM), search_field="nope")
    with pytest.raises(ValueError, match="text"):
        index.find(np.ones(DIM), search_field="text")
    with pytest.raises(ValueError, match="search_field"):
        index.find(np.ones(DIM))
    with pytest.raises(ValueError, match="n"):
        index.text_search("x", search_field="n")

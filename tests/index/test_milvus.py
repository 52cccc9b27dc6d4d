"""MilvusDocumentIndex against the real engine (Milvus Lite in process, or its server)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from typing import Optional

import numpy as np
import pytest
from pydantic import Field

pytest.importorskip("pymilvus")
pytest.importorskip("milvus_lite")

from docstack import BaseDoc, DocList  # noqa: E402
from docstack.index import MilvusDocumentIndex  # noqa: E402
from docstack.index.backends.milvus import (  # noqa: E402
    MilvusError,
    MilvusSchemaError,
)
from docstack.typing import NdArray  # noqa: E402


class Doc(BaseDoc):
    title: str
    n: int = 0
    price: Optional[float] = None
    a: NdArray[4] = Field(json_schema_extra={"space": "cosine"})
    b: NdArray[3] = Field(json_schema_extra={"space": "l2", "index_type": "FLAT"})


HOSTILE = [
    'quote " inside',
    "single ' quote",
    "back\\slash",
    "end with backslash \\",
    '" or 1==1 or "',
    "x' or 1==1 or 'x",
    '{"json": [1, 2]}',
    "tab\tnew\nline\rcr",
    "unicode é 漢字 😀",
    "nul\x00inside",
    "",
]


def make(tmp_path, name="docs", **kwargs):
    return MilvusDocumentIndex[Doc](uri=str(tmp_path / "m.db"), index_name=name, **kwargs)


def docs(count, offset=0):
    rng = np.random.default_rng(offset)
    return DocList[Doc](
        [
            Doc(
                id=f"d{i}",
                title=f"title {i}",
                n=i,
                a=rng.standard_normal(4),
                b=rng.standard_normal(3),
            )
            for i in range(offset, offset + count)
        ]
    )


def test_connection_settings(tmp_path):
    index = make(tmp_path, consistency_level="Bounded", batch_size=7)
    assert index.db_config.consistency_level == "Bounded"
    assert index.collection_name == "docs"
    default = MilvusDocumentIndex[Doc](uri=str(tmp_path / "m.db"))
    assert default.collection_name == "docstack_Doc"
    config = MilvusDocumentIndex.DBConfig()
    assert (config.host, config.port, config.uri) == ("localhost", 19530, None)
    with pytest.raises(ValueError, match=r"\.db"):
        MilvusDocumentIndex[Doc](uri=str(tmp_path / "folder"))
    with pytest.raises(ValueError, match="index_name"):
        make(tmp_path, name="no spaces")
    with pytest.raises(ValueError, match="batch_size"):
        make(tmp_path, batch_size=0)


def test_server_down_is_a_clear_error():
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    start = time.monotonic()
    with pytest.raises(MilvusError, match=f"127.0.0.1:{port}"):
        MilvusDocumentIndex[Doc](host="127.0.0.1", port=port, timeout=1.0)
    assert time.monotonic() - start < 30


def test_persistence_and_reopen(tmp_path):
    index = make(tmp_path)
    index.index(docs(20))
    del index
    again = make(tmp_path)
    assert again.num_docs() == 20
    assert again["d3"].title == "title 3"
    found, _ = again.find(docs(20)[5].a, search_field="a", limit=1)
    assert found.id == ["d5"]


def test_dimension_mismatch_on_reopen(tmp_path):
    make(tmp_path).index(docs(2))

    class Other(BaseDoc):
        title: str
        n: int = 0
        price: Optional[float] = None
        a: NdArray[8]
        b: NdArray[3]

    with pytest.raises(MilvusSchemaError, match="dimension"):
        MilvusDocumentIndex[Other](uri=str(tmp_path / "m.db"), index_name="docs")

    class Fewer(BaseDoc):
        title: str
        a: NdArray[4]

    with pytest.raises(MilvusSchemaError, match="fields"):
        MilvusDocumentIndex[Fewer](uri=str(tmp_path / "m.db"), index_name="docs")


def test_collection_dropped_behind_the_index(tmp_path):
    index = make(tmp_path)
    index.index(docs(2))
    index._client.drop_collection("docs")
    with pytest.raises(MilvusError, match="docs"):
        index.filter({"n": 1})


def test_hostile_strings_match_literally(tmp_path):
    index = make(tmp_path)
    rng = np.random.default_rng(0)
    items = [
        Doc(id=f"h{i}", title=t, n=i, a=rng.standard_normal(4), b=rng.standard_normal(3))
        for i, t in enumerate(HOSTILE)
    ]
    index.index(items)
    for i, text in enumerate(HOSTILE):
        assert index.filter({"title": text}, limit=100).id == [f"h{i}"], text
        assert index.filter({"title": {"$in": [text, "zzz"]}}, limit=100).id == [f"h{i}"]
        assert len(index.filter({"title": {"$ne": text}}, limit=100)) == len(HOSTILE) - 1
        query = index.build_query().find(items[i].a, search_field="a").filter({"title": text})
        assert index.execute_query(query.build(limit=5)).documents.id == [f"h{i}"]
    # ids are hostile too
    index.index(Doc(id='id " or 1==1', title="x", a=np.ones(4), b=np.ones(3)))
    assert index['id " or 1==1'].title == "x"
    assert index.filter({"id": 'id " or 1==1'}).id == ['id " or 1==1']
    # a raw Milvus expression is the engine's own language
    assert index.filter("n >= 9", limit=100).id == ["h9", "h10"]


def test_regex_runs_in_docstack_with_the_same_answer(tmp_path):
    index = make(tmp_path)
    index.index(docs(30))
    found = index.filter({"title": {"$regex": r"1\d$"}, "n": {"$lt": 15}}, limit=100)
    assert found.id == [f"d{i}" for i in range(10, 15)]
    result = index.find(docs(30)[12].a, search_field="a", limit=3)
    query = (
        index.build_query()
        .find(docs(30)[12].a, search_field="a")
        .filter({"title": {"$regex": "^title 1"}})
        .build(limit=3)
    )
    hits, _ = index.execute_query(query)
    assert all(d.title.startswith("title 1") for d in hits)
    assert result.documents.id[0] == "d12" == hits.id[0]


def test_several_vector_fields_and_scores(tmp_path):
    index = make(tmp_path)
    data = docs(25)
    index.index(data)
    q = data[4]
    found_a, scores_a = index.find(q.a, search_field="a", limit=1)
    found_b, scores_b = index.find(q.b, search_field="b", limit=1)
    assert found_a.id == found_b.id == ["d4"]
    assert scores_a[0] == pytest.approx(1.0, abs=1e-6)  # cosine similarity
    assert scores_b[0] == pytest.approx(0.0, abs=1e-3)  # euclidean distance
    got = index["d4"]
    assert got == q
    assert got.a.dtype == q.a.dtype


def test_batching_and_round_trip(tmp_path):
    index = make(tmp_path, batch_size=16)
    index.index(docs(100))
    assert index.num_docs() == 100
    assert index.filter({"n": {"$gte": 95}}, limit=100).id == [f"d{i}" for i in range(95, 100)]
    index.index(docs(10, offset=95))  # upsert: 5 replaced, 5 new
    assert index.num_docs() == 105


WRITER = textwrap.dedent(
    """
    import sys, numpy as np
    from typing import Optional
    from pydantic import Field
    from docstack import BaseDoc, DocList
    from docstack.index import MilvusDocumentIndex
    from docstack.typing import NdArray

    class Doc(BaseDoc):
        title: str
        n: int = 0
        price: Optional[float] = None
        a: NdArray[4] = Field(json_schema_extra={"space": "cosine"})
        b: NdArray[3] = Field(json_schema_extra={"space": "l2", "index_type": "FLAT"})

    index = MilvusDocumentIndex[Doc](uri=sys.argv[1], index_name="docs", batch_size=200)
    rng = np.random.default_rng(0)
    for call in range(1000):
        batch = [Doc(id=f"c{call}_{i}", title="t", n=call, a=rng.standard_normal(4),
                     b=rng.standard_normal(3)) for i in range(200)]
        index.index(DocList[Doc](batch))
        print(call, flush=True)
    """
)


def test_crash_during_bulk_index_keeps_every_acknowledged_batch(tmp_path):
    uri = str(tmp_path / "crash.db")
    proc = subprocess.Popen(
        [sys.executable, "-c", WRITER, uri],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    acknowledged = -1
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            acknowledged = int(line)
            if acknowledged >= 3:
                break
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(10)
    assert acknowledged >= 3
    index = MilvusDocumentIndex[Doc](uri=uri, index_name="docs")
    for call in range(acknowledged + 1):
        assert len(index.filter({"n": call}, limit=1000)) == 200, call


def test_equal_scores_come_in_insertion_order_past_the_first_depth(tmp_path):
    # twelve identical vectors tie for every rank: the first search (k + 1 results) sees the
    # tie at rank k and searches again deeper, so the k returned are the first inserted
    class Tie(BaseDoc):
        emb: NdArray[4]

    index = MilvusDocumentIndex[Tie](uri=str(tmp_path / "tie.db"))
    docs = DocList[Tie]([Tie(id=f"t{i:02d}", emb=[1, 0, 0, 0]) for i in range(30)])
    index.index(docs)
    for k in (1, 5, 12):
        found, scores = index.find(np.array([1.0, 0, 0, 0]), search_field="emb", limit=k)
        assert found.id == [f"t{i:02d}" for i in range(k)]
        np.testing.assert_allclose(scores, np.ones(k), rtol=1e-6)


def test_execute_query_takes_raw_milvus_requests(tmp_path):
    from docstack.index.backends.milvus import MilvusQueryError

    index = make(tmp_path)
    data = docs(30)
    index.index(data)
    q = data[7].a
    expected = index.find(q, search_field="a", limit=5)

    # MilvusClient.search keyword arguments: docstack or Milvus field names, one vector
    for request in (
        {"data": [q.tolist()], "anns_field": "a", "limit": 5},
        {"data": q, "anns_field": "a", "limit": 5, "output_fields": ["*"]},
        {
            "collection_name": "docs",
            "data": [q],
            "anns_field": index._get_layout().fields["a"],
            "limit": 5,
            "search_params": {"metric_type": "COSINE", "params": {"ef": 128}},
        },
    ):
        result = index.execute_query(request)
        assert result.documents.id == expected.documents.id
        np.testing.assert_allclose(result.scores, expected.scores)
    assert result.documents[0].title == "title 7"
    np.testing.assert_array_equal(result.documents[0].a, data[7].a)

    # a filter (Milvus expression or portable), offset; l2 scores are distances
    raw = index.execute_query(
        {"data": [data[3].b], "anns_field": "b", "filter": "n >= 10", "limit": 4, "offset": 1}
    )
    ref = index.build_query().find(data[3].b, search_field="b").filter({"n": {"$gte": 10}})
    ref_result = index.execute_query(ref.build(limit=4, offset=1))
    assert raw.documents.id == ref_result.documents.id
    assert all(d.n >= 10 for d in raw.documents)
    np.testing.assert_allclose(raw.scores, ref_result.scores)
    assert np.all(np.diff(raw.scores) >= 0)
    portable = index.execute_query(
        {"data": [data[3].b], "anns_field": "b", "filter": {"n": {"$gte": 10}}, "limit": 4}
    )
    assert portable.documents.id[1:] == raw.documents.id[:3]

    # MilvusClient.query keyword arguments: matching documents in insertion order
    rows = index.execute_query({"filter": 'title in ["title 3", "title 1"]', "limit": 5})
    assert rows.documents.id == ["d1", "d3"]
    assert rows.scores.tolist() == [1.0, 1.0]

    # DocArray's form: (component, kwargs) pairs
    docarray_query = [
        ("find", {"query": q, "search_field": "a", "limit": 5}),
        ("filter", {"filter_query": "n < 20"}),
    ]
    result = index.execute_query(docarray_query)
    ref = index.execute_query(
        index.build_query().find(q, search_field="a", limit=5).filter({"n": {"$lt": 20}}).build()
    )
    assert result.documents.id == ref.documents.id
    np.testing.assert_allclose(result.scores, ref.scores)

    # bad raw queries name the problem
    bad = [
        ({"data": [q], "anns_field": "a", "limt": 5}, r"limt"),
        ({"data": [q], "anns_field": "nope"}, r"nope"),
        ({"data": [q], "anns_field": "title"}, r"title"),
        ({"data": [q, q], "anns_field": "a"}, r"2 query vectors"),
        ({"data": [[1.0, 2.0]], "anns_field": "a"}, r"dimension 4"),
        ({"data": [q], "anns_field": "a", "limit": -1}, r"limit"),
        ({"data": [q], "anns_field": "a", "search_params": {"metric_type": "L2"}}, r"COSINE"),
        ({"data": [q], "anns_field": "a", "collection_name": "other"}, r"'other'"),
        ({"data": "text", "anns_field": "a"}, r"data"),
        ({"filter": "n > 1", "anns_field": "a"}, r"anns_field"),
        ([("find", {"query": q, "search_field": "a"}), ("sort", {})], r"'sort'"),
        ([("find", {"query": q})], r"search_field is required"),
        ([("filter", {"filter_query": {"n": {"$bogus": 1}}})], r"bogus"),
        ([("find", {"query": q, "serch_field": "a"})], r"serch_field"),
        ([], r"empty"),
        ("n > 3", r"str"),
    ]
    for query, message in bad:
        with pytest.raises(MilvusQueryError, match=message):
            index.execute_query(query)
    # a filter Milvus rejects is the engine's error, naming the expression's problem
    with pytest.raises(MilvusError):
        index.execute_query({"data": [q], "anns_field": "a", "filter": "nope >>> 3"})


class One(BaseDoc):
    v: NdArray[8] = Field(json_schema_extra={"space": "l2", "index_type": "FLAT"})
    w: str = ""


@pytest.mark.parametrize("doc_type", [One, Doc], ids=["one-vector", "two-vectors"])
def test_find_batched_rescores_like_the_exact_index(tmp_path, doc_type):
    # one vector field: the candidates' vectors are read for the whole search at once;
    # several: as pymilvus decodes them. Either way the in-memory index's ids and scores.
    from docstack.index import InMemoryExactNNIndex

    rng = np.random.default_rng(5)
    if doc_type is One:
        base = rng.standard_normal((40, 8)).astype(np.float32)
        data = DocList[One]([One(id=f"o{i}", v=base[i % 25], w=f"w{i}") for i in range(40)])
        field, queries = "v", rng.standard_normal((30, 8)).astype(np.float32)
    else:
        data = docs(40)
        field, queries = "a", rng.standard_normal((30, 4)).astype(np.float32)
    index = MilvusDocumentIndex[doc_type](uri=str(tmp_path / "m.db"), index_name="r")
    index.index(data)
    exact = InMemoryExactNNIndex[doc_type]()
    exact.index(data)
    by_id = {d.id: d for d in data}
    got = index.find_batched(queries, search_field=field, limit=7)
    want = exact.find_batched(queries, search_field=field, limit=7)
    for g_docs, g_scores, w_docs, w_scores in zip(
        got.documents, got.scores, want.documents, want.scores
    ):
        assert g_docs.id == w_docs.id
        np.testing.assert_allclose(g_scores, w_scores, rtol=1e-5, atol=1e-6)
        for d in g_docs:
            assert d == by_id[d.id]

"""QdrantDocumentIndex against the real engine (qdrant-client's local mode), nothing mocked:
connection settings, persistence with ``path=``, ids, hostile filter values, named vectors,
native filters, engine errors, failed-write rollback and a SIGKILL crash test."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
import uuid
from pathlib import Path
from typing import Optional

import numpy as np
import pytest

pytest.importorskip("qdrant_client")

from pydantic import Field  # noqa: E402
from qdrant_client import models  # noqa: E402

from docstack import BaseDoc, DocList  # noqa: E402
from docstack._internal.query import FilterError  # noqa: E402
from docstack.errors import DocstackError, LoadError, MissingDependencyError, ShapeError  # noqa: E402
from docstack.index import InMemoryExactNNIndex, QdrantDocumentIndex  # noqa: E402
from docstack.index.backends.qdrant import QdrantIndexError  # noqa: E402
from docstack.typing import NdArray  # noqa: E402

# the unreachable-server test makes the client warn that it cannot check the server's version
pytestmark = pytest.mark.filterwarnings("ignore:Failed to obtain server version")


class Doc(BaseDoc):
    title: str
    n: int = 0
    emb: NdArray[4]


class Multi(BaseDoc):
    text: str = ""
    a: NdArray[3] = Field(json_schema_extra={"space": "cosine"})
    b: NdArray[2] = Field(json_schema_extra={"space": "l2"})
    c: Optional[NdArray[5]] = Field(default=None, json_schema_extra={"space": "ip"})


@pytest.fixture
def shm_dir():
    base = "/dev/shm" if os.path.isdir("/dev/shm") else None
    path = tempfile.mkdtemp(prefix="docstack-qdrant-", dir=base)
    yield Path(path)
    shutil.rmtree(path, ignore_errors=True)


def docs(count: int = 5) -> list[Doc]:
    return [Doc(id=f"d{i}", title=f"t{i}", n=i, emb=np.eye(4)[i % 4] + i) for i in range(count)]


# ------------------------------------------------------------------ connection settings


def test_connection_settings_and_collection_names():
    index = QdrantDocumentIndex[Doc](location=":memory:")
    assert index.collection_name == index.index_name == "doc"
    named = QdrantDocumentIndex[Doc](location=":memory:", collection_name="mine")
    assert named.index_name == "mine"
    assert named.client.collection_exists("mine")
    by_index_name = QdrantDocumentIndex[Doc](location=":memory:", index_name="other")
    assert by_index_name.collection_name == "other"
    cfg = QdrantDocumentIndex.DBConfig(location=":memory:", collection_name="c")
    assert QdrantDocumentIndex[Doc](db_config=cfg).collection_name == "c"
    with pytest.raises(TypeError, match="unknown setting"):
        QdrantDocumentIndex[Doc](location=":memory:", nope=1)
    with pytest.raises(ValueError, match="batch_size"):
        QdrantDocumentIndex[Doc](location=":memory:", batch_size=0)


def test_collection_settings_reach_qdrant():
    index = QdrantDocumentIndex[Multi](
        location=":memory:",
        hnsw_config=models.HnswConfigDiff(m=8, ef_construct=50),
        optimizers_config=models.OptimizersConfigDiff(default_segment_number=2),
        on_disk_payload=True,
        shard_number=1,
        replication_factor=1,
        exact_search=True,
    )
    info = index.client.get_collection(index.collection_name)
    vectors = info.config.params.vectors
    assert sorted(vectors) == ["a", "b", "c"]
    assert (vectors["a"].size, vectors["a"].distance) == (3, models.Distance.COSINE)
    assert (vectors["b"].size, vectors["b"].distance) == (2, models.Distance.EUCLID)
    assert (vectors["c"].size, vectors["c"].distance) == (5, models.Distance.DOT)
    index.index(Multi(id="x", a=[1, 0, 0], b=[0, 1]))
    assert index.find(np.ones(3), search_field="a").documents.id == ["x"]


def test_unreachable_server_is_a_clear_error():
    with pytest.raises(QdrantIndexError, match="cannot reach Qdrant") as info:
        QdrantDocumentIndex[Doc](url="http://127.0.0.1:9", prefer_grpc=False, timeout=2)
    assert "location=':memory:'" in str(info.value)


def test_missing_client_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "qdrant_client", None)
    with pytest.raises(ImportError, match=r"docstack\[qdrant\]") as info:
        QdrantDocumentIndex[Doc](location=":memory:")
    assert isinstance(info.value, MissingDependencyError)


# ------------------------------------------------------------------ persistence


def test_path_persists_and_reopens(shm_dir):
    path = str(shm_dir / "store")
    index = QdrantDocumentIndex[Doc](path=path)
    index.index(docs(3))
    index.close()
    again = QdrantDocumentIndex[Doc](path=path)
    assert again.num_docs() == 3
    assert again["d1"] == docs(3)[1]
    found, _ = again.find(np.eye(4)[2] + 2, search_field="emb", limit=1)
    assert found.id == ["d2"]
    # later writes come after the reopened ones in insertion order
    again.index(Doc(id="late", title="x", emb=np.ones(4)))
    again.index(Doc(id="d0", title="rewritten", emb=np.ones(4)))
    assert again.filter({}, limit=10).id == ["d1", "d2", "late", "d0"]
    again.close()


def test_dimension_learnt_then_kept_across_reopen(shm_dir):
    class Loose(BaseDoc):
        emb: NdArray

    path = str(shm_dir / "loose")
    index = QdrantDocumentIndex[Loose](path=path)
    index.index(Loose(id="a", emb=[1.0, 2.0, 3.0]))
    index.close()
    again = QdrantDocumentIndex[Loose](path=path)
    with pytest.raises(ShapeError, match="dimension 3"):
        again.find(np.ones(2), search_field="emb")
    assert again.find(np.ones(3), search_field="emb").documents.id == ["a"]
    again.close()


def test_dimension_mismatch_with_existing_collection(shm_dir):
    class Wider(BaseDoc):
        title: str
        n: int = 0
        emb: NdArray[8]

    path = str(shm_dir / "dims")
    QdrantDocumentIndex[Doc](path=path, collection_name="c").close()
    with pytest.raises(ShapeError, match=r"dimension 4.*schema says 8"):
        QdrantDocumentIndex[Wider](path=path, collection_name="c")
    # the failed open released the storage
    QdrantDocumentIndex[Doc](path=path, collection_name="c").close()


def test_metric_mismatch_with_existing_collection(shm_dir):
    class L2(BaseDoc):
        title: str
        n: int = 0
        emb: NdArray[4] = Field(json_schema_extra={"space": "l2"})

    path = str(shm_dir / "metric")
    QdrantDocumentIndex[Doc](path=path, collection_name="c").close()
    with pytest.raises(QdrantIndexError, match="Cosine.*'l2'"):
        QdrantDocumentIndex[L2](path=path, collection_name="c")


def test_storage_open_twice_and_bad_path(shm_dir):
    path = str(shm_dir / "twice")
    first = QdrantDocumentIndex[Doc](path=path)
    with pytest.raises(QdrantIndexError, match="another client"):
        QdrantDocumentIndex[Doc](path=path)
    first.close()
    a_file = shm_dir / "a_file"
    a_file.write_text("not a directory")
    with pytest.raises(LoadError, match="a_file"):
        QdrantDocumentIndex[Doc](path=str(a_file / "sub"))


def test_collection_dropped_behind_the_index():
    index = QdrantDocumentIndex[Doc](location=":memory:")
    index.index(docs(2))
    index.client.delete_collection(index.collection_name)
    with pytest.raises(QdrantIndexError, match="no longer exists"):
        index.find(np.ones(4), search_field="emb")
    with pytest.raises(DocstackError, match="no longer exists"):
        index.num_docs()


# ------------------------------------------------------------------ ids


STRANGE_IDS = [
    "",
    " ",
    "a b",
    "42",
    "0",
    "-1",
    str(uuid.uuid4()),
    "ünïcödé ✓ 漢字",
    'quote"s and \\ backslash',
    "x" * 2000,
    "null",
    "\x00nul",
]


def test_any_string_id_round_trips_and_upserts():
    index = QdrantDocumentIndex[Doc](location=":memory:")
    batch = [Doc(id=i, title=f"t{k}", n=k, emb=np.ones(4) + k) for k, i in enumerate(STRANGE_IDS)]
    index.index(batch)
    assert index.num_docs() == len(STRANGE_IDS)
    for doc in batch:
        assert doc.id in index
        assert index[doc.id] == doc
    assert index[STRANGE_IDS].id == STRANGE_IDS
    index.index(Doc(id="42", title="replaced", emb=np.ones(4)))
    assert index.num_docs() == len(STRANGE_IDS)
    assert index["42"].title == "replaced"
    assert index.filter({"id": "42"}).title == ["replaced"]
    # a point id that happens to be the uuid5 of nothing we wrote is not a document
    assert "43" not in index
    del index[["", "x" * 2000]]
    assert index.num_docs() == len(STRANGE_IDS) - 2


# ------------------------------------------------------------------ filters


HOSTILE = [
    "it's",
    'say "hi"',
    "back\\slash",
    "a' or 1==1 --",
    '" OR 1=1; DROP TABLE x; --',
    '{"$gt": ""}',
    '{"must": []}',
    "ünï ✓ 漢字",
    "%_*?.",
    "tab\tnew\nline",
    "",
]


def test_hostile_string_values_match_literally():
    index = QdrantDocumentIndex[Doc](location=":memory:")
    index.index([Doc(id=f"h{i}", title=s, n=i, emb=np.ones(4)) for i, s in enumerate(HOSTILE)])
    for i, s in enumerate(HOSTILE):
        assert index.filter({"title": s}, limit=100).id == [f"h{i}"]
        assert len(index.filter({"title": {"$neq": s}}, limit=100)) == len(HOSTILE) - 1
        assert index.filter({"title": {"$in": [s, "nothing"]}}, limit=100).id == [f"h{i}"]
        # order on strings runs in the planner, with the same answer
        expect = [f"h{j}" for j, t in enumerate(HOSTILE) if t > s]
        assert index.filter({"title": {"$gt": s}}, limit=100).id == expect
    assert index.filter({"title": "a"}, limit=100).id == []
    assert index.filter({"title": {"$regex": "^a' or"}}, limit=100).id == ["h3"]


def test_planner_and_native_parts_combine():
    index = QdrantDocumentIndex[Doc](location=":memory:")
    index.index(docs(8))
    query = {"$or": [{"title": {"$regex": "[35]$"}}, {"n": {"$lt": 2}}], "n": {"$neq": 5}}
    assert index.filter(query, limit=100).id == ["d0", "d1", "d3"]
    found, _ = index.execute_query(
        index.build_query().find(np.ones(4), search_field="emb").filter(query).build(limit=10)
    )
    assert sorted(found.id) == ["d0", "d1", "d3"]
    assert index.filter({"title": {"$size": 2}, "n": {"$gte": 6}}, limit=100).id == ["d6", "d7"]


def test_native_qdrant_filters():
    index = QdrantDocumentIndex[Doc](location=":memory:")
    index.index(docs(6))
    native = models.Filter(
        must=[models.FieldCondition(key="n", range=models.Range(gte=2, lt=5))],
        must_not=[models.FieldCondition(key="title", match=models.MatchValue(value="t3"))],
    )
    assert index.filter(native, limit=10).id == ["d2", "d4"]
    as_dict = {"must": [{"key": "n", "range": {"gte": 2, "lt": 5}}]}
    assert index.filter(as_dict, limit=10).id == ["d2", "d3", "d4"]
    query = (
        index.build_query()
        .find(np.ones(4), search_field="emb")
        .filter(native)
        .filter({"n": {"$neq": 2}})
        .build(limit=10)
    )
    assert index.execute_query(query).documents.id == ["d4"]
    assert index.delete(filter=as_dict) == 3
    with pytest.raises(FilterError, match="Qdrant filter"):
        index.filter({"must": "nonsense"})


# ------------------------------------------------------------------ raw Qdrant queries


def _same(got, want):
    assert got.documents.id == want.documents.id
    np.testing.assert_allclose(got.scores, want.scores, rtol=1e-5, atol=1e-6)


def test_raw_qdrant_queries_run_like_find():
    rng = np.random.default_rng(11)
    items = [
        Multi(id=f"m{i}", text=f"x{i}", a=rng.standard_normal(3), b=rng.standard_normal(2))
        for i in range(20)
    ]
    index = QdrantDocumentIndex[Multi](location=":memory:")
    index.index(items)
    qa, qb = rng.standard_normal(3), rng.standard_normal(2).astype(np.float32)
    flt = {"must_not": [{"key": "text", "match": {"any": ["x3", "x4", "x5"]}}]}
    want = index.find(qa, search_field="a", limit=5)
    # DocArray's dict: (name, vector), {'name', 'vector'}, named by 'using'
    _same(index.execute_query({"vector": ("a", qa.tolist()), "limit": 5}), want)
    _same(index.execute_query({"vector": {"name": "a", "vector": qa}, "limit": 5}), want)
    _same(index.execute_query({"query": qa.tolist(), "using": "a", "limit": 5}), want)
    # qdrant's QueryRequest, with a NearestQuery and a filter, params and offset
    request = models.QueryRequest(
        query=models.NearestQuery(nearest=qb.tolist()),
        using="b",
        filter=models.Filter.model_validate(flt),
        params=models.SearchParams(exact=True),
        limit=4,
        offset=2,
        with_payload=False,
    )
    via_find = index.find(qb, search_field="b", limit=30)
    allowed = [d.id for d in via_find.documents if d.text not in ("x3", "x4", "x5")]
    got = index.execute_query(request)
    assert got.documents.id == allowed[2:6]
    assert got.documents[0] == index[got.documents[0].id]  # whole documents come back
    # scores in docstack's meaning (l2: the distance), as the reference index gives them
    ref = InMemoryExactNNIndex[Multi]()
    ref.index(items)
    want = ref.find(qb, search_field="b", limit=30)
    keep = [i for i, d in enumerate(want.documents) if d.text not in ("x3", "x4", "x5")][2:6]
    assert got.documents.id == [want.documents[i].id for i in keep]
    np.testing.assert_allclose(got.scores, want.scores[keep], rtol=1e-5, atol=1e-6)
    cut = float(via_find.scores[3])
    thresholded = index.execute_query({"vector": ("b", qb), "score_threshold": cut, "limit": 30})
    assert thresholded.documents.id == via_find.documents.id[:4]
    assert (thresholded.scores <= cut).all()


def test_raw_qdrant_filter_only_queries_scroll():
    index = QdrantDocumentIndex[Doc](location=":memory:")
    index.index(docs(8))
    flt = {"must": [{"key": "n", "range": {"gte": 2}}]}
    got = index.execute_query({"filter": flt, "limit": 3, "offset": 1})
    assert got.documents.id == ["d3", "d4", "d5"]
    assert got.scores.tolist() == [1.0, 1.0, 1.0]
    native = models.Filter(must=[models.FieldCondition(key="n", match=models.MatchValue(value=6))])
    assert index.execute_query(native).documents.id == ["d6"]
    assert index.execute_query({"scroll_filter": native, "with_payload": True}).documents.id == [
        "d6"
    ]
    # one vector field: the vector needs no name; a filter dict applies as in find()
    got = index.execute_query({"vector": np.ones(4), "query_filter": flt, "limit": 2})
    want = index.find(np.ones(4), limit=8)
    keep = [i for i, d in enumerate(want.documents) if d.n >= 2][:2]
    assert got.documents.id == [want.documents[i].id for i in keep]
    np.testing.assert_allclose(got.scores, want.scores[keep], rtol=1e-6)


@pytest.mark.parametrize(
    ("query", "match"),
    [
        ({"vectr": [1, 0, 0, 0]}, "unknown key"),
        ({"vector": [1, 0]}, "vector for 'emb'"),
        ({"vector": ("nope", [1, 0, 0, 0])}, "vector field"),
        ({"vector": "abc"}, "dense"),
        ({"vector": {"indices": [1], "values": [0.5]}}, "vector is"),
        ({"filter": {"must": "nonsense"}}, "valid Qdrant Filter"),
        ({"filter": 3}, "filter is a qdrant Filter"),
        ({"vector": [1, 0, 0, 0], "params": {"hnsw_ef": "many"}}, "SearchParams"),
        ({"vector": [1, 0, 0, 0], "limit": -1}, "limit must be a count"),
        ({"filter": {"must": []}, "offset": str(uuid.uuid4())}, "not by point id"),
        ({"vector": [1, 0, 0, 0], "query": [1, 0, 0, 0]}, "one of"),
        ({"using": "emb"}, "gives no vector"),
        ({"vector": [1, 0, 0, 0], "score_threshold": "high"}, "score_threshold"),
        (models.QueryRequest(prefetch=[], query=[1, 0, 0, 0]), "prefetch"),
    ],
)
def test_bad_raw_qdrant_queries_are_clear_errors(query, match):
    from docstack.index.backends.qdrant import QdrantQueryError

    index = QdrantDocumentIndex[Doc](location=":memory:")
    index.index(docs(4))
    with pytest.raises(QdrantQueryError, match=match):
        index.execute_query(query)
    with pytest.raises(TypeError, match="build_query"):
        index.execute_query(42)


# ------------------------------------------------------------------ vectors


def test_several_named_vectors_search_and_round_trip():
    rng = np.random.default_rng(5)
    items = [
        Multi(
            id=f"m{i}",
            a=rng.standard_normal(3),
            b=rng.standard_normal(2).astype(np.float32),
            c=None if i % 2 else rng.standard_normal(5),
        )
        for i in range(12)
    ]
    index = QdrantDocumentIndex[Multi](location=":memory:")
    reference = InMemoryExactNNIndex[Multi]()
    index.index(items)
    reference.index(items)
    for field, dim in (("a", 3), ("b", 2), ("c", 5)):
        q = rng.standard_normal(dim)
        got = index.find(q, search_field=field, limit=12)
        want = reference.find(q, search_field=field, limit=12)
        assert got.documents.id == want.documents.id
        np.testing.assert_allclose(got.scores, want.scores, rtol=1e-5, atol=1e-5)
    for item in items:
        back = index[item.id]
        assert back == item
        assert back.a.dtype == item.a.dtype and back.b.dtype == np.float32


def test_sqeuclidean_scores_are_squared():
    class Sq(BaseDoc):
        emb: NdArray[2] = Field(json_schema_extra={"space": "sqeuclidean"})

    index = QdrantDocumentIndex[Sq](location=":memory:")
    index.index(Sq(id="a", emb=[3.0, 4.0]))
    assert index.find(np.zeros(2), search_field="emb").scores[0] == pytest.approx(25.0, rel=1e-6)


# ------------------------------------------------------------------ failed writes


class Page(BaseDoc):
    text: str
    emb: NdArray[2]


class Book(BaseDoc):
    title: str
    pages: DocList[Page]


def test_failed_write_puts_back_what_it_replaced():
    index = QdrantDocumentIndex[Book](location=":memory:")
    first = Book(id="b1", title="first", pages=[Page(id="p1", text="one", emb=[1, 0])])
    index.index(first)
    client = index.client
    real_upsert = client.upsert
    calls = []

    def failing_upsert(*args, **kwargs):
        calls.append(kwargs.get("collection_name"))
        if len(calls) == 2:  # the root is written, its pages fail
            raise RuntimeError("injected failure")
        return real_upsert(*args, **kwargs)

    client.upsert = failing_upsert
    try:
        with pytest.raises(DocstackError, match="injected failure"):
            index.index(
                Book(id="b1", title="second", pages=[Page(id="p2", text="two", emb=[0, 1])])
            )
    finally:
        client.upsert = real_upsert
    assert index["b1"] == first
    assert index.subindices["pages"].num_docs() == 1
    roots, pages, _ = index.find_subindex(np.array([1.0, 0]), subindex="pages", search_field="emb")
    assert (roots.id, pages.id) == (["b1"], ["p1"])


# ------------------------------------------------------------------ crash


_WRITER = textwrap.dedent(
    """
    import sys
    import numpy as np
    from docstack import BaseDoc
    from docstack.typing import NdArray
    from docstack.index import QdrantDocumentIndex

    class Doc(BaseDoc):
        title: str
        n: int = 0
        emb: NdArray[4]

    index = QdrantDocumentIndex[Doc](path=sys.argv[1], batch_size=50)
    rng = np.random.default_rng(0)
    for b in range(10_000):
        batch = [Doc(id=f"b{b}-{i}", title=f"t{i}", n=b, emb=rng.standard_normal(4))
                 for i in range(200)]
        index.index(batch)
        print(f"ACK {b}", flush=True)
    """
)


def test_killed_writer_keeps_every_acknowledged_batch(shm_dir):
    path = str(shm_dir / "crash")
    proc = subprocess.Popen(
        [sys.executable, "-c", _WRITER, path],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    acked = -1
    deadline = time.monotonic() + 60
    try:
        while acked < 4 and time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            if line.startswith("ACK"):
                acked = int(line.split()[1])
        time.sleep(0.05)  # let it get into the middle of the next batch
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    for line in proc.stdout:
        if line.startswith("ACK"):
            acked = int(line.split()[1])
    assert acked >= 4, "the writer did not acknowledge enough batches in time"
    index = QdrantDocumentIndex[Doc](path=path)
    try:
        for b in range(acked + 1):
            ids = [f"b{b}-{i}" for i in range(200)]
            assert len(index[ids]) == 200
            assert len(index.filter({"n": b}, limit=1000)) == 200
        # the batch in flight at the kill may be partly there, nothing after it
        assert 200 * (acked + 1) <= index.num_docs() <= 200 * (acked + 2)
        assert len(index.find(np.ones(4), search_field="emb", limit=5).documents) == 5
    finally:
        index.close()


# ------------------------------------------------------------------ text search


class Text(BaseDoc):
    text: str
    n: int = 0


def test_text_search_in_qdrant_on_request():
    texts = ["red fox", "red red wine", "blue whale", "green apple", "red apple"]
    items = [Text(id=f"x{i}", text=t, n=i) for i, t in enumerate(texts)]
    native = QdrantDocumentIndex[Text](location=":memory:", text_scoring="qdrant")
    native.index(items)
    ours = QdrantDocumentIndex[Text](location=":memory:")
    ours.index(items)
    found, scores = native.text_search("red", search_field="text", limit=10)
    assert found.id == ["x1", "x0", "x4"]  # Qdrant's BM25: the same matches, its own scores
    assert sorted(found.id) == sorted(ours.text_search("red", search_field="text").documents.id)
    assert (np.diff(scores) <= 0).all() and (scores > 0).all()
    query = native.build_query().text_search("apple red", search_field="text")
    assert sorted(native.execute_query(query.filter({"n": {"$gte": 3}}).build()).documents.id) == [
        "x3",
        "x4",
    ]
    assert len(native.text_search("  ", search_field="text").documents) == 0
    native.index(Text(id="x0", text="zebra"))
    assert native.text_search("zebra", search_field="text").documents.id == ["x0"]
    with pytest.raises(ValueError, match="text_scoring"):
        QdrantDocumentIndex[Text](location=":memory:", text_scoring="lucene")

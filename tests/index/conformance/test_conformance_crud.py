"""Writes and reads: upsert by id, get, contains, delete, update; the same on every backend."""

from __future__ import annotations

from typing import Optional

import numpy as np
import pytest

from docstack import BaseDoc, DocList
from docstack.errors import DocTypeError
from docstack.typing import NdArray


class Thumb(BaseDoc):
    url: str
    vec: NdArray[3]


class Doc(BaseDoc):
    title: str
    n: int
    price: Optional[float] = None
    flag: bool = False
    tags: list[str] = []
    meta: dict = {}
    blob: Optional[bytes] = None
    image: Optional[NdArray[2, 2]] = None
    thumb: Optional[Thumb] = None
    emb: NdArray[4]


def make_docs(count: int = 6) -> list[Doc]:
    rng = np.random.default_rng(0)
    return [
        Doc(
            id=f"d{i}",
            title=f"title {i}",
            n=i,
            price=None if i % 3 == 0 else i * 1.5,
            flag=i % 2 == 0,
            tags=[f"t{i}", "all"],
            meta={"i": i, "nested": {"x": [i]}},
            blob=None if i % 2 else bytes([i, 255]),
            image=None if i % 2 else np.arange(4.0).reshape(2, 2) + i,
            thumb=None if i == 1 else Thumb(id=f"th{i}", url=f"u{i}", vec=[i, 1, 0]),
            emb=rng.standard_normal(4),
        )
        for i in range(count)
    ]


def test_index_and_get_round_trip_every_field(make_index):
    index = make_index(Doc)
    docs = make_docs()
    index.index(DocList[Doc](docs))
    assert index.num_docs() == len(index) == 6
    for doc in docs:
        got = index[doc.id]
        assert got == doc
        assert got.id == doc.id
        assert got.thumb is None if doc.thumb is None else got.thumb.id == doc.thumb.id
        assert type(got.blob) is type(doc.blob)
    many = index[["d3", "d0"]]
    assert isinstance(many, DocList)
    assert many.id == ["d3", "d0"]


def test_index_accepts_a_single_doc_a_list_and_a_doc_vec(make_index):
    index = make_index(Doc)
    docs = make_docs()
    index.index(docs[0])
    index.index(docs[1:3])
    index.index(DocList[Doc](docs[3:]).to_doc_vec())
    assert index.num_docs() == 6
    assert index["d4"] == docs[4]


def test_index_is_an_upsert_and_find_sees_the_new_version(make_index):
    index = make_index(Doc)
    docs = make_docs()
    index.index(docs)
    new = docs[2].model_copy(update={"title": "replaced", "emb": np.array([9.0, 0, 0, 0])})
    index.index(new)
    assert index.num_docs() == 6
    assert index["d2"].title == "replaced"
    found, scores = index.find(np.array([1.0, 0, 0, 0]), search_field="emb", limit=1)
    assert found.id == ["d2"]
    assert scores[0] == pytest.approx(1.0, abs=1e-6)
    assert index.filter({"title": "title 2"}).id == []


def test_contains(make_index):
    index = make_index(Doc)
    docs = make_docs()
    index.index(docs)
    assert "d1" in index
    assert docs[1] in index
    assert "nope" not in index
    assert 5 not in index


def test_missing_ids_raise_key_error_naming_them(make_index):
    index = make_index(Doc)
    index.index(make_docs())
    with pytest.raises(KeyError, match="nope"):
        index["nope"]
    with pytest.raises(KeyError, match="x1") as info:
        index[["d1", "x1", "x2"]]
    assert "x2" in str(info.value)


def test_delete_by_id_and_ids(make_index):
    index = make_index(Doc)
    index.index(make_docs())
    del index["d0"]
    assert "d0" not in index
    del index[["d1", "d2"]]
    assert index.num_docs() == 3
    with pytest.raises(KeyError, match="d0"):
        del index["d0"]
    found, _ = index.find(np.ones(4), search_field="emb", limit=10)
    assert sorted(found.id) == ["d3", "d4", "d5"]


def test_delete_with_missing_id_deletes_nothing(make_index):
    index = make_index(Doc)
    index.index(make_docs())
    with pytest.raises(KeyError, match="zz"):
        del index[["d1", "zz"]]
    assert index.num_docs() == 6
    assert "d1" in index


def test_delete_by_filter(make_index):
    index = make_index(Doc)
    index.index(make_docs())
    assert index.delete(filter={"n": {"$gte": 4}}) == 2
    assert index.num_docs() == 4
    assert index.delete(filter={"n": {"$gte": 4}}) == 0
    assert index.delete(ids=["d0"]) == 1
    with pytest.raises(ValueError):
        index.delete()


def test_update_scalar_fields(make_index):
    index = make_index(Doc)
    index.index(make_docs())
    index.update("d1", title="new title", n=100, thumb__url="changed")
    got = index["d1"]
    assert (got.title, got.n) == ("new title", 100)
    assert index.filter({"n": 100}).id == ["d1"]
    index.update("d2", thumb__url="changed")
    assert index["d2"].thumb.url == "changed"
    index.update("d2", price=None)
    assert index["d2"].price is None


def test_update_errors_leave_the_document_unchanged(make_index):
    index = make_index(Doc)
    index.index(make_docs())
    before = index["d1"]
    with pytest.raises(KeyError, match="nope"):
        index.update("nope", title="x")
    with pytest.raises(ValueError, match="emb"):
        index.update("d1", emb=[1, 2, 3, 4])
    with pytest.raises(DocTypeError, match="n"):
        index.update("d1", n="not a number")
    with pytest.raises(DocTypeError, match="title"):
        index.update("d1", title=None)
    with pytest.raises(ValueError):
        index.update("d1")
    assert index["d1"] == before


def test_empty_index_answers_every_read(make_index):
    index = make_index(Doc)
    assert index.num_docs() == 0
    found, scores = index.find(np.ones(4), search_field="emb")
    assert len(found) == 0 and len(scores) == 0
    assert len(index.filter({"n": 1})) == 0
    assert len(index.text_search("title", search_field="title").documents) == 0
    index.index([])
    assert index.num_docs() == 0


def test_documents_returned_are_independent_copies(make_index):
    index = make_index(Doc)
    docs = make_docs()
    index.index(docs)
    docs[0].title = "changed after indexing"
    got = index["d0"]
    assert got.title == "title 0"
    got.title = "changed the result"
    assert index["d0"].title == "title 0"


def test_index_without_doc_type_is_a_clear_error(backend):
    from docstack.index import HnswDocumentIndex, InMemoryExactNNIndex

    cls = InMemoryExactNNIndex if backend == "in_memory" else HnswDocumentIndex
    with pytest.raises(TypeError, match=r"\[MyDoc\]"):
        cls()

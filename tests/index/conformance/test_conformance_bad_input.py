"""Bad input gets a clear error and leaves the index as it was."""

from __future__ import annotations

from typing import Optional

import numpy as np
import pytest

from docstack import BaseDoc, DocList
from docstack.errors import DocTypeError, ShapeError
from docstack.typing import NdArray


class Doc(BaseDoc):
    title: str
    n: int = 0
    emb: NdArray[4]
    opt: Optional[NdArray[2]] = None


class Other(BaseDoc):
    """Not indexable as a Doc: it has a field Doc lacks (it would be lost)."""

    title: str
    emb: NdArray[4]
    price: int = 0


class WrongValues(BaseDoc):
    """Its fields are Doc's, but a value does not validate as Doc's type."""

    title: str
    emb: NdArray[3]


class Loose(BaseDoc):
    title: str = ""
    emb: NdArray


def snapshot(index):
    docs = index.filter({}, limit=1000)
    return sorted((d.id, d.title, tuple(d.emb.tolist())) for d in docs)


@pytest.fixture
def loaded(make_index):
    index = make_index(Doc)
    index.index([Doc(id=f"d{i}", title=f"t{i}", n=i, emb=np.eye(4)[i]) for i in range(4)])
    return index


def test_wrong_dimension_through_unvalidated_doc_names_field_and_document(loaded):
    before = snapshot(loaded)
    bad = Doc.model_construct(id="bad", title="x", n=1, emb=np.ones(3), opt=None)
    good = Doc(id="d0", title="changed", emb=np.ones(4))
    with pytest.raises(ShapeError, match="emb") as info:
        loaded.index([good, bad])
    assert "bad" in str(info.value)
    assert snapshot(loaded) == before


def test_nan_vector(loaded):
    before = snapshot(loaded)
    with pytest.raises(ValueError, match="NaN") as info:
        loaded.index(
            [
                Doc(id="d1", title="new", emb=np.ones(4)),
                Doc(id="nan", title="x", emb=[np.nan, 0, 0, 0]),
            ]
        )
    assert "nan" in str(info.value) and "emb" in str(info.value)
    assert snapshot(loaded) == before


def test_infinite_vector(loaded):
    with pytest.raises(ValueError, match="infinity"):
        loaded.index(Doc(title="x", emb=[np.inf, 0, 0, 0]))


def test_document_of_another_schema(loaded):
    before = snapshot(loaded)
    with pytest.raises(DocTypeError, match="Other") as info:
        loaded.index(
            [Doc(id="ok", title="ok", emb=np.ones(4)), Other(id="o1", title="x", emb=np.ones(4))]
        )
    assert "o1" in str(info.value) and "Doc" in str(info.value)
    assert "price" in str(info.value)
    assert snapshot(loaded) == before


def test_document_of_another_class_whose_values_do_not_fit(loaded):
    before = snapshot(loaded)
    with pytest.raises(DocTypeError, match="WrongValues") as info:
        loaded.index(
            [
                Doc(id="ok", title="ok", emb=np.ones(4)),
                WrongValues(id="w1", title="x", emb=[1, 2, 3]),
            ]
        )
    assert "w1" in str(info.value) and "emb" in str(info.value)
    assert snapshot(loaded) == before


def test_not_documents(loaded):
    with pytest.raises(DocTypeError):
        loaded.index("hello")
    with pytest.raises(DocTypeError):
        loaded.index({"title": "x"})
    with pytest.raises(DocTypeError):
        loaded.index(42)


def test_duplicate_ids_in_one_call(loaded):
    before = snapshot(loaded)
    with pytest.raises(ValueError, match="dup"):
        loaded.index(
            [Doc(id="dup", title="a", emb=np.ones(4)), Doc(id="dup", title="b", emb=np.ones(4))]
        )
    assert snapshot(loaded) == before


def test_int_beyond_64_bits(loaded):
    before = snapshot(loaded)
    with pytest.raises(ValueError, match="64 bits"):
        loaded.index(Doc(id="big", title="x", n=2**70, emb=np.ones(4)))
    assert snapshot(loaded) == before


def test_query_errors(loaded):
    with pytest.raises(ShapeError, match="dimension 3"):
        loaded.find(np.ones(3), search_field="emb")
    with pytest.raises(ValueError, match="NaN"):
        loaded.find(np.array([np.nan, 0, 0, 0]), search_field="emb")
    with pytest.raises(ValueError, match="find_batched"):
        loaded.find(np.ones((2, 4)), search_field="emb")
    with pytest.raises(TypeError):
        loaded.find("a string", search_field="emb")
    with pytest.raises(TypeError, match="limit"):
        loaded.find(np.ones(4), search_field="emb", limit=2.5)
    with pytest.raises(ValueError, match="limit"):
        loaded.find(np.ones(4), search_field="emb", limit=-1)
    with pytest.raises(TypeError):
        loaded.text_search(["a"], search_field="title")
    # a 1-row batch is a single query
    assert loaded.find(np.ones((1, 4)), search_field="emb", limit=1).documents.id


def test_optional_vector_may_be_missing(make_index):
    index = make_index(Doc)
    index.index(
        [Doc(id="a", title="a", emb=np.ones(4)), Doc(id="b", title="b", emb=np.ones(4), opt=[1, 0])]
    )
    found, _ = index.find(np.array([1.0, 0.0]), search_field="opt", limit=5)
    assert found.id == ["b"]
    assert index["a"].opt is None


def test_dimension_learnt_from_the_first_write(make_index):
    index = make_index(Loose)
    assert len(index.find(np.ones(3), search_field="emb").documents) == 0
    index.index([Loose(id="a", emb=[1.0, 0, 0]), Loose(id="b", emb=[0.0, 1, 0])])
    assert index.find(np.array([0.0, 1, 0]), search_field="emb", limit=1).documents.id == ["b"]
    with pytest.raises(ShapeError, match="emb"):
        index.index(Loose(id="c", emb=[1.0, 2.0]))
    with pytest.raises(ShapeError):
        index.find(np.ones(2), search_field="emb")
    assert index.num_docs() == 2


def test_ragged_vectors_in_one_batch(make_index):
    index = make_index(Loose)
    with pytest.raises(ShapeError, match="emb"):
        index.index([Loose(id="a", emb=[1.0, 0, 0]), Loose(id="b", emb=[0.0, 1])])
    assert index.num_docs() == 0


def test_list_of_mixed_docs_in_a_doc_list(make_index):
    index = make_index(Doc)
    docs = DocList[Doc]([Doc(title="x", emb=np.ones(4))])
    index.index(docs)
    assert index.num_docs() == 1

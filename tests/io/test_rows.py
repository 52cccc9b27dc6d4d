"""Tests of ``to_list``/``from_list``: documents as plain dicts and back, for ``DocList``
and ``DocVec``, and rows that do not validate."""

from typing import Any, Optional

import numpy as np
import pytest
import torch

from docstack import BaseDoc, DocList, DocVec
from docstack.base_doc import AnyDoc
from docstack.errors import DeserializationError, SchemaMismatchError
from docstack.typing import AnyTensor, JaxArray, NdArray, TorchTensor


class Leaf(BaseDoc):
    x: NdArray[2]
    label: str = ""


class Mid(BaseDoc):
    leaf: Optional[Leaf] = None


class Doc(BaseDoc):
    title: str
    emb: NdArray[3]
    opt: Optional[NdArray[2]] = None
    t: Optional[TorchTensor] = None
    a: Optional[AnyTensor] = None
    mid: Optional[Mid] = None
    chunks: Optional[DocList[Leaf]] = DocList[Leaf]()
    meta: dict[str, Any] = {}
    big: int = 0


def make_docs() -> DocList[Doc]:
    return DocList[Doc](
        [
            Doc(
                title="a",
                emb=np.arange(3, dtype=np.float32),
                opt=[1, 2],
                t=torch.ones(2),
                a=torch.zeros(2),
                mid=Mid(leaf=Leaf(x=[1, 2], label="deep")),
                chunks=[Leaf(x=[3, 4])],
                meta={"k": 1},
                big=2**70,
            ),
            Doc(title="b", emb=np.ones(3, np.float32), mid=Mid(), chunks=None),
            Doc(title="c", emb=np.zeros(3, np.float32), chunks=[]),
        ]
    )


def test_rows_are_plain_dicts_with_tensors_kept():
    docs = make_docs()
    rows = docs.to_list()
    assert [type(r) for r in rows] == [dict, dict, dict]
    first = rows[0]
    assert list(first) == list(Doc.model_fields)
    assert first["id"] == docs[0].id and first["title"] == "a"
    assert first["emb"] is docs[0].emb  # the document's own tensor
    assert isinstance(first["t"], torch.Tensor)
    assert first["mid"] == {
        "id": docs[0].mid.id,
        "leaf": {"id": docs[0].mid.leaf.id, "x": docs[0].mid.leaf.x, "label": "deep"},
    }
    assert type(first["chunks"]) is list and type(first["chunks"][0]) is dict
    assert first["chunks"][0]["x"].tolist() == [3, 4]
    assert rows[1]["mid"] == {"id": docs[1].mid.id, "leaf": None}
    assert rows[2]["mid"] is None and rows[1]["chunks"] is None and rows[2]["chunks"] == []
    assert first["meta"] == {"k": 1} and first["big"] == 2**70


def test_doc_vec_rows_are_views_of_its_columns():
    docs = make_docs()
    vec = DocVec[Doc](docs)
    rows = vec.to_list()
    assert np.shares_memory(rows[1]["emb"], vec.emb)
    assert rows[1]["opt"] is None and rows[0]["opt"].tolist() == [1, 2]
    assert rows[0]["mid"]["leaf"]["label"] == "deep" and rows[2]["mid"] is None
    assert rows[0]["chunks"][0]["x"].tolist() == [3, 4] and rows[1]["chunks"] is None
    assert [r["id"] for r in rows] == [d.id for d in docs]


def test_round_trip():
    docs = make_docs()
    back = DocList[Doc].from_list(docs.to_list())
    assert type(back) is DocList[Doc]
    assert back == docs and back.id == docs.id
    assert back[0].mid.leaf.id == docs[0].mid.leaf.id
    assert isinstance(back[0].a, torch.Tensor)
    vec = DocVec[Doc](docs, tensor_type=TorchTensor)
    back_vec = DocVec[Doc].from_list(vec.to_list())
    assert type(back_vec) is DocVec[Doc] and back_vec == vec
    assert back_vec.tensor_type is TorchTensor
    assert DocVec[Doc].from_list(vec.to_list(), tensor_type=JaxArray).tensor_type is JaxArray
    assert DocVec[Doc].from_list(DocVec[Doc](docs).to_list()).tensor_type.__name__ == "NdArray"


def test_from_list_takes_any_iterable_and_documents():
    docs = make_docs()
    back = DocList[Doc].from_list(iter([docs[0], {"title": "x", "emb": [1, 2, 3]}]))
    assert back[0] is docs[0]
    assert back[1].title == "x" and back[1].emb.tolist() == [1, 2, 3]
    assert len(DocList[Doc].from_list([])) == 0 and len(DocVec[Doc].from_list([])) == 0


def test_row_that_is_not_a_dict():
    with pytest.raises(DeserializationError, match="row 1 is a list"):
        DocList[Doc].from_list([{"title": "a", "emb": [1, 2, 3]}, ["a"]])


def test_invalid_rows_name_the_row_and_field():
    rows = [{"title": "a", "emb": [1, 2, 3]}, {"title": "b", "emb": [1, 2]}]
    with pytest.raises(SchemaMismatchError, match=r"row 1: field 'emb'.*\(3,\)"):
        DocList[Doc].from_list(rows)
    with pytest.raises(SchemaMismatchError, match=r"row 0: field 'title'"):
        DocVec[Doc].from_list([{"emb": [1, 2, 3]}])
    nested = [{"title": "a", "emb": [1, 2, 3], "mid": {"leaf": {"x": "no"}}}]
    with pytest.raises(SchemaMismatchError, match=r"row 0: field 'mid.leaf.x'"):
        DocList[Doc].from_list(nested)


def test_untyped_round_trip():
    docs = DocList([AnyDoc(a=1, v=np.ones(2)), AnyDoc(b="x", inner=AnyDoc(c=2))])
    rows = docs.to_list()
    assert rows[0] == {"id": docs[0].id, "a": 1, "v": docs[0].v}
    assert rows[1]["inner"] == {"id": docs[1].inner.id, "c": 2}
    back = DocList.from_list(rows)
    assert [d.id for d in back] == docs.id
    assert back[0].a == 1 and back[1].b == "x"
    np.testing.assert_array_equal(back[0].v, [1.0, 1.0])

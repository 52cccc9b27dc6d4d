"""Tests of ``to_dataframe``/``from_dataframe``: the flattened layout, round trips of
``DocList`` and ``DocVec``, missing values (``None``, ``NaN``), plain user DataFrames and bad
input."""

import math
from typing import Any, Optional

import jax.numpy as jnp
import numpy as np
import pandas as pd
import pytest
import torch

from docstack import BaseDoc, DocList, DocVec
from docstack._internal.equality import values_equal
from docstack.base_doc import AnyDoc
from docstack.documents import ImageDoc
from docstack.errors import DeserializationError, SchemaMismatchError
from docstack.typing import AnyTensor, ImageUrl, JaxArray, NdArray, TorchTensor


class Leaf(BaseDoc):
    x: NdArray[2]
    label: str = ""


class Mid(BaseDoc):
    leaf: Optional[Leaf] = None
    name: Optional[str] = None


class Doc(BaseDoc):
    title: str
    count: Optional[int] = None
    score: Optional[float] = None
    ratio: float = 0.0
    emb: NdArray[3]
    torch_t: Optional[TorchTensor] = None
    any_t: Optional[AnyTensor] = None
    mid: Optional[Mid] = None
    chunks: Optional[DocList[Leaf]] = DocList[Leaf]()
    tags: list[str] = []
    meta: dict[str, Any] = {}
    big: int = 0
    url: Optional[ImageUrl] = None
    blob: Optional[bytes] = None


def make_docs() -> DocList[Doc]:
    return DocList[Doc](
        [
            Doc(
                title="ünïcode ✓",
                count=3,
                score=float("nan"),
                ratio=float("inf"),
                emb=np.array([1, 2, 3], dtype=np.float32),
                torch_t=torch.ones(2, 2),
                any_t=torch.zeros(3, dtype=torch.float64),
                mid=Mid(leaf=Leaf(x=[1, 2], label="deep"), name="m"),
                chunks=[Leaf(x=[3, 4]), Leaf(x=[5, 6])],
                tags=["a"],
                meta={"k": [1, None]},
                big=2**70,
                url="https://example.com/a.png",
                blob=b"\x00\xff",
            ),
            Doc(title="", emb=np.zeros(3, np.float32), score=1.5, mid=Mid(), chunks=[]),
            Doc(title="third", emb=np.ones(3, np.float32), mid=None, chunks=None, any_t=[1, 2]),
        ]
    )


def same_docs(got, want):
    assert len(got) == len(want)
    for a, b in zip(got, want):
        assert a.id == b.id
        for name in type(b).model_fields:
            x, y = getattr(a, name), getattr(b, name)
            if isinstance(y, float) and math.isnan(y):
                assert isinstance(x, float) and math.isnan(x), name
            else:
                assert values_equal(x, y), name


def test_layout_flattens_nested_documents():
    docs = make_docs()
    df = docs.to_dataframe()
    assert list(df.columns) == [
        "id",
        "title",
        "count",
        "score",
        "ratio",
        "emb",
        "torch_t",
        "any_t",
        "mid__id",
        "mid__leaf__id",
        "mid__leaf__x",
        "mid__leaf__label",
        "mid__name",
        "chunks",
        "tags",
        "meta",
        "big",
        "url",
        "blob",
    ]
    assert df["id"].tolist() == [d.id for d in docs]
    assert df["mid__leaf__label"].tolist() == ["deep", None, None]
    assert df["mid__id"].tolist()[2] is None
    # one tensor object per cell, of the document's framework
    assert isinstance(df["emb"][0], np.ndarray) and df["emb"][0].dtype == np.float32
    assert isinstance(df["torch_t"][0], torch.Tensor)
    assert df["torch_t"][1] is None
    # a DocList per cell
    assert isinstance(df["chunks"][0], DocList) and len(df["chunks"][0]) == 2
    assert df["chunks"][2] is None
    # None stays None (not NaN) in a column of numbers
    assert df["count"].tolist() == [3, None, None]


def test_doc_list_round_trip():
    docs = make_docs()
    back = DocList[Doc].from_dataframe(docs.to_dataframe())
    assert type(back) is DocList[Doc]
    same_docs(back, docs)
    assert math.isnan(back[0].score) and back[2].score is None
    assert back[0].mid.leaf.id == docs[0].mid.leaf.id
    assert back[1].mid.leaf is None and back[2].mid is None
    assert isinstance(back[0].any_t, torch.Tensor) and back[0].any_t.dtype == torch.float64
    assert back[0].big == 2**70 and back[0].blob == b"\x00\xff"


def test_doc_vec_round_trip_keeps_tensor_type():
    docs = make_docs()
    for tensor_type in (None, TorchTensor, JaxArray):
        vec = DocVec[Doc](docs, tensor_type=tensor_type)
        df = vec.to_dataframe()
        back = DocVec[Doc].from_dataframe(df)
        assert type(back) is DocVec[Doc]
        assert back.tensor_type is vec.tensor_type
        same_docs(back, docs)
    vec = DocVec[Doc](docs)
    assert DocVec[Doc].from_dataframe(vec.to_dataframe(), tensor_type=TorchTensor).tensor_type is (
        TorchTensor
    )


def test_doc_vec_cells_are_rows_of_its_columns():
    docs = make_docs()
    vec = DocVec[Doc](docs)
    df = vec.to_dataframe()
    column = vec.emb
    assert np.shares_memory(df["emb"][1], column)
    assert isinstance(df["chunks"][0], DocList)


def test_empty_arrays():
    df = DocList[Doc]().to_dataframe()
    assert len(df) == 0 and "emb" in df.columns
    assert len(DocList[Doc].from_dataframe(df)) == 0
    assert len(DocVec[Doc].from_dataframe(DocVec[Doc]([]).to_dataframe())) == 0


def test_dtypes_and_shapes_survive():
    class T(BaseDoc):
        t: Optional[NdArray] = None

    values = [
        np.array(3, np.int8),
        np.zeros((2, 0), np.float16),
        np.ones((2, 3, 1), np.uint8),
        np.array([True, False]),
    ]
    docs = DocList[T]([T(t=v) for v in values])
    back = DocList[T].from_dataframe(docs.to_dataframe())
    for got, want in zip(back, values):
        assert got.t.dtype == want.dtype and got.t.shape == want.shape


def test_jax_cells():
    class J(BaseDoc):
        j: JaxArray[2]

    docs = DocList[J]([J(j=jnp.ones(2)), J(j=jnp.zeros(2))])
    df = docs.to_dataframe()
    back = DocList[J].from_dataframe(df)
    assert isinstance(back[0].j, JaxArray) and back == docs


def test_ready_documents():
    docs = DocList[ImageDoc]([ImageDoc(url="https://example.com/a.png"), ImageDoc()])
    same_docs(DocList[ImageDoc].from_dataframe(docs.to_dataframe()), docs)


# -- plain user DataFrames ------------------------------------------------------------------


def test_plain_dataframe_with_nan_for_missing_values():
    df = pd.DataFrame(
        {
            "title": ["a", "b", "c"],
            "count": [1, np.nan, 3],  # pandas made this float64
            "score": [0.5, np.nan, None],
            "emb": [[1, 2, 3], np.arange(3.0), torch.ones(3)],
            "mid__name": ["x", np.nan, None],
            "mid__leaf__x": [[1, 2], None, np.nan],
            "url": ["https://example.com/a.png", np.nan, None],
        }
    )
    docs = DocList[Doc].from_dataframe(df)
    assert docs.get_column("count") == [1, None, 3]
    assert isinstance(docs[0].count, int)
    assert docs[1].score is None and docs[2].score is None  # NaN marks missing in float64
    assert docs[0].mid.name == "x" and docs[0].mid.leaf.x.tolist() == [1, 2]
    assert docs[1].mid is None and docs[2].mid is None  # every nested column is missing
    assert docs.url == ["https://example.com/a.png", None, None]
    assert docs[2].emb.tolist() == [1.0, 1.0, 1.0]
    assert len({d.id for d in docs}) == 3
    vec = DocVec[Doc].from_dataframe(df)
    assert vec.title == ["a", "b", "c"] and vec.emb.shape == (3, 3)


def test_pandas_string_and_nullable_dtypes():
    df = pd.DataFrame(
        {
            "title": pd.array(["a", "b"], dtype="string"),
            "count": pd.array([1, None], dtype="Int64"),
            "emb": [np.zeros(3), np.ones(3)],
            "mid__name": pd.array(["n", pd.NA], dtype="string"),
        }
    )
    docs = DocList[Doc].from_dataframe(df)
    assert docs.title == ["a", "b"]
    assert docs.get_column("count") == [1, None]
    assert docs[0].mid.name == "n" and docs[1].mid is None


def test_non_default_index_is_named_in_errors():
    df = pd.DataFrame({"title": ["ok", 5], "emb": [np.zeros(3)] * 2}, index=["first", "second"])
    with pytest.raises(SchemaMismatchError, match=r"column 'title', row 1 \(index 'second'\)"):
        DocList[Doc].from_dataframe(df)


def test_nan_in_a_required_field_is_an_error_naming_row_and_column():
    df = pd.DataFrame({"title": ["a", np.nan], "emb": [np.zeros(3)] * 2})
    with pytest.raises(SchemaMismatchError, match=r"column 'title', row 1"):
        DocList[Doc].from_dataframe(df)
    df = pd.DataFrame({"title": ["a", "b"], "emb": [np.zeros(3), None]})
    with pytest.raises(SchemaMismatchError, match=r"column 'emb', row 1"):
        DocVec[Doc].from_dataframe(df)


def test_bad_tensor_cell_names_row_and_column():
    df = pd.DataFrame({"title": ["a", "b"], "emb": [np.zeros(3), np.zeros(4)]})
    with pytest.raises(SchemaMismatchError, match=r"column 'emb', row 1.*\(3,\)"):
        DocList[Doc].from_dataframe(df)
    df = pd.DataFrame({"title": ["a"], "emb": [np.zeros(3)], "mid__leaf__x": [["x", "y"]]})
    with pytest.raises(SchemaMismatchError, match=r"column 'mid__leaf__x', row 0"):
        DocVec[Doc].from_dataframe(df)


def test_bad_nested_row_is_named_by_its_original_row():
    df = pd.DataFrame(
        {
            "title": ["a", "b", "c"],
            "emb": [np.zeros(3)] * 3,
            "mid__name": [None, "m", "n"],
            "mid__leaf__x": [None, None, [1, 2]],
            "mid__leaf__label": [None, None, 7],
        }
    )
    with pytest.raises(SchemaMismatchError, match=r"column 'mid__leaf__label', row 2"):
        DocList[Doc].from_dataframe(df)


def test_unknown_missing_and_duplicate_columns():
    base = {"title": ["a"], "emb": [np.zeros(3)]}
    with pytest.raises(SchemaMismatchError, match="'colour'"):
        DocList[Doc].from_dataframe(pd.DataFrame({**base, "colour": ["red"]}))
    with pytest.raises(SchemaMismatchError, match="'mid__nmae'"):
        DocList[Doc].from_dataframe(pd.DataFrame({**base, "mid__nmae": ["x"]}))
    with pytest.raises(SchemaMismatchError, match="'title__x'"):
        DocList[Doc].from_dataframe(pd.DataFrame({**base, "title__x": ["x"]}))
    with pytest.raises(SchemaMismatchError, match="'emb'"):
        DocList[Doc].from_dataframe(pd.DataFrame({"title": ["a"]}))
    dup = pd.DataFrame([["a", "b"]], columns=["title", "title"])
    with pytest.raises(SchemaMismatchError, match="duplicate"):
        DocList[Doc].from_dataframe(dup)
    both = pd.DataFrame({**base, "mid": [Mid()], "mid__name": ["x"]})
    with pytest.raises(SchemaMismatchError, match="'mid'"):
        DocList[Doc].from_dataframe(both)


def test_whole_nested_document_column():
    df = pd.DataFrame({"title": ["a", "b"], "emb": [np.zeros(3)] * 2, "mid": [Mid(name="m"), None]})
    docs = DocList[Doc].from_dataframe(df)
    assert docs[0].mid.name == "m" and docs[1].mid is None


def test_not_a_dataframe():
    with pytest.raises(DeserializationError, match="DataFrame"):
        DocList[Doc].from_dataframe({"title": ["a"]})


def test_untyped_round_trip():
    docs = DocList([AnyDoc(a=1, v=np.ones(2), name=None), AnyDoc(a=2, v=torch.zeros(2), name="x")])
    df = docs.to_dataframe()
    assert list(df.columns) == ["id", "a", "v", "name"]
    back = DocList.from_dataframe(df)
    assert list(back) == list(docs) and back.id == docs.id
    assert isinstance(back[1].v, torch.Tensor)


def test_unknown_column_names_the_mismatch_and_the_fields():
    import pandas as pd

    from docstack.errors import SchemaMismatchError

    class Count(BaseDoc):
        count: int

    df = pd.DataFrame({"count": [1], "title": ["t"]})
    with pytest.raises(
        SchemaMismatchError,
        match=r"Column names do not match the schema of Count: column\(s\) 'title'",
    ):
        DocList[Count].from_dataframe(df)

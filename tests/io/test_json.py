"""Tests of the JSON codec: ``to_json``/``from_json`` of documents, ``DocList`` and ``DocVec``.

Round trips over every kind of field, the same text from a DocList and a DocVec, the text
pydantic writes, non-finite floats, dtypes and frameworks after a round trip, and clear
errors for bad input.
"""

import datetime
import doctest
import enum
import json
import math
from typing import Any, Optional

import jax.numpy as jnp
import numpy as np
import pytest
import tensorflow as tf
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from io_strategies import doc_arrays
from pydantic import ValidationError, computed_field, field_serializer, field_validator

from docstack import BaseDoc, DocList, DocVec
from docstack._internal.equality import values_equal
from docstack.array import _io_methods as array_io_methods
from docstack.base_doc import AnyDoc
from docstack.base_doc import _io_methods as doc_io_methods
from docstack.documents import TextDoc
from docstack.errors import DeserializationError, SchemaMismatchError, SerializationError
from docstack.typing import (
    AnyTensor,
    ImageBytes,
    ImageNdArray,
    ImageUrl,
    JaxArray,
    NdArray,
    TensorFlowTensor,
    TorchTensor,
)

# -- schemas --------------------------------------------------------------------------------


class Color(enum.Enum):
    red = "red"
    blue = "blue"


class Chunk(BaseDoc):
    text: str
    vec: Optional[NdArray[2]] = None


class Inner(BaseDoc):
    t: Optional[NdArray[3]] = None
    note: str = ""


class Deep(BaseDoc):
    inner: Optional[Inner] = None
    label: str = "deep"


class Rich(BaseDoc):
    s: str = ""
    n: int = 0
    f: float = 0.0
    b: bool = False
    raw: Optional[bytes] = None
    img: Optional[ImageBytes] = None
    url: Optional[ImageUrl] = None
    when: Optional[datetime.datetime] = None
    color: Optional[Color] = None
    meta: dict[str, Any] = {}
    tags: list[str] = []
    f16: Optional[NdArray] = None
    i8: Optional[NdArray] = None
    u64: Optional[NdArray] = None
    flag: Optional[NdArray] = None
    scalar: Optional[NdArray] = None
    empty: Optional[NdArray] = None
    matrix: Optional[NdArray["a", "b"]] = None  # noqa: F821
    torch_t: Optional[TorchTensor] = None
    jax_t: Optional[JaxArray] = None
    tf_t: Optional[TensorFlowTensor] = None
    any_t: Optional[AnyTensor] = None
    image: Optional[ImageNdArray] = None
    inner: Optional[Inner] = None
    deep: Optional[Deep] = None
    chunks: DocList[Chunk] = DocList[Chunk]()
    big: Optional[int] = None


def make_rich(i: int) -> Rich:
    return Rich(
        s=f'héllo ✓ 😀 {i} "q" \\ \n\t',
        n=-i,
        f=i / 3,
        b=bool(i % 2),
        raw=bytes([i, 255, 0, 251]),
        img=b"\xfb\xff\xfe",
        url="https://example.com/a.png",
        when=datetime.datetime(2024, 1, 2, 3, 4, 5),
        color=Color.red if i % 2 else Color.blue,
        meta={"a": [1, 2.5, None], "b": {"c": "d"}},
        tags=["x", "y"][: i % 3],
        f16=np.array([0.1, 2, -3.5], np.float16),
        i8=np.array([-128, 4, 127], np.int8),
        u64=np.array([2**64 - 1, 0], np.uint64),
        flag=np.array([True, False]),
        scalar=np.array(1.5 + i, np.float32),
        empty=np.zeros((2, 0), np.float32),
        matrix=np.arange(6, dtype=np.int32).reshape(2, 3) + i,
        torch_t=torch.arange(3, dtype=torch.float32) / 3,
        jax_t=jnp.arange(2.0) / 3,
        tf_t=tf.constant([[1.5, 2.0]]),
        any_t=torch.ones(2) / 7,
        image=np.full((2, 2, 3), i, np.uint8),
        inner=Inner(t=[1.0, 2.0, 3.0 + i]) if i % 2 else None,
        deep=Deep(inner=Inner(t=None, note="n")) if i % 3 else Deep(),
        chunks=[Chunk(text=f"c{j}", vec=[0.5, 1 / 3] if j % 2 else None) for j in range(i)],
        big=2**63 - 1 if i % 2 else -(2**63),
    )


def pydantic_text(docs: Any) -> str:
    """The JSON array pydantic writes for these documents."""
    return "[" + ",".join(d.model_dump_json() for d in docs) + "]"


def ids(docs: Any) -> list[str]:
    return [d.id for d in docs]


class Vec(BaseDoc):
    text: str
    embedding: NdArray[4]


def vec_docs(n: int = 3, dtype: Any = np.float32) -> DocList[Vec]:
    rng = np.random.default_rng(0)
    return DocList[Vec](
        [Vec(text=f"doc {i}", embedding=rng.random(4).astype(dtype)) for i in range(n)]
    )


# -- round trips ----------------------------------------------------------------------------


def test_doc_list_round_trip_keeps_values_and_ids():
    docs = vec_docs(5)
    back = DocList[Vec].from_json(docs.to_json())
    assert type(back) is DocList[Vec]
    assert back == docs
    assert ids(back) == ids(docs)


def test_doc_vec_round_trip_gives_doc_vec():
    dv = vec_docs(5).to_doc_vec()
    back = DocVec[Vec].from_json(dv.to_json())
    assert type(back) is DocVec[Vec]
    assert back == dv
    assert ids(back) == ids(dv)
    assert back.embedding.shape == (5, 4)


def test_single_doc_round_trip():
    doc = make_rich(3)
    back = Rich.from_json(doc.to_json())
    assert back == doc
    assert back.id == doc.id


def test_rich_doc_list_round_trip_every_field():
    docs = DocList[Rich]([make_rich(i) for i in range(5)])
    back = DocList[Rich].from_json(docs.to_json())
    assert ids(back) == ids(docs)
    for a, b in zip(back, docs):
        for name in Rich.model_fields:
            assert values_equal(getattr(a, name), getattr(b, name)), name
    assert back == docs


def test_rich_doc_vec_round_trip():
    docs = DocList[Rich]([make_rich(i) for i in range(5)])
    dv = DocVec[Rich](docs)
    back = DocVec[Rich].from_json(dv.to_json())
    assert back == dv
    assert ids(back) == ids(dv)


def test_to_json_is_the_text_pydantic_writes():
    docs = DocList[Rich]([make_rich(i) for i in range(4)])
    assert docs.to_json() == pydantic_text(docs)
    for doc in docs:
        assert doc.to_json() == doc.model_dump_json()


def test_textdoc_json_matches_docstring():
    assert TextDoc(text="hi", id="1").to_json() == (
        '{"id":"1","text":"hi","url":null,"embedding":null,"bytes_":null}'
    )


def test_unicode_and_escapes_survive():
    doc = TextDoc(text='a "quoted" \\ back\nslash \u2603 \U0001f600 \x00 end')
    assert TextDoc.from_json(doc.to_json()).text == doc.text
    assert json.loads(doc.to_json())["text"] == doc.text


def test_optional_none_nested_and_empty_doclist():
    docs = DocList[Rich]([Rich(), Rich(inner=Inner(), chunks=[], deep=Deep(inner=None))])
    text = docs.to_json()
    assert json.loads(text)[0]["inner"] is None
    assert json.loads(text)[1]["inner"]["t"] is None
    assert json.loads(text)[1]["chunks"] == []
    back = DocList[Rich].from_json(text)
    assert back == docs
    assert back[0].inner is None and back[1].inner.t is None
    assert back[1].chunks == [] and type(back[1].chunks) is DocList[Chunk]


def test_nested_ids_survive():
    doc = Deep(inner=Inner(t=[1, 2, 3], id="inner-id"), id="outer-id")
    back = Deep.from_json(doc.to_json())
    assert (back.id, back.inner.id) == ("outer-id", "inner-id")


def test_empty_arrays():
    assert DocList[Vec]().to_json() == "[]"
    assert DocList[Vec].from_json("[]") == DocList[Vec]()
    dv = DocVec[Vec].from_json("[]")
    assert type(dv) is DocVec[Vec] and len(dv) == 0
    assert DocVec[Vec]([]).to_json() == "[]"


def test_bytes_data_input():
    docs = vec_docs(2)
    data = docs.to_json().encode()
    assert DocList[Vec].from_json(data) == docs
    assert DocList[Vec].from_json(bytearray(data)) == docs
    assert Vec.from_json(docs[0].to_json().encode()) == docs[0]


def test_big_ints_round_trip():
    class Big(BaseDoc):
        n: int
        m: Optional[int] = None

    docs = DocList[Big]([Big(n=2**70, m=-(2**80)), Big(n=1)])
    text = docs.to_json()
    assert "1180591620717411303424" in text
    assert text == pydantic_text(docs)
    assert DocList[Big].from_json(text) == docs
    assert DocVec[Big](docs).to_json() == text


def test_bytes_are_base64_and_round_trip():
    doc = Rich(raw=b"\xfb\xff\xfe\x00", img=b"\xfb\xff")
    data = json.loads(doc.to_json())
    assert data["raw"] == "-__-AA==" and data["img"] == "-_8="
    back = Rich.from_json(doc.to_json())
    assert back.raw == b"\xfb\xff\xfe\x00" and back.img == b"\xfb\xff"
    assert isinstance(back.img, ImageBytes)


def test_untyped_doc_list_reads_any_doc():
    docs = DocList([Chunk(text="a", vec=[1, 2], id="1"), Inner(t=[1, 2, 3], id="2")])
    text = docs.to_json()
    assert json.loads(text) == [
        {"id": "1", "text": "a", "vec": [1, 2]},
        {"id": "2", "t": [1, 2, 3], "note": ""},
    ]
    back = DocList.from_json(text)
    assert all(type(d) is AnyDoc for d in back)
    assert back[0].text == "a" and back[1].t == [1, 2, 3] and ids(back) == ["1", "2"]


def test_any_doc_with_tensor_extra():
    doc = AnyDoc(vec=np.array([1.5, 2.0], np.float32), title="t", id="x")
    assert json.loads(doc.to_json()) == {"id": "x", "vec": [1.5, 2.0], "title": "t"}
    assert AnyDoc.from_json(doc.to_json()).title == "t"


# -- DocList <-> DocVec -----------------------------------------------------------------------


def test_doc_list_and_doc_vec_write_the_same_text():
    docs = DocList[Rich]([make_rich(i) for i in range(6)])
    dv = DocVec[Rich](docs)
    assert dv.to_json() == docs.to_json()


def test_each_reads_the_others_json():
    docs = DocList[Rich]([make_rich(i) for i in range(4)])
    dv = DocVec[Rich](docs)
    assert DocVec[Rich].from_json(docs.to_json()) == dv
    assert DocList[Rich].from_json(dv.to_json()) == docs


def test_doc_vec_slices_and_views_write_like_doc_lists():
    docs = DocList[Rich]([make_rich(i) for i in range(6)])
    dv = DocVec[Rich](docs)
    assert dv[1:4].to_json() == docs[1:4].to_json()
    assert dv[::-2].to_json() == docs[::-2].to_json()
    assert dv[[4, 0]].to_json() == docs[[4, 0]].to_json()
    assert dv[2].to_json() == docs[2].to_json()


def test_doc_vec_optional_tensor_column_with_none():
    class D(BaseDoc):
        v: Optional[NdArray[2]] = None

    docs = DocList[D]([D(v=[1.0, 2.0]), D(), D(v=[3.0, 4.0])])
    dv = DocVec[D](docs)
    assert dv.get_tensor_column("v")[1].tolist() == [True, False, True]
    assert [row["v"] for row in json.loads(dv.to_json())] == [[1.0, 2.0], None, [3.0, 4.0]]
    assert dv.to_json() == docs.to_json()
    back = DocVec[D].from_json(dv.to_json())
    assert back[1].v is None and back == dv


def test_doc_vec_all_none_and_ragged_tensor_columns():
    class D(BaseDoc):
        v: Optional[NdArray] = None
        w: Optional[NdArray] = None

    docs = DocList[D]([D(w=np.zeros(2)), D(w=np.ones(3))])
    dv = DocVec[D](docs)
    assert dv.to_json() == docs.to_json()
    back = DocVec[D].from_json(dv.to_json())
    assert back == dv
    assert back[1].w.shape == (3,)


def test_doc_vec_tensor_type_for_any_tensor_columns():
    class D(BaseDoc):
        t: AnyTensor[3]
        n: NdArray[3]

    docs = DocList[D]([D(t=[1.0, 2.0, 3.0], n=[1, 2, 3]) for _ in range(3)])
    text = docs.to_json()
    back = DocVec[D].from_json(text, tensor_type=TorchTensor)
    assert back.tensor_type is TorchTensor
    assert isinstance(back.t, torch.Tensor) and back.t.shape == (3, 3)
    assert isinstance(back.n, np.ndarray)
    assert back.to_json() == text


def test_doc_list_refuses_tensor_type():
    with pytest.raises(TypeError, match="DocVec"):
        DocList[Vec].from_json("[]", tensor_type=TorchTensor)


# -- tensors: dtype, framework, shape -----------------------------------------------------------


@pytest.mark.parametrize(
    ("dtype", "expected"),
    [
        (np.float16, np.float64),
        (np.float32, np.float64),
        (np.float64, np.float64),
        (np.int8, np.int64),
        (np.int16, np.int64),
        (np.int32, np.int64),
        (np.int64, np.int64),
        (np.uint8, np.int64),
        (np.bool_, np.bool_),
    ],
)
def test_dtype_after_round_trip_and_equal_values(dtype, expected):
    class D(BaseDoc):
        t: NdArray

    values = np.array([[0, 1, 1], [1, 0, 1]]).astype(dtype)
    if np.dtype(dtype).kind == "f":
        values = values / np.asarray(3, dtype)
    doc = D(t=values)
    back = D.from_json(doc.to_json())
    assert back.t.dtype == expected
    assert back.t.shape == (2, 3)
    # exact: float16/float32 values are written as the exact decimal of their value
    assert np.array_equal(back.t.astype(dtype), values)
    assert np.array_equal(back.t, values)
    assert back == doc


def test_float32_written_exactly():
    value = np.float32(0.1)
    doc = Vec(text="x", embedding=np.full(4, value, np.float32))
    data = json.loads(doc.to_json())
    assert data["embedding"][0] == float(value) == 0.10000000149011612


def test_extreme_ints_and_floats():
    class D(BaseDoc):
        u: NdArray
        i: NdArray
        f: NdArray

    doc = D(
        u=np.array([np.iinfo(np.uint64).max]),
        i=np.array([np.iinfo(np.int64).min, np.iinfo(np.int64).max]),
        f=np.array([5e-324, 1.7976931348623157e308, -0.0]),
    )
    back = D.from_json(doc.to_json())
    assert back.u.dtype == np.uint64 and back.u[0] == np.iinfo(np.uint64).max
    assert back.i.tolist() == doc.i.tolist()
    assert back.f.tolist() == doc.f.tolist()
    assert math.copysign(1.0, back.f[2]) == -1.0


@pytest.mark.parametrize(
    ("shape", "expected"),
    [((), ()), ((1,), (1,)), ((2, 3, 4), (2, 3, 4)), ((0,), (0,)), ((3, 0), (3, 0))],
)
def test_shapes_round_trip(shape, expected):
    class D(BaseDoc):
        t: NdArray

    doc = D(t=np.arange(int(np.prod(shape)), dtype=np.float64).reshape(shape))
    back = D.from_json(doc.to_json())
    assert back.t.shape == expected
    assert back == doc


def test_empty_inner_dimensions_are_not_recorded():
    # JSON '[]' has no inner dimension: a (0, 3) tensor reads back as shape (0,)
    class D(BaseDoc):
        t: NdArray

    assert D.from_json(D(t=np.zeros((0, 3))).to_json()).t.shape == (0,)


def test_non_contiguous_and_big_endian_tensors():
    class D(BaseDoc):
        t: NdArray

    base = np.arange(12, dtype=np.float64).reshape(3, 4)
    docs = DocList[D](
        [
            D(t=base[:, ::2]),
            D(t=base.T),
            D(t=np.arange(3, dtype=">f8")),
            D(t=np.arange(2, dtype=">i4")),
        ]
    )
    back = DocList[D].from_json(docs.to_json())
    assert back == docs
    assert docs.to_json() == pydantic_text(docs)


def test_framework_fields_come_back_in_their_framework():
    class D(BaseDoc):
        t: TorchTensor[3]
        j: JaxArray[3]
        f: TensorFlowTensor[3]
        a: AnyTensor[3]

    doc = D(
        t=torch.tensor([0.1, 0.2, 0.3]),
        j=jnp.array([0.1, 0.2, 0.3]),
        f=tf.constant([0.1, 0.2, 0.3]),
        a=torch.tensor([1.0, 2.0, 3.0]),
    )
    back = D.from_json(doc.to_json())
    assert isinstance(back.t, TorchTensor) and back.t.dtype == torch.float64
    assert isinstance(back.j, JaxArray) and back.j.dtype == jnp.float32
    assert isinstance(back.f, TensorFlowTensor) and back.f.dtype == tf.float64
    # JSON does not record the framework of an AnyTensor: it comes back as numpy
    assert isinstance(back.a, np.ndarray)
    assert back == doc
    dv = DocVec[D]([doc, doc])
    assert dv.to_json() == DocList[D]([doc, doc]).to_json()
    back_vec = DocVec[D].from_json(dv.to_json())
    assert isinstance(back_vec.t, TorchTensor) and isinstance(back_vec.j, JaxArray)
    assert back_vec == dv


def test_torch_bfloat16_and_gradients():
    class D(BaseDoc):
        t: TorchTensor

    doc = D(t=torch.tensor([1.5, 2.25], dtype=torch.bfloat16))
    assert D.from_json(doc.to_json()).t.tolist() == [1.5, 2.25]
    grad = D(t=torch.ones(2, requires_grad=True) * 2)
    assert D.from_json(grad.to_json()).t.tolist() == [2.0, 2.0]


def test_shape_is_checked_when_reading():
    class D(BaseDoc):
        t: NdArray[2, 2]

    assert D.from_json('{"t": [[1, 2], [3, 4]]}').t.shape == (2, 2)
    with pytest.raises(SchemaMismatchError, match=r"field 't'.*\(2, 2\)"):
        D.from_json('{"t": [1, 2, 3, 4]}')


# -- non-finite floats --------------------------------------------------------------------------


class Floats(BaseDoc):
    f: float = 0.0
    g: Optional[float] = None
    t: Optional[NdArray] = None
    d: dict[str, float] = {}


def test_nan_and_inf_are_written_as_constants_not_null():
    doc = Floats(
        f=float("nan"),
        g=float("-inf"),
        t=np.array([np.nan, np.inf, -np.inf, 1.0], np.float32),
        d={"x": float("inf")},
    )
    text = doc.to_json()
    assert '"f":NaN' in text and '"g":-Infinity' in text
    assert "[NaN,Infinity,-Infinity,1.0]" in text and '{"x":Infinity}' in text
    assert "null" not in text
    assert text == doc.model_dump_json()
    back = Floats.from_json(text)
    assert math.isnan(back.f) and back.g == float("-inf") and back.d == {"x": float("inf")}
    assert np.array_equal(back.t, doc.t, equal_nan=True)
    # Python's json module reads the constants too
    assert math.isnan(json.loads(text)["f"])


def test_nan_rows_in_columns():
    docs = DocList[Floats](
        [
            Floats(t=np.array([1.0, 2.0])),
            Floats(t=np.array([np.nan, 2.0]), f=float("nan")),
            Floats(t=np.array([3.0, np.inf])),
        ]
    )
    text = docs.to_json()
    assert text == pydantic_text(docs)
    assert DocVec[Floats](docs).to_json() == text
    back = DocVec[Floats].from_json(text)
    assert np.array_equal(
        back.t, np.array([[1.0, 2.0], [np.nan, 2.0], [3.0, np.inf]]), equal_nan=True
    )
    assert back.f[0] == 0.0 and math.isnan(back.f[1])


# -- classes pydantic must write or read --------------------------------------------------------


def test_custom_serializer_and_computed_field_are_honoured():
    class Custom(BaseDoc):
        name: str
        vec: NdArray[2]

        @field_serializer("name")
        def _upper(self, value: str) -> str:
            return value.upper()

        @computed_field
        @property
        def size(self) -> int:
            return 2

    docs = DocList[Custom]([Custom(name="a", vec=[1, 2]), Custom(name="b", vec=[3, 4])])
    text = docs.to_json()
    assert text == pydantic_text(docs)
    assert json.loads(text)[0] == {"id": docs[0].id, "name": "A", "vec": [1, 2], "size": 2}
    assert DocVec[Custom](docs).to_json() == text


def test_validators_run_when_reading():
    class Lower(BaseDoc):
        name: str

        @field_validator("name")
        @classmethod
        def _lower(cls, value: str) -> str:
            return value.lower()

    assert DocList[Lower].from_json('[{"name": "ABC"}]')[0].name == "abc"
    assert Lower.from_json('{"name": "XY"}').name == "xy"


def test_textdoc_shorthand_validator_and_subclass_docs():
    docs = DocList[TextDoc]([TextDoc("a"), TextDoc("b", embedding=np.ones(2))])
    back = DocVec[TextDoc].from_json(docs.to_json())
    assert back.text == ["a", "b"] and back[1].embedding.tolist() == [1.0, 1.0]

    class Sub(Chunk):
        extra: str = "x"

    # a DocList[Chunk] holding a subclass writes it as a Chunk, as pydantic does
    mixed = DocList[Chunk]([Sub(text="s"), Chunk(text="c")])
    assert mixed.to_json() == DocList[Chunk]([Chunk(text="s", id=mixed[0].id), mixed[1]]).to_json()
    assert "extra" not in mixed.to_json()


# -- bad input ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    ["", "[", '[{"text": "a"', "not json", '[{"text": "a",}]', b"\xff\xfe\x00", "[1, 2] x"],
)
def test_invalid_json_is_a_deserialization_error(data):
    with pytest.raises(DeserializationError, match="not valid JSON"):
        DocList[Vec].from_json(data)
    with pytest.raises(DeserializationError, match="not valid JSON"):
        DocVec[Vec].from_json(data)


def test_invalid_json_for_one_doc():
    with pytest.raises(DeserializationError, match="not valid JSON") as info:
        Vec.from_json('{"text": ')
    assert not isinstance(info.value, SchemaMismatchError)


@pytest.mark.parametrize(
    ("data", "got"),
    [('{"text": "a"}', "an object"), ('"docs"', "a string"), ("3", "a number"), ("null", "null")],
)
def test_array_reader_needs_a_json_array(data, got):
    with pytest.raises(
        DeserializationError, match=f"expects an array of document objects, got {got}"
    ):
        DocList[Vec].from_json(data)
    with pytest.raises(DeserializationError, match="expects an array"):
        DocVec[Vec].from_json(data)


@pytest.mark.parametrize(
    ("data", "got"), [("[]", "an array"), ('"x"', "a string"), ("1.5", "a number")]
)
def test_doc_reader_needs_a_json_object(data, got):
    with pytest.raises(DeserializationError, match=f"expects an object, got {got}"):
        Vec.from_json(data)


def test_document_that_is_not_an_object_is_named():
    data = '[{"text": "a", "embedding": [1, 2, 3, 4]}, "oops"]'
    with pytest.raises(SchemaMismatchError, match=r"document 1\b"):
        DocList[Vec].from_json(data)


def test_validation_error_names_document_index_and_field():
    rows = [{"text": f"d{i}", "embedding": [1.0, 2.0, 3.0, 4.0]} for i in range(4)]
    rows[2]["embedding"] = [1.0, 2.0, 3.0]
    data = json.dumps(rows)
    for cls in (DocList[Vec], DocVec[Vec]):
        with pytest.raises(SchemaMismatchError) as info:
            cls.from_json(data)
        message = str(info.value)
        assert "document 2, field 'embedding'" in message
        assert "expected shape (4,)" in message
        assert cls.__name__ in message
        assert isinstance(info.value.__cause__, ValidationError)


def test_missing_field_and_wrong_type_are_named():
    data = '[{"text": "a", "embedding": [1, 2, 3, 4]}, {"embedding": [1, 2, 3, 4]}, {"text": 5, "embedding": [1,2,3,4]}]'
    with pytest.raises(SchemaMismatchError) as info:
        DocList[Vec].from_json(data)
    message = str(info.value)
    assert "document 1, field 'text': Field required" in message
    assert "document 2, field 'text': Input should be a valid string" in message


def test_nested_error_paths_are_named():
    data = json.dumps([{"chunks": [{"text": "a"}, {"text": "b", "vec": [1, 2, 3]}]}])
    with pytest.raises(SchemaMismatchError, match=r"document 0, field 'chunks\[1\]\.vec'"):
        DocList[Rich].from_json(data)
    with pytest.raises(SchemaMismatchError, match=r"field 'inner\.t'"):
        Deep.from_json('{"inner": {"t": "abc"}}')


def test_strings_in_tensors_are_refused():
    with pytest.raises(SchemaMismatchError, match="document 0, field 'embedding'"):
        DocList[Vec].from_json('[{"text": "a", "embedding": ["1", "2", "3", "4"]}]')
    with pytest.raises(SchemaMismatchError, match="field 'embedding'"):
        Vec.from_json('{"text": "a", "embedding": [1, null, 3, 4]}')


def test_many_errors_are_summarised():
    data = json.dumps([{"text": i} for i in range(20)])
    with pytest.raises(SchemaMismatchError, match=r"\(and \d+ more errors\)"):
        DocList[Vec].from_json(data)


def test_not_text_input_is_a_type_error():
    with pytest.raises(TypeError, match="str or bytes"):
        DocList[Vec].from_json(123)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="str or bytes"):
        Vec.from_json(["x"])  # type: ignore[arg-type]


def test_complex_tensor_is_written_as_pydantic_writes_it_and_refused_on_reading():
    class D(BaseDoc):
        t: NdArray

    docs = DocList[D]([D(t=np.ones(2)), D(t=np.array([1 + 2j, 3j]))])
    text = docs.to_json()
    # JSON has no complex numbers: pydantic writes them as strings
    assert text == pydantic_text(docs)
    assert json.loads(text)[1]["t"] == ["1+2j", "3j"]
    with pytest.raises(SchemaMismatchError, match=r"document 1, field 't'"):
        DocList[D].from_json(text)


def test_unserializable_value_is_a_serialization_error():
    class D(BaseDoc):
        anything: Any = None

    docs = DocList[D]([D(anything=1), D(anything=object())])
    with pytest.raises(SerializationError, match=r"document 1, field 'anything'"):
        docs.to_json()


# -- doctests of the JSON methods -----------------------------------------------------------------


@pytest.mark.parametrize(
    "method",
    [
        doc_io_methods.DocIOMixin.to_json,
        doc_io_methods.DocIOMixin.from_json,
        array_io_methods.ArrayIOMixin.to_json,
    ],
    ids=lambda m: m.__qualname__,
)
def test_method_docstring_examples(method):
    finder = doctest.DocTestFinder()
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    tests = finder.find(method, method.__qualname__, globs={})
    assert tests and tests[0].examples
    for test in tests:
        runner.run(test)
    assert runner.failures == 0


# -- properties ---------------------------------------------------------------------------------

_DTYPES = [np.float16, np.float32, np.float64, np.int8, np.int32, np.int64, np.uint8, np.bool_]


@st.composite
def tensors(draw: Any) -> np.ndarray:
    dtype = draw(st.sampled_from(_DTYPES))
    shape = tuple(draw(st.lists(st.integers(1, 3), min_size=0, max_size=3)))
    size = int(np.prod(shape))
    if np.dtype(dtype).kind == "f":
        values = draw(
            st.lists(
                st.floats(
                    allow_nan=False, allow_infinity=False, width=16 if dtype == np.float16 else 32
                ),
                min_size=size,
                max_size=size,
            )
        )
    elif dtype == np.bool_:
        values = draw(st.lists(st.booleans(), min_size=size, max_size=size))
    else:
        info = np.iinfo(dtype)
        values = draw(
            st.lists(st.integers(int(info.min), int(info.max)), min_size=size, max_size=size)
        )
    return np.array(values, dtype=dtype).reshape(shape)


class Prop(BaseDoc):
    text: str = ""
    num: Optional[float] = None
    t: Optional[NdArray] = None
    inner: Optional[Inner] = None
    chunks: DocList[Chunk] = DocList[Chunk]()


@st.composite
def prop_docs(draw: Any) -> Prop:
    return Prop(
        text=draw(st.text(max_size=8)),
        num=draw(st.none() | st.floats(allow_nan=False)),
        t=draw(st.none() | tensors()),
        inner=draw(
            st.none()
            | st.builds(
                Inner,
                t=st.none()
                | st.lists(st.floats(allow_nan=False, width=32), min_size=3, max_size=3),
            )
        ),
        chunks=draw(
            st.lists(
                st.builds(
                    Chunk,
                    text=st.text(max_size=4),
                    vec=st.none() | st.lists(st.integers(-5, 5), min_size=2, max_size=2),
                ),
                max_size=2,
            )
        ),
    )


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(prop_docs(), max_size=5))
def test_property_round_trip_and_same_text(doc_list):
    docs = DocList[Prop](doc_list)
    text = docs.to_json()
    assert text == pydantic_text(docs)
    back = DocList[Prop].from_json(text)
    assert back == docs and ids(back) == ids(docs)
    dv = DocVec[Prop](docs)
    # a DocVec stacks a column in one dtype, so its documents may differ from the
    # DocList's in dtype: it writes the text of its own documents
    dv_text = dv.to_json()
    assert dv_text == dv.to_doc_list().to_json()
    for text_in in (text, dv_text):
        back_vec = DocVec[Prop].from_json(text_in)
        assert back_vec == dv and ids(back_vec) == ids(dv)


def test_aliased_fields_are_written_by_alias_and_read_back():
    from pydantic import Field

    class Aliased(BaseDoc):
        value: int = Field(alias="Value")
        vec: NdArray[2] = Field(alias="Vec")

    docs = DocList[Aliased]([Aliased(Value=1, Vec=[1, 2]), Aliased(Value=2, Vec=[3, 4])])
    text = docs.to_json()
    assert json.loads(text)[0] == {"id": docs[0].id, "Value": 1, "Vec": [1, 2]}
    assert text == "[" + ",".join(d.model_dump_json(by_alias=True) for d in docs) + "]"
    assert DocList[Aliased].from_json(text) == docs
    assert DocVec[Aliased](docs).to_json() == text


def _loses_dims(value: Any) -> bool:
    """Whether JSON loses dimensions of a tensor in ``value``: ``[]`` has no inner ones, so
    a zero-size dimension followed by others reads back shorter."""
    if isinstance(value, BaseDoc):
        return any(_loses_dims(getattr(value, name)) for name in type(value).model_fields)
    if isinstance(value, list):
        return any(_loses_dims(v) for v in value)
    shape = getattr(value, "shape", None)
    return shape is not None and 0 in tuple(shape)[:-1]


@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
@given(case=doc_arrays())
def test_property_generated_schemas(case):
    cls, doc_list = case
    docs = DocList[cls](doc_list)
    text = docs.to_json()
    assert text == pydantic_text(docs)
    back = DocList[cls].from_json(text)
    assert back.to_json() == text
    assert ids(back) == ids(docs)
    dv = DocVec[cls](docs)
    dv_text = dv.to_json()
    assert dv_text == dv.to_doc_list().to_json()
    back_vec = DocVec[cls].from_json(dv_text)
    assert back_vec.to_json() == dv_text
    if not _loses_dims(doc_list):
        assert back == docs
        assert back_vec == dv

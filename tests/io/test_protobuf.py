"""The protobuf codec: docstack's own ``.proto`` schema for documents, DocList and DocVec."""

from __future__ import annotations

import math
from typing import Any, Optional

import jax.numpy as jnp
import numpy as np
import pytest
import tensorflow as tf
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import field_validator, model_validator

from docstack import BaseDoc, DocList, DocVec
from docstack.base_doc import AnyDoc
from docstack.base_doc.doc import BaseDocWithoutId
from docstack.documents import AudioDoc, ImageDoc, Mesh3D, PointCloud3D, TextDoc, VideoDoc
from docstack.documents.mesh import VerticesAndFaces
from docstack.documents.point_cloud import PointsAndColors
from docstack.errors import (
    DeserializationError,
    SchemaMismatchError,
    SerializationError,
)
from docstack.io._protobuf import (
    SCHEMA_VERSION,
    array_from_protobuf,
    array_from_protobuf_bytes,
    array_to_protobuf,
    array_to_protobuf_bytes,
    doc_from_protobuf,
    doc_from_protobuf_bytes,
    doc_to_protobuf,
    doc_to_protobuf_bytes,
)
from docstack.io.proto import (
    ArrayProto,
    DocListProto,
    DocProto,
    DocVecProto,
    TensorProto,
    load_messages,
)
from docstack.typing import ID, AnyTensor, ImageBytes, ImageUrl, NdArray, TextUrl
from docstack.typing.tensor._convert import framework_of, to_numpy
from docstack.typing.tensor.jax_array import JaxArray
from docstack.typing.tensor.tensorflow_tensor import TensorFlowTensor
from docstack.typing.tensor.torch_tensor import ImageTorchTensor, TorchTensor

# -- document types -------------------------------------------------------------------------


class Inner(BaseDoc):
    name: str = ""
    vec: Optional[NdArray[3]] = None


class Middle(BaseDoc):
    inner: Optional[Inner] = None
    items: DocList[Inner] = DocList[Inner]()


class Rich(BaseDoc):
    text: str
    emb: NdArray[4]
    any_t: Optional[AnyTensor] = None
    torch_t: Optional[TorchTensor] = None
    inner: Optional[Inner] = None
    middle: Optional[Middle] = None
    items: DocList[Inner] = DocList[Inner]()
    maybe_items: Optional[DocList[Inner]] = None
    meta: dict[str, Any] = {}
    tags: list[str] = []
    count: Optional[int] = None
    score: float = 0.0
    flag: bool = False
    raw: Optional[bytes] = None
    url: Optional[ImageUrl] = None
    image_bytes: Optional[ImageBytes] = None
    ref: Optional[ID] = None


class Frameworks(BaseDoc):
    np_t: NdArray
    torch_t: TorchTensor
    jax_t: JaxArray
    tf_t: TensorFlowTensor
    image_t: ImageTorchTensor
    any_t: AnyTensor


class Vec(BaseDoc):
    text: str = ""
    emb: Optional[NdArray[4]] = None
    any_t: Optional[AnyTensor] = None
    ragged: Optional[NdArray] = None
    inner: Optional[Inner] = None
    items: Optional[DocList[Inner]] = None
    count: Optional[int] = None
    score: Optional[float] = None
    raw: Optional[bytes] = None
    meta: dict[str, Any] = {}


def rich(i: int = 0) -> Rich:
    return Rich(
        text=f"héllo wörld ✓ {i}",
        emb=np.arange(4, dtype=np.float32) + i,
        any_t=torch.arange(3, dtype=torch.int16),
        torch_t=torch.ones(2, 2, dtype=torch.float64),
        inner=Inner(name="in", vec=[1.0, 2.0, 3.0]),
        middle=Middle(inner=Inner(name="deep"), items=[Inner(name="a"), Inner(vec=[0, 0, 1])]),
        items=[Inner(name="x"), Inner(name="y", vec=np.ones(3))],
        meta={"a": [1, 2.5, None, {"b": b"\x00\xff", "c": True}], "n": -(2**70)},
        tags=["t1", "t2"],
        count=2**62,
        score=-1.5,
        flag=True,
        raw=b"raw\x00bytes",
        url="https://example.com/a.png",
        image_bytes=b"\x89PNG",
        ref="abc",
    )


def vec_doc(i: int) -> Vec:
    return Vec(
        text=f"t{i}",
        emb=None if i % 3 == 1 else np.full(4, i, dtype=np.float32),
        any_t=np.arange(2, dtype=np.int64) * i,
        ragged=np.ones(i % 2 + 1),
        inner=Inner(name=f"n{i}", vec=[i, i, i]),
        items=None if i == 2 else [Inner(name=str(j)) for j in range(i)],
        count=None if i == 0 else i,
        score=float(i) / 2,
        raw=bytes([i]),
        meta={"i": i},
    )


# -- helpers --------------------------------------------------------------------------------


def assert_same(a: Any, b: Any, path: str = "") -> None:
    """Equal documents whose ids, tensor frameworks, types, dtypes and shapes all match."""
    if isinstance(a, BaseDocWithoutId):
        assert isinstance(b, BaseDocWithoutId), path
        assert a == b, path
        names = list(type(a).model_fields) + list(a.__pydantic_extra__ or {})
        for name in names:
            assert_same(getattr(a, name), getattr(b, name), f"{path}.{name}")
        return
    if framework_of(a) is not None:
        assert type(a) is type(b), f"{path}: {type(a)} != {type(b)}"
        x, y = to_numpy(a), to_numpy(b)
        assert x.dtype == y.dtype and x.shape == y.shape, path
        assert np.array_equal(x, y, equal_nan=x.dtype.kind in "fc"), path
        return
    if isinstance(a, (list, tuple)) or getattr(type(a), "__docstack_doc_array__", False):
        assert len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b)):
            assert_same(x, y, f"{path}[{i}]")
        return
    if isinstance(a, dict):
        assert a.keys() == b.keys(), path
        for k in a:
            assert_same(a[k], b[k], f"{path}[{k!r}]")
        return
    assert type(a) is type(b), f"{path}: {type(a)} != {type(b)}"
    assert a == b, path


def roundtrip_bytes(data: bytes, cls: Any, **kwargs: Any) -> Any:
    return array_from_protobuf_bytes(cls, data, **kwargs)


# -- documents ------------------------------------------------------------------------------


def test_doc_round_trip_keeps_every_kind_of_field():
    doc = rich()
    msg = doc.to_protobuf()
    assert isinstance(msg, DocProto)
    assert msg.doc_type == "Rich" and msg.schema_version == SCHEMA_VERSION
    back = Rich.from_protobuf(msg)
    assert_same(doc, back)
    assert back.id == doc.id and back.inner.id == doc.inner.id
    assert back.middle.items[1].id == doc.middle.items[1].id
    assert isinstance(back.items, DocList) and back.items.doc_type is Inner
    assert type(back.any_t) is TorchTensor and back.any_t.dtype == torch.int16
    assert type(back.url) is ImageUrl and type(back.image_bytes) is ImageBytes
    assert back.meta["n"] == -(2**70)


def test_doc_bytes_round_trip():
    doc = rich(3)
    data = doc_to_protobuf_bytes(doc)
    assert isinstance(data, bytes)
    assert_same(doc, doc_from_protobuf_bytes(Rich, data))
    assert_same(doc, doc_from_protobuf(Rich, doc_to_protobuf(doc)))
    assert_same(doc, doc_from_protobuf_bytes(Rich, bytearray(data)))
    assert_same(doc, doc_from_protobuf_bytes(Rich, memoryview(data)))


def test_none_values_and_empty_lists_round_trip():
    doc = Rich(text="", emb=np.zeros(4), items=[], meta={}, tags=[])
    back = Rich.from_protobuf(doc.to_protobuf())
    assert_same(doc, back)
    assert back.inner is None and back.torch_t is None and back.maybe_items is None
    assert isinstance(back.items, DocList) and len(back.items) == 0


def test_special_floats_and_numbers():
    class Numbers(BaseDoc):
        values: list[float]
        big: int
        small: int
        t: NdArray

    doc = Numbers(
        values=[math.nan, math.inf, -math.inf, -0.0, 1e308],
        big=10**40,
        small=-(2**63),
        t=np.array([np.nan, np.inf, -np.inf]),
    )
    back = Numbers.from_protobuf(doc.to_protobuf())
    assert math.isnan(back.values[0]) and back.values[1:3] == [math.inf, -math.inf]
    assert math.copysign(1, back.values[3]) == -1 and back.values[4] == 1e308
    assert back.big == 10**40 and back.small == -(2**63)
    assert np.array_equal(back.t, doc.t, equal_nan=True)


def test_unicode_and_str_subclasses():
    class Texts(BaseDoc):
        text: str
        url: TextUrl
        ident: ID

    doc = Texts(text="日本語 🎉 \x00 end", url="https://example.com/t.txt", ident="x" * 5)
    back = Texts.from_protobuf(doc.to_protobuf())
    assert_same(doc, back)
    assert type(back.url) is TextUrl and type(back.ident) is type(doc.ident)


def test_other_field_types_come_back_through_validation():
    import datetime
    import enum
    import uuid

    class Color(enum.Enum):
        RED = "red"

    class Misc(BaseDoc):
        when: datetime.datetime
        uid: uuid.UUID
        color: Color
        pair: tuple[int, str]
        unique: set[int]
        nested: dict[int, list[Optional[float]]]

    doc = Misc(
        when=datetime.datetime(2024, 1, 2, 3, 4, 5),
        uid=uuid.UUID(int=5),
        color=Color.RED,
        pair=(1, "a"),
        unique={3, 1},
        nested={1: [0.5, None]},
    )
    assert_same(doc, Misc.from_protobuf(doc.to_protobuf()))


@pytest.mark.parametrize(
    "dtype",
    [
        "bool",
        "int8",
        "int16",
        "int32",
        "int64",
        "uint8",
        "uint16",
        "uint32",
        "uint64",
        "float16",
        "float32",
        "float64",
        "complex64",
        "complex128",
    ],
)
def test_every_dtype_is_kept(dtype):
    class T(BaseDoc):
        t: NdArray

    arr = (np.arange(6) % 3).astype(dtype).reshape(2, 3)
    back = T.from_protobuf(T(t=arr).to_protobuf())
    assert back.t.dtype == np.dtype(dtype) and back.t.shape == (2, 3)
    assert np.array_equal(back.t, arr)
    assert back.t.flags.writeable


@pytest.mark.parametrize("shape", [(), (0,), (0, 3), (3, 0), (2, 3, 4), (1, 1, 1, 1, 5)])
def test_shapes_are_kept(shape):
    class T(BaseDoc):
        t: NdArray
        tt: TorchTensor

    arr = np.arange(math.prod(shape), dtype=np.float32).reshape(shape)
    back = T.from_protobuf(T(t=arr, tt=torch.from_numpy(arr.copy())).to_protobuf())
    assert back.t.shape == shape and tuple(back.tt.shape) == shape
    assert np.array_equal(back.t, arr)


def test_non_contiguous_and_big_endian_tensors():
    class T(BaseDoc):
        t: NdArray

    base = np.arange(24, dtype=np.float64).reshape(4, 6)
    for arr in (base.T, base[::2, ::-3], base.astype(">f8"), base.astype(">i4")):
        back = T.from_protobuf(T(t=arr).to_protobuf())
        assert np.array_equal(back.t, arr) and back.t.shape == arr.shape
        assert back.t.dtype == arr.dtype.newbyteorder("=")


def test_every_framework_comes_back_as_itself():
    doc = Frameworks(
        np_t=np.arange(3, dtype=np.int32),
        torch_t=torch.arange(4, dtype=torch.float32).reshape(2, 2),
        jax_t=jnp.arange(3, dtype=jnp.float32),
        tf_t=tf.constant([[1, 2], [3, 4]], dtype=tf.int64),
        image_t=torch.zeros(3, 2, 2, dtype=torch.uint8),
        any_t=tf.constant([1.5, 2.5]),
    )
    back = Frameworks.from_protobuf(doc.to_protobuf())
    assert_same(doc, back)
    assert type(back.np_t) is np.ndarray
    assert type(back.torch_t) is TorchTensor
    assert type(back.jax_t) is JaxArray
    assert type(back.tf_t) is TensorFlowTensor and back.tf_t.dtype == tf.int64
    assert type(back.image_t) is ImageTorchTensor
    assert type(back.any_t) is TensorFlowTensor
    again = DocList[Frameworks].from_protobuf(DocList[Frameworks]([doc, doc]).to_protobuf())
    assert_same(DocList[Frameworks]([doc, doc]), again)


@pytest.mark.parametrize(
    "value, expected",
    [
        (np.ones(2), np.ndarray),
        (torch.ones(2), TorchTensor),
        (jnp.ones(2), JaxArray),
        (tf.ones(2), TensorFlowTensor),
    ],
)
def test_any_tensor_keeps_the_framework_it_had(value, expected):
    class A(BaseDoc):
        t: AnyTensor

    back = A.from_protobuf(A(t=value).to_protobuf())
    assert type(back.t) is expected
    docs = DocList[A]([A(t=value)])
    assert type(DocList[A].from_protobuf(docs.to_protobuf())[0].t) is expected


def test_torch_tensor_on_any_device_and_with_grad():
    class T(BaseDoc):
        t: TorchTensor

    t = torch.ones(3, requires_grad=True)
    back = T.from_protobuf(T(t=t).to_protobuf())
    assert type(back.t) is TorchTensor and torch.equal(back.t.unwrap(), torch.ones(3))


@pytest.mark.parametrize(
    "doc",
    [
        TextDoc(text="hi", url="https://example.com/a.txt", embedding=np.ones(4), bytes_=b"b"),
        ImageDoc(
            url="https://example.com/a.png",
            tensor=np.zeros((2, 2, 3), dtype=np.uint8),
            embedding=torch.ones(3),
            bytes_=b"\x89PNG",
        ),
        AudioDoc(tensor=np.zeros(10, dtype=np.float32), frame_rate=8000),
        VideoDoc(tensor=np.zeros((1, 2, 2, 3), dtype=np.uint8), key_frame_indices=np.array([0])),
        Mesh3D(tensors=VerticesAndFaces(vertices=np.zeros((3, 3)), faces=np.array([[0, 1, 2]]))),
        PointCloud3D(tensors=PointsAndColors(points=np.ones((4, 3)), colors=None)),
    ],
    ids=lambda d: type(d).__name__,
)
def test_ready_documents_round_trip(doc):
    cls = type(doc)
    assert_same(doc, cls.from_protobuf(doc.to_protobuf()))
    assert_same(doc, doc_from_protobuf_bytes(cls, doc_to_protobuf_bytes(doc)))
    docs = DocList[cls]([doc, doc])
    assert_same(docs, DocList[cls].from_protobuf(docs.to_protobuf()))
    vec = DocVec[cls](docs)
    assert_same(list(vec), list(DocVec[cls].from_protobuf(vec.to_protobuf())))


def test_document_without_id():
    class NoId(BaseDocWithoutId):
        x: int

    back = NoId.from_protobuf(NoId(x=3).to_protobuf())
    assert back == NoId(x=3) and "id" not in type(back).model_fields


def test_any_doc_round_trip():
    doc = AnyDoc(title="hello", vec=np.arange(3), t=torch.ones(2), nested={"a": [1, None]})
    back = AnyDoc.from_protobuf(doc.to_protobuf())
    assert_same(doc, back)
    assert back.id == doc.id and type(back.t) is torch.Tensor


def test_a_document_nested_in_a_list_message_can_be_read_alone():
    docs = DocList[Rich]([rich(0), rich(1)])
    msg = docs.to_protobuf()
    one = msg.docs[1]
    assert one.schema_version == 0  # nested messages carry no version
    assert_same(docs[1], Rich.from_protobuf(one))


# -- DocList --------------------------------------------------------------------------------


def test_doc_list_round_trip():
    docs = DocList[Rich]([rich(i) for i in range(3)])
    msg = docs.to_protobuf()
    assert isinstance(msg, DocListProto) and msg.doc_type == "Rich"
    back = DocList[Rich].from_protobuf(msg)
    assert type(back) is DocList[Rich]
    assert_same(docs, back)
    assert back.id == docs.id
    assert_same(docs, array_from_protobuf(DocList[Rich], array_to_protobuf(docs)))
    assert_same(docs, roundtrip_bytes(array_to_protobuf_bytes(docs), DocList[Rich]))


def test_empty_doc_list():
    docs = DocList[Rich]()
    back = DocList[Rich].from_protobuf(docs.to_protobuf())
    assert type(back) is DocList[Rich] and len(back) == 0
    assert len(roundtrip_bytes(array_to_protobuf_bytes(docs), DocList[Rich])) == 0
    vec = roundtrip_bytes(array_to_protobuf_bytes(docs), DocVec[Rich])
    assert type(vec) is DocVec[Rich] and len(vec) == 0


def test_untyped_doc_list_reads_documents_of_any_type():
    docs = DocList([TextDoc(text="a", embedding=np.ones(2)), AnyDoc(x=1, y=[1, 2])])
    back = DocList.from_protobuf(docs.to_protobuf())
    assert type(back) is DocList and all(isinstance(d, AnyDoc) for d in back)
    assert back[0].text == "a" and np.array_equal(back[0].embedding, np.ones(2))
    assert back[0].id == docs[0].id and back[1].x == 1 and back[1].y == [1, 2]
    typed = DocList[TextDoc]([TextDoc(text="b")])
    untyped = DocList.from_protobuf(typed.to_protobuf())
    assert untyped[0].text == "b" and untyped[0].url is None


def test_doc_list_refuses_tensor_type():
    docs = DocList[Rich]([rich()])
    with pytest.raises(TypeError, match="tensor_type"):
        DocList[Rich].from_protobuf(docs.to_protobuf(), tensor_type=TorchTensor)


# -- DocVec ---------------------------------------------------------------------------------


def test_doc_vec_round_trip_column_by_column():
    docs = DocList[Vec]([vec_doc(i) for i in range(5)])
    vec = DocVec[Vec](docs)
    msg = vec.to_protobuf()
    assert isinstance(msg, DocVecProto) and msg.length == 5
    # one stacked tensor per tensor column, with a presence mask for the missing one
    assert list(msg.tensor_columns["emb"].data.shape) == [5, 4]
    assert msg.tensor_columns["emb"].present == bytes([1, 0, 1, 1, 0])
    assert msg.value_columns["text"].WhichOneof("values") == "strings"
    assert msg.value_columns["ragged"].WhichOneof("values") == "items"
    assert msg.doc_columns["inner"].length == 5
    assert len(msg.doc_list_columns["items"].vecs) == 5
    back = DocVec[Vec].from_protobuf(msg)
    assert type(back) is DocVec[Vec]
    assert_same(list(vec), list(back))
    assert back.id == vec.id
    data, mask = back.get_tensor_column("emb")
    assert mask.tolist() == [True, False, True, True, False]
    assert np.array_equal(data[1], np.zeros(4))
    assert back.items[2] is None and len(back.items[0]) == 0
    assert back.count[0] is None and back.score == [0.0, 0.5, 1.0, 1.5, 2.0]


def test_doc_vec_bytes_round_trip_and_conversions():
    docs = DocList[Vec]([vec_doc(i) for i in range(4)])
    vec = DocVec[Vec](docs)
    data = array_to_protobuf_bytes(vec)
    assert ArrayProto.FromString(data).WhichOneof("array") == "doc_vec"
    assert_same(list(vec), list(roundtrip_bytes(data, DocVec[Vec])))
    # a DocVecProto read by a DocList class, a DocListProto by a DocVec class
    as_list = roundtrip_bytes(data, DocList[Vec])
    assert type(as_list) is DocList[Vec]
    assert_same(docs, as_list)
    as_vec = roundtrip_bytes(array_to_protobuf_bytes(docs), DocVec[Vec])
    assert type(as_vec) is DocVec[Vec]
    assert_same(list(vec), list(as_vec))
    assert_same(docs, DocList[Vec].from_protobuf(vec.to_protobuf()))
    assert_same(list(vec), list(DocVec[Vec].from_protobuf(docs.to_protobuf())))


def test_doc_vec_keeps_its_tensor_type():
    docs = DocList[Vec]([vec_doc(i) for i in range(3)])
    vec = DocVec[Vec](docs, tensor_type=TorchTensor)
    back = DocVec[Vec].from_protobuf(vec.to_protobuf())
    assert back.tensor_type is TorchTensor
    assert isinstance(back.any_t, TorchTensor)
    assert_same(list(vec), list(back))
    as_numpy = DocVec[Vec].from_protobuf(vec.to_protobuf(), tensor_type=NdArray)
    assert as_numpy.tensor_type is NdArray and type(as_numpy.any_t) is np.ndarray
    from_bytes = array_from_protobuf_bytes(
        DocVec[Vec], array_to_protobuf_bytes(vec), tensor_type=JaxArray
    )
    assert from_bytes.tensor_type is JaxArray and isinstance(from_bytes.any_t, JaxArray)
    listed = DocList[Vec].from_protobuf(vec.to_protobuf())
    assert type(listed[0].any_t) is TorchTensor


def test_doc_vec_of_every_framework():
    docs = DocList[Frameworks](
        [
            Frameworks(
                np_t=np.arange(3) + i,
                torch_t=torch.ones(2) * i,
                jax_t=jnp.ones(2) * i,
                tf_t=tf.ones(2) * i,
                image_t=torch.zeros(3, 2, 2),
                any_t=np.ones(2) * i,
            )
            for i in range(3)
        ]
    )
    vec = DocVec[Frameworks](docs)
    back = DocVec[Frameworks].from_protobuf(vec.to_protobuf())
    assert_same(list(vec), list(back))
    assert isinstance(back.torch_t, TorchTensor) and isinstance(back.jax_t, JaxArray)
    assert isinstance(back.tf_t, TensorFlowTensor)


def test_doc_vec_slice_is_written_as_its_documents():
    vec = DocVec[Vec]([vec_doc(i) for i in range(6)])
    part = vec[1:5:2]
    back = DocVec[Vec].from_protobuf(part.to_protobuf())
    assert len(back) == 2
    assert_same(list(part), list(back))


def test_doc_vec_all_none_column_and_empty_vec():
    class Opt(BaseDoc):
        t: Optional[NdArray[2]] = None
        inner: Optional[Inner] = None

    vec = DocVec[Opt]([Opt(), Opt()])
    back = DocVec[Opt].from_protobuf(vec.to_protobuf())
    assert back.t is None and back[1].inner is None and back.id == vec.id
    empty = DocVec[Opt]([])
    assert len(DocVec[Opt].from_protobuf(empty.to_protobuf())) == 0


def test_doc_vec_of_documents_with_their_own_validators_validates_each_document():
    class Plain(BaseDoc):
        text: str

    class Checked(BaseDoc):
        text: str

        @field_validator("text")
        @classmethod
        def _not_bad(cls, value: str) -> str:
            if value == "bad":
                raise ValueError("bad text")
            return value

    class Checked2(BaseDoc):
        text: str

        @model_validator(mode="after")
        def _not_empty(self) -> Checked2:
            if not self.text:
                raise ValueError("empty")
            return self

    good = DocVec[Checked]([Checked(text="good")])
    assert_same(list(good), list(DocVec[Checked].from_protobuf(good.to_protobuf())))
    msg = DocVec[Plain]([Plain(text="ok"), Plain(text="bad")]).to_protobuf()
    with pytest.raises(SchemaMismatchError, match="document 1.*bad text"):
        DocVec[Checked].from_protobuf(msg)
    with pytest.raises(SchemaMismatchError, match="document 1.*bad text"):
        DocList[Checked].from_protobuf(msg)
    msg = DocVec[Plain]([Plain(text="")]).to_protobuf()
    with pytest.raises(SchemaMismatchError, match="document 0.*empty"):
        DocVec[Checked2].from_protobuf(msg)


def test_doc_vec_message_read_as_untyped_doc_list():
    vec = DocVec[Vec]([vec_doc(i) for i in range(3)])
    back = DocList.from_protobuf(vec.to_protobuf())
    assert all(isinstance(d, AnyDoc) for d in back)
    assert back[2].text == "t2" and np.array_equal(back[2].emb, np.full(4, 2, np.float32))
    assert back[1].emb is None and back[0].id == vec[0].id
    assert isinstance(back[1].inner, AnyDoc) and back[1].inner.name == "n1"
    assert back[2].items is None and [d.name for d in back[1].items] == ["0"]


def test_doc_vec_column_constraints_are_validated():
    from pydantic import Field

    class Loose(BaseDoc):
        n: int = 0

    class Strict(BaseDoc):
        n: int = Field(0, gt=0)

    msg = DocVec[Loose]([Loose(n=1), Loose(n=-1)]).to_protobuf()
    with pytest.raises(SchemaMismatchError, match="document 1, field 'n'"):
        DocVec[Strict].from_protobuf(msg)


def test_doc_vec_class_must_be_typed():
    vec = DocVec[Vec]([vec_doc(0)])
    with pytest.raises(TypeError, match="document type"):
        DocVec.from_protobuf(vec.to_protobuf())


def test_doc_vec_missing_column_uses_the_default():
    class Old(BaseDoc):
        text: str

    class New(BaseDoc):
        text: str
        extra: int = 7

    back = DocVec[New].from_protobuf(DocVec[Old]([Old(text="a")]).to_protobuf())
    assert back.extra == [7] and back.text == ["a"]


# -- bad input ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [b"", b"\x00", b"\xff" * 20, b"hello world", b"\x0a\x05abc", bytes(range(256))],
)
def test_random_bytes_are_a_deserialization_error(data):
    with pytest.raises(DeserializationError):
        doc_from_protobuf_bytes(Rich, data)
    with pytest.raises(DeserializationError):
        array_from_protobuf_bytes(DocList[Rich], data)
    with pytest.raises(DeserializationError):
        array_from_protobuf_bytes(DocVec[Rich], data)


def test_truncated_messages_are_a_deserialization_error():
    doc_data = doc_to_protobuf_bytes(rich())
    list_data = array_to_protobuf_bytes(DocList[Rich]([rich(0), rich(1)]))
    vec_data = array_to_protobuf_bytes(DocVec[Vec]([vec_doc(i) for i in range(3)]))
    for cut in (1, 7, len(doc_data) // 2, len(doc_data) - 1):
        with pytest.raises(DeserializationError):
            doc_from_protobuf_bytes(Rich, doc_data[:cut])
    for cut in (3, len(list_data) // 3, len(list_data) - 2):
        with pytest.raises(DeserializationError):
            array_from_protobuf_bytes(DocList[Rich], list_data[:cut])
    for cut in (3, len(vec_data) // 2, len(vec_data) - 1):
        with pytest.raises(DeserializationError):
            array_from_protobuf_bytes(DocVec[Vec], vec_data[:cut])


def test_message_of_another_schema_names_the_field():
    class Other(BaseDoc):
        title: str

    with pytest.raises(SchemaMismatchError, match=r"field 'title'.*written for 'Other'"):
        Rich.from_protobuf(Other(title="x").to_protobuf())
    with pytest.raises(SchemaMismatchError, match="document 0, field 'title'"):
        DocList[Rich].from_protobuf(DocList[Other]([Other(title="x")]).to_protobuf())
    with pytest.raises(SchemaMismatchError, match="field 'title'"):
        DocVec[Rich].from_protobuf(DocVec[Other]([Other(title="x")]).to_protobuf())
    with pytest.raises(SchemaMismatchError, match="field 'title'"):
        doc_from_protobuf_bytes(Rich, doc_to_protobuf_bytes(Other(title="x")))


def test_same_fields_under_another_class_name_are_accepted():
    class Renamed(BaseDoc):
        name: str = ""
        vec: Optional[NdArray[3]] = None

    doc = Inner(name="a", vec=[1, 2, 3])
    back = Renamed.from_protobuf(doc.to_protobuf())
    assert back.name == "a" and back.id == doc.id


def test_value_of_the_wrong_kind_is_a_schema_mismatch():
    msg = rich().to_protobuf()
    msg.fields["emb"].str_value = "not a tensor"
    with pytest.raises(SchemaMismatchError, match="field 'emb'.*expected a tensor.*str"):
        Rich.from_protobuf(msg)
    msg = rich().to_protobuf()
    msg.fields["inner"].int_value = 3
    with pytest.raises(SchemaMismatchError, match="field 'inner'.*expected a document"):
        Rich.from_protobuf(msg)
    msg = rich().to_protobuf()
    msg.fields["text"].int_value = 3
    with pytest.raises(SchemaMismatchError, match="field 'text'"):
        Rich.from_protobuf(msg)


def test_validation_failure_names_the_document_and_field():
    docs = DocList[Rich]([rich(0), rich(1)])
    msg = docs.to_protobuf()
    emb = msg.docs[1].fields["emb"].tensor
    emb.buffer = np.zeros(3, np.float32).tobytes()
    del emb.shape[:]
    emb.shape.append(3)
    with pytest.raises(SchemaMismatchError, match=r"document 1, field 'emb'.*NdArray\[4\]"):
        DocList[Rich].from_protobuf(msg)
    msg = docs.to_protobuf()
    msg.docs[0].fields["middle"].doc.fields["inner"].doc.fields["vec"].tensor.Clear()
    with pytest.raises(DeserializationError, match="document 0, field 'middle.inner.vec'"):
        DocList[Rich].from_protobuf(msg)


def test_tensor_that_does_not_fit_a_doc_vec_column():
    vec = DocVec[Vec]([vec_doc(0), vec_doc(2)])
    msg = vec.to_protobuf()
    col = msg.tensor_columns["emb"].data
    col.buffer = np.zeros((2, 5), np.float32).tobytes()
    col.shape[:] = [2, 5]
    with pytest.raises(SchemaMismatchError, match="field 'emb'.*NdArray"):
        DocVec[Vec].from_protobuf(msg)
    msg = vec.to_protobuf()
    col = msg.tensor_columns["emb"].data
    col.buffer = np.zeros((3, 4), np.float32).tobytes()
    col.shape[:] = [3, 4]
    with pytest.raises(DeserializationError, match="for 2 documents"):
        DocVec[Vec].from_protobuf(msg)


@pytest.mark.parametrize(
    "shape",
    [[10**9], [2**63], [2, 2**62], [0, 2**63], [1] * 40, [4, 4]],
)
def test_tensor_whose_shape_lies_about_its_buffer(shape):
    msg = rich().to_protobuf()
    t = msg.fields["emb"].tensor
    t.shape[:] = shape
    with pytest.raises(DeserializationError, match="field 'emb'"):
        Rich.from_protobuf(msg)
    with pytest.raises(DeserializationError):
        doc_from_protobuf_bytes(Rich, msg.SerializeToString())


@pytest.mark.parametrize("dtype", ["object", "O", "<U3", "float", "", "datetime64", "float32 "])
def test_bad_dtype_string(dtype):
    msg = rich().to_protobuf()
    msg.fields["emb"].tensor.dtype = dtype
    with pytest.raises(DeserializationError, match="dtype"):
        Rich.from_protobuf(msg)
    vec_msg = DocVec[Vec]([vec_doc(0)]).to_protobuf()
    vec_msg.tensor_columns["emb"].data.dtype = dtype
    with pytest.raises(DeserializationError, match="dtype"):
        DocVec[Vec].from_protobuf(vec_msg)


def test_unknown_framework_is_a_deserialization_error():
    msg = rich().to_protobuf()
    msg.fields["any_t"].tensor.framework = "mxnet"
    with pytest.raises(DeserializationError, match="framework"):
        Rich.from_protobuf(msg)


def test_schema_version_is_checked():
    msg = rich().to_protobuf()
    msg.schema_version = SCHEMA_VERSION + 1
    with pytest.raises(DeserializationError, match="schema version"):
        Rich.from_protobuf(msg)
    with pytest.raises(DeserializationError, match="schema version"):
        doc_from_protobuf_bytes(Rich, msg.SerializeToString())
    bare = rich().to_protobuf()
    bare.schema_version = 0
    with pytest.raises(DeserializationError, match="no schema version"):
        doc_from_protobuf_bytes(Rich, bare.SerializeToString())
    vec_msg = DocVec[Vec]([vec_doc(0)]).to_protobuf()
    vec_msg.schema_version = 7
    with pytest.raises(DeserializationError, match="version 7"):
        DocVec[Vec].from_protobuf(vec_msg)


def test_bytes_of_the_wrong_message_kind():
    doc_data = doc_to_protobuf_bytes(rich())
    with pytest.raises(DeserializationError):
        array_from_protobuf_bytes(DocList[Rich], doc_data)
    list_data = array_to_protobuf_bytes(DocList[Rich]([rich()]))
    with pytest.raises(DeserializationError):
        doc_from_protobuf_bytes(Rich, list_data)


def test_wrong_message_class_is_refused():
    with pytest.raises(DeserializationError, match="DocProto"):
        Rich.from_protobuf(TensorProto())
    with pytest.raises(DeserializationError, match="DocListProto"):
        DocList[Rich].from_protobuf(rich().to_protobuf())


def test_doc_vec_declaring_more_documents_than_its_bytes_hold():
    msg = DocVecProto(length=10**15, schema_version=SCHEMA_VERSION, doc_type="Vec")
    with pytest.raises(DeserializationError, match="documents"):
        DocVec[Vec].from_protobuf(msg)
    with pytest.raises(DeserializationError):
        DocList[Vec].from_protobuf(msg)
    with pytest.raises(DeserializationError):
        DocList.from_protobuf(msg)


def test_doc_vec_columns_of_the_wrong_length_or_kind():
    vec = DocVec[Vec]([vec_doc(i) for i in range(3)])
    msg = vec.to_protobuf()
    msg.tensor_columns["emb"].present = b"\x01"
    with pytest.raises(DeserializationError, match="presence"):
        DocVec[Vec].from_protobuf(msg)
    msg = vec.to_protobuf()
    msg.value_columns["text"].strings.values.append("extra")
    with pytest.raises(DeserializationError, match="field 'text'"):
        DocVec[Vec].from_protobuf(msg)
    msg = vec.to_protobuf()
    msg.tensor_columns["text"].CopyFrom(msg.tensor_columns["emb"])
    with pytest.raises(DeserializationError, match="two columns"):
        DocVec[Vec].from_protobuf(msg)
    msg = vec.to_protobuf()
    msg.doc_columns["unknown"].length = 3
    with pytest.raises(SchemaMismatchError, match="no field 'unknown'"):
        DocVec[Vec].from_protobuf(msg)
    msg = vec.to_protobuf()
    msg.tensor_columns["count"].CopyFrom(msg.tensor_columns["emb"])
    del msg.value_columns["count"]
    with pytest.raises(SchemaMismatchError, match="field 'count'.*tensor column"):
        DocVec[Vec].from_protobuf(msg)


def test_doc_vec_missing_value_in_a_required_field():
    class Req(BaseDoc):
        t: NdArray[2]

    class Opt(BaseDoc):
        t: Optional[NdArray[2]] = None

    msg = DocVec[Opt]([Opt(t=[1, 2]), Opt()]).to_protobuf()
    with pytest.raises(SchemaMismatchError, match="document 1, field 't'"):
        DocVec[Req].from_protobuf(msg)
    with pytest.raises(SchemaMismatchError, match="document 1, field 't'"):
        DocList[Req].from_protobuf(DocList[Opt]([Opt(t=[1, 2]), Opt()]).to_protobuf())


def test_values_that_cannot_be_written_name_the_field():
    class Holder(BaseDoc):
        meta: dict[str, Any] = {}

    with pytest.raises(SerializationError, match=r"field 'meta\['x'\]'.*object"):
        Holder(meta={"x": object()}).to_protobuf()
    with pytest.raises(SerializationError, match="dtype"):
        AnyDoc(t=np.array(["a", "b"])).to_protobuf()
    with pytest.raises(SerializationError, match="document 1, field 'meta"):
        DocList[Holder]([Holder(), Holder(meta={"x": object()})]).to_protobuf()


def test_message_nested_too_deep_is_an_error_not_a_crash():
    class Node(BaseDoc):
        child: Optional[Node] = None

    Node.model_rebuild()
    doc = Node()
    for _ in range(150):
        doc = Node(child=doc)
    data = doc_to_protobuf_bytes(doc)
    with pytest.raises(DeserializationError):
        doc_from_protobuf_bytes(Node, data)
    shallow = Node(child=Node(child=Node()))
    assert_same(shallow, doc_from_protobuf_bytes(Node, doc_to_protobuf_bytes(shallow)))


def test_load_messages_gives_the_generated_module():
    pb = load_messages()
    assert pb.DocProto is DocProto and pb.DESCRIPTOR.package == "docstack"


# -- fuzzing --------------------------------------------------------------------------------

_VALID_PAYLOADS = {
    "doc": doc_to_protobuf_bytes(rich()),
    "list": array_to_protobuf_bytes(DocList[Rich]([rich(0), rich(1)])),
    "vec": array_to_protobuf_bytes(DocVec[Vec]([vec_doc(i) for i in range(3)])),
}


def _read_all_ways(data: bytes) -> None:
    for read in (
        lambda: doc_from_protobuf_bytes(Rich, data),
        lambda: doc_from_protobuf_bytes(AnyDoc, data),
        lambda: array_from_protobuf_bytes(DocList[Rich], data),
        lambda: array_from_protobuf_bytes(DocVec[Vec], data),
        lambda: array_from_protobuf_bytes(DocList[Vec], data),
        lambda: array_from_protobuf_bytes(DocList, data),
    ):
        try:
            read()
        except DeserializationError:
            pass


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=300))
def test_random_bytes_only_raise_deserialization_errors(data):
    _read_all_ways(data)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from(sorted(_VALID_PAYLOADS)),
    st.lists(st.tuples(st.integers(0, 10**9), st.integers(0, 255)), min_size=1, max_size=6),
    st.one_of(st.none(), st.integers(0, 10**9)),
)
def test_mutated_payloads_only_raise_deserialization_errors(kind, edits, cut):
    data = bytearray(_VALID_PAYLOADS[kind])
    for position, value in edits:
        data[position % len(data)] = value
    if cut is not None:
        data = data[: cut % (len(data) + 1)]
    _read_all_ways(bytes(data))


# -- more field shapes ----------------------------------------------------------------------


class Container(BaseDoc):
    friends: list[Inner] = []
    by_name: dict[str, Inner] = {}
    vecs: Optional[DocVec[Inner]] = None
    anything: Optional[DocList] = None
    free: Optional[AnyDoc] = None


def container(i: int) -> Container:
    return Container(
        friends=[Inner(name=f"f{i}", vec=[1, 2, 3])],
        by_name={"a": Inner(name="a")},
        vecs=DocVec[Inner]([Inner(name="v", vec=[i, i, i])]),
        anything=DocList([AnyDoc(k=i), TextDoc(text="t")]),
        free=AnyDoc(z=[1, 2], t=np.ones(2)),
    )


def test_documents_inside_lists_dicts_doc_vecs_and_untyped_lists():
    doc = container(1)
    back = Container.from_protobuf(doc.to_protobuf())
    assert type(back.friends[0]) is Inner and back.friends[0] == doc.friends[0]
    assert back.friends[0].id == doc.friends[0].id
    assert type(back.by_name["a"]) is Inner
    assert type(back.vecs) is DocVec[Inner] and list(back.vecs) == list(doc.vecs)
    assert isinstance(back.anything[0], AnyDoc) and back.anything[0].k == 1
    assert back.anything[1].text == "t"
    assert isinstance(back.free, AnyDoc) and back.free.z == [1, 2]
    assert np.array_equal(back.free.t, np.ones(2))


def test_doc_vec_with_documents_inside_other_fields():
    docs = DocList[Container]([container(i) for i in range(3)])
    vec = DocVec[Container](docs)
    back = DocVec[Container].from_protobuf(vec.to_protobuf())
    for a, b in zip(vec, back):
        assert a.friends == b.friends and a.by_name == b.by_name
        assert list(a.vecs) == list(b.vecs)
        assert [d.id for d in a.anything] == [d.id for d in b.anything]
        assert b.free.z == [1, 2]


def test_a_view_of_a_doc_vec_is_written_as_its_document():
    vec = DocVec[Vec]([vec_doc(i) for i in range(3)])
    msg = vec[1].to_protobuf()
    assert msg.doc_type == "Vec"
    back = Vec.from_protobuf(msg)
    assert type(back) is Vec and back.id == vec[1].id
    assert_same(vec[1], back)


class CheckedHolder(BaseDoc):
    text: str = ""
    inner: Optional[Inner] = None
    vecs: Optional[DocVec[Inner]] = None
    items: DocList[Inner] = DocList[Inner]()

    @field_validator("text")
    @classmethod
    def _strip(cls, value: str) -> str:
        return value.strip()


def test_document_by_document_reading_keeps_nested_arrays():
    docs = DocList[CheckedHolder](
        [
            CheckedHolder(
                text=f"t{i}",
                inner=Inner(name=str(i)),
                vecs=DocVec[Inner]([Inner(name="v", vec=[1, 2, 3])] * i),
                items=[Inner(name="x")],
            )
            for i in range(3)
        ]
    )
    vec = DocVec[CheckedHolder](docs)
    msg = vec.to_protobuf()
    for back in (
        DocVec[CheckedHolder].from_protobuf(msg),
        DocList[CheckedHolder].from_protobuf(msg),
    ):
        for a, b in zip(docs, back):
            assert a.text == b.text and a.inner == b.inner and a.id == b.id
            assert type(b.vecs) is DocVec[Inner] and list(a.vecs) == list(b.vecs)
            assert list(a.items) == list(b.items)


def test_aliased_fields_and_discriminated_unions():
    from typing import Literal, Union

    from pydantic import Field

    class Cat(BaseDoc):
        kind: Literal["cat"] = "cat"

    class Dog(BaseDoc):
        kind: Literal["dog"] = "dog"
        good: bool = True

    class Owner(BaseDoc):
        text: str = Field(alias="body")
        n: int = Field(0, validation_alias="num", ge=0)
        pet: Union[Cat, Dog] = Field(default_factory=Cat, discriminator="kind")

    doc = Owner(body="x", num=3, pet=Dog(good=False))
    assert_same(doc, Owner.from_protobuf(doc.to_protobuf()))
    docs = DocList[Owner]([doc, Owner(body="y")])
    assert_same(docs, DocList[Owner].from_protobuf(docs.to_protobuf()))
    vec = DocVec[Owner](docs)
    back = DocVec[Owner].from_protobuf(vec.to_protobuf())
    assert_same(list(vec), list(back))
    assert type(back[0].pet) is Dog and type(back[1].pet) is Cat

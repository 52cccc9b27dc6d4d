"""Tests of ``to_arrow``/``from_arrow`` and ``to_parquet``/``from_parquet``: round trips of
every kind of field for ``DocList`` and ``DocVec``, the table layout, zero-copy tensor
columns, tables written elsewhere, and every kind of bad input."""

import json
import math
from typing import Any, Optional

import jax.numpy as jnp
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import field_validator

from docstack import BaseDoc, BaseDocWithoutId, DocList, DocVec
from docstack.base_doc import AnyDoc
from docstack.documents import ImageDoc, TextDoc
from docstack.errors import DeserializationError, SchemaMismatchError, SerializationError
from docstack.typing import (
    ID,
    AnyEmbedding,
    AnyTensor,
    ImageBytes,
    ImageUrl,
    JaxArray,
    NdArray,
    NdArrayEmbedding,
    TextUrl,
    TorchEmbedding,
    TorchTensor,
)


class Leaf(BaseDoc):
    x: NdArray[2]
    label: str = ""


class Mid(BaseDoc):
    leaf: Optional[Leaf] = None
    leaves: DocList[Leaf] = DocList[Leaf]()


class Rich(BaseDoc):
    title: str
    count: int = 0
    score: float = 0.0
    flag: bool = False
    emb: NdArray[3]
    image: NdArray[2, 2]
    opt: Optional[NdArray[2]] = None
    torch_t: Optional[TorchTensor] = None
    jax_t: Optional[JaxArray] = None
    any_t: Optional[AnyTensor] = None
    mid: Optional[Mid] = None
    chunks: DocList[Leaf] = DocList[Leaf]()
    tags: list[str] = []
    meta: dict[str, Any] = {}
    pair: tuple[int, str] = (0, "")
    big: int = 0
    url: Optional[ImageUrl] = None
    text_url: Optional[TextUrl] = None
    blob: Optional[bytes] = None
    image_bytes: Optional[ImageBytes] = None
    ref: Optional[ID] = None
    note: Optional[str] = None


def rich_docs() -> DocList[Rich]:
    return DocList[Rich](
        [
            Rich(
                title="héllo wörld ✓ 日本",
                count=-7,
                score=float("inf"),
                flag=True,
                emb=np.array([1.0, 2.0, 3.0], dtype=np.float32),
                image=np.eye(2, dtype=np.float16),
                opt=np.array([5, 6], dtype=np.int8),
                torch_t=torch.arange(6, dtype=torch.float32).reshape(2, 3),
                jax_t=jnp.ones(4, dtype=jnp.int32),
                any_t=torch.ones(2, dtype=torch.float64),
                mid=Mid(leaf=Leaf(x=[1, 2], label="deep"), leaves=[Leaf(x=[3, 4])]),
                chunks=[Leaf(x=[7, 8], label="a"), Leaf(x=[9, 10], label="b")],
                tags=["x", "y"],
                meta={"k": [1, 2, None], "nested": {"z": 1.5}},
                pair=(3, "three"),
                big=2**80 + 1,
                url="https://example.com/cat.png",
                text_url="docs/readme.txt",
                blob=b"\x00\xff\x10",
                image_bytes=b"\x89PNG....",
                ref="ref-1",
                note="",
            ),
            Rich(
                title="",
                emb=np.zeros(3, dtype=np.float32),
                image=np.zeros((2, 2), dtype=np.float16),
                any_t=np.array([0.5, 1.5]),
                mid=Mid(),
                score=-0.0,
            ),
            Rich(
                title="third",
                emb=np.array([-1.0, 0.5, 1e30], dtype=np.float32),
                image=np.ones((2, 2), dtype=np.float16),
                any_t=jnp.zeros(3),
                mid=None,
                score=float("-inf"),
            ),
        ]
    )


def assert_same_docs(got, want):
    assert len(got) == len(want)
    assert list(got) == list(want)
    assert [d.id for d in got] == [d.id for d in want]


# -- round trips ---------------------------------------------------------------------------


def test_doc_list_round_trip_keeps_every_field():
    docs = rich_docs()
    back = DocList[Rich].from_arrow(docs.to_arrow())
    assert type(back) is DocList[Rich]
    assert_same_docs(back, docs)
    first = back[0]
    assert first.emb.dtype == np.float32 and first.image.dtype == np.float16
    assert first.opt.dtype == np.int8 and back[1].opt is None
    assert isinstance(first.torch_t, torch.Tensor) and first.torch_t.shape == (2, 3)
    assert isinstance(first.jax_t, JaxArray) and first.jax_t.dtype == jnp.int32
    # AnyTensor: each document's framework comes back
    assert isinstance(first.any_t, torch.Tensor) and first.any_t.dtype == torch.float64
    assert type(back[1].any_t) is np.ndarray
    assert isinstance(back[2].any_t, JaxArray)
    assert first.mid.leaf.label == "deep" and first.mid.leaf.id == docs[0].mid.leaf.id
    assert back[1].mid.leaf is None and len(back[1].mid.leaves) == 0
    assert back[2].mid is None
    assert [c.id for c in first.chunks] == [c.id for c in docs[0].chunks]
    assert first.big == 2**80 + 1 and first.pair == (3, "three")
    assert first.meta == {"k": [1, 2, None], "nested": {"z": 1.5}}
    assert first.blob == b"\x00\xff\x10" and isinstance(first.image_bytes, ImageBytes)
    assert first.score == math.inf and back[2].score == -math.inf
    assert math.copysign(1.0, back[1].score) == -1.0
    assert first.note == "" and back[1].note is None


def test_doc_vec_round_trip_keeps_tensor_type():
    docs = rich_docs()
    vec = DocVec[Rich](docs, tensor_type=TorchTensor)
    table = vec.to_arrow()
    back = DocVec[Rich].from_arrow(table)
    assert type(back) is DocVec[Rich]
    assert back.tensor_type is TorchTensor
    assert_same_docs(back, vec)
    assert isinstance(back[0].any_t, torch.Tensor)
    assert type(back.get_tensor_column("emb")[0]) is np.ndarray  # NdArray fields stay numpy
    # the same table read as a DocList gives the same documents
    assert_same_docs(DocList[Rich].from_arrow(table), docs)


def test_doc_vec_tensor_type_argument_wins_over_the_recorded_one():
    vec = DocVec[Rich](rich_docs(), tensor_type=TorchTensor)
    back = DocVec[Rich].from_arrow(vec.to_arrow(), tensor_type=JaxArray)
    assert back.tensor_type is JaxArray
    assert isinstance(back[1].any_t, JaxArray)
    assert back == vec


def test_doc_list_table_reads_as_doc_vec_and_back():
    docs = rich_docs()
    vec = DocVec[Rich].from_arrow(docs.to_arrow())
    assert vec.tensor_type.__name__ == "NdArray"
    assert_same_docs(vec, docs)
    assert_same_docs(DocList[Rich].from_arrow(vec.to_arrow()), docs)


@pytest.mark.parametrize("columnar", [False, True])
def test_parquet_round_trip(tmp_path, columnar):
    docs = rich_docs()
    data = DocVec[Rich](docs) if columnar else docs
    path = tmp_path / "docs.parquet"
    data.to_parquet(path)
    back = type(data).from_parquet(path)
    assert type(back) is type(data)
    assert_same_docs(back, data)
    assert back[0].image.dtype == np.float16


def test_parquet_passes_options_and_reads_a_file_object(tmp_path):
    docs = rich_docs()
    path = tmp_path / "docs.parquet"
    docs.to_parquet(str(path), compression="zstd", row_group_size=1)
    assert pq.ParquetFile(path).metadata.num_row_groups == 3
    with open(path, "rb") as f:
        back = DocList[Rich].from_parquet(f)
    assert_same_docs(back, docs)


def test_parquet_of_a_doc_vec_keeps_its_tensor_type(tmp_path):
    vec = DocVec[Rich](rich_docs(), tensor_type=TorchTensor)
    path = tmp_path / "vec.parquet"
    vec.to_parquet(path)
    back = DocVec[Rich].from_parquet(path)
    assert back.tensor_type is TorchTensor
    assert back == vec


def test_parquet_reads_only_the_columns_of_the_fields(tmp_path):
    table = pa.table({"x": [[1.0, 2.0], [3.0, 4.0]], "label": ["a", "b"], "other": [1, 2]})
    path = tmp_path / "wide.parquet"
    pq.write_table(table, path)
    docs = DocList[Leaf].from_parquet(path)
    assert docs.label == ["a", "b"]
    np.testing.assert_array_equal(docs[1].x, [3.0, 4.0])


def test_empty_arrays_round_trip(tmp_path):
    for data in (DocList[Rich](), DocVec[Rich]([])):
        table = data.to_arrow()
        assert table.num_rows == 0
        assert "emb" in table.column_names
        assert len(type(data).from_arrow(table)) == 0
        data.to_parquet(tmp_path / "empty.parquet")
        assert len(type(data).from_parquet(tmp_path / "empty.parquet")) == 0


def test_doc_vec_slice_writes_only_its_documents():
    docs = rich_docs()
    vec = DocVec[Rich](docs)
    table = vec[1:].to_arrow()
    assert table.num_rows == 2
    assert_same_docs(DocList[Rich].from_arrow(table), DocList[Rich](list(docs)[1:]))
    assert_same_docs(DocVec[Rich].from_arrow(vec[::2].to_arrow()), [docs[0], docs[2]])


def test_record_batch_and_chunked_tables():
    docs = rich_docs()
    table = docs.to_arrow()
    batch = table.to_batches()[0]
    assert_same_docs(DocList[Rich].from_arrow(batch), docs)
    chunked = pa.concat_tables([table.slice(0, 1), table.slice(1, 2)])
    assert chunked.column("emb").num_chunks == 2
    assert_same_docs(DocList[Rich].from_arrow(chunked), docs)
    assert_same_docs(DocVec[Rich].from_arrow(chunked), docs)


def test_sliced_table_reads_its_rows():
    docs = rich_docs()
    part = docs.to_arrow().slice(1, 2)
    back = DocVec[Rich].from_arrow(part)
    assert_same_docs(back, DocList[Rich](list(docs)[1:]))


# -- tensors: dtypes, shapes, layouts -------------------------------------------------------


class Tensors(BaseDoc):
    t: Optional[NdArray] = None


DTYPES = [
    np.float16,
    np.float32,
    np.float64,
    np.int8,
    np.int16,
    np.int32,
    np.int64,
    np.uint8,
    np.uint16,
    np.uint32,
    np.uint64,
    np.bool_,
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(), (3,), (2, 3), (2, 1, 2)])
@pytest.mark.parametrize("columnar", [False, True])
def test_dtypes_and_shapes_round_trip(dtype, shape, columnar):
    rng = np.random.default_rng(0)
    values = [(rng.random(shape) * 100).astype(dtype) for _ in range(3)]
    docs = DocList[Tensors]([Tensors(t=v) for v in values] + [Tensors()])
    data = DocVec[Tensors](docs) if columnar else docs
    table = data.to_arrow()
    field_type = table.schema.field("t").type
    if shape:
        assert pa.types.is_fixed_size_list(field_type)
    else:
        assert not pa.types.is_nested(field_type)
    for back in (DocList[Tensors].from_arrow(table), DocVec[Tensors].from_arrow(table)):
        got = [d.t for d in back]
        assert got[3] is None
        for a, b in zip(got[:3], values):
            assert a.dtype == b.dtype and a.shape == b.shape
            np.testing.assert_array_equal(a, b)


def test_multi_dim_tensor_is_a_nested_fixed_size_list():
    class Img(BaseDoc):
        image: NdArray[3, 4, 5]

    docs = DocList[Img]([Img(image=np.arange(60, dtype=np.uint8).reshape(3, 4, 5))])
    t = docs.to_arrow().schema.field("image").type
    assert t == pa.list_(pa.list_(pa.list_(pa.uint8(), 5), 4), 3)
    back = DocList[Img].from_arrow(docs.to_arrow())
    np.testing.assert_array_equal(back[0].image, docs[0].image)


def test_ragged_1d_tensors_are_a_list_column():
    docs = DocList[Tensors]([Tensors(t=np.arange(3.0)), Tensors(t=np.arange(5.0)), Tensors()])
    table = docs.to_arrow()
    assert table.schema.field("t").type == pa.list_(pa.float64())
    assert table.column("t").to_pylist() == [[0.0, 1.0, 2.0], [0, 1, 2, 3, 4], None]
    for cls in (DocList[Tensors], DocVec[Tensors]):
        back = cls.from_arrow(table)
        assert [None if d.t is None else d.t.tolist() for d in back] == [
            [0.0, 1.0, 2.0],
            [0.0, 1.0, 2.0, 3.0, 4.0],
            None,
        ]


def test_ragged_multi_dim_tensors_keep_their_shapes():
    values = [
        np.ones((2, 3), np.float32),
        np.zeros((4, 1), np.float32),
        np.zeros((0, 7), np.float32),
    ]
    docs = DocList[Tensors]([Tensors(t=v) for v in values])
    table = docs.to_arrow()
    assert pa.types.is_struct(table.schema.field("t").type)
    for cls in (DocList[Tensors], DocVec[Tensors]):
        back = cls.from_arrow(table)
        assert [d.t.shape for d in back] == [(2, 3), (4, 1), (0, 7)]
        assert all(d.t.dtype == np.float32 for d in back)


def test_tensors_of_different_dtypes_and_complex_keep_their_dtypes():
    values = [
        np.array([1, 2], np.int16),
        np.array([[1.5]], np.float64),
        np.array([1 + 2j, 3 - 1j], np.complex64),
        np.array(7, np.uint64),
    ]
    docs = DocList[Tensors]([Tensors(t=v) for v in values] + [Tensors()])
    back = DocList[Tensors].from_arrow(docs.to_arrow())
    for got, want in zip(back, values):
        assert got.t.dtype == want.dtype and got.t.shape == want.shape
        np.testing.assert_array_equal(got.t, want)
    assert back[4].t is None
    complex_only = DocList[Tensors]([Tensors(t=np.array([1j, 2j], np.complex128))] * 2)
    back = DocVec[Tensors].from_arrow(complex_only.to_arrow())
    assert back.t.dtype == np.complex128


def test_empty_dimension_and_all_none_columns():
    docs = DocList[Tensors]([Tensors(t=np.zeros((2, 0))), Tensors(t=np.zeros((2, 0)))])
    back = DocVec[Tensors].from_arrow(docs.to_arrow())
    assert back.t.shape == (2, 2, 0)
    none = DocList[Tensors]([Tensors(), Tensors()])
    table = none.to_arrow()
    assert pa.types.is_null(table.schema.field("t").type)
    assert DocVec[Tensors].from_arrow(table).t is None
    assert DocList[Tensors].from_arrow(table).t == [None, None]


def test_nan_and_inf_in_tensors_and_floats():
    class F(BaseDoc):
        v: NdArray[3]
        f: float

    docs = DocList[F]([F(v=[np.nan, np.inf, -np.inf], f=float("nan"))])
    back = DocList[F].from_arrow(docs.to_arrow())
    np.testing.assert_array_equal(back[0].v, [np.nan, np.inf, -np.inf])
    assert math.isnan(back[0].f)


def test_tensorflow_fields_round_trip():
    tf = pytest.importorskip("tensorflow")
    from docstack.typing import TensorFlowTensor

    class T(BaseDoc):
        t: TensorFlowTensor[2, 2]
        a: Optional[AnyTensor] = None

    docs = DocList[T](
        [T(t=tf.eye(2), a=tf.constant([1, 2], dtype=tf.int32)), T(t=tf.zeros((2, 2)))]
    )
    back = DocList[T].from_arrow(docs.to_arrow())
    assert back == docs
    assert isinstance(back[0].t, TensorFlowTensor)
    assert isinstance(back[0].a, TensorFlowTensor) and back[0].a.dtype == tf.int32
    vec = DocVec[T](docs, tensor_type=TensorFlowTensor)
    assert DocVec[T].from_arrow(vec.to_arrow()).tensor_type is TensorFlowTensor


def test_ready_documents_round_trip():
    docs = DocList[ImageDoc](
        [
            ImageDoc(url="https://example.com/a.png", embedding=torch.ones(4)),
            ImageDoc(tensor=np.zeros((2, 2, 3), np.uint8), bytes_=b"\x89PNG"),
        ]
    )
    back = DocList[ImageDoc].from_arrow(docs.to_arrow())
    assert_same_docs(back, docs)
    texts = DocList[TextDoc]([TextDoc(text="a", embedding=np.ones(3)), TextDoc(text=None)])
    assert_same_docs(DocVec[TextDoc].from_arrow(texts.to_arrow()), texts)


def test_modality_and_embedding_types_keep_their_classes():
    class M(BaseDoc):
        e: AnyEmbedding[2]

    docs = DocList[M]([M(e=torch.ones(2)), M(e=np.zeros(2))])
    back = DocList[M].from_arrow(docs.to_arrow())
    assert isinstance(back[0].e, TorchEmbedding)
    assert isinstance(back[1].e, NdArrayEmbedding)


# -- layout ---------------------------------------------------------------------------------


def test_layout_of_plain_nested_and_list_fields():
    table = rich_docs().to_arrow()
    schema = table.schema
    assert schema.field("title").type == pa.string()
    assert schema.field("count").type == pa.int64()
    assert schema.field("score").type == pa.float64()
    assert schema.field("flag").type == pa.bool_()
    assert schema.field("url").type == pa.string()
    assert schema.field("ref").type == pa.string()
    assert schema.field("blob").type == pa.binary()
    assert schema.field("image_bytes").type == pa.binary()
    assert schema.field("tags").type == pa.list_(pa.string())
    assert schema.field("emb").type == pa.list_(pa.float32(), 3)
    assert schema.field("image").type == pa.list_(pa.list_(pa.float16(), 2), 2)
    mid = schema.field("mid").type
    assert pa.types.is_struct(mid) and mid.field("leaf").type.field("label").type == pa.string()
    chunks = schema.field("chunks").type
    assert pa.types.is_list(chunks) and pa.types.is_struct(chunks.value_type)
    # values Arrow has no obvious type for are JSON texts, marked in the field metadata
    for name in ("meta", "pair", "big"):
        assert schema.field(name).type == pa.string()
        assert b"json" in schema.field(name).metadata[b"docstack"]
    assert table.column("meta").to_pylist()[0] == '{"k":[1,2,null],"nested":{"z":1.5}}'
    assert table.column("title").to_pylist()[2] == "third"
    assert table.column("mid").to_pylist()[2] is None
    assert b"DocList" in schema.metadata[b"docstack"] and b"Rich" in schema.metadata[b"docstack"]


def test_plain_values_are_nullable_and_none_is_null():
    table = rich_docs().to_arrow()
    assert table.column("opt").null_count == 2
    assert table.column("url").to_pylist() == ["https://example.com/cat.png", None, None]


# -- zero copy ------------------------------------------------------------------------------


class Emb(BaseDoc):
    text: str
    emb: NdArray[128]


def _emb_docs(n: int) -> DocList[Emb]:
    rng = np.random.default_rng(1)
    matrix = rng.standard_normal((n, 128)).astype(np.float32)
    return DocList[Emb]([Emb(text=f"text {i}", emb=matrix[i]) for i in range(n)])


def _values_buffer(table, name):
    chunk = table.column(name).chunks[0]
    return chunk.values.buffers()[1]


def test_doc_vec_to_arrow_does_not_copy_the_tensor_column():
    vec = _emb_docs(50).to_doc_vec()
    column, _ = vec.get_tensor_column("emb")
    table = vec.to_arrow()
    assert _values_buffer(table, "emb").address == column.ctypes.data


def test_from_arrow_does_not_copy_the_tensor_column():
    table = _emb_docs(50).to_arrow()
    buffer = _values_buffer(table, "emb")
    arrow_view = np.frombuffer(buffer, dtype=np.float32)
    vec = DocVec[Emb].from_arrow(table)
    column, _ = vec.get_tensor_column("emb")
    assert column.ctypes.data == buffer.address
    assert np.shares_memory(column, arrow_view)
    docs = DocList[Emb].from_arrow(table)
    assert all(np.shares_memory(d.emb, arrow_view) for d in docs[:5])
    assert not column.flags.writeable  # Arrow memory is immutable


def test_optional_tensor_column_with_nulls_is_still_zero_copy():
    docs = DocList[Tensors]([Tensors(t=np.ones(4)), Tensors(), Tensors(t=np.zeros(4))])
    vec = DocVec[Tensors](docs)
    data, mask = vec.get_tensor_column("t")
    table = vec.to_arrow()
    assert _values_buffer(table, "t").address == data.ctypes.data
    back = DocVec[Tensors].from_arrow(table)
    got, got_mask = back.get_tensor_column("t")
    assert got_mask.tolist() == [True, False, True]
    assert np.shares_memory(got, np.frombuffer(_values_buffer(table, "t"), dtype=np.float64))


def test_a_hundred_thousand_embeddings_go_through_arrow():
    n = 100_000
    docs = _emb_docs(n)
    vec = docs.to_doc_vec()
    table = vec.to_arrow()
    assert table.num_rows == n and table.schema.field("emb").type == pa.list_(pa.float32(), 128)
    back = DocVec[Emb].from_arrow(table)
    np.testing.assert_array_equal(back.emb, vec.emb)
    assert back.text[-1] == f"text {n - 1}" and back.id == vec.id
    listed = DocList[Emb].from_arrow(docs.to_arrow())
    assert listed[n // 2] == docs[n // 2] and listed[-1].id == docs[-1].id
    np.testing.assert_array_equal(listed[12345].emb, docs[12345].emb)


# -- tables written elsewhere ---------------------------------------------------------------


class Foreign(BaseDoc):
    name: str
    url: Optional[ImageUrl] = None
    emb: NdArray[4]
    count: int = 0


def test_foreign_fixed_size_list_column_fills_a_tensor_field():
    values = np.arange(12, dtype=np.float32)
    table = pa.table(
        {
            "name": ["a", "b", "c"],
            "emb": pa.FixedSizeListArray.from_arrays(pa.array(values), 4),
        }
    )
    for cls in (DocList[Foreign], DocVec[Foreign]):
        docs = cls.from_arrow(table)
        assert [d.name for d in docs] == ["a", "b", "c"]
        np.testing.assert_array_equal(docs[2].emb, [8, 9, 10, 11])
        assert docs[0].count == 0 and docs[0].url is None
        assert len({d.id for d in docs}) == 3  # fresh ids for a table without an id column


def test_foreign_list_column_fills_tensor_fields():
    table = pa.table(
        {
            "name": pa.array(["a", "b"], type=pa.large_string()),
            "url": ["https://example.com/x.jpg", None],
            "emb": pa.array([[1, 2, 3, 4], [5, 6, 7, 8]], type=pa.list_(pa.float64())),
        }
    )
    vec = DocVec[Foreign].from_arrow(table)
    assert vec.emb.shape == (2, 4) and vec.emb.dtype == np.float64
    assert vec.url == ["https://example.com/x.jpg", None]

    class Free(BaseDoc):
        v: NdArray

    ragged = pa.table({"v": pa.array([[1.0], [2.0, 3.0], []], type=pa.list_(pa.float32()))})
    docs = DocList[Free].from_arrow(ragged)
    assert [d.v.tolist() for d in docs] == [[1.0], [2.0, 3.0], []]
    points = pa.table(
        {
            "v": pa.array(
                [[[1, 2, 3]], [[4, 5, 6], [7, 8, 9]]], type=pa.list_(pa.list_(pa.int32(), 3))
            )
        }
    )
    assert [d.v.shape for d in DocVec[Free].from_arrow(points)] == [(1, 3), (2, 3)]
    nested = pa.table({"v": pa.array([[[1, 2], [3, 4]]], type=pa.list_(pa.list_(pa.int64())))})
    assert DocList[Free].from_arrow(nested)[0].v.tolist() == [[1, 2], [3, 4]]


def test_table_made_by_pandas_reads():
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame(
        {
            "name": ["a", "b"],
            "emb": [np.arange(4.0), np.ones(4)],
            "count": [1, 2],
            "unrelated": [0.1, 0.2],
        },
        index=[10, 11],
    )
    table = pa.Table.from_pandas(frame)
    docs = DocList[Foreign].from_arrow(table)
    assert docs.get_column("count") == [1, 2]
    np.testing.assert_array_equal(docs[0].emb, np.arange(4.0))


def test_extra_columns_are_ignored():
    table = foreign_table().append_column("extra", pa.array([1, 2]))
    docs = DocList[Foreign].from_arrow(table)
    assert docs.name == ["a", "b"]


def foreign_table():  # noqa: N802 - a table factory
    return pa.table(
        {
            "name": ["a", "b"],
            "emb": pa.array([[0.0] * 4, [1.0] * 4], type=pa.list_(pa.float32(), 4)),
        }
    )


def test_missing_required_column_names_it():
    table = foreign_table().drop_columns(["emb"])
    with pytest.raises(SchemaMismatchError, match="'emb'"):
        DocList[Foreign].from_arrow(table)
    with pytest.raises(SchemaMismatchError, match="'name'"):
        DocVec[Foreign].from_arrow(foreign_table().drop_columns(["name"]))


def test_column_of_the_wrong_type_names_it():
    table = foreign_table().set_column(0, "name", pa.array([1, 2]))
    with pytest.raises(SchemaMismatchError, match=r"column 'name', row 0"):
        DocList[Foreign].from_arrow(table)
    table = foreign_table().set_column(1, "emb", pa.array(["x", "y"]))
    with pytest.raises(SchemaMismatchError, match=r"column 'emb'.*string"):
        DocVec[Foreign].from_arrow(table)
    table = foreign_table().append_column("url", pa.array(["https://example.com/a.png", "x\x00y"]))
    with pytest.raises(SchemaMismatchError, match=r"column 'url', row 1"):
        DocList[Foreign].from_arrow(table)


def test_tensor_of_the_wrong_shape_names_the_column():
    table = pa.table(
        {"name": ["a"], "emb": pa.FixedSizeListArray.from_arrays(pa.array(np.zeros(3)), 3)}
    )
    for cls in (DocList[Foreign], DocVec[Foreign]):
        with pytest.raises(SchemaMismatchError, match=r"column 'emb'.*\(4,\)"):
            cls.from_arrow(table)
    ragged = pa.table({"name": ["a", "b"], "emb": pa.array([[1.0] * 4, [1.0] * 3])})
    with pytest.raises(SchemaMismatchError, match=r"column 'emb', row 1"):
        DocList[Foreign].from_arrow(ragged)


def test_null_in_a_required_tensor_or_inside_a_tensor_names_the_row():
    nulls = pa.table(
        {"name": ["a", "b"], "emb": pa.array([[1.0] * 4, None], type=pa.list_(pa.float64(), 4))}
    )
    with pytest.raises(SchemaMismatchError, match=r"column 'emb', row 1.*not Optional"):
        DocVec[Foreign].from_arrow(nulls)
    inner = pa.table({"name": ["a", "b"], "emb": pa.array([[1.0] * 4, [1.0, None, 2.0, 3.0]])})
    with pytest.raises(SchemaMismatchError, match=r"column 'emb'"):
        DocList[Foreign].from_arrow(inner)
    fixed_inner = pa.table(
        {"name": ["a"], "emb": pa.array([[1.0, None, 2.0, 3.0]], type=pa.list_(pa.float64(), 4))}
    )
    with pytest.raises(SchemaMismatchError, match=r"column 'emb', row 0: a tensor holds a null"):
        DocList[Foreign].from_arrow(fixed_inner)


def test_nested_errors_name_the_nested_column():
    table = rich_docs().to_arrow()
    mid = table.column("mid").combine_chunks()
    leaf = mid.field("leaf")
    bad_leaf = pa.StructArray.from_arrays(
        [leaf.field("id"), pa.array([[1.0, 2.0, 3.0], None, None]), leaf.field("label")],
        names=["id", "x", "label"],
    )
    bad_mid = pa.StructArray.from_arrays(
        [mid.field("id"), bad_leaf, mid.field("leaves")],
        names=["id", "leaf", "leaves"],
        mask=pa.array([False, False, True]),
    )
    bad = table.set_column(table.schema.get_field_index("mid"), "mid", bad_mid)
    with pytest.raises(SchemaMismatchError, match=r"mid\.leaf\.x"):
        DocList[Rich].from_arrow(bad)


def test_not_a_table_or_not_parquet_raises_deserialization_error(tmp_path):
    with pytest.raises(DeserializationError, match="pyarrow.Table"):
        DocList[Foreign].from_arrow({"name": ["a"]})
    path = tmp_path / "bad.parquet"
    path.write_bytes(b"not parquet at all")
    with pytest.raises(DeserializationError, match="Parquet"):
        DocList[Foreign].from_parquet(path)


def test_corrupt_docstack_metadata_raises_deserialization_error():
    table = foreign_table()
    bad = table.replace_schema_metadata({b"docstack": b"{not json"})
    with pytest.raises(DeserializationError, match="metadata"):
        DocList[Foreign].from_arrow(bad)


class _Vec(BaseDoc):
    v: NdArray[2]


@pytest.mark.parametrize("dtype", ["O", "floac32", "f8,i4", "(2,)f4", "M8[s]", 7])
def test_a_dtype_in_the_metadata_must_be_numeric(dtype):
    """A damaged or forged field note cannot make an object array or crash the reader."""
    table = DocList[_Vec]([_Vec(v=[1, 2])]).to_arrow()
    field = table.schema.field("v")
    meta = json.loads(field.metadata[b"docstack"])
    meta["dtype"] = dtype
    forged = table.cast(
        table.schema.set(
            table.schema.get_field_index("v"),
            field.with_metadata({b"docstack": json.dumps(meta).encode()}),
        )
    )
    with pytest.raises(DeserializationError, match="invalid dtype"):
        DocList[_Vec].from_arrow(forged)


def test_a_column_name_that_is_no_text_is_a_deserialization_error(tmp_path):
    path = tmp_path / "docs.parquet"
    # without the stored Arrow schema, the footer holds the only copy of the column name
    pq.write_table(pa.table({"v": [1.0]}), path, store_schema=False)
    data = bytearray(path.read_bytes())
    at = data.rindex(b"v")
    data[at] = 0x83  # no longer UTF-8
    path.write_bytes(bytes(data))
    with pytest.raises(DeserializationError):
        DocList[_Vec].from_parquet(path)


def test_value_that_cannot_be_written_raises_serialization_error():
    class Holder(BaseDoc):
        thing: Any = None

    docs = DocList[Holder]([Holder(thing={"a": 1}), Holder(thing=object())])
    with pytest.raises(SerializationError, match=r"'thing', row 1"):
        docs.to_arrow()


def test_json_column_that_does_not_validate_names_the_row():
    class Pairs(BaseDoc):
        pair: tuple[int, int]

    docs = DocList[Pairs]([Pairs(pair=(1, 2)), Pairs(pair=(3, 4))])
    table = docs.to_arrow()
    field = table.schema.field("pair")
    index = table.schema.get_field_index("pair")
    bad = table.set_column(index, field, pa.array(["[1, 2]", '["x", 4]']))
    with pytest.raises(SchemaMismatchError, match=r"column 'pair', row 1"):
        DocList[Pairs].from_arrow(bad)


# -- untyped and validated documents --------------------------------------------------------


def test_untyped_doc_list_round_trip():
    docs = DocList(
        [
            AnyDoc(title="a", n=1, v=np.ones(2, np.float32), score=0.5),
            AnyDoc(title="b", n=2, v=torch.zeros(2), score=1.5),
        ]
    )
    back = DocList.from_arrow(docs.to_arrow())
    assert_same_docs(back, docs)
    assert isinstance(back[1].v, torch.Tensor)


def test_untyped_read_of_a_typed_table_gives_any_docs():
    docs = rich_docs()
    back = DocList.from_arrow(docs.to_arrow())
    assert all(type(d) is AnyDoc for d in back)
    assert back[0].title == docs[0].title and back[0].id == docs[0].id
    assert back[0].mid.leaf.label == "deep"
    np.testing.assert_array_equal(back[0].emb, docs[0].emb)


def test_any_doc_fields_inside_a_typed_document():
    class Box(BaseDoc):
        payload: Optional[AnyDoc] = None
        items: Optional[DocList] = None

    docs = DocList[Box](
        [
            Box(payload=AnyDoc(a=1, b="x"), items=DocList([AnyDoc(k=1), AnyDoc(k=2)])),
            Box(),
        ]
    )
    back = DocList[Box].from_arrow(docs.to_arrow())
    assert_same_docs(back, docs)


def test_documents_without_id_and_optional_doc_lists():
    class Part(BaseDocWithoutId):
        n: int

    class Whole(BaseDoc):
        parts: Optional[DocList[Part]] = None
        first: Optional[Part] = None

    docs = DocList[Whole](
        [Whole(parts=[Part(n=1), Part(n=2)], first=Part(n=0)), Whole(), Whole(parts=[])]
    )
    for cls in (DocList[Whole], DocVec[Whole]):
        back = cls.from_arrow(docs.to_arrow())
        assert list(back) == list(docs)
        assert back[1].parts is None and len(back[2].parts) == 0
        assert back[0].parts[1].n == 2 and back[1].first is None


def test_validators_of_the_document_class_run():
    class Lower(BaseDoc):
        name: str

        @field_validator("name")
        @classmethod
        def _lower(cls, value: str) -> str:
            return value.lower()

    table = pa.table({"name": ["ABC", "Def"]})
    assert DocList[Lower].from_arrow(table).name == ["abc", "def"]
    assert DocVec[Lower].from_arrow(table).name == ["abc", "def"]


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.text(),
            st.integers(min_value=-(2**63), max_value=2**63 - 1),
            st.floats(allow_nan=False),
            st.lists(st.floats(allow_nan=False, width=32), min_size=2, max_size=2),
        ),
        max_size=8,
    )
)
def test_random_documents_round_trip(rows):
    class R(BaseDoc):
        s: str
        i: int
        f: float
        v: NdArray[2]

    docs = DocList[R]([R(s=s, i=i, f=f, v=np.asarray(v, np.float32)) for s, i, f, v in rows])
    assert_same_docs(DocList[R].from_arrow(docs.to_arrow()), docs)
    assert_same_docs(DocVec[R].from_arrow(DocVec[R](docs).to_arrow()), docs)

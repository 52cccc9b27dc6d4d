"""docstack's own binary format: round trips, the layout's promises, and bad payloads."""

from __future__ import annotations

import struct
from typing import Optional

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from io_strategies import doc_arrays

from docstack import AnyDoc, BaseDoc, DocList, DocVec
from docstack.documents import ImageDoc, TextDoc
from docstack.errors import DeserializationError, SchemaMismatchError, SerializationError
from docstack.io import COMPRESSIONS, _binary
from docstack.typing import AnyTensor, ImageUrl, NdArray, TorchTensor


class Chunk(BaseDoc):
    text: str = ""
    vec: Optional[NdArray] = None


class Page(BaseDoc):
    title: str
    embedding: NdArray[4]
    torch_t: Optional[TorchTensor] = None
    any_t: Optional[AnyTensor] = None
    cover: Optional[ImageDoc] = None
    chunks: DocList[Chunk] = DocList[Chunk]()
    raw: Optional[bytes] = None
    meta: dict = {}
    score: float = 0.0
    count: int = 0
    url: Optional[ImageUrl] = None


def make_pages(n: int = 5) -> DocList[Page]:
    rng = np.random.default_rng(0)
    pages = []
    for i in range(n):
        pages.append(
            Page(
                title=f"page {i} é",
                embedding=rng.standard_normal(4).astype(np.float32),
                torch_t=torch.arange(i + 1, dtype=torch.float64) if i % 2 else None,
                any_t=torch.ones(2) if i == 1 else None,
                cover=ImageDoc(url="https://x.org/a.png") if i % 3 == 0 else None,
                chunks=[Chunk(text=f"c{j}", vec=np.ones(j)) for j in range(i)],
                raw=bytes(range(i)) if i else None,
                meta={"i": i, "nested": {"k": [i]}},
                score=i / 3,
                count=2**62 + i,
                url="https://x.org/p.jpg" if i == 2 else None,
            )
        )
    return DocList[Page](pages)


def assert_same(a, b) -> None:
    assert len(a) == len(b)
    for x, y in zip(a, b):
        assert x == y
        assert x.id == y.id


@pytest.mark.parametrize("compress", [None, *COMPRESSIONS])
def test_doclist_round_trip_keeps_every_field(compress):
    pages = make_pages()
    back = DocList[Page].from_bytes(pages.to_bytes(compress=compress))
    assert_same(pages, back)
    assert type(back) is DocList[Page]
    assert back[0].embedding.dtype == np.float32
    assert isinstance(back[1].torch_t, torch.Tensor) and back[1].torch_t.dtype == torch.float64
    # AnyTensor keeps the framework it had in the DocList
    assert isinstance(back[1].any_t, torch.Tensor)
    assert back[3].count == 2**62 + 3
    assert type(back[2].url) is ImageUrl
    assert back[0].cover.url == "https://x.org/a.png"
    assert back[4].chunks[3].vec.shape == (3,)


def test_decoded_tensors_are_writable_and_independent():
    pages = make_pages()
    back = DocList[Page].from_bytes(pages.to_bytes())
    back[0].embedding[0] = 42.0
    assert back[1].embedding[0] != 42.0
    assert pages[0].embedding[0] != 42.0


@pytest.mark.parametrize("tensor_type", [None, TorchTensor])
def test_doc_vec_round_trip_is_columnar(tensor_type):
    pages = make_pages(7)
    dv = pages.to_doc_vec(tensor_type=tensor_type)
    back = DocVec[Page].from_bytes(dv.to_bytes(compress="zstd"), tensor_type=tensor_type)
    assert type(back) is DocVec[Page]
    assert back.tensor_type is dv.tensor_type
    assert_same(dv.to_doc_list(), back.to_doc_list())
    # stacked columns again; AnyTensor ones in the DocVec's framework, the rest in their own
    column, mask = back.get_tensor_column("any_t")
    assert mask.tolist() == [False, True, False, False, False, False, False]
    assert isinstance(column, torch.Tensor) == (tensor_type is TorchTensor)
    assert isinstance(back.embedding, np.ndarray) and back.embedding.shape == (7, 4)


def test_doc_list_and_doc_vec_payloads_are_interchangeable():
    pages = make_pages()
    as_vec = DocVec[Page].from_bytes(pages.to_bytes())
    assert_same(pages, as_vec.to_doc_list())
    as_list = DocList[Page].from_bytes(pages.to_doc_vec().to_bytes())
    assert_same(pages, as_list)


def test_a_slice_of_a_doc_vec_writes_only_its_documents():
    dv = make_pages(6).to_doc_vec()
    back = DocVec[Page].from_bytes(dv[2:5].to_bytes())
    assert len(back) == 3
    assert back.title == ["page 2 é", "page 3 é", "page 4 é"]


def test_single_document_round_trip_and_view():
    page = make_pages()[3]
    assert Page.from_bytes(page.to_bytes()) == page
    view = make_pages().to_doc_vec()[3]
    back = Page.from_bytes(view.to_bytes(compress="lz4"))
    assert back == page and not back.is_view()


def test_a_document_payload_of_several_documents_is_refused():
    with pytest.raises(DeserializationError, match="holds 5 documents"):
        Page.from_bytes(make_pages().to_bytes())


def test_untyped_doc_list_round_trips_as_any_docs():
    class Holder(BaseDoc):
        anything: DocList = DocList()

    holder = Holder(anything=[TextDoc(text="a"), AnyDoc(x=1)])
    back = Holder.from_bytes(holder.to_bytes())
    assert [type(d) for d in back.anything] == [AnyDoc, AnyDoc]
    assert back.anything[0].text == "a" and back.anything[1].x == 1


def test_empty_arrays_and_empty_tensors():
    empty = DocList[Page]()
    assert len(DocList[Page].from_bytes(empty.to_bytes())) == 0
    assert len(DocVec[Page].from_bytes(DocVec[Page]([]).to_bytes())) == 0

    class Free(BaseDoc):
        t: NdArray

    docs = DocList[Free]([Free(t=np.zeros((0, 3))), Free(t=np.array(5.0))])
    back = DocList[Free].from_bytes(docs.to_bytes())
    assert back[0].t.shape == (0, 3) and back[1].t.shape == () and back[1].t == 5.0


def test_nan_and_inf_survive_in_tensors_and_floats():
    class F(BaseDoc):
        x: float
        t: NdArray

    doc = F(x=float("nan"), t=np.array([np.nan, np.inf, -np.inf]))
    back = F.from_bytes(doc.to_bytes())
    assert np.isnan(back.x)
    assert np.isnan(back.t[0]) and back.t[1] == np.inf and back.t[2] == -np.inf


def test_big_endian_tensors_are_written_little_endian():
    class T(BaseDoc):
        t: NdArray

    doc = T(t=np.arange(3, dtype=">i4"))
    back = T.from_bytes(doc.to_bytes())
    assert back.t.tolist() == [0, 1, 2] and back.t.dtype.byteorder in "<="


def test_custom_validators_run_on_read():
    from pydantic import field_validator

    class Checked(BaseDoc):
        name: str

        @field_validator("name")
        @classmethod
        def upper(cls, v: str) -> str:
            return v.upper()

    docs = DocList[Checked]([Checked(name="a"), Checked(name="b")])
    back = DocList[Checked].from_bytes(docs.to_bytes())
    assert back.name == ["A", "B"]


def test_field_constraints_are_checked_on_read():
    from pydantic import Field

    class Loose(BaseDoc):
        n: int

    class Strict(BaseDoc):
        n: int = Field(gt=0)

    payload = DocList[Loose]([Loose(n=3), Loose(n=-1)]).to_bytes()
    with pytest.raises(SchemaMismatchError, match="'n' of document 1"):
        DocList[Strict].from_bytes(payload)


# -- schema mismatches ------------------------------------------------------------------------


class Small(BaseDoc):
    title: str


class Other(BaseDoc):
    title: int


class Wider(BaseDoc):
    title: str
    extra: str = "default"


class NeedsMore(BaseDoc):
    title: str
    required: str


def test_a_field_the_class_lacks_is_a_schema_mismatch():
    with pytest.raises(SchemaMismatchError, match="'embedding'.*Small does not declare"):
        DocList[Small].from_bytes(make_pages().to_bytes())


def test_a_value_of_another_type_is_a_schema_mismatch_naming_the_field():
    payload = DocList[Small]([Small(title="x")]).to_bytes()
    with pytest.raises(SchemaMismatchError, match="'title'"):
        DocList[Other].from_bytes(payload)


def test_missing_fields_with_defaults_are_filled_and_required_ones_refused():
    payload = DocList[Small]([Small(title="x")]).to_bytes()
    back = DocList[Wider].from_bytes(payload)
    assert back[0].extra == "default" and back[0].title == "x"
    dv = DocVec[Wider].from_bytes(payload)
    assert dv.extra == ["default"]
    with pytest.raises(SchemaMismatchError, match="requires field 'required'"):
        DocList[NeedsMore].from_bytes(payload)


def test_a_tensor_of_another_shape_is_a_schema_mismatch():
    class Four(BaseDoc):
        v: NdArray[4]

    class Five(BaseDoc):
        v: NdArray[5]

    payload = DocList[Four]([Four(v=np.zeros(4))]).to_bytes()
    with pytest.raises(SchemaMismatchError, match="'v'"):
        DocList[Five].from_bytes(payload)
    with pytest.raises(SchemaMismatchError, match="'v'"):
        DocVec[Five].from_bytes(payload)


def test_kind_change_is_a_schema_mismatch():
    class AsTensor(BaseDoc):
        title: NdArray

    with pytest.raises(SchemaMismatchError, match="'title' is tensor"):
        DocList[AsTensor].from_bytes(DocList[Small]([Small(title="x")]).to_bytes())


def test_none_in_a_field_that_is_no_longer_optional():
    class Opt(BaseDoc):
        v: Optional[NdArray[2]] = None

    class Req(BaseDoc):
        v: NdArray[2]

    payload = DocList[Opt]([Opt(v=[1, 2]), Opt()]).to_bytes()
    with pytest.raises(SchemaMismatchError, match="'v'"):
        DocList[Req].from_bytes(payload)


# -- corrupt payloads -------------------------------------------------------------------------


def test_truncated_payloads_are_refused_at_every_length():
    payload = make_pages(3).to_bytes()
    for cut in range(0, len(payload), max(1, len(payload) // 97)):
        with pytest.raises(DeserializationError):
            DocList[Page].from_bytes(payload[:cut])


def test_trailing_bytes_are_refused():
    with pytest.raises(DeserializationError, match="trailing"):
        DocList[Page].from_bytes(make_pages(2).to_bytes() + b"\x00")


def test_a_lying_tensor_shape_is_refused_without_allocating_it():
    payload = bytearray(DocList[Chunk]([Chunk(vec=np.ones(3))]).to_bytes())
    meta = b'"shape":[3]'
    at = payload.index(meta)
    huge = b'"shape":[9]'
    payload[at : at + len(meta)] = huge
    with pytest.raises(DeserializationError, match="declares shape"):
        DocList[Chunk].from_bytes(bytes(payload))


def test_an_object_dtype_is_refused():
    payload = bytearray(DocList[Chunk]([Chunk(vec=np.ones(3))]).to_bytes())
    at = payload.index(b'"<f8"')
    payload[at : at + 5] = b'"|O8"'
    with pytest.raises(DeserializationError, match="invalid dtype"):
        DocList[Chunk].from_bytes(bytes(payload))


def test_a_newer_format_version_is_named():
    payload = bytearray(make_pages(1).to_bytes())
    payload[4] = 99
    with pytest.raises(DeserializationError, match="version 99"):
        DocList[Page].from_bytes(bytes(payload))


def test_a_wrong_document_count_in_the_end_mark_is_refused():
    payload = bytearray(make_pages(2).to_bytes())
    payload[-8:] = struct.pack("<Q", 3)
    with pytest.raises(DeserializationError, match="document count"):
        DocList[Page].from_bytes(bytes(payload))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_mutated_payloads_raise_only_docstack_errors(data):
    payload = bytearray(PAYLOADS[data.draw(st.sampled_from(sorted(PAYLOADS)))])
    for _ in range(data.draw(st.integers(1, 4))):
        i = data.draw(st.integers(0, len(payload) - 1))
        payload[i] = data.draw(st.integers(0, 255))
    try:
        back = DocList[Page].from_bytes(bytes(payload))
    except DeserializationError:
        return
    # a mutation inside a string or a float can still be a valid payload: then it is whole
    assert len(back) == 3 and all(isinstance(d, Page) for d in back)


PAYLOADS = {
    "plain": make_pages(3).to_bytes(),
    "lz4": make_pages(3).to_bytes(compress="lz4"),
    "zlib": make_pages(3).to_bytes(compress="zlib"),
}


def test_values_that_json_cannot_hold_are_a_serialization_error_naming_the_field():
    class Weird(BaseDoc):
        model_config = {"arbitrary_types_allowed": True}
        thing: object

    with pytest.raises(SerializationError, match="'thing'"):
        Weird(thing=object()).to_bytes()


# -- property: every generated schema round-trips --------------------------------------------


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(case=doc_arrays(), compress=st.sampled_from([None, "lz4", "zstd"]))
def test_generated_schemas_round_trip(case, compress):
    cls, docs = case
    dl = DocList[cls](docs)
    back = DocList[cls].from_bytes(dl.to_bytes(compress=compress))
    assert_same(dl, back)
    dv = DocVec[cls](docs)
    back_vec = DocVec[cls].from_bytes(dv.to_bytes(compress=compress))
    assert_same(dl, back_vec.to_doc_list())


def test_header_describes_the_schema():
    frame = _binary.read_frame(make_pages(1).to_bytes())
    names = [f[0] for f in frame.schema["fields"]]
    assert names == list(Page.model_fields)
    assert frame.schema["name"] == "Page" and frame.compression is None

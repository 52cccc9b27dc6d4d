"""Tests of ``DocVec``: column storage, write-through views, indexing, tensor types,
optional and ragged tensor columns, and column assignment."""

import copy
import json
import pickle
from typing import Optional

import jax.numpy as jnp
import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ConfigDict, ValidationError

from docstack import BaseDoc, DocList, DocVec
from docstack.errors import DocTypeError
from docstack.typing import AnyTensor, JaxArray, NdArray, TorchTensor


class Chunk(BaseDoc):
    title: str
    vec: NdArray[2]


class Inner(BaseDoc):
    e: NdArray[2]
    s: str = "i"


class Doc(BaseDoc):
    title: str
    count: int = 0
    v: NdArray[3]
    inner: Inner
    chunks: DocList[Chunk] = DocList[Chunk]()
    tags: list[str] = []


class Other(BaseDoc):
    title: str = ""


class Mixed(BaseDoc):
    a: AnyTensor
    n: NdArray[2]
    t: TorchTensor[2]
    j: JaxArray[2]
    inner: Inner
    chunks: DocList[Chunk] = DocList[Chunk]()


class Opt(BaseDoc):
    o: Optional[NdArray[2]] = None
    label: str = ""


class Ragged(BaseDoc):
    r: NdArray
    label: str = ""


def make_doc(i: int) -> Doc:
    return Doc(
        title=f"t{i}",
        count=i,
        v=[i, i + 1, i + 2],
        inner=Inner(e=[i, -i], s=f"s{i}"),
        chunks=[Chunk(title=f"{i}.{j}", vec=[i, j]) for j in range(i % 3)],
        tags=[f"tag{i}"],
    )


def make_docs(n: int = 4) -> list[Doc]:
    return [make_doc(i) for i in range(n)]


def make_mixed(n: int = 3) -> list[Mixed]:
    return [
        Mixed(
            a=torch.full((3,), float(i)),
            n=[i, i],
            t=[i, 2 * i],
            j=jnp.array([i, 3 * i]),
            inner=Inner(e=[i, i]),
            chunks=[Chunk(title="c", vec=[i, 0])],
        )
        for i in range(n)
    ]


# --------------------------------------------------------------------------------------------
# construction and columns
# --------------------------------------------------------------------------------------------


def test_columns():
    docs = make_docs(4)
    dv = DocVec[Doc](docs)
    assert len(dv) == 4
    assert dv.doc_type is Doc
    assert isinstance(dv.v, NdArray) and isinstance(dv.v, np.ndarray)
    assert dv.v.shape == (4, 3)
    assert dv.v.tolist() == [d.v.tolist() for d in docs]
    assert dv.title == ["t0", "t1", "t2", "t3"]
    assert dv.count == [0, 1, 2, 3]
    assert dv.tags == [["tag0"], ["tag1"], ["tag2"], ["tag3"]]
    assert dv.id == [d.id for d in docs]
    assert isinstance(dv.inner, DocVec) and dv.inner.doc_type is Inner
    assert dv.inner.e.shape == (4, 2)
    assert dv.inner.s == ["s0", "s1", "s2", "s3"]
    assert isinstance(dv.chunks, list) and len(dv.chunks) == 4
    assert all(isinstance(c, DocVec) and c.doc_type is Chunk for c in dv.chunks)
    assert [len(c) for c in dv.chunks] == [0, 1, 2, 0]
    assert dv.chunks[2].vec.tolist() == [[2, 0], [2, 1]]


def test_construction_from_dicts_and_generators():
    dv = DocVec[Inner]([{"e": [1, 2]}, Inner(e=[3, 4])])
    assert dv.e.tolist() == [[1, 2], [3, 4]]
    assert len(DocVec[Inner](Inner(e=[i, i]) for i in range(3))) == 3


def test_empty():
    dv = DocVec[Inner]([])
    assert len(dv) == 0
    assert list(dv) == []
    assert dv.s == []
    assert len(dv.to_doc_list()) == 0


def test_construction_rejects_wrong_documents():
    with pytest.raises(DocTypeError) as info:
        DocVec[Doc]([make_doc(0), Other(title="x")])
    assert isinstance(info.value, TypeError) and isinstance(info.value, ValueError)
    assert "Other" in str(info.value) and "Doc" in str(info.value)
    with pytest.raises(ValidationError):
        DocVec[Inner]([{"e": [1, 2, 3]}])


def test_construction_error_names_the_doc_vec_type():
    with pytest.raises(DocTypeError) as info:
        DocVec[Chunk]([Chunk(title="a", vec=[1, 2]), Other(title="x")])
    message = str(info.value)
    assert message.startswith("DocVec[Chunk] accepts only Chunk documents")
    assert "DocList" not in message and "position 1" in message
    with pytest.raises(DocTypeError, match=r"^DocVec\[Chunk\] accepts only"):
        DocVec[Chunk](DocList[Other]([Other()]))


class Captioned(Chunk):
    caption: str = ""


class Renamed(Chunk):
    """A subclass with methods only: it has no field that a Chunk column would lose."""

    def shout(self) -> str:
        return self.title.upper()


class Loose(Chunk):
    model_config = ConfigDict(extra="allow")


class Page(BaseDoc):
    chunk: Chunk
    maybe: Optional[Chunk] = None
    chunks: DocList[Chunk] = DocList[Chunk]()


class Book(BaseDoc):
    page: Page


def test_construction_refuses_documents_whose_fields_would_be_lost():
    plain, captioned = Chunk(title="a", vec=[1, 2]), Captioned(title="b", vec=[3, 4], caption="c")
    with pytest.raises(DocTypeError) as info:
        DocVec[Chunk]([plain, captioned])
    message = str(info.value)
    assert message.startswith("DocVec[Chunk] keeps the fields of Chunk only")
    assert "position 1" in message and "Captioned" in message and "'caption'" in message
    # a DocList[Chunk] holds the subclass as it is; its DocVec would not
    with pytest.raises(DocTypeError, match="'caption'"):
        DocList[Chunk]([plain, captioned]).to_doc_vec()
    # extra values of a class that allows them count too
    with pytest.raises(DocTypeError, match="'note'"):
        DocVec[Chunk]([Loose(title="a", vec=[1, 2]), Loose(title="b", vec=[1, 2], note=1)])
    # a subclass without fields of its own loses nothing: accepted, stored as Chunk
    dv = DocVec[Chunk]([Renamed(title="r", vec=[1, 1]), Loose(title="l", vec=[0, 0])])
    assert dv.title == ["r", "l"] and type(dv.to_doc_list()[0]) is Chunk


@pytest.mark.parametrize(
    "page, where",
    [
        (lambda c: Page(chunk=c), "field 'chunk' of Page"),
        (lambda c: Page(chunk=Chunk(title="x", vec=[0, 0]), maybe=c), "field 'maybe' of Page"),
        (
            lambda c: Page(
                chunk=Chunk(title="x", vec=[0, 0]), chunks=[Chunk(title="y", vec=[0, 0]), c]
            ),
            "field 'chunks' of Page, in the document at position {i}",
        ),
    ],
)
def test_nested_documents_whose_fields_would_be_lost_are_refused(page, where):
    captioned = Captioned(title="b", vec=[3, 4], caption="c")
    fine = Page(chunk=Chunk(title="x", vec=[0, 0]))
    with pytest.raises(DocTypeError) as info:
        DocVec[Page]([fine, page(captioned)])
    assert str(info.value).startswith(where.format(i=1)) and "'caption'" in str(info.value)
    with pytest.raises(DocTypeError) as info:
        DocVec[Book]([Book(page=page(captioned))])
    assert str(info.value).startswith(f"field 'page' of Book: {where.format(i=0)}")


def test_writes_of_documents_whose_fields_would_be_lost_change_nothing():
    captioned = Captioned(title="b", vec=[3, 4], caption="c")
    dv = DocVec[Page]([Page(chunk=Chunk(title=f"{i}", vec=[i, i])) for i in range(2)])
    before = dv.to_doc_list()
    with pytest.raises(DocTypeError, match="^field 'chunk' of Page: .*'caption'"):
        dv[0].chunk = captioned
    with pytest.raises(DocTypeError, match="^field 'chunks' of Page: .*'caption'"):
        dv[0].chunks = [captioned]
    # a whole document: refused before any of its fields (the id first) is written
    with pytest.raises(DocTypeError, match="^field 'chunk' of Page: .*'caption'"):
        dv[1] = Page(chunk=captioned)
    with pytest.raises(DocTypeError, match="^field 'chunks' of Page: .*'caption'"):
        dv[0:2] = [
            Page(chunk=Chunk(title="n", vec=[0, 0])),
            Page(chunk=plain_chunk(), chunks=[captioned]),
        ]
    with pytest.raises(DocTypeError, match="^field 'chunk' of Page: .*'caption'"):
        dv.chunk = [Chunk(title="n", vec=[0, 0]), captioned]
    with pytest.raises(DocTypeError, match="^field 'chunk' of Page: .*'caption'"):
        dv[1:].chunk = [captioned]
    with pytest.raises(DocTypeError, match="'caption'"):
        dv.chunk[0] = captioned
    assert dv.to_doc_list() == before and [d.id for d in dv] == [d.id for d in before]


def plain_chunk() -> Chunk:
    return Chunk(title="p", vec=[0, 0])


def test_needs_a_type():
    with pytest.raises(DocTypeError):
        DocVec([make_doc(0)])


def test_unknown_column():
    with pytest.raises(AttributeError) as info:
        DocVec[Doc](make_docs(2)).nope
    assert "nope" in str(info.value)


def test_input_arrays_that_are_read_only_or_strided():
    base = np.arange(12.0).reshape(4, 3)
    frozen = np.arange(3.0)
    frozen.flags.writeable = False
    docs = [Chunk(title="a", vec=base[:2, 0]), Chunk(title="b", vec=frozen[:2])]
    dv = DocVec[Chunk](docs)
    assert dv.vec.tolist() == [[0, 3], [0, 1]]
    dv[0].vec[0] = 100  # the column is writable: it does not alias the inputs
    assert base[0, 0] == 0 and dv.vec[0, 0] == 100


def test_untyped_doc_list_field():
    class Loose(BaseDoc):
        anything: DocList = DocList()

    docs = [Loose(anything=[Other(title="a"), Inner(e=[1, 2])]), Loose()]
    dv = DocVec[Loose](docs)
    assert len(dv) == 2
    assert dv.to_doc_list() == DocList[Loose](docs)


def test_untyped_doc_list_field_views_and_columns():
    class Loose(BaseDoc):
        anything: DocList = DocList()
        n: int = 0

    dv = DocVec[Loose]([Loose(anything=[Other(title="a")]), Loose(n=1)])
    assert [len(v) for v in dv.anything] == [1, 0]
    assert type(dv[0].anything) is DocList and dv[0].anything[0] == Other(title="a")
    dv[1].anything = [Inner(e=[1, 2]), {"k": "v"}]
    assert [type(d).__name__ for d in dv[1].anything] == ["Inner", "AnyDoc"]
    dv[0].update(Loose(anything=[Other(title="b")]))
    assert dv[0].anything.title == ["a", "b"]
    part = dv[1:]
    part[0].anything = []
    assert len(dv[1].anything) == 0
    assert dv.to_doc_list()[0].anything.title == ["a", "b"]


# --------------------------------------------------------------------------------------------
# views
# --------------------------------------------------------------------------------------------


def test_items_are_views():
    dv = DocVec[Doc](make_docs(3))
    view = dv[1]
    assert view.is_view() is True
    assert isinstance(view, Doc)
    assert type(view).__name__ == "Doc"
    assert view.title == "t1" and view.v.tolist() == [1, 2, 3]
    assert dv[-1].title == "t2"
    assert all(d.is_view() for d in dv)
    assert [d.title for d in dv] == ["t0", "t1", "t2"]
    assert view.inner.is_view() and view.inner.s == "s1"


def test_bad_item_indices():
    dv = DocVec[Doc](make_docs(3))
    with pytest.raises(IndexError):
        dv[3]
    with pytest.raises(IndexError):
        dv[-4]
    with pytest.raises(IndexError):
        dv["title"]


def test_view_field_assignment_writes_through():
    dv = DocVec[Doc](make_docs(3))
    view = dv[0]
    view.title = "new"
    view.count = "7"  # validated and converted
    view.v = [9, 9, 9]
    view.tags = ["x", "y"]
    assert dv.title[0] == "new"
    assert dv.count[0] == 7
    assert dv.v[0].tolist() == [9, 9, 9]
    assert dv.tags[0] == ["x", "y"]
    assert dv[0].v.tolist() == [9, 9, 9]
    assert dv.v[1].tolist() == [1, 2, 3]  # other rows untouched


def test_view_in_place_tensor_edits_write_through():
    dv = DocVec[Doc](make_docs(3))
    dv[1].v[0] = 50
    assert dv.v[1, 0] == 50
    row = dv[2].v
    dv.v[2, 2] = -1  # the column is live too
    assert row[2] == -1


def test_nested_views_write_through():
    dv = DocVec[Doc](make_docs(3))
    dv[0].inner.e[1] = 55
    dv[0].inner.s = "changed"
    assert dv.inner.e[0].tolist() == [0, 55]
    assert dv.inner.s[0] == "changed"
    assert dv.inner.e[1].tolist() == [1, -1]  # other rows untouched


def test_view_assigns_a_nested_document():
    dv = DocVec[Doc](make_docs(3))
    dv[1].inner = Inner(e=[8, 8], s="replaced")
    assert dv.inner.e[1].tolist() == [8, 8] and dv.inner.s[1] == "replaced"
    dv[2].inner = {"e": [4, 4]}
    assert dv.inner.e[2].tolist() == [4, 4]
    with pytest.raises(ValidationError):
        dv[0].inner = {"e": [1, 2, 3]}
    assert dv.inner.e[0].tolist() == [0, 0]


def test_doc_list_field_views_write_through():
    dv = DocVec[Doc](make_docs(3))
    chunk = dv[2].chunks[0]
    assert chunk.is_view()
    chunk.title = "edited"
    chunk.vec[1] = 99
    assert dv.chunks[2].title[0] == "edited"
    assert dv[2].chunks.vec[0].tolist() == [2, 99]
    dv[0].chunks = [Chunk(title="fresh", vec=[1, 1]), {"title": "d", "vec": [2, 2]}]
    assert dv[0].chunks.title == ["fresh", "d"]
    assert isinstance(dv.chunks[0], DocVec)


def test_view_assignment_is_validated_and_keeps_the_old_value():
    dv = DocVec[Doc](make_docs(2))
    with pytest.raises(ValidationError):
        dv[0].v = [1, 2]
    with pytest.raises(ValidationError):
        dv[0].v = np.zeros((1, 3))  # same size, other shape
    with pytest.raises(ValidationError):
        dv[0].v = ["a", "b", "c"]
    with pytest.raises(ValidationError):
        dv[0].count = "many"
    with pytest.raises(ValidationError):
        dv[0].chunks = [Other()]
    assert dv[0].v.tolist() == [0, 1, 2]
    assert dv[0].count == 0
    assert dv[0].inner.e.tolist() == [0, 0]
    assert dv.to_doc_list() == DocList[Doc](make_docs(2))


def test_view_assignment_error_names_the_field():
    dv = DocVec[Doc](make_docs(2))
    with pytest.raises(ValidationError) as info:
        dv[0].v = [1, 2]
    assert "v" in info.value.errors()[0]["loc"]
    with pytest.raises(ValidationError) as info:
        dv[0].count = "many"
    assert "count" in str(info.value)


def test_view_equality_json_and_copies():
    docs = make_docs(3)
    dv = DocVec[Doc](docs)
    view = dv[2]
    assert view == docs[2]
    assert docs[2] == view
    assert view != docs[1]
    assert json.loads(view.model_dump_json()) == json.loads(docs[2].model_dump_json())
    for standalone in (pickle.loads(pickle.dumps(view)), copy.deepcopy(view), view.model_copy()):
        assert standalone.is_view() is False
        assert standalone == docs[2] and standalone.id == docs[2].id
    detached = copy.deepcopy(view)
    detached.v[0] = -100
    assert dv.v[2, 0] == 2


def test_view_update_merges_into_the_columns():
    dv = DocVec[Doc](make_docs(2))
    dv[0].update(Doc(title="u", v=[5, 5, 5], inner=Inner(e=[1, 1]), tags=["more"]))
    assert dv.title[0] == "u"
    assert dv.v[0].tolist() == [5, 5, 5]
    assert dv.tags[0] == ["tag0", "more"]
    assert dv.inner.e[0].tolist() == [1, 1]


def test_view_update_extends_doc_list_fields():
    dv = DocVec[Doc](make_docs(2))  # doc 1 has one chunk
    dv[1].update(make_doc(2))  # which has two
    assert dv[1].chunks.title == ["1.0", "2.0", "2.1"]


def test_view_update_from_another_view_extends_doc_list_fields():
    dv = DocVec[Doc](make_docs(3))
    dv[1].update(dv[2])
    assert dv[1].chunks.title == ["1.0", "2.0", "2.1"]
    assert dv[2].chunks.title == ["2.0", "2.1"]  # the source is untouched
    doc = make_doc(1)
    doc.update(dv[2])  # a standalone document takes a view's DocVec field as well
    assert doc.chunks.title == ["1.0", "2.0", "2.1"]


def test_setitem_replaces_a_document():
    docs = make_docs(3)
    dv = DocVec[Doc](docs)
    dv[1] = make_doc(7)
    assert dv[1] == make_doc(7)
    assert dv.v[1].tolist() == [7, 8, 9]
    dv[-1] = make_doc(5).model_dump()
    assert dv[2] == make_doc(5)
    dv[0:2] = [make_doc(10), make_doc(11)]
    assert dv.title == ["t10", "t11", "t5"]
    with pytest.raises(DocTypeError):
        dv[0] = Other()
    with pytest.raises(ValueError):
        dv[0:2] = [make_doc(1)]
    with pytest.raises(DocTypeError):
        dv[[0, 1]] = [make_doc(1), Other()]
    assert dv.title == ["t10", "t11", "t5"]


# --------------------------------------------------------------------------------------------
# slicing and fancy indexing
# --------------------------------------------------------------------------------------------


def test_slices_share_tensor_memory():
    dv = DocVec[Doc](make_docs(5))
    part = dv[1:4]
    assert type(part) is DocVec[Doc]
    assert part.title == ["t1", "t2", "t3"]
    assert np.shares_memory(part.v, dv.v)
    part.v[0, 0] = -7
    assert dv.v[1, 0] == -7
    part[1].v[2] = -8
    assert dv.v[2, 2] == -8
    part[2].inner.e[0] = -9  # nested columns are sliced too
    assert dv.inner.e[3, 0] == -9
    assert dv[::2].title == ["t0", "t2", "t4"]
    assert dv[-2:].title == ["t3", "t4"]


def test_field_assignment_through_a_slice_view_reaches_the_original():
    dv = DocVec[Doc](make_docs(4))
    part = dv[1:3]
    part[0].v = [7, 7, 7]  # same dtype as the column
    assert dv[1].v.tolist() == [7, 7, 7]


def test_slice_view_assignment_with_wider_dtype_reaches_the_original():
    dv = DocVec[Doc](make_docs(3))  # int column
    part = dv[0:2]
    part[0].v = [0.5, 0.5, 0.5]
    assert dv[0].v.tolist() == part[0].v.tolist()


def test_slice_view_assignment_of_none_reaches_the_original():
    dv = DocVec[Opt]([Opt(o=[i, i]) for i in range(4)])
    part = dv[1:3]
    part[0].o = None
    assert part[0].o is None
    assert dv[1].o is None


def test_every_write_through_a_slice_reaches_the_original():
    dv = DocVec[Doc](make_docs(5))
    part = dv[1:4]
    part[0].title = "list field"
    part[1].chunks = [Chunk(title="fresh", vec=[0, 0])]
    part[2].inner.s = "nested"
    part[2].tags.append("appended")
    assert dv.title[1] == "list field"
    assert dv[2].chunks.title == ["fresh"]
    assert dv.inner.s[3] == "nested"
    assert dv.tags[3] == ["tag3", "appended"]
    part[1] = make_doc(9)
    assert dv[2] == make_doc(9)
    # and writes to the original show in the slice, even when they replace the column
    dv[2].v = [0.25, 0.25, 0.25]
    assert part[1].v.tolist() == [0.25, 0.25, 0.25]
    assert np.shares_memory(part.v, dv.v)


def test_slices_of_slices_and_negative_steps_write_through():
    dv = DocVec[Doc](make_docs(6))
    rev = dv[::-1]
    assert rev.title == ["t5", "t4", "t3", "t2", "t1", "t0"]
    inner = rev[1:5:2]  # documents 4 and 2
    assert inner.title == ["t4", "t2"]
    inner[1].v = [0.5, 1.5, 2.5]
    inner[0].title = "four"
    assert dv[2].v.tolist() == [0.5, 1.5, 2.5]
    assert dv.title[4] == "four"
    assert dv[4:1:-1].title == ["four", "t3", "t2"]
    assert inner[[1, 0]].title == ["t2", "four"]  # positions map through both slices


def test_torch_slice_with_negative_step():
    dv = DocVec[Mixed](make_mixed(4), tensor_type=TorchTensor)
    rev = dv[::-1]
    assert rev.t.tolist() == [[3, 6], [2, 4], [1, 2], [0, 0]]
    rev[0].t = torch.tensor([0.5, 0.5])
    assert dv.t[3].tolist() == [0.5, 0.5]
    rev.a = torch.arange(12.0).reshape(4, 3)
    assert dv.a[0].tolist() == [9, 10, 11] and dv.a[3].tolist() == [0, 1, 2]


@pytest.mark.parametrize(
    "key",
    [[3, 0, -1], np.array([3, 0, 4]), torch.tensor([3, 0, 4])],
    ids=["list", "numpy", "torch"],
)
def test_index_lists(key):
    dv = DocVec[Doc](make_docs(5))
    out = dv[key]
    assert type(out) is DocVec[Doc]
    assert out.title == ["t3", "t0", "t4"]
    assert out.v.tolist() == [[3, 4, 5], [0, 1, 2], [4, 5, 6]]
    assert out.inner.s == ["s3", "s0", "s4"]
    assert [len(c) for c in out.chunks] == [0, 0, 1]


@pytest.mark.parametrize(
    "mask",
    [
        [True, False, True, False, True],
        np.array([True, False, True, False, True]),
        torch.tensor([True, False, True, False, True]),
    ],
    ids=["list", "numpy", "torch"],
)
def test_boolean_masks(mask):
    dv = DocVec[Doc](make_docs(5))
    out = dv[mask]
    assert type(out) is DocVec[Doc]
    assert out.title == ["t0", "t2", "t4"]
    assert out.v[:, 0].tolist() == [0, 2, 4]


def test_bad_masks_and_lists():
    dv = DocVec[Doc](make_docs(3))
    with pytest.raises(IndexError):
        dv[[True, False]]
    with pytest.raises(IndexError):
        dv[[0, 5]]


def test_fancy_indexing_copies():
    dv = DocVec[Doc](make_docs(3))
    out = dv[[0, 1]]
    out.v[0, 0] = 1000
    out[1].title = "only in the copy"
    assert dv.v[0, 0] == 0 and dv.title[1] == "t1"


class Holder(BaseDoc):
    chunks: DocList[Chunk] = DocList[Chunk]()
    r: Optional[NdArray] = None
    inner: Optional[Inner] = None
    tags: list[str] = []


def make_holders() -> list[Holder]:
    return [
        Holder(
            chunks=[Chunk(title=f"{i}.{j}", vec=[i, j]) for j in range(2)],
            r=np.zeros(i + 1),  # ragged: kept as a list
            inner=None if i == 1 else Inner(e=[i, i]),  # some None: kept as a list
            tags=["a"],
        )
        for i in range(3)
    ]


@pytest.mark.parametrize("key", [[0, 2], np.array([True, False, True])])
def test_fancy_indexing_copies_doc_list_fields_ragged_tensors_and_listed_documents(key):
    dv = DocVec[Holder](make_holders())
    out = dv[key]
    for doc in out:
        doc.chunks[0].title = "changed"
        doc.chunks[1].vec[0] = 99
        doc.r[0] = 7
        doc.inner.s = "changed"
    assert DocVec[Holder](make_holders()).to_doc_list() == dv.to_doc_list()
    assert out[1].chunks[0].title == "changed" and out[1].r.tolist() == [7, 0, 0]
    # plain Python values are shared, as in any shallow copy
    out[0].tags.append("b")
    assert dv[0].tags == ["a", "b"]


def test_copy_owns_every_column():
    dv = DocVec[Doc](make_docs(4))
    other = dv.copy()
    assert type(other) is type(dv) and other == dv
    other.v[0, 0] = 1000
    other[1].title = "t"
    other[1].inner.e[0] = 50
    other[2].chunks[0].title = "c"
    assert dv == DocVec[Doc](make_docs(4)) and other != dv
    part = dv[1:].copy()  # a slice shares its columns; its copy does not
    part[0].title = "only in the copy"
    assert len(part) == 3 and part[0].title == "only in the copy" and dv[1].title == "t1"


# --------------------------------------------------------------------------------------------
# tensor types
# --------------------------------------------------------------------------------------------


def test_default_tensor_type_is_numpy():
    dv = DocVec[Mixed](make_mixed())
    assert dv.tensor_type is NdArray
    assert isinstance(dv.a, np.ndarray) and dv.a.shape == (3, 3)  # torch input, numpy column
    assert isinstance(dv.n, np.ndarray)
    # fields typed with a framework keep it
    assert isinstance(dv.t, TorchTensor) and dv.t.shape == (3, 2)
    assert isinstance(dv.j, JaxArray) and dv.j.shape == (3, 2)
    assert isinstance(dv[1].t, TorchTensor)
    assert isinstance(dv[1].j, JaxArray)


@pytest.mark.parametrize(
    ("tensor_type", "check"),
    [
        (NdArray, lambda x: isinstance(x, np.ndarray)),
        (TorchTensor, lambda x: isinstance(x, TorchTensor)),
        (JaxArray, lambda x: isinstance(x, JaxArray)),
    ],
    ids=["numpy", "torch", "jax"],
)
def test_tensor_type_sets_the_any_tensor_columns(tensor_type, check):
    docs = make_mixed()
    dv = DocVec[Mixed](docs, tensor_type=tensor_type)
    assert dv.tensor_type is tensor_type
    assert check(dv.a) and tuple(dv.a.shape) == (3, 3)
    assert check(dv[2].a)
    assert np.asarray(dv[2].a).tolist() == [2, 2, 2]
    # concrete field types keep their framework whatever the tensor type
    assert isinstance(dv.n, np.ndarray)
    assert isinstance(dv.t, TorchTensor)
    assert isinstance(dv.j, JaxArray)
    # the round trip gives back equal documents
    back = dv.to_doc_list()
    assert back == DocList[Mixed](docs)
    assert [d.id for d in back] == [d.id for d in docs]


def test_tensor_type_reaches_nested_columns():
    class AnyInner(BaseDoc):
        x: AnyTensor

    class Outer(BaseDoc):
        inner: AnyInner
        many: DocList[AnyInner]

    docs = [Outer(inner=AnyInner(x=[1.0, 2.0]), many=[AnyInner(x=[3.0])]) for _ in range(2)]
    dv = DocVec[Outer](docs, tensor_type=TorchTensor)
    assert isinstance(dv.inner.x, TorchTensor)
    assert isinstance(dv.many[0].x, TorchTensor)
    assert dv.to_doc_list() == DocList[Outer](docs)


def test_torch_views_write_through():
    dv = DocVec[Mixed](make_mixed(), tensor_type=TorchTensor)
    dv[1].a[0] = 42
    assert dv.a[1, 0].item() == 42
    dv[2].a = torch.tensor([7.0, 7.0, 7.0])
    assert dv.a[2].tolist() == [7, 7, 7]
    dv[0].t[1] = 5
    assert dv.t[0].tolist() == [0, 5]


def test_jax_views_write_through_by_assignment():
    dv = DocVec[Mixed](make_mixed(), tensor_type=JaxArray)
    dv[1].j = [10, 20]
    assert np.asarray(dv.j).tolist()[1] == [10, 20]
    dv[0].a = jnp.array([4.0, 4.0, 4.0])
    assert np.asarray(dv[0].a).tolist() == [4, 4, 4]
    assert np.asarray(dv.a)[1].tolist() == [1, 1, 1]


# --------------------------------------------------------------------------------------------
# to_doc_list
# --------------------------------------------------------------------------------------------


def test_to_doc_list_round_trip():
    docs = make_docs(5)
    dv = DocVec[Doc](docs)
    back = dv.to_doc_list()
    assert type(back) is DocList[Doc]
    assert back == DocList[Doc](docs)
    assert [d.id for d in back] == [d.id for d in docs]
    assert not any(d.is_view() for d in back)
    assert all(type(d) is Doc for d in back)
    assert isinstance(back[2].chunks, DocList) and back[2].chunks.title == ["2.0", "2.1"]
    assert back[1].inner == docs[1].inner
    assert DocVec[Doc](back) == dv


def test_to_doc_list_after_edits():
    dv = DocVec[Doc](make_docs(2))
    dv[0].v[0] = 100
    dv[1].title = "edited"
    back = dv.to_doc_list()
    assert back[0].v.tolist() == [100, 1, 2]
    assert back[1].title == "edited"


def test_doc_list_to_doc_vec_and_back():
    docs = DocList[Doc](make_docs(3))
    assert docs.to_doc_vec().to_doc_list() == docs


# --------------------------------------------------------------------------------------------
# optional tensor columns
# --------------------------------------------------------------------------------------------


def test_optional_column_with_some_none():
    dv = DocVec[Opt]([Opt(o=[1, 2]), Opt(), Opt(o=[5, 6])])
    data, mask = dv.get_tensor_column("o")
    assert mask.tolist() == [True, False, True]
    assert np.asarray(data)[[0, 2]].tolist() == [[1, 2], [5, 6]]
    assert np.asarray(data)[1].tolist() == [0, 0]
    assert dv[1].o is None
    assert dv[0].o.tolist() == [1, 2]
    column = dv.o
    assert column[1] is None and column[2].tolist() == [5, 6]
    back = dv.to_doc_list()
    assert back[1].o is None and back[2].o.tolist() == [5, 6]
    assert back == DocList[Opt]([Opt(o=[1, 2]), Opt(), Opt(o=[5, 6])])


def test_optional_column_assignment_through_views():
    dv = DocVec[Opt]([Opt(o=[1, 2]), Opt(), Opt(o=[5, 6])])
    dv[1].o = [3, 4]
    data, mask = dv.get_tensor_column("o")
    assert mask is None or mask.all()
    assert np.asarray(dv.o).tolist() == [[1, 2], [3, 4], [5, 6]]  # stacked again
    dv[0].o = None
    data, mask = dv.get_tensor_column("o")
    assert mask.tolist() == [False, True, True]
    assert dv[0].o is None
    assert dv.to_doc_list()[0].o is None
    with pytest.raises(ValidationError):
        dv[1].o = [1, 2, 3]
    assert dv[1].o.tolist() == [3, 4]


def test_optional_column_without_none_has_no_mask():
    dv = DocVec[Opt]([Opt(o=[1, 2]), Opt(o=[3, 4])])
    data, mask = dv.get_tensor_column("o")
    assert mask is None
    assert np.asarray(dv.o).shape == (2, 2)
    assert np.shares_memory(data, dv.o)


def test_optional_column_all_none():
    dv = DocVec[Opt]([Opt(), Opt()])
    data, mask = dv.get_tensor_column("o")
    assert data is None and mask.tolist() == [False, False]
    assert dv.o is None
    assert dv[0].o is None
    dv[1].o = [7, 8]
    assert dv[1].o.tolist() == [7, 8]
    assert dv[0].o is None
    assert dv.to_doc_list() == DocList[Opt]([Opt(), Opt(o=[7, 8])])


@pytest.mark.parametrize("tensor_type", [TorchTensor, JaxArray], ids=["torch", "jax"])
def test_optional_any_tensor_column_in_other_frameworks(tensor_type):
    class OptAny(BaseDoc):
        o: Optional[AnyTensor] = None

    docs = [OptAny(o=[1.0, 2.0]), OptAny(), OptAny(o=[3.0, 4.0])]
    dv = DocVec[OptAny](docs, tensor_type=tensor_type)
    data, mask = dv.get_tensor_column("o")
    assert isinstance(data, tensor_type)
    assert mask.tolist() == [True, False, True]
    assert dv[1].o is None
    dv[1].o = [9.0, 9.0]
    assert np.asarray(dv[1].o).tolist() == [9, 9]
    assert dv.to_doc_list() == DocList[OptAny]([docs[0], OptAny(o=[9.0, 9.0]), docs[2]])


def test_get_tensor_column_of_non_tensor_field():
    dv = DocVec[Opt]([Opt()])
    with pytest.raises(KeyError):
        dv.get_tensor_column("label")


# --------------------------------------------------------------------------------------------
# ragged tensors
# --------------------------------------------------------------------------------------------


def test_ragged_tensors_are_kept_as_a_list():
    docs = [Ragged(r=np.zeros(i + 1)) for i in range(3)]
    dv = DocVec[Ragged](docs)
    column = dv.r
    assert isinstance(column, list)
    assert [c.shape for c in column] == [(1,), (2,), (3,)]
    assert dv[2].r.shape == (3,)
    with pytest.raises(ValueError):
        dv.get_tensor_column("r")
    dv[0].r = np.ones(5)
    assert dv[0].r.tolist() == [1] * 5
    assert dv.to_doc_list()[1].r.shape == (2,)


def test_same_shapes_stack_and_a_new_shape_makes_the_column_ragged():
    dv = DocVec[Ragged]([Ragged(r=[1, 2]), Ragged(r=[3, 4])])
    assert np.asarray(dv.r).shape == (2, 2)
    dv[0].r = [1, 2, 3]
    assert dv[0].r.tolist() == [1, 2, 3]
    assert dv[1].r.tolist() == [3, 4]
    assert dv.to_doc_list() == DocList[Ragged]([Ragged(r=[1, 2, 3]), Ragged(r=[3, 4])])


# --------------------------------------------------------------------------------------------
# setting whole columns
# --------------------------------------------------------------------------------------------


def test_set_stacked_tensor_column():
    dv = DocVec[Doc](make_docs(3))
    new = np.arange(9.0).reshape(3, 3)
    dv.v = new
    assert dv.v.tolist() == new.tolist()
    assert dv[2].v.tolist() == [6, 7, 8]
    dv.set_column("v", torch.ones(3, 3))
    assert isinstance(dv.v, np.ndarray) and dv[0].v.tolist() == [1, 1, 1]
    dv.v = [[1, 2, 3], [4, 5, 6], [7, 8, 9]]  # one value per document
    assert dv[1].v.tolist() == [4, 5, 6]


@pytest.mark.parametrize(
    "value",
    [np.zeros((2, 3)), np.zeros((4, 3)), np.zeros((3, 2)), np.zeros((3, 3, 1)), np.zeros(3)],
    ids=["too-few-rows", "too-many-rows", "wrong-row-shape", "extra-dim", "1d"],
)
def test_set_tensor_column_shape_errors_leave_it_unchanged(value):
    dv = DocVec[Doc](make_docs(3))
    before = dv.v.tolist()
    with pytest.raises(ValueError):
        dv.v = value
    assert dv.v.tolist() == before


def test_set_column_of_per_document_values_validates_all_first():
    dv = DocVec[Doc](make_docs(3))
    with pytest.raises(ValidationError):
        dv.v = [[1, 2, 3], [4, 5, 6], [7, 8]]
    with pytest.raises(ValidationError):
        dv.count = [1, 2, "three"]
    with pytest.raises(ValueError):
        dv.title = ["only", "two"]
    assert dv.v.tolist() == [[0, 1, 2], [1, 2, 3], [2, 3, 4]]
    assert dv.count == [0, 1, 2]
    assert dv.title == ["t0", "t1", "t2"]
    dv.title = ["a", "b", "c"]
    dv.count = ["4", 5, 6]
    assert dv[0].title == "a" and dv.count == [4, 5, 6]


def test_set_nested_document_column():
    dv = DocVec[Doc](make_docs(2))
    dv.inner = [Inner(e=[1, 1], s="x"), {"e": [2, 2]}]
    assert dv.inner.s == ["x", "i"]
    assert dv[1].inner.e.tolist() == [2, 2]
    with pytest.raises((ValidationError, DocTypeError)):
        dv.inner = [Inner(e=[1, 1]), Other()]
    assert dv.inner.s == ["x", "i"]


def test_set_column_of_unknown_field():
    dv = DocVec[Doc](make_docs(2))
    with pytest.raises(AttributeError):
        dv.set_column("nope", [1, 2])


def test_set_column_with_torch_tensor_type():
    dv = DocVec[Mixed](make_mixed(), tensor_type=TorchTensor)
    dv.a = np.zeros((3, 3))
    assert isinstance(dv.a, TorchTensor)
    assert dv[1].a.tolist() == [0, 0, 0]


def test_set_column_on_a_slice_writes_into_the_original():
    dv = DocVec[Doc](make_docs(4))
    part = dv[1:3]
    part.v = np.full((2, 3), 0.5)  # a wider dtype: the original's column is upcast
    part.title = ["x", "y"]
    part.inner = [Inner(e=[7, 7], s="a"), Inner(e=[8, 8], s="b")]
    part.chunks = [[Chunk(title="c", vec=[1, 1])], []]
    assert dv.v.tolist() == [[0, 1, 2], [0.5, 0.5, 0.5], [0.5, 0.5, 0.5], [3, 4, 5]]
    assert dv.title == ["t0", "x", "y", "t3"]
    assert dv.inner.e.tolist() == [[0, 0], [7, 7], [8, 8], [3, -3]]
    assert dv.inner.s == ["s0", "a", "b", "s3"]
    assert [len(c) for c in dv.chunks] == [0, 1, 0, 0]
    with pytest.raises(ValueError):
        part.v = np.zeros((3, 3))
    with pytest.raises(ValidationError):
        part.title = ["ok", 5]
    assert dv.title == ["t0", "x", "y", "t3"]


def test_set_optional_column_on_a_slice():
    dv = DocVec[Opt]([Opt(o=[i, i]) for i in range(4)])
    dv[1:3].o = [None, [5, 5]]
    assert dv.o[1] is None and dv.o[2].tolist() == [5, 5] and dv.o[3].tolist() == [3, 3]
    dv[::-1].o = np.arange(8).reshape(4, 2)
    assert np.asarray(dv.o).tolist() == [[6, 7], [4, 5], [2, 3], [0, 1]]


def test_moving_a_slice_detaches_it():
    dv = DocVec[Mixed](make_mixed(4), tensor_type=TorchTensor)
    part = dv[1:3]
    assert part.to("cpu") is part
    part[0].t = torch.tensor([100.0, 100.0])
    assert dv.t[1].tolist() == [1, 2]
    assert part.t[0].tolist() == [100, 100]


# --------------------------------------------------------------------------------------------
# other API
# --------------------------------------------------------------------------------------------


def test_equality():
    assert DocVec[Doc](make_docs(3)) == DocVec[Doc](make_docs(3))
    other = DocVec[Doc](make_docs(3))
    other[1].v[0] = 100
    assert DocVec[Doc](make_docs(3)) != other
    assert DocVec[Doc](make_docs(3)) != DocVec[Doc](make_docs(2))


def test_traverse_flat():
    dv = DocVec[Doc](make_docs(4))
    assert dv.traverse_flat("inner__s") == ["s0", "s1", "s2", "s3"]
    assert dv.traverse_flat("chunks__title") == ["1.0", "2.0", "2.1"]
    assert dv.traverse_flat("title") == ["t0", "t1", "t2", "t3"]


@pytest.mark.parametrize("tensor_type", [None, TorchTensor, JaxArray])
def test_pickle(tensor_type):
    docs = make_mixed()
    dv = DocVec[Mixed](docs, tensor_type=tensor_type)
    back = pickle.loads(pickle.dumps(dv))
    assert type(back) is DocVec[Mixed]
    assert back == dv
    assert back.tensor_type is dv.tensor_type
    assert back.id == dv.id


def test_deepcopy_is_independent():
    dv = DocVec[Doc](make_docs(2))
    other = copy.deepcopy(dv)
    assert other == dv
    other.v[0, 0] = 123
    other[1].title = "copy"
    assert dv.v[0, 0] == 0 and dv.title[1] == "t1"


def test_summary(capsys):
    DocVec[Doc](make_docs(4)).summary()
    out = capsys.readouterr().out
    for text in ["DocVec[Doc]", "4", "(4, 3)", "inner", "chunks", "title", "NdArray[3]"]:
        assert text in out, text


def test_view_summary_prints_fields(capsys):
    dv = DocVec[Doc](make_docs(2))
    dv[1].summary()
    out = capsys.readouterr().out
    for text in ["title", "'t1'", "inner", "'s1'", "(3,)"]:
        assert text in out, text


def test_view_summary_title_is_the_class_name(capsys):
    DocVec[Doc](make_docs(1))[0].summary()
    out = capsys.readouterr().out
    assert "<class" not in out
    assert "Doc" in out.splitlines()[0]


def test_documents_without_id():
    from docstack import BaseDocWithoutId

    class NoId(BaseDocWithoutId):
        v: NdArray[2]
        s: str = ""

    docs = [NoId(v=[1, 2], s="a"), NoId(v=[3, 4])]
    dv = DocVec[NoId](docs)
    assert dv.v.tolist() == [[1, 2], [3, 4]]
    assert dv[0].is_view()
    dv[1].v[0] = 30
    assert dv.to_doc_list() == DocList[NoId]([NoId(v=[1, 2], s="a"), NoId(v=[30, 4])])


def test_in_a_doc_list():
    dv = DocVec[Doc](make_docs(2))
    docs = DocList[Doc](dv)
    assert len(docs) == 2 and docs.title == ["t0", "t1"]


# --------------------------------------------------------------------------------------------
# property test: a DocVec edited through views stays equal to the same edits on documents
# --------------------------------------------------------------------------------------------


class Prop(BaseDoc):
    o: Optional[NdArray[2]] = None
    r: Optional[NdArray] = None
    s: str = ""


_small = st.integers(-5, 5)
_pair = st.one_of(st.none(), st.lists(_small, min_size=2, max_size=2))
_ragged = st.one_of(st.none(), st.lists(_small, min_size=1, max_size=3))


@st.composite
def prop_doc(draw):
    return Prop(o=draw(_pair), r=draw(_ragged), s=draw(st.text(max_size=3)))


@st.composite
def prop_case(draw):
    docs = draw(st.lists(prop_doc(), min_size=1, max_size=5))
    ops = []
    for _ in range(draw(st.integers(0, 8))):
        i = draw(st.integers(0, len(docs) - 1))
        kind = draw(st.sampled_from(["o", "r", "s", "doc"]))
        if kind == "o":
            ops.append((i, "o", draw(_pair)))
        elif kind == "r":
            ops.append((i, "r", draw(_ragged)))
        elif kind == "s":
            ops.append((i, "s", draw(st.text(max_size=3))))
        else:
            ops.append((i, "doc", draw(prop_doc())))
    return docs, ops


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(prop_case())
def test_views_and_documents_agree(case):
    docs, ops = case
    dv = DocVec[Prop]([d.model_copy(deep=True) for d in docs])
    reference = [d.model_copy(deep=True) for d in docs]
    for i, kind, value in ops:
        if kind == "doc":
            dv[i] = value
            reference[i] = value.model_copy(deep=True)
        else:
            setattr(dv[i], kind, value)
            setattr(reference[i], kind, value)
    back = dv.to_doc_list()
    assert back == DocList[Prop](reference)
    for i, ref in enumerate(reference):
        assert dv[i] == ref
        assert (dv[i].o is None) == (ref.o is None)
    data, mask = dv.get_tensor_column("o")
    present = [ref.o is not None for ref in reference]
    if data is None:
        assert not any(present)
    elif mask is not None:
        assert mask.tolist() == present
    else:
        assert all(present)


def test_to_a_device_refuses_numpy_only_columns_and_moves_torch_ones():
    import torch

    from docstack.documents import ImageDoc
    from docstack.typing import NdArray, TorchTensor

    numpy_only = DocVec[ImageDoc]([ImageDoc(tensor=np.zeros((3, 5)))], tensor_type=NdArray)
    with pytest.raises(NotImplementedError, match="'tensor' is a numpy array"):
        numpy_only.to("meta")
    assert numpy_only.to("cpu") is numpy_only

    class Mixed(BaseDoc):
        meta: NdArray[2]
        emb: TorchTensor[3]

    mixed = DocVec[Mixed]([Mixed(meta=np.zeros(2), emb=torch.zeros(3))])
    mixed.to("meta")
    assert mixed.emb.device == torch.device("meta")
    assert isinstance(mixed.meta, np.ndarray)


def test_deleting_from_a_doc_vec_says_how_to_select_instead():
    from docstack.documents import TextDoc

    dv = DocVec[TextDoc]([TextDoc(text="a"), TextDoc(text="b")])
    with pytest.raises(NotImplementedError, match="fixed length"):
        del dv[0]
    assert len(dv) == 2


def test_doc_vec_field_validates_and_round_trips_through_json():
    from pydantic import TypeAdapter

    class Inner(BaseDoc):
        t: NdArray[2]

    class Outer(BaseDoc):
        v: DocVec[Inner]

    outer = Outer(v=DocVec[Inner]([Inner(t=np.zeros(2)), Inner(t=np.ones(2))]))
    for again in (
        Outer.model_validate_json(outer.model_dump_json()),
        Outer.from_json(outer.to_json()),
    ):
        assert type(again.v) is DocVec[Inner]
        np.testing.assert_array_equal(again.v.t, [[0, 0], [1, 1]])
    from_dicts = Outer(v=[{"t": [3, 4]}])
    assert type(from_dicts.v) is DocVec[Inner]
    np.testing.assert_array_equal(from_dicts.v.t, [[3, 4]])
    stacked = TypeAdapter(DocVec[Inner]).validate_python(DocList[Inner]([Inner(t=[1, 2])]))
    assert type(stacked) is DocVec[Inner]
    with pytest.raises(ValidationError, match="t"):
        Outer(v=[{"t": [1, 2, 3]}])


def test_setting_a_column_to_none_clears_it_where_none_is_allowed():
    class Features(BaseDoc):
        tensor: NdArray[4]

    class Image(BaseDoc):
        name: str
        features: Optional[Features] = None

    docs = DocVec[Image](
        [Image(name=str(i), features=Features(tensor=np.ones(4))) for i in range(3)]
    )
    docs.features = None
    assert [d.features for d in docs] == [None, None, None]
    with pytest.raises(ValidationError, match="name"):
        docs.name = None
    assert list(docs.name) == ["0", "1", "2"]


def test_traverse_flat_of_a_full_tensor_column_is_the_stacked_column():
    class Item(BaseDoc):
        v: NdArray[3]
        w: Optional[NdArray[3]] = None

    docs = DocVec[Item]([Item(v=np.full(3, i), w=None if i else np.ones(3)) for i in range(4)])
    stacked = docs.traverse_flat("v")
    assert isinstance(stacked, np.ndarray) and stacked.shape == (4, 3)
    assert np.shares_memory(stacked, docs.v)
    partial = docs.traverse_flat("w")
    assert isinstance(partial, list) and partial[1] is None

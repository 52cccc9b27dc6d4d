"""Tests of ``BaseDoc``, ``BaseDocWithoutId``, ``AnyDoc`` and the ``ID`` type."""

import copy
import io
import json
import os
import pickle
import re
import subprocess
import sys
import uuid
from typing import Optional

import jax.numpy as jnp
import numpy as np
import pytest
import torch
from pydantic import TypeAdapter, ValidationError
from rich.console import Console

from docstack import AnyDoc, BaseDoc, BaseDocWithoutId, DocList
from docstack.errors import DocTypeError
from docstack.typing import ID, AnyTensor, JaxArray, NdArray, TorchTensor

# --------------------------------------------------------------------------------------------
# document classes
# --------------------------------------------------------------------------------------------


class Banner(BaseDoc):
    title: str
    image: Optional[NdArray[2, 2]] = None


class Page(BaseDoc):
    title: Optional[str] = None
    count: int = 0
    tags: list[str] = []
    labels: set[str] = set()
    meta: dict[str, int] = {}
    banner: Optional[Banner] = None
    vec: Optional[NdArray] = None
    chunks: DocList[Banner] = DocList[Banner]()


class Tensors(BaseDoc):
    np_field: NdArray[3]
    torch_field: TorchTensor[2, 2]
    jax_field: JaxArray[2]
    any_field: AnyTensor


class Level3(BaseDoc):
    value: NdArray[2]
    note: str = ""


class Level2(BaseDoc):
    inner: Level3
    items: DocList[Level3] = DocList[Level3]()


class Level1(BaseDoc):
    inner: Level2
    maybe: Optional[Level2] = None


class Level0(BaseDoc):
    inner: Level1
    name: str = "root"


class Node(BaseDoc):
    name: str
    child: Optional["Node"] = None


class NoId(BaseDocWithoutId):
    x: int
    vec: Optional[NdArray[2]] = None


class HoldsNoId(BaseDoc):
    part: NoId
    parts: DocList[NoId] = DocList[NoId]()


def make_tensors(offset: float = 0.0) -> Tensors:
    return Tensors(
        np_field=np.array([1.0, 2.0, 3.0]) + offset,
        torch_field=torch.eye(2) + offset,
        jax_field=jnp.array([0.5, 1.5]) + offset,
        any_field=torch.tensor([7.0, 8.0]),
    )


def make_deep() -> Level0:
    return Level0(
        inner={
            "inner": {
                "inner": {"value": [1, 2], "note": "deep"},
                "items": [{"value": [3, 4]}, {"value": [5, 6]}],
            },
            "maybe": None,
        }
    )


# --------------------------------------------------------------------------------------------
# ids
# --------------------------------------------------------------------------------------------


def test_id_is_random_32_hex():
    ids = [Banner(title="x").id for _ in range(2000)]
    assert len(set(ids)) == len(ids)
    for i in ids[:50]:
        assert isinstance(i, str)
        assert isinstance(i, ID)
        assert re.fullmatch(r"[0-9a-f]{32}", i)


def test_ids_span_batches_without_repeats():
    # ids come in batches of 1024 from one os.urandom call: cross a few batch boundaries
    ids = [Banner(title="x").id for _ in range(5000)]
    assert len(set(ids)) == len(ids) and all(re.fullmatch(r"[0-9a-f]{32}", i) for i in ids)


_FORK_CHECK = """
import os
from docstack import BaseDoc

class Banner(BaseDoc):
    title: str

Banner(title="start a batch")  # the parent holds a partly used batch when it forks
read, write = os.pipe()
pid = os.fork()
if pid == 0:  # the child: send 100 ids, then leave at once
    os.close(read)
    os.write(write, "".join(Banner(title="c").id for _ in range(100)).encode())
    os._exit(0)
os.close(write)
with os.fdopen(read, "rb") as pipe:
    text = pipe.read().decode()
os.waitpid(pid, 0)
child = {text[i : i + 32] for i in range(0, len(text), 32)}
parent = {Banner(title="p").id for _ in range(100)}
print(len(child), len(child & parent))
"""


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_a_forked_child_never_repeats_the_ids_its_parent_hands_out():
    # in a fresh interpreter: this one has threads (JAX's) that make fork() unsafe
    out = subprocess.run(
        [sys.executable, "-c", _FORK_CHECK], capture_output=True, text=True, check=True
    )
    assert out.stdout.split() == ["100", "0"]


def test_id_is_in_every_base_doc_and_json():
    doc = Banner(title="x")
    assert "id" in Banner.model_fields
    assert json.loads(doc.model_dump_json())["id"] == doc.id


@pytest.mark.parametrize(("given", "expected"), [("abc", "abc"), (42, "42"), (0, "0")])
def test_id_accepts_str_and_int(given, expected):
    doc = Banner(id=given, title="x")
    assert doc.id == expected
    assert type(doc.id) in (str, ID)
    assert TypeAdapter(ID).validate_python(given) == expected


def test_id_accepts_uuid():
    u = uuid.UUID("cf57432e-809e-4353-adbd-9d5c0d733868")
    doc = Banner(id=u, title="x")
    assert isinstance(doc.id, str)
    assert u.hex in doc.id.replace("-", "")


def test_uuid_id_is_its_canonical_string():
    u = uuid.UUID("cf57432e-809e-4353-adbd-9d5c0d733868")
    assert Banner(id=u, title="x").id == str(u)


@pytest.mark.parametrize("bad", [1.5, True, [1], {"a": 1}, b"bytes"])
def test_id_rejects_other_types(bad):
    with pytest.raises(ValidationError) as info:
        Banner(id=bad, title="x")
    assert info.value.errors()[0]["loc"] == ("id",)


def test_id_survives_json_round_trip_and_is_assignable():
    doc = Banner(title="x")
    back = Banner.model_validate_json(doc.model_dump_json())
    assert back.id == doc.id
    doc.id = 7
    assert doc.id == "7"


# --------------------------------------------------------------------------------------------
# validation
# --------------------------------------------------------------------------------------------


def test_missing_field_names_it():
    with pytest.raises(ValidationError) as info:
        Banner()
    err = info.value.errors()[0]
    assert err["loc"] == ("title",)
    assert err["type"] == "missing"


def test_wrong_types_name_the_field():
    with pytest.raises(ValidationError) as info:
        Page(count="many")
    assert info.value.errors()[0]["loc"] == ("count",)
    with pytest.raises(ValidationError) as info:
        Page(banner={"title": "t", "image": [[1, 2, 3]]})
    assert info.value.errors()[0]["loc"] == ("banner", "image")
    with pytest.raises(ValidationError) as info:
        Page(vec=["a", "b"])
    assert info.value.errors()[0]["loc"] == ("vec",)


def test_assignment_is_validated_and_leaves_the_old_value():
    doc = Page(title="t", count=1, banner=Banner(title="b", image=np.eye(2)))
    with pytest.raises(ValidationError):
        doc.count = "x"
    assert doc.count == 1
    with pytest.raises(ValidationError) as info:
        doc.banner = {"title": "b2", "image": np.zeros((3, 3))}
    assert info.value.errors()[0]["loc"] == ("banner", "image")
    assert doc.banner.title == "b"
    with pytest.raises(ValidationError) as info:
        doc.banner.image = np.zeros(4)  # same size, other shape: no reshape
    assert info.value.errors()[0]["loc"] == ("image",)
    assert doc.banner.image.tolist() == [[1, 0], [0, 1]]
    with pytest.raises(ValidationError):
        doc.banner.image = [["a", "b"], ["c", "d"]]
    assert doc.banner.image.tolist() == [[1, 0], [0, 1]]


def test_assignment_converts_values():
    doc = Page()
    doc.banner = {"title": "from dict", "image": [[1, 2], [3, 4]]}
    assert isinstance(doc.banner, Banner)
    assert isinstance(doc.banner.image, NdArray)
    doc.count = "3"
    assert doc.count == 3
    doc.chunks = [{"title": "c"}]
    assert isinstance(doc.chunks, DocList)
    assert doc.chunks.doc_type is Banner


def test_optional_fields():
    doc = Page()
    assert doc.title is None and doc.banner is None and doc.vec is None
    doc.banner = Banner(title="b")
    doc.banner = None
    assert doc.banner is None


def test_none_default_accepts_none():
    # a field declared `x: T = None` holds None, so None must also validate
    class Loose(BaseDoc):
        vec: NdArray[2] = None
        banner: Banner = None

    doc = Loose()
    assert doc.vec is None and doc.banner is None
    doc.vec = [1, 2]
    doc.vec = None
    assert doc.vec is None
    assert Loose(vec=None) == Loose()
    back = Loose.model_validate_json(Loose().model_dump_json())
    assert back.vec is None and back.banner is None
    with pytest.raises(ValidationError):
        doc.vec = [1, 2, 3]


def test_mutable_defaults_are_not_shared():
    a, b = Page(), Page()
    a.tags.append("x")
    a.labels.add("y")
    a.meta["z"] = 1
    a.chunks.append(Banner(title="c"))
    assert b.tags == [] and b.labels == set() and b.meta == {}
    assert len(b.chunks) == 0


def test_is_view_of_a_normal_document():
    assert Page().is_view() is False
    assert Banner(title="x").is_view() is False


# --------------------------------------------------------------------------------------------
# equality
# --------------------------------------------------------------------------------------------


def test_equality_ignores_ids_and_compares_tensors_by_value():
    a = Banner(title="t", image=np.eye(2))
    b = Banner(title="t", image=[[1.0, 0.0], [0.0, 1.0]])
    assert a.id != b.id
    assert a == b
    b.image = np.zeros((2, 2))
    assert a != b
    assert Banner(title="t") != Banner(title="u")


def test_equality_across_frameworks_and_nesting():
    assert make_tensors() == make_tensors()
    assert make_tensors() != make_tensors(offset=1.0)
    assert make_deep() == make_deep()
    other = make_deep()
    other.inner.inner.items[1].value = [5, 7]
    assert make_deep() != other


def test_equality_of_tensor_and_none():
    assert Page(vec=[1, 2]) != Page()
    assert Page() != Page(vec=[1, 2])


def test_equality_needs_the_same_document_type():
    class Other(BaseDoc):
        title: str
        image: Optional[NdArray[2, 2]] = None

    assert Banner(title="t") != Other(title="t")
    assert Banner(title="t") != "t"
    assert Banner(title="t") != {"title": "t"}


def test_documents_are_not_hashable():
    with pytest.raises(TypeError):
        hash(Banner(title="t"))


# --------------------------------------------------------------------------------------------
# summaries
# --------------------------------------------------------------------------------------------


def test_summary_prints_fields_values_and_nesting(capsys):
    doc = Page(
        title="hello",
        count=3,
        banner=Banner(title="inner", image=np.eye(2)),
        vec=np.zeros((4, 5), dtype=np.float32),
        chunks=[Banner(title="c1"), Banner(title="c2")],
    )
    doc.summary()
    out = capsys.readouterr().out
    for text in ["Page", "title", "'hello'", "count", "3", "banner", "Banner", "'inner'"]:
        assert text in out, text
    assert "(4, 5)" in out and "float32" in out  # tensors by shape and dtype
    assert "chunks" in out and "'c1'" in out and "'c2'" in out
    assert doc.id in out


def test_schema_summary_prints_names_and_types(capsys):
    Page.schema_summary()
    out = capsys.readouterr().out
    for text in ["Page", "title", "count: int", "tags", "banner", "Banner", "image", "vec"]:
        assert text in out, text
    assert "NdArray[2, 2]" in out  # the nested document's field, with its shape
    assert "chunks" in out


def test_summary_with_a_rich_console():
    buffer = io.StringIO()
    from docstack.base_doc._summary import doc_tree

    Console(file=buffer, width=120).print(doc_tree(make_tensors()))
    out = buffer.getvalue()
    for name in ["np_field", "torch_field", "jax_field", "any_field", "(3,)", "(2, 2)"]:
        assert name in out, name


def test_schema_summary_of_recursive_document(capsys):
    Node.schema_summary()
    out = capsys.readouterr().out
    assert "child" in out and "name" in out and "Node" in out


# --------------------------------------------------------------------------------------------
# update
# --------------------------------------------------------------------------------------------


def test_update_merges_as_documented():
    a = Page(
        title="a",
        count=1,
        tags=["x"],
        labels={"l1"},
        meta={"a": 1, "b": 1},
        banner=Banner(title="ba", image=np.eye(2)),
        vec=[1, 2],
        chunks=[Banner(title="c1")],
    )
    b = Page(
        title=None,
        count=2,
        tags=["y"],
        labels={"l2"},
        meta={"b": 2},
        banner=Banner(title="bb"),
        vec=[3, 4, 5],
        chunks=[Banner(title="c2")],
    )
    old_id = a.id
    a.update(b)
    assert a.title == "a"  # None in other: kept
    assert a.count == 2  # replaced
    assert a.tags == ["x", "y"]  # extended
    assert a.labels == {"l1", "l2"}  # union
    assert a.meta == {"a": 1, "b": 2}  # dict update
    assert a.banner.title == "bb"  # nested: recursive
    assert a.banner.image.tolist() == [[1, 0], [0, 1]]  # nested None kept
    assert a.vec.tolist() == [3, 4, 5]  # tensors replaced
    assert a.chunks.title == ["c1", "c2"]  # DocList extended
    assert isinstance(a.chunks, DocList)
    assert a.id == old_id
    # other is untouched
    assert b.tags == ["y"] and b.banner.image is None


def test_update_fills_none_fields():
    a = Page()
    a.update(Page(title="t", banner=Banner(title="b")))
    assert a.title == "t"
    assert a.banner.title == "b"


def test_update_needs_the_same_type():
    with pytest.raises(DocTypeError) as info:
        Page().update(Banner(title="b"))
    assert isinstance(info.value, TypeError)
    assert "Page" in str(info.value) and "Banner" in str(info.value)


# --------------------------------------------------------------------------------------------
# nesting
# --------------------------------------------------------------------------------------------


def test_deep_nesting_from_dicts():
    doc = make_deep()
    assert isinstance(doc.inner.inner.inner, Level3)
    assert doc.inner.inner.inner.note == "deep"
    assert doc.inner.inner.items[1].value.tolist() == [5, 6]
    assert doc.inner.maybe is None


def test_deep_nesting_validation_error_path():
    with pytest.raises(ValidationError) as info:
        Level0(inner={"inner": {"inner": {"value": [1, 2, 3]}}})
    assert info.value.errors()[0]["loc"] == ("inner", "inner", "inner", "value")


def test_deep_nesting_json_round_trip():
    doc = make_deep()
    back = Level0.model_validate_json(doc.model_dump_json())
    assert back == doc
    assert back.inner.inner.items[0].id == doc.inner.inner.items[0].id
    assert isinstance(back.inner.inner.items, DocList)


def test_recursive_document():
    node = Node(name="a", child={"name": "b", "child": {"name": "c"}})
    assert node.child.child.name == "c"
    assert Node.model_validate_json(node.model_dump_json()) == node


# --------------------------------------------------------------------------------------------
# JSON, pickle, copies
# --------------------------------------------------------------------------------------------


def test_json_round_trip_with_tensors_of_each_framework():
    doc = make_tensors()
    data = json.loads(doc.model_dump_json())
    assert data["np_field"] == [1.0, 2.0, 3.0]
    assert data["torch_field"] == [[1.0, 0.0], [0.0, 1.0]]
    assert data["jax_field"] == [0.5, 1.5]
    back = Tensors.model_validate_json(doc.model_dump_json())
    assert isinstance(back.np_field, NdArray)
    assert isinstance(back.torch_field, TorchTensor)
    assert isinstance(back.jax_field, JaxArray)
    assert back == doc
    assert back.id == doc.id


def test_json_round_trip_with_nested_docs_and_doc_lists():
    doc = Page(
        title="p",
        banner=Banner(title="b", image=np.eye(2)),
        chunks=[Banner(title="c1", image=np.ones((2, 2))), Banner(title="c2")],
        tags=["a"],
    )
    back = Page.model_validate_json(doc.model_dump_json())
    assert back == doc
    assert isinstance(back.chunks, DocList) and back.chunks.doc_type is Banner
    assert [c.id for c in back.chunks] == [c.id for c in doc.chunks]
    # python-mode dump validates back too
    assert Page.model_validate(doc.model_dump()) == doc


def test_json_schema_of_a_document():
    schema = Page.model_json_schema()
    props = schema["properties"]
    assert set(props) >= {"id", "title", "count", "banner", "vec", "chunks"}
    assert props["chunks"]["type"] == "array"
    assert "Banner" in json.dumps(schema)
    json.dumps(Level0.model_json_schema())
    json.dumps(Tensors.model_json_schema())


@pytest.mark.parametrize("make", [make_tensors, make_deep], ids=["tensors", "deep"])
def test_pickle(make):
    doc = make()
    back = pickle.loads(pickle.dumps(doc))
    assert type(back) is type(doc)
    assert back == doc
    assert back.id == doc.id


def test_pickle_with_doc_list_field():
    doc = Page(chunks=[Banner(title="a"), Banner(title="b", image=np.eye(2))])
    back = pickle.loads(pickle.dumps(doc))
    assert back == doc
    assert isinstance(back.chunks, DocList) and back.chunks.doc_type is Banner


def test_deepcopy_is_independent():
    doc = make_tensors()
    other = copy.deepcopy(doc)
    assert other == doc and other.id == doc.id
    other.np_field[0] = 100
    other.torch_field[0, 0] = 100
    assert doc.np_field[0] == 1 and doc.torch_field[0, 0].item() == 1
    deep = make_deep()
    copied = copy.deepcopy(deep)
    copied.inner.inner.items.append(Level3(value=[0, 0]))
    copied.inner.inner.inner.value[0] = 9
    assert len(deep.inner.inner.items) == 2
    assert deep.inner.inner.inner.value[0] == 1


def test_model_copy_deep():
    doc = Page(tags=["a"], banner=Banner(title="b"))
    other = doc.model_copy(deep=True)
    other.tags.append("b")
    other.banner.title = "changed"
    assert doc.tags == ["a"] and doc.banner.title == "b"


# --------------------------------------------------------------------------------------------
# AnyDoc and BaseDocWithoutId
# --------------------------------------------------------------------------------------------


def test_any_doc_takes_any_fields():
    doc = AnyDoc(title="hello", score=3, vec=np.zeros(2))
    assert doc.title == "hello" and doc.score == 3
    assert doc.vec.shape == (2,)
    assert isinstance(doc, BaseDoc)
    assert re.fullmatch(r"[0-9a-f]{32}", doc.id)
    dumped = doc.model_dump()
    assert dumped["title"] == "hello" and dumped["score"] == 3


def test_any_doc_json_round_trip_of_plain_values():
    doc = AnyDoc(title="hello", score=3, tags=["a"])
    back = AnyDoc.model_validate_json(doc.model_dump_json())
    assert back.title == "hello" and back.score == 3 and back.tags == ["a"]
    assert back.id == doc.id


def test_any_doc_equality_compares_its_fields():
    assert AnyDoc(a=1) == AnyDoc(a=1)
    assert AnyDoc(a=1) != AnyDoc(a=2)
    assert AnyDoc(a=1) != AnyDoc(b=1)


def test_any_doc_with_tensors_serializes_to_json():
    doc = AnyDoc(vec=np.array([1.0, 2.0]), t=torch.tensor([3.0]))
    data = json.loads(doc.model_dump_json())
    assert data["vec"] == [1.0, 2.0]
    assert data["t"] == [3.0]


def test_any_doc_tensors_inside_containers_and_documents_serialize_to_json():
    doc = AnyDoc(
        many=[np.zeros(2), {"deep": torch.ones(1)}],
        nested=AnyDoc(vec=np.array([5])),
        text="plain",
    )
    data = json.loads(doc.model_dump_json())
    assert data["many"] == [[0.0, 0.0], {"deep": [1.0]}]
    assert data["nested"]["vec"] == [5]
    assert data["text"] == "plain"
    assert isinstance(doc.model_dump()["many"][0], np.ndarray)  # python mode keeps tensors


def test_any_doc_equality_compares_tensors_by_value_and_ignores_ids():
    assert AnyDoc(v=np.array([1, 2])) == AnyDoc(v=torch.tensor([1, 2]))
    assert AnyDoc(v=np.array([1, 2])) != AnyDoc(v=np.array([1, 3]))
    assert AnyDoc(id="a", x=1) == AnyDoc(id="b", x=1)
    assert AnyDoc() == AnyDoc()


def test_base_doc_without_id():
    doc = NoId(x=1, vec=[1, 2])
    assert "id" not in NoId.model_fields
    assert not hasattr(doc, "id")
    assert "id" not in doc.model_dump()
    assert "id" not in json.loads(doc.model_dump_json())
    assert doc == NoId(x=1, vec=[1, 2])
    assert doc != NoId(x=2, vec=[1, 2])
    assert doc.is_view() is False
    with pytest.raises(ValidationError):
        doc.vec = [1, 2, 3]
    assert NoId.model_validate_json(doc.model_dump_json()) == doc
    assert pickle.loads(pickle.dumps(doc)) == doc


def test_base_doc_without_id_nested():
    doc = HoldsNoId(part={"x": 1}, parts=[{"x": 2}, NoId(x=3)])
    assert isinstance(doc.part, NoId)
    assert doc.parts.x == [2, 3]
    back = HoldsNoId.model_validate_json(doc.model_dump_json())
    assert back == doc
    assert "id" not in json.loads(doc.model_dump_json())["part"]


# -- bulk building without validation (construct_docs) ----------------------------------------


def test_construct_docs_builds_what_validation_builds() -> None:
    from docstack.base_doc.doc import construct_docs

    class Row(BaseDoc):
        title: str
        count: int
        vec: Optional[NdArray[2]] = None

    vecs = [np.array([1.0, 2.0]), None, np.array([0.5, 0.0])]
    built = construct_docs(
        Row,
        ["id", "title", "count", "vec"],
        [["a", "b", "c"], ["x", "y", "z"], [1, 2, 3], vecs],
        {"id", "title", "count", "vec"},
    )
    validated = [
        Row(id=i, title=t, count=c, vec=v) for i, t, c, v in zip("abc", "xyz", [1, 2, 3], vecs)
    ]
    assert built == validated
    assert [d.id for d in built] == ["a", "b", "c"]
    assert built[1].vec is None and built[2].vec is vecs[2]
    # every document has its own fields-set: an assignment marks only that document
    assert built[0].model_fields_set == {"id", "title", "count", "vec"}
    built[0].title = "changed"
    built[0].model_fields_set.discard("count")
    assert built[1].model_fields_set == {"id", "title", "count", "vec"}
    assert built[0].__pydantic_extra__ is None and built[0].__pydantic_private__ is None
    assert construct_docs(Row, ["id", "title", "count"], [[], [], []], set()) == []


def test_dict_maker_takes_any_field_name() -> None:
    from docstack._internal.dicts import dict_maker

    names = ("a", "quote'\"", "brace}{", "x y", "lambda")
    assert dict_maker(names)(1, 2, 3, 4, 5) == dict(zip(names, [1, 2, 3, 4, 5]))
    assert dict_maker(())() == {}


def test_forward_reference_with_a_none_default_resolves_later():
    from typing import Optional

    class Shelf(BaseDoc):
        book: Optional["LaterBook"] = None

    class LaterBook(BaseDoc):
        title: str = "t"

    Shelf.model_rebuild(_types_namespace={"LaterBook": LaterBook})
    assert Shelf(book=LaterBook(title="a")).book.title == "a"
    assert Shelf().book is None


def test_update_merges_listed_documents_with_the_same_id():
    class Note(BaseDoc):
        text: str | None = None
        tags: list[str] = []

    class Folder(BaseDoc):
        notes: DocList[Note] = DocList[Note]()

    a = Folder(notes=[Note(id="n1", text="old", tags=["a"]), Note(id="n2", text="keep")])
    b = Folder(notes=[Note(id="n1", text="new", tags=["b"]), Note(id="n3", text="added")])
    a.update(b)
    assert [n.id for n in a.notes] == ["n1", "n2", "n3"]
    assert (a.notes[0].text, a.notes[0].tags) == ("new", ["a", "b"])

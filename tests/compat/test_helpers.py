"""DocArray's helper modules at their DocArray paths: ``docstack.helper``,
``docstack.documents.helper``, ``docstack.documents.legacy`` and
``docstack.utils.create_dynamic_doc_class``."""

from __future__ import annotations

import copy
import enum
import os
import pickle
import re
from typing import Any, Literal, Optional, TypedDict

import numpy as np
import pytest
from pydantic import BaseModel, Field, ValidationError, field_validator
from typing_extensions import NotRequired
from typing_extensions import TypedDict as ExtTypedDict

from docstack import BaseDoc, BaseDocWithoutId, DocList
from docstack.documents import AudioDoc, ImageDoc, TextDoc
from docstack.documents.helper import (
    create_doc,
    create_doc_from_dict,
    create_doc_from_typeddict,
)
from docstack.documents.legacy import LegacyDocument
from docstack.helper import (
    _access_path_dict_to_nested_dict,
    _access_path_to_dict,
    _all_access_paths_valid,
    _dict_to_access_paths,
    _is_access_path_valid,
    _shallow_copy_doc,
    _update_nested_dicts,
    get_paths,
)
from docstack.typing import AnyTensor, AnyUrl, NdArray
from docstack.utils.create_dynamic_doc_class import (
    create_base_doc_from_schema,
    create_pure_python_type_model,
)

# -- schemas used below (module level, so that forward references resolve) ----------------


class Inner(BaseDoc):
    title: str = ""
    img: Optional[ImageDoc] = None


class Outer(BaseDoc):
    name: str = ""
    inner: Optional[Inner] = None
    items: DocList[Inner] = DocList[Inner]()
    meta: dict = {}
    meta_: Optional[Inner] = None


class Node(BaseDoc):
    label: str
    child: Optional[Node]


class Author(BaseDoc):
    name: str
    books: Optional[DocList[Book]]


class Book(BaseDoc):
    title: str
    author: Optional[Author]


Author.model_rebuild()
Book.model_rebuild()

Pickled = create_doc("Pickled", title=(str, ...))


# -- docstack.helper: access paths -----------------------------------------------------------


def test_access_path_validity_walks_nested_docs_and_doclists():
    assert _is_access_path_valid(Outer, "inner")
    assert _is_access_path_valid(Outer, "inner__img__url")
    assert _is_access_path_valid(Outer, "items__img__tensor")
    assert _is_access_path_valid(Outer, "meta___title")  # the field 'meta_', then 'title'
    assert not _is_access_path_valid(Outer, "title")
    assert not _is_access_path_valid(Outer, "name__x")  # past a leaf
    assert not _is_access_path_valid(Outer, "meta__lang")  # dict keys are not fields
    assert not _is_access_path_valid(Outer, "inner.img")
    assert _all_access_paths_valid(Outer, ["id", "inner__nope"]) == [True, False]


def test_access_path_validity_refuses_what_is_not_a_schema():
    with pytest.raises(TypeError, match="document class"):
        _is_access_path_valid(dict, "a")
    with pytest.raises(TypeError, match="string"):
        _is_access_path_valid(Outer, ["inner"])


def test_get_access_paths_lists_leaves_in_field_order():
    assert Outer._get_access_paths() == [
        "id",
        "name",
        "inner__id",
        "inner__title",
        "inner__img__id",
        "inner__img__url",
        "inner__img__tensor",
        "inner__img__embedding",
        "inner__img__bytes_",
        "items",  # a DocList field is a leaf, as in DocArray
        "meta",
        "meta___id",
        "meta___title",
        *[f"meta___img__{f}" for f in ("id", "url", "tensor", "embedding", "bytes_")],
    ]
    # every path it lists is a valid path
    assert all(_all_access_paths_valid(Outer, Outer._get_access_paths()))


def test_get_access_paths_ends_on_recursive_schemas():
    assert Node._get_access_paths() == ["id", "label", "child"]
    assert Book._get_access_paths() == [
        "id",
        "title",
        "author__id",
        "author__name",
        "author__books",
    ]


def test_access_path_to_dict_nests_one_level_per_field():
    assert _access_path_to_dict("a__b__c", 1) == {"a": {"b": {"c": 1}}}
    assert _access_path_to_dict("bytes_", b"x") == {"bytes_": b"x"}
    with pytest.raises(ValueError):
        _access_path_to_dict("", 1)


def test_nested_dict_conversions_are_inverse():
    flat = {"a0__b0__c0": 0, "a0__b1": "x", "a1": [1, 2], "a2__b": {}}
    nested = _access_path_dict_to_nested_dict(flat)
    assert nested == {"a0": {"b0": {"c0": 0}, "b1": "x"}, "a1": [1, 2], "a2": {"b": {}}}
    assert _dict_to_access_paths(nested) == flat


def test_table_blanks_become_none_but_arrays_are_kept():
    arr = np.array([0, 1])
    nested = _access_path_dict_to_nested_dict(
        {"img__url": "", "img__tensor": arr, "text": "None", "n": 0, "flag": False}
    )
    assert nested["img"]["url"] is None
    assert nested["img"]["tensor"] is arr
    assert nested["text"] is None
    assert nested["n"] == 0 and nested["flag"] is False


def test_update_nested_dicts_merges_levels_and_replaces_leaves():
    target = {"text": "hello", "image": {"tensor": None}, "leaf": 1, "branch": {"x": 1}}
    update = {"image": {"url": "a.png"}, "leaf": {"now": "dict"}, "branch": 2}
    _update_nested_dicts(target, update)
    assert target == {
        "text": "hello",
        "image": {"tensor": None, "url": "a.png"},
        "leaf": {"now": "dict"},
        "branch": 2,
    }
    assert update == {"image": {"url": "a.png"}, "leaf": {"now": "dict"}, "branch": 2}


def test_shallow_copy_shares_values_but_not_the_document():
    doc = Outer(name="a", meta={"k": [1]})
    twin = _shallow_copy_doc(doc)
    assert twin == doc and twin is not doc and twin.id == doc.id
    assert twin.meta is doc.meta
    twin.name = "b"
    assert doc.name == "a"
    assert Outer._shallow_copy(doc).meta is doc.meta
    view = DocList[TextDoc]([TextDoc("x")]).to_doc_vec()[0]
    assert _shallow_copy_doc(view).text == "x"
    with pytest.raises(TypeError):
        _shallow_copy_doc({"not": "a doc"})


# -- docstack.helper: get_paths ----------------------------------------------------------------


@pytest.fixture()
def tree(tmp_path):
    for rel in ("a.txt", "b.txt", "test_c.txt", "d.png", "sub/e.txt", "sub/deep/f.txt"):
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(rel)
    return tmp_path


def test_get_paths_matches_globs(tree):
    found = sorted(os.path.basename(p) for p in get_paths(str(tree / "*.txt")))
    assert found == ["a.txt", "b.txt", "test_c.txt"]
    both = list(get_paths([str(tree / "*.png"), tree / "sub" / "*.txt"]))
    assert sorted(os.path.basename(p) for p in both) == ["d.png", "e.txt"]


def test_get_paths_recursive_star_star(tree):
    deep = {os.path.basename(p) for p in get_paths(str(tree / "**" / "*.txt"))}
    assert deep == {"a.txt", "b.txt", "test_c.txt", "e.txt", "f.txt"}
    flat = {os.path.basename(p) for p in get_paths(str(tree / "**" / "*.txt"), recursive=False)}
    assert flat == {"e.txt"}  # '**' is a plain '*': exactly one directory level


def test_get_paths_size_and_exclusion(tree):
    assert len(list(get_paths(str(tree / "*"), size=2))) == 2
    assert list(get_paths(str(tree / "*"), size=0)) == []
    pattern = str(tree / "*.txt")
    no_tests = re.escape(str(tree / "test_"))
    kept = [os.path.basename(p) for p in get_paths(pattern, exclude_regex=no_tests)]
    assert sorted(kept) == ["a.txt", "b.txt"]
    everything = [os.path.basename(p) for p in get_paths(pattern, exclude_regex=".*txt")]
    assert everything == []
    # matched from the start of the path, as in DocArray: 'test_' alone excludes nothing here
    assert len(list(get_paths(pattern, exclude_regex="test_"))) == 3


def test_get_paths_refuses_bad_arguments_at_the_call(tree):
    with pytest.raises(ValueError, match="not a valid regex"):
        get_paths(str(tree / "*"), exclude_regex="([")
    with pytest.raises(ValueError, match="size"):
        get_paths(str(tree / "*"), size=-1)


def test_get_paths_expands_the_home_directory(tree, monkeypatch):
    monkeypatch.setenv("HOME", str(tree))
    assert sorted(os.path.basename(p) for p in get_paths("~/*.png")) == ["d.png"]


# -- docstack.documents.helper ---------------------------------------------------------------


def test_create_doc_builds_a_document_class():
    Doc = create_doc("Doc", title=(str, ...), year=(int, 2000), tag="x")
    assert issubclass(Doc, BaseDoc) and Doc.__name__ == "Doc"
    assert Doc.__module__ == __name__
    doc = Doc(title="t")
    assert (doc.year, doc.tag, len(doc.id)) == (2000, "x", 32)
    with pytest.raises(ValidationError):
        Doc()
    with pytest.raises(ValidationError):
        Doc(title="t", year="not a year")


def test_create_doc_derives_from_a_document_base():
    MyAudio = create_doc("MyAudio", __base__=AudioDoc, title=(str, ...))
    assert issubclass(MyAudio, AudioDoc)
    assert "tensor" in MyAudio.model_fields and "title" in MyAudio.model_fields
    NoId = create_doc("NoId", __base__=BaseDocWithoutId, x=(int, 1))
    assert "id" not in NoId.model_fields


@pytest.mark.parametrize("base", [BaseModel, dict, "BaseDoc", (BaseDoc, BaseModel)])
def test_create_doc_refuses_a_base_that_is_not_a_document(base):
    with pytest.raises(ValueError, match="not a BaseDoc"):
        create_doc("Bad", __base__=base, x=(int, 1))


def test_create_doc_takes_validators_and_ignores_slots_with_a_warning():
    def upper(cls, value):
        return value.upper()

    Doc = create_doc("Doc", __validators__={"up": field_validator("name")(upper)}, name=(str, ...))
    assert Doc(name="abc").name == "ABC"
    with pytest.warns(DeprecationWarning, match="__slots__"):
        create_doc("Slotted", __slots__=("a",), a=(int, 0))


def test_a_created_class_pickles_when_module_level():
    doc = Pickled(title="t")
    assert pickle.loads(pickle.dumps(doc)) == doc


class Track(TypedDict):
    title: str
    rating: NotRequired[int]


class Partial(ExtTypedDict, total=False):
    title: str
    tensor: Optional[NdArray]


def test_create_doc_from_typeddict_keeps_required_keys_required():
    Doc = create_doc_from_typeddict(Track)
    assert Doc.__name__ == "Track" and issubclass(Doc, BaseDoc)
    assert Doc(title="a").rating is None
    assert Doc(title="a", rating=3).rating == 3
    with pytest.raises(ValidationError):
        Doc(rating=3)
    Loose = create_doc_from_typeddict(Partial, __base__=AudioDoc)
    assert issubclass(Loose, AudioDoc)
    assert Loose().title is None


def test_create_doc_from_typeddict_extra_fields_and_bad_input():
    Doc = create_doc_from_typeddict(Track, rating=(float, 0.5), extra=(str, "e"))
    assert Doc(title="a").rating == 0.5 and Doc(title="a").extra == "e"
    with pytest.raises(ValueError, match="not a BaseDoc"):
        create_doc_from_typeddict(Track, __base__=BaseModel)
    with pytest.raises(TypeError, match="TypedDict"):
        create_doc_from_typeddict(dict)


def test_create_doc_from_dict_infers_field_types():
    data = {
        "image": ImageDoc(tensor=np.zeros((2, 2))),
        "text": TextDoc(text="hi"),
        "id": 123,
        "count": 0,
        "vec": np.zeros(3),
        "texts": DocList[TextDoc]([TextDoc("a")]),
        "anything": None,
    }
    Doc = create_doc_from_dict("Doc", data)
    doc = Doc(
        image=ImageDoc(),
        text=TextDoc(text="hey"),
        id=5,
        count=1,
        vec=[1, 2],
        texts=[],
        anything=[1],
    )
    assert isinstance(doc.id, int) and isinstance(doc.vec, np.ndarray)
    assert isinstance(doc.texts, DocList) and doc.anything == [1]
    assert Doc.model_fields["vec"].annotation is NdArray
    with pytest.raises(ValidationError):  # 0 typed the field as int, not Any
        Doc(image=ImageDoc(), text=TextDoc(), id=1, count="many", vec=[1], texts=[], anything=1)
    with pytest.raises(ValidationError):
        Doc(image=ImageDoc(), text=["no"], id=1, count=1, vec=[1], texts=[], anything=1)


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({}, ValueError),
        ({"_private": 1}, ValueError),
        ({1: "x"}, ValueError),
        ([("a", 1)], TypeError),
    ],
)
def test_create_doc_from_dict_refuses_bad_input(data, error):
    with pytest.raises(error):
        create_doc_from_dict("Doc", data)


# -- docstack.documents.legacy ----------------------------------------------------------------


def test_legacy_document_has_docarray_v1_fields():
    assert list(LegacyDocument.model_fields) == [
        "id",
        "tensor",
        "chunks",
        "matches",
        "blob",
        "text",
        "url",
        "embedding",
        "tags",
        "scores",
    ]
    doc = LegacyDocument()
    assert doc.tags == {} and doc.tags is not LegacyDocument().tags
    assert all(getattr(doc, f) is None for f in ("tensor", "chunks", "blob", "text", "scores"))


def test_legacy_document_nests_itself_and_round_trips():
    doc = LegacyDocument(
        text="parent",
        embedding=np.arange(3.0),
        blob=b"\x00\xff",
        tags={"price": 10},
        chunks=[LegacyDocument(text="c0", chunks=[LegacyDocument(text="cc")])],
        matches=DocList[LegacyDocument]([LegacyDocument(scores={"cos": 0.5})]),
    )
    assert isinstance(doc.chunks, DocList) and doc.chunks[0].chunks[0].text == "cc"
    for back in (
        LegacyDocument.from_json(doc.to_json()),
        LegacyDocument.from_protobuf(doc.to_protobuf()),
    ):
        assert back.chunks[0].chunks[0].text == "cc"
        assert back.matches[0].scores == {"cos": 0.5}
        assert back.blob == b"\x00\xff" and back.tags == {"price": 10}
        assert np.allclose(back.embedding, [0, 1, 2])
    with pytest.raises(ValidationError):
        LegacyDocument(chunks=[TextDoc("not legacy")])


def test_legacy_document_list_summary(capsys):
    DocList[LegacyDocument]([LegacyDocument()]).summary()
    assert "LegacyDocument" in capsys.readouterr().out


# -- docstack.utils.create_dynamic_doc_class --------------------------------------------------


class Color(enum.Enum):
    RED = "red"
    BLUE = "blue"


class Page(BaseDoc):
    """A page with everything a schema can say."""

    title: str = Field("untitled", min_length=1, examples=["Home"], json_schema_extra={"k": 1})
    url: Optional[AnyUrl] = None
    vector: NdArray[3] = None
    tensor: Optional[AnyTensor] = None
    texts: DocList[TextDoc]
    main: Optional[TextDoc] = None
    grid: list[list[int]] = [[1]]
    scores: dict[str, float] = {}
    nested: dict[str, TextDoc] = {}
    count: int = Field(1, ge=0, le=10)
    color: Color = Color.RED
    mode: Literal["a", "b"] = "a"
    raw: bytes = b"\xff\x00"
    either: int | str = 0
    tags: set[str] = set()
    pair: tuple[int, str] = (1, "x")
    anything: Any = None


def _page() -> Page:
    return Page(
        title="P",
        url="https://example.com/p",
        vector=[1, 2, 3],
        tensor=np.ones((2, 2)),
        texts=[TextDoc(text="t0", embedding=np.zeros(2))],
        main=TextDoc("m"),
        grid=[[1, 2], [3]],
        scores={"a": 0.5},
        nested={"k": TextDoc("n")},
        count=4,
        color=Color.BLUE,
        mode="b",
        raw=b"\x01",
        either="s",
        tags={"x"},
        pair=(2, "y"),
        anything={"free": [1]},
    )


def test_rebuilt_class_reads_and_writes_the_same_json_and_protobuf():
    built: dict[str, Any] = {}
    Rebuilt = create_base_doc_from_schema(Page.model_json_schema(), "Page", built)
    assert set(built) == {"Page", "TextDoc"} and built["Page"] is Rebuilt
    page = _page()
    copy_ = Rebuilt.from_json(page.to_json())
    assert copy_.id == page.id and copy_.title == "P" and copy_.color == "blue"
    assert isinstance(copy_.color, enum.Enum) and type(copy_.color).__name__ == "Color"
    assert copy_.vector.shape == (3,) and copy_.tensor.shape == (2, 2)
    assert isinstance(copy_.texts, DocList) and copy_.texts[0].embedding.shape == (2,)
    assert copy_.nested["k"].text == "n" and copy_.raw == b"\x01" and copy_.pair == (2, "y")
    assert copy_.tags == {"x"} and copy_.anything == {"free": [1]}
    back = Page.from_json(copy_.to_json())
    assert back == page
    assert Page.from_protobuf(Rebuilt.from_protobuf(page.to_protobuf()).to_protobuf()) == page


def test_rebuilt_class_has_the_same_schema_and_checks():
    schema = Page.model_json_schema()
    before = copy.deepcopy(schema)
    Rebuilt = create_base_doc_from_schema(schema, "Page")
    assert schema == before  # the input is not changed
    assert Rebuilt.model_json_schema() == schema
    assert Rebuilt.__doc__ == Page.__doc__
    fresh = Rebuilt(texts=[])
    assert fresh.title == "untitled" and fresh.raw == b"\xff\x00" and len(fresh.id) == 32
    assert fresh.grid == [[1]] and fresh.grid is not Rebuilt(texts=[]).grid
    for bad in (
        {"vector": [1, 2]},
        {"count": 11},
        {"title": ""},
        {"mode": "c"},
        {"color": "green"},
    ):
        with pytest.raises(ValidationError):
            Rebuilt(texts=[], **bad)


def test_cached_models_are_reused():
    built: dict[str, Any] = {}
    first = create_base_doc_from_schema(Page.model_json_schema(), "Page", built)
    assert create_base_doc_from_schema({"properties": {}}, "Page", built) is first
    Other = create_base_doc_from_schema(ImageDoc.model_json_schema(), "ImageDoc", built)
    assert Other is built["ImageDoc"] and "url" in Other.model_fields


def test_recursive_schemas_are_rebuilt():
    built: dict[str, Any] = {}
    Legacy = create_base_doc_from_schema(LegacyDocument.model_json_schema(), "Legacy", built)
    assert Legacy is built["LegacyDocument"] is built["Legacy"]
    doc = LegacyDocument(chunks=[LegacyDocument(chunks=[LegacyDocument(text="deep")])])
    copy_ = Legacy.from_json(doc.to_json())
    assert type(copy_.chunks[0].chunks[0]) is Legacy and copy_.chunks[0].chunks[0].text == "deep"

    built = {}
    RebuiltAuthor = create_base_doc_from_schema(Author.model_json_schema(), "Author", built)
    author = Author(name="A", books=[Book(title="B", author=Author(name="A2", books=None))])
    copy_ = RebuiltAuthor.from_json(author.to_json())
    assert type(copy_.books[0]) is built["Book"]
    assert type(copy_.books[0].author) is RebuiltAuthor
    assert copy_.books[0].author.name == "A2"


def test_schema_without_id_gives_a_document_without_id():
    class Plain(BaseModel):
        x: int
        y: Optional[str] = None

    Doc = create_base_doc_from_schema(Plain.model_json_schema(), "Plain")
    assert issubclass(Doc, BaseDocWithoutId) and not issubclass(Doc, BaseDoc)
    assert Doc(x=1).y is None
    with pytest.raises(ValidationError):
        Doc(x="one")


def test_tensor_frameworks_and_docarray_tensors():
    torch = pytest.importorskip("torch")
    from docstack.typing import TorchTensor

    class T(BaseDoc):
        t: TorchTensor[2]

    Rebuilt = create_base_doc_from_schema(T.model_json_schema(), "T")
    assert isinstance(Rebuilt(t=[1.0, 2.0]).t, torch.Tensor)
    with pytest.raises(ValidationError):
        Rebuilt(t=[1.0, 2.0, 3.0])
    docarray_style = {
        "properties": {
            "t": {"type": "array", "items": {"type": "number"}, "tensor/array shape": "x"}
        },
        "required": ["t"],
    }
    Doc = create_base_doc_from_schema(docarray_style, "D")
    assert Doc.model_fields["t"].annotation is AnyTensor
    unknown = {"properties": {"t": {"type": "array", "x-docstack-tensor": {"framework": "mx"}}}}
    # a framework this machine does not know gives AnyTensor; no default: None
    assert (
        create_base_doc_from_schema(unknown, "U").model_fields["t"].annotation
        == Optional[AnyTensor]
    )


@pytest.mark.parametrize(
    ("schema", "error", "match"),
    [
        ("not a schema", TypeError, "dict"),
        ({"type": "array"}, ValueError, "object"),
        ({"properties": {"a": {"$ref": "#/$defs/Missing"}}}, ValueError, "Missing"),
        ({"properties": {"a": {"type": "tensor"}}}, ValueError, "unknown type"),
    ],
)
def test_create_base_doc_from_schema_refuses_bad_schemas(schema, error, match):
    with pytest.raises(error, match=match):
        create_base_doc_from_schema(schema, "Bad")


def test_a_failed_build_leaves_the_cache_as_it_was():
    schema = Author.model_json_schema()
    schema["$defs"]["Author"]["properties"]["bad"] = {"type": "quaternion"}
    built: dict[str, Any] = {"Kept": TextDoc}
    with pytest.raises(ValueError, match="quaternion"):
        create_base_doc_from_schema(schema, "Author", built)
    assert built == {"Kept": TextDoc}  # not the Book built before the error


def test_create_pure_python_type_model_copies_the_class():
    Copy = create_pure_python_type_model(Page)
    assert issubclass(Copy, Page) and Copy.__name__ == "Page"
    assert Copy.model_json_schema() == Page.model_json_schema()
    assert Copy.from_json(_page().to_json()).texts[0].text == "t0"
    with pytest.raises(TypeError):
        create_pure_python_type_model(BaseModel)

"""Tests of ``DocList``: a typed Python list of documents with column access."""

import copy
import json
import pickle
from typing import Optional

import numpy as np
import pytest
import torch
from pydantic import TypeAdapter, ValidationError

from docstack import AnyDoc, BaseDoc, DocList, DocVec
from docstack.errors import DocTypeError
from docstack.typing import NdArray, TorchTensor


class Item(BaseDoc):
    title: str
    count: int = 0
    vec: Optional[NdArray[3]] = None


class Other(BaseDoc):
    title: str = ""


class Banner(BaseDoc):
    image: NdArray[2]
    caption: str = ""


class Page(BaseDoc):
    banner: Banner
    chunks: DocList[Item] = DocList[Item]()
    tags: list[str] = []


class Holder(BaseDoc):
    items: DocList[Item]
    anything: DocList = DocList()


def items(n: int = 5) -> DocList[Item]:
    return DocList[Item](Item(title=f"t{i}", count=i, vec=[i, i, i]) for i in range(n))


def pages(n: int = 3) -> DocList[Page]:
    return DocList[Page](
        Page(
            banner=Banner(image=[i, -i], caption=f"cap{i}"),
            chunks=[Item(title=f"{i}.{j}") for j in range(i + 1)],
        )
        for i in range(n)
    )


def titles(docs) -> list[str]:
    return [d.title for d in docs]


# --------------------------------------------------------------------------------------------
# type parameter
# --------------------------------------------------------------------------------------------


def test_parametrization():
    assert DocList[Item].doc_type is Item
    assert DocList[Item] is DocList[Item]
    assert DocList.doc_type is AnyDoc
    assert issubclass(DocList[Item], DocList)
    assert DocList[Item].__name__ == "DocList[Item]"


@pytest.mark.parametrize("bad", [int, str, "Item", None])
def test_parametrization_needs_a_document_class(bad):
    with pytest.raises(TypeError):
        DocList[bad]


def test_cannot_reparametrize():
    with pytest.raises(TypeError):
        DocList[Item][Other]


# --------------------------------------------------------------------------------------------
# a real list
# --------------------------------------------------------------------------------------------


def test_is_a_real_list():
    docs = items(3)
    assert isinstance(docs, list)
    assert len(docs) == 3
    assert titles(docs) == ["t0", "t1", "t2"]
    assert docs[0].title == "t0" and docs[-1].title == "t2"
    assert list(reversed(docs))[0].title == "t2"
    assert docs == [Item(title=f"t{i}", count=i, vec=[i, i, i]) for i in range(3)]
    assert docs[1] in docs
    assert "DocList[Item]" in repr(docs) and "3" in repr(docs)


def test_construction_validates_dicts_and_generators():
    docs = DocList[Item]([{"title": "a", "vec": [1, 2, 3]}, Item(title="b")])
    assert all(type(d) is Item for d in docs)
    assert docs[0].vec.tolist() == [1, 2, 3]
    assert len(DocList[Item](Item(title=str(i)) for i in range(4))) == 4
    assert len(DocList[Item]()) == 0


def test_construction_rejects_wrong_documents():
    with pytest.raises(DocTypeError) as info:
        DocList[Item]([Item(title="a"), Other(title="b")])
    err = info.value
    assert isinstance(err, TypeError) and isinstance(err, ValueError)
    assert "Other" in str(err) and "Item" in str(err)
    with pytest.raises(ValidationError):
        DocList[Item]([{"count": 1}])  # missing title


def test_append():
    docs = items(2)
    docs.append(Item(title="new"))
    docs.append({"title": "from dict", "count": "4"})
    assert titles(docs) == ["t0", "t1", "new", "from dict"]
    assert type(docs[-1]) is Item and docs[-1].count == 4


def test_append_rejects_other_types_and_leaves_list_unchanged():
    docs = items(2)
    with pytest.raises(DocTypeError) as info:
        docs.append(Other(title="x"))
    assert "Other" in str(info.value) and "Item" in str(info.value)
    for bad in [1, "text", None, [Item(title="a")]]:
        with pytest.raises(DocTypeError):
            docs.append(bad)
    with pytest.raises(ValidationError):
        docs.append({"title": "x", "vec": [1, 2]})
    assert titles(docs) == ["t0", "t1"]


def test_extend_is_all_or_nothing():
    docs = items(2)
    with pytest.raises(DocTypeError):
        docs.extend([Item(title="ok"), Other(title="bad"), Item(title="ok2")])
    assert titles(docs) == ["t0", "t1"]
    with pytest.raises(ValidationError):
        docs.extend([{"title": "ok"}, {"count": 2}])
    assert titles(docs) == ["t0", "t1"]
    docs.extend(Item(title=f"g{i}") for i in range(2))
    docs.extend([{"title": "d"}])
    assert titles(docs) == ["t0", "t1", "g0", "g1", "d"]


def test_plus_operators_check_types():
    docs = items(2)
    docs += [Item(title="x")]
    assert len(docs) == 3
    with pytest.raises(DocTypeError):
        docs += [Other()]
    assert len(docs) == 3
    combined = docs + [Item(title="y")]
    assert type(combined) is DocList[Item] and len(combined) == 4 and len(docs) == 3
    with pytest.raises(DocTypeError):
        docs + [Other()]


def test_insert():
    docs = items(3)
    docs.insert(1, Item(title="in"))
    docs.insert(-1, {"title": "neg"})
    assert titles(docs) == ["t0", "in", "t1", "neg", "t2"]
    with pytest.raises(DocTypeError):
        docs.insert(0, Other())
    assert len(docs) == 5


def test_pop_and_del():
    docs = items(6)
    assert docs.pop().title == "t5"
    assert docs.pop(0).title == "t0"
    del docs[0]
    assert titles(docs) == ["t2", "t3", "t4"]
    del docs[-1]
    del docs[0:1]
    assert titles(docs) == ["t3"]


def test_del_with_index_lists_and_masks():
    docs = items(6)
    del docs[[0, 2, -1]]
    assert titles(docs) == ["t1", "t3", "t4"]
    del docs[np.array([True, False, True])]
    assert titles(docs) == ["t3"]


def test_slices():
    docs = items(6)
    part = docs[1:4]
    assert type(part) is DocList[Item]
    assert titles(part) == ["t1", "t2", "t3"]
    assert titles(docs[::2]) == ["t0", "t2", "t4"]
    assert titles(docs[-2:]) == ["t4", "t5"]
    assert titles(docs[::-1])[0] == "t5"
    # the same documents, not copies
    assert part[0] is docs[1]


@pytest.mark.parametrize(
    "key",
    [
        [4, 0, -1],
        np.array([4, 0, 5]),
        torch.tensor([4, 0, 5]),
        (4, 0, 5),
    ],
    ids=["list", "numpy", "torch", "tuple"],
)
def test_index_lists(key):
    out = items(6)[key]
    assert type(out) is DocList[Item]
    assert titles(out) == ["t4", "t0", "t5"]


@pytest.mark.parametrize(
    "mask",
    [
        [True, False, True, False, False, True],
        np.array([True, False, True, False, False, True]),
        torch.tensor([True, False, True, False, False, True]),
    ],
    ids=["list", "numpy", "torch"],
)
def test_boolean_masks(mask):
    out = items(6)[mask]
    assert type(out) is DocList[Item]
    assert titles(out) == ["t0", "t2", "t5"]


def test_numpy_scalar_index():
    docs = items(3)
    assert docs[np.int64(1)].title == "t1"
    docs[np.int64(-1)] = Item(title="last")
    assert titles(docs) == ["t0", "t1", "last"]


def test_bad_indices():
    docs = items(3)
    with pytest.raises(IndexError):
        docs[[0, 3]]
    with pytest.raises(IndexError):
        docs[[True, False]]
    with pytest.raises(IndexError):
        docs[5]
    with pytest.raises((IndexError, TypeError)):
        docs[[0.5, 1.0]]
    assert titles(docs[[]]) == []


def test_setitem():
    docs = items(4)
    docs[0] = Item(title="a")
    docs[-1] = {"title": "b"}
    docs[1:3] = [Item(title="c"), Item(title="d")]
    assert titles(docs) == ["a", "c", "d", "b"]
    docs[[0, 3]] = [Item(title="e"), Item(title="f")]
    assert titles(docs) == ["e", "c", "d", "f"]
    with pytest.raises(DocTypeError):
        docs[0] = Other()
    with pytest.raises(DocTypeError):
        docs[0:2] = [Item(title="x"), Other()]
    with pytest.raises(ValueError):
        docs[[0, 1]] = [Item(title="only one")]
    assert titles(docs) == ["e", "c", "d", "f"]


def test_sort_and_reverse():
    docs = DocList[Item]([Item(title=t, count=c) for t, c in [("b", 2), ("a", 3), ("c", 1)]])
    docs.sort(key=lambda d: d.count)
    assert titles(docs) == ["c", "b", "a"]
    docs.sort(key=lambda d: d.title, reverse=True)
    assert titles(docs) == ["c", "b", "a"]
    docs.reverse()
    assert titles(docs) == ["a", "b", "c"]
    assert type(docs) is DocList[Item]


def test_copy():
    docs = items(2)
    other = docs.copy()
    assert type(other) is DocList[Item]
    other.append(Item(title="x"))
    assert len(docs) == 2
    deep = copy.deepcopy(docs)
    deep[0].title = "changed"
    assert docs[0].title == "t0"
    assert type(deep) is DocList[Item]


# --------------------------------------------------------------------------------------------
# untyped DocList
# --------------------------------------------------------------------------------------------


def test_untyped_doc_list_holds_mixed_documents():
    docs = DocList([Item(title="a"), Other(title="b"), Banner(image=[1, 2])])
    assert len(docs) == 3
    docs.append(Page(banner=Banner(image=[0, 0])))
    docs.append({"free": 1})
    assert isinstance(docs[-1], AnyDoc) and docs[-1].free == 1
    with pytest.raises(DocTypeError):
        docs.append(5)
    assert len(docs) == 5


def test_untyped_column_access():
    docs = DocList([Item(title="a"), Other(title="b")])
    assert docs.title == ["a", "b"]
    with pytest.raises(AttributeError):
        docs.caption


def test_untyped_set_column_is_all_or_nothing():
    class P(BaseDoc):
        n: int

    class Q(BaseDoc):
        n: int

    docs = DocList([P(n=1), Q(n=2)])
    with pytest.raises(ValidationError):
        docs.n = [5, "not a number"]
    assert docs.n == [1, 2]


# --------------------------------------------------------------------------------------------
# columns
# --------------------------------------------------------------------------------------------


def test_get_column():
    docs = items(3)
    assert docs.title == ["t0", "t1", "t2"]
    assert [v.tolist() for v in docs.vec] == [[0, 0, 0], [1, 1, 1], [2, 2, 2]]
    assert docs.get_column("count") == [0, 1, 2]  # 'count' is also a list method
    assert DocList[Item]().title == []


def test_unknown_column_names_the_field():
    with pytest.raises(AttributeError) as info:
        items(2).nope
    assert "nope" in str(info.value) and "Item" in str(info.value)


def test_nested_columns():
    docs = pages(3)
    banners = docs.banner
    assert isinstance(banners, DocList) and banners.doc_type is Banner
    assert [b.tolist() for b in docs.banner.image] == [[0, 0], [1, -1], [2, -2]]
    assert docs.banner.caption == ["cap0", "cap1", "cap2"]
    assert [len(c) for c in docs.chunks] == [1, 2, 3]


def test_set_column():
    docs = items(3)
    docs.title = ["x", "y", "z"]
    assert titles(docs) == ["x", "y", "z"]
    docs.vec = np.arange(9).reshape(3, 3)
    assert docs[2].vec.tolist() == [6, 7, 8]
    assert isinstance(docs[2].vec, NdArray)
    docs.set_column("count", ["7", 8, 9])  # validated and converted
    assert docs.get_column("count") == [7, 8, 9]


def test_set_column_length_must_match():
    docs = items(3)
    with pytest.raises(ValueError) as info:
        docs.title = ["only one"]
    assert "title" in str(info.value)
    assert titles(docs) == ["t0", "t1", "t2"]


def test_set_column_validation_leaves_every_doc_unchanged():
    docs = items(3)
    with pytest.raises(ValidationError):
        docs.vec = [[1, 2, 3], [4, 5, 6], [7, 8]]
    assert [v.tolist() for v in docs.vec] == [[0, 0, 0], [1, 1, 1], [2, 2, 2]]
    with pytest.raises(ValidationError):
        docs.set_column("count", [1, 2, "three"])
    assert docs.get_column("count") == [0, 1, 2]


def test_set_column_error_names_the_field():
    docs = items(2)
    with pytest.raises(ValidationError) as info:
        docs.vec = [[1, 2, 3], [1, 2]]
    assert "vec" in str(info.value)
    assert "vec" in info.value.errors()[0]["loc"]


def test_set_nested_column_writes_into_the_nested_documents():
    docs = pages(3)
    docs.banner.image = np.array([[1, 1], [2, 2], [3, 3]])
    assert [p.banner.image.tolist() for p in docs] == [[1, 1], [2, 2], [3, 3]]
    docs.banner.caption = ["a", "b", "c"]
    assert docs[1].banner.caption == "b"
    with pytest.raises(ValidationError):
        docs.banner.image = [[1, 1], [2, 2], [3]]
    assert [p.banner.image.tolist() for p in docs] == [[1, 1], [2, 2], [3, 3]]


def test_set_nested_document_column():
    docs = pages(2)
    docs.banner = [Banner(image=[7, 7]), {"image": [8, 8], "caption": "d"}]
    assert [p.banner.image.tolist() for p in docs] == [[7, 7], [8, 8]]
    assert docs[1].banner.caption == "d"
    with pytest.raises(ValidationError):
        docs.banner = [Banner(image=[1, 1]), {"image": [1, 2, 3]}]
    assert docs[0].banner.image.tolist() == [7, 7]


def test_traverse_flat():
    docs = pages(3)
    assert docs.traverse_flat("banner__caption") == ["cap0", "cap1", "cap2"]
    assert docs.traverse_flat("chunks__title") == ["0.0", "1.0", "1.1", "2.0", "2.1", "2.2"]
    flat_chunks = docs.traverse_flat("chunks")
    assert len(flat_chunks) == 6 and all(isinstance(c, Item) for c in flat_chunks)
    assert [b.tolist() for b in docs.traverse_flat("banner__image")][1] == [1, -1]
    with pytest.raises(AttributeError):
        docs.traverse_flat("banner__nope")


def test_summary(capsys):
    pages(3).summary()
    out = capsys.readouterr().out
    for text in ["DocList[Page]", "3", "banner", "Banner", "chunks", "image", "caption"]:
        assert text in out, text


def test_summary_of_untyped(capsys):
    DocList([Item(title="a"), Other()]).summary()
    out = capsys.readouterr().out
    assert "Item" in out and "Other" in out


# --------------------------------------------------------------------------------------------
# conversions
# --------------------------------------------------------------------------------------------


def test_to_doc_vec():
    docs = items(4)
    vec = docs.to_doc_vec()
    assert isinstance(vec, DocVec) and vec.doc_type is Item
    assert len(vec) == 4
    assert vec.vec.shape == (4, 3)
    assert vec.to_doc_list() == docs
    assert vec.title == docs.title


def test_to_doc_vec_with_tensor_type():
    class Doc(BaseDoc):
        t: NdArray[2]

    vec = DocList[Doc]([Doc(t=[1, 2])]).to_doc_vec(tensor_type=TorchTensor)
    assert vec.tensor_type is TorchTensor


def test_to_doc_vec_needs_a_type():
    with pytest.raises(DocTypeError):
        DocList([Item(title="a")]).to_doc_vec()


@pytest.mark.parametrize("make", [items, pages], ids=["items", "pages"])
def test_pickle(make):
    docs = make()
    back = pickle.loads(pickle.dumps(docs))
    assert type(back) is type(docs)
    assert back == docs
    assert [d.id for d in back] == [d.id for d in docs]


def test_pickle_untyped():
    docs = DocList([Item(title="a"), Other(title="b")])
    back = pickle.loads(pickle.dumps(docs))
    assert type(back) is DocList
    assert [type(d) for d in back] == [Item, Other]
    assert back == docs


# --------------------------------------------------------------------------------------------
# as a field of a document
# --------------------------------------------------------------------------------------------


def test_field_validation_from_list_of_dicts():
    holder = Holder(items=[{"title": "a", "vec": [1, 2, 3]}, Item(title="b")])
    assert type(holder.items) is DocList[Item]
    assert holder.items.title == ["a", "b"]
    assert isinstance(holder.items[0].vec, NdArray)


def test_field_validation_errors_locate_the_item():
    with pytest.raises(ValidationError) as info:
        Holder(items=[{"title": "a"}, {"title": "b", "vec": [1, 2]}])
    assert info.value.errors()[0]["loc"] == ("items", 1, "vec")
    with pytest.raises(ValidationError) as info:
        Holder(items=[Other(title="x")])
    assert info.value.errors()[0]["loc"][:2] == ("items", 0)
    with pytest.raises(ValidationError):
        Holder(items=DocList[Other]([Other()]))
    with pytest.raises(ValidationError):
        Holder(items="not a list")


def test_field_keeps_a_doc_list_instance():
    docs = items(2)
    holder = Holder(items=docs)
    assert holder.items is docs


def test_field_assignment():
    holder = Holder(items=[])
    holder.items = [{"title": "z"}]
    assert type(holder.items) is DocList[Item] and holder.items.title == ["z"]
    with pytest.raises(ValidationError):
        holder.items = [Other()]
    assert holder.items.title == ["z"]


def test_field_json_round_trip():
    holder = Holder(
        items=[Item(title="a", vec=[1, 2, 3]), Item(title="b")],
        anything=[Item(title="c"), Other(title="d"), {"free": 1}],
    )
    data = json.loads(holder.model_dump_json())
    assert [d["title"] for d in data["items"]] == ["a", "b"]
    assert data["items"][0]["vec"] == [1, 2, 3]
    back = Holder.model_validate_json(holder.model_dump_json())
    assert back.items == holder.items
    assert type(back.items) is DocList[Item]
    assert [d.id for d in back.items] == [d.id for d in holder.items]
    # an untyped DocList loads its documents as AnyDoc
    assert isinstance(back.anything, DocList) and len(back.anything) == 3
    assert back.anything[1].title == "d" and back.anything[2].free == 1


def test_field_json_schema():
    schema = Holder.model_json_schema()
    prop = schema["properties"]["items"]
    assert prop["type"] == "array"
    ref = prop["items"]["$ref"].split("/")[-1]
    item_schema = schema["$defs"][ref]
    assert set(item_schema["properties"]) == {"id", "title", "count", "vec"}
    assert schema["properties"]["anything"]["type"] == "array"
    standalone = TypeAdapter(DocList[Item]).json_schema()
    assert standalone["type"] == "array"
    serialization = Holder.model_json_schema(mode="serialization")
    assert serialization["properties"]["items"]["type"] == "array"


@pytest.mark.parametrize("columnar", [False, True])
@pytest.mark.parametrize("shuffle", [False, True])
def test_batch_covers_every_document_once(columnar, shuffle):
    from docstack.documents import TextDoc

    docs = DocList[TextDoc]([TextDoc(text=str(i)) for i in range(23)])
    arr = docs.to_doc_vec() if columnar else docs
    batches = list(arr._batch(batch_size=5, shuffle=shuffle))
    assert [len(b) for b in batches] == [5, 5, 5, 5, 3]
    assert all(type(b) is type(arr) for b in batches)
    seen = [t for b in batches for t in b.text]
    assert sorted(seen, key=int) == [str(i) for i in range(23)]
    if not shuffle:
        assert seen == [str(i) for i in range(23)]
    with pytest.raises(ValueError, match="batch_size"):
        next(arr._batch(batch_size=0))


def test_flatten_one_level():
    from docstack.array.any_array import AnyDocArray
    from docstack.documents import TextDoc

    doc = TextDoc(text="a")
    assert AnyDocArray._flatten_one_level([[1], [2, 3]]) == [1, 2, 3]
    assert AnyDocArray._flatten_one_level([1, 2]) == [1, 2]
    assert AnyDocArray._flatten_one_level([DocList[TextDoc]([doc, doc])]) == [doc, doc]


@pytest.mark.parametrize("columnar", [False, True])
def test_none_index_is_the_whole_array(columnar):
    from docstack.documents import TextDoc

    docs = DocList[TextDoc]([TextDoc(text="a"), TextDoc(text="b")])
    arr = docs.to_doc_vec() if columnar else docs
    assert arr[None] is arr


def test_construct_skips_the_type_check():
    from docstack.documents import ImageDoc, TextDoc

    constructed = DocList[TextDoc].construct([TextDoc(text="a"), ImageDoc()])
    assert type(constructed[1]) is ImageDoc
    with pytest.raises(TypeError):
        DocList[TextDoc]([TextDoc(text="a"), ImageDoc()])

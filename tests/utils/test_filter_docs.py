"""Tests of ``docstack.utils.filter_docs`` on real documents, in a DocList and in a DocVec."""

from __future__ import annotations

import operator
from collections.abc import Mapping
from typing import Any, Optional

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import Field

from docstack import BaseDoc, DocList, DocVec
from docstack.errors import DocstackError
from docstack.typing import AnyTensor, NdArray, TorchTensor
from docstack.utils import FilterError, filter_docs

# --------------------------------------------------------------------------------------------
# documents
# --------------------------------------------------------------------------------------------


class Banner(BaseDoc):
    title: str = ""
    rating: Optional[int] = None


class Chunk(BaseDoc):
    text: str = ""
    score: float = 0.0


class Product(BaseDoc):
    name: str
    price: float
    stock: int = 0
    tags: list[str] = []
    description: Optional[str] = None
    discount: Optional[float] = None
    embedding: Optional[NdArray[3]] = None
    banner: Banner = Field(default_factory=Banner)
    chunks: DocList[Chunk] = Field(default_factory=DocList[Chunk])
    promo: Optional[Banner] = None


ROWS = [
    dict(
        name="apple",
        price=1.5,
        stock=10,
        tags=["fruit", "red"],
        description="Crisp red apple",
        discount=0.1,
        embedding=[1.0, 0.0, 0.0],
        banner=dict(title="Apples", rating=5),
        chunks=[dict(text="sweet", score=0.9), dict(text="red", score=0.4)],
        promo=dict(title="sale"),
    ),
    dict(
        name="banana",
        price=0.5,
        stock=0,
        tags=["fruit"],
        description=None,
        discount=None,
        embedding=[0.0, 1.0, 0.0],
        banner=dict(title="Bananas", rating=None),
        chunks=[dict(text="yellow", score=0.7)],
        promo=None,
    ),
    dict(
        name="carrot",
        price=0.8,
        stock=25,
        tags=["vegetable", "orange"],
        description="Fresh carrot",
        discount=None,
        embedding=None,
        banner=dict(title="Veggies", rating=3),
        chunks=[],
        promo=dict(title="bogo"),
    ),
    dict(
        name="durian",
        price=12.0,
        stock=2,
        tags=[],
        description="Smelly fruit",
        discount=0.5,
        embedding=[0.5, 0.5, 0.9],
        banner=dict(title="Exotic", rating=1),
        chunks=[
            dict(text="spiky", score=0.2),
            dict(text="sweet", score=0.6),
            dict(text="big", score=0.1),
        ],
        promo=None,
    ),
    dict(
        name="eggplant",
        price=3.0,
        stock=7,
        tags=["vegetable", "purple"],
        description="purple veg",
        discount=0.0,
        embedding=[0.0, 0.0, 1.0],
        banner=dict(title="Veggies", rating=4),
        chunks=[dict(text="purple", score=0.3)],
        promo=dict(title="sale"),
    ),
]
ALL = [row["name"] for row in ROWS]


def make_list() -> DocList[Product]:
    return DocList[Product]([Product(**row) for row in ROWS])


def make(kind: str):
    docs = make_list()
    return docs if kind == "list" else docs.to_doc_vec()


def names(docs) -> list[str]:
    return [doc.name for doc in docs]


@pytest.fixture(params=["list", "vec"])
def kind(request):
    return request.param


@pytest.fixture
def docs(kind):
    return make(kind)


def check_type(result, docs) -> None:
    assert type(result) is type(docs)
    assert result.doc_type is Product


# --------------------------------------------------------------------------------------------
# every operator, on a DocList and a DocVec
# --------------------------------------------------------------------------------------------

OPERATOR_CASES = [
    # $eq, and a plain value meaning $eq
    ({"name": {"$eq": "carrot"}}, ["carrot"]),
    ({"name": "carrot"}, ["carrot"]),
    ({"price": {"$eq": 3}}, ["eggplant"]),
    ({"stock": 0}, ["banana"]),
    ({"discount": {"$eq": None}}, ["banana", "carrot"]),
    ({"discount": None}, ["banana", "carrot"]),
    ({"name": "zucchini"}, []),
    # $neq (and its alias $ne): the exact negation of $eq, None included
    ({"name": {"$neq": "carrot"}}, ["apple", "banana", "durian", "eggplant"]),
    ({"discount": {"$neq": 0.1}}, ["banana", "carrot", "durian", "eggplant"]),
    ({"discount": {"$ne": None}}, ["apple", "durian", "eggplant"]),
    # order comparisons; None never matches
    ({"price": {"$gt": 1.5}}, ["durian", "eggplant"]),
    ({"price": {"$gte": 1.5}}, ["apple", "durian", "eggplant"]),
    ({"price": {"$lt": 0.8}}, ["banana"]),
    ({"price": {"$lte": 0.8}}, ["banana", "carrot"]),
    ({"stock": {"$gt": 2, "$lte": 10}}, ["apple", "eggplant"]),
    ({"discount": {"$lt": 0.2}}, ["apple", "eggplant"]),
    ({"discount": {"$gte": 0}}, ["apple", "durian", "eggplant"]),
    ({"name": {"$gt": "carrot"}}, ["durian", "eggplant"]),
    ({"name": {"$lte": "banana"}}, ["apple", "banana"]),
    ({"price": {"$gt": "a"}}, []),  # incomparable types: no match, no error
    # $in / $nin
    ({"name": {"$in": ["apple", "eggplant", "zucchini"]}}, ["apple", "eggplant"]),
    ({"name": {"$in": []}}, []),
    ({"name": {"$nin": ["apple", "eggplant"]}}, ["banana", "carrot", "durian"]),
    ({"stock": {"$in": [0, 25]}}, ["banana", "carrot"]),
    ({"discount": {"$in": [None, 0.5]}}, ["banana", "carrot", "durian"]),
    ({"discount": {"$nin": [None, 0.5]}}, ["apple", "eggplant"]),
    ({"tags": {"$in": ["red", "purple"]}}, ["apple", "eggplant"]),
    ({"tags": {"$nin": ["fruit"]}}, ["carrot", "durian", "eggplant"]),
    # $exists
    ({"description": {"$exists": True}}, ["apple", "carrot", "durian", "eggplant"]),
    ({"description": {"$exists": False}}, ["banana"]),
    ({"embedding": {"$exists": False}}, ["carrot"]),
    ({"promo": {"$exists": False}}, ["banana", "durian"]),
    # $regex (re.search); only strings match
    ({"description": {"$regex": "fruit|apple"}}, ["apple", "durian"]),
    ({"description": {"$regex": "^[A-Z]"}}, ["apple", "carrot", "durian"]),
    ({"name": {"$regex": "an"}}, ["banana", "durian", "eggplant"]),
    ({"tags": {"$regex": "^veg"}}, ["carrot", "eggplant"]),
    ({"price": {"$regex": "1"}}, []),
    # $size: list length, string length, first dimension of a tensor
    ({"tags": {"$size": 2}}, ["apple", "carrot", "eggplant"]),
    ({"tags": {"$size": 0}}, ["durian"]),
    ({"name": {"$size": 6}}, ["banana", "carrot", "durian"]),
    ({"embedding": {"$size": 3}}, ["apple", "banana", "durian", "eggplant"]),
    # logical operators
    ({"$and": [{"price": {"$lt": 5}}, {"tags": "vegetable"}]}, ["carrot", "eggplant"]),
    ({"$or": [{"price": {"$gt": 10}}, {"stock": 0}]}, ["banana", "durian"]),
    ({"$not": {"tags": "fruit"}}, ["carrot", "durian", "eggplant"]),
    ({"price": {"$not": {"$gt": 1}}}, ["banana", "carrot"]),
    ({"discount": {"$not": {"$gt": 0.05}}}, ["banana", "carrot", "eggplant"]),
    (
        {
            "$or": [
                {"$and": [{"tags": "vegetable"}, {"stock": {"$gt": 10}}]},
                {"$not": {"price": {"$lt": 10}}},
            ]
        },
        ["carrot", "durian"],
    ),
    ({"name": "apple", "stock": 10}, ["apple"]),
    ({"name": "apple", "stock": 11}, []),
    # list fields: any element matches a scalar condition; a list operand is the whole value
    ({"tags": "red"}, ["apple"]),
    ({"tags": ["fruit", "red"]}, ["apple"]),
    ({"tags": ["red", "fruit"]}, []),
    ({"tags": {"$neq": "fruit"}}, ["carrot", "durian", "eggplant"]),
    # tensor fields: compared element-wise (any element), or whole with a list operand
    ({"embedding": {"$gt": 0.95}}, ["apple", "banana", "eggplant"]),
    ({"embedding": 0.9}, ["durian"]),
    ({"embedding": [0.0, 1.0, 0.0]}, ["banana"]),
]


@pytest.mark.parametrize(("query", "expected"), OPERATOR_CASES, ids=lambda v: repr(v)[:60])
def test_operators(docs, query, expected):
    result = filter_docs(docs, query)
    check_type(result, docs)
    assert names(result) == expected


def test_every_operator_is_covered():
    seen: set[str] = set()

    def walk(node):
        if isinstance(node, dict):
            for key, value in node.items():
                if key.startswith("$"):
                    seen.add(key)
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk([query for query, _ in OPERATOR_CASES])
    assert seen >= {
        "$eq",
        "$neq",
        "$gt",
        "$gte",
        "$lt",
        "$lte",
        "$in",
        "$nin",
        "$exists",
        "$regex",
        "$size",
        "$and",
        "$or",
        "$not",
    }


def test_doclist_and_docvec_agree_on_every_case():
    as_list = make_list()
    as_vec = as_list.to_doc_vec()
    for query, _ in OPERATOR_CASES:
        assert [d.id for d in filter_docs(as_list, query)] == [
            d.id for d in filter_docs(as_vec, query)
        ], query


# --------------------------------------------------------------------------------------------
# nested paths
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"banner__title": "Veggies"}, ["carrot", "eggplant"]),
        ({"banner.title": "Veggies"}, ["carrot", "eggplant"]),
        ({"banner__title": {"$regex": "s$"}}, ["apple", "banana", "carrot", "eggplant"]),
        ({"banner__rating": {"$gte": 4}}, ["apple", "eggplant"]),
        ({"banner__rating": {"$lt": 3}}, ["durian"]),
        ({"banner__rating": None}, ["banana"]),
        ({"banner__rating": {"$exists": True}}, ["apple", "carrot", "durian", "eggplant"]),
        # through an Optional nested document that is None in some documents
        ({"promo__title": "sale"}, ["apple", "eggplant"]),
        ({"promo__title": {"$exists": False}}, ["banana", "durian"]),
        ({"promo__title": {"$neq": "sale"}}, ["banana", "carrot", "durian"]),
        ({"promo__title": {"$in": ["bogo", None]}}, ["banana", "carrot", "durian"]),
        # mixed with top-level fields
        ({"banner__title": "Veggies", "price": {"$gt": 1}}, ["eggplant"]),
    ],
    ids=lambda v: repr(v)[:60],
)
def test_nested_document_paths(docs, query, expected):
    result = filter_docs(docs, query)
    check_type(result, docs)
    assert names(result) == expected


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"chunks__text": "sweet"}, ["apple", "durian"]),
        ({"chunks__text": {"$in": ["yellow", "purple"]}}, ["banana", "eggplant"]),
        ({"chunks__text": {"$nin": ["sweet"]}}, ["banana", "carrot", "eggplant"]),
        ({"chunks__text": {"$neq": "sweet"}}, ["banana", "carrot", "eggplant"]),
        ({"chunks__text": {"$regex": "^s"}}, ["apple", "durian"]),
        ({"chunks__score": {"$gt": 0.8}}, ["apple"]),
        ({"chunks__score": {"$lt": 0.25}}, ["durian"]),
        # MongoDB semantics: each condition may be met by a different element
        ({"chunks__score": {"$gt": 0.65, "$lt": 0.45}}, ["apple"]),
        ({"chunks__score": {"$gt": 0.5, "$lt": 0.65}}, ["apple", "durian"]),
        ({"$not": {"chunks__text": "sweet"}}, ["banana", "carrot", "eggplant"]),
    ],
    ids=lambda v: repr(v)[:60],
)
def test_paths_through_a_doclist_field(docs, query, expected):
    result = filter_docs(docs, query)
    check_type(result, docs)
    assert names(result) == expected


def test_size_of_a_doclist_field(kind):
    docs = make(kind)
    assert names(filter_docs(docs, {"chunks": {"$size": 2}})) == ["apple"]
    assert names(filter_docs(docs, {"chunks": {"$size": 0}})) == ["carrot"]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"chunks": {"$size": 1}}, ["banana", "eggplant"]),
        ({"chunks": {"$size": 3}}, ["durian"]),
        ({"chunks": {"$not": {"$size": 1}}}, ["apple", "carrot", "durian"]),
        ({"chunks": {"$exists": True}}, ALL),
        ({"chunks": []}, ["carrot"]),
        ({"chunks": {"$neq": []}}, ["apple", "banana", "durian", "eggplant"]),
        ({"$or": [{"chunks": {"$size": 0}}, {"chunks__text": "purple"}]}, ["carrot", "eggplant"]),
    ],
    ids=lambda v: repr(v)[:60],
)
def test_doclist_field_as_a_whole(docs, query, expected):
    """The value of a DocList field is the sequence of its documents, in a DocVec too."""
    assert names(filter_docs(docs, query)) == expected


def test_doclist_field_equal_to_its_documents(kind):
    docs = make(kind)
    banana_chunks = list(make_list()[1].chunks)  # the same documents, ids included
    assert names(filter_docs(docs, {"chunks": banana_chunks})) == ["banana"]
    assert names(filter_docs(docs, {"chunks": banana_chunks[0]})) == ["banana"]


# --------------------------------------------------------------------------------------------
# query forms
# --------------------------------------------------------------------------------------------


def test_json_string_query(docs):
    result = filter_docs(docs, '{"price": {"$gt": 1}, "tags": "vegetable"}')
    check_type(result, docs)
    assert names(result) == ["eggplant"]
    as_bytes = filter_docs(docs, b'{"banner__title": {"$in": ["Apples", "Exotic"]}}')
    assert names(as_bytes) == ["apple", "durian"]


def test_json_string_with_null_and_booleans(docs):
    assert names(filter_docs(docs, '{"discount": null}')) == ["banana", "carrot"]
    assert names(filter_docs(docs, '{"promo": {"$exists": false}}')) == ["banana", "durian"]


def test_list_of_dicts_means_and(docs):
    query = [{"price": {"$gte": 0.8}}, {"price": {"$lte": 3}}, {"tags": {"$size": 2}}]
    result = filter_docs(docs, query)
    check_type(result, docs)
    assert names(result) == ["apple", "carrot", "eggplant"]
    as_json = '[{"price": {"$gte": 0.8}}, {"price": {"$lte": 3}}, {"tags": {"$size": 2}}]'
    assert names(filter_docs(docs, as_json)) == ["apple", "carrot", "eggplant"]


@pytest.mark.parametrize("query", [{}, [], "{}", "[]", [{}]], ids=repr)
def test_empty_query_returns_everything_as_a_new_array(docs, query):
    result = filter_docs(docs, query)
    check_type(result, docs)
    assert result is not docs
    assert names(result) == ALL
    assert [d.id for d in result] == [d.id for d in docs]


def test_empty_query_result_is_a_copy_of_a_doclist():
    docs = make_list()
    result = filter_docs(docs, {})
    result.append(Product(name="extra", price=1))
    del result[0]
    assert names(docs) == ALL


def test_filter_result_is_independent_of_a_docvec():
    docs = make("vec")
    result = filter_docs(docs, {"price": {"$gt": 0}})  # matches everything
    result[0].embedding[0] = 42.0
    result[1].name = "changed"
    assert docs[0].embedding.tolist() == [1.0, 0.0, 0.0]
    assert names(docs) == ALL


def test_empty_query_result_is_independent_of_a_docvec():
    docs = make("vec")
    result = filter_docs(docs, {})
    result[0].embedding[0] = 42.0
    assert docs[0].embedding.tolist() == [1.0, 0.0, 0.0]


def test_result_keeps_input_order_and_documents(docs):
    shuffled = docs[[4, 1, 3, 0, 2]]
    result = filter_docs(shuffled, {"price": {"$gte": 1}})
    check_type(result, docs)
    assert names(result) == ["eggplant", "durian", "apple"]
    by_id = {d.id: d for d in docs}
    for doc in result:
        assert doc == by_id[doc.id]


def test_result_documents_have_their_values(docs):
    (doc,) = filter_docs(docs, {"name": "durian"})
    assert doc.price == 12.0
    assert doc.tags == []
    assert doc.banner.title == "Exotic"
    assert [c.text for c in doc.chunks] == ["spiky", "sweet", "big"]
    assert np.allclose(np.asarray(doc.embedding), [0.5, 0.5, 0.9])
    assert doc.promo is None


def test_empty_arrays(kind):
    empty = DocList[Product]() if kind == "list" else DocVec[Product]([])
    result = filter_docs(empty, {"price": {"$gt": 1}, "chunks__text": "a"})
    assert type(result) is type(empty)
    assert len(result) == 0


def test_no_match_gives_an_empty_array_of_the_same_type(docs):
    result = filter_docs(docs, {"price": {"$gt": 100}})
    check_type(result, docs)
    assert len(result) == 0


def test_untyped_doclist_treats_absent_fields_as_missing():
    mixed = DocList([Banner(title="x", rating=1), Chunk(text="x"), Banner(title="y")])
    result = filter_docs(mixed, {"title": {"$exists": True}})
    assert [type(d).__name__ for d in result] == ["Banner", "Banner"]
    assert [d.text for d in filter_docs(mixed, {"text": "x"})] == ["x"]
    assert len(filter_docs(mixed, {"rating": {"$exists": False}})) == 2


def test_torch_columns():
    class Vec(BaseDoc):
        n: int
        v: AnyTensor

    rows = [Vec(n=i, v=np.array([i, -i, 0.5], dtype=np.float32)) for i in range(4)]
    as_vec = DocVec[Vec](rows, tensor_type=TorchTensor)
    as_list = DocList[Vec](rows)
    for docs in (as_vec, as_list):
        assert [d.n for d in filter_docs(docs, {"v": {"$gte": 2}})] == [2, 3]
        assert [d.n for d in filter_docs(docs, {"v": {"$lt": -2}})] == [3]
        assert [d.n for d in filter_docs(docs, {"v": [1.0, -1.0, 0.5]})] == [1]
        assert [d.n for d in filter_docs(docs, {"v": {"$size": 3}})] == [0, 1, 2, 3]


# --------------------------------------------------------------------------------------------
# bad queries
# --------------------------------------------------------------------------------------------

BAD_QUERIES = [
    ({"nope": 1}, ["unknown field", "'nope'"]),
    ({"banner__nope": 1}, ["unknown field", "'banner__nope'", "banner__title"]),
    ({"chunks__nope": {"$exists": True}}, ["unknown field", "'chunks__nope'"]),
    ({"$or": [{"price": 1}, {"prise": 2}]}, ["unknown field", "'prise'", "'price'"]),
    ({"price": {"$foo": 1}}, ["unknown operator", "'$foo'", "'price'"]),
    ({"price": {"$and": [1]}}, ["unknown operator", "'$and'", "'price'"]),
    ({"$nor": [{"price": 1}]}, ["unknown operator", "'$nor'"]),
    ({"$gt": 3}, ["'$gt'", "applied to a field"]),
    ("{bad json", ["not valid JSON"]),
    ('{"price": ', ["not valid JSON"]),
    ("3", ["must be a dict"]),
    (3, ["must be a dict"]),
    (None, ["must be a dict"]),
    ({"price": {"$in": 3}}, ["$in", "'price'", "list"]),
    ({"price": {"$nin": "abc"}}, ["$nin", "'price'", "list"]),
    ({"price": {"$gt": [1, 2]}}, ["$gt", "'price'"]),
    ({"price": {"$lte": None}}, ["$lte", "'price'"]),
    ({"description": {"$exists": "yes"}}, ["$exists", "'description'", "True or False"]),
    ({"name": {"$regex": 3}}, ["$regex", "'name'"]),
    ({"name": {"$regex": "("}}, ["$regex", "'name'", "not a valid regular expression"]),
    ({"tags": {"$size": -1}}, ["$size", "'tags'", "non-negative"]),
    ({"tags": {"$size": 1.5}}, ["$size", "'tags'"]),
    ({"tags": {"$size": True}}, ["$size", "'tags'"]),
    ({"$and": []}, ["$and", "non-empty"]),
    ({"$or": "price"}, ["$or", "list"]),
    ({"$not": []}, ["$not"]),
    ({"price": {"$not": 3}}, ["$not", "'price'"]),
    ({"price": {}}, ["'price'", "empty condition"]),
    ({"price": {"$gt": 1, "x": 2}}, ["'price'", "mixes operators"]),
    ({"banner____title": 1}, ["invalid field path"]),
]


@pytest.mark.parametrize(("query", "fragments"), BAD_QUERIES, ids=lambda v: repr(v)[:50])
def test_bad_queries_raise_filter_error(docs, query, fragments):
    before = [(d.id, d.name, d.price) for d in docs]
    with pytest.raises(FilterError) as info:
        filter_docs(docs, query)
    message = str(info.value)
    for fragment in fragments:
        assert fragment in message, (fragment, message)
    assert [(d.id, d.name, d.price) for d in docs] == before


def test_filter_error_is_a_value_error_and_a_docstack_error():
    assert issubclass(FilterError, ValueError)
    assert issubclass(FilterError, DocstackError)
    import docstack.utils

    assert docstack.utils.FilterError is FilterError


def test_query_is_checked_before_anything_runs(kind):
    # the first branch matches nothing, so evaluation could stop early; the query is still
    # rejected, even on an empty array
    empty = DocList[Product]() if kind == "list" else DocVec[Product]([])
    bad_later = {"$and": [{"price": {"$lt": -1}}, {"stock": {"$regex": 1}}]}
    for docs in (make(kind), empty):
        with pytest.raises(FilterError, match=r"\$regex"):
            filter_docs(docs, bad_later)
        with pytest.raises(FilterError, match="'typo'"):
            filter_docs(docs, {"$or": [{"price": {"$gt": -1}}, {"typo": 1}]})


def test_query_dict_is_not_modified(docs):
    query = {"tags": {"$in": ["red", "purple"]}, "$or": [{"price": 1.5}, {"stock": 7}]}
    snapshot = repr(query)
    assert names(filter_docs(docs, query)) == ["apple", "eggplant"]
    assert repr(query) == snapshot


# --------------------------------------------------------------------------------------------
# against a plain Python reference
# --------------------------------------------------------------------------------------------


class Record(BaseDoc):
    i: int = 0
    f: float = 0.0
    s: str = ""
    o: Optional[int] = None


_ORDER = {"$gt": operator.gt, "$gte": operator.ge, "$lt": operator.lt, "$lte": operator.le}
_INTS = st.one_of(
    st.integers(-(2**53), 2**53),
    st.integers(-5, 5),
    # around 2**53 (where float64 stops holding every int) and beyond int64
    st.integers(2**53 - 2, 2**53 + 2),
    st.sampled_from([2**63 - 1, -(2**63), 2**63, 2**64 + 1]),
    st.integers(-(2**66), 2**66),
)
_FLOATS = st.one_of(
    st.floats(allow_nan=False),
    st.integers(-5, 5).map(float),
    st.sampled_from([2.0**53, 2.0**53 + 2, 2.0**63, -(2.0**63), 2.0**64, 0.5]),
)
_TEXTS = st.text(max_size=4) | st.sampled_from(["", "a", "b", "ab", "B"])
_VALUES = {"i": _INTS, "f": _FLOATS, "s": _TEXTS, "o": st.none() | st.integers(-5, 5)}
_ANY_VALUE = st.one_of(_INTS, _FLOATS, _TEXTS)


@st.composite
def simple_queries(draw):
    field = draw(st.sampled_from(sorted(_VALUES)))
    op = draw(st.sampled_from(["$gt", "$gte", "$lt", "$lte", "$eq", "$in"]))
    # mostly operands of the field's own type, sometimes of another one
    same = _VALUES[field].filter(lambda v: v is not None)
    operand_st = st.one_of(same, same, _ANY_VALUE)
    if op == "$in":
        operand = draw(st.lists(operand_st | st.none(), max_size=3))
    else:
        operand = draw(operand_st)
    return field, op, operand


def reference_match(value, op, operand) -> bool:
    if op == "$eq":
        return value == operand
    if op == "$in":
        return any(value is None if o is None else value == o for o in operand)
    if value is None:
        return False
    try:
        return bool(_ORDER[op](value, operand))
    except TypeError:
        return False


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    records=st.lists(
        st.builds(Record, i=_INTS, f=_FLOATS, s=_TEXTS, o=st.none() | st.integers(-5, 5)),
        max_size=10,
    ),
    query=simple_queries(),
)
def test_matches_a_python_reference(records, query):
    field, op, operand = query
    expected = [r.id for r in records if reference_match(getattr(r, field), op, operand)]
    as_list = filter_docs(DocList[Record](records), {field: {op: operand}})
    assert [d.id for d in as_list] == expected
    as_vec = filter_docs(DocVec[Record](records), {field: {op: operand}})
    assert isinstance(as_vec, DocVec)
    assert [d.id for d in as_vec] == expected


def test_int_against_float_compares_exactly():
    big = 2**53 + 1
    query = {"i": {"$eq": 2.0**53}}
    alone = filter_docs(DocList[Record]([Record(i=big), Record(i=0)]), query)
    with_huge = filter_docs(DocList[Record]([Record(i=big), Record(i=2**64)]), query)
    assert [d.i for d in with_huge] == []  # exact, as in Python: big != 2.0**53
    assert [d.i for d in alone] == []
    assert [
        d.i for d in filter_docs(DocList[Record]([Record(i=big)]), {"i": {"$gt": 2.0**53}})
    ] == [big]


# --------------------------------------------------------------------------------------------
# paths into dict fields
# --------------------------------------------------------------------------------------------


class Note(BaseDoc):
    labels: dict[str, str] = {}


class Card(BaseDoc):
    props: Mapping[str, Any] = Field(default_factory=dict)


class Page(BaseDoc):
    name: str
    meta: dict = {}
    extra: Optional[dict[str, int]] = None
    notes: DocList[Note] = Field(default_factory=DocList[Note])
    card: Card = Field(default_factory=Card)


PAGE_ROWS = [
    dict(
        name="a",
        meta={"lang": "en", "rank": 3, "tags": ["x", "y"], "author": {"name": "Ann"}, "items": 3},
        extra={"views": 12},
        notes=[dict(labels={"kind": "todo"})],
        card=dict(props={"color": "red"}),
    ),
    dict(
        name="b",
        meta={"lang": "fr", "rank": 1, "tags": ["x"]},
        notes=[dict(labels={}), dict(labels={"kind": "done"})],
    ),
    dict(name="c", extra={"views": 5}, card=dict(props={"color": "blue"})),
    dict(
        name="d",
        meta={"lang": "de", "rank": 2.5, "author": {"name": "Bob"}},
        extra={"clicks": 1},
        notes=[dict(labels={"kind": "todo"})],
    ),
    dict(name="e", meta={"lang": None, "rank": "high", "author": "Eve"}),
]


def make_pages(kind: str):
    pages = DocList[Page]([Page(**row) for row in PAGE_ROWS])
    return pages if kind == "list" else pages.to_doc_vec()


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"meta__lang": "en"}, ["a"]),
        ({"meta.lang": "en"}, ["a"]),
        ({"meta__lang": {"$exists": True}}, ["a", "b", "d"]),
        ({"meta__lang": {"$exists": False}}, ["c", "e"]),  # no key, or None
        ({"meta__lang": None}, ["c", "e"]),
        ({"meta__lang": {"$in": ["en", "de"]}}, ["a", "d"]),
        ({"meta__lang": {"$neq": "en"}}, ["b", "c", "d", "e"]),
        ({"meta__lang": {"$nin": ["en", "fr"]}}, ["c", "d", "e"]),
        ({"meta__rank": {"$gt": 2}}, ["a", "d"]),  # 'high' is not comparable with 2
        ({"meta__rank": {"$lte": 1}}, ["b"]),
        ({"meta__tags": "x"}, ["a", "b"]),  # a list inside the dict: any element
        ({"meta__tags": {"$size": 2}}, ["a"]),
        ({"meta__author__name": {"$regex": "^A"}}, ["a"]),
        ({"meta__author__name": {"$exists": True}}, ["a", "d"]),  # 'Eve' has no keys
        ({"meta__items": 3}, ["a"]),  # a key, not the dict method
        ({"meta__nope": {"$exists": False}}, ["a", "b", "c", "d", "e"]),
        ({"extra__views": {"$gte": 10}}, ["a"]),
        ({"extra__views": {"$exists": False}}, ["b", "d", "e"]),  # extra None or no key
        ({"notes__labels__kind": "todo"}, ["a", "d"]),  # through a DocList field
        ({"notes__labels__kind": {"$neq": "todo"}}, ["b", "c", "e"]),
        ({"card__props__color": {"$in": ["red", "blue"]}}, ["a", "c"]),  # a nested doc's dict
        ({"meta": {"lang": "fr", "rank": 1, "tags": ["x"]}}, ["b"]),  # the whole dict
        ({"$or": [{"meta__lang": "fr"}, {"extra__views": 5}]}, ["b", "c"]),
    ],
    ids=lambda v: repr(v)[:60],
)
def test_paths_into_dict_fields(kind, query, expected):
    pages = make_pages(kind)
    result = filter_docs(pages, query)
    assert type(result) is type(pages)
    assert [p.name for p in result] == expected


def test_paths_into_dict_fields_are_still_checked():
    pages = make_pages("list")
    with pytest.raises(FilterError) as info:
        filter_docs(pages, {"name__x": 1})  # a str field has no keys
    assert "unknown field 'name__x'" in str(info.value)
    assert "meta__<key>" in str(info.value)
    with pytest.raises(FilterError, match="'notes__nope'"):
        filter_docs(pages, {"notes__nope": 1})
    with pytest.raises(FilterError, match=r"\$gt"):
        filter_docs(pages, {"meta__rank": {"$gt": [1]}})


def test_paths_into_dicts_of_untyped_documents():
    mixed = DocList([Page(name="p", meta={"lang": "en"}), Chunk(text="x"), Page(name="q")])
    assert [d.name for d in filter_docs(mixed, {"meta__lang": "en"})] == ["p"]
    assert len(filter_docs(mixed, {"meta__lang": {"$exists": False}})) == 2
    # a path does not read attributes of plain values: a str has no 'upper' field
    assert len(filter_docs(mixed, {"text__upper": {"$exists": True}})) == 0


# --------------------------------------------------------------------------------------------
# exact comparisons of big ints and floats
# --------------------------------------------------------------------------------------------

_BIG = [2**53 - 1, 2**53, 2**53 + 1, 2**53 + 2, -(2**53) - 1, 2**62 + 1, 2**63 - 1, -(2**63), 0]
_BIG_OPERANDS = [
    2.0**53,
    2.0**53 + 2,
    2.0**53 - 0.5,
    -(2.0**53),
    2.0**62,
    2.0**63,
    -(2.0**63),
    0.5,
    -0.0,
    float("inf"),
    float("-inf"),
    float("nan"),
    2**53 + 1,
    2**63,
    2**64,
    True,
    np.float32(2**53),
    np.int64(2**53 + 1),
    np.uint64(2**63 + 1),
]


@pytest.mark.parametrize("operand", _BIG_OPERANDS, ids=repr)
def test_big_int_column_compares_exactly(kind, operand):
    records = [Record(i=i) for i in _BIG]
    docs = DocList[Record](records) if kind == "list" else DocVec[Record](records)
    # compared by value, as Python compares ints and floats (numpy scalars would round the
    # int to their own precision first: 2**53 + 1 > np.float32(2**53) is False in numpy)
    value = operand.item() if isinstance(operand, np.generic) else operand
    for op, compare in [*_ORDER.items(), ("$eq", operator.eq), ("$neq", operator.ne)]:
        expected = [i for i in _BIG if compare(i, value)]
        assert [d.i for d in filter_docs(docs, {"i": {op: operand}})] == expected, op
    expected = [i for i in _BIG if i == value or i == 7]
    assert [d.i for d in filter_docs(docs, {"i": {"$in": [operand, 7]}})] == expected


@pytest.mark.parametrize("operand", [2**53 + 1, 2**53 - 1, -(2**53) - 1, 2**1100, -(2**1100)])
def test_float_column_against_a_big_int_compares_exactly(kind, operand):
    values = [2.0**53, 2.0**53 + 2, -(2.0**53), float("inf"), float("-inf"), 1.5, float("nan")]
    records = [Record(f=f) for f in values]
    docs = DocList[Record](records) if kind == "list" else DocVec[Record](records)
    for op, compare in [*_ORDER.items(), ("$eq", operator.eq)]:
        expected = [repr(f) for f in values if compare(f, operand)]
        got = [repr(d.f) for d in filter_docs(docs, {"f": {op: operand}})]
        assert got == expected, op
    assert len(filter_docs(docs, {"f": {"$in": [operand]}})) == 0


def test_mixed_int_and_float_values_are_not_rounded():
    class Loose(BaseDoc):
        v: Any = None

    docs = DocList[Loose]([Loose(v=2**53 + 1), Loose(v=0.5), Loose(v=2**53)])
    assert [d.v for d in filter_docs(docs, {"v": 2**53})] == [2**53]
    assert [d.v for d in filter_docs(docs, {"v": {"$gt": 2.0**53}})] == [2**53 + 1]
    assert [d.v for d in filter_docs(docs, {"v": {"$in": [2**53 + 1]}})] == [2**53 + 1]


def test_logical_operator_with_a_dict_of_conditions():
    # DocArray's form: {'$and': {field: condition, ...}} means one sub-query per entry
    class Item(BaseDoc):
        name: str
        price: int

    items = DocList[Item]([Item(name=n, price=p) for n, p in [("a", 1), ("b", 5), ("a", 9)]])
    for arr in (items, items.to_doc_vec()):
        both = filter_docs(arr, {"$and": {"name": {"$eq": "a"}, "price": {"$gt": 5}}})
        assert [(d.name, d.price) for d in both] == [("a", 9)]
        either = filter_docs(arr, {"$or": {"name": {"$eq": "b"}, "price": {"$gt": 5}}})
        assert [(d.name, d.price) for d in either] == [("b", 5), ("a", 9)]


def test_regex_on_a_text_document_matches_its_text():
    from docstack.documents import TextDoc

    class Post(BaseDoc):
        body: TextDoc

    posts = DocList[Post]([Post(body=TextDoc(text=t)) for t in ["hello world", "bye"]])
    assert [p.body.text for p in filter_docs(posts, {"body": {"$regex": "^hel"}})] == [
        "hello world"
    ]
    assert [p.body.text for p in filter_docs(posts, {"body": {"$eq": "bye"}})] == ["bye"]

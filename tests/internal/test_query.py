"""Tests of the portable filter language (docstack._internal.query)."""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Sequence

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from docstack._internal.query import (
    And,
    Comparison,
    FilterError,
    Not,
    Or,
    field_paths,
    parse_filter,
)
from docstack._internal.query_eval import evaluate
from docstack.errors import DocstackError

# --------------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------------


def run(query, records, *, as_array=False, fields=None):
    """Evaluate ``query`` over dict records; nested paths walk nested dicts."""

    def column(path):
        values = []
        for rec in records:
            value = rec
            for part in path:
                value = value.get(part) if isinstance(value, dict) else None
            values.append(value)
        if as_array:
            return np.asarray(values)
        return values

    node = parse_filter(query, fields=fields)
    mask = evaluate(node, column, len(records))
    assert mask.dtype == bool and mask.shape == (len(records),)
    return mask.tolist()


PRICES = [{"price": p} for p in (1, 3, 5, 7, 9)]

_ORDER = {"$gt": operator.gt, "$gte": operator.ge, "$lt": operator.lt, "$lte": operator.le}
_ORDER_OPS_NAMES = list(_ORDER)


# --------------------------------------------------------------------------------------------
# operators
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("as_array", [False, True])
@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"price": {"$eq": 5}}, [0, 0, 1, 0, 0]),
        ({"price": 5}, [0, 0, 1, 0, 0]),
        ({"price": {"$neq": 5}}, [1, 1, 0, 1, 1]),
        ({"price": {"$ne": 5}}, [1, 1, 0, 1, 1]),
        ({"price": {"$gt": 5}}, [0, 0, 0, 1, 1]),
        ({"price": {"$gte": 5}}, [0, 0, 1, 1, 1]),
        ({"price": {"$lt": 5}}, [1, 1, 0, 0, 0]),
        ({"price": {"$lte": 5}}, [1, 1, 1, 0, 0]),
        ({"price": {"$gt": 3, "$lte": 7}}, [0, 0, 1, 1, 0]),
        ({"price": {"$in": [1, 9, 100]}}, [1, 0, 0, 0, 1]),
        ({"price": {"$nin": [1, 9]}}, [0, 1, 1, 1, 0]),
        ({"price": {"$exists": True}}, [1, 1, 1, 1, 1]),
        ({"price": {"$exists": False}}, [0, 0, 0, 0, 0]),
        ({"price": {"$gt": 4.5}}, [0, 0, 1, 1, 1]),
        ({"price": {"$eq": 5.0}}, [0, 0, 1, 0, 0]),
        ({"price": {"$not": {"$gt": 4}}}, [1, 1, 0, 0, 0]),
    ],
)
def test_numeric_operators(query, expected, as_array):
    assert run(query, PRICES, as_array=as_array) == [bool(e) for e in expected]


WORDS = [{"w": w} for w in ("apple", "banana", "cherry", "Apricot", "")]


@pytest.mark.parametrize("as_array", [False, True])
@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"w": "banana"}, [0, 1, 0, 0, 0]),
        ({"w": {"$neq": "banana"}}, [1, 0, 1, 1, 1]),
        ({"w": {"$gt": "b"}}, [0, 1, 1, 0, 0]),
        ({"w": {"$lte": "apple"}}, [1, 0, 0, 1, 1]),
        ({"w": {"$in": ["cherry", "x"]}}, [0, 0, 1, 0, 0]),
        ({"w": {"$regex": "^[aA]p"}}, [1, 0, 0, 1, 0]),
        ({"w": {"$regex": "an"}}, [0, 1, 0, 0, 0]),
        ({"w": {"$regex": "(?i)^a"}}, [1, 0, 0, 1, 0]),
        ({"w": {"$regex": "^$"}}, [0, 0, 0, 0, 1]),
        ({"w": {"$size": 6}}, [0, 1, 1, 0, 0]),
        ({"w": {"$size": 0}}, [0, 0, 0, 0, 1]),
    ],
)
def test_string_operators(query, expected, as_array):
    assert run(query, WORDS, as_array=as_array) == [bool(e) for e in expected]


def test_regex_uses_search_not_match():
    assert run({"w": {"$regex": "err"}}, WORDS) == [False, False, True, False, False]


def test_strings_with_nul_characters_are_compared_exactly():
    recs = [{"w": "a\x00"}, {"w": "a"}]
    assert run({"w": "a"}, recs) == [False, True]
    assert run({"w": "a\x00"}, recs) == [True, False]
    assert run({"w": {"$size": 2}}, recs) == [True, False]


# --------------------------------------------------------------------------------------------
# missing values
# --------------------------------------------------------------------------------------------

WITH_MISSING = [{"x": 1}, {"x": None}, {}, {"x": 5}]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"x": {"$gt": 0}}, [1, 0, 0, 1]),
        ({"x": {"$gte": 0}}, [1, 0, 0, 1]),
        ({"x": {"$lt": 10}}, [1, 0, 0, 1]),
        ({"x": {"$lte": 10}}, [1, 0, 0, 1]),
        ({"x": 1}, [1, 0, 0, 0]),
        ({"x": None}, [0, 1, 1, 0]),
        ({"x": {"$neq": 1}}, [0, 1, 1, 1]),
        ({"x": {"$neq": None}}, [1, 0, 0, 1]),
        ({"x": {"$in": [1, 5]}}, [1, 0, 0, 1]),
        ({"x": {"$in": [1, None]}}, [1, 1, 1, 0]),
        ({"x": {"$nin": [1]}}, [0, 1, 1, 1]),
        ({"x": {"$nin": [1, None]}}, [0, 0, 0, 1]),
        ({"x": {"$exists": True}}, [1, 0, 0, 1]),
        ({"x": {"$exists": False}}, [0, 1, 1, 0]),
        ({"x": {"$regex": "."}}, [0, 0, 0, 0]),
        ({"x": {"$size": 0}}, [0, 0, 0, 0]),
        ({"x": {"$not": {"$gt": 2}}}, [1, 1, 1, 0]),
    ],
)
def test_missing_values(query, expected):
    assert run(query, WITH_MISSING) == [bool(e) for e in expected]


def test_all_missing_column():
    recs = [{}, {}, {}]
    assert run({"x": {"$gt": 0}}, recs) == [False] * 3
    assert run({"x": {"$neq": 0}}, recs) == [True] * 3
    assert run({"x": {"$exists": False}}, recs) == [True] * 3


@pytest.mark.parametrize("error", [KeyError, AttributeError])
def test_column_raising_means_missing_everywhere(error):
    def column(path):
        raise error(path)

    node = parse_filter({"nope": {"$neq": 3}, "other": {"$exists": False}})
    assert evaluate(node, column, 2).tolist() == [True, True]
    assert evaluate(parse_filter({"nope": 3}), column, 2).tolist() == [False, False]


def test_column_returning_none_means_missing_everywhere():
    assert evaluate(parse_filter({"a": None}), lambda p: None, 2).tolist() == [True, True]


def test_column_function_called_once_per_path():
    calls = []

    def column(path):
        calls.append(path)
        return [1, 2, 3]

    node = parse_filter({"$or": [{"a": 1}, {"a": {"$gt": 2}}, {"b__c": 1}]})
    assert evaluate(node, column, 3).tolist() == [True, False, True]
    assert sorted(calls) == [("a",), ("b", "c")]


def test_column_length_mismatch_raises():
    with pytest.raises(ValueError, match="'a' has 2 values, expected 3"):
        evaluate(parse_filter({"a": 1}), lambda p: [1, 2], 3)


# --------------------------------------------------------------------------------------------
# incomparable types
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("as_array", [False, True])
def test_incomparable_types_are_false(as_array):
    assert run({"price": {"$gt": "a"}}, PRICES, as_array=as_array) == [False] * 5
    assert run({"price": {"$lt": "a"}}, PRICES, as_array=as_array) == [False] * 5
    assert run({"price": "5"}, PRICES, as_array=as_array) == [False] * 5
    assert run({"price": {"$neq": "5"}}, PRICES, as_array=as_array) == [True] * 5
    assert run({"price": {"$regex": "5"}}, PRICES, as_array=as_array) == [False] * 5
    assert run({"price": {"$size": 1}}, PRICES, as_array=as_array) == [False] * 5
    assert run({"w": {"$gt": 3}}, WORDS, as_array=as_array) == [False] * 5
    assert run({"w": {"$in": [3, "apple"]}}, WORDS, as_array=as_array) == [
        True,
        False,
        False,
        False,
        False,
    ]


def test_mixed_type_column():
    recs = [{"v": 1}, {"v": "b"}, {"v": 2.5}, {"v": None}, {"v": {"k": 1}}]
    assert run({"v": {"$gt": 1}}, recs) == [False, False, True, False, False]
    assert run({"v": {"$gt": "a"}}, recs) == [False, True, False, False, False]
    assert run({"v": {"$in": ["b", 1]}}, recs) == [True, True, False, False, False]
    assert run({"v": {"k": 1}}, recs) == [False, False, False, False, True]
    assert run({"v": {"$regex": "b"}}, recs) == [False, True, False, False, False]


def test_bool_counts_as_number():
    recs = [{"b": True}, {"b": False}, {"b": 1}]
    assert run({"b": True}, recs) == [True, False, True]
    assert run({"b": {"$gt": 0}}, recs) == [True, False, True]


def test_nan_equals_nothing():
    recs = [{"f": float("nan")}, {"f": 1.0}]
    assert run({"f": float("nan")}, recs) == [False, False]
    assert run({"f": {"$gt": 0}}, recs) == [False, True]
    assert run({"f": {"$exists": True}}, recs) == [True, True]


def test_unusual_operand_types_fall_back_to_python():
    import datetime as dt
    from decimal import Decimal

    recs = [{"p": 1}, {"p": 2}, {"p": 3}]
    assert run({"p": {"$gt": Decimal("1.5")}}, recs) == [False, True, True]
    assert run({"p": {"$gt": dt.date(2020, 1, 1)}}, recs) == [False, False, False]
    days = [{"d": dt.date(2020, 1, d)} for d in (1, 2, 3)]
    assert run({"d": {"$gte": dt.date(2020, 1, 2)}}, days) == [False, True, True]
    assert run({"d": {"$gt": 3}}, days) == [False, False, False]


def test_huge_ints():
    recs = [{"i": 2**70}, {"i": 1}]
    assert run({"i": 2**70}, recs) == [True, False]
    assert run({"i": {"$in": [2**70]}}, recs) == [True, False]
    assert run({"i": {"$lt": 2**80}}, recs) == [True, True]
    assert run({"p": {"$lt": 2**80}}, [{"p": 1}]) == [True]


# --------------------------------------------------------------------------------------------
# list-valued fields and tensors
# --------------------------------------------------------------------------------------------

TAGS = [{"tags": ["a", "b"]}, {"tags": ["c"]}, {"tags": []}, {"tags": None}, {"tags": ("a",)}]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"tags": "a"}, [1, 0, 0, 0, 1]),
        ({"tags": {"$neq": "a"}}, [0, 1, 1, 1, 0]),
        ({"tags": {"$in": ["c", "b"]}}, [1, 1, 0, 0, 0]),
        ({"tags": {"$nin": ["c", "b"]}}, [0, 0, 1, 1, 1]),
        ({"tags": ["a", "b"]}, [1, 0, 0, 0, 0]),
        ({"tags": ("a",)}, [0, 0, 0, 0, 1]),
        ({"tags": ["a"]}, [0, 0, 0, 0, 1]),
        ({"tags": []}, [0, 0, 1, 0, 0]),
        ({"tags": {"$in": [["c"], "b"]}}, [1, 1, 0, 0, 0]),
        ({"tags": {"$size": 2}}, [1, 0, 0, 0, 0]),
        ({"tags": {"$size": 0}}, [0, 0, 1, 0, 0]),
        ({"tags": {"$regex": "^c"}}, [0, 1, 0, 0, 0]),
        ({"tags": {"$gt": "a"}}, [1, 1, 0, 0, 0]),
        ({"tags": {"$exists": True}}, [1, 1, 1, 0, 1]),
    ],
)
def test_list_valued_field(query, expected):
    assert run(query, TAGS) == [bool(e) for e in expected]


def test_numeric_list_field_any_element():
    recs = [{"s": [1, 7]}, {"s": [2, 3]}, {"s": [1.5]}]
    assert run({"s": {"$gt": 5}}, recs) == [True, False, False]
    assert run({"s": {"$lt": 2}}, recs) == [True, False, True]
    assert run({"s": 3}, recs) == [False, True, False]
    assert run({"s": {"$in": [7, 1.5]}}, recs) == [True, False, True]


def test_list_of_lists_is_matched_per_value():
    recs = [{"m": [[1, 2], [3]]}, {"m": [[4]]}, {"m": [1, [2]]}]
    assert run({"m": [1, 2]}, recs) == [True, False, False]
    assert run({"m": 1}, recs) == [False, False, True]
    assert run({"m": {"$size": 1}}, recs) == [False, True, False]


def test_tensor_column():
    col = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [0.0, 0.0, 0.0]])

    def ev(q):
        return evaluate(parse_filter(q), lambda p: col, 3).tolist()

    assert ev({"e": 5.0}) == [False, True, False]
    assert ev({"e": {"$gt": 5.5}}) == [False, True, False]
    assert ev({"e": {"$in": [3, 0]}}) == [True, False, True]
    assert ev({"e": {"$nin": [3, 0]}}) == [False, True, False]
    assert ev({"e": [1, 2, 3]}) == [True, False, False]
    assert ev({"e": [1, 2]}) == [False, False, False]
    assert ev({"e": {"$in": [[0, 0, 0], 4]}}) == [False, True, True]
    assert ev({"e": {"$size": 3}}) == [True, True, True]
    assert ev({"e": {"$size": 2}}) == [False, False, False]
    assert ev({"e": {"$exists": True}}) == [True, True, True]
    assert ev({"e": {"$regex": "1"}}) == [False, False, False]


def test_tensor_column_of_matrices_is_flattened():
    col = np.arange(12).reshape(3, 2, 2)  # docs: [[0,1],[2,3]], [[4,5],[6,7]], ...
    mask = evaluate(parse_filter({"t": 6}), lambda p: col, 3).tolist()
    assert mask == [False, True, False]
    mask = evaluate(parse_filter({"t": [[0, 1], [2, 3]]}), lambda p: col, 3).tolist()
    assert mask == [True, False, False]
    assert evaluate(parse_filter({"t": {"$size": 2}}), lambda p: col, 3).all()


def test_list_of_tensors_and_empty_tensors():
    rows = [np.array([1, 2]), None, np.array([3, 4])]
    assert evaluate(parse_filter({"t": 3}), lambda p: rows, 3).tolist() == [False, False, True]
    ragged = [np.array([1, 2]), np.array([3]), None]
    node = parse_filter({"t": {"$size": 1}})
    assert evaluate(node, lambda p: ragged, 3).tolist() == [False, True, False]
    empty = np.zeros((2, 0))
    assert evaluate(parse_filter({"t": 1}), lambda p: empty, 2).tolist() == [False, False]
    assert evaluate(parse_filter({"t": []}), lambda p: empty, 2).tolist() == [True, True]


def test_torch_tensors_in_columns():
    torch = pytest.importorskip("torch")
    col = torch.tensor([1, 5, 9])
    assert evaluate(parse_filter({"x": {"$gt": 3}}), lambda p: col, 3).tolist() == [
        False,
        True,
        True,
    ]
    rows = [torch.tensor([1, 2]), torch.tensor([3]), None]
    assert evaluate(parse_filter({"x": 3}), lambda p: rows, 3).tolist() == [False, True, False]
    node = parse_filter({"x": {"$size": 2}})
    assert evaluate(node, lambda p: rows, 3).tolist() == [True, False, False]


def test_object_dtype_array_column():
    col = np.array([1, None, "a"], dtype=object)
    assert evaluate(parse_filter({"x": 1}), lambda p: col, 3).tolist() == [True, False, False]
    col = np.array([1, None, 3], dtype=object)
    node = parse_filter({"x": {"$gte": 1}})
    assert evaluate(node, lambda p: col, 3).tolist() == [True, False, True]


def test_numeric_and_string_columns_are_vectorised(monkeypatch):
    """No per-document Python matching for numeric, string and list-of-scalar columns."""
    import docstack._internal.query_eval as query_module

    def forbidden(*args):
        raise AssertionError("per-value Python fallback used")

    monkeypatch.setattr(query_module, "_py_match", forbidden)
    monkeypatch.setattr(query_module, "_whole_equal", forbidden)
    columns = {
        ("i",): [1, None, 3, 4] * 50,
        ("f",): np.linspace(0, 1, 200),
        ("s",): ["ab", "b", None, "cab"] * 50,
        ("l",): [["a", "b"], [], None, ["c"]] * 50,
        ("t",): np.arange(600.0).reshape(200, 3),
    }
    ops = [
        {"$eq": 3},
        {"$neq": "b"},
        {"$gt": 2},
        {"$lte": "b"},
        {"$in": [1, "b", None]},
        {"$nin": [4, "cab"]},
        {"$exists": True},
        {"$regex": "^a|c"},
        {"$size": 1},
    ]
    for field in ("i", "f", "s", "l", "t"):
        for op in ops:
            evaluate(parse_filter({field: op}), columns.__getitem__, 200)


# --------------------------------------------------------------------------------------------
# nesting, logic, shorthand
# --------------------------------------------------------------------------------------------

NESTED = [
    {"title": "a", "banner": {"title": "x", "n": 1}},
    {"title": "b", "banner": {"title": "y", "n": 2}},
    {"title": "c", "banner": None},
]


@pytest.mark.parametrize("key", ["banner__title", "banner.title"])
def test_nested_paths(key):
    assert run({key: "y"}, NESTED) == [False, True, False]
    assert run({key: {"$exists": False}}, NESTED) == [False, False, True]
    node = parse_filter({key: "y"})
    assert node == Comparison(("banner", "title"), "$eq", "y")


def test_several_fields_are_anded():
    assert run({"title": "a", "banner__n": 1}, NESTED) == [True, False, False]
    assert run({"title": "a", "banner__n": 2}, NESTED) == [False, False, False]


def test_and_or_not_combinations():
    assert run({"$or": [{"title": "a"}, {"banner__n": 2}]}, NESTED) == [True, True, False]
    assert run({"$and": [{"title": {"$gte": "b"}}, {"banner__n": 2}]}, NESTED) == [
        False,
        True,
        False,
    ]
    assert run({"$not": {"title": "a"}}, NESTED) == [False, True, True]
    assert run({"$not": {"$or": [{"title": "a"}, {"title": "b"}]}}, NESTED) == [
        False,
        False,
        True,
    ]
    assert run(
        {
            "$or": [
                {"$and": [{"title": "a"}, {"banner__n": 1}]},
                {"$not": {"banner__n": {"$lt": 5}}},
            ]
        },
        NESTED,
    ) == [True, False, True]
    assert run(
        {"title": {"$in": ["a", "c"]}, "$or": [{"banner__n": 1}, {"banner": None}]}, NESTED
    ) == [
        True,
        False,
        True,
    ]


def test_empty_query_matches_everything():
    assert run({}, NESTED) == [True, True, True]
    assert parse_filter({}) == And(())
    assert run({"$and": [{}]}, NESTED) == [True, True, True]


def test_dict_value_shorthand_is_equality():
    recs = [{"meta": {"k": 1}}, {"meta": {"k": 2}}]
    node = parse_filter({"meta": {"k": 1}})
    assert node == Comparison(("meta",), "$eq", {"k": 1})
    assert run({"meta": {"k": 1}}, recs) == [True, False]


def test_tree_shapes():
    assert parse_filter({"a": 1}) == Comparison(("a",), "$eq", 1)
    assert parse_filter({"a": {"$gt": 1, "$lt": 3}}) == And(
        (Comparison(("a",), "$gt", 1), Comparison(("a",), "$lt", 3))
    )
    assert parse_filter({"$or": [{"a": 1}, {"b": 2}]}) == Or(
        (Comparison(("a",), "$eq", 1), Comparison(("b",), "$eq", 2))
    )
    assert parse_filter({"a": {"$not": {"$in": [1, 2]}}}) == Not(Comparison(("a",), "$in", (1, 2)))
    assert parse_filter({"a": {"$ne": 1}}) == Comparison(("a",), "$neq", 1)
    node = parse_filter({"a": {"$in": [1, 2]}, "b": {"$eq": [1, 2]}})
    hash(node)  # immutable operands: hashable tree
    with pytest.raises(AttributeError):
        node.children = ()


def test_field_paths():
    node = parse_filter(
        {"a": 1, "$or": [{"b__c": 2}, {"$not": {"d.e": {"$gt": 1}}}], "f": {"$not": {"$lt": 2}}}
    )
    assert field_paths(node) == {("a",), ("b", "c"), ("d", "e"), ("f",)}


def test_evaluate_accepts_a_dict_and_n_zero():
    assert evaluate({"a": 1}, lambda p: [1, 2], 2).tolist() == [True, False]
    assert evaluate({"a": 1}, lambda p: [], 0).tolist() == []


def test_direct_nodes_are_validated_and_normalised():
    assert Comparison("a__b", "$ne", [1]) == Comparison(("a", "b"), "$neq", (1,))
    with pytest.raises(FilterError, match=r"\$foo"):
        Comparison(("a",), "$foo", 1)
    with pytest.raises(FilterError, match=r"\$in for field 'a__b'"):
        Comparison(("a", "b"), "$in", 1)


# --------------------------------------------------------------------------------------------
# errors
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("price > 3", r"filter must be a dict .* got str"),
        ([{"a": 1}], r"filter must be a dict .* got list"),
        ({"price": {"$foo": 3}}, r"unknown operator '\$foo' for field 'price'.*valid operators"),
        ({"$foo": 3}, r"unknown operator '\$foo' at the query level"),
        ({"$gt": 3}, r"operator '\$gt' must be applied to a field"),
        ({"price": {"$and": [{"$gt": 1}]}}, r"unknown operator '\$and' for field 'price'"),
        ({"price": {"$in": 3}}, r"\$in for field 'price' expects a list of values, got int 3"),
        ({"price": {"$in": "abc"}}, r"\$in for field 'price' expects a list .* got str"),
        ({"price": {"$nin": 3}}, r"\$nin for field 'price' expects a list"),
        ({"price": {"$exists": 1}}, r"\$exists for field 'price' expects True or False"),
        ({"price": {"$exists": "yes"}}, r"\$exists for field 'price' expects True or False"),
        ({"t": {"$regex": "("}}, r"\$regex for field 't' is not a valid regular expression"),
        ({"t": {"$regex": 3}}, r"\$regex for field 't' expects a regular expression string"),
        ({"t": {"$size": "3"}}, r"\$size for field 't' expects a non-negative int"),
        ({"t": {"$size": 2.0}}, r"\$size for field 't' expects a non-negative int"),
        ({"t": {"$size": True}}, r"\$size for field 't' expects a non-negative int"),
        ({"t": {"$size": -1}}, r"\$size for field 't' expects a non-negative int, got -1"),
        ({"t": {"$gt": None}}, r"\$gt for field 't' expects a single orderable value"),
        ({"t": {"$lte": [1, 2]}}, r"\$lte for field 't' expects a single orderable value"),
        ({"$and": {}}, r"\$and expects a non-empty list of sub-queries, got dict"),
        ({"$and": []}, r"\$and expects a non-empty list .* empty list"),
        ({"$or": []}, r"\$or expects a non-empty list .* empty list"),
        ({"$or": "a"}, r"\$or expects a non-empty list of sub-queries, got str"),
        ({"$or": [{"a": 1}, 3]}, r"\$or\[1\] must be a dict"),
        ({"$not": [{"a": 1}]}, r"\$not expects a non-empty sub-query dict, got list"),
        ({"$not": {}}, r"\$not expects a non-empty sub-query dict"),
        ({"a": {"$not": 3}}, r"\$not for field 'a' expects a non-empty operator dict"),
        ({"a": {"$not": {"b": 1}}}, r"\$not for field 'a' expects an operator dict"),
        ({"a": {"$gt": 1, "b": 2}}, r"condition for field 'a' mixes operators and plain keys"),
        ({"a": {}}, r"field 'a' has an empty condition dict"),
        ({"a__": 1}, r"invalid field path 'a__'"),
        ({".a": 1}, r"invalid field path '.a'"),
        ({3: 1}, r"field names must be strings, got int 3"),
        ({"$and": [{"a": {"$in": 1}}]}, r"\$in for field 'a' expects a list"),
    ],
)
def test_bad_queries_raise_filter_error(query, message):
    with pytest.raises(FilterError, match=message) as info:
        parse_filter(query)
    assert isinstance(info.value, DocstackError)
    assert isinstance(info.value, ValueError)


def test_fields_validation():
    fields = {"title", "banner__title", "price"}
    assert parse_filter({"banner.title": "x"}, fields=fields) == Comparison(
        ("banner", "title"), "$eq", "x"
    )
    assert run({"banner__title": "y", "title": "b"}, NESTED, fields=fields) == [
        False,
        True,
        False,
    ]
    with pytest.raises(
        FilterError, match=r"unknown field 'banner__titel'.*did you mean 'banner__title'"
    ):
        parse_filter({"banner__titel": "x"}, fields=fields)
    with pytest.raises(FilterError, match=r"unknown field 'banner'.*Valid fields: banner__title"):
        parse_filter({"$or": [{"title": 1}, {"banner": 1}]}, fields=fields)
    with pytest.raises(FilterError, match=r"unknown field 'nope'"):
        parse_filter({"$not": {"nope": 1}}, fields=fields)
    assert parse_filter({"title": 1}, fields=["title"]) == Comparison(("title",), "$eq", 1)
    with pytest.raises(TypeError):
        parse_filter({"title": 1}, fields="title")


def test_parsing_happens_before_evaluation():
    calls = []

    def column(path):
        calls.append(path)
        return [1]

    with pytest.raises(FilterError):
        evaluate({"a": 1, "b": {"$in": 3}}, column, 1)
    assert calls == []


def test_dict_fields_open_every_path_below_them():
    fields = {"title", "meta", "banner__attrs"}
    dicts = {"meta", "banner.attrs"}
    node = parse_filter({"meta__lang": "en"}, fields=fields, dict_fields=dicts)
    assert node == Comparison(("meta", "lang"), "$eq", "en")
    node = parse_filter({"banner__attrs__a__b": {"$gt": 1}}, fields=fields, dict_fields=dicts)
    assert node == Comparison(("banner", "attrs", "a", "b"), "$gt", 1)
    assert parse_filter({"meta": {"k": 1}}, fields=fields, dict_fields=dicts) == Comparison(
        ("meta",), "$eq", {"k": 1}
    )
    for bad in ("title__x", "banner__x", "banner", "metadata__x"):
        with pytest.raises(FilterError, match=rf"unknown field '{bad}'") as info:
            parse_filter({bad: 1}, fields=fields, dict_fields=dicts)
        assert "banner__attrs__<key>" in str(info.value)
        assert "meta__<key>" in str(info.value)
    # without fields nothing is checked; a single string is refused as for fields
    assert parse_filter({"x__y": 1}, dict_fields={"meta"}) == Comparison(("x", "y"), "$eq", 1)
    with pytest.raises(TypeError):
        parse_filter({"meta__x": 1}, fields=fields, dict_fields="meta")


def test_paths_into_dict_values():
    recs = [
        {"meta": {"lang": "en", "n": 3}},
        {"meta": {"lang": "fr"}},
        {"meta": {}},
        {"meta": None},
        {},
    ]
    assert run({"meta__lang": "en"}, recs) == [True, False, False, False, False]
    assert run({"meta__lang": {"$exists": False}}, recs) == [False, False, True, True, True]
    assert run({"meta__n": {"$gte": 3}}, recs) == [True, False, False, False, False]
    assert run({"meta__n": {"$ne": 3}}, recs) == [False, True, True, True, True]


def test_numpy_scalar_operands_become_python_values():
    node = parse_filter({"a": {"$gt": np.float32(0.5), "$in": [np.int64(3), np.str_("x")]}})
    gt, isin = node.children
    assert type(gt.value) is float and gt.value == 0.5
    assert [type(v) for v in isin.value] == [int, str]
    assert type(Comparison(("a",), "$eq", np.bool_(True)).value) is bool
    assert parse_filter({"a": {"$exists": np.bool_(False)}}).value is False


_INT_DTYPES = [np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16, np.uint32, np.uint64]
_EDGE_FLOATS = [
    2.0**53,
    2.0**53 + 2,
    -(2.0**53),
    2.0**63,
    -(2.0**63),
    2.0**64,
    2.0**62 + 0.0,
    0.5,
    -0.5,
    -0.0,
    127.5,
    255.0,
    float("inf"),
    float("-inf"),
    float("nan"),
]
_EDGE_INTS = [2**53 + 1, 2**53 - 1, -(2**53) - 1, 2**63 - 1, 2**63, 2**64 - 1, 2**64, -(2**63) - 1]


@st.composite
def _numeric_columns(draw):
    dtype = np.dtype(draw(st.sampled_from([*_INT_DTYPES, np.bool_, np.float16, np.float32, float])))
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        edges = [v for v in [*_EDGE_INTS, 0, 1, -1] if info.min <= v <= info.max]
        element = st.integers(int(info.min), int(info.max)) | st.sampled_from(
            [int(info.min), int(info.max), *edges]
        )
    elif dtype.kind == "b":
        element = st.booleans()
    else:
        width = 8 * dtype.itemsize
        big = float(np.finfo(dtype).max)
        edges = [
            float(dtype.type(f)) for f in _EDGE_FLOATS if not math.isfinite(f) or abs(f) <= big
        ]
        element = st.floats(width=width) | st.sampled_from(edges)
    values = draw(st.lists(element, max_size=8))
    return np.array(values, dtype=dtype)


_numeric_operands = st.one_of(
    st.sampled_from(_EDGE_FLOATS),
    st.sampled_from(_EDGE_INTS),
    st.integers(-300, 300),
    st.floats(),
    st.integers(-(2**70), 2**70),
    st.booleans(),
    st.sampled_from(
        [np.float32(2**53), np.float16(0.5), np.int64(2**53 + 1), np.uint64(2**64 - 1)]
    ),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    column=_numeric_columns(),
    op=st.sampled_from(["$eq", "$neq", *_ORDER_OPS_NAMES]),
    operand=_numeric_operands,
    in_list=st.lists(_numeric_operands, max_size=3),
)
def test_numeric_columns_compare_exactly_by_value(column, op, operand, in_list):
    """Vectorised comparisons of numeric arrays agree with Python on the exact values."""
    values = column.tolist()  # Python ints and floats, exactly the array's values
    value = operand.item() if isinstance(operand, np.generic) else operand
    compare = {"$eq": operator.eq, "$neq": operator.ne, **_ORDER}[op]
    expected = [bool(compare(v, value)) for v in values]
    n = len(values)
    for col in (column, values):  # a numpy array, and the same values as a list
        assert evaluate({"x": {op: operand}}, lambda p, c=col: c, n).tolist() == expected
    wanted = [w.item() if isinstance(w, np.generic) else w for w in in_list]
    expected = [any(v == w for w in wanted) for v in values]
    assert evaluate({"x": {"$in": in_list}}, lambda p: column, n).tolist() == expected
    # as a tensor column: each row is one element
    tensor = column.reshape(n, 1)
    expected = [bool(compare(v, value)) for v in values]
    assert evaluate({"x": {op: operand}}, lambda p: tensor, n).tolist() == expected


def test_big_ints_against_floats_in_lists_and_tensors():
    big = 2**53 + 1
    assert run({"x": 2.0**53}, [{"x": big}, {"x": 0.5}]) == [False, False]  # mixed column
    assert run({"x": 2**53}, [{"x": big}, {"x": 0.5}]) == [False, False]
    assert run({"x": {"$gt": 2.0**53}}, [{"x": [big, 1]}, {"x": [2**53]}]) == [True, False]
    ints = np.array([[big, 1], [2**53, 1]])
    assert evaluate({"x": [2.0**53, 1.0]}, lambda p: ints, 2).tolist() == [False, True]
    assert evaluate({"x": [big, 1]}, lambda p: ints, 2).tolist() == [True, False]
    assert evaluate({"x": [0.5, 1.0]}, lambda p: ints, 2).tolist() == [False, False]
    assert evaluate({"x": [2.0**70, 1.0]}, lambda p: ints, 2).tolist() == [False, False]
    floats = np.array([[2.0**53, 1.0], [1.0, 1.0]])
    assert evaluate({"x": [big, 1]}, lambda p: floats, 2).tolist() == [False, False]
    assert evaluate({"x": [2**53, 1]}, lambda p: floats, 2).tolist() == [True, False]
    assert evaluate({"x": [1, 1]}, lambda p: floats, 2).tolist() == [False, True]
    small = np.array([np.inf, 65504, 2048], dtype=np.float16)  # compared in float64, not float16
    assert evaluate({"x": {"$gt": 2**64 + 1}}, lambda p: small, 3).tolist() == [True, False, False]
    assert evaluate({"x": {"$lte": 2**64 + 1}}, lambda p: small, 3).tolist() == [False, True, True]
    assert evaluate({"x": {"$gte": 2049}}, lambda p: small, 3).tolist() == [True, True, False]
    halves = np.array([[0.5], [0.25]], dtype=np.float32)
    assert evaluate({"x": [0.5]}, lambda p: halves, 2).tolist() == [True, False]


def test_whole_equality_of_string_tensors_with_nul():
    col = np.array([["a", "b"], ["a", "c"]])
    assert evaluate({"x": ["a", "b"]}, lambda p: col, 2).tolist() == [True, False]
    assert evaluate({"x": ["a\x00", "b"]}, lambda p: col, 2).tolist() == [False, False]


class _Seq(Sequence):
    def __init__(self, *items):
        self.items = items

    def __len__(self):
        return len(self.items)

    def __getitem__(self, i):
        return self.items[i]


def test_other_sequences_are_list_valued():
    recs = [{"s": _Seq("a", "b")}, {"s": _Seq()}, {"s": _Seq(1, 7)}, {"s": "ab"}]
    assert run({"s": {"$size": 2}}, recs) == [True, False, True, True]
    assert run({"s": "a"}, recs) == [True, False, False, False]
    assert run({"s": {"$gt": 5}}, recs) == [False, False, True, False]
    assert run({"s": ["a", "b"]}, recs) == [True, False, False, False]
    assert run({"s": []}, recs) == [False, True, False, False]
    assert run({"s": {"$regex": "b"}}, recs) == [True, False, False, True]


# --------------------------------------------------------------------------------------------
# property test against a per-record reference implementation
# --------------------------------------------------------------------------------------------


def _ref_equal(value, operand):
    if isinstance(value, (list, tuple)) and isinstance(operand, (list, tuple)):
        return list(value) == list(operand)
    if isinstance(value, (list, tuple)) or isinstance(operand, (list, tuple)):
        return False
    return value == operand


def _ref_cond(value, op, operand):
    """One condition on one record's value, per the documented semantics."""
    if op == "$exists":
        return (value is not None) == operand
    if op == "$neq":
        return not _ref_cond(value, "$eq", operand)
    if op == "$nin":
        return not _ref_cond(value, "$in", operand)
    if op == "$in":
        return any(_ref_cond(value, "$eq", o) for o in operand)
    if value is None:
        return op == "$eq" and operand is None
    is_list = isinstance(value, list)
    items = value if is_list else [value]
    if op == "$eq":
        return _ref_equal(value, operand) or (
            is_list and any(_ref_equal(e, operand) for e in items)
        )
    if op == "$size":
        return isinstance(value, (list, str)) and len(value) == operand
    if op == "$regex":
        return any(isinstance(e, str) and re.search(operand, e) is not None for e in items)
    hits = []
    for e in items:
        try:
            hits.append(bool(_ORDER[op](e, operand)))
        except TypeError:
            hits.append(False)
    return any(hits)


def _ref_eval(query, record):
    for key, cond in query.items():
        if key == "$and":
            ok = all(_ref_eval(q, record) for q in cond)
        elif key == "$or":
            ok = any(_ref_eval(q, record) for q in cond)
        elif key == "$not":
            ok = not _ref_eval(cond, record)
        else:
            value = record.get(key)
            ok = _ref_field(value, cond)
        if not ok:
            return False
    return True


def _ref_field(value, cond):
    if not (isinstance(cond, dict) and cond):
        return _ref_cond(value, "$eq", cond)
    for op, operand in cond.items():
        if op == "$not":
            ok = not _ref_field(value, operand)
        else:
            ok = _ref_cond(value, {"$ne": "$neq"}.get(op, op), operand)
        if not ok:
            return False
    return True


# ints and floats around 2**53, 2**63 and 2**64, where float64 rounding would show
_ints = st.one_of(
    st.integers(min_value=-(2**53), max_value=2**53),
    st.sampled_from(_EDGE_INTS),
    st.integers(min_value=-(2**65), max_value=2**65),
)
_small_ints = st.integers(min_value=-3, max_value=3)
_floats = st.one_of(
    st.floats(allow_nan=False, min_value=-4, max_value=4),
    st.floats(allow_nan=False),
    st.sampled_from([f for f in _EDGE_FLOATS if not math.isnan(f)]),
)
_strs = st.text(alphabet="abAB\x00é", max_size=3)
_scalars = st.one_of(_small_ints, _ints, _floats, _strs, st.booleans())
_values = st.one_of(st.none(), _scalars)
_list_values = st.one_of(st.none(), st.lists(st.one_of(_small_ints, _strs), max_size=3))
_regexes = st.sampled_from(["a", "^A", "b$", "[aé]", "^$", "(?i)ab", "\x00"])

FIELDS = ("a", "b", "c")


@st.composite
def _record_sets(draw):
    n = draw(st.integers(min_value=0, max_value=12))
    # per field, the kind of column: mixed scalars, pure ints, pure floats, pure strs, lists
    kinds = {f: draw(st.sampled_from(["mixed", "int", "float", "str", "list"])) for f in FIELDS}
    element = {
        "mixed": _values,
        "int": st.one_of(st.none(), _small_ints, _ints),
        "float": st.one_of(st.none(), _floats),
        "str": st.one_of(st.none(), _strs),
        "list": _list_values,
    }
    records = []
    for _ in range(n):
        rec = {}
        for f in FIELDS:
            if draw(st.integers(0, 9)) == 0:
                continue  # field absent from this record
            rec[f] = draw(element[kinds[f]])
        records.append(rec)
    return records


def _conditions():
    operand = st.one_of(_scalars, st.none())
    ops = st.one_of(
        st.tuples(st.sampled_from(["$eq", "$neq", "$ne"]), operand),
        st.tuples(
            st.sampled_from(["$eq", "$neq"]), st.lists(st.one_of(_small_ints, _strs), max_size=2)
        ),
        st.tuples(st.sampled_from(list(_ORDER)), _scalars),
        st.tuples(
            st.sampled_from(["$in", "$nin"]),
            st.lists(st.one_of(_scalars, st.none(), st.lists(_small_ints, max_size=2)), max_size=4),
        ),
        st.tuples(st.just("$exists"), st.booleans()),
        st.tuples(st.just("$regex"), _regexes),
        st.tuples(st.just("$size"), st.integers(0, 3)),
    )
    condition = st.one_of(
        _scalars,  # shorthand for $eq
        st.lists(st.one_of(_small_ints, _strs), max_size=3),  # whole-list equality
        ops.map(lambda t: {t[0]: t[1]}),
        ops.map(lambda t: {"$not": {t[0]: t[1]}}),
        st.lists(ops, min_size=2, max_size=3).map(dict),
    )
    single = st.dictionaries(st.sampled_from(FIELDS), condition, min_size=1, max_size=2)
    return st.recursive(
        single,
        lambda children: st.one_of(
            st.lists(children, min_size=1, max_size=3).map(lambda qs: {"$and": qs}),
            st.lists(children, min_size=1, max_size=3).map(lambda qs: {"$or": qs}),
            children.map(lambda q: {"$not": q}),
            st.tuples(single, children).map(lambda t: {**t[0], "$or": [t[1]]}),
        ),
        max_leaves=6,
    )


def _column_for(records, as_array):
    def column(path):
        (name,) = path
        values = [r.get(name) for r in records]
        if as_array and values and None not in values:
            try:
                arr = np.asarray(values) if all(type(v) in (int, float) for v in values) else None
            except OverflowError:
                arr = None
            # only an array that holds exactly the values (no int rounded to a float)
            if arr is not None and arr.dtype.kind in "iuf" and arr.tolist() == values:
                return arr
        return values

    return column


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(records=_record_sets(), query=_conditions(), as_array=st.booleans())
def test_evaluate_matches_reference(records, query, as_array):
    expected = [_ref_eval(query, r) for r in records]
    node = parse_filter(query)
    got = evaluate(node, _column_for(records, as_array), len(records)).tolist()
    assert got == expected, (query, records)

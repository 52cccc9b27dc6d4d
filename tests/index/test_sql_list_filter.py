"""Tests of filters on list fields compiled to SQLite (docstack.index._sql_list_filter).

Lists are stored as the index stores them (the JSON pydantic makes, in a BLOB column), every
query runs in a real SQLite database, and the rows must be those
:func:`docstack._internal.query_eval.evaluate` accepts for the decoded lists.
"""

from __future__ import annotations

import sqlite3
from typing import Any

import numpy as np
import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import TypeAdapter

from docstack._internal.query import Comparison, FilterError, parse_filter
from docstack._internal.query_eval import evaluate
from docstack.index._sql_filter import SqlColumn, compile_filter, register_functions

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1

# path -> (column, the element type); "type" and "value" are also json_each's own column names
COLUMNS: dict[tuple[str, ...], tuple[SqlColumn, type]] = {
    ("tags",): (SqlColumn("tags", "json", "str"), str),
    ("nums",): (SqlColumn("nums", "json", "int"), int),
    ("scores",): (SqlColumn("scores", "json", "float"), float),
    ("bools",): (SqlColumn("bools", "json", "bool"), bool),
    ("type",): (SqlColumn("type", "json", "str"), str),
    ("value",): (SqlColumn("value", "json", "int"), int),
}
SQL_COLUMNS = {path: col for path, (col, _) in COLUMNS.items()}

HOSTILE = [
    "",
    "a",
    "b",
    "it's",
    'say "hi"',
    "back\\slash",
    "\\u0000",
    "a' or 1==1 --",
    '{"$gt": ""}',
    '["a"]',
    "ünï ✓ 漢字",
    "😀",
    "a\x00b",
    "\x00",
    "a\x00",
]
INTS = [0, 1, -1, 2, 7, 2**53 + 1, INT64_MAX, INT64_MIN]
FLOATS = [0.0, -0.0, 0.5, 1.0, 2.5, -1.5, 1e300, 2.0**53]


def make_db(rows: list[dict], as_text: bool = False) -> sqlite3.Connection:
    """One row per dict: path -> a list (or None), stored as the schema stores it."""
    conn = sqlite3.connect(":memory:")
    register_functions(conn)
    kind = "TEXT" if as_text else "BLOB"
    conn.execute(
        f"CREATE TABLE t ({', '.join(f'{c.quoted} {kind}' for c in SQL_COLUMNS.values())})"
    )
    dumps = {p: TypeAdapter(list[t]).dump_json for p, (_, t) in COLUMNS.items()}
    values = []
    for i, row in enumerate(rows):
        stored = []
        for path in COLUMNS:
            v = row.get(path)
            data = None if v is None else dumps[path](v)
            stored.append(data.decode() if as_text and data is not None else data)
        values.append((i, *stored))
    names = ", ".join(c.quoted for c in SQL_COLUMNS.values())
    marks = ", ".join("?" * len(COLUMNS))
    conn.executemany(f"INSERT INTO t (rowid, {names}) VALUES (?, {marks})", values)
    return conn


def sql_rows(conn: sqlite3.Connection, node: Any, n: int) -> list[int]:
    sql, params = compile_filter(node, SQL_COLUMNS)
    assert sql.count("?") == len(params), (sql, params)
    got = [r for (r,) in conn.execute(f"SELECT rowid FROM t WHERE {sql} ORDER BY rowid", params)]
    neg = [r for (r,) in conn.execute(f"SELECT rowid FROM t WHERE NOT ({sql})", params)]
    assert sorted(got + neg) == list(range(n)), ("not two-valued", sql, params)
    return got


def reference_rows(rows: list[dict], node: Any) -> list[int]:
    """evaluate() over the lists as they come back from JSON (what the in-memory index does)."""
    columns = {p: [r.get(p) for r in rows] for p in COLUMNS}
    for path, (_, t) in COLUMNS.items():
        adapter = TypeAdapter(list[t])
        columns[path] = [
            None if v is None else orjson.loads(adapter.dump_json(v)) for v in columns[path]
        ]
    return np.flatnonzero(evaluate(node, lambda p: columns[p], len(rows))).tolist()


def check(rows: list[dict], query: Any) -> list[int]:
    node = parse_filter(query) if isinstance(query, dict) else query
    want = reference_rows(rows, node)
    for as_text in (False, True):
        got = sql_rows(make_db(rows, as_text), node, len(rows))
        assert got == want, (query, rows, as_text)
    return want


def lists(path: str, values: list) -> list[dict]:
    return [{(path,): v} for v in values]


# --------------------------------------------------------------------------------------------
# the semantics, one operator at a time
# --------------------------------------------------------------------------------------------

TAGS = lists("tags", [["a", "b"], [], None, ["b"], ["a", "a"]])


@pytest.mark.parametrize(
    ("query", "want"),
    [
        ({"tags": "a"}, [0, 4]),
        ({"tags": {"$neq": "a"}}, [1, 2, 3]),
        ({"tags": {"$in": ["b", "zz"]}}, [0, 3]),
        ({"tags": {"$nin": ["b", "zz"]}}, [1, 2, 4]),
        ({"tags": {"$in": ["b", None]}}, [0, 2, 3]),
        ({"tags": None}, [2]),
        ({"tags": {"$exists": True}}, [0, 1, 3, 4]),
        ({"tags": {"$exists": False}}, [2]),
        ({"tags": {"$size": 0}}, [1]),
        ({"tags": {"$size": 2}}, [0, 4]),
        ({"tags": {"$gt": "a"}}, [0, 3]),
        ({"tags": {"$lte": "a"}}, [0, 4]),
        ({"tags": {"$regex": "^b$"}}, [0, 3]),
        ({"tags": ["a", "b"]}, [0]),
        ({"tags": []}, [1]),
        ({"tags": {"$ne": ["a", "b"]}}, [1, 2, 3, 4]),
        ({"tags": {"$in": [["b"], "a"]}}, [0, 3, 4]),
        ({"tags": {"$not": {"$size": 0}}}, [0, 2, 3, 4]),
        ({"tags": 1}, []),
        ({"tags": {"$gt": 0}}, []),
    ],
)
def test_list_semantics(query, want):
    assert check(TAGS, query) == want


def test_numbers_compare_across_int_float_and_bool_elements():
    rows = [
        {("nums",): [1, 5], ("scores",): [1.0], ("bools",): [True]},
        {("nums",): [2**53 + 1], ("scores",): [2.0**53], ("bools",): [False]},
        {("nums",): [], ("scores",): [-0.0], ("bools",): []},
    ]
    assert check(rows, {"nums": 1.0}) == [0]
    assert check(rows, {"nums": True}) == [0]
    assert check(rows, {"scores": 1}) == [0]
    assert check(rows, {"bools": 1}) == [0]
    assert check(rows, {"bools": 0.0}) == [1]
    assert check(rows, {"scores": 0}) == [2]  # -0.0 == 0
    assert check(rows, {"nums": float(2**53)}) == []  # 2**53 + 1 is not the float 2**53
    assert check(rows, {"scores": 2**53 + 1}) == []
    assert check(rows, {"nums": {"$gt": 2.5}}) == [0, 1]
    assert check(rows, {"nums": {"$gt": 4, "$lt": 2}}) == [0]  # two elements, two conditions
    assert check(rows, {"nums": {"$gte": float("-inf")}}) == [0, 1]  # any element at all
    assert check(rows, {"bools": {"$gte": 0}}) == [0, 1]
    assert check(rows, {"bools": {"$lt": 0.5}}) == [1]
    assert check(rows, {"nums": {"$in": [2**53 + 1, "5", 5.5]}}) == [1]
    assert check(rows, {"nums": [1.0, 5]}) == [0]
    assert check(rows, {"nums": [1, "5"]}) == []
    assert check(rows, {"scores": float("nan")}) == []


def test_strings_holding_nul_are_compared_whole():
    # json_each cuts "a\u0000b" to "a": these rows are decided in Python
    rows = lists("tags", [["a\x00b"], ["a"], ["\x00"], ["a\x00", "zz"], ["\\u0000"], None])
    assert check(rows, {"tags": "a"}) == [1]
    assert check(rows, {"tags": "a\x00b"}) == [0]
    assert check(rows, {"tags": {"$in": ["a\x00", "\x00"]}}) == [2, 3]
    assert check(rows, {"tags": {"$gt": "a"}}) == [0, 3]
    assert check(rows, {"tags": {"$lt": "a"}}) == [2, 4]
    assert check(rows, {"tags": {"$regex": "\x00$"}}) == [2, 3]
    assert check(rows, {"tags": ["a\x00b"]}) == [0]
    assert check(rows, {"tags": ["a\x00", "zz"]}) == [3]
    assert check(rows, {"tags": {"$size": 1}}) == [0, 1, 2, 4]
    assert check(rows, {"tags": "\\u0000"}) == [4]


def test_column_names_that_json_each_uses_itself():
    rows = [
        {("type",): ["x", "y"], ("value",): [3]},
        {("type",): [], ("value",): None},
        {("type",): ["y"], ("value",): [4, 3]},
    ]
    assert check(rows, {"type": "y"}) == [0, 2]
    assert check(rows, {"value": 3}) == [0, 2]
    assert check(rows, {"value": {"$gt": 3}}) == [2]
    assert check(rows, {"type": ["y"], "value": [4, 3]}) == [2]


def test_values_are_bound_never_interpolated():
    evil = "x'); DROP TABLE t; --"
    sql, params = compile_filter(parse_filter({"tags": evil}), SQL_COLUMNS)
    assert evil not in sql and "DROP" not in sql
    assert evil in params
    rows = lists("tags", [[evil], ["x"]])
    assert check(rows, {"tags": evil}) == [0]
    assert check(rows, {"tags": {"$in": [evil, "' or 1==1"]}}) == [0]


def test_long_in_lists_and_surrogates():
    rows = lists("tags", [[f"t{i}"] for i in range(5)] + [["😀"]])
    wanted = [f"t{i}" for i in range(1, 400, 2)] + ["\ud800"]
    assert check(rows, {"tags": {"$in": wanted}}) == [1, 3]
    assert check(rows, {"tags": {"$gt": "t3\ud800"}}) == [4, 5]
    assert check(rows, {"tags": "\ud83d"}) == []
    rows = lists("nums", [[i] for i in range(5)])
    assert check(rows, {"nums": {"$in": list(range(1, 300, 2))}}) == [1, 3]


def test_a_list_column_needs_json_functions_and_names_the_field(monkeypatch):
    import docstack.index._sql_list_filter as lists_module

    monkeypatch.setattr(lists_module, "_json_functions", lambda: False)
    with pytest.raises(FilterError, match="'tags'.*JSON functions"):
        compile_filter(parse_filter({"tags": "a"}), SQL_COLUMNS)


# --------------------------------------------------------------------------------------------
# random tables and filters
# --------------------------------------------------------------------------------------------

_ELEMENTS = {
    "tags": st.sampled_from(HOSTILE),
    "nums": st.sampled_from(INTS),
    "scores": st.sampled_from(FLOATS),
    "bools": st.booleans(),
    "type": st.sampled_from(HOSTILE[:6]),
    "value": st.sampled_from(INTS[:5]),
}
_OPERANDS = st.one_of(
    st.sampled_from(HOSTILE),
    st.sampled_from(INTS + FLOATS),
    st.sampled_from([True, False, None, 2.5, -0.5, 2**64, float("inf"), float("nan")]),
)


@st.composite
def _row(draw):
    return {
        (name,): draw(st.none() | st.lists(element, max_size=3))
        for name, element in _ELEMENTS.items()
    }


@st.composite
def _comparison(draw):
    name = draw(st.sampled_from(list(_ELEMENTS)))
    op = draw(
        st.sampled_from(
            ["$eq", "$neq", "$in", "$nin", "$gt", "$gte", "$lt", "$lte", "$exists", "$regex"]
            + ["$size"]
        )
    )
    if op == "$exists":
        value: Any = draw(st.booleans())
    elif op == "$size":
        value = draw(st.integers(0, 3))
    elif op == "$regex":
        value = draw(st.sampled_from(["^a", "\x00", "b$", ".", "^$", "'", "\\\\"]))
    elif op in ("$in", "$nin"):
        value = draw(st.lists(_OPERANDS | st.lists(_ELEMENTS[name], max_size=2), max_size=4))
    elif op in ("$eq", "$neq"):
        value = draw(_OPERANDS | st.lists(_ELEMENTS[name], max_size=3))
    else:
        value = draw(_OPERANDS.filter(lambda v: v is not None))
    return Comparison((name,), op, value)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=st.lists(_row(), min_size=1, max_size=8), node=_comparison())
def test_sql_agrees_with_evaluate_on_random_lists(rows, node):
    want = reference_rows(rows, node)
    assert sql_rows(make_db(rows), node, len(rows)) == want, node

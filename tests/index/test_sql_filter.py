"""Tests of the SQL compilation of filters (docstack.index._sql_filter).

The reference is :func:`docstack._internal.query_eval.evaluate`: every query runs both in a real
SQLite database and through ``evaluate`` over the same values, and the rows must agree.
"""

from __future__ import annotations

import math
import sqlite3
from decimal import Decimal
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from docstack._internal.query import And, Comparison, FilterError, Not, Or, parse_filter
from docstack._internal.query_eval import evaluate
from docstack.index._sql_filter import (
    SQL_TYPES,
    SqlColumn,
    compile_filter,
    quote_identifier,
    register_functions,
)

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1

# path -> column; one column name needs quoting
COLUMNS = {
    ("s",): SqlColumn("s", "str"),
    ("i",): SqlColumn("i", "int"),
    ("f",): SqlColumn("f", "float"),
    ("b",): SqlColumn("b", "bool"),
    ("meta", "t"): SqlColumn('meta "t"', "str"),
}
PATHS = list(COLUMNS)


class _Sentinel:
    """A value of no known type: forces evaluate() onto its per-value Python path."""

    def __repr__(self) -> str:
        return "<sentinel>"


def make_db(rows: list[dict]) -> sqlite3.Connection:
    conn = sqlite3.connect(":memory:")
    register_functions(conn)
    defs = ", ".join(f"{c.quoted} {c.sql_type}" for c in COLUMNS.values())
    conn.execute(f"CREATE TABLE t ({defs})")
    names = ", ".join(c.quoted for c in COLUMNS.values())
    marks = ", ".join("?" * len(COLUMNS))
    values = []
    for idx, row in enumerate(rows):
        vals = []
        for path, col in COLUMNS.items():
            v = row.get(path)
            if col.kind == "bool" and v is not None:
                v = int(v)
            vals.append(v)
        values.append((idx, *vals))
    conn.executemany(f"INSERT INTO t (rowid, {names}) VALUES (?, {marks})", values)
    return conn


def sql_mask(conn: sqlite3.Connection, node, n: int) -> np.ndarray:
    sql, params = compile_filter(node, COLUMNS)
    assert sql.count("?") == len(params)
    got = [r[0] for r in conn.execute(f"SELECT rowid FROM t WHERE {sql}", params)]
    mask = np.zeros(n, bool)
    mask[got] = True
    # two-valued: NOT of the expression selects exactly the other rows
    neg = [r[0] for r in conn.execute(f"SELECT rowid FROM t WHERE NOT ({sql})", params)]
    assert sorted(got + neg) == list(range(n)), (sql, params)
    return mask


def reference_masks(rows: list[dict], node) -> tuple[np.ndarray, np.ndarray]:
    """evaluate()'s answer: vectorised (natural columns) and per-value (object columns)."""
    n = len(rows)
    columns = {p: [r.get(p) for r in rows] for p in PATHS}
    fast = evaluate(node, lambda p: columns[p], n)
    objects = {p: [*v, _Sentinel()] for p, v in columns.items()}
    exact = evaluate(node, lambda p: objects[p], n + 1)[:n]
    return fast, exact


def check(rows: list[dict], query) -> np.ndarray:
    node = parse_filter(query) if isinstance(query, dict) else query
    conn = make_db(rows)
    got = sql_mask(conn, node, len(rows))
    fast, exact = reference_masks(rows, node)
    assert got.tolist() == exact.tolist(), (query, rows)
    assert got.tolist() == fast.tolist(), (query, rows)
    return got


def rows_of(path: str, values: list) -> list[dict]:
    key = tuple(path.split("__"))
    return [{key: v} for v in values]


def matches(path: str, values: list, query_op) -> list:
    """The values whose rows match ``{path: query_op}`` (checked against evaluate)."""
    rows = rows_of(path, values)
    mask = check(rows, {path: query_op})
    return [v for v, m in zip(values, mask) if m]


# --------------------------------------------------------------------------------------------
# columns, errors, plumbing
# --------------------------------------------------------------------------------------------


def test_sql_column_validates_and_quotes():
    assert SqlColumn("a", "int").quoted == '"a"'
    assert SqlColumn('we"ird', "str").quoted == '"we""ird"'
    assert SqlColumn("x", "bool").sql_type == "INTEGER"
    assert SQL_TYPES == {
        "str": "TEXT",
        "int": "INTEGER",
        "float": "REAL",
        "bool": "INTEGER",
        "json": "BLOB",
    }
    assert SqlColumn("tags", "json", "str").sql_type == "BLOB"
    with pytest.raises(ValueError, match="kind"):
        SqlColumn("a", "list")
    with pytest.raises(ValueError, match="element"):
        SqlColumn("a", "json")  # a list column names its element kind
    with pytest.raises(ValueError, match="element"):
        SqlColumn("a", "int", "int")
    with pytest.raises(ValueError):
        quote_identifier("")
    with pytest.raises(ValueError):
        quote_identifier("a\x00b")


def test_unknown_field_names_it_and_lists_filterable_fields():
    with pytest.raises(FilterError) as info:
        compile_filter(parse_filter({"banner__nope": 1}), COLUMNS)
    message = str(info.value)
    assert "'banner__nope'" in message
    for label in ("s", "i", "f", "b", "meta__t"):
        assert label in message


def test_unknown_field_inside_not_and_or_raises():
    with pytest.raises(FilterError, match="zzz"):
        compile_filter(parse_filter({"$or": [{"s": "a"}, {"$not": {"zzz": 1}}]}), COLUMNS)


def test_values_are_bound_never_interpolated():
    evil = "x'); DROP TABLE t; --"
    sql, params = compile_filter(parse_filter({"s": evil, "i": {"$in": [1, 2]}}), COLUMNS)
    assert evil not in sql and "DROP" not in sql
    assert params == [evil, 1, 2]
    conn = make_db(rows_of("s", [evil, "y"]))
    assert conn.execute(f"SELECT rowid FROM t WHERE {sql}", params).fetchall() == []
    sql, params = compile_filter(parse_filter({"s": evil}), COLUMNS)
    assert conn.execute(f"SELECT rowid FROM t WHERE {sql}", params).fetchall() == [(0,)]


def test_empty_and_or_and_constant_folding():
    assert compile_filter(And(()), COLUMNS) == ("1", [])
    assert compile_filter(Or(()), COLUMNS) == ("0", [])
    assert compile_filter(Not(And(())), COLUMNS) == ("0", [])
    assert compile_filter(Not(Or(())), COLUMNS) == ("1", [])
    # a type mismatch is a constant; constants fold away
    assert compile_filter(parse_filter({"s": 5}), COLUMNS) == ("0", [])
    assert compile_filter(parse_filter({"s": {"$ne": 5}}), COLUMNS) == ("1", [])
    sql, params = compile_filter(parse_filter({"$or": [{"s": 5}, {"i": 3}]}), COLUMNS)
    assert (sql, params) == ('"i" IS ?', [3])
    assert compile_filter(parse_filter({"$and": [{"s": 5}, {"i": 3}]}), COLUMNS) == ("0", [])
    rows = rows_of("i", [3, None, 4])
    check(rows, And(()))
    check(rows, Or(()))
    check(rows, Not(Or(())))


def test_unsupported_operand_type_raises():
    with pytest.raises(FilterError, match="_Sentinel"):
        compile_filter(Comparison(("i",), "$eq", _Sentinel()), COLUMNS)


def test_register_functions_regexp_is_search_and_deterministic():
    conn = sqlite3.connect(":memory:")
    register_functions(conn)
    assert conn.execute("SELECT 'xabc' REGEXP 'ab', 'xabc' REGEXP '^ab'").fetchone() == (1, 0)
    assert conn.execute("SELECT NULL REGEXP 'a', 5 REGEXP '5'").fetchone() == (0, 0)
    # deterministic functions may be used in an index expression
    conn.execute("CREATE TABLE u (s TEXT)")
    conn.execute("CREATE INDEX u_re ON u (s REGEXP 'a')")


# --------------------------------------------------------------------------------------------
# operators, one by one
# --------------------------------------------------------------------------------------------

STRS = ["", "a", "A", "ab", "b", "é", "e\u0301", "\x00", "a\x00", "a\x00b", "5", "\U0001f600"]


def test_eq_and_neq_with_none_and_missing():
    vals = [1, None, 2]
    assert matches("i", vals, {"$eq": None}) == [None]
    assert matches("i", vals, {"$neq": None}) == [1, 2]
    assert matches("i", vals, {"$eq": 1}) == [1]
    assert matches("i", vals, {"$neq": 1}) == [None, 2]
    assert matches("s", ["a", None], {"$ne": "a"}) == [None]


def test_type_mismatch_never_coerces():
    # SQLite's TEXT affinity would make '5' = 5 true
    assert matches("s", ["5", "05", None], {"$eq": 5}) == []
    assert matches("s", ["5", None], {"$gt": 1}) == []
    assert matches("s", ["5", None], {"$neq": 5}) == ["5", None]
    assert matches("s", ["5", "6"], {"$in": [5, 6.0, True]}) == []
    assert matches("i", [5, None], {"$eq": "5"}) == []
    assert matches("i", [5, None], {"$lt": "9"}) == []
    assert matches("f", [5.0, None], {"$in": ["5"]}) == []
    assert matches("b", [True, False], {"$eq": "1"}) == []
    assert matches("b", [True, None], {"$nin": ["1"]}) == [True, None]


def test_bool_is_a_number():
    assert matches("i", [1, 0, 2, None], {"$eq": True}) == [1]
    assert matches("i", [1, 0, 2, None], {"$lt": True}) == [0]
    assert matches("f", [1.0, 0.0, 0.5], {"$eq": True}) == [1.0]
    assert matches("f", [1.0, 0.0, 0.5], {"$gt": False}) == [1.0, 0.5]
    assert matches("b", [True, False, None], {"$eq": 1}) == [True]
    assert matches("b", [True, False, None], {"$eq": 1.0}) == [True]
    assert matches("b", [True, False, None], {"$gt": 0.5}) == [True]
    assert matches("b", [True, False, None], {"$lte": 0}) == [False]
    assert matches("b", [True, False, None], {"$in": [0, "x"]}) == [False]
    assert matches("b", [True, False, None], {"$eq": 2}) == []


def test_order_operators_on_each_kind():
    ints = [-3, 0, 2, 7, None]
    assert matches("i", ints, {"$gt": 2}) == [7]
    assert matches("i", ints, {"$gte": 2}) == [2, 7]
    assert matches("i", ints, {"$lt": 0}) == [-3]
    assert matches("i", ints, {"$lte": 0}) == [-3, 0]
    assert matches("i", ints, {"$gt": 1.5}) == [2, 7]
    assert matches("i", ints, {"$gte": 1.5}) == [2, 7]
    assert matches("i", ints, {"$lt": -2.5}) == [-3]
    assert matches("i", ints, {"$lte": -2.5}) == [-3]
    assert matches("i", ints, {"$eq": 2.0}) == [2]
    assert matches("i", ints, {"$eq": 2.5}) == []
    floats = [-1.5, 0.0, 2.25, math.inf, -math.inf, None]
    assert matches("f", floats, {"$gt": 0}) == [2.25, math.inf]
    assert matches("f", floats, {"$lte": -1.5}) == [-1.5, -math.inf]
    assert matches("f", floats, {"$eq": math.inf}) == [math.inf]
    assert matches("f", floats, {"$eq": -0.0}) == [0.0]
    assert matches("s", ["a", "B", "b", "ab", "", None], {"$gt": "a"}) == ["b", "ab"]
    assert matches("s", ["a", "B", "", None], {"$lte": "B"}) == ["B", ""]


def test_strings_compare_by_code_point():
    vals = ["z", "é", "\uffff", "\U0001f600", "\ue000", "Z", "a\x00", "a"]
    assert matches("s", vals, {"$gt": "z"}) == ["é", "\uffff", "\U0001f600", "\ue000"]
    assert matches("s", vals, {"$gt": "\uffff"}) == ["\U0001f600"]
    assert matches("s", vals, {"$lt": "a\x00"}) == ["Z", "a"]
    assert matches("s", vals, {"$eq": "a\x00"}) == ["a\x00"]


def test_operands_with_lone_surrogates():
    vals = ["a", "a\ud7ff", "a\ue000", "a\ue000x", "b", None]
    assert matches("s", vals, {"$gt": "a\ud800"}) == ["a\ue000", "a\ue000x", "b"]
    assert matches("s", vals, {"$gte": "a\udfffzz"}) == ["a\ue000", "a\ue000x", "b"]
    assert matches("s", vals, {"$lt": "a\ud800"}) == ["a", "a\ud7ff"]
    assert matches("s", vals, {"$lte": "a\ud800"}) == ["a", "a\ud7ff"]
    assert matches("s", vals, {"$eq": "a\ud800"}) == []
    assert matches("s", vals, {"$in": ["a\ud800", "b"]}) == ["b"]
    assert matches("s", vals, {"$regex": "\ud800|^b"}) == ["b"]


def test_ints_beyond_64_bits_and_int_float_exactness():
    big = [INT64_MAX, INT64_MIN, 2**53 + 1, 2**53, -(2**53) - 1, 0, None]
    assert matches("i", big, {"$gt": 2**64}) == []
    assert matches("i", big, {"$lt": 2**64}) == big[:-1]
    assert matches("i", big, {"$gte": -(2**70)}) == big[:-1]
    assert matches("i", big, {"$lte": -(2**70)}) == []
    assert matches("i", big, {"$eq": 2**64}) == []
    assert matches("i", big, {"$gt": INT64_MAX}) == []
    assert matches("i", big, {"$gte": INT64_MAX}) == [INT64_MAX]
    assert matches("i", big, {"$lt": INT64_MIN}) == []
    assert matches("i", big, {"$lte": INT64_MIN}) == [INT64_MIN]
    assert matches("i", big, {"$gt": 2.0**63}) == []
    assert matches("i", big, {"$lt": -(2.0**63)}) == []
    assert matches("i", big, {"$lte": -(2.0**63)}) == [INT64_MIN]
    assert matches("i", big, {"$gt": math.inf}) == []
    assert matches("i", big, {"$lt": math.inf}) == big[:-1]
    assert matches("i", big, {"$gt": -math.inf}) == big[:-1]
    assert matches("i", big, {"$eq": math.inf}) == []


def test_ints_above_2_53_against_floats_are_exact():
    conn = make_db(rows_of("i", [2**53 + 1, 2**53, INT64_MAX]))
    cases = {
        ("$eq", float(2**53)): [1],
        ("$gt", float(2**53)): [0, 2],
        ("$lt", float(2**53 + 2)): [0, 1],
        ("$lte", 2.0**63): [0, 1, 2],
        ("$in", (float(2**53), 0.5)): [1],
        ("$in", (2**63, float(2**63))): [],
    }
    for (op, value), want in cases.items():
        node = Comparison(("i",), op, value)
        got = sql_mask(conn, node, 3)
        assert np.flatnonzero(got).tolist() == want, (op, value)
        fast, exact = reference_masks(rows_of("i", [2**53 + 1, 2**53, INT64_MAX]), node)
        assert got.tolist() == exact.tolist() == fast.tolist()
    conn = make_db(rows_of("f", [2.0**53, 2.0**53 + 2, 1e308, math.inf]))
    cases = {
        ("$eq", 2**53 + 1): [],
        ("$gt", 2**53 + 1): [1, 2, 3],
        ("$gte", 2**53 + 1): [1, 2, 3],
        ("$lt", 2**53 + 1): [0],
        ("$lte", 2**53 + 1): [0],
        ("$gt", 10**400): [3],
        ("$lt", 10**400): [0, 1, 2],
        ("$gte", Fraction(2**54 + 3, 2)): [1, 2, 3],
        ("$in", (2**53 + 1, 2**53)): [0],
    }
    for (op, value), want in cases.items():
        node = Comparison(("f",), op, value)
        got = sql_mask(conn, node, 4)
        assert np.flatnonzero(got).tolist() == want, (op, value)
        fast, exact = reference_masks(rows_of("f", [2.0**53, 2.0**53 + 2, 1e308, math.inf]), node)
        assert got.tolist() == exact.tolist() == fast.tolist()


def test_nan_operand_equals_nothing():
    vals = [1.0, 0.0, None]
    assert matches("f", vals, {"$eq": math.nan}) == []
    assert matches("f", vals, {"$neq": math.nan}) == vals
    assert matches("f", vals, {"$gt": math.nan}) == []
    assert matches("f", vals, {"$lte": math.nan}) == []
    assert matches("i", [1, None], {"$in": [math.nan]}) == []
    assert matches("i", [1, None], {"$nin": [math.nan]}) == [1, None]


def test_other_numeric_operand_types():
    assert matches("i", [1, 2, 3], {"$eq": np.int64(2)}) == [2]
    assert matches("i", [1, 2, 3], {"$gt": Fraction(5, 2)}) == [3]
    assert matches("f", [0.5, 2.5], {"$eq": Decimal("2.5")}) == [2.5]
    assert matches("f", [0.1, 2.5], {"$eq": Decimal("0.1")}) == []  # 0.1 is not a double
    assert matches("i", [1, 2], {"$eq": complex(2, 0)}) == [2]
    assert matches("i", [1, 2], {"$gt": complex(0, 0)}) == []
    assert matches("i", [1, 2], {"$lt": np.array(2)}) == [1]
    assert matches("b", [True, False], {"$eq": np.bool_(True)}) == [True]
    assert matches("s", ["a", "b"], {"$eq": np.str_("b")}) == ["b"]


def test_eq_with_list_or_dict_operand_on_scalar_columns():
    assert matches("s", ["a", None], {"$eq": ["a"]}) == []
    assert matches("i", [1, None], {"$eq": [1]}) == []
    assert matches("i", [1, None], {"$neq": [1]}) == [1, None]
    assert matches("s", ["a", None], {"$eq": {"a": 1}}) == []
    assert matches("s", ["a"], {"$eq": b"a"}) == []
    assert matches("s", ["a"], {"$gt": b"a"}) == []


def test_in_and_nin_with_mixed_operands():
    ops = ["a", 1, 2.5, None, ["a"], True, "é"]
    assert matches("s", ["a", "é", "b", None], {"$in": ops}) == ["a", "é", None]
    assert matches("s", ["a", "é", "b", None], {"$nin": ops}) == ["b"]
    assert matches("i", [1, 2, None], {"$in": ops}) == [1, None]
    assert matches("f", [1.0, 2.5, 3.0, None], {"$in": ops}) == [1.0, 2.5, None]
    assert matches("b", [True, False, None], {"$in": ops}) == [True, None]
    assert matches("i", [1, None], {"$in": []}) == []
    assert matches("i", [1, None], {"$nin": []}) == [1, None]
    assert matches("i", [1, None], {"$in": [None]}) == [None]
    assert matches("i", [1, 2, None], {"$nin": [None, 2]}) == [1]


def test_long_in_lists():
    ints = list(range(-250, 250)) + [INT64_MAX, INT64_MIN]
    strs = [f"s{i}\"'\\\n\t\x01é😀" for i in range(300)]
    floats = [i + 0.5 for i in range(300)]
    assert matches("i", [3, 249, 250, INT64_MAX, None], {"$in": ints}) == [3, 249, INT64_MAX]
    assert matches("i", [3, 250, None], {"$nin": ints}) == [250, None]
    assert matches("s", [strs[0], strs[299], "s1", None], {"$in": strs}) == [strs[0], strs[299]]
    strs_nul = [*strs, "a\x00"]
    assert matches("s", ["a\x00", strs[5], "a"], {"$in": strs_nul}) == ["a\x00", strs[5]]
    assert matches("f", [0.5, 299.5, 300.5], {"$in": floats}) == [0.5, 299.5]
    assert matches("b", [True, False], {"$in": ints}) == [True, False]


def test_exists():
    assert matches("s", ["", None, "a"], {"$exists": True}) == ["", "a"]
    assert matches("s", ["", None, "a"], {"$exists": False}) == [None]
    assert matches("f", [0.0, None], {"$not": {"$exists": True}}) == [None]


def test_regex_uses_search_semantics_and_only_matches_strings():
    vals = ["abc", "xabc", "ABC", "a\x00c", "", None]
    assert matches("s", vals, {"$regex": "ab"}) == ["abc", "xabc"]
    assert matches("s", vals, {"$regex": "^ab"}) == ["abc"]
    assert matches("s", vals, {"$regex": "(?i)^ab"}) == ["abc", "ABC"]
    assert matches("s", vals, {"$regex": "\\x00"}) == ["a\x00c"]
    assert matches("s", vals, {"$regex": "^$"}) == [""]
    assert matches("s", vals, {"$not": {"$regex": "b"}}) == ["ABC", "a\x00c", "", None]
    assert matches("i", [1, 12, None], {"$regex": "1"}) == []
    assert matches("b", [True, None], {"$regex": "1|True"}) == []
    with pytest.raises(FilterError):
        parse_filter({"s": {"$regex": "("}})


def test_size_counts_code_points_and_never_matches_numbers():
    vals = ["", "a", "ab", "é", "e\u0301", "\U0001f600", "a\x00", "\x00\x00b", None]
    assert matches("s", vals, {"$size": 0}) == [""]
    assert matches("s", vals, {"$size": 1}) == ["a", "é", "\U0001f600"]
    assert matches("s", vals, {"$size": 2}) == ["ab", "e\u0301", "a\x00"]
    assert matches("s", vals, {"$size": 3}) == ["\x00\x00b"]
    assert matches("s", vals, {"$not": {"$size": 1}}) == [
        "",
        "ab",
        "e\u0301",
        "a\x00",
        "\x00\x00b",
        None,
    ]
    assert matches("i", [1, 10, None], {"$size": 1}) == []
    assert matches("f", [1.0], {"$size": 1}) == []
    assert matches("b", [True, False], {"$size": 1}) == []
    assert matches("b", [True, False], {"$size": 0}) == []


def test_logical_nesting_with_missing_values():
    rows = [
        {("i",): 1, ("s",): "a"},
        {("i",): None, ("s",): "b"},
        {("i",): 3, ("s",): None},
        {},
    ]
    check(rows, {"$or": [{"i": {"$gt": 2}}, {"s": "b"}]})
    check(rows, {"$not": {"$or": [{"i": {"$gt": 2}}, {"s": "b"}]}})
    check(rows, {"$and": [{"i": {"$ne": 1}}, {"$not": {"s": {"$in": ["a", None]}}}]})
    check(rows, {"i": {"$not": {"$gte": 2}}, "s": {"$nin": ["z"]}})
    got = check(rows, {"$not": {"i": {"$gt": 0}}})
    assert got.tolist() == [False, True, False, True]


def test_nested_path_and_quoted_column_name():
    rows = [{("meta", "t"): "x"}, {("meta", "t"): "y"}, {}]
    assert check(rows, {"meta__t": "x"}).tolist() == [True, False, False]
    assert check(rows, {"meta.t": {"$ne": "x"}}).tolist() == [False, True, True]


def test_expression_works_inside_a_larger_query():
    sql, params = compile_filter(parse_filter({"$or": [{"i": 1}, {"s": "b"}]}), COLUMNS)
    conn = make_db(rows_of("i", [1, 2, 1]))
    got = conn.execute(
        f"SELECT rowid FROM t WHERE rowid > ? AND {sql} ORDER BY rowid", [0, *params]
    ).fetchall()
    assert got == [(2,)]


# --------------------------------------------------------------------------------------------
# the property test: random tables, random filter trees, SQL == evaluate
# --------------------------------------------------------------------------------------------

_INTS = [0, 1, -1, 2, 5, 2**53, 2**53 + 1, 2**53 - 1, -(2**53) - 1, 2**62 + 1, INT64_MAX, INT64_MIN]
_FLOATS = [0.0, -0.0, 0.5, -0.5, 1.0, 2.5, 2.0**53, 2.0**53 + 2, 2.0**63, -(2.0**63), 1e308]
_FLOATS += [math.inf, -math.inf, 5e-324]
_STRS = ["", "a", "A", "ab", "b", "é", "e\u0301", "\x00", "a\x00", "\x00b\x00", "5", "1", "True"]
_STRS += ["\U0001f600", "\ue000", "\uffff", "z", "Z", "2.5", "-1", "1e3", " 7"]

int_values = st.one_of(
    st.sampled_from(_INTS), st.integers(-5, 5), st.integers(INT64_MIN, INT64_MAX)
)
float_values = st.one_of(
    st.sampled_from(_FLOATS),
    st.integers(-5, 5).map(float),
    st.floats(allow_nan=False),
)
str_values = st.one_of(
    st.sampled_from(_STRS),
    st.text("ab\x00éZ\U0001f600", max_size=4),  # small alphabet: ties, prefixes, NULs
    st.text(st.characters(exclude_categories=("Cs",)), max_size=4),
)
bool_values = st.booleans()
VALUES = {"str": str_values, "int": int_values, "float": float_values, "bool": bool_values}


def _maybe_none(strategy):
    return st.one_of(st.none(), strategy, strategy)


row_strategy = st.fixed_dictionaries(
    {path: _maybe_none(VALUES[col.kind]) for path, col in COLUMNS.items()}
)

scalar_operands = st.one_of(
    int_values,
    st.sampled_from([2**63, 2**64, 2**70, -(2**70), 10**400, -(10**400)]),
    float_values,
    st.sampled_from([math.nan, 0.1, 1.5, -2.5]),
    str_values,
    st.sampled_from(["a\ud800", "\udfff", "é\ud800z"]),
    st.booleans(),
    st.sampled_from(
        [
            Fraction(1, 3),
            Fraction(2**54 + 1, 2),
            Fraction(5, 2),
            Decimal("2.5"),
            Decimal("-1"),
            Decimal("Infinity"),
            np.int64(3),
            np.bool_(True),
            np.str_("a"),
            np.float64(2.5),
            complex(1, 0),
            complex(1, 1),
            b"a",
        ]
    ),
)
any_operands = st.one_of(
    st.none(),
    scalar_operands,
    st.lists(scalar_operands, max_size=2),
    st.just({"a": 1}),
)
PATTERNS = ["^a", "b$", "\\d", "", "[é]", "(?i)A", "\\x00", "a|^$", "^.{2}$", "\\w+", "\ud800"]


def _neighbours(value) -> list:
    """Operands close to a stored value: equal in another type, or just beside it."""
    if isinstance(value, bool):
        return [value, int(value), float(value), str(value), str(int(value))]
    if isinstance(value, int):
        out = [value, value + 1, value - 1, float(value), Fraction(2 * value + 1, 2), str(value)]
        out += [Fraction(4 * value - 1, 4), Fraction(4 * value + 3, 4)]
        return out + [value + 0.5, value - 0.25, value + 0.75] if abs(value) < 2**52 else out
    if isinstance(value, float):
        if not math.isfinite(value):
            return [value]
        out = [value, math.nextafter(value, math.inf), math.nextafter(value, -math.inf), str(value)]
        return out + [int(value), int(value) + 1, Fraction(value) + Fraction(1, 2**80)]
    out = [value, value + "a", value[:-1], value[1:], value + "\ud800", value[:1] + "\udc00"]
    try:  # a string that reads as a number must not equal that number
        out.append(int(value) if value.strip().lstrip("-").isdigit() else float(value))
    except (ValueError, OverflowError):
        pass
    return out


@st.composite
def leaves(draw, pool: list) -> Comparison:
    path = draw(st.sampled_from(PATHS))
    kind = COLUMNS[path].kind
    near = [x for v in pool.get(path, []) for x in _neighbours(v)]
    near = st.sampled_from(near) if near else VALUES[kind]

    def scalar() -> object:  # mostly beside a stored value, or of the column's kind
        choice = draw(st.integers(0, 9))
        if choice < 5:
            return draw(near)
        return draw(VALUES[kind] if choice < 8 else scalar_operands)

    def operand() -> object:
        return scalar() if draw(st.integers(0, 4)) else draw(any_operands)

    op = draw(
        st.sampled_from(
            ["$eq", "$neq", "$gt", "$gte", "$lt", "$lte", "$in", "$nin", "$exists", "$regex"]
            + ["$size"]
        )
    )
    if op in ("$eq", "$neq"):
        value = operand()
    elif op in ("$in", "$nin"):
        value = [operand() for _ in range(draw(st.integers(0, 5)))]
    elif op == "$exists":
        value = draw(st.booleans())
    elif op == "$regex":
        value = draw(st.sampled_from(PATTERNS))
    elif op == "$size":
        sizes = [len(v) for v in pool.get(path, []) if isinstance(v, str)]
        value = draw(st.sampled_from(sizes) if sizes and draw(st.booleans()) else st.integers(0, 4))
    else:
        value = scalar()
    return Comparison(path, op, value)


@st.composite
def scenarios(draw) -> tuple[list[dict], list]:
    rows = draw(st.lists(row_strategy, min_size=1, max_size=10))
    pool = {p: [r[p] for r in rows if r[p] is not None] for p in PATHS}
    trees = st.recursive(
        leaves(pool),
        lambda children: st.one_of(
            st.lists(children, max_size=3).map(lambda c: And(tuple(c))),
            st.lists(children, max_size=3).map(lambda c: Or(tuple(c))),
            children.map(Not),
        ),
        max_leaves=8,
    )
    return rows, draw(st.lists(trees, min_size=1, max_size=10))


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenario=scenarios())
def test_sql_agrees_with_evaluate_on_random_tables_and_filters(scenario):
    rows, nodes = scenario
    conn = make_db(rows)
    for node in nodes:
        got = sql_mask(conn, node, len(rows))
        fast, exact = reference_masks(rows, node)
        # both of evaluate's paths: vectorised, and per value (Python's own comparisons)
        assert got.tolist() == fast.tolist(), node
        assert got.tolist() == exact.tolist(), node

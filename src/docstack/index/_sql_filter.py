"""Compile a parsed filter (:mod:`docstack._internal.query`) to an SQLite ``WHERE`` expression.

The SQLite backend stores each filterable scalar field in a column of one of four kinds:

- ``'str'``: ``TEXT``; ``'int'``: ``INTEGER`` (64-bit); ``'float'``: ``REAL`` (never NaN: NaN is
  stored as ``NULL``); ``'bool'``: ``INTEGER`` 0/1.
- ``'json'`` with an ``element`` kind: a list of scalars stored as its JSON array, filtered
  through SQLite's JSON functions (see :mod:`docstack.index._sql_list_filter`).

Every column is nullable and ``NULL`` is a missing value. :func:`compile_filter` turns a filter
tree into ``(sql, params)``: an SQL boolean expression with ``?`` placeholders (no value is
ever written into the SQL text) whose rows are exactly the documents :func:`~docstack.
_internal.query_eval.evaluate` accepts for the same values. The subtle points, all settled here
rather than by SQLite's type affinity:

- A comparison of incomparable types (a string with a number, a list with anything) compiles to
  the constant ``0``: SQLite would otherwise coerce ``'5' = 5`` on a ``TEXT`` column.
- ``bool`` is a number (``True == 1``), both as an operand and as a column.
- Numbers compare exactly, as in Python: an operand is turned into a bound of the column's own
  type (an int column compared with ``2.5`` or ``2**70``, a float column with ``2**53 + 1``), so
  SQLite only ever compares an integer with an integer and a real with a real.
- Strings compare by code point (SQLite's ``BINARY`` collation on UTF-8 gives that order).
- Every expression is two-valued (0 or 1, never ``NULL``), so ``NOT`` negates exactly:
  ``$neq``/``$nin`` are the negations of ``$eq``/``$in``, missing values included.

``$regex`` and ``$size`` of strings holding NUL characters use SQL functions that
:func:`register_functions` installs on a connection; call it once per connection.

Example
-------
>>> import sqlite3
>>> from docstack._internal.query import parse_filter
>>> conn = sqlite3.connect(':memory:')
>>> register_functions(conn)
>>> _ = conn.execute('CREATE TABLE docs (title TEXT, price REAL)')
>>> _ = conn.executemany('INSERT INTO docs VALUES (?, ?)',
...                      [('Apple', 3.0), ('banana', 7.5), (None, 9.0)])
>>> columns = {('title',): SqlColumn('title', 'str'), ('price',): SqlColumn('price', 'float')}
>>> sql, params = compile_filter(parse_filter({'price': {'$gt': 3}, 'title': {'$ne': 'x'}}),
...                              columns)
>>> conn.execute(f'SELECT rowid FROM docs WHERE {sql} ORDER BY rowid', params).fetchall()
[(2,), (3,)]
"""

from __future__ import annotations

import datetime
import decimal
import fractions
import json
import math
import re
import sqlite3
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np

from docstack._internal.query import And, Comparison, FilterError, FilterNode, Not, Or

__all__ = ["SQL_TYPES", "SqlColumn", "compile_filter", "quote_identifier", "register_functions"]

#: The SQLite column type each column kind is stored as.
SQL_TYPES: dict[str, str] = {
    "str": "TEXT",
    "int": "INTEGER",
    "float": "REAL",
    "bool": "INTEGER",
    "json": "BLOB",
}
_LIST_ELEMENTS = ("int", "float", "str", "bool")

_INT64_MIN = -(2**63)
_INT64_MAX = 2**63 - 1
_TRUE = "1"
_FALSE = "0"
#: Lists of ``$in`` values longer than this are bound as one JSON array (ints and strings).
_JSON_IN_THRESHOLD = 100
_JSON_EACH = sqlite3.sqlite_version_info >= (3, 38, 0)

_REGEXP_FUNCTION = "regexp"
_STRLEN_FUNCTION = "docstack_strlen"


def quote_identifier(name: str) -> str:
    """Quote ``name`` as an SQL identifier: wrapped in double quotes, inner quotes doubled.

    Example
    -------
    >>> quote_identifier('banner__title')
    '"banner__title"'
    >>> quote_identifier('odd"name')
    '"odd""name"'
    """
    if not isinstance(name, str) or not name or "\x00" in name:
        raise ValueError(f"invalid SQL column name {name!r}")
    return '"' + name.replace('"', '""') + '"'


@dataclass(frozen=True)
class SqlColumn:
    """Where a filterable field is stored: the SQL column ``name`` (unquoted) and its ``kind``.

    ``kind`` is one of ``'str'``, ``'int'``, ``'float'``, ``'bool'`` (see :data:`SQL_TYPES`),
    or ``'json'`` for a list of scalars whose ``element`` is one of the four.

    Example
    -------
    >>> col = SqlColumn('price', 'float')
    >>> col.quoted, col.sql_type
    ('"price"', 'REAL')
    >>> SqlColumn('tags', 'json', 'str').sql_type
    'BLOB'
    """

    name: str
    kind: str
    element: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in SQL_TYPES:
            raise ValueError(
                f"unknown column kind {self.kind!r} for column {self.name!r}; "
                f"expected one of {', '.join(SQL_TYPES)}"
            )
        if (self.kind == "json") != (self.element in _LIST_ELEMENTS):
            raise ValueError(
                f"column {self.name!r}: a 'json' column needs an element kind (one of "
                f"{', '.join(_LIST_ELEMENTS)}) and no other kind takes one, got "
                f"kind {self.kind!r}, element {self.element!r}"
            )
        quote_identifier(self.name)  # validates the name

    @property
    def quoted(self) -> str:
        """The column name quoted for SQL."""
        return quote_identifier(self.name)

    @property
    def sql_type(self) -> str:
        """The SQLite type of the column (``TEXT``, ``INTEGER`` or ``REAL``)."""
        return SQL_TYPES[self.kind]


# --------------------------------------------------------------------------------------------
# SQL functions
# --------------------------------------------------------------------------------------------


@lru_cache(maxsize=512)
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def _regexp(pattern: str | bytes | None, value: Any) -> int:
    """``value REGEXP pattern``: :func:`re.search` semantics; 0 for anything but text."""
    if not isinstance(value, str) or pattern is None:
        return 0
    if isinstance(pattern, bytes):  # patterns holding lone surrogates travel as bytes
        pattern = pattern.decode("utf-8", "surrogatepass")
    return 1 if _compiled(pattern).search(value) is not None else 0


def _strlen(value: Any) -> int | None:
    """The length of a string in code points, NUL characters included."""
    return len(value) if isinstance(value, str) else None


def register_functions(conn: sqlite3.Connection) -> None:
    """Install the SQL functions compiled filters may call (``REGEXP``, exact string length).

    Both are deterministic, so SQLite may use them in indexes and cache their results.

    Example
    -------
    >>> import sqlite3
    >>> conn = sqlite3.connect(':memory:')
    >>> register_functions(conn)
    >>> conn.execute("SELECT 'hello' REGEXP 'l+o$', 'hello' REGEXP '^l'").fetchone()
    (1, 0)
    """
    conn.create_function(_REGEXP_FUNCTION, 2, _regexp, deterministic=True)
    conn.create_function(_STRLEN_FUNCTION, 1, _strlen, deterministic=True)
    from docstack.index._sql_list_filter import register_list_functions

    register_list_functions(conn)


# --------------------------------------------------------------------------------------------
# Operands
# --------------------------------------------------------------------------------------------

# What an operand is, as far as a scalar column is concerned:
#   ("none", None)   the missing value
#   ("num", x)       a real number: int, float (maybe inf or nan) or Fraction (exact)
#   ("str", s)       a string
#   ("never", None)  equal to no scalar and ordered with none (lists, dicts, bytes, dates...)

_NEVER_TYPES = (
    tuple,
    list,
    set,
    frozenset,
    Mapping,
    bytes,
    bytearray,
    memoryview,
    datetime.date,
    datetime.time,
    datetime.timedelta,
)


def _classify(value: Any, op: str, label: str) -> tuple[str, Any]:
    if value is None:
        return "none", None
    if isinstance(value, (bool, np.bool_)):
        return "num", int(bool(value))
    if isinstance(value, (int, np.integer)):
        return "num", int(value)
    if isinstance(value, float):
        return "num", float(value)
    if isinstance(value, np.floating):
        if not np.isfinite(value) or value.dtype.itemsize <= 8:
            return "num", float(value)
        return "num", fractions.Fraction(*value.as_integer_ratio())  # long double, exactly
    if isinstance(value, str):
        return "str", str.__str__(value)
    if isinstance(value, fractions.Fraction):
        return "num", value
    if isinstance(value, decimal.Decimal):
        if value.is_nan():
            return "num", math.nan
        if value.is_infinite():
            return "num", math.inf if value > 0 else -math.inf
        return "num", fractions.Fraction(value)
    if isinstance(value, (complex, np.complexfloating)):
        # Python: 2 == 2+0j, but complex numbers are not ordered
        if value.imag == 0 and op not in _ORDER:
            return _classify(float(value.real), op, label)
        return "never", None
    if isinstance(value, np.ndarray):
        if value.ndim == 0 or (op in _ORDER and value.size == 1):
            return _classify(value.reshape(-1)[0].item(), op, label)
        return "never", None
    if isinstance(value, _NEVER_TYPES):
        return "never", None
    raise FilterError(
        f"{op} for field {label!r}: an operand of type {type(value).__name__} cannot be "
        "compared in SQL; use a number, a string, a bool or None"
    )


_ORDER = {"$gt": ">", "$gte": ">=", "$lt": "<", "$lte": "<="}


def _floor(x: int | float | fractions.Fraction) -> int:
    return x if isinstance(x, int) else math.floor(x)


def _ceil(x: int | float | fractions.Fraction) -> int:
    return x if isinstance(x, int) else math.ceil(x)


def _double_bounds(x: int | fractions.Fraction) -> tuple[float, float]:
    """The largest double <= ``x`` and the smallest double >= ``x`` (equal when exact)."""
    try:
        f = float(x)  # correctly rounded for int and Fraction
    except OverflowError:
        big = sys.float_info.max
        return (big, math.inf) if x > 0 else (-math.inf, -big)
    if f == x:
        return f, f
    if f < x:
        return f, math.nextafter(f, math.inf)
    return math.nextafter(f, -math.inf), f


def _exact_float(x: int | float | fractions.Fraction) -> float | None:
    """``x`` as a double if it is exactly one (NaN is never stored: None)."""
    if isinstance(x, float):
        return None if math.isnan(x) else x
    lo, hi = _double_bounds(x)
    return lo if lo == hi else None


def _exact_int(x: int | float | fractions.Fraction) -> int | None:
    """``x`` as a 64-bit int if it is exactly one."""
    if isinstance(x, float) and not math.isfinite(x):
        return None
    if isinstance(x, int):
        value = x
    else:
        value = math.floor(x)
        if value != x:
            return None
    return value if _INT64_MIN <= value <= _INT64_MAX else None


# --------------------------------------------------------------------------------------------
# Compilation
# --------------------------------------------------------------------------------------------

_Compiled = tuple[str, list[Any]]
_CONST_TRUE: _Compiled = (_TRUE, [])
_CONST_FALSE: _Compiled = (_FALSE, [])


def _label(path: tuple[str, ...]) -> str:
    return "__".join(path)


def compile_filter(
    node: FilterNode, columns: Mapping[tuple[str, ...], SqlColumn]
) -> tuple[str, list[Any]]:
    """Compile a filter tree into an SQL boolean expression and its parameters.

    Parameters
    ----------
    node:
        A tree from :func:`~docstack._internal.query.parse_filter`.
    columns:
        The filterable fields: a field path (``('banner', 'title')``) to its :class:`SqlColumn`.

    Returns
    -------
    tuple[str, list]
        ``(sql, params)``: an expression for a ``WHERE`` clause with ``?`` placeholders, which
        is 1 exactly where :func:`~docstack._internal.query_eval.evaluate` gives True and 0
        elsewhere (never ``NULL``), and the values to bind, in order. ``'1'``/``'0'`` with no
        parameters when the answer does not depend on the row.

    Raises
    ------
    FilterError
        A path is not among ``columns`` (the message lists the filterable fields), or an
        operand has a type SQL cannot compare.

    Example
    -------
    >>> from docstack._internal.query import parse_filter
    >>> cols = {('price',): SqlColumn('price', 'int'), ('tag',): SqlColumn('tag', 'str')}
    >>> compile_filter(parse_filter({'price': {'$gte': 2.5}}), cols)
    ('("price" IS NOT NULL AND "price" >= ?)', [3])
    >>> compile_filter(parse_filter({'tag': {'$ne': 5}}), cols)
    ('1', [])
    """
    return _compile(node, columns)


def _compile(node: FilterNode, columns: Mapping[tuple[str, ...], SqlColumn]) -> _Compiled:
    if isinstance(node, Comparison):
        column = columns.get(node.path)
        if column is None:
            fields = ", ".join(sorted(_label(p) for p in columns)) or "(none)"
            raise FilterError(
                f"field {_label(node.path)!r} cannot be filtered on; filterable fields: {fields}"
            )
        return _comparison(column, node.op, node.value, _label(node.path))
    if isinstance(node, Not):
        return _negate(_compile(node.child, columns))
    if isinstance(node, (And, Or)):
        is_and = isinstance(node, And)
        neutral, absorbing = (_TRUE, _FALSE) if is_and else (_FALSE, _TRUE)
        parts: list[str] = []
        params: list[Any] = []
        for child in node.children:
            sql, child_params = _compile(child, columns)
            if sql == absorbing:
                return absorbing, []
            if sql != neutral:
                parts.append(sql)
                params.extend(child_params)
        if not parts:
            return neutral, []
        if len(parts) == 1:
            return parts[0], params
        return "(" + (" AND " if is_and else " OR ").join(parts) + ")", params
    raise TypeError(f"not a filter node: {type(node).__name__}")


def _comparison(column: SqlColumn, op: str, value: Any, label: str) -> _Compiled:
    col = column.quoted
    if op == "$exists":
        return (f"{col} IS NOT NULL", []) if value else (f"{col} IS NULL", [])
    if op == "$neq":
        return _negate(_comparison(column, "$eq", value, label))
    if op == "$nin":
        return _negate(_comparison(column, "$in", value, label))
    if column.element is not None:
        from docstack.index._sql_list_filter import compile_list_condition

        return compile_list_condition(column, op, value, label)
    if op == "$regex":
        if column.kind != "str":
            return _CONST_FALSE
        try:
            value.encode("utf-8")
            pattern: str | bytes = value
        except UnicodeEncodeError:
            pattern = value.encode("utf-8", "surrogatepass")
        # the function answers 0 for NULL: two-valued without a guard
        return f"{col} REGEXP ?", [pattern]
    if op == "$size":
        if column.kind != "str":
            return _CONST_FALSE
        if value == 0:
            return f"{col} IS ?", [""]
        # length() stops at the first NUL character: such strings are measured in Python
        return (
            f"({col} IS NOT NULL AND CASE WHEN instr({col}, char(0)) > 0 "
            f"THEN {_STRLEN_FUNCTION}({col}) ELSE length({col}) END = ?)",
            [value],
        )
    if op == "$eq":
        kind, operand = _classify(value, op, label)
        if kind == "none":
            return f"{col} IS NULL", []
        bound = _equality_bound(column.kind, kind, operand)
        return _CONST_FALSE if bound is None else (f"{col} IS ?", [bound])
    if op == "$in":
        return _in(column, value, label)
    if op in _ORDER:
        kind, operand = _classify(value, op, label)
        return _order(column, op, kind, operand)
    raise FilterError(f"unknown operator {op!r} for field {label!r}")


def _negate(compiled: _Compiled) -> _Compiled:
    sql, params = compiled
    if sql == _TRUE:
        return _CONST_FALSE
    if sql == _FALSE:
        return _CONST_TRUE
    return f"NOT ({sql})", params


def _equality_bound(column_kind: str, kind: str, operand: Any) -> Any:
    """The value of the column's own type equal to ``operand``, or None if nothing can be."""
    if column_kind == "str":
        if kind != "str":
            return None
        try:
            operand.encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate: no stored string can equal it
            return None
        return operand
    if kind != "num":
        return None
    if column_kind == "float":
        return _exact_float(operand)
    return _exact_int(operand)  # int and bool columns hold integers


def _in(column: SqlColumn, values: tuple[Any, ...], label: str) -> _Compiled:
    col = column.quoted
    has_none = False
    bounds: list[Any] = []
    seen: set[tuple[type, Any]] = set()
    for value in values:
        kind, operand = _classify(value, "$in", label)
        if kind == "none":
            has_none = True
            continue
        bound = _equality_bound(column.kind, kind, operand)
        if bound is not None:
            key = (type(bound), bound)
            if key not in seen:
                seen.add(key)
                bounds.append(bound)
    if not bounds:
        return (f"{col} IS NULL", []) if has_none else _CONST_FALSE
    if len(bounds) == 1:
        sql, params = f"{col} IS ?", bounds
    else:
        sql, params = _in_list(col, column.kind, bounds)
    if has_none:
        return f"({col} IS NULL OR {sql})", params
    return sql, params


def _in_list(col: str, column_kind: str, bounds: list[Any]) -> _Compiled:
    """``col IN (...)``, two-valued; long int or string lists travel as one JSON array."""
    as_json = (
        _JSON_EACH
        and len(bounds) > _JSON_IN_THRESHOLD
        and column_kind != "float"
        and not (column_kind == "str" and any("\x00" in b for b in bounds))
    )
    if as_json:
        array = json.dumps(bounds, ensure_ascii=False)
        return f"({col} IS NOT NULL AND {col} IN (SELECT value FROM json_each(?)))", [array]
    marks = ", ".join("?" * len(bounds))
    return f"({col} IS NOT NULL AND {col} IN ({marks}))", list(bounds)


def _order(column: SqlColumn, op: str, kind: str, operand: Any) -> _Compiled:
    col = column.quoted
    if column.kind == "str":
        if kind != "str":
            return _CONST_FALSE
        bound, op = _surrogate_free_bound(operand, op)
        return f"({col} IS NOT NULL AND {col} {_ORDER[op]} ?)", [bound]
    if kind != "num" or (isinstance(operand, float) and math.isnan(operand)):
        return _CONST_FALSE
    if column.kind == "float":
        return _order_float(col, op, operand)
    return _order_int(col, op, operand)


def _surrogate_free_bound(operand: str, op: str) -> tuple[str, str]:
    """An operand SQLite can bind that orders every storable string as ``operand`` does.

    Stored strings hold no lone surrogates (they are not valid UTF-8). If ``operand`` has one
    at index k, a stored string ``t`` is below ``operand`` exactly when it is below
    ``operand[:k] + '\\ue000'`` (the first code point after the surrogates), and above it
    exactly when it is at or above that.
    """
    for i, ch in enumerate(operand):
        if "\ud800" <= ch <= "\udfff":
            bound = operand[:i] + "\ue000"
            return bound, ("$gte" if op in ("$gt", "$gte") else "$lt")
    return operand, op


def _order_float(col: str, op: str, x: int | float | fractions.Fraction) -> _Compiled:
    """``col op x`` on a REAL column, with ``x`` replaced by an exact double bound."""
    if isinstance(x, float):
        lo = hi = x
    else:
        lo, hi = _double_bounds(x)
    # for a double c: c > x <=> c > lo; c >= x <=> c >= hi; c < x <=> c < hi; c <= x <=> c <= lo
    bound = lo if op in ("$gt", "$lte") else hi
    return f"({col} IS NOT NULL AND {col} {_ORDER[op]} ?)", [bound]


def _order_int(col: str, op: str, x: int | float | fractions.Fraction) -> _Compiled:
    """``col op x`` on an INTEGER column, with ``x`` replaced by an exact integer bound."""
    not_null = (f"{col} IS NOT NULL", [])
    if isinstance(x, float) and math.isinf(x):
        below = x > 0  # every integer is below +inf, above -inf
        wants_below = op in ("$lt", "$lte")
        return not_null if below == wants_below else _CONST_FALSE
    # for an integer c: c > x <=> c > floor(x); c >= x <=> c >= ceil(x);
    #                   c < x <=> c < ceil(x);  c <= x <=> c <= floor(x)
    bound = _floor(x) if op in ("$gt", "$lte") else _ceil(x)
    if op in ("$gt", "$gte"):
        if bound > _INT64_MAX or (op == "$gt" and bound == _INT64_MAX):
            return _CONST_FALSE
        if bound < _INT64_MIN or (op == "$gte" and bound == _INT64_MIN):
            return not_null
    else:
        if bound < _INT64_MIN or (op == "$lt" and bound == _INT64_MIN):
            return _CONST_FALSE
        if bound > _INT64_MAX or (op == "$lte" and bound == _INT64_MAX):
            return not_null
    return f"({col} IS NOT NULL AND {col} {_ORDER[op]} ?)", [bound]

"""Conditions on list fields in SQLite, for :mod:`docstack.index._sql_filter`.

A list field (``list[int]``, ``list[float]``, ``list[str]``, ``list[bool]``) is stored as the
JSON array pydantic makes of it (``TEXT`` or ``BLOB``, read through ``CAST(... AS TEXT)``: a
``BLOB`` is JSONB to SQLite 3.45 and later). A condition on it compiles to SQLite's JSON
functions, with every user value bound as a parameter:

- an element condition (``$eq``, ``$in``, ``$gt``..., ``$regex``) is ``EXISTS (SELECT 1 FROM
  json_each(col) AS _e WHERE <the scalar condition on _e.value>)``, the scalar condition being
  the one :mod:`~docstack.index._sql_filter` compiles for a column of the element kind (exact
  bounds, incomparable types false), so an element matches exactly as a scalar would;
- ``$size`` is ``json_array_length``; a whole-list operand (``{'tags': ['a', 'b']}``) is the
  length and each element by position (``json_extract``).

``json_each`` cuts a string at an escaped NUL character (``"a\\u0000b"`` reads as ``'a'``), so a
row of a ``list[str]`` field whose JSON holds ``\\u0000`` is decided by a Python function on
its JSON text instead (:func:`register_list_functions`); every other row stays in SQL. The
answers are those of :func:`docstack._internal.query_eval.evaluate` (see its module for the list
semantics), which the differential test checks on every backend.

Example
-------
>>> import sqlite3
>>> from docstack._internal.query import parse_filter
>>> from docstack.index._sql_filter import SqlColumn, compile_filter, register_functions
>>> conn = sqlite3.connect(':memory:')
>>> register_functions(conn)
>>> _ = conn.execute('CREATE TABLE docs (tags BLOB)')
>>> _ = conn.executemany('INSERT INTO docs VALUES (?)', [(b'["a","b"]',), (b'[]',), (None,)])
>>> cols = {('tags',): SqlColumn('tags', 'json', 'str')}
>>> def rows(query):
...     sql, params = compile_filter(parse_filter(query), cols)
...     return [r for (r,) in conn.execute(f'SELECT rowid FROM docs WHERE {sql}', params)]
>>> rows({'tags': 'b'}), rows({'tags': {'$ne': 'b'}}), rows({'tags': {'$size': 0}})
([1], [2, 3], [2])
"""

from __future__ import annotations

import json
import re
import sqlite3
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import orjson

from docstack._internal.query import FilterError

__all__ = ["compile_list_condition", "register_list_functions"]

_Compiled = tuple[str, list[Any]]
_TRUE, _FALSE = "1", "0"
_STR_ELEMENTS_FUNCTION = "docstack_str_elements"
#: names a column may not have to be read inside ``json_each(...) AS _e`` (its own columns)
_JSON_EACH_NAMES = frozenset(
    {"key", "value", "type", "atom", "id", "parent", "fullkey", "path", "json", "root", "_e"}
)
_PY_ORDER = {
    "$gt": lambda a, b: a > b,
    "$gte": lambda a, b: a >= b,
    "$lt": lambda a, b: a < b,
    "$lte": lambda a, b: a <= b,
}


@dataclass(frozen=True)
class _Element:
    """The element of a list as a scalar column of the element kind, for the scalar compiler."""

    quoted: str
    kind: str


_ELEMENT = '"_e"."value"'


@lru_cache(maxsize=1)
def _json_functions() -> bool:
    """Whether this SQLite has its JSON functions (built in since 3.38, an option before)."""
    try:
        sqlite3.connect(":memory:").execute("SELECT json_array_length('[]')").close()
    except sqlite3.OperationalError:
        return False
    return True


def compile_list_condition(column: Any, op: str, value: Any, label: str) -> _Compiled:
    """``(sql, params)`` of ``op value`` on the list column ``column`` (a ``SqlColumn`` of
    kind ``'json'`` with an ``element``); ``$exists``, ``$neq`` and ``$nin`` are compiled by
    the caller. Two-valued: a ``NULL`` (missing) list gives 0, never ``NULL``.

    Example
    -------
    >>> from docstack.index._sql_filter import SqlColumn
    >>> compile_list_condition(SqlColumn('n', 'json', 'int'), '$size', 2, 'n')
    ('("n" IS NOT NULL AND json_array_length(CAST("n" AS TEXT)) = ?)', [2])
    """
    if not _json_functions():
        raise FilterError(
            f"filters on list field {label!r} need SQLite's JSON functions (SQLite 3.38 or "
            f"later); this Python's SQLite is {sqlite3.sqlite_version}"
        )
    from docstack.index._sql_filter import _classify

    col = column.quoted
    text = f"CAST({col} AS TEXT)"
    if op == "$size":
        return f"({col} IS NOT NULL AND json_array_length({text}) = ?)", [value]
    if op == "$eq":
        if _classify(value, op, label)[0] == "none":
            return f"{col} IS NULL", []
        if isinstance(value, (tuple, list)):
            return _whole_list(column, text, value, label)
        return _any_element(column, text, "$in", (value,), label)
    if op == "$in":
        parts: list[_Compiled] = []
        if any(v is None for v in value):
            parts.append((f"{col} IS NULL", []))
        scalars = tuple(v for v in value if v is not None and not isinstance(v, (tuple, list)))
        if scalars:
            parts.append(_any_element(column, text, "$in", scalars, label))
        parts.extend(
            _whole_list(column, text, v, label) for v in value if isinstance(v, (tuple, list))
        )
        return _any_of(parts)
    if op == "$regex":
        if column.element != "str":
            return _FALSE, []
        return _any_element(column, text, op, value, label)
    if op in _PY_ORDER:
        return _any_element(column, text, op, value, label)
    raise FilterError(f"unknown operator {op!r} for field {label!r}")


def _any_of(parts: list[_Compiled]) -> _Compiled:
    parts = [p for p in parts if p[0] != _FALSE]
    if any(sql == _TRUE for sql, _ in parts):
        return _TRUE, []
    if not parts:
        return _FALSE, []
    if len(parts) == 1:
        return parts[0]
    return "(" + " OR ".join(sql for sql, _ in parts) + ")", [p for _, ps in parts for p in ps]


def _each(column: Any, text: str) -> str:
    """``json_each`` of the column, read so that its name cannot clash with ``json_each``'s."""
    if column.name.lower() in _JSON_EACH_NAMES:
        return f"(SELECT {text} AS _j) AS _o, json_each(_o._j) AS _e"
    return f"json_each({text}) AS _e"


def _any_element(column: Any, text: str, op: str, value: Any, label: str) -> _Compiled:
    """Some element meets ``op value`` (``$in`` with a tuple of scalars, an order, ``$regex``)."""
    from docstack.index._sql_filter import _classify, _equality_bound, _in, _order

    element = _Element(_ELEMENT, column.element)
    mode: str
    args: list[Any]
    if op == "$in":
        cond = _in(element, value, label)  # type: ignore[arg-type]
        mode = "in"
        # what the Python side compares with: the strings SQLite can bind
        args = [
            v for v in value if isinstance(v, str) and _equality_bound("str", "str", v) is not None
        ]
    elif op == "$regex":
        cond, mode, args = (f"{_ELEMENT} REGEXP ?", [_regex_operand(value)]), "regex", [value]
    else:
        kind, operand = _classify(value, op, label)
        cond = _order(element, op, kind, operand)  # type: ignore[arg-type]
        # the scalar compiler may move a bound (lone surrogates): read its operator back
        mode, args = (_operator_of(cond[0]), cond[1]) if cond[1] else ("any", [])
    sql, params = cond
    if sql == _FALSE:
        return _FALSE, []
    if sql == _TRUE:  # any element at all
        return f"({column.quoted} IS NOT NULL AND json_array_length({text}) > 0)", []
    exists = f"EXISTS (SELECT 1 FROM {_each(column, text)} WHERE {sql})"
    if column.element != "str":
        return exists, params
    # json_each cuts strings at an escaped NUL: such rows are decided in Python
    python = f"{_STR_ELEMENTS_FUNCTION}({text}, ?, ?)"
    return (
        f"(CASE WHEN instr({text}, '\\u0000') > 0 THEN {python} ELSE {exists} END)",
        [mode, _json_args(args), *params],
    )


def _operator_of(sql: str) -> str:
    """The order operator of a compiled ``(x IS NOT NULL AND x <op> ?)``."""
    symbol = sql.rsplit(" ", 2)[-2]
    return {">": "$gt", ">=": "$gte", "<": "$lt", "<=": "$lte"}[symbol]


def _regex_operand(pattern: str) -> str | bytes:
    try:
        pattern.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates travel as bytes (see the REGEXP function)
        return pattern.encode("utf-8", "surrogatepass")
    return pattern


def _whole_list(column: Any, text: str, operand: Any, label: str) -> _Compiled:
    """The list equals ``operand`` element by element (``[1, 2] == (1, 2.0)``)."""
    from docstack.index._sql_filter import _classify, _equality_bound

    col = column.quoted
    conditions = [f"{col} IS NOT NULL", f"json_array_length({text}) = ?"]
    params: list[Any] = [len(operand)]
    bounds: list[Any] = []
    for i, item in enumerate(operand):
        kind, x = _classify(item, "$eq", label)
        if kind == "none":
            conditions.append(f"json_extract({text}, '$[{i}]') IS NULL")
            bounds.append(None)
            continue
        bound = _equality_bound(column.element, kind, x)
        if bound is None:
            return _FALSE, []
        conditions.append(f"json_extract({text}, '$[{i}]') IS ?")
        params.append(bound)
        bounds.append(bound)
    sql = "(" + " AND ".join(conditions) + ")"
    if column.element != "str" or None in bounds:
        return sql, params
    python = f"{_STR_ELEMENTS_FUNCTION}({text}, 'list', ?)"
    return (
        f"(CASE WHEN instr({text}, '\\u0000') > 0 THEN {python} ELSE {sql} END)",
        [_json_args(bounds), *params],
    )


def _json_args(args: list[Any]) -> str:
    """The operands of the Python side as one JSON array (SQL functions take few arguments);
    ASCII-escaped, so that lone surrogates in a pattern travel too."""
    return json.dumps(args, ensure_ascii=True)


# --------------------------------------------------------------------------------------------
# The Python side: rows whose JSON holds an escaped NUL
# --------------------------------------------------------------------------------------------


@lru_cache(maxsize=256)
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def _str_elements(text: Any, mode: str, args_json: str) -> int:
    """Whether the ``list[str]`` stored as JSON ``text`` meets ``mode`` (``'in'``, ``'regex'``,
    ``'list'``, ``'any'`` or an order operator) with the operands in the JSON array
    ``args_json``: 1 or 0 (0 for a missing list)."""
    if text is None:
        return 0
    args = json.loads(args_json)
    try:
        elements = orjson.loads(text)
    except orjson.JSONDecodeError:
        return 0
    if not isinstance(elements, list):
        return 0
    strings = [e for e in elements if isinstance(e, str)]
    if mode == "list":
        return int(elements == list(args))
    if mode == "in":
        wanted = set(args)
        return int(any(e in wanted for e in strings))
    if mode == "regex":
        search = _compiled(args[0]).search
        return int(any(search(e) is not None for e in strings))
    if mode == "any":
        return int(bool(strings))
    compare = _PY_ORDER[mode]
    return int(any(compare(e, args[0]) for e in strings))


def register_list_functions(conn: sqlite3.Connection) -> None:
    """Install the SQL function that list conditions call for rows ``json_each`` cannot read.

    Example
    -------
    >>> import sqlite3
    >>> conn = sqlite3.connect(':memory:')
    >>> register_list_functions(conn)
    >>> conn.execute("SELECT docstack_str_elements('[\\"a\\\\u0000\\"]', 'in', '[\\"a\\"]')").fetchone()
    (0,)
    """
    conn.create_function(_STR_ELEMENTS_FUNCTION, 3, _str_elements, deterministic=True)


# doctest compiles examples with the __future__ flags of the module namespace
del annotations

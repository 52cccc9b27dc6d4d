"""Compile a parsed filter (:mod:`docstack._internal.query`) to a Milvus boolean expression.

User values are never spliced in as code: every string operand becomes a double-quoted
literal in which only ``"``, ``\\``, newline, carriage return and tab are escaped (the escapes
every Milvus parser reads alike, Milvus Lite's included, which has no ``\\u`` escapes and no
expression templates); numbers are written from exact Python ints and floats. A value that
cannot be written as a literal (a string holding a NUL character, a non-finite float bound) or
an operator Milvus has no equivalent for (``$regex``, ``$size``) raises
:class:`NotExpressible`; the backend then evaluates that part of the filter in docstack, on the
rows matching the rest (see :func:`split_filter`), so the answer is never different.

The semantics are those of :func:`docstack._internal.query_eval.evaluate`, as for the SQL compiler
(:mod:`docstack.index._sql_filter`, whose exact-bound helpers this module shares): every
expression is two-valued (a comparison is guarded by ``is not null``, so ``not`` negates
exactly, missing values included), comparisons between incomparable types are false, and
numbers compare exactly. On a server without nullable fields (before Milvus 2.5, whose parser
has no ``is null``) no stored value is missing, and ``nulls=False`` leaves the guards out.

List fields stored as ``ARRAY`` (kind ``'array'``) match a scalar condition when an element
does: ``$eq``/``$in`` become ``array_contains_any`` and ``$size``
``array_length``; an order comparison, ``$regex`` or a whole-list operand runs in docstack.

Example
-------
>>> from docstack._internal.query import parse_filter
>>> fields = {('title',): MilvusField('title', 'str'), ('n',): MilvusField('n', 'int')}
>>> compile_expr(parse_filter({'title': 'say "hi" or 1==1', 'n': {'$gte': 2.5}}), fields)
'((title is not null and title == "say \\\\"hi\\\\" or 1==1") and (n is not null and n >= 3))'
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from docstack._internal.query import And, Comparison, FilterError, FilterNode, Not, Or
from docstack.index._sql_filter import (
    _INT64_MAX,
    _INT64_MIN,
    _ceil,
    _classify,
    _double_bounds,
    _equality_bound,
    _floor,
    _surrogate_free_bound,
)

__all__ = [
    "FALSE",
    "TRUE",
    "MilvusField",
    "NotExpressible",
    "RawExpression",
    "compile_expr",
    "quote_string",
    "split_filter",
]

#: Constants the compiler folds away; only a whole filter can come out as one of them.
TRUE = "<true>"
FALSE = "<false>"

_ORDER = {"$gt": ">", "$gte": ">=", "$lt": "<", "$lte": "<="}
_ESCAPES = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"}


class NotExpressible(Exception):
    """A part of a filter that Milvus cannot evaluate; docstack evaluates it instead."""


@dataclass(frozen=True)
class MilvusField:
    """A filterable docstack column as stored in Milvus: its field ``name`` and ``kind``
    (``'str'``, ``'int'``, ``'float'``, ``'bool'``; ``'array'`` for a list stored as an
    ``ARRAY`` of ``element`` values, ``'json'`` for a list stored as JSON, which only docstack
    can filter)."""

    name: str
    kind: str
    element: str | None = None


@dataclass(frozen=True)
class RawExpression:
    """A Milvus expression given by the caller as the filter (DocArray's way), used as is."""

    expr: str


def quote_string(value: str) -> str:
    """``value`` as a Milvus string literal that matches it exactly.

    Raises :class:`NotExpressible` for strings no literal can spell (NUL characters).

    Example
    -------
    >>> print(quote_string('a"b\\\\c'))
    "a\\"b\\\\c"
    """
    if "\x00" in value:
        raise NotExpressible("a string holding a NUL character")
    return '"' + "".join(_ESCAPES.get(ch, ch) for ch in value) + '"'


def _number(value: int | float) -> str:
    if isinstance(value, float):
        if not math.isfinite(value):
            raise NotExpressible("a non-finite number")
        return repr(value)
    return str(int(value))


def _label(path: tuple[str, ...]) -> str:
    return "__".join(path)


def compile_expr(
    node: Any, fields: Mapping[tuple[str, ...], MilvusField], nulls: bool = True
) -> str:
    """The Milvus expression of a filter tree, or :data:`TRUE`/:data:`FALSE` when the answer
    does not depend on the row.

    ``nulls=False`` compiles for a collection in which no value is missing (a server without
    nullable fields), without ``is null`` tests.

    Raises :class:`NotExpressible` when a part cannot be written for Milvus, and
    :class:`~docstack._internal.query.FilterError` for a field that cannot be filtered on.

    Example
    -------
    >>> from docstack._internal.query import parse_filter
    >>> fields = {('n',): MilvusField('n', 'int'), ('tags',): MilvusField('tags', 'array', 'str')}
    >>> compile_expr(parse_filter({'n': {'$in': [1, None]}}), fields, nulls=False)
    '(n in [1])'
    >>> compile_expr(parse_filter({'tags': {'$nin': ['a', 'b']}}), fields)
    '(not (tags is not null and array_contains_any(tags, ["a", "b"])))'
    """
    if isinstance(node, RawExpression):
        return f"({node.expr})"
    if isinstance(node, Comparison):
        field = fields.get(node.path)
        if field is None:
            names = ", ".join(sorted(_label(p) for p in fields)) or "(none)"
            raise FilterError(
                f"field {_label(node.path)!r} cannot be filtered on; filterable fields: {names}"
            )
        return _comparison(field, node.op, node.value, _label(node.path), nulls)
    if isinstance(node, Not):
        return _negate(compile_expr(node.child, fields, nulls))
    if isinstance(node, (And, Or)):
        is_and = isinstance(node, And)
        neutral, absorbing = (TRUE, FALSE) if is_and else (FALSE, TRUE)
        parts: list[str] = []
        for child in node.children:
            expr = compile_expr(child, fields, nulls)
            if expr == absorbing:
                return absorbing
            if expr != neutral:
                parts.append(expr)
        if not parts:
            return neutral
        if len(parts) == 1:
            return parts[0]
        return "(" + (" and " if is_and else " or ").join(parts) + ")"
    raise TypeError(f"not a filter node: {type(node).__name__}")


def split_filter(
    node: Any, fields: Mapping[tuple[str, ...], MilvusField], nulls: bool = True
) -> tuple[str, FilterNode | None]:
    """``(expression, residual)``: what Milvus evaluates, and what docstack must still check on
    the rows it returns (``None`` when Milvus does it all).

    A top-level ``$and`` is split child by child; anything else that cannot be compiled is
    left whole to docstack (the expression is then :data:`TRUE`).

    Example
    -------
    >>> from docstack._internal.query import parse_filter
    >>> fields = {('t',): MilvusField('t', 'str'), ('n',): MilvusField('n', 'int')}
    >>> expr, rest = split_filter(parse_filter({'n': 1, 't': {'$regex': '^a'}}), fields)
    >>> expr, rest.op
    ('(n is not null and n == 1)', '$regex')
    """
    try:
        return compile_expr(node, fields, nulls), None
    except NotExpressible:
        pass
    if not isinstance(node, And):
        return TRUE, node
    pushed: list[str] = []
    rest: list[FilterNode] = []
    for child in node.children:
        try:
            expr = compile_expr(child, fields, nulls)
        except NotExpressible:
            rest.append(child)
            continue
        if expr == FALSE:
            return FALSE, None
        if expr != TRUE:
            pushed.append(expr)
    expr = (
        TRUE if not pushed else pushed[0] if len(pushed) == 1 else "(" + " and ".join(pushed) + ")"
    )
    return expr, (rest[0] if len(rest) == 1 else And(tuple(rest)))


def _negate(expr: str) -> str:
    if expr == TRUE:
        return FALSE
    if expr == FALSE:
        return TRUE
    return f"(not {expr})"


def _present(name: str, condition: str, nulls: bool) -> str:
    """``condition`` on rows holding a value (every row, when no value can be missing)."""
    return f"({name} is not null and {condition})" if nulls else f"({condition})"


def _not_null(name: str, nulls: bool) -> str:
    return f"({name} is not null)" if nulls else TRUE


def _is_null(name: str, nulls: bool) -> str:
    return f"({name} is null)" if nulls else FALSE


def _comparison(field: MilvusField, op: str, value: Any, label: str, nulls: bool) -> str:
    name = field.name
    if field.kind == "json":
        raise NotExpressible("a list stored as JSON")
    if op == "$exists":
        return _not_null(name, nulls) if value else _is_null(name, nulls)
    if op == "$neq":
        return _negate(_comparison(field, "$eq", value, label, nulls))
    if op == "$nin":
        return _negate(_comparison(field, "$in", value, label, nulls))
    if field.kind == "array":
        return _array_match(field, op, value, label, nulls)
    if op in ("$regex", "$size"):
        raise NotExpressible(f"{op} has no Milvus equivalent")
    if op == "$eq":
        kind, operand = _classify(value, op, label)
        if kind == "none":
            return _is_null(name, nulls)
        if field.kind == "bool":
            accepted = {b for b in (False, True) if kind == "num" and int(b) == operand}
            return _bool_match(name, accepted, nulls)
        literal = _literal(field.kind, kind, operand)
        if literal is None:
            return FALSE
        return _present(name, f"{name} == {literal}", nulls)
    if op == "$in":
        return _in(field, value, label, nulls)
    if op in _ORDER:
        kind, operand = _classify(value, op, label)
        return _order(field, op, kind, operand, nulls)
    raise FilterError(f"unknown operator {op!r} for field {label!r}")


def _bool_match(name: str, accepted: set[bool], nulls: bool) -> str:
    if accepted == {True, False}:
        return _not_null(name, nulls)
    if accepted == {True}:
        return _present(name, f"{name} == true", nulls)
    if accepted == {False}:
        return _present(name, f"{name} == false", nulls)
    return FALSE


def _literal(column_kind: str, kind: str, operand: Any) -> str | None:
    """The literal of the column's own type equal to ``operand``, or None if no stored value
    can equal it."""
    bound = _equality_bound(column_kind, kind, operand)
    if bound is None:
        return None
    if column_kind == "str":
        return quote_string(bound)
    return _number(bound)


def _in(field: MilvusField, values: tuple[Any, ...], label: str, nulls: bool) -> str:
    name = field.name
    has_none = False
    literals: list[str] = []
    bools: set[bool] = set()
    for value in values:
        kind, operand = _classify(value, "$in", label)
        if kind == "none":
            has_none = True
            continue
        if field.kind == "bool":
            if kind == "num":
                bools.update(b for b in (False, True) if int(b) == operand)
            continue
        bound = _equality_bound(field.kind, kind, operand)
        if bound is not None:
            lit = quote_string(bound) if field.kind == "str" else _number(bound)
            if lit not in literals:
                literals.append(lit)
    if field.kind == "bool":
        expr = _bool_match(name, bools, nulls)
    elif not literals:
        expr = FALSE
    else:
        expr = _present(name, f"{name} in [{', '.join(literals)}]", nulls)
    if has_none and nulls:
        null = f"({name} is null)"
        return null if expr == FALSE else f"({null} or {expr})"
    return expr


def _order(field: MilvusField, op: str, kind: str, operand: Any, nulls: bool) -> str:
    name = field.name
    if field.kind == "str":
        if kind != "str":
            return FALSE
        bound, op = _surrogate_free_bound(operand, op)
        return _present(name, f"{name} {_ORDER[op]} {quote_string(bound)}", nulls)
    if kind != "num" or (isinstance(operand, float) and math.isnan(operand)):
        return FALSE
    if field.kind == "bool":
        accepted = {b for b in (False, True) if _holds(int(b), op, operand)}
        return _bool_match(name, accepted, nulls)
    if field.kind == "float":
        if isinstance(operand, float):
            if not math.isfinite(operand):
                raise NotExpressible("a comparison with an infinite bound")
            lo = hi = operand
        else:
            lo, hi = _double_bounds(operand)
            if not (math.isfinite(lo) and math.isfinite(hi)):
                raise NotExpressible("a comparison beyond the range of doubles")
        bound = lo if op in ("$gt", "$lte") else hi
        return _present(name, f"{name} {_ORDER[op]} {_number(bound)}", nulls)
    return _order_int(name, op, operand, nulls)


def _holds(stored: int, op: str, operand: Any) -> bool:
    if op == "$gt":
        return stored > operand
    if op == "$gte":
        return stored >= operand
    if op == "$lt":
        return stored < operand
    return stored <= operand


def _order_int(name: str, op: str, x: Any, nulls: bool) -> str:
    not_null = _not_null(name, nulls)
    if isinstance(x, float) and math.isinf(x):
        below = x > 0
        return not_null if below == (op in ("$lt", "$lte")) else FALSE
    bound = _floor(x) if op in ("$gt", "$lte") else _ceil(x)
    if op in ("$gt", "$gte"):
        if bound > _INT64_MAX or (op == "$gt" and bound == _INT64_MAX):
            return FALSE
        if bound < _INT64_MIN or (op == "$gte" and bound == _INT64_MIN):
            return not_null
    else:
        if bound < _INT64_MIN or (op == "$lt" and bound == _INT64_MIN):
            return FALSE
        if bound > _INT64_MAX or (op == "$lte" and bound == _INT64_MAX):
            return not_null
    return _present(name, f"{name} {_ORDER[op]} {int(bound)}", nulls)


# ------------------------------------------------------------------ lists (ARRAY fields)


def _array_match(field: MilvusField, op: str, value: Any, label: str, nulls: bool) -> str:
    """A condition on a list field: true when an element meets it (``$size``: the length)."""
    name = field.name
    if op == "$size":
        return _present(name, f"array_length({name}) == {int(value)}", nulls)
    if op not in ("$eq", "$in"):
        raise NotExpressible(f"{op} on the elements of a list")
    values = value if op == "$in" else (value,)
    has_none = False
    literals: list[str] = []
    for item in values:
        if isinstance(item, (tuple, list)):
            raise NotExpressible("a whole-list operand")
        kind, operand = _classify(item, op, label)
        if kind == "none":
            has_none = True
            continue
        for lit in _element_literals(str(field.element), kind, operand):
            if lit not in literals:
                literals.append(lit)
    # array_contains_any also for one value: Milvus Lite reads no sign in array_contains
    expr = (
        _present(name, f"array_contains_any({name}, [{', '.join(literals)}])", nulls)
        if literals
        else FALSE
    )
    if has_none:
        null = _is_null(name, nulls)
        return null if expr == FALSE else expr if null == FALSE else f"({null} or {expr})"
    return expr


def _element_literals(element: str, kind: str, operand: Any) -> list[str]:
    """The literals of the elements equal to ``operand`` (none when no element can be)."""
    if element == "bool":
        if kind != "num":
            return []
        return [("true" if b else "false") for b in (False, True) if int(b) == operand]
    bound = _equality_bound(element, kind, operand)
    if bound is None:
        return []
    if element == "str":
        return [quote_string(bound)]
    if element == "int" and not _INT64_MIN <= bound <= _INT64_MAX:
        return []
    return [_number(bound)]


# doctest compiles examples with the __future__ flags of the module namespace
del annotations

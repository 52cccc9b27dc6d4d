"""Compile the portable filter tree (:mod:`docstack._internal.query`) to a Qdrant ``Filter``.

Every user value goes into a field of a qdrant-client model (``MatchValue``, ``MatchAny``,
``Range``): it is data sent to the engine, never text parsed by it, so a string holding quotes,
backslashes, ``or 1==1`` or a JSON fragment matches literally.

A filterable column holds one kind of scalar (``'str'``, ``'int'``, ``'float'``, ``'bool'``);
a missing value is stored as ``null``. The translation keeps the portable semantics exactly:

- Values of incomparable types (a string against a number) compile to the constant False, as
  :func:`~docstack._internal.query_eval.evaluate` answers; ``bool`` is a number (``True == 1``).
- Qdrant matches floats only through ``Range`` and ints through ``MatchValue``; a float operand
  on an int column becomes the int bound that selects the same rows (``$gt 2.5`` is
  ``$gte 3``), an operand no column value can equal becomes False.
- ``$neq``/``$nin`` are ``must_not`` of ``$eq``/``$in``, so a missing value matches them, and
  ``{'$eq': None}`` is Qdrant's ``is_empty``.
- What Qdrant cannot express (``$regex``, ``$size`` of strings, order on strings, ints beyond
  the 2**53 that a ``Range`` bound holds exactly, a whole-list operand) raises
  :class:`NeedsPlanner`: the backend then evaluates that part in docstack (see
  ``QdrantDocumentIndex``), never a different answer.

A list of scalars (kind ``'list:int'``, ``'list:float'``, ``'list:str'``, ``'list:bool'``, see
:func:`column_kinds`) is a payload array, and Qdrant matches a condition on an array when an
element meets it, which is the portable meaning: ``$eq``/``$in``/order compile as for a
scalar of the element kind. Qdrant's ``is_empty`` also matches ``[]``, so a missing list is
``is_null`` (a payload ``null``) with no values, and ``$size`` is ``values_count`` (``$size:
0`` with ``must_not`` ``is_null``, so that a missing list never has a size).

Example
-------
>>> from docstack._internal.query import parse_filter
>>> f = compile_filter(parse_filter({'n': {'$gte': 2.5}, 'title': 'a" or 1==1'}),
...                    {('n',): 'int', ('title',): 'str'})
>>> f.must[0].range.gte, f.must[1].match.value
(3.0, 'a" or 1==1')
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from docstack._internal.query import And, Comparison, FilterNode, Not, Or

__all__ = [
    "NativeFilter",
    "NeedsPlanner",
    "column_kinds",
    "compile_filter",
    "native_filter",
    "planner_paths",
]

_EXACT_FLOAT_INT = 2**53
_INT64 = (-(2**63), 2**63 - 1)
_FILTER_KEYS = frozenset({"must", "should", "must_not", "min_should"})


class NeedsPlanner(Exception):
    """A comparison Qdrant cannot express; the backend evaluates it in docstack."""

    def __init__(self, op: str, field: str) -> None:
        super().__init__(f"{op} on field {field!r}")
        self.op = op
        self.field = field


@dataclass(frozen=True)
class NativeFilter:
    """A Qdrant ``models.Filter`` given by the caller, used as it is (DocArray's way)."""

    filter: Any


def native_filter(query: Any, filter_columns: Any) -> NativeFilter | None:
    """``query`` as a :class:`NativeFilter` if it is a qdrant ``Filter`` or its dict form.

    A dict is taken as Qdrant's only when all its keys are ``must``/``should``/``must_not``/
    ``min_should`` and none of them names a field of the schema.

    Example
    -------
    >>> f = native_filter({'must': [{'key': 'n', 'match': {'value': 1}}]}, ['n'])
    >>> f.filter.must[0].key
    'n'
    >>> native_filter({'n': 1}, ['n']) is None
    True
    """
    from qdrant_client import models

    if isinstance(query, models.Filter):
        return NativeFilter(query)
    if (
        isinstance(query, Mapping)
        and query
        and set(query) <= _FILTER_KEYS
        and not set(query) & set(filter_columns)
    ):
        return NativeFilter(models.Filter.model_validate(dict(query)))
    return None


def column_kinds(columns: Iterable[Any]) -> dict[tuple[str, ...], str]:
    """The kind :func:`compile_filter` takes for each filterable column, by path: the column's
    kind, or ``'list:<element>'`` for a list of scalars.

    Example
    -------
    >>> from docstack.index._schema import Column
    >>> column_kinds([Column('n', ('n',), 'int', int, False),
    ...               Column('tags', ('tags',), 'json', list[str], False)])
    {('n',): 'int', ('tags',): 'list:str'}
    """
    return {col.path: col.kind if col.element is None else f"list:{col.element}" for col in columns}


def compile_filter(node: Any, kinds: Mapping[tuple[str, ...], str]) -> Any:
    """The Qdrant ``Filter`` for ``node``, or ``True``/``False`` when it is constant.

    ``kinds`` maps each filterable path to its column kind. Raises :class:`NeedsPlanner` for a
    part Qdrant cannot express.
    """
    from qdrant_client import models

    out = _Compiler(kinds, models).node(node)
    if isinstance(out, bool) or isinstance(out, models.Filter):
        return out
    return models.Filter(must=[out])


def planner_paths(node: Any) -> set[tuple[str, ...]]:
    """The field paths of the comparisons under ``node`` (native filters have none)."""
    if isinstance(node, Comparison):
        return {node.path}
    if isinstance(node, Not):
        return planner_paths(node.child)
    if isinstance(node, (And, Or)):
        return set().union(*(planner_paths(c) for c in node.children))
    return set()


class _Compiler:
    def __init__(self, kinds: Mapping[tuple[str, ...], str], models: Any) -> None:
        self.kinds = kinds
        self.m = models

    # ---------------------------------------------------------------- tree

    def node(self, node: FilterNode | NativeFilter) -> Any:
        m = self.m
        if isinstance(node, NativeFilter):
            return node.filter
        if isinstance(node, Comparison):
            return self.comparison(node)
        if isinstance(node, Not):
            return self.negate(self.node(node.child))
        if isinstance(node, And):
            parts = [self.node(c) for c in node.children]
            if any(p is False for p in parts):
                return False
            parts = [p for p in parts if p is not True]
            if not parts:
                return True
            return parts[0] if len(parts) == 1 else m.Filter(must=parts)
        if isinstance(node, Or):
            return self.any_of([self.node(c) for c in node.children])
        raise TypeError(f"not a filter node: {node!r}")

    def negate(self, cond: Any) -> Any:
        if isinstance(cond, bool):
            return not cond
        return self.m.Filter(must_not=[cond])

    def any_of(self, parts: list[Any]) -> Any:
        if any(p is True for p in parts):
            return True
        parts = [p for p in parts if p is not False]
        if not parts:
            return False
        return parts[0] if len(parts) == 1 else self.m.Filter(should=parts)

    # ---------------------------------------------------------------- comparisons

    def comparison(self, node: Comparison) -> Any:
        key = "__".join(node.path)
        kind = self.kinds.get(node.path)
        if kind is None:
            raise NeedsPlanner(node.op, key)
        op, value = node.op, node.value
        if op == "$exists":
            missing = self.missing(kind, key)
            return self.negate(missing) if value else missing
        if op == "$size" and kind.startswith("list:"):
            return self.size(key, value)
        if op == "$eq":
            return self.equal(kind, key, value, op)
        if op == "$neq":
            return self.negate(self.equal(kind, key, value, op))
        if op == "$in":
            return self.one_of(kind, key, value, op)
        if op == "$nin":
            return self.negate(self.one_of(kind, key, value, op))
        if op in ("$gt", "$gte", "$lt", "$lte"):
            # on a list: some element compares so, as Qdrant matches arrays
            return self.order(_element(kind), key, op, value)
        raise NeedsPlanner(op, key)  # $regex, $size of a string

    def empty(self, key: str) -> Any:
        m = self.m
        return m.IsEmptyCondition(is_empty=m.PayloadField(key=key))

    def missing(self, kind: str, key: str) -> Any:
        """The value is missing (``None``); for a list, ``is_empty`` would also take ``[]``."""
        if not kind.startswith("list:"):
            return self.empty(key)
        m = self.m
        return m.Filter(
            must=[
                m.IsNullCondition(is_null=m.PayloadField(key=key)),
                m.FieldCondition(key=key, values_count=m.ValuesCount(lt=1)),
            ]
        )

    def size(self, key: str, size: int) -> Any:
        """A list of ``size`` elements (a missing list has no size)."""
        m = self.m
        if size:
            return m.FieldCondition(key=key, values_count=m.ValuesCount(gte=size, lte=size))
        return m.Filter(
            must=[m.FieldCondition(key=key, values_count=m.ValuesCount(lt=1))],
            must_not=[m.IsNullCondition(is_null=m.PayloadField(key=key))],
        )

    def match(self, key: str, value: Any) -> Any:
        m = self.m
        return m.FieldCondition(key=key, match=m.MatchValue(value=value))

    def range(self, key: str, **bounds: float) -> Any:
        m = self.m
        return m.FieldCondition(key=key, range=m.Range(**bounds))

    def one_of(self, kind: str, key: str, values: tuple[Any, ...], op: str) -> Any:
        m = self.m
        if _element(kind) in ("str", "int"):
            plain = str if _element(kind) == "str" else int
            wanted: list[Any] = []
            rest: list[Any] = []
            for v in values:
                c = self.equal(kind, key, v, op)
                if isinstance(c, m.FieldCondition) and isinstance(c.match, m.MatchValue):
                    if type(c.match.value) is plain and c.match.value not in wanted:
                        wanted.append(c.match.value)
                        continue
                rest.append(c)
            if len(wanted) > 1:
                rest.append(m.FieldCondition(key=key, match=m.MatchAny(any=wanted)))
            elif wanted:
                rest.append(self.match(key, wanted[0]))
            return self.any_of(rest)
        return self.any_of([self.equal(kind, key, v, op) for v in values])

    def equal(self, kind: str, key: str, value: Any, op: str) -> Any:
        if value is None:
            return self.missing(kind, key)
        if isinstance(value, (tuple, list)):
            raise NeedsPlanner(op, key)  # a whole-list operand: evaluate() decides
        kind = _element(kind)  # on a list: some element equals, as Qdrant matches arrays
        if isinstance(value, str):
            return self.match(key, value) if kind == "str" else False
        if not isinstance(value, (bool, int, float)):
            raise NeedsPlanner(op, key)
        if kind == "str":
            return False
        if isinstance(value, float) and not math.isfinite(value):
            if math.isnan(value) or kind != "float":
                return False
            raise NeedsPlanner(op, key)
        if kind == "bool":
            return self.match(key, value == 1) if value in (0, 1) else False
        if kind == "int":
            if isinstance(value, float) and value != int(value):
                return False
            as_int = int(value)
            return self.match(key, as_int) if _INT64[0] <= as_int <= _INT64[1] else False
        # float column: a Range of one value; an int no float equals is False
        as_float = float(value)
        if isinstance(value, int) and as_float != value:
            return False
        return self.range(key, gte=as_float, lte=as_float)

    def order(self, kind: str, key: str, op: str, value: Any) -> Any:
        if isinstance(value, str):
            if kind == "str":
                raise NeedsPlanner(op, key)  # Qdrant has no order on strings
            return False
        if not isinstance(value, (bool, int, float)):
            raise NeedsPlanner(op, key)
        if kind == "str":
            return False
        if isinstance(value, float) and math.isnan(value):
            return False
        if kind == "bool":
            ok = [b for b in (False, True) if _compare(int(b), op, value)]
            if len(ok) == 2:
                return self.negate(self.empty(key))
            return self.match(key, ok[0]) if ok else False
        if isinstance(value, float) and math.isinf(value):
            raise NeedsPlanner(op, key)
        bound_op, bound = op[1:], value
        if kind == "int":
            bound_op, bound = _int_bound(op, value)
        elif isinstance(value, int) and float(value) != value:
            raise NeedsPlanner(op, key)
        if isinstance(bound, int) and abs(bound) > _EXACT_FLOAT_INT:
            raise NeedsPlanner(op, key)
        return self.range(key, **{bound_op: float(bound)})


def _element(kind: str) -> str:
    """The kind of a list's elements (``'list:int'`` -> ``'int'``); a scalar's own kind."""
    return kind[5:] if kind.startswith("list:") else kind


def _compare(a: int, op: str, b: Any) -> bool:
    return {"$gt": a > b, "$gte": a >= b, "$lt": a < b, "$lte": a <= b}[op]


def _int_bound(op: str, value: Any) -> tuple[str, int]:
    """An int column's bound equal to ``op value``: ``$gt 2.5`` is ``gte 3``."""
    if isinstance(value, float) and value != int(value):
        if op in ("$gt", "$gte"):
            return "gte", math.ceil(value)
        return "lte", math.floor(value)
    return op[1:], int(value)


# doctest compiles examples with the __future__ flags of the module namespace
del annotations

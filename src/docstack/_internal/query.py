"""The portable filter language: MongoDB-style dict queries, parsed once, evaluated column-wise.

A query is a dict. Each key is either a field path or a logical operator:

- ``{'price': {'$gt': 3, '$lte': 9}}``: several operators on one field are ANDed.
- ``{'title': 'hello'}``: a plain value is shorthand for ``{'$eq': 'hello'}``.
- ``{'title': 'a', 'price': 3}``: several fields at one level are ANDed.
- ``{'$and': [q1, q2]}``, ``{'$or': [q1, q2]}`` (non-empty lists of sub-queries) and
  ``{'$not': q}``; ``$not`` also works on one field: ``{'price': {'$not': {'$gt': 3}}}``.
- Nested fields are written ``'banner__title'`` or ``'banner.title'``; so are keys of
  fields holding dicts (``'meta__lang'``, see ``dict_fields`` of :func:`parse_filter`).

Field operators: ``$eq``, ``$neq`` (alias ``$ne``), ``$gt``, ``$gte``, ``$lt``, ``$lte``,
``$in``, ``$nin``, ``$exists`` (a bool), ``$regex`` (a pattern string, :func:`re.search`
semantics) and ``$size`` (an int: the length of a list or string, the first dimension of a
tensor).

:func:`parse_filter` turns a query into a tree of frozen dataclasses (:class:`Comparison`,
:class:`And`, :class:`Or`, :class:`Not`), checking every operator and operand before anything
runs; a mistake raises :class:`FilterError`. :func:`~docstack._internal.query_eval.evaluate` computes a boolean mask over
``n`` documents from whole columns, with numpy: per-document Python code runs only for columns
of arbitrary objects (or operands of unusual types).

Semantics (close to MongoDB's):

- A missing value (``None``, or a field the column function cannot find) never matches
  ``$eq`` (except ``{'$eq': None}``), ``$gt``, ``$gte``, ``$lt``, ``$lte``, ``$regex``,
  ``$size`` or ``$in`` (except when the list holds ``None``); it matches ``$neq`` and ``$nin``
  (which are exactly the negations of ``$eq`` and ``$in``) and ``$not`` of anything that does
  not match it. ``{'$exists': True}`` means "is not None".
- Comparing values of incomparable types (a string with a number, a list with a string) is
  False, never an exception. Numbers compare with numbers (``bool`` counts as a number, as in
  Python: ``True == 1``), strings with strings (by code point). NaN equals nothing.
- A list-valued field (a list, a tuple or another sequence that is not a string, or a
  tensor) matches a scalar condition when any of its elements does: ``{'tags': 'a'}``
  matches ``['a', 'b']``, ``{'tags': {'$in': ['a', 'z']}}`` too, ``{'scores': {'$gt': 5}}``
  matches ``[1, 7]``. A list operand of ``$eq`` (or in ``$in``) is compared with the whole
  value: ``{'tags': ['a', 'b']}`` matches exactly ``['a', 'b']`` (lists and tuples compare
  alike), or a list whose element equals it. ``$neq``/``$nin`` negate those:
  ``{'tags': {'$neq': 'a'}}`` matches lists that do not contain ``'a'``.
- Numbers compare exactly, by value, as in Python: an int column against a float operand
  (or floats against a big int) is not rounded through float64.
- The elements of a tensor are its scalars (a tensor is compared as if flattened); its
  ``$size`` is its first dimension. A string is a scalar, except for ``$size``.
- ``$regex`` only matches strings (or lists holding a matching string).

List fields of an index (``list[int]``, ``list[float]``, ``list[str]``, ``list[bool]``, or
``Optional`` of one) are filterable on every backend, with exactly these answers (the in-memory
index, the embedded HNSW index, Qdrant and Milvus agree, and a differential test holds them to
it). For a document whose list is ``L``:

=======================  =====================================================================
condition                matches when
=======================  =====================================================================
``{'$eq': x}``, ``x``    some element of ``L`` equals ``x`` (``[]`` and ``None`` never match)
``{'$neq': x}``          no element of ``L`` equals ``x``: the exact negation of ``$eq``, so
                         ``[]`` and a ``None`` list match
``{'$in': [x, y]}``      some element equals one of ``x``, ``y``; a ``None`` in the operand
                         also matches a ``None`` list
``{'$nin': [x, y]}``     the negation of ``$in`` (no element is among them)
``$gt``/``$gte``/...     some element compares so (``{'$gt': 2, '$lt': 5}`` is two conditions:
                         one element may be above 2 and another below 5)
``{'$regex': p}``        some string element matches ``p``
``{'$size': k}``         ``len(L) == k`` (``{'$size': 0}`` matches ``[]``, never ``None``)
``{'$exists': True}``    ``L`` is not ``None`` (an empty list exists)
``{'$eq': None}``        ``L`` is ``None`` (the same as ``{'$exists': False}``)
``{'$eq': [x, y]}``      ``L == [x, y]``, element by element (a list operand is the whole list)
``{'$not': c}``          ``c`` does not match
=======================  =====================================================================

Elements compare as scalars do: ``1 == 1.0 == True``, a string never equals a number, strings
order by code point; ``list[int]`` elements must fit in 64 bits (an index refuses others on
write).

Example
-------
>>> node = parse_filter({'price': {'$gt': 3}, 'banner__title': {'$regex': '^A'}})
>>> columns = {('price',): np.array([1, 5, 9]), ('banner', 'title'): ['Ax', 'Ay', None]}
>>> from docstack._internal.query_eval import evaluate
>>> evaluate(node, columns.__getitem__, 3).tolist()
[False, True, False]
"""

from __future__ import annotations

import difflib
import operator
import re
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any, Union

import numpy as np

from docstack.errors import DocstackError

__all__ = [
    "And",
    "Comparison",
    "FilterError",
    "FilterNode",
    "Not",
    "Or",
    "field_paths",
    "parse_filter",
]


class FilterError(DocstackError, ValueError):
    """A filter query is malformed: unknown operator or field, or an operand of the wrong type."""


_ORDER_OPS: dict[str, Callable[[Any, Any], Any]] = {
    "$gt": operator.gt,
    "$gte": operator.ge,
    "$lt": operator.lt,
    "$lte": operator.le,
}
_FIELD_OPS = frozenset({"$eq", "$neq", "$in", "$nin", "$exists", "$regex", "$size", *_ORDER_OPS})
_OP_ALIASES = {"$ne": "$neq"}
_LOGICAL_OPS = ("$and", "$or", "$not")
_PATH_SEP = re.compile(r"__|\.")


# --------------------------------------------------------------------------------------------
# The tree
# --------------------------------------------------------------------------------------------


def _label(path: tuple[str, ...]) -> str:
    return "__".join(path)


def _describe(value: Any) -> str:
    text = repr(value)
    if len(text) > 60:
        text = text[:57] + "..."
    return f"{type(value).__name__} {text}"


def _split_path(key: str) -> tuple[str, ...]:
    parts = tuple(_PATH_SEP.split(key))
    if not key or any(not part for part in parts):
        raise FilterError(
            f"invalid field path {key!r}: expected names separated by '__' or '.', "
            "e.g. 'banner__title'"
        )
    return parts


def _python_scalar(value: Any) -> Any:
    """A numpy bool, number or string as the Python value equal to it; anything else as is.

    The tree then holds plain values any backend can bind, and compares by value: a numpy
    scalar would round a Python int to its own precision (``2**53 + 1 == np.float32(2**53)``).
    """
    if isinstance(value, (np.bool_, np.integer, np.str_)) or (
        isinstance(value, np.floating) and value.dtype.itemsize <= 8
    ):
        return value.item()
    return value


def _check_operand(op: str, value: Any, field: str) -> Any:
    """Validate ``value`` as the operand of ``op`` and return its normalised (immutable) form."""
    value = _python_scalar(value)
    if op in ("$eq", "$neq"):
        return tuple(value) if isinstance(value, list) else value
    if op in _ORDER_OPS:
        if value is None or isinstance(value, (list, tuple, set, frozenset, Mapping)):
            raise FilterError(
                f"{op} for field {field!r} expects a single orderable value "
                f"(a number or a string), got {_describe(value)}"
            )
        return value
    if op in ("$in", "$nin"):
        if isinstance(value, np.ndarray) and value.ndim == 1:
            value = value.tolist()
        if not isinstance(value, (list, tuple, set, frozenset)):
            raise FilterError(
                f"{op} for field {field!r} expects a list of values, got {_describe(value)}"
            )
        return tuple(tuple(v) if isinstance(v, list) else _python_scalar(v) for v in value)
    if op == "$exists":
        if not isinstance(value, (bool, np.bool_)):
            raise FilterError(
                f"$exists for field {field!r} expects True or False, got {_describe(value)}"
            )
        return bool(value)
    if op == "$regex":
        if not isinstance(value, str):
            raise FilterError(
                f"$regex for field {field!r} expects a regular expression string, "
                f"got {_describe(value)}"
            )
        try:
            re.compile(value)
        except re.error as exc:
            raise FilterError(
                f"$regex for field {field!r} is not a valid regular expression ({exc}): {value!r}"
            ) from None
        return value
    if op == "$size":
        if not isinstance(value, (int, np.integer)) or isinstance(value, (bool, np.bool_)):
            raise FilterError(
                f"$size for field {field!r} expects a non-negative int, got {_describe(value)}"
            )
        if value < 0:
            raise FilterError(
                f"$size for field {field!r} expects a non-negative int, got {int(value)}"
            )
        return int(value)
    raise FilterError(
        f"unknown operator {op!r} for field {field!r}; valid operators: "
        f"{', '.join(sorted(_FIELD_OPS | _OP_ALIASES.keys()))}, $not"
    )


@dataclass(frozen=True)
class Comparison:
    """One condition on one field: ``path`` ``op`` ``value``.

    ``op`` is canonical (``'$ne'`` becomes ``'$neq'``) and ``value`` is checked and made
    immutable where possible (lists become tuples) when the node is built.

    Example
    -------
    >>> Comparison(("banner", "title"), "$in", ["a", "b"])
    Comparison(path=('banner', 'title'), op='$in', value=('a', 'b'))
    """

    path: tuple[str, ...]
    op: str
    value: Any

    def __post_init__(self) -> None:
        path = _split_path(self.path) if isinstance(self.path, str) else tuple(self.path)
        if not path or not all(isinstance(p, str) and p for p in path):
            raise FilterError(f"invalid field path {self.path!r}")
        op = _OP_ALIASES.get(self.op, self.op)
        object.__setattr__(self, "path", path)
        object.__setattr__(self, "op", op)
        object.__setattr__(self, "value", _check_operand(op, self.value, _label(path)))


@dataclass(frozen=True)
class And:
    """Matches when every child matches; no children match everything.

    Example
    -------
    >>> And((Comparison(("a",), "$gt", 1), Comparison(("a",), "$lt", 5))).children[0].op
    '$gt'
    """

    children: tuple[FilterNode, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "children", tuple(self.children))


@dataclass(frozen=True)
class Or:
    """Matches when any child matches; no children match nothing.

    Example
    -------
    >>> len(Or((Comparison(("a",), "$eq", 1), Comparison(("b",), "$eq", 2))).children)
    2
    """

    children: tuple[FilterNode, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "children", tuple(self.children))


@dataclass(frozen=True)
class Not:
    """Matches exactly where ``child`` does not.

    Example
    -------
    >>> Not(Comparison(("a",), "$ne", 1)).child.op
    '$neq'
    """

    child: FilterNode


FilterNode = Union[Comparison, And, Or, Not]


# --------------------------------------------------------------------------------------------
# Parsing
# --------------------------------------------------------------------------------------------


def parse_filter(
    query: Mapping[str, Any],
    fields: Collection[str] | None = None,
    *,
    dict_fields: Collection[str] = (),
) -> FilterNode:
    """Parse a MongoDB-style query dict into a :data:`FilterNode` tree, checking it fully.

    Parameters
    ----------
    query:
        The query, e.g. ``{'price': {'$gte': 3}, '$or': [{'tag': 'a'}, {'tag': 'b'}]}``.
        An empty dict matches every document.
    fields:
        The valid field paths, written with ``'__'`` or ``'.'`` (e.g. ``{'title',
        'banner__title'}``). When given, a path that is not among them raises.
    dict_fields:
        Paths of fields that hold mappings with free-form string keys (e.g. ``{'meta'}``):
        every path below one of them is valid too (``'meta__lang'``, ``'meta__a__b'``). A
        backend looks the keys up per document; a missing key is a missing value. Only
        checked when ``fields`` is given.

    Returns
    -------
    FilterNode
        A :class:`Comparison`, :class:`And`, :class:`Or` or :class:`Not`.

    Raises
    ------
    FilterError
        The query is not a dict, names an unknown operator or field, or gives an operator an
        operand of the wrong type; the message names the operator or field.

    Example
    -------
    >>> parse_filter({'price': {'$gt': 3, '$ne': 5}})
    And(children=(Comparison(path=('price',), op='$gt', value=3), \
Comparison(path=('price',), op='$neq', value=5)))
    >>> parse_filter({'banner.title': 'x'}, fields={'banner__title'})
    Comparison(path=('banner', 'title'), op='$eq', value='x')
    >>> parse_filter({'meta__lang': 'en'}, fields={'meta'}, dict_fields={'meta'})
    Comparison(path=('meta', 'lang'), op='$eq', value='en')
    """
    valid: _Fields | None = None
    if fields is not None:
        if isinstance(fields, str) or isinstance(dict_fields, str):
            raise TypeError(
                "fields and dict_fields must be collections of field paths, not a single string"
            )
        valid = _Fields(
            {_split_path(f): f for f in fields}, frozenset(map(_split_path, dict_fields))
        )
    return _parse_query(query, valid, "filter")


@dataclass(frozen=True)
class _Fields:
    """The valid paths: ``exact`` (path -> its name as given) and every path strictly below
    one of ``mappings``."""

    exact: dict[tuple[str, ...], str]
    mappings: frozenset[tuple[str, ...]]

    def __contains__(self, path: tuple[str, ...]) -> bool:
        if path in self.exact:
            return True
        return any(path[:i] in self.mappings for i in range(1, len(path)))

    def names(self) -> list[str]:
        below = [f"{_label(m)}__<key>" for m in self.mappings]
        return sorted([*self.exact.values(), *below])


def _parse_query(query: Any, valid: _Fields | None, where: str) -> FilterNode:
    if not isinstance(query, Mapping):
        raise FilterError(
            f"{where} must be a dict mapping field names (or '$and', '$or', '$not') to "
            f"conditions, got {_describe(query)}"
        )
    children: list[FilterNode] = []
    for key, condition in query.items():
        if not isinstance(key, str):
            raise FilterError(f"{where}: field names must be strings, got {_describe(key)}")
        if key.startswith("$"):
            children.append(_parse_logical(key, condition, valid))
            continue
        path = _split_path(key)
        if valid is not None and path not in valid:
            close = difflib.get_close_matches(key, sorted(valid.exact.values()), n=3)
            hint = f"; did you mean {' or '.join(map(repr, close))}?" if close else ""
            raise FilterError(
                f"unknown field {key!r} in filter{hint} Valid fields: {', '.join(valid.names())}"
            )
        children.append(_parse_condition(path, key, condition))
    return children[0] if len(children) == 1 else And(tuple(children))


def _parse_logical(key: str, condition: Any, valid: _Fields | None) -> FilterNode:
    if key in ("$and", "$or"):
        if isinstance(condition, Mapping) and condition:
            # DocArray's form: a dict whose entries are the sub-queries, one field each
            condition = [{k: v} for k, v in condition.items()]
        if not isinstance(condition, (list, tuple)):
            raise FilterError(
                f"{key} expects a non-empty list of sub-queries, got {_describe(condition)}"
            )
        if not condition:
            raise FilterError(f"{key} expects a non-empty list of sub-queries, got an empty list")
        children = tuple(_parse_query(sub, valid, f"{key}[{i}]") for i, sub in enumerate(condition))
        return And(children) if key == "$and" else Or(children)
    if key == "$not":
        if not isinstance(condition, Mapping) or not condition:
            raise FilterError(
                f"$not expects a non-empty sub-query dict, got {_describe(condition)}"
            )
        return Not(_parse_query(condition, valid, "$not"))
    if key in _FIELD_OPS or key in _OP_ALIASES:
        raise FilterError(
            f"operator {key!r} must be applied to a field, e.g. {{'price': {{{key!r}: ...}}}}"
        )
    raise FilterError(
        f"unknown operator {key!r} at the query level; expected a field name or one of "
        f"{', '.join(_LOGICAL_OPS)}"
    )


def _parse_condition(path: tuple[str, ...], key: str, condition: Any) -> FilterNode:
    if not isinstance(condition, Mapping):
        return Comparison(path, "$eq", condition)
    operators = [k for k in condition if isinstance(k, str) and k.startswith("$")]
    if not operators:
        if not condition:
            raise FilterError(
                f"field {key!r} has an empty condition dict; expected operators such as "
                "{'$eq': value} or a plain value"
            )
        return Comparison(path, "$eq", condition)  # equality with a dict value
    if len(operators) != len(condition):
        raise FilterError(
            f"the condition for field {key!r} mixes operators and plain keys: {list(condition)!r}"
        )
    nodes: list[FilterNode] = []
    for op, operand in condition.items():
        if op == "$not":
            if not isinstance(operand, Mapping) or not operand:
                raise FilterError(
                    f"$not for field {key!r} expects a non-empty operator dict such as "
                    f"{{'$gt': 3}}, got {_describe(operand)}"
                )
            if not all(isinstance(k, str) and k.startswith("$") for k in operand):
                raise FilterError(
                    f"$not for field {key!r} expects an operator dict such as {{'$gt': 3}}, "
                    f"got {_describe(operand)}"
                )
            nodes.append(Not(_parse_condition(path, key, operand)))
            continue
        canonical = _OP_ALIASES.get(op, op)
        if canonical not in _FIELD_OPS:
            hint = " ($and/$or belong at the query level)" if op in _LOGICAL_OPS else ""
            raise FilterError(
                f"unknown operator {op!r} for field {key!r}{hint}; valid operators: "
                f"{', '.join(sorted(_FIELD_OPS | _OP_ALIASES.keys()))}, $not"
            )
        nodes.append(Comparison(path, canonical, operand))
    return nodes[0] if len(nodes) == 1 else And(tuple(nodes))


def field_paths(node: FilterNode) -> set[tuple[str, ...]]:
    """The field paths a filter reads.

    Parameters
    ----------
    node:
        A parsed filter.

    Returns
    -------
    set[tuple[str, ...]]
        Every path compared somewhere in the tree.

    Example
    -------
    >>> sorted(field_paths(parse_filter({'a': 1, '$or': [{'b__c': 2}, {'a': 3}]})))
    [('a',), ('b', 'c')]
    """
    out: set[tuple[str, ...]] = set()
    stack: list[FilterNode] = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, Comparison):
            out.add(item.path)
        elif isinstance(item, (And, Or)):
            stack.extend(item.children)
        elif isinstance(item, Not):
            stack.append(item.child)
        else:
            raise TypeError(f"not a filter node: {_describe(item)}")
    return out

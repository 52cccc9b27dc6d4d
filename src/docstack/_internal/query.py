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
runs; a mistake raises :class:`FilterError`. :func:`evaluate` computes a boolean mask over
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
>>> evaluate(node, columns.__getitem__, 3).tolist()
[False, True, False]
"""

from __future__ import annotations

import difflib
import itertools
import math
import operator
import re
import sys
from collections.abc import Callable, Collection, Mapping, Sequence
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
    "evaluate",
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


# --------------------------------------------------------------------------------------------
# Per-value semantics (objects, and the reference the vectorised paths agree with)
# --------------------------------------------------------------------------------------------


def _is_sequence(value: Any) -> bool:
    """Lists, tuples and other sequences (``collections.abc.Sequence``), strings excepted."""
    if isinstance(value, (list, tuple)):
        return True
    return isinstance(value, Sequence) and not isinstance(value, (str, bytes, bytearray))


def _is_tensor(value: Any) -> bool:
    if isinstance(value, np.ndarray):
        return value.ndim >= 1
    if isinstance(value, (str, bytes, list, tuple, Mapping)) or value is None:
        return False
    return hasattr(value, "__array__") and getattr(value, "ndim", 0) >= 1


def _to_numpy(value: Any) -> np.ndarray:
    torch = sys.modules.get("torch")
    if torch is not None and isinstance(value, torch.Tensor):
        return value.detach().cpu().numpy()
    return np.asarray(value)


def _elements(value: Any) -> list[Any] | None:
    """The elements of a list-valued value (tensors flattened), or None for a scalar."""
    if _is_sequence(value):
        return list(value)
    if _is_tensor(value):
        return _to_numpy(value).reshape(-1).tolist()
    return None


def _plain(value: Any) -> Any:
    if _is_sequence(value):
        return [_plain(v) for v in value]
    if _is_tensor(value):
        return _to_numpy(value).tolist()
    return value


def _whole_equal(a: Any, b: Any) -> bool:
    try:
        return bool(_plain(a) == _plain(b))
    except Exception:  # noqa: BLE001 - exotic __eq__: not equal
        return False


def _py_eq(value: Any, operand: Any) -> bool:
    if _whole_equal(value, operand):
        return True
    elements = _elements(value)
    return elements is not None and any(_whole_equal(e, operand) for e in elements)


def _py_order(a: Any, op: str, b: Any) -> bool:
    if a is None:
        return False
    try:
        return bool(_ORDER_OPS[op](a, b))
    except (TypeError, ValueError):
        return False


def _text_of(value: Any) -> str | None:
    """A string's own text, or the text of a document that compares equal to its text
    (``TextDoc('a') == 'a'``), so that ``$regex`` agrees with ``$eq``; else ``None``."""
    if isinstance(value, str):
        return value
    if getattr(type(value), "__docstack_document__", False):
        text = getattr(value, "text", None)
        if isinstance(text, str) and value == text:
            return text
    return None


def _py_match(value: Any, op: str, operand: Any) -> bool:
    """Does the present (not None) ``value`` match ``op operand``? (not $neq/$nin/$exists)"""
    if op == "$eq":
        return _py_eq(value, operand)
    if op == "$in":
        return any(_py_eq(value, o) for o in operand)
    if op == "$size":
        if isinstance(value, (str, bytes)) or _is_sequence(value):
            return len(value) == operand
        return _is_tensor(value) and _to_numpy(value).shape[0] == operand
    elements = _elements(value)
    candidates = [value] if elements is None else elements
    if op == "$regex":
        pattern = re.compile(operand)
        texts = (_text_of(e) for e in candidates)
        return any(t is not None and pattern.search(t) is not None for t in texts)
    return any(_py_order(e, op, operand) for e in candidates)


# --------------------------------------------------------------------------------------------
# Vectorised matching of clean 1-D arrays (numeric or str dtype)
# --------------------------------------------------------------------------------------------

_NUMERIC_TYPES = (bool, int, float, np.bool_, np.integer, np.floating)


def _is_real(value: Any) -> bool:
    return isinstance(value, _NUMERIC_TYPES)


def _is_plain(value: Any) -> bool:
    """Operands whose relation to a number or a string is known without asking them."""
    return value is None or isinstance(value, (*_NUMERIC_TYPES, str, list, tuple, Mapping))


def _has_nul(value: str) -> bool:
    return "\x00" in value


def _exact_number(value: Any) -> int | float | None:
    """A real operand as a Python int or float with the same value, or None if it has none
    (``np.longdouble``): Python compares ints with floats exactly, by value."""
    if isinstance(value, float):  # np.float64 included
        return float(value)
    if isinstance(value, (int, np.integer, np.bool_)):  # bool included
        return int(value)
    if isinstance(value, np.floating) and value.dtype.itemsize <= 8:
        return float(value)
    return None


def _nearest_float(value: int) -> float:
    try:
        return float(value)
    except OverflowError:
        return math.inf if value > 0 else -math.inf


def _compare_numeric(data: np.ndarray, op: str, operand: Any) -> np.ndarray | None:
    """``data op operand`` for a numeric array, exactly as Python compares the values.

    numpy would compare an int array with a float (or a float array with a big int) in
    float64, where ints above 2**53 are rounded; instead the operand is turned into one of
    the array's own kind that gives the same answer for every element.
    """
    x = _exact_number(operand)
    if x is None:
        return None
    if data.dtype.kind == "b":
        data = data.view(np.uint8)
    n = len(data)
    if data.dtype.kind in "iu":
        if isinstance(x, float):
            if math.isnan(x):
                return np.zeros(n, bool)
            if math.isinf(x):  # every int is below +inf and above -inf
                below = op in ("$lt", "$lte")
                return np.full(n, below if x > 0 else op in ("$gt", "$gte"))
            if op == "$eq":
                if not x.is_integer():
                    return np.zeros(n, bool)
                x = int(x)
            else:  # for an int v: v > x iff v > floor(x), v >= x iff v >= ceil(x), ...
                x = math.floor(x) if op in ("$gt", "$lte") else math.ceil(x)
        compare = operator.eq if op == "$eq" else _ORDER_OPS[op]
        return np.asarray(compare(data, x))  # numpy compares with any Python int exactly
    if data.dtype.itemsize > 8:  # long double: leave it to Python
        return None
    # compared in float64, where every float16/float32 value is exact (numpy 2 would widen
    # for a np.float64 operand by itself; numpy 1.26 narrows the operand to the array's type)
    data = data.astype(np.float64, copy=False)
    if isinstance(x, int):
        f = _nearest_float(x)
        if f != x:
            # no float equals x, and none lies strictly between x and its nearest float f
            if op == "$eq":
                return np.zeros(n, bool)
            above = f > x
            if op in ("$gt", "$gte"):
                return np.asarray(data >= np.float64(f) if above else data > np.float64(f))
            return np.asarray(data < np.float64(f) if above else data <= np.float64(f))
        x = f
    compare = operator.eq if op == "$eq" else _ORDER_OPS[op]
    return np.asarray(compare(data, np.float64(x)))


def _isin_numeric(data: np.ndarray, wanted: list[Any]) -> np.ndarray | None:
    """Which elements of a numeric array equal one of the numbers ``wanted``, exactly."""
    numbers = [_exact_number(w) for w in wanted]
    if any(v is None for v in numbers):
        return None
    if data.dtype.kind == "b":
        data = data.view(np.uint8)
    if data.dtype.kind in "iu":
        info = np.iinfo(data.dtype)
        ints = {
            int(v) for v in numbers if isinstance(v, int) or (math.isfinite(v) and v.is_integer())
        }
        keys: list[Any] = sorted(k for k in ints if info.min <= k <= info.max)
        dtype = data.dtype
    elif data.dtype.itemsize > 8:
        return None
    else:
        floats = set()
        for v in numbers:
            f = _nearest_float(v) if isinstance(v, int) else v
            if f == v and not math.isnan(f):  # an int no float equals is left out
                floats.add(f)
        keys, dtype = sorted(floats), np.dtype(np.float64)
        data = data.astype(np.float64, copy=False)  # numpy 1.26 would narrow the keys
    if not keys:
        return np.zeros(len(data), bool)
    return np.isin(data, np.array(keys, dtype=dtype))


def _nested_nul(value: Any) -> bool:
    """Whether a string in ``value`` (a string or nested lists of them) holds a NUL."""
    if isinstance(value, str):
        return _has_nul(value)
    return isinstance(value, (list, tuple)) and any(map(_nested_nul, value))


def _array_match(data: np.ndarray, op: str, operand: Any) -> np.ndarray | None:
    """``op`` on each element of a clean 1-D array, or None when Python must decide."""
    is_str = data.dtype.kind == "U"
    try:
        if op == "$eq" or op in _ORDER_OPS:
            if is_str and isinstance(operand, str):
                compare = operator.eq if op == "$eq" else _ORDER_OPS[op]
                return None if _has_nul(operand) else np.asarray(compare(data, operand))
            if not is_str and _is_real(operand):
                return _compare_numeric(data, op, operand)
            return np.zeros(len(data), bool) if _is_plain(operand) else None
        if op == "$in":
            if not all(_is_plain(o) for o in operand):
                return None
            if not is_str:
                return _isin_numeric(data, [o for o in operand if _is_real(o)])
            wanted = [o for o in operand if isinstance(o, str)]
            if any(map(_has_nul, wanted)):
                return None
            if not wanted:
                return np.zeros(len(data), bool)
            return np.isin(data, np.asarray(wanted, dtype=str))
        if op == "$regex":
            if not is_str:
                return np.zeros(len(data), bool)
            # the pattern runs once per distinct value; mapping back runs in C
            search = re.compile(operand).search
            values = data.tolist()
            hits = dict.fromkeys(values, False)
            for value in hits:
                hits[value] = search(value) is not None
            return np.fromiter(map(hits.__getitem__, values), bool, len(values))
        if op == "$size":
            if not is_str:
                return np.zeros(len(data), bool)
            # np.char.str_len: np.strings is numpy 2 only, and docstack runs on 1.26 too
            return np.char.str_len(data) == operand
    except (TypeError, OverflowError):
        return None
    raise AssertionError(f"unexpected operator {op}")  # pragma: no cover


def _array_or_python(data: np.ndarray, op: str, operand: Any) -> np.ndarray:
    result = _array_match(data, op, operand)
    if result is None:
        result = np.fromiter((_py_match(v, op, operand) for v in data.tolist()), bool, len(data))
    return result


def _any_per_row(element_hits: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """Per row: does any of its elements (``offsets[i]:offsets[i+1]``) hit?"""
    counts = np.concatenate(([0], np.cumsum(element_hits, dtype=np.int64)))
    return counts[offsets[1:]] > counts[offsets[:-1]]


# --------------------------------------------------------------------------------------------
# Columns
# --------------------------------------------------------------------------------------------


def _row_size(tensors: np.ndarray) -> int:
    return int(np.prod(tensors.shape[1:], dtype=np.int64))


_CLEAN_NUMERIC = "biuf"


def _clean_scalar_array(values: list[Any]) -> np.ndarray | None:
    """``values`` (no None) as a numeric or str numpy array, if that loses nothing."""
    types = set(map(type, values))
    try:
        if all(t is str or t is np.str_ for t in types):
            if _has_nul("".join(values)):
                return None
            arr = np.asarray(values, dtype=str) if values else np.zeros(0, dtype="U1")
            return arr
        if all(t in (bool, int, float) or issubclass(t, _NUMERIC_TYPES[3:]) for t in types):
            arr = np.asarray(values)
            if arr.ndim == 1 and arr.dtype.kind in _CLEAN_NUMERIC:
                if arr.dtype.kind == "f" and not _ints_survive_floats(values, types):
                    return None
                return arr
    except (OverflowError, ValueError, TypeError):
        return None
    return None


_FLOAT_EXACT_INT = 2**53  # every int of at most this size is exactly a float64


def _ints_survive_floats(values: list[Any], types: set[type]) -> bool:
    """Whether the ints among ``values`` (if any) keep their value in a float array."""
    if not any(t is int or issubclass(t, np.integer) for t in types):
        return True
    limit = _FLOAT_EXACT_INT
    return all(-limit <= int(v) <= limit for v in values if isinstance(v, (int, np.integer)))


def _may_hold_none(values: list[Any]) -> bool:
    """False only if no value is None; fast (``list.count`` runs in C) for plain values."""
    try:
        return values.count(None) > 0  # identity is checked first: every None is counted
    except Exception:  # noqa: BLE001 - an element's __eq__ failed (e.g. a numpy array)
        return True


def _exact_target(data: np.ndarray, target: np.ndarray) -> np.ndarray | bool | None:
    """``target`` in a dtype that ``data == target`` compares exactly in (as Python would);
    False if no row can equal it, None if Python must decide."""
    kind, target_kind = data.dtype.kind, target.dtype.kind
    if kind == "U" or target_kind == "U":
        return target if kind == target_kind else None
    if kind not in _CLEAN_NUMERIC or target_kind not in _CLEAN_NUMERIC:
        return None
    if kind in "biu" and target_kind == "f":
        if not np.all(np.isfinite(target) & (target == np.trunc(target))):
            return False  # an element that is not a whole number never equals an int
        if np.all(np.abs(target) < 2.0**63):
            return target.astype(np.int64)
        return None
    if kind == "f" and target_kind in "iu":
        if data.dtype.itemsize > 8:
            return None
        if np.all((target <= _FLOAT_EXACT_INT) & (target >= -_FLOAT_EXACT_INT)):
            return target.astype(np.float64)
        return None
    return target


class _Column:
    """One field's values for all n documents, analysed once for vectorised matching.

    kinds: ``'scalar'`` (``data``: clean 1-D array over present rows), ``'tensor'``
    (``data``: clean array (rows, ...) over present rows), ``'lists'`` (``data``: clean flat
    array of the elements of list values, ``offsets`` delimiting each present row, ``rows`` the
    values themselves), ``'object'`` (``rows``: the present values, matched in Python).
    """

    __slots__ = ("n", "missing", "present", "kind", "data", "offsets", "rows")

    def __init__(self, raw: Any, n: int, path: tuple[str, ...]) -> None:
        self.n = n
        self.present: np.ndarray | None = None  # indices of present rows; None: all present
        self.data: np.ndarray | None = None
        self.offsets: np.ndarray | None = None
        self.rows: list[Any] | None = None
        if raw is None:
            self.missing = np.ones(n, bool)
            self.kind = "empty"
            return
        if not isinstance(raw, (list, np.ndarray)):
            if hasattr(raw, "__array__") and hasattr(raw, "shape"):
                raw = _to_numpy(raw)
            else:
                raw = list(raw)
        if len(raw) != n:
            raise ValueError(
                f"the column for field {_label(path)!r} has {len(raw)} values, expected {n}"
            )
        if isinstance(raw, np.ndarray):
            if raw.ndim == 0:
                raise ValueError(f"the column for field {_label(path)!r} is a 0-d array")
            if raw.dtype.kind in _CLEAN_NUMERIC or raw.dtype.kind == "U":
                self.missing = np.zeros(n, bool)
                self.kind = "scalar" if raw.ndim == 1 else "tensor"
                self.data = raw
                return
            raw = list(raw)  # object, bytes, complex, datetime...: as a list of values
        self._from_list(raw)

    def _from_list(self, values: list[Any]) -> None:
        n = self.n
        if _may_hold_none(values):
            self.missing = np.fromiter(
                map(operator.is_, values, itertools.repeat(None)), bool, count=n
            )
            present_mask = ~self.missing
            if not present_mask.any():
                self.kind = "empty"
                return
            self.present = np.flatnonzero(present_mask)
            values = list(itertools.compress(values, present_mask.tolist()))
        else:
            self.missing = np.zeros(n, bool)
        self.kind = "object"
        self.rows = values
        arr = _clean_scalar_array(values)
        if arr is not None:
            self.kind, self.data = "scalar", arr
            return
        types = set(map(type, values))
        if types <= {list, tuple}:
            lengths = np.fromiter(map(len, values), np.int64, count=len(values))
            flat = list(itertools.chain.from_iterable(values))
            flat_arr = None if _may_hold_none(flat) else _clean_scalar_array(flat)
            if flat_arr is not None:
                self.kind, self.data = "lists", flat_arr
                self.offsets = np.concatenate(([0], np.cumsum(lengths)))
            return
        if types == {np.ndarray}:
            shapes = set(map(np.shape, values))
            if len(shapes) == 1 and len(next(iter(shapes))) >= 1:
                stacked = np.stack(values)
                if stacked.dtype.kind in _CLEAN_NUMERIC or stacked.dtype.kind == "U":
                    self.kind, self.data = "tensor", stacked

    # ---------------------------------------------------------------------------------------

    def match(self, op: str, operand: Any) -> np.ndarray:
        """The boolean mask of the documents whose value matches ``op operand``."""
        if op == "$exists":
            return ~self.missing if operand else self.missing.copy()
        if op == "$neq":
            return ~self.match("$eq", operand)
        if op == "$nin":
            return ~self.match("$in", operand)
        if op == "$eq" and operand is None:
            return self.missing.copy()
        if op == "$in":
            wanted = tuple(o for o in operand if o is not None)
            out = self._present_match("$in", wanted) if wanted else np.zeros(self.n, bool)
            if len(wanted) != len(operand):
                out |= self.missing
            return out
        return self._present_match(op, operand)

    def _present_match(self, op: str, operand: Any) -> np.ndarray:
        if self.kind == "empty":
            return np.zeros(self.n, bool)
        result = self._match_rows(op, operand)
        if self.present is None:
            return result
        out = np.zeros(self.n, bool)
        out[self.present] = result
        return out

    def _match_rows(self, op: str, operand: Any) -> np.ndarray:
        """Matches over the present rows only."""
        kind = self.kind
        if kind == "scalar":
            return _array_or_python(self.data, op, operand)
        if kind == "object":
            rows = self.rows
            return np.fromiter((_py_match(v, op, operand) for v in rows), bool, len(rows))
        # list-valued rows: 'tensor' or 'lists'
        n_rows = len(self.data) if kind == "tensor" else len(self.offsets) - 1
        if op == "$size":
            if kind == "tensor":
                return np.full(n_rows, self.data.shape[1] == operand)
            return np.diff(self.offsets) == operand
        if op == "$in":
            sequences = [o for o in operand if isinstance(o, (tuple, list))]
            scalars = tuple(o for o in operand if not isinstance(o, (tuple, list)))
            out = self._any_element(op, scalars) if scalars else np.zeros(n_rows, bool)
            for seq in sequences:
                out |= self._match_rows("$eq", seq)
            return out
        if op == "$eq" and isinstance(operand, (tuple, list)):
            return self._whole_equal(operand, n_rows)
        return self._any_element(op, operand)

    def _any_element(self, op: str, operand: Any) -> np.ndarray:
        hits = _array_or_python(self.data.reshape(-1), op, operand)
        if self.kind == "tensor":
            return hits.reshape(len(self.data), _row_size(self.data)).any(axis=1)
        return _any_per_row(hits, self.offsets)

    def _whole_equal(self, operand: Any, n_rows: int) -> np.ndarray:
        if self.kind == "tensor":
            try:
                target = np.asarray(operand)
                if target.dtype.kind == "U" and _nested_nul(operand):
                    target = None  # numpy would drop trailing NULs: Python decides
            except (ValueError, TypeError):
                target = None
            if target is not None and target.shape == self.data.shape[1:]:
                target = _exact_target(self.data, target)
                if target is False:
                    return np.zeros(n_rows, bool)
                if target is not None:
                    hits = self.data == target
                    return hits.reshape(n_rows, _row_size(self.data)).all(axis=1)
            return np.fromiter((_whole_equal(row, operand) for row in self.data), bool, n_rows)
        target_len = len(operand)
        out = np.diff(self.offsets) == target_len
        candidates = np.flatnonzero(out)
        if target_len and len(candidates):
            # the candidate rows' elements against the operand in one comparison, where numpy
            # compares exactly as Python does
            target = _clean_scalar_array(list(operand))
            exact = None if target is None else _exact_target(self.data, target)
            if exact is False:
                return np.zeros(n_rows, bool)
            if exact is not None:
                at = self.offsets[candidates][:, None] + np.arange(target_len)
                out[candidates] = (self.data[at] == exact).all(axis=1)
                return out
        rows = self.rows
        out[candidates] = [_whole_equal(rows[i], operand) for i in candidates.tolist()]
        return out


# --------------------------------------------------------------------------------------------
# Evaluation
# --------------------------------------------------------------------------------------------


def evaluate(
    node: FilterNode | Mapping[str, Any],
    column: Callable[[tuple[str, ...]], Sequence[Any] | np.ndarray],
    n: int,
) -> np.ndarray:
    """Evaluate a parsed filter over ``n`` documents, one whole column at a time.

    Parameters
    ----------
    node:
        A tree from :func:`parse_filter` (a query dict is parsed first, for convenience).
    column:
        ``column(path)`` returns the values of the field at ``path`` for all ``n`` documents:
        a numpy array (numeric columns, or tensors stacked as ``(n, ...)``) or a sequence
        with ``None`` for missing values. Raising ``KeyError`` or ``AttributeError`` (or
        returning ``None``) means the field is missing everywhere. It is called at most once
        per path.
    n:
        The number of documents.

    Returns
    -------
    numpy.ndarray
        A boolean mask of shape ``(n,)``: True where the document matches.

    Example
    -------
    >>> cols = {('price',): np.array([1.0, 5.0, 9.0]), ('tags',): [['a'], None, ['b', 'a']]}
    >>> node = parse_filter({'$or': [{'price': {'$gt': 8}}, {'tags': 'a'}]})
    >>> evaluate(node, cols.__getitem__, 3).tolist()
    [True, False, True]
    """
    if isinstance(node, Mapping):
        node = parse_filter(node)
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    cache: dict[tuple[str, ...], _Column] = {}

    def get(path: tuple[str, ...]) -> _Column:
        col = cache.get(path)
        if col is None:
            try:
                raw = column(path)
            except (KeyError, AttributeError):
                raw = None
            col = cache[path] = _Column(raw, n, path)
        return col

    return _evaluate(node, get, n)


def _evaluate(node: FilterNode, get: Callable[[tuple[str, ...]], _Column], n: int) -> np.ndarray:
    if isinstance(node, Comparison):
        return get(node.path).match(node.op, node.value)
    if isinstance(node, Not):
        return ~_evaluate(node.child, get, n)
    if isinstance(node, And):
        mask = np.ones(n, bool)
        for child in node.children:
            mask &= _evaluate(child, get, n)
            if not mask.any():
                break
        return mask
    if isinstance(node, Or):
        mask = np.zeros(n, bool)
        for child in node.children:
            mask |= _evaluate(child, get, n)
            if mask.all():
                break
        return mask
    raise TypeError(f"not a filter node: {_describe(node)}")

"""The filter language's matching of values (:mod:`docstack._internal.query`): the
per-value semantics every backend agrees with, and the numpy paths that compute them for a
clean 1-D column at once. :mod:`docstack._internal.query_eval` evaluates whole filters with
them."""

from __future__ import annotations

import math
import operator
import re
import sys
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from docstack._internal.query import _ORDER_OPS

__all__: list[str] = []  # private helpers of query_eval

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

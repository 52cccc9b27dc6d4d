"""Evaluating a parsed filter (:mod:`docstack._internal.query`) over whole columns of ``n``
documents at once, with the matching of :mod:`docstack._internal.query_match` (per-document
Python only for columns of arbitrary objects)."""

from __future__ import annotations

import itertools
import operator
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from docstack._internal.query import (
    And,
    Comparison,
    FilterNode,
    Not,
    Or,
    _describe,
    _label,
    parse_filter,
)
from docstack._internal.query_match import (
    _NUMERIC_TYPES,
    _any_per_row,
    _array_or_python,
    _has_nul,
    _nested_nul,
    _py_match,
    _to_numpy,
    _whole_equal,
)

__all__ = ["evaluate"]


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

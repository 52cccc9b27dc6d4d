"""Value equality that compares tensors by value, used by documents and arrays."""

from __future__ import annotations

from typing import Any

import numpy as np

from docstack.typing.tensor._convert import framework_of, to_numpy

__all__ = ["values_equal"]


def values_equal(a: Any, b: Any) -> bool:
    """Whether two field values are equal: tensors by shape and value, the rest with ``==``.

    Tensors of different frameworks with the same values are equal; NaNs are never equal,
    as in numpy.
    """
    if a is b:
        return True
    fa, fb = framework_of(a), framework_of(b)
    if fa is not None or fb is not None:
        if fa is None or fb is None:
            return False
        x, y = to_numpy(a), to_numpy(b)
        return x.shape == y.shape and bool(np.array_equal(x, y))
    if _is_sequence(a) and _is_sequence(b):
        return len(a) == len(b) and all(values_equal(x, y) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(values_equal(a[k], b[k]) for k in a)
    try:
        result = a == b
    except Exception:  # noqa: BLE001 - objects whose == raises are simply not equal
        return False
    if isinstance(result, bool):
        return result
    try:
        return bool(np.all(result))
    except Exception:  # noqa: BLE001
        return False


def _is_sequence(value: Any) -> bool:
    return isinstance(value, (list, tuple)) or getattr(type(value), "__docstack_doc_array__", False)

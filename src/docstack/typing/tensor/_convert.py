"""Conversions between tensor frameworks without importing a framework that is not in use."""

from __future__ import annotations

import sys
from typing import Any

import numpy as np

__all__ = ["framework_of", "to_numpy", "to_torch", "to_jax", "is_tensor_like"]

_NUMERIC_KINDS = frozenset("biufc")


def framework_of(value: Any) -> str | None:
    """Name the framework of a tensor (``'numpy'``, ``'torch'``, ``'jax'``, ``'tensorflow'``).

    Returns ``None`` for values that are not tensors (lists, scalars, strings, ...).
    """
    if isinstance(value, np.ndarray):
        return "numpy"
    inner = getattr(value, "_docstack_jax_value", None)
    if inner is not None:
        return "jax"
    torch = sys.modules.get("torch")
    if torch is not None and isinstance(value, torch.Tensor):
        return "torch"
    jax = sys.modules.get("jax")
    if jax is not None and isinstance(value, jax.Array):
        return "jax"
    tf = sys.modules.get("tensorflow")
    if tf is not None and isinstance(value, tf.Tensor):
        return "tensorflow"
    return None


def is_tensor_like(value: Any) -> bool:
    """Whether ``value`` is a tensor of any supported framework."""
    return framework_of(value) is not None


def to_numpy(value: Any) -> np.ndarray:
    """Convert a tensor of any framework, or a (nested) list of numbers, to a numpy array.

    numpy input is returned as is (no copy); torch tensors share memory when on the CPU.
    Raises ``ValueError`` for values that are not numeric arrays.
    """
    fw = framework_of(value)
    if fw == "numpy":
        return value
    if fw == "torch":
        t = value.detach()
        if t.device.type != "cpu":
            t = t.cpu()
        if t.dtype.is_floating_point and t.dtype not in _TORCH_NUMPY_FLOATS():
            t = t.float()
        return t.resolve_conj().resolve_neg().numpy()
    if fw == "jax":
        inner = getattr(value, "_docstack_jax_value", None)
        return np.asarray(inner if inner is not None else value)
    if fw == "tensorflow":
        return value.numpy()
    if value is None or isinstance(value, (str, bytes, bytearray, dict, set)):
        raise ValueError(f"expected an array or a list of numbers, got {type(value).__name__}")
    try:
        arr = np.asarray(value)
    except (ValueError, TypeError) as exc:
        raise ValueError(
            f"could not convert {type(value).__name__} to an array of numbers: {exc}"
        ) from None
    if arr.dtype.kind not in _NUMERIC_KINDS:
        raise ValueError(
            f"expected an array of numbers, got {type(value).__name__} that converts to "
            f"dtype {arr.dtype} (ragged nesting or non-numeric items?)"
        )
    return arr


def _TORCH_NUMPY_FLOATS() -> tuple[Any, ...]:  # noqa: N802 - constant-like helper
    torch = sys.modules["torch"]
    return (torch.float16, torch.float32, torch.float64)


def to_torch(value: Any) -> Any:
    """Convert any tensor or list of numbers to a ``torch.Tensor`` (sharing memory if it can)."""
    from docstack._internal.optional import import_optional

    torch = import_optional("torch")
    if isinstance(value, torch.Tensor):
        return value
    arr = to_numpy(value)
    if not arr.flags.writeable or any(s < 0 for s in arr.strides):
        arr = np.array(arr, copy=True)
    try:
        return torch.from_numpy(arr)
    except TypeError:  # dtypes torch cannot share (e.g. uint32 on old torch)
        return torch.as_tensor(arr.astype(np.float64 if arr.dtype.kind == "f" else np.int64))


def to_jax(value: Any) -> Any:
    """Convert any tensor or list of numbers to a ``jax.Array``."""
    from docstack._internal.optional import import_optional

    jax = import_optional("jax")
    inner = getattr(value, "_docstack_jax_value", None)
    if inner is not None:
        return inner
    if isinstance(value, jax.Array):
        return value
    return jax.numpy.asarray(to_numpy(value))

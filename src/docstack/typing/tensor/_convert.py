"""Conversions between tensor frameworks without importing a framework that is not in use."""

from __future__ import annotations

import sys
from typing import Any

import numpy as np

__all__ = [
    "framework_of",
    "to_numpy",
    "to_numeric_numpy",
    "to_torch",
    "to_jax",
    "to_tensorflow",
    "to_framework",
    "is_tensor_like",
]

_NUMERIC_KINDS = frozenset("biufc")


def framework_of(value: Any) -> str | None:
    """Name the framework of a tensor (``'numpy'``, ``'torch'``, ``'jax'``, ``'tensorflow'``).

    Returns ``None`` for values that are not tensors (lists, scalars, strings, ...). A
    framework is never imported here: a value can only be its tensor if it is loaded already.
    ``tf.Variable`` counts as a TensorFlow tensor.

    Example
    -------
    >>> import numpy as np
    >>> framework_of(np.zeros(2)), framework_of([1.0, 2.0])
    ('numpy', None)
    """
    if isinstance(value, np.ndarray):
        return "numpy"
    if getattr(value, "_docstack_jax_value", None) is not None:
        return "jax"
    if getattr(value, "_docstack_tf_value", None) is not None:
        return "tensorflow"
    torch = sys.modules.get("torch")
    if torch is not None and isinstance(value, torch.Tensor):
        return "torch"
    jax = sys.modules.get("jax")
    if jax is not None and isinstance(value, jax.Array):
        return "jax"
    tf = sys.modules.get("tensorflow")
    if tf is not None and isinstance(value, (tf.Tensor, tf.Variable)):
        return "tensorflow"
    return None


def is_tensor_like(value: Any) -> bool:
    """Whether ``value`` is a tensor of any supported framework.

    Example
    -------
    >>> import numpy as np
    >>> is_tensor_like(np.zeros(2)), is_tensor_like('abc')
    (True, False)
    """
    return framework_of(value) is not None


def to_numpy(value: Any) -> np.ndarray:
    """Convert a tensor of any framework, or a (nested) list of numbers, to a numpy array.

    numpy input is returned as is (no copy, whatever its dtype); torch tensors share memory
    when on the CPU; TensorFlow tensors are copied. Raises ``ValueError`` for values that are
    not numeric arrays (see :func:`to_numeric_numpy` to reject numpy arrays of strings too).

    Example
    -------
    >>> to_numpy([[1, 2], [3, 4]]).shape
    (2, 2)
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
        inner = getattr(value, "_docstack_tf_value", None)
        return (inner if inner is not None else value).numpy()
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


def to_numeric_numpy(value: Any) -> np.ndarray:
    """Like :func:`to_numpy`, but also rejects numpy arrays that do not hold numbers.

    The converters to the other frameworks go through this, so that an array of strings or
    of Python objects is a ``ValueError`` (a validation error in a field) instead of being
    cast (``'1'`` to ``1``) or failing inside the framework with another exception.

    Example
    -------
    >>> import numpy as np
    >>> to_numeric_numpy(np.array([1, 2])).tolist()
    [1, 2]
    >>> to_numeric_numpy(np.array(['1', '2']))
    Traceback (most recent call last):
    ...
    ValueError: expected an array of numbers, got dtype <U1
    """
    arr = to_numpy(value)
    if arr.dtype.kind not in _NUMERIC_KINDS:
        raise ValueError(f"expected an array of numbers, got dtype {arr.dtype}")
    return arr


def _TORCH_NUMPY_FLOATS() -> tuple[Any, ...]:  # noqa: N802 - constant-like helper
    torch = sys.modules["torch"]
    return (torch.float16, torch.float32, torch.float64)


def to_torch(value: Any) -> Any:
    """Convert any tensor or list of numbers to a ``torch.Tensor`` (sharing memory if it can).

    Raises ``ValueError`` for values that are not arrays of numbers.

    Example
    -------
    >>> to_torch([1.0, 2.0]).tolist()
    [1.0, 2.0]
    """
    from docstack._internal.optional import import_optional

    torch = import_optional("torch")
    if isinstance(value, torch.Tensor):
        return value
    arr = to_numeric_numpy(value)
    if not arr.flags.writeable or any(s < 0 for s in arr.strides):
        arr = np.array(arr, copy=True)
    try:
        return torch.from_numpy(arr)
    except TypeError:  # dtypes torch cannot share (e.g. uint32 on old torch)
        return torch.as_tensor(arr.astype(np.float64 if arr.dtype.kind == "f" else np.int64))


def to_jax(value: Any) -> Any:
    """Convert any tensor or list of numbers to a ``jax.Array``.

    Raises ``ValueError`` for values that are not arrays of numbers.

    Example
    -------
    >>> to_jax([1.0, 2.0]).shape
    (2,)
    """
    from docstack._internal.optional import import_optional

    jax = import_optional("jax")
    inner = getattr(value, "_docstack_jax_value", None)
    if inner is not None:
        return inner
    if isinstance(value, jax.Array):
        return value
    return jax.numpy.asarray(to_numeric_numpy(value))


def to_tensorflow(value: Any) -> Any:
    """Convert any tensor or list of numbers to a TensorFlow ``tf.Tensor``.

    A ``tf.Tensor`` is returned as is; a ``tf.Variable`` gives a tensor of its current value;
    everything else is copied (TensorFlow tensors never share memory with numpy arrays).
    Raises ``ValueError`` for values that are not arrays of numbers.

    Example
    -------
    >>> to_tensorflow([[1, 2], [3, 4]]).shape
    TensorShape([2, 2])
    """
    from docstack._internal.optional import import_optional

    tf = import_optional("tensorflow")
    inner = getattr(value, "_docstack_tf_value", None)
    if inner is not None:
        return inner
    if isinstance(value, (tf.Tensor, tf.Variable)):
        dtype = value.dtype
        if not (dtype.is_bool or dtype.is_integer or dtype.is_floating or dtype.is_complex):
            raise ValueError(f"expected a tensor of numbers, got dtype {dtype.name}")
        return value if isinstance(value, tf.Tensor) else tf.convert_to_tensor(value)
    return tf.convert_to_tensor(to_numeric_numpy(value))


def to_framework(value: Any, framework: str | None) -> Any:
    """Convert ``value`` to a plain tensor of ``framework``: ``'numpy'`` (or ``None``),
    ``'torch'``, ``'jax'`` or ``'tensorflow'``, with the conversions above.

    Raises ``ValueError`` for any other framework name.

    Example
    -------
    >>> to_framework([1, 2], 'numpy')
    array([1, 2])
    """
    convert = _CONVERTERS.get("numpy" if framework is None else framework)
    if convert is None:
        raise ValueError(
            f"unknown tensor framework {framework!r}; expected numpy, torch, jax or tensorflow"
        )
    return convert(value)


_CONVERTERS = {"numpy": to_numpy, "torch": to_torch, "jax": to_jax, "tensorflow": to_tensorflow}

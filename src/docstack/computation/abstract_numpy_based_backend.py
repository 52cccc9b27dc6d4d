"""What the backends over a numpy-like namespace share: numpy, ``jax.numpy`` and
``tensorflow.experimental.numpy``.

A subclass names its namespace (``_xp``) and how to take the framework array out of the
values it is given (``_unwrap``: a ``JaxArray`` holds a ``jax.Array``, a
``TensorFlowTensor`` a ``tf.Tensor``) and how to hand results back (``_wrap``). Everything
written once against the namespace lives here: the array plumbing, ``minmax_normalize`` and
the pairwise metric kernels, which the subclasses' ``Metrics`` call.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from types import ModuleType
from typing import Any, Optional, Sequence, TypeVar

from docstack.computation.abstract_comp_backend import AbstractComputationalBackend

__all__ = ["AbstractNumpyBasedBackend"]

T = TypeVar("T")

# Pairwise distances are summed from explicit differences while n_x * n_y * dim stays below
# this many elements (exact: a vector is at distance 0 from itself); larger inputs use
# |x|^2 - 2 x.y + |y|^2, one matrix product, clipped at 0.
_DIRECT_LIMIT = 1 << 22


class AbstractNumpyBasedBackend(AbstractComputationalBackend[T], ABC):
    """A backend written once against a numpy-like namespace (``_xp``).

    Subclasses provide ``_xp`` and, when their values wrap the framework's array,
    ``_unwrap`` and ``_wrap``; the dtype hooks have numpy-style defaults.

    Example
    -------
    >>> import numpy as np
    >>> from docstack.computation.abstract_numpy_based_backend import (
    ...     AbstractNumpyBasedBackend,
    ... )
    >>> from docstack.computation.numpy_backend import NumpyCompBackend
    >>> issubclass(NumpyCompBackend, AbstractNumpyBasedBackend)
    True
    >>> NumpyCompBackend.reshape(np.arange(6), (2, 3)).shape
    (2, 3)
    """

    # minmax_normalize of an integer tensor: round back to its dtype (False: stay float)
    _minmax_keeps_integer_dtype: bool = True

    # ---- hooks ----------------------------------------------------------------------------

    @classmethod
    @abstractmethod
    def _xp(cls) -> ModuleType:
        """The numpy-like namespace of the framework (imported on first use)."""

    @classmethod
    def _unwrap(cls, value: Any) -> Any:
        """The framework array inside ``value``."""
        return value

    @classmethod
    def _wrap(cls, array: Any) -> Any:
        """The value handed back to the caller for a framework array."""
        return array

    @classmethod
    def _is_float(cls, array: Any) -> bool:
        return array.dtype.kind == "f"

    @classmethod
    def _as_float(cls, array: Any) -> Any:
        """``array`` itself when floating, else converted to the framework's default float."""
        return array if cls._is_float(array) else array.astype(float)

    @classmethod
    def _astype(cls, array: Any, dtype: Any) -> Any:
        return array.astype(dtype)

    @classmethod
    def _round(cls, array: Any) -> Any:
        return cls._xp().round(array)

    @classmethod
    def _common_float(cls, x: Any, y: Any) -> tuple[Any, Any]:
        """Both floating arrays in one dtype (numpy-like namespaces promote on their own)."""
        return x, y

    @classmethod
    def _place(cls, array: Any, device: Optional[Any]) -> Any:
        """``array`` on ``device`` (``None``: where it is)."""
        return array

    # ---- plumbing -------------------------------------------------------------------------

    @classmethod
    def stack(cls, tensors: Sequence[T], dim: int = 0) -> T:
        """Stack tensors of equal shape along a new axis ``dim``."""
        xp = cls._xp()
        return cls._wrap(xp.stack([cls._unwrap(t) for t in tensors], axis=dim))

    @classmethod
    def copy(cls, tensor: T) -> T:
        """A copy of ``tensor`` that shares no memory with it."""
        return cls._wrap(cls._xp().array(cls._unwrap(tensor), copy=True))

    @classmethod
    def n_dim(cls, array: T) -> int:
        """The number of dimensions of ``array``."""
        return len(cls._unwrap(array).shape)

    @classmethod
    def squeeze(cls, tensor: T) -> T:
        """``tensor`` without its axes of length 1."""
        return cls._wrap(cls._xp().squeeze(cls._unwrap(tensor)))

    @classmethod
    def shape(cls, tensor: T) -> tuple[int, ...]:
        """The shape of ``tensor`` as a tuple of ints."""
        return tuple(int(d) for d in cls._unwrap(tensor).shape)

    @classmethod
    def reshape(cls, tensor: T, shape: tuple[int, ...]) -> T:
        """The same values in a new shape (with as many elements)."""
        return cls._wrap(cls._xp().reshape(cls._unwrap(tensor), shape))

    @classmethod
    def isnan(cls, tensor: T) -> T:
        """A boolean tensor, true where ``tensor`` is NaN."""
        return cls._wrap(cls._xp().isnan(cls._unwrap(tensor)))

    @classmethod
    def empty(
        cls,
        shape: tuple[int, ...],
        dtype: Optional[Any] = None,
        device: Optional[Any] = None,
    ) -> T:
        """A new tensor of ``shape`` and ``dtype`` (the framework's default float if
        ``None``), on ``device``; its values are unspecified."""
        array = cls._xp().empty(shape, dtype=dtype)
        return cls._wrap(cls._place(array, device))

    @classmethod
    def minmax_normalize(
        cls,
        tensor: T,
        t_range: tuple = (0, 1),
        x_range: Optional[tuple] = None,
        eps: float = 1e-7,
    ) -> T:
        """Map values linearly from ``x_range`` onto ``t_range``, clipped to ``t_range``.

        Without ``x_range`` each row (the last axis) is mapped from its own minimum and
        maximum; ``t_range=(1, 0)`` reverses the order. ``eps`` is added to the width of
        the source range so that a constant row does not divide by zero. Integer tensors
        are computed in floating point and rounded back to their dtype, except by the numpy
        backend, which returns floats.
        """
        xp = cls._xp()
        original = cls._unwrap(tensor)
        t = cls._as_float(original)
        low_t, high_t = t_range
        if x_range is None:
            low = xp.min(t, axis=-1, keepdims=True)
            high = xp.max(t, axis=-1, keepdims=True)
        else:
            low, high = x_range
        out = (high_t - low_t) * (t - low) / (high - low + eps) + low_t
        out = xp.clip(out, min(low_t, high_t), max(low_t, high_t))
        if cls._minmax_keeps_integer_dtype and not cls._is_float(original):
            out = cls._astype(cls._round(out), original.dtype)
        return cls._wrap(out)


# ---- pairwise metric kernels ---------------------------------------------------------------


def _matrices(backend: type[AbstractNumpyBasedBackend], x: Any, y: Any) -> tuple[Any, Any]:
    """Both inputs as floating matrices ``(n, dim)`` of one dtype, checked."""
    xp = backend._xp()
    x, y = backend._as_float(backend._unwrap(x)), backend._as_float(backend._unwrap(y))
    x, y = backend._common_float(x, y)
    out = []
    for name, m in (("x_mat", x), ("y_mat", y)):
        if len(m.shape) == 1:
            m = xp.expand_dims(m, 0)
        elif len(m.shape) != 2:
            raise ValueError(
                f"{name} must be a vector (dim,) or a matrix (n, dim), got shape "
                f"{tuple(int(d) for d in m.shape)}"
            )
        out.append(m)
    if int(out[0].shape[1]) != int(out[1].shape[1]):
        raise ValueError(
            f"x_mat and y_mat must have the same vector dimension, got "
            f"{int(out[0].shape[1])} and {int(out[1].shape[1])}"
        )
    return out[0], out[1]


def _drop_unit_axes(xp: ModuleType, result: Any) -> Any:
    """Squeeze the ``(n_x, n_y)`` result; a single score keeps shape ``(1,)``."""
    result = xp.squeeze(result)
    return xp.reshape(result, (1,)) if len(result.shape) == 0 else result


def _sq_dists(xp: ModuleType, x: Any, y: Any) -> Any:
    n, dim = int(x.shape[0]), int(x.shape[1])
    if n * int(y.shape[0]) * dim <= _DIRECT_LIMIT:
        diff = xp.expand_dims(x, 1) - xp.expand_dims(y, 0)
        return xp.sum(diff * diff, axis=-1)
    x_sq = xp.expand_dims(xp.sum(x * x, axis=1), 1)
    y_sq = xp.expand_dims(xp.sum(y * y, axis=1), 0)
    return xp.maximum(x_sq + y_sq - 2 * xp.matmul(x, xp.transpose(y)), 0)


def cosine_sim(backend: type[AbstractNumpyBasedBackend], x: Any, y: Any, eps: float) -> Any:
    """Pairwise cosine similarities (see ``AbstractComputationalBackend.Metrics``)."""
    xp = backend._xp()
    x, y = _matrices(backend, x, y)
    x_norm = xp.maximum(xp.sqrt(xp.sum(x * x, axis=1)), eps)
    y_norm = xp.maximum(xp.sqrt(xp.sum(y * y, axis=1)), eps)
    sims = xp.matmul(x, xp.transpose(y)) / (xp.expand_dims(x_norm, 1) * xp.expand_dims(y_norm, 0))
    return backend._wrap(_drop_unit_axes(xp, xp.clip(sims, -1, 1)))


def sqeuclidean_dist(backend: type[AbstractNumpyBasedBackend], x: Any, y: Any) -> Any:
    """Pairwise squared euclidean distances."""
    xp = backend._xp()
    x, y = _matrices(backend, x, y)
    return backend._wrap(_drop_unit_axes(xp, _sq_dists(xp, x, y)))


def euclidean_dist(backend: type[AbstractNumpyBasedBackend], x: Any, y: Any) -> Any:
    """Pairwise euclidean distances."""
    xp = backend._xp()
    x, y = _matrices(backend, x, y)
    return backend._wrap(_drop_unit_axes(xp, xp.sqrt(_sq_dists(xp, x, y))))


def as_rows(xp: ModuleType, values: Any) -> Any:
    """``values`` as ``(n_queries, n_values)``: a vector is one query."""
    if len(values.shape) == 1:
        return xp.expand_dims(values, 0)
    if len(values.shape) != 2:
        raise ValueError(
            "values must have shape (n_values,) or (n_queries, n_values), got "
            f"{tuple(int(d) for d in values.shape)}"
        )
    return values


def check_k(k: Any) -> int:
    """``k`` as an int, refusing negatives and non-integers."""
    if isinstance(k, bool) or not hasattr(k, "__index__"):
        raise TypeError(f"k must be an int, got {type(k).__name__}")
    if int(k) < 0:
        raise ValueError(f"k must be >= 0, got {k}")
    return int(k)

"""The computational backend for TensorFlow (``TensorFlowTensor``, which wraps a ``tf.Tensor``).

Methods accept ``TensorFlowTensor`` values (plain ``tf.Tensor``, numpy arrays and lists too)
and return ``TensorFlowTensor``; the ``tf.Tensor`` is ``result.tensor``. The module attributes
``tf`` and ``tnp`` (``tensorflow.experimental.numpy``) are there as in DocArray. TensorFlow is
imported on first use, not with this module; without it, the first call raises
:class:`~docstack.errors.MissingDependencyError` naming the ``tensorflow`` extra.
"""

from __future__ import annotations

import contextlib
from types import ModuleType
from typing import TYPE_CHECKING, Any, Optional

import numpy as np

from docstack._internal.optional import import_optional
from docstack.computation import abstract_numpy_based_backend as _kernels
from docstack.computation.abstract_comp_backend import AbstractComputationalBackend
from docstack.computation.abstract_numpy_based_backend import AbstractNumpyBasedBackend
from docstack.typing.tensor._convert import to_tensorflow

if TYPE_CHECKING:  # pragma: no cover
    from docstack.typing.tensor.tensorflow_tensor import TensorFlowTensor

__all__ = ["TensorFlowCompBackend"]


def _tf() -> ModuleType:
    return import_optional("tensorflow")


def _tnp() -> ModuleType:
    return _tf().experimental.numpy


def __getattr__(name: str) -> Any:
    # DocArray's module exposes ``tf`` and ``tnp``; keep both, imported on first access
    if name == "tf":
        return _tf()
    if name == "tnp":
        return _tnp()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _on(device: Optional[str]) -> Any:
    """A context placing new tensors on ``device`` (nothing when ``None``)."""
    return contextlib.nullcontext() if device is None else _tf().device(device)


class TensorFlowCompBackend(AbstractNumpyBasedBackend["TensorFlowTensor"]):
    """Computational backend for TensorFlow.

    ``device`` returns TensorFlow's full device name (ending in e.g. ``'CPU:0'``);
    ``to_device`` and the ``device`` arguments take any name ``tf.device`` accepts.
    Integer inputs of ``Metrics`` and ``minmax_normalize`` are computed in float32.

    Example
    -------
    >>> import tensorflow as tf
    >>> from docstack.computation.tensorflow_backend import TensorFlowCompBackend
    >>> from docstack.typing import TensorFlowTensor
    >>> t = TensorFlowTensor(tf.zeros((1, 3, 1)))
    >>> squeezed = TensorFlowCompBackend.squeeze(t)
    >>> type(squeezed).__name__, TensorFlowCompBackend.shape(squeezed)
    ('TensorFlowTensor', (3,))
    >>> TensorFlowCompBackend.dtype(squeezed)
    'float32'
    """

    @classmethod
    def _xp(cls) -> ModuleType:
        return _tnp()

    @classmethod
    def _unwrap(cls, value: Any) -> Any:
        return to_tensorflow(value)

    @classmethod
    def _wrap(cls, array: Any) -> Any:
        from docstack.typing.tensor.tensorflow_tensor import TensorFlowTensor

        return TensorFlowTensor(array)

    @classmethod
    def _is_float(cls, array: Any) -> bool:
        return bool(array.dtype.is_floating)

    @classmethod
    def _as_float(cls, array: Any) -> Any:
        return array if array.dtype.is_floating else _tf().cast(array, _tf().float32)

    @classmethod
    def _astype(cls, array: Any, dtype: Any) -> Any:
        return _tf().cast(array, dtype)

    @classmethod
    def _round(cls, array: Any) -> Any:
        return _tf().math.round(array)  # half to even, as numpy

    @classmethod
    def _common_float(cls, x: Any, y: Any) -> tuple[Any, Any]:
        if x.dtype == y.dtype:  # TensorFlow does not promote: cast to the wider float
            return x, y
        wider = x.dtype if x.dtype.size >= y.dtype.size else y.dtype
        return _tf().cast(x, wider), _tf().cast(y, wider)

    @classmethod
    def _place(cls, array: Any, device: Optional[Any]) -> Any:
        if device is None:
            return array
        with _tf().device(device):
            return _tf().identity(array)

    @classmethod
    def empty(
        cls,
        shape: tuple[int, ...],
        dtype: Optional[Any] = None,
        device: Optional[Any] = None,
    ) -> TensorFlowTensor:
        """A new tensor of ``shape`` (TensorFlow has no uninitialised memory: zeros), of
        ``dtype`` (float32 if ``None``), on ``device``."""
        tf = _tf()
        with _on(device):
            return cls._wrap(tf.zeros(shape, dtype=tf.float32 if dtype is None else dtype))

    @classmethod
    def to_device(cls, tensor: TensorFlowTensor, device: str) -> TensorFlowTensor:
        """``tensor`` on ``device`` (``'CPU:0'``, ``'GPU:0'``, ...)."""
        return cls._wrap(cls._place(cls._unwrap(tensor), device))

    @classmethod
    def device(cls, tensor: TensorFlowTensor) -> Optional[str]:
        """TensorFlow's name of the device holding ``tensor``."""
        return cls._unwrap(tensor).device

    @classmethod
    def to_numpy(cls, array: TensorFlowTensor) -> np.ndarray:
        """The values as a numpy array."""
        return cls._unwrap(array).numpy()

    @classmethod
    def none_value(cls) -> Any:
        """A 0-d NaN ``tf.Tensor``, TensorFlow's stand-in for a missing value."""
        return _tf().constant(float("nan"))

    @classmethod
    def detach(cls, tensor: TensorFlowTensor) -> TensorFlowTensor:
        """The same values with gradients stopped (``tf.stop_gradient``)."""
        return cls._wrap(_tf().stop_gradient(cls._unwrap(tensor)))

    @classmethod
    def dtype(cls, tensor: TensorFlowTensor) -> str:
        """The dtype's name, e.g. ``'float32'`` (``tf.double`` is ``'float64'``)."""
        return cls._unwrap(tensor).dtype.name

    @classmethod
    def equal(cls, tensor1: TensorFlowTensor, tensor2: TensorFlowTensor) -> bool:
        """Whether both are TensorFlow tensors of the same shape and values (NaN != NaN)."""
        tf = _tf()
        t1 = getattr(tensor1, "_docstack_tf_value", tensor1)
        t2 = getattr(tensor2, "_docstack_tf_value", tensor2)
        if not (tf.is_tensor(t1) and tf.is_tensor(t2)):
            return False
        return bool(np.array_equal(t1.numpy(), t2.numpy()))

    class Retrieval(AbstractComputationalBackend.Retrieval["TensorFlowTensor"]):
        """Top-k selection over TensorFlow tensors.

        Example
        -------
        >>> import tensorflow as tf
        >>> from docstack.computation.tensorflow_backend import TensorFlowCompBackend
        >>> from docstack.typing import TensorFlowTensor
        >>> values, indices = TensorFlowCompBackend.Retrieval.top_k(
        ...     TensorFlowTensor(tf.constant([4, 1, 3])), k=2, descending=True
        ... )
        >>> values.tensor.numpy().tolist(), indices.tensor.numpy().tolist()
        ([[4, 3]], [[0, 2]])
        """

        @staticmethod
        def top_k(
            values: TensorFlowTensor,
            k: int,
            descending: bool = False,
            device: Optional[str] = None,
        ) -> tuple[TensorFlowTensor, TensorFlowTensor]:
            """The ``k`` smallest values of each row (largest with ``descending=True``).

            Returns ``(values, indices)`` as ``TensorFlowTensor``, each
            ``(n_queries, min(k, n_values))``, best first; ties keep the lower index first
            and NaN ranks last. Indices are int32.
            """
            be = TensorFlowCompBackend
            tf = _tf()
            k = _kernels.check_k(k)
            rows = be._place(be._unwrap(values), device)
            with _on(device):
                rows = _kernels.as_rows(_tnp(), rows)
                k = min(k, int(rows.shape[1]))
                if k == 0:
                    return be._wrap(rows[:, :0]), be._wrap(tf.zeros((rows.shape[0], 0), tf.int32))
                key = rows
                if key.dtype == tf.bool or (key.dtype.is_integer and key.dtype != tf.int64):
                    # negating must neither wrap (unsigned) nor overflow (the minimum)
                    key = tf.cast(key, tf.float64 if key.dtype == tf.uint64 else tf.int64)
                if not descending:
                    key = -key
                if key.dtype.is_floating:
                    key = tf.where(tf.math.is_nan(key), tf.constant(-np.inf, key.dtype), key)
                indices = tf.math.top_k(key, k=k, sorted=True).indices
                return be._wrap(tf.gather(rows, indices, batch_dims=1)), be._wrap(indices)

    class Metrics(AbstractComputationalBackend.Metrics["TensorFlowTensor"]):
        """Pairwise cosine similarity and (squared) euclidean distance for TensorFlow.

        Example
        -------
        >>> import tensorflow as tf
        >>> from docstack.computation.tensorflow_backend import TensorFlowCompBackend
        >>> from docstack.typing import TensorFlowTensor
        >>> x = TensorFlowTensor(tf.constant([[0.0, 0.0], [3.0, 4.0]]))
        >>> TensorFlowCompBackend.Metrics.euclidean_dist(x, x).tensor.numpy().tolist()
        [[0.0, 5.0], [5.0, 0.0]]
        """

        @staticmethod
        def cosine_sim(
            x_mat: TensorFlowTensor,
            y_mat: TensorFlowTensor,
            eps: float = 1e-7,
            device: Optional[str] = None,
        ) -> TensorFlowTensor:
            """Cosine similarity of every row of ``x_mat`` with every row of ``y_mat``.

            Norms below ``eps`` count as ``eps`` (a zero vector scores 0); results are
            clipped to ``[-1, 1]``, and axes of length 1 dropped (a single score: ``(1,)``).
            """
            with _on(device):
                return _kernels.cosine_sim(TensorFlowCompBackend, x_mat, y_mat, eps)

        @staticmethod
        def euclidean_dist(
            x_mat: TensorFlowTensor,
            y_mat: TensorFlowTensor,
            device: Optional[str] = None,
        ) -> TensorFlowTensor:
            """Euclidean distance of every row of ``x_mat`` to every row of ``y_mat``."""
            with _on(device):
                return _kernels.euclidean_dist(TensorFlowCompBackend, x_mat, y_mat)

        @staticmethod
        def sqeuclidean_dist(
            x_mat: TensorFlowTensor,
            y_mat: TensorFlowTensor,
            device: Optional[str] = None,
        ) -> TensorFlowTensor:
            """Squared euclidean distance of every row of ``x_mat`` to every row of ``y_mat``."""
            with _on(device):
                return _kernels.sqeuclidean_dist(TensorFlowCompBackend, x_mat, y_mat)

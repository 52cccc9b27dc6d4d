"""The computational backend for numpy arrays (``np.ndarray`` and ``NdArray``)."""

from __future__ import annotations

import warnings
from types import ModuleType
from typing import Any, Optional

import numpy as np

from docstack._internal.metrics import _np_top_k
from docstack.computation import abstract_numpy_based_backend as _kernels
from docstack.computation.abstract_comp_backend import AbstractComputationalBackend
from docstack.computation.abstract_numpy_based_backend import AbstractNumpyBasedBackend

__all__ = ["NumpyCompBackend"]


def _warn_device(device: Optional[str]) -> None:
    if device is not None:
        warnings.warn(
            f"numpy computes on the CPU only; device={device!r} is ignored",
            UserWarning,
            stacklevel=3,
        )


class NumpyCompBackend(AbstractNumpyBasedBackend[np.ndarray]):
    """Computational backend for numpy.

    numpy has no devices: ``to_device`` and ``empty(device=...)`` raise
    ``NotImplementedError``, ``device`` is ``None``, and a ``device`` given to ``Metrics`` or
    ``Retrieval`` is ignored with a warning.

    Example
    -------
    >>> import numpy as np
    >>> from docstack.computation.numpy_backend import NumpyCompBackend
    >>> NumpyCompBackend.minmax_normalize(np.array([0.0, 5.0, 10.0])).round(6).tolist()
    [0.0, 0.5, 1.0]
    >>> NumpyCompBackend.Metrics.cosine_sim(np.array([1.0, 0.0]), np.array([[1.0, 0.0], [0.0, 1.0]]))
    array([1., 0.])
    """

    _minmax_keeps_integer_dtype = False

    @classmethod
    def _xp(cls) -> ModuleType:
        return np

    @classmethod
    def _unwrap(cls, value: Any) -> Any:
        return value if isinstance(value, np.ndarray) else np.asarray(value)

    @classmethod
    def _place(cls, array: Any, device: Optional[Any]) -> Any:
        if device is not None:
            raise NotImplementedError("numpy arrays live on the CPU: there is no device to use")
        return array

    @classmethod
    def to_device(cls, tensor: np.ndarray, device: str) -> np.ndarray:
        """Always raises ``NotImplementedError``: numpy arrays live on the CPU."""
        raise NotImplementedError("numpy arrays live on the CPU: they cannot move to a device")

    @classmethod
    def device(cls, tensor: np.ndarray) -> Optional[str]:
        """``None``: numpy has no devices."""
        return None

    @classmethod
    def to_numpy(cls, array: np.ndarray) -> np.ndarray:
        """``array`` itself (it is one already)."""
        return array

    @classmethod
    def none_value(cls) -> Any:
        """``None``, numpy's stand-in for a missing array."""
        return None

    @classmethod
    def detach(cls, tensor: np.ndarray) -> np.ndarray:
        """``tensor`` itself: numpy has no autograd graph."""
        return tensor

    @classmethod
    def dtype(cls, tensor: np.ndarray) -> np.dtype:
        """The ``np.dtype`` of ``tensor``."""
        return tensor.dtype

    @classmethod
    def equal(cls, tensor1: np.ndarray, tensor2: np.ndarray) -> bool:
        """Whether both are numpy arrays of the same shape and values (NaN != NaN)."""
        if not (isinstance(tensor1, np.ndarray) and isinstance(tensor2, np.ndarray)):
            return False
        return bool(np.array_equal(tensor1, tensor2))

    class Retrieval(AbstractComputationalBackend.Retrieval[np.ndarray]):
        """Top-k selection over numpy arrays.

        Example
        -------
        >>> import numpy as np
        >>> from docstack.computation.numpy_backend import NumpyCompBackend
        >>> values, indices = NumpyCompBackend.Retrieval.top_k(
        ...     np.array([[5, 1, 4], [0, 9, 3]]), k=2, descending=True
        ... )
        >>> values.tolist(), indices.tolist()
        ([[5, 4], [9, 3]], [[0, 2], [1, 2]])
        """

        @staticmethod
        def top_k(
            values: np.ndarray,
            k: int,
            descending: bool = False,
            device: Optional[str] = None,
        ) -> tuple[np.ndarray, np.ndarray]:
            """The ``k`` smallest values of each row (largest with ``descending=True``).

            Returns ``(values, indices)``, each ``(n_queries, min(k, n_values))``, best
            first; ties keep the lower index first and NaN ranks last. ``device`` is
            ignored with a warning.
            """
            _warn_device(device)
            k = _kernels.check_k(k)
            rows = _kernels.as_rows(np, np.asarray(values))
            key = rows
            if key.dtype.kind in "ub":  # negating for a descending sort must not wrap
                key = key.astype(np.float64 if key.dtype.itemsize >= 8 else np.int64)
            k = min(k, rows.shape[1])
            if k == 0:
                return rows[:, :0], np.zeros((rows.shape[0], 0), dtype=np.int64)
            indices, _ = _np_top_k(key, k, bool(descending))
            return np.take_along_axis(rows, indices, axis=1), indices

    class Metrics(AbstractComputationalBackend.Metrics[np.ndarray]):
        """Pairwise cosine similarity and (squared) euclidean distance for numpy arrays.

        Example
        -------
        >>> import numpy as np
        >>> from docstack.computation.numpy_backend import NumpyCompBackend
        >>> x = np.array([[0.0, 0.0], [1.0, 1.0]])
        >>> NumpyCompBackend.Metrics.sqeuclidean_dist(x, np.array([[1.0, 0.0]]))
        array([1., 1.])
        """

        @staticmethod
        def cosine_sim(
            x_mat: np.ndarray,
            y_mat: np.ndarray,
            eps: float = 1e-7,
            device: Optional[str] = None,
        ) -> np.ndarray:
            """Cosine similarity of every row of ``x_mat`` with every row of ``y_mat``.

            Norms below ``eps`` count as ``eps`` (a zero vector scores 0); results are
            clipped to ``[-1, 1]``, and axes of length 1 dropped (a single score: ``(1,)``).
            """
            _warn_device(device)
            return _kernels.cosine_sim(NumpyCompBackend, x_mat, y_mat, eps)

        @staticmethod
        def euclidean_dist(
            x_mat: np.ndarray, y_mat: np.ndarray, device: Optional[str] = None
        ) -> np.ndarray:
            """Euclidean distance of every row of ``x_mat`` to every row of ``y_mat``."""
            _warn_device(device)
            return _kernels.euclidean_dist(NumpyCompBackend, x_mat, y_mat)

        @staticmethod
        def sqeuclidean_dist(
            x_mat: np.ndarray, y_mat: np.ndarray, device: Optional[str] = None
        ) -> np.ndarray:
            """Squared euclidean distance of every row of ``x_mat`` to every row of ``y_mat``."""
            _warn_device(device)
            return _kernels.sqeuclidean_dist(NumpyCompBackend, x_mat, y_mat)

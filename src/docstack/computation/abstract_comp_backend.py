"""The interface every computational backend implements.

A backend is a class of class methods over one framework's tensors (numpy, torch, jax,
TensorFlow): array plumbing (stack, copy, shapes, devices, dtypes), plus two nested
classes, ``Retrieval`` (``top_k``) and ``Metrics`` (pairwise ``cosine_sim``,
``euclidean_dist`` and ``sqeuclidean_dist``). Code that must work for any tensor type asks
for the backend of its tensors and calls these methods instead of the framework's.

Conventions shared by every backend:

- ``Metrics`` take a vector ``(dim,)`` or a matrix ``(n, dim)`` on each side and compute the
  ``(n_x, n_y)`` matrix of pairwise scores; axes of length 1 are then dropped, and a single
  score is returned with shape ``(1,)`` (never a 0-d scalar).
- ``Retrieval.top_k`` ranks along the last axis of ``(n_queries, n_values)`` (a 1-D input is
  one query) and returns ``(values, indices)``, both ``(n_queries, min(k, n_values))``, best
  first; equal values keep their original order (lower index first) and NaN ranks last.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, Any, Generic, Optional, Sequence, TypeVar

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np

__all__ = ["AbstractComputationalBackend"]

TTensor = TypeVar("TTensor")
TTensorRetrieval = TypeVar("TTensorRetrieval")
TTensorMetrics = TypeVar("TTensorMetrics")


class AbstractComputationalBackend(ABC, Generic[TTensor]):
    """The operations docstack needs from a tensor framework, as class methods.

    Subclass it once per framework; every method is abstract here. The concrete backends are
    ``NumpyCompBackend``, ``TorchCompBackend``, ``JaxCompBackend`` and
    ``TensorFlowCompBackend`` (each in its own module of :mod:`docstack.computation`).

    Example
    -------
    >>> import numpy as np
    >>> from docstack.computation import AbstractComputationalBackend
    >>> from docstack.computation.numpy_backend import NumpyCompBackend
    >>> issubclass(NumpyCompBackend, AbstractComputationalBackend)
    True
    >>> NumpyCompBackend.shape(NumpyCompBackend.stack([np.zeros(3), np.ones(3)]))
    (2, 3)
    """

    @classmethod
    @abstractmethod
    def stack(cls, tensors: Sequence[TTensor], dim: int = 0) -> TTensor:
        """Stack tensors of equal shape along a new axis ``dim``."""

    @classmethod
    @abstractmethod
    def copy(cls, tensor: TTensor) -> TTensor:
        """A copy of ``tensor`` that shares no memory with it."""

    @classmethod
    @abstractmethod
    def n_dim(cls, array: TTensor) -> int:
        """The number of dimensions of ``array``."""

    @classmethod
    @abstractmethod
    def squeeze(cls, tensor: TTensor) -> TTensor:
        """``tensor`` without its axes of length 1."""

    @classmethod
    @abstractmethod
    def to_numpy(cls, array: TTensor) -> np.ndarray:
        """The values of ``array`` as a numpy array (on the CPU, outside any graph)."""

    @classmethod
    @abstractmethod
    def empty(
        cls,
        shape: tuple[int, ...],
        dtype: Optional[Any] = None,
        device: Optional[Any] = None,
    ) -> TTensor:
        """A new tensor of ``shape`` whose values are unspecified (or zeros)."""

    @classmethod
    @abstractmethod
    def none_value(cls) -> Any:
        """The value that stands for a missing tensor in this framework."""

    @classmethod
    @abstractmethod
    def to_device(cls, tensor: TTensor, device: str) -> TTensor:
        """``tensor`` on ``device`` (returned as is when it is there already)."""

    @classmethod
    @abstractmethod
    def device(cls, tensor: TTensor) -> Optional[str]:
        """The device ``tensor`` lives on, or ``None`` for frameworks without devices."""

    @classmethod
    @abstractmethod
    def shape(cls, tensor: TTensor) -> tuple[int, ...]:
        """The shape of ``tensor`` as a tuple of ints."""

    @classmethod
    @abstractmethod
    def reshape(cls, tensor: TTensor, shape: tuple[int, ...]) -> TTensor:
        """The same values in a new shape (with as many elements)."""

    @classmethod
    @abstractmethod
    def detach(cls, tensor: TTensor) -> TTensor:
        """The same values, cut from any autograd graph."""

    @classmethod
    @abstractmethod
    def dtype(cls, tensor: TTensor) -> Any:
        """The data type of ``tensor``, in the framework's terms."""

    @classmethod
    @abstractmethod
    def isnan(cls, tensor: TTensor) -> TTensor:
        """A boolean tensor, true where ``tensor`` is NaN."""

    @classmethod
    @abstractmethod
    def minmax_normalize(
        cls,
        tensor: TTensor,
        t_range: tuple = (0, 1),
        x_range: Optional[tuple] = None,
        eps: float = 1e-7,
    ) -> TTensor:
        """Map values linearly from ``x_range`` onto ``t_range``, clipped to ``t_range``.

        Without ``x_range`` each row (the last axis) is mapped from its own minimum and
        maximum; ``t_range=(1, 0)`` reverses the order. ``eps`` is added to the width of
        ``x_range`` so that a constant row does not divide by zero.
        """

    @classmethod
    @abstractmethod
    def equal(cls, tensor1: TTensor, tensor2: TTensor) -> bool:
        """Whether both are tensors of this framework with the same shape and values."""

    class Retrieval(ABC, Generic[TTensorRetrieval]):
        """Ranking: the ``k`` smallest (or largest) values per row and where they are.

        Example
        -------
        >>> import numpy as np
        >>> from docstack.computation.numpy_backend import NumpyCompBackend
        >>> values, indices = NumpyCompBackend.Retrieval.top_k(np.array([3, 1, 2]), k=2)
        >>> values.tolist(), indices.tolist()
        ([[1, 2]], [[1, 2]])
        """

        @staticmethod
        @abstractmethod
        def top_k(
            values: TTensorRetrieval,
            k: int,
            descending: bool = False,
            device: Optional[str] = None,
        ) -> tuple[TTensorRetrieval, TTensorRetrieval]:
            """The ``k`` smallest values of each row (largest with ``descending=True``).

            Parameters
            ----------
            values:
                Shape ``(n_queries, n_values)``, or ``(n_values,)`` for a single query.
            k:
                How many values per row; more than ``n_values`` returns them all.
            descending:
                Rank the largest values first instead of the smallest.
            device:
                Where to compute (frameworks with devices only).

            Returns
            -------
            tuple
                ``(values, indices)``, each of shape ``(n_queries, min(k, n_values))``.
            """

    class Metrics(ABC, Generic[TTensorMetrics]):
        """Pairwise similarities and distances between two sets of vectors.

        Example
        -------
        >>> import numpy as np
        >>> from docstack.computation.numpy_backend import NumpyCompBackend
        >>> NumpyCompBackend.Metrics.euclidean_dist(np.zeros(2), np.array([3.0, 4.0]))
        array([5.])
        """

        @staticmethod
        @abstractmethod
        def cosine_sim(
            x_mat: TTensorMetrics,
            y_mat: TTensorMetrics,
            eps: float = 1e-7,
            device: Optional[str] = None,
        ) -> TTensorMetrics:
            """Cosine similarity of every row of ``x_mat`` with every row of ``y_mat``.

            Norms below ``eps`` count as ``eps``, so a zero vector has similarity 0 with
            everything. Results are clipped to ``[-1, 1]``.
            """

        @staticmethod
        @abstractmethod
        def euclidean_dist(
            x_mat: TTensorMetrics,
            y_mat: TTensorMetrics,
            device: Optional[str] = None,
        ) -> TTensorMetrics:
            """Euclidean distance of every row of ``x_mat`` to every row of ``y_mat``."""

        @staticmethod
        @abstractmethod
        def sqeuclidean_dist(
            x_mat: TTensorMetrics,
            y_mat: TTensorMetrics,
            device: Optional[str] = None,
        ) -> TTensorMetrics:
            """Squared euclidean distance of every row of ``x_mat`` to every row of ``y_mat``."""

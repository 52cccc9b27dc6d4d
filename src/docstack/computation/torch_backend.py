"""The computational backend for torch tensors (``torch.Tensor`` and ``TorchTensor``).

torch is imported on first use, not with this module; without it, the first call raises
:class:`~docstack.errors.MissingDependencyError` naming the ``torch`` extra.
"""

from __future__ import annotations

from types import ModuleType
from typing import TYPE_CHECKING, Any, Optional, Sequence

import numpy as np

from docstack._internal.metrics import _torch_top_k
from docstack._internal.optional import import_optional
from docstack.computation.abstract_comp_backend import AbstractComputationalBackend
from docstack.computation.abstract_numpy_based_backend import _DIRECT_LIMIT, check_k

if TYPE_CHECKING:  # pragma: no cover
    import torch

__all__ = ["TorchCompBackend"]


def _torch() -> ModuleType:
    return import_optional("torch")


def __getattr__(name: str) -> Any:
    # ``from docarray.computation.torch_backend import torch`` keeps working, lazily
    if name == "torch":
        return _torch()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class TorchCompBackend(AbstractComputationalBackend["torch.Tensor"]):
    """Computational backend for PyTorch.

    Results stay on the inputs' device; ``Metrics`` and ``Retrieval`` move their inputs to
    ``device`` first when one is given.

    Example
    -------
    >>> import torch
    >>> from docstack.computation.torch_backend import TorchCompBackend
    >>> TorchCompBackend.stack([torch.zeros(2), torch.ones(2)]).tolist()
    [[0.0, 0.0], [1.0, 1.0]]
    >>> TorchCompBackend.Metrics.euclidean_dist(torch.zeros(2), torch.tensor([3.0, 4.0]))
    tensor([5.])
    """

    @classmethod
    def stack(cls, tensors: Sequence[torch.Tensor], dim: int = 0) -> torch.Tensor:
        """Stack tensors of equal shape along a new axis ``dim``."""
        return _torch().stack(list(tensors), dim=dim)

    @classmethod
    def copy(cls, tensor: torch.Tensor) -> torch.Tensor:
        """A copy of ``tensor`` (``clone``: it stays in the autograd graph)."""
        return tensor.clone()

    @classmethod
    def to_device(cls, tensor: torch.Tensor, device: str) -> torch.Tensor:
        """``tensor`` on ``device`` (``'cpu'``, ``'cuda:0'``, ``'meta'``, ...)."""
        return tensor.to(device)

    @classmethod
    def device(cls, tensor: torch.Tensor) -> Optional[str]:
        """The device of ``tensor`` as a string, e.g. ``'cpu'`` or ``'cuda:0'``."""
        return str(tensor.device)

    @classmethod
    def empty(
        cls,
        shape: tuple[int, ...],
        dtype: Optional[Any] = None,
        device: Optional[Any] = None,
    ) -> torch.Tensor:
        """An uninitialised tensor (torch's default dtype and device unless given)."""
        torch = _torch()
        options: dict[str, Any] = {}
        if dtype is not None:
            options["dtype"] = dtype
        if device is not None:
            options["device"] = device
        return torch.empty(shape, **options)

    @classmethod
    def n_dim(cls, array: torch.Tensor) -> int:
        """The number of dimensions of ``array``."""
        return array.ndim

    @classmethod
    def squeeze(cls, tensor: torch.Tensor) -> torch.Tensor:
        """``tensor`` without its axes of length 1."""
        return tensor.squeeze()

    @classmethod
    def to_numpy(cls, array: torch.Tensor) -> np.ndarray:
        """The values as a numpy array, detached and copied to the CPU if needed."""
        return array.detach().cpu().numpy()

    @classmethod
    def none_value(cls) -> Any:
        """A 0-d NaN tensor, torch's stand-in for a missing value."""
        return _torch().tensor(float("nan"))

    @classmethod
    def shape(cls, tensor: torch.Tensor) -> tuple[int, ...]:
        """The shape of ``tensor`` as a tuple of ints."""
        return tuple(tensor.shape)

    @classmethod
    def reshape(cls, tensor: torch.Tensor, shape: tuple[int, ...]) -> torch.Tensor:
        """The same values in a new shape (a view when torch can make one)."""
        return tensor.reshape(shape)

    @classmethod
    def detach(cls, tensor: torch.Tensor) -> torch.Tensor:
        """``tensor`` cut from the autograd graph (sharing its memory)."""
        return tensor.detach()

    @classmethod
    def dtype(cls, tensor: torch.Tensor) -> torch.dtype:
        """The ``torch.dtype`` of ``tensor``."""
        return tensor.dtype

    @classmethod
    def isnan(cls, tensor: torch.Tensor) -> torch.Tensor:
        """A boolean tensor, true where ``tensor`` is NaN."""
        return _torch().isnan(tensor)

    @classmethod
    def equal(cls, tensor1: torch.Tensor, tensor2: torch.Tensor) -> bool:
        """Whether both are torch tensors of the same shape and values (NaN != NaN)."""
        torch = _torch()
        if not (isinstance(tensor1, torch.Tensor) and isinstance(tensor2, torch.Tensor)):
            return False
        if tensor1.shape != tensor2.shape or tensor1.device != tensor2.device:
            return False
        return bool(torch.eq(tensor1, tensor2).all())

    @classmethod
    def minmax_normalize(
        cls,
        tensor: torch.Tensor,
        t_range: tuple = (0, 1),
        x_range: Optional[tuple] = None,
        eps: float = 1e-7,
    ) -> torch.Tensor:
        """Map values linearly from ``x_range`` onto ``t_range``, clipped to ``t_range``.

        Without ``x_range`` each row (the last axis) uses its own minimum and maximum.
        Integer tensors are computed in torch's default float and rounded back.
        """
        torch = _torch()
        t = tensor if tensor.is_floating_point() else tensor.to(torch.get_default_dtype())
        low_t, high_t = t_range
        if x_range is None:
            low = t.amin(dim=-1, keepdim=True)
            high = t.amax(dim=-1, keepdim=True)
        else:
            low, high = x_range
        out = (high_t - low_t) * (t - low) / (high - low + eps) + low_t
        out = out.clamp(min(low_t, high_t), max(low_t, high_t))
        if not tensor.is_floating_point():
            out = out.round().to(tensor.dtype)
        return out

    class Retrieval(AbstractComputationalBackend.Retrieval["torch.Tensor"]):
        """Top-k selection over torch tensors.

        Example
        -------
        >>> import torch
        >>> from docstack.computation.torch_backend import TorchCompBackend
        >>> values, indices = TorchCompBackend.Retrieval.top_k(torch.tensor([4, 1, 3]), k=2)
        >>> values.tolist(), indices.tolist()
        ([[1, 3]], [[1, 2]])
        """

        @staticmethod
        def top_k(
            values: torch.Tensor,
            k: int,
            descending: bool = False,
            device: Optional[str] = None,
        ) -> tuple[torch.Tensor, torch.Tensor]:
            """The ``k`` smallest values of each row (largest with ``descending=True``).

            Returns ``(values, indices)``, each ``(n_queries, min(k, n_values))``, best
            first; ties keep the lower index first and NaN ranks last.
            """
            torch = _torch()
            k = check_k(k)
            if device is not None:
                values = values.to(device)
            if values.ndim == 1:
                values = values.unsqueeze(0)
            elif values.ndim != 2:
                raise ValueError(
                    "values must have shape (n_values,) or (n_queries, n_values), got "
                    f"{tuple(values.shape)}"
                )
            k = min(k, values.shape[1])
            if k == 0:
                empty = torch.zeros((values.shape[0], 0), dtype=torch.int64)
                return values[:, :0], empty.to(values.device)
            key = values.to(torch.int16) if values.dtype == torch.bool else values
            indices, _ = _torch_top_k(key, k, bool(descending))
            return values.gather(1, indices), indices

    class Metrics(AbstractComputationalBackend.Metrics["torch.Tensor"]):
        """Pairwise cosine similarity and (squared) euclidean distance for torch tensors.

        Example
        -------
        >>> import torch
        >>> from docstack.computation.torch_backend import TorchCompBackend
        >>> TorchCompBackend.Metrics.cosine_sim(torch.tensor([1.0, 0.0]), torch.eye(2))
        tensor([1., 0.])
        """

        @staticmethod
        def cosine_sim(
            x_mat: torch.Tensor,
            y_mat: torch.Tensor,
            eps: float = 1e-7,
            device: Optional[str] = None,
        ) -> torch.Tensor:
            """Cosine similarity of every row of ``x_mat`` with every row of ``y_mat``.

            Norms below ``eps`` count as ``eps`` (a zero vector scores 0); results are
            clipped to ``[-1, 1]``, and axes of length 1 dropped (a single score: ``(1,)``).
            """
            x, y = _matrices(x_mat, y_mat, device)
            x = x / x.norm(dim=1, keepdim=True).clamp_min(eps)
            y = y / y.norm(dim=1, keepdim=True).clamp_min(eps)
            return _drop_unit_axes((x @ y.T).clamp(-1, 1))

        @staticmethod
        def euclidean_dist(
            x_mat: torch.Tensor, y_mat: torch.Tensor, device: Optional[str] = None
        ) -> torch.Tensor:
            """Euclidean distance of every row of ``x_mat`` to every row of ``y_mat``."""
            x, y = _matrices(x_mat, y_mat, device)
            return _drop_unit_axes(_sq_dists(x, y).sqrt())

        @staticmethod
        def sqeuclidean_dist(
            x_mat: torch.Tensor, y_mat: torch.Tensor, device: Optional[str] = None
        ) -> torch.Tensor:
            """Squared euclidean distance of every row of ``x_mat`` to every row of ``y_mat``."""
            x, y = _matrices(x_mat, y_mat, device)
            return _drop_unit_axes(_sq_dists(x, y))


def _matrices(x: Any, y: Any, device: Optional[str]) -> tuple[Any, Any]:
    """Both inputs as floating matrices of one dtype, on ``device`` if given."""
    torch = _torch()
    x, y = torch.as_tensor(x), torch.as_tensor(y)
    if device is not None:
        x, y = x.to(device), y.to(device)
    dtype = torch.promote_types(x.dtype, y.dtype)
    if not dtype.is_floating_point:
        dtype = torch.get_default_dtype()
    out = []
    for name, m in (("x_mat", x), ("y_mat", y)):
        if m.ndim == 1:
            m = m.unsqueeze(0)
        elif m.ndim != 2:
            raise ValueError(
                f"{name} must be a vector (dim,) or a matrix (n, dim), got shape {tuple(m.shape)}"
            )
        out.append(m.to(dtype))
    if out[0].shape[1] != out[1].shape[1]:
        raise ValueError(
            "x_mat and y_mat must have the same vector dimension, got "
            f"{out[0].shape[1]} and {out[1].shape[1]}"
        )
    return out[0], out[1]


def _sq_dists(x: Any, y: Any) -> Any:
    if x.shape[0] * y.shape[0] * x.shape[1] <= _DIRECT_LIMIT:
        diff = x.unsqueeze(1) - y.unsqueeze(0)
        return (diff * diff).sum(dim=-1)
    x_sq = (x * x).sum(dim=1, keepdim=True)
    y_sq = (y * y).sum(dim=1).unsqueeze(0)
    return (x_sq + y_sq - 2 * (x @ y.T)).clamp_min(0)


def _drop_unit_axes(result: Any) -> Any:
    result = result.squeeze()
    return result.reshape(1) if result.ndim == 0 else result

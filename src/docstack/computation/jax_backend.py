"""The computational backend for JAX (``JaxArray``, which wraps a ``jax.Array``).

Methods accept ``JaxArray`` values (plain ``jax.Array``, numpy arrays and lists too) and
return ``JaxArray``; the ``jax.Array`` is ``result.tensor``. jax is imported on first use,
not with this module; without it, the first call raises
:class:`~docstack.errors.MissingDependencyError` naming the ``jax`` extra.
"""

from __future__ import annotations

from types import ModuleType
from typing import TYPE_CHECKING, Any, Optional

import numpy as np

from docstack._internal.metrics import _jax_top_k
from docstack._internal.optional import import_optional
from docstack.computation import abstract_numpy_based_backend as _kernels
from docstack.computation.abstract_comp_backend import AbstractComputationalBackend
from docstack.computation.abstract_numpy_based_backend import AbstractNumpyBasedBackend
from docstack.typing.tensor._convert import to_jax

if TYPE_CHECKING:  # pragma: no cover
    from docstack.typing.tensor.jax_array import JaxArray

__all__ = ["JaxCompBackend"]


def _jax() -> ModuleType:
    return import_optional("jax")


def __getattr__(name: str) -> Any:
    # DocArray's module exposes ``jax`` and ``jnp``; keep both, imported on first access
    if name == "jax":
        return _jax()
    if name == "jnp":
        return _jax().numpy
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _jax_device(device: Any) -> Any:
    """A ``jax.Device`` for ``'cpu'``, ``'gpu'``/``'cuda'``, ``'tpu'``, optionally ``':N'``."""
    jax = _jax()
    if not isinstance(device, str):
        return device  # already a jax.Device
    platform, _, number = device.lower().partition(":")
    platform = {"cuda": "gpu", "rocm": "gpu"}.get(platform, platform)
    try:
        devices = jax.devices(platform)
    except RuntimeError as exc:
        raise ValueError(f"no jax device {device!r} is available: {exc}") from None
    index = int(number) if number else 0
    if index >= len(devices):
        raise ValueError(f"no jax device {device!r}: {platform} has {len(devices)} device(s)")
    return devices[index]


class JaxCompBackend(AbstractNumpyBasedBackend["JaxArray"]):
    """Computational backend for JAX.

    ``device`` returns the platform name (``'cpu'``, ``'gpu'``, ``'tpu'``); ``to_device``
    and the ``device`` arguments take such a name, optionally with an index (``'gpu:1'``).

    Example
    -------
    >>> import jax.numpy as jnp
    >>> from docstack.computation.jax_backend import JaxCompBackend
    >>> from docstack.typing import JaxArray
    >>> stacked = JaxCompBackend.stack([JaxArray(jnp.zeros(2)), JaxArray(jnp.ones(2))])
    >>> type(stacked).__name__, JaxCompBackend.shape(stacked), JaxCompBackend.device(stacked)
    ('JaxArray', (2, 2), 'cpu')
    """

    @classmethod
    def _xp(cls) -> ModuleType:
        return _jax().numpy

    @classmethod
    def _unwrap(cls, value: Any) -> Any:
        return to_jax(value)

    @classmethod
    def _wrap(cls, array: Any) -> Any:
        from docstack.typing.tensor.jax_array import JaxArray

        return JaxArray(array)

    @classmethod
    def _is_float(cls, array: Any) -> bool:
        jnp = _jax().numpy
        return bool(jnp.issubdtype(array.dtype, jnp.floating))

    @classmethod
    def _as_float(cls, array: Any) -> Any:
        jnp = _jax().numpy
        return array if cls._is_float(array) else array.astype(jnp.result_type(float))

    @classmethod
    def _place(cls, array: Any, device: Optional[Any]) -> Any:
        return array if device is None else _jax().device_put(array, _jax_device(device))

    @classmethod
    def to_device(cls, tensor: JaxArray, device: str) -> JaxArray:
        """``tensor`` on ``device`` (``'cpu'``, ``'gpu'``, ``'tpu'``, optionally ``':N'``)."""
        return cls._wrap(cls._place(cls._unwrap(tensor), device))

    @classmethod
    def device(cls, tensor: JaxArray) -> Optional[str]:
        """The platform of the device holding ``tensor``: ``'cpu'``, ``'gpu'`` or ``'tpu'``."""
        devices = cls._unwrap(tensor).devices()
        return min(devices, key=lambda d: d.id).platform

    @classmethod
    def to_numpy(cls, array: JaxArray) -> np.ndarray:
        """The values as a numpy array (copied from the device when needed)."""
        return np.asarray(cls._unwrap(array))

    @classmethod
    def none_value(cls) -> Any:
        """A 0-d NaN ``jax.Array``, JAX's stand-in for a missing value."""
        return _jax().numpy.array(float("nan"))

    @classmethod
    def detach(cls, tensor: JaxArray) -> JaxArray:
        """The same values with gradients stopped (``jax.lax.stop_gradient``)."""
        return cls._wrap(_jax().lax.stop_gradient(cls._unwrap(tensor)))

    @classmethod
    def dtype(cls, tensor: JaxArray) -> str:
        """The dtype's name, e.g. ``'float32'``."""
        return cls._unwrap(tensor).dtype.name

    @classmethod
    def equal(cls, tensor1: JaxArray, tensor2: JaxArray) -> bool:
        """Whether both are JAX arrays of the same shape and values (NaN != NaN)."""
        jax = _jax()
        t1 = getattr(tensor1, "_docstack_jax_value", tensor1)
        t2 = getattr(tensor2, "_docstack_jax_value", tensor2)
        if not (isinstance(t1, jax.Array) and isinstance(t2, jax.Array)):
            return False
        return t1.shape == t2.shape and bool(jax.numpy.all(t1 == t2))

    class Retrieval(AbstractComputationalBackend.Retrieval["JaxArray"]):
        """Top-k selection over JAX arrays.

        Example
        -------
        >>> import jax.numpy as jnp
        >>> from docstack.computation.jax_backend import JaxCompBackend
        >>> from docstack.typing import JaxArray
        >>> values, indices = JaxCompBackend.Retrieval.top_k(JaxArray(jnp.array([4, 1, 3])), k=2)
        >>> values.tensor.tolist(), indices.tensor.tolist()
        ([[1, 3]], [[1, 2]])
        """

        @staticmethod
        def top_k(
            values: JaxArray,
            k: int,
            descending: bool = False,
            device: Optional[str] = None,
        ) -> tuple[JaxArray, JaxArray]:
            """The ``k`` smallest values of each row (largest with ``descending=True``).

            Returns ``(values, indices)`` as ``JaxArray``, each
            ``(n_queries, min(k, n_values))``, best first; ties keep the lower index first
            and NaN ranks last. Indices are int32 unless 64-bit mode is enabled.
            """
            be = JaxCompBackend
            jnp = _jax().numpy
            k = _kernels.check_k(k)
            rows = be._unwrap(values)
            if device is not None:
                rows = be._place(rows, device)
            rows = _kernels.as_rows(jnp, rows)
            k = min(k, rows.shape[1])
            if k == 0:
                return be._wrap(rows[:, :0]), be._wrap(jnp.zeros((rows.shape[0], 0), int))
            key = rows
            if key.dtype.kind in "ub":  # negating for an ascending sort must not wrap
                key = key.astype(jnp.result_type(int) if key.dtype.itemsize < 4 else float)
            indices, _ = _jax_top_k(key, k, bool(descending))
            return be._wrap(jnp.take_along_axis(rows, indices, axis=1)), be._wrap(indices)

    class Metrics(AbstractComputationalBackend.Metrics["JaxArray"]):
        """Pairwise cosine similarity and (squared) euclidean distance for JAX arrays.

        Example
        -------
        >>> import jax.numpy as jnp
        >>> from docstack.computation.jax_backend import JaxCompBackend
        >>> from docstack.typing import JaxArray
        >>> d = JaxCompBackend.Metrics.euclidean_dist(JaxArray(jnp.zeros(2)), JaxArray(jnp.array([3.0, 4.0])))
        >>> d.tensor.tolist()
        [5.0]
        """

        @staticmethod
        def cosine_sim(
            x_mat: JaxArray,
            y_mat: JaxArray,
            eps: float = 1e-7,
            device: Optional[str] = None,
        ) -> JaxArray:
            """Cosine similarity of every row of ``x_mat`` with every row of ``y_mat``.

            Norms below ``eps`` count as ``eps`` (a zero vector scores 0); results are
            clipped to ``[-1, 1]``, and axes of length 1 dropped (a single score: ``(1,)``).
            """
            x, y = _on_device(x_mat, y_mat, device)
            return _kernels.cosine_sim(JaxCompBackend, x, y, eps)

        @staticmethod
        def euclidean_dist(
            x_mat: JaxArray, y_mat: JaxArray, device: Optional[str] = None
        ) -> JaxArray:
            """Euclidean distance of every row of ``x_mat`` to every row of ``y_mat``."""
            x, y = _on_device(x_mat, y_mat, device)
            return _kernels.euclidean_dist(JaxCompBackend, x, y)

        @staticmethod
        def sqeuclidean_dist(
            x_mat: JaxArray, y_mat: JaxArray, device: Optional[str] = None
        ) -> JaxArray:
            """Squared euclidean distance of every row of ``x_mat`` to every row of ``y_mat``."""
            x, y = _on_device(x_mat, y_mat, device)
            return _kernels.sqeuclidean_dist(JaxCompBackend, x, y)


def _on_device(x: Any, y: Any, device: Optional[str]) -> tuple[Any, Any]:
    x, y = JaxCompBackend._unwrap(x), JaxCompBackend._unwrap(y)
    if device is None:
        return x, y
    return JaxCompBackend._place(x, device), JaxCompBackend._place(y, device)

"""The base of the tensor types that wrap a framework's tensor (JAX, TensorFlow).

``jax.Array`` cannot be subclassed and ``tf.Tensor`` is not meant to be, so their docstack
types hold the framework's tensor as ``value.tensor``. What every such wrapper does the same
way (shape, length, rows, pickling, the numpy array protocol) lives here; each framework adds
its conversions and protocols.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from docstack.typing.tensor._base import AbstractTensor, rebuild_tensor

__all__ = ["WrappedTensor"]


class WrappedTensor(AbstractTensor):
    """A tensor type whose value wraps the framework's tensor, kept in ``value.tensor``.

    Example
    -------
    >>> from docstack.typing import JaxArray
    >>> value = JaxArray.validate([[1, 2], [3, 4]])
    >>> value.shape, len(value), [row.shape for row in value]
    ((2, 2), 2, [(2,), (2,)])
    """

    __slots__ = ("tensor",)

    def __init__(self, tensor: Any) -> None:
        self.tensor = tensor

    def unwrap(self) -> Any:
        """The wrapped framework tensor (``jax.Array``, ``tf.Tensor``).

        Example
        -------
        >>> from docstack.typing import JaxArray
        >>> type(JaxArray.validate([1, 2]).unwrap()).__name__
        'ArrayImpl'
        """
        return self.tensor

    def _to_numpy(self) -> np.ndarray:
        """The values as a numpy array (each framework knows how)."""
        raise NotImplementedError  # every concrete wrapper overrides this

    def _index(self, item: Any) -> Any:
        """``tensor[item]`` in the framework."""
        return self.tensor[item]

    @property
    def shape(self) -> tuple[int, ...]:
        """The shape, as a tuple of ints.

        Example
        -------
        >>> from docstack.typing import JaxArray
        >>> JaxArray.validate([[1, 2, 3]]).shape
        (1, 3)
        """
        return tuple(int(d) for d in self.tensor.shape)

    @property
    def ndim(self) -> int:
        """The number of dimensions.

        Example
        -------
        >>> from docstack.typing import JaxArray
        >>> JaxArray.validate([[1, 2, 3]]).ndim
        2
        """
        return self.tensor.ndim

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        arr = self._to_numpy()
        return arr if dtype is None else arr.astype(dtype)

    def __len__(self) -> int:
        return len(self.tensor)

    def __getitem__(self, item: Any) -> Any:
        return type(self).__docstack_base__(self._index(item))

    def __iter__(self) -> Any:
        base = type(self).__docstack_base__
        return (base(row) for row in self.tensor)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.tensor!r})"

    def __reduce__(self) -> Any:
        return (
            rebuild_tensor,
            (type(self).__docstack_base__, type(self).__docstack_shape__, self._to_numpy()),
        )

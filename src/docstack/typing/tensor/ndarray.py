"""numpy tensor types: ``NdArray`` and its image, audio, video and embedding variants."""

from __future__ import annotations

from typing import Any

import numpy as np

from docstack.typing.tensor._base import AbstractTensor, rebuild_tensor
from docstack.typing.tensor._convert import to_numpy
from docstack.typing.tensor._modality import (
    AudioTensorMixin,
    ImageTensorMixin,
    VideoTensorMixin,
)

_NUMERIC_KINDS = frozenset("biufc")

__all__ = [
    "NdArray",
    "ImageNdArray",
    "AudioNdArray",
    "VideoNdArray",
    "NdArrayEmbedding",
]


class NdArray(AbstractTensor, np.ndarray):
    """A numpy array field, optionally with a shape: ``NdArray[128]``, ``NdArray['n', 3]``.

    Accepts numpy arrays (no copy), lists and tuples of numbers, and tensors of other
    frameworks (torch, jax, tensorflow), which are converted. The value is a subclass of
    ``np.ndarray``, so everything numpy does works on it.

    Example
    -------
    >>> import numpy as np
    >>> from docstack import BaseDoc
    >>> from docstack.typing import NdArray
    >>> class MyDoc(BaseDoc):
    ...     embedding: NdArray[4]
    >>> MyDoc(embedding=[1, 2, 3, 4]).embedding.shape
    (4,)
    """

    __slots__ = ()

    _docstack_framework = "numpy"

    @classmethod
    def _docstack_convert(cls, value: Any) -> Any:
        if type(value) is cls:
            return value
        arr = to_numpy(value)
        if arr.dtype.kind not in _NUMERIC_KINDS:
            raise ValueError(f"expected an array of numbers, got dtype {arr.dtype}")
        return arr.view(cls)

    @classmethod
    def _docstack_validate(cls, value: Any) -> Any:
        # hot path: a numeric numpy array of the declared fixed shape (one C call each)
        if isinstance(value, np.ndarray) and value.dtype.kind in _NUMERIC_KINDS:
            out = value if type(value) is cls else value.view(cls)
            fixed = cls.__docstack_fixed_shape__
            if fixed is not None and out.shape == fixed:
                return out
            if cls.__docstack_shape__ is None:
                return out
        return super()._docstack_validate(value)

    def unwrap(self) -> np.ndarray:
        """The same data as a plain ``np.ndarray`` (a view, no copy)."""
        return self.view(np.ndarray)

    def __reduce__(self) -> Any:
        return (
            rebuild_tensor,
            (type(self).__docstack_base__, type(self).__docstack_shape__, self.unwrap()),
        )


class ImageNdArray(ImageTensorMixin, NdArray):
    """An image as a numpy array, with ``to_bytes()``, ``save()`` and ``display()``."""

    __slots__ = ()

    _docstack_family = "image"


class AudioNdArray(AudioTensorMixin, NdArray):
    """Audio samples as a numpy array, with ``to_bytes()``, ``save()`` and ``display()``."""

    __slots__ = ()

    _docstack_family = "audio"


class VideoNdArray(VideoTensorMixin, NdArray):
    """Video frames ``(frames, H, W, 3)`` as a numpy array, with ``to_bytes()`` and ``save()``."""

    __slots__ = ()

    _docstack_family = "video"


class NdArrayEmbedding(NdArray):
    """An embedding vector held as a numpy array."""

    __slots__ = ()

    _docstack_family = "embedding"

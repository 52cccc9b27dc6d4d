"""Field types: tensors, URLs, bytes and ids.

torch, jax and TensorFlow types are imported on first use, so ``import docstack.typing``
works without them installed (and never pays for importing them); using one of them without
its framework raises an error naming the extra.
"""

from __future__ import annotations

import importlib
from typing import Any

from docstack.typing.bytes import AudioBytes, ImageBytes, VideoBytes, VideoLoadResult
from docstack.typing.id import ID
from docstack.typing.tensor import _LAZY as _LAZY_TENSORS
from docstack.typing.tensor import (
    AbstractTensor,
    AnyEmbedding,
    AnyTensor,
    AudioNdArray,
    AudioTensor,
    ImageNdArray,
    ImageTensor,
    NdArray,
    NdArrayEmbedding,
    VideoNdArray,
    VideoTensor,
)
from docstack.typing.url import (
    AnyUrl,
    AudioUrl,
    ImageUrl,
    Mesh3DUrl,
    PointCloud3DUrl,
    TextUrl,
    VideoUrl,
)

__all__ = [
    "ID",
    "AbstractTensor",
    "AnyEmbedding",
    "AnyTensor",
    "AudioNdArray",
    "AudioTensor",
    "ImageNdArray",
    "ImageTensor",
    "NdArray",
    "NdArrayEmbedding",
    "VideoNdArray",
    "VideoTensor",
    "AnyUrl",
    "AudioUrl",
    "ImageUrl",
    "Mesh3DUrl",
    "PointCloud3DUrl",
    "TextUrl",
    "VideoUrl",
    "AudioBytes",
    "ImageBytes",
    "VideoBytes",
    "VideoLoadResult",
    *_LAZY_TENSORS,
]


def __getattr__(name: str) -> Any:
    if name in _LAZY_TENSORS:
        return getattr(importlib.import_module("docstack.typing.tensor"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

"""Tensor types. torch, jax and TensorFlow types are imported on first use."""

from __future__ import annotations

from docstack._internal.lazy import lazy_attributes as _lazy_attributes
from docstack.typing.tensor._base import AbstractTensor
from docstack.typing.tensor.any_tensor import (
    AnyEmbedding,
    AnyTensor,
    AudioTensor,
    ImageTensor,
    VideoTensor,
)
from docstack.typing.tensor.ndarray import (
    AudioNdArray,
    ImageNdArray,
    NdArray,
    NdArrayEmbedding,
    VideoNdArray,
)

_LAZY = {
    "TorchTensor": "torch_tensor",
    "ImageTorchTensor": "torch_tensor",
    "AudioTorchTensor": "torch_tensor",
    "VideoTorchTensor": "torch_tensor",
    "TorchEmbedding": "torch_tensor",
    "JaxArray": "jax_array",
    "ImageJaxArray": "jax_array",
    "AudioJaxArray": "jax_array",
    "VideoJaxArray": "jax_array",
    "JaxArrayEmbedding": "jax_array",
    "TensorFlowTensor": "tensorflow_tensor",
    "ImageTensorFlowTensor": "tensorflow_tensor",
    "AudioTensorFlowTensor": "tensorflow_tensor",
    "VideoTensorFlowTensor": "tensorflow_tensor",
    "TensorFlowEmbedding": "tensorflow_tensor",
}

__all__ = [
    "AbstractTensor",
    "AnyTensor",
    "AnyEmbedding",
    "ImageTensor",
    "AudioTensor",
    "VideoTensor",
    "NdArray",
    "ImageNdArray",
    "AudioNdArray",
    "VideoNdArray",
    "NdArrayEmbedding",
    *_LAZY,
]


__getattr__ = _lazy_attributes(__name__, {name: f"{__name__}.{mod}" for name, mod in _LAZY.items()})

"""The video tensor types at DocArray's path; torch, jax and TensorFlow ones import their
framework on first use."""

from docstack._internal.lazy import lazy_attributes
from docstack.typing.tensor._modality import VideoTensorMixin as AbstractVideoTensor
from docstack.typing.tensor.any_tensor import VideoTensor
from docstack.typing.tensor.ndarray import VideoNdArray

__all__ = [
    "AbstractVideoTensor",
    "VideoJaxArray",
    "VideoNdArray",
    "VideoTensor",
    "VideoTensorFlowTensor",
    "VideoTorchTensor",
]

__getattr__ = lazy_attributes(
    __name__,
    {
        "VideoTorchTensor": "docstack.typing.tensor.torch_tensor",
        "VideoTensorFlowTensor": "docstack.typing.tensor.tensorflow_tensor",
        "VideoJaxArray": "docstack.typing.tensor.jax_array",
    },
)

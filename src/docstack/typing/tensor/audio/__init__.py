"""The audio tensor types at DocArray's path; torch, jax and TensorFlow ones import their
framework on first use."""

from docstack._internal.lazy import lazy_attributes
from docstack.typing.tensor._modality import AudioTensorMixin as AbstractAudioTensor
from docstack.typing.tensor.any_tensor import AudioTensor
from docstack.typing.tensor.ndarray import AudioNdArray

__all__ = [
    "AbstractAudioTensor",
    "AudioJaxArray",
    "AudioNdArray",
    "AudioTensor",
    "AudioTensorFlowTensor",
    "AudioTorchTensor",
]

__getattr__ = lazy_attributes(
    __name__,
    {
        "AudioTorchTensor": "docstack.typing.tensor.torch_tensor",
        "AudioTensorFlowTensor": "docstack.typing.tensor.tensorflow_tensor",
        "AudioJaxArray": "docstack.typing.tensor.jax_array",
    },
)

"""The image tensor types at DocArray's path; torch, jax and TensorFlow ones import their
framework on first use."""

from docstack._internal.lazy import lazy_attributes
from docstack.typing.tensor._modality import ImageTensorMixin as AbstractImageTensor
from docstack.typing.tensor.any_tensor import ImageTensor
from docstack.typing.tensor.ndarray import ImageNdArray

__all__ = [
    "AbstractImageTensor",
    "ImageJaxArray",
    "ImageNdArray",
    "ImageTensor",
    "ImageTensorFlowTensor",
    "ImageTorchTensor",
]

__getattr__ = lazy_attributes(
    __name__,
    {
        "ImageTorchTensor": "docstack.typing.tensor.torch_tensor",
        "ImageTensorFlowTensor": "docstack.typing.tensor.tensorflow_tensor",
        "ImageJaxArray": "docstack.typing.tensor.jax_array",
    },
)

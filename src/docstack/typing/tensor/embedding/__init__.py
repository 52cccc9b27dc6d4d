"""The embedding types at DocArray's path; torch, jax and TensorFlow ones import their
framework on first use."""

from docstack._internal.lazy import lazy_attributes
from docstack.typing.tensor.any_tensor import AnyEmbedding
from docstack.typing.tensor.ndarray import NdArrayEmbedding

__all__ = [
    "AnyEmbedding",
    "JaxArrayEmbedding",
    "NdArrayEmbedding",
    "TensorFlowEmbedding",
    "TorchEmbedding",
]

__getattr__ = lazy_attributes(
    __name__,
    {
        "TorchEmbedding": "docstack.typing.tensor.torch_tensor",
        "TensorFlowEmbedding": "docstack.typing.tensor.tensorflow_tensor",
        "JaxArrayEmbedding": "docstack.typing.tensor.jax_array",
    },
)

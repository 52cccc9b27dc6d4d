"""DocArray's module path for the torch embedding type; it lives in ``docstack.typing.tensor.torch_tensor``."""

from docstack.typing.tensor.torch_tensor import TorchEmbedding

__all__ = ["TorchEmbedding"]

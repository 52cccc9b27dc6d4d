"""DocArray's module path for the torch video tensor type; it lives in ``docstack.typing.tensor.torch_tensor``."""

from docstack.typing.tensor.torch_tensor import VideoTorchTensor

__all__ = ["VideoTorchTensor"]

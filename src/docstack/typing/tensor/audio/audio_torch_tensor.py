"""DocArray's module path for the torch audio tensor type; it lives in ``docstack.typing.tensor.torch_tensor``."""

from docstack.typing.tensor.torch_tensor import AudioTorchTensor

__all__ = ["AudioTorchTensor"]

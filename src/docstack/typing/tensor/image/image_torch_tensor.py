"""DocArray's module path for the torch image tensor type; it lives in ``docstack.typing.tensor.torch_tensor``."""

from docstack.typing.tensor.torch_tensor import ImageTorchTensor

__all__ = ["ImageTorchTensor"]

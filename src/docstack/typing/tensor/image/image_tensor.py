"""DocArray's module path for the framework-agnostic image tensor type; it lives in ``docstack.typing.tensor.any_tensor``."""

from docstack.typing.tensor.any_tensor import ImageTensor

__all__ = ["ImageTensor"]

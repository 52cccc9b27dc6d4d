"""DocArray's module path for the framework-agnostic tensor type; it lives in ``docstack.typing.tensor.any_tensor``."""

from docstack.typing.tensor.any_tensor import AnyTensor

__all__ = ["AnyTensor"]

"""DocArray's module path for the framework-agnostic audio tensor type; it lives in ``docstack.typing.tensor.any_tensor``."""

from docstack.typing.tensor.any_tensor import AudioTensor

__all__ = ["AudioTensor"]

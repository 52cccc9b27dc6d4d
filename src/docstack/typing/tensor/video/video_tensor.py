"""DocArray's module path for the framework-agnostic video tensor type; it lives in ``docstack.typing.tensor.any_tensor``."""

from docstack.typing.tensor.any_tensor import VideoTensor

__all__ = ["VideoTensor"]

"""DocArray's module path for the framework-agnostic embedding type; it lives in ``docstack.typing.tensor.any_tensor``."""

from docstack.typing.tensor.any_tensor import AnyEmbedding

__all__ = ["AnyEmbedding"]

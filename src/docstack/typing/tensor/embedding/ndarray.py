"""DocArray's module path for the numpy embedding type; it lives in ``docstack.typing.tensor.ndarray``."""

from docstack.typing.tensor.ndarray import NdArrayEmbedding

__all__ = ["NdArrayEmbedding"]

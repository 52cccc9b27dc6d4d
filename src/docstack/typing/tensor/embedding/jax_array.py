"""DocArray's module path for the jax embedding type; it lives in ``docstack.typing.tensor.jax_array``."""

from docstack.typing.tensor.jax_array import JaxArrayEmbedding

__all__ = ["JaxArrayEmbedding"]

"""DocArray's module path for the jax tensor type; it lives in ``docstack.typing.tensor.jax_array``."""

from docstack.typing.tensor.jax_array import JaxArray

__all__ = ["JaxArray"]

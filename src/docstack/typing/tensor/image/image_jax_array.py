"""DocArray's module path for the jax image tensor type; it lives in ``docstack.typing.tensor.jax_array``."""

from docstack.typing.tensor.jax_array import ImageJaxArray

__all__ = ["ImageJaxArray"]

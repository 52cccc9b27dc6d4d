"""DocArray's module path for the jax video tensor type; it lives in ``docstack.typing.tensor.jax_array``."""

from docstack.typing.tensor.jax_array import VideoJaxArray

__all__ = ["VideoJaxArray"]

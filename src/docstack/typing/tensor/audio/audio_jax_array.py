"""DocArray's module path for the jax audio tensor type; it lives in ``docstack.typing.tensor.jax_array``."""

from docstack.typing.tensor.jax_array import AudioJaxArray

__all__ = ["AudioJaxArray"]

"""DocArray's module path for the numpy audio tensor type; it lives in ``docstack.typing.tensor.ndarray``."""

from docstack.typing.tensor.ndarray import AudioNdArray

__all__ = ["AudioNdArray"]

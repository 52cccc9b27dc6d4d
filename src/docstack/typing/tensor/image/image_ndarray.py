"""DocArray's module path for the numpy image tensor type; it lives in ``docstack.typing.tensor.ndarray``."""

from docstack.typing.tensor.ndarray import ImageNdArray

__all__ = ["ImageNdArray"]

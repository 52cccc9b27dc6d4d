"""DocArray's module path for the numpy video tensor type; it lives in ``docstack.typing.tensor.ndarray``."""

from docstack.typing.tensor.ndarray import VideoNdArray

__all__ = ["VideoNdArray"]

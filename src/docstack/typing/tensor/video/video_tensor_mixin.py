"""DocArray's module path for the methods every video tensor type has; it lives in ``docstack.typing.tensor._modality``."""

from docstack.typing.tensor._modality import VideoTensorMixin

__all__ = ["VideoTensorMixin"]

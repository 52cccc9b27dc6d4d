"""DocArray's module path for the base of every video tensor type; it lives in ``docstack.typing.tensor._modality``."""

from docstack.typing.tensor._modality import VideoTensorMixin as AbstractVideoTensor

__all__ = ["AbstractVideoTensor"]

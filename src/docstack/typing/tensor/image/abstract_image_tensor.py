"""DocArray's module path for the base of every image tensor type; it lives in ``docstack.typing.tensor._modality``."""

from docstack.typing.tensor._modality import ImageTensorMixin as AbstractImageTensor

__all__ = ["AbstractImageTensor"]

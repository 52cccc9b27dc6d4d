"""DocArray's module path for the base of every audio tensor type; it lives in ``docstack.typing.tensor._modality``."""

from docstack.typing.tensor._modality import AudioTensorMixin as AbstractAudioTensor

__all__ = ["AbstractAudioTensor"]

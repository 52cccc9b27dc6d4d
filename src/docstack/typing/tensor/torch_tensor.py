"""torch tensor types: ``TorchTensor`` and its image, audio, video and embedding variants.

Importing this module imports torch; ``docstack.typing`` imports it only on first use.
"""

from __future__ import annotations

from typing import Any

from docstack._internal.optional import import_optional
from docstack.typing.tensor._base import AbstractTensor, AbstractTensorMeta, rebuild_tensor
from docstack.typing.tensor._convert import to_torch
from docstack.typing.tensor._modality import (
    AudioTensorMixin,
    ImageTensorMixin,
    VideoTensorMixin,
)

torch = import_optional("torch")

__all__ = [
    "TorchTensor",
    "ImageTorchTensor",
    "AudioTorchTensor",
    "VideoTorchTensor",
    "TorchEmbedding",
]


class _TorchTensorMeta(AbstractTensorMeta, type(torch.Tensor)):
    """The metaclass of torch's tensors joined with docstack's tensor metaclass."""


class TorchTensor(AbstractTensor, torch.Tensor, metaclass=_TorchTensorMeta):
    """A ``torch.Tensor`` field, optionally with a shape: ``TorchTensor[3, 224, 224]``.

    Accepts torch tensors (kept as they are, on their device), numpy arrays (shared memory),
    lists of numbers and other frameworks' tensors.

    Example
    -------
    >>> import torch
    >>> from docstack import BaseDoc
    >>> from docstack.typing import TorchTensor
    >>> class MyDoc(BaseDoc):
    ...     tensor: TorchTensor[2, 2]
    >>> MyDoc(tensor=torch.eye(2)).tensor.sum().item()
    2.0
    """

    _docstack_framework = "torch"

    @classmethod
    def _docstack_convert(cls, value: Any) -> Any:
        if type(value) is cls:
            return value
        return to_torch(value).as_subclass(cls)

    def unwrap(self) -> Any:
        """The same data as a plain ``torch.Tensor`` (no copy).

        Example
        -------
        >>> from docstack.typing import TorchTensor
        >>> type(TorchTensor.validate([1, 2]).unwrap()).__name__
        'Tensor'
        """
        return self.as_subclass(torch.Tensor)

    def __reduce_ex__(self, protocol: Any) -> Any:
        return (
            rebuild_tensor,
            (type(self).__docstack_base__, type(self).__docstack_shape__, self.unwrap()),
        )

    def __deepcopy__(self, memo: dict) -> Any:
        return type(self)._docstack_convert(self.unwrap().clone())

    @classmethod
    def __torch_function__(cls, func: Any, types: Any, args: Any = (), kwargs: Any = None) -> Any:
        # two docstack tensor classes that are not subclasses of one another (an
        # AudioTorchTensor plus a TorchEmbedding) compute as tensors, where torch would
        # refuse the mix; the result takes the class of the operand torch asked first
        if len(types) > 1 and sum(1 for t in types if issubclass(t, TorchTensor)) > 1:
            types = tuple(torch.Tensor if issubclass(t, TorchTensor) else t for t in types)
        return super().__torch_function__(func, types, args, kwargs)


class ImageTorchTensor(ImageTensorMixin, TorchTensor):
    """An image as a torch tensor, with ``to_bytes()``, ``save()`` and ``display()``.

    Example
    -------
    >>> import torch
    >>> from docstack.typing import ImageTorchTensor
    >>> ImageTorchTensor.validate(torch.zeros(3, 4, 4, dtype=torch.uint8)).to_bytes()[:4]
    b'\\x89PNG'
    """

    _docstack_family = "image"


class AudioTorchTensor(AudioTensorMixin, TorchTensor):
    """Audio samples as a torch tensor, with ``to_bytes()``, ``save()`` and ``display()``.

    Example
    -------
    >>> import torch
    >>> from docstack.typing import AudioTorchTensor
    >>> AudioTorchTensor.validate(torch.zeros(100)).to_bytes(frame_rate=8000)[:4]
    b'RIFF'
    """

    _docstack_family = "audio"


class VideoTorchTensor(VideoTensorMixin, TorchTensor):
    """Video frames as a torch tensor, with ``to_bytes()`` and ``save()``.

    Example
    -------
    >>> import torch
    >>> from docstack.typing import VideoTorchTensor
    >>> VideoTorchTensor.validate(torch.zeros(2, 16, 16, 3, dtype=torch.uint8)).to_bytes()[4:8]
    b'ftyp'
    """

    _docstack_family = "video"


class TorchEmbedding(TorchTensor):
    """An embedding vector held as a torch tensor.

    Example
    -------
    >>> from docstack.typing import TorchEmbedding
    >>> TorchEmbedding[3].validate([0.1, 0.2, 0.3]).shape
    torch.Size([3])
    """

    _docstack_family = "embedding"

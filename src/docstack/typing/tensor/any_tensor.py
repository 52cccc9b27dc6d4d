"""Framework-agnostic tensor types: the value keeps the framework of its input.

``AnyTensor`` validates a torch tensor to a :class:`TorchTensor`, a jax array to a
:class:`JaxArray` and anything else (numpy arrays, lists) to an :class:`NdArray`. The modality
types ``ImageTensor``, ``AudioTensor``, ``VideoTensor`` and the embedding type
``AnyEmbedding`` do the same with their own per-framework classes.
"""

from __future__ import annotations

from typing import Any, ClassVar

from docstack.typing.tensor._base import AbstractTensor, concrete_tensor_class
from docstack.typing.tensor._convert import framework_of

__all__ = ["AnyTensor", "ImageTensor", "AudioTensor", "VideoTensor", "AnyEmbedding"]


class AnyTensor(AbstractTensor):
    """A tensor of any framework, optionally with a shape: ``AnyTensor[128]``.

    Example
    -------
    >>> import torch
    >>> from docstack import BaseDoc
    >>> from docstack.typing import AnyTensor, TorchTensor, NdArray
    >>> class MyDoc(BaseDoc):
    ...     tensor: AnyTensor[2]
    >>> isinstance(MyDoc(tensor=torch.zeros(2)).tensor, TorchTensor)
    True
    >>> isinstance(MyDoc(tensor=[1.0, 2.0]).tensor, NdArray)
    True
    """

    _docstack_family: ClassVar[str] = "tensor"
    _docstack_framework: ClassVar[str] = "any"

    def __new__(cls, *args: Any, **kwargs: Any) -> Any:
        raise TypeError(
            f"{cls.__name__} is a type for fields; use NdArray, TorchTensor or JaxArray "
            "to make a tensor"
        )

    @classmethod
    def _docstack_target(cls, value: Any) -> type[AbstractTensor]:
        framework = framework_of(value) or "numpy"
        target = concrete_tensor_class(cls._docstack_family, framework)
        spec = cls.__docstack_shape__
        return target if spec is None else target[spec]

    @classmethod
    def _docstack_convert(cls, value: Any) -> Any:
        return cls._docstack_target(value)._docstack_convert(value)

    @classmethod
    def _docstack_validate(cls, value: Any) -> Any:
        return cls._docstack_target(value)._docstack_validate(value)


class ImageTensor(AnyTensor):
    """An image tensor of any framework (``ImageNdArray``, ``ImageTorchTensor``, ...)."""

    _docstack_family = "image"


class AudioTensor(AnyTensor):
    """Audio samples of any framework (``AudioNdArray``, ``AudioTorchTensor``, ...)."""

    _docstack_family = "audio"


class VideoTensor(AnyTensor):
    """Video frames of any framework (``VideoNdArray``, ``VideoTorchTensor``, ...)."""

    _docstack_family = "video"


class AnyEmbedding(AnyTensor):
    """An embedding of any framework (``NdArrayEmbedding``, ``TorchEmbedding``, ...)."""

    _docstack_family = "embedding"

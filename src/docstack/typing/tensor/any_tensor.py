"""Framework-agnostic tensor types: the value keeps the framework of its input.

``AnyTensor`` validates a torch tensor to a :class:`TorchTensor`, a jax array to a
:class:`JaxArray`, a TensorFlow tensor to a :class:`TensorFlowTensor` and anything else (numpy
arrays, lists) to an :class:`NdArray`. The modality
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
            f"{cls.__name__} is a type for fields; use NdArray, TorchTensor, JaxArray or "
            "TensorFlowTensor to make a tensor"
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
    """An image tensor of any framework (``ImageNdArray``, ``ImageTorchTensor``, ...).

    Example
    -------
    >>> import torch
    >>> from docstack import BaseDoc
    >>> from docstack.typing import ImageTensor
    >>> class Photo(BaseDoc):
    ...     image: ImageTensor
    >>> type(Photo(image=torch.zeros(3, 8, 8)).image).__name__
    'ImageTorchTensor'
    >>> type(Photo(image=[[0, 255], [255, 0]]).image).__name__
    'ImageNdArray'
    """

    _docstack_family = "image"


class AudioTensor(AnyTensor):
    """Audio samples of any framework (``AudioNdArray``, ``AudioTorchTensor``, ...).

    Example
    -------
    >>> import jax.numpy as jnp
    >>> from docstack import BaseDoc
    >>> from docstack.typing import AudioTensor
    >>> class Sound(BaseDoc):
    ...     samples: AudioTensor
    >>> type(Sound(samples=jnp.zeros(100)).samples).__name__
    'AudioJaxArray'
    """

    _docstack_family = "audio"


class VideoTensor(AnyTensor):
    """Video frames of any framework (``VideoNdArray``, ``VideoTorchTensor``, ...).

    Example
    -------
    >>> import numpy as np
    >>> from docstack import BaseDoc
    >>> from docstack.typing import VideoTensor
    >>> class Clip(BaseDoc):
    ...     frames: VideoTensor
    >>> type(Clip(frames=np.zeros((2, 8, 8, 3), np.uint8)).frames).__name__
    'VideoNdArray'
    """

    _docstack_family = "video"


class AnyEmbedding(AnyTensor):
    """An embedding of any framework (``NdArrayEmbedding``, ``TorchEmbedding``, ...).

    Example
    -------
    >>> import torch
    >>> from docstack import BaseDoc
    >>> from docstack.typing import AnyEmbedding
    >>> class Item(BaseDoc):
    ...     embedding: AnyEmbedding[4]
    >>> from docstack.typing import TorchEmbedding
    >>> isinstance(Item(embedding=torch.ones(4)).embedding, TorchEmbedding)
    True
    """

    _docstack_family = "embedding"

"""JAX tensor types: ``JaxArray`` and its image, audio, video and embedding variants.

``jax.Array`` cannot be subclassed, so a ``JaxArray`` wraps one: the array is
``value.tensor``, and numpy and jax functions accept the wrapper directly
(``__array__`` and ``__jax_array__``). Importing this module imports jax.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from docstack._internal.optional import import_optional
from docstack.typing.tensor._convert import to_jax
from docstack.typing.tensor._modality import (
    AudioTensorMixin,
    ImageTensorMixin,
    VideoTensorMixin,
)
from docstack.typing.tensor._wrapped import WrappedTensor

jax = import_optional("jax")

__all__ = [
    "JaxArray",
    "ImageJaxArray",
    "AudioJaxArray",
    "VideoJaxArray",
    "JaxArrayEmbedding",
]


class JaxArray(WrappedTensor):
    """A ``jax.Array`` field, optionally with a shape: ``JaxArray[128]``.

    Example
    -------
    >>> import jax.numpy as jnp
    >>> from docstack import BaseDoc
    >>> from docstack.typing import JaxArray
    >>> class MyDoc(BaseDoc):
    ...     tensor: JaxArray[3]
    >>> doc = MyDoc(tensor=jnp.ones(3))
    >>> float(doc.tensor.tensor.sum())
    3.0
    """

    __slots__ = ()
    _docstack_framework = "jax"

    @property
    def _docstack_jax_value(self) -> Any:
        return self.tensor

    @classmethod
    def _docstack_convert(cls, value: Any) -> Any:
        if type(value) is cls:
            return value
        return cls(to_jax(value))

    def _to_numpy(self) -> np.ndarray:
        return np.asarray(self.tensor)

    @property
    def dtype(self) -> Any:
        """The dtype of the array.

        Example
        -------
        >>> import numpy as np
        >>> from docstack.typing import JaxArray
        >>> JaxArray.validate(np.zeros(2, np.float32)).dtype
        dtype('float32')
        """
        return self.tensor.dtype

    def __jax_array__(self) -> Any:
        return self.tensor


class ImageJaxArray(ImageTensorMixin, JaxArray):
    """An image as a JAX array, with ``to_bytes()``, ``save()`` and ``display()``.

    Example
    -------
    >>> import jax.numpy as jnp
    >>> from docstack.typing import ImageJaxArray
    >>> ImageJaxArray.validate(jnp.zeros((4, 4, 3), jnp.uint8)).to_bytes()[:4]
    b'\\x89PNG'
    """

    __slots__ = ()
    _docstack_family = "image"


class AudioJaxArray(AudioTensorMixin, JaxArray):
    """Audio samples as a JAX array, with ``to_bytes()``, ``save()`` and ``display()``.

    Example
    -------
    >>> import jax.numpy as jnp
    >>> from docstack.typing import AudioJaxArray
    >>> AudioJaxArray.validate(jnp.zeros(100)).to_bytes(frame_rate=8000)[:4]
    b'RIFF'
    """

    __slots__ = ()
    _docstack_family = "audio"


class VideoJaxArray(VideoTensorMixin, JaxArray):
    """Video frames as a JAX array, with ``to_bytes()`` and ``save()``.

    Example
    -------
    >>> import jax.numpy as jnp
    >>> from docstack.typing import VideoJaxArray
    >>> VideoJaxArray.validate(jnp.zeros((2, 16, 16, 3), jnp.uint8)).to_bytes()[4:8]
    b'ftyp'
    """

    __slots__ = ()
    _docstack_family = "video"


class JaxArrayEmbedding(JaxArray):
    """An embedding vector held as a JAX array.

    Example
    -------
    >>> from docstack.typing import JaxArrayEmbedding
    >>> JaxArrayEmbedding[3].validate([0.1, 0.2, 0.3]).shape
    (3,)
    """

    __slots__ = ()
    _docstack_family = "embedding"

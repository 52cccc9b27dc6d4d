"""TensorFlow tensor types: ``TensorFlowTensor`` and its image, audio, video and embedding
variants.

A ``tf.Tensor`` is not meant to be subclassed, so a ``TensorFlowTensor`` wraps one: the
tensor is ``value.tensor`` (or ``value.unwrap()``). TensorFlow functions accept the wrapper
directly (``__tf_tensor__``), and so do numpy functions (``__array__``). Importing this module
imports TensorFlow, which is slow: ``docstack.typing`` imports it only on first use.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from docstack._internal.optional import import_optional
from docstack.typing.tensor._convert import to_numpy, to_tensorflow
from docstack.typing.tensor._modality import (
    AudioTensorMixin,
    ImageTensorMixin,
    VideoTensorMixin,
)
from docstack.typing.tensor._wrapped import WrappedTensor

tf = import_optional("tensorflow")

__all__ = [
    "TensorFlowTensor",
    "ImageTensorFlowTensor",
    "AudioTensorFlowTensor",
    "VideoTensorFlowTensor",
    "TensorFlowEmbedding",
]


def _index(tensor: Any, item: Any) -> Any:
    """``tensor[item]``, also for numpy-style integer and boolean index arrays."""
    if isinstance(item, (list, np.ndarray)):
        positions = np.asarray(item)
        if positions.dtype.kind == "b":
            return tf.boolean_mask(tensor, positions)
        if positions.dtype.kind in "iu" or positions.size == 0:
            return tf.gather(tensor, positions.astype(np.int64))
    return tensor[item]


class TensorFlowTensor(WrappedTensor):
    """A TensorFlow ``tf.Tensor`` field, optionally with a shape: ``TensorFlowTensor[3, 224]``.

    Accepts TensorFlow tensors (kept as they are), ``tf.Variable`` (its current value), numpy
    arrays, lists of numbers and other frameworks' tensors (copied: a TensorFlow tensor never
    shares memory with them). The dtype is the input's (a list of floats gives ``float64``).

    The value wraps the ``tf.Tensor``: it is ``value.tensor``, and TensorFlow and numpy
    functions accept the wrapper directly. ``value[i]`` and iteration give wrapped rows;
    ``value[i] = x`` replaces the wrapped tensor by an updated copy.

    Example
    -------
    >>> import tensorflow as tf
    >>> from docstack import BaseDoc
    >>> from docstack.typing import TensorFlowTensor
    >>> class MyDoc(BaseDoc):
    ...     tensor: TensorFlowTensor[2, 2]
    >>> doc = MyDoc(tensor=tf.eye(2))
    >>> float(tf.reduce_sum(doc.tensor))
    2.0
    >>> doc.tensor.shape
    (2, 2)
    """

    __slots__ = ()
    _docstack_framework = "tensorflow"

    @property
    def _docstack_tf_value(self) -> Any:
        return self.tensor

    @classmethod
    def _docstack_convert(cls, value: Any) -> Any:
        if type(value) is cls:
            return value
        return cls(to_tensorflow(value))

    def _to_numpy(self) -> np.ndarray:
        return self.tensor.numpy()

    def _index(self, item: Any) -> Any:
        return _index(self.tensor, item)

    @property
    def dtype(self) -> Any:
        """The TensorFlow dtype of the tensor (it compares equal to the numpy dtype).

        Example
        -------
        >>> import numpy as np
        >>> from docstack.typing import TensorFlowTensor
        >>> TensorFlowTensor.validate(np.zeros(2, np.float32)).dtype
        tf.float32
        """
        return self.tensor.dtype

    def numpy(self) -> np.ndarray:
        """The values as a numpy array (a copy), like ``tf.Tensor.numpy()``.

        Example
        -------
        >>> from docstack.typing import TensorFlowTensor
        >>> TensorFlowTensor.validate([1, 2]).numpy().tolist()
        [1, 2]
        """
        return self.tensor.numpy()

    def __tf_tensor__(self, dtype: Any = None, name: Any = None) -> Any:
        return tf.convert_to_tensor(self.tensor, dtype=dtype, name=name)

    def __setitem__(self, item: Any, value: Any) -> None:
        arr = self.tensor.numpy().copy()
        arr[item] = to_numpy(value)
        self.tensor = tf.convert_to_tensor(arr)


class ImageTensorFlowTensor(ImageTensorMixin, TensorFlowTensor):
    """An image as a TensorFlow tensor, with ``to_bytes()``, ``save()`` and ``display()``.

    Example
    -------
    >>> import tensorflow as tf
    >>> from docstack.typing import ImageTensorFlowTensor
    >>> image = ImageTensorFlowTensor.validate(tf.zeros((4, 4, 3), dtype=tf.uint8))
    >>> image.to_bytes()[:4]
    b'\\x89PNG'
    """

    __slots__ = ()
    _docstack_family = "image"


class AudioTensorFlowTensor(AudioTensorMixin, TensorFlowTensor):
    """Audio samples as a TensorFlow tensor, with ``to_bytes()``, ``save()`` and ``display()``.

    Example
    -------
    >>> import tensorflow as tf
    >>> from docstack.typing import AudioTensorFlowTensor
    >>> audio = AudioTensorFlowTensor.validate(tf.zeros(100))
    >>> audio.to_bytes(frame_rate=8000)[:4]
    b'RIFF'
    """

    __slots__ = ()
    _docstack_family = "audio"


class VideoTensorFlowTensor(VideoTensorMixin, TensorFlowTensor):
    """Video frames ``(frames, H, W, 3)`` as a TensorFlow tensor, with ``to_bytes()`` and
    ``save()``.

    Example
    -------
    >>> import tensorflow as tf
    >>> from docstack.typing import VideoTensorFlowTensor
    >>> video = VideoTensorFlowTensor.validate(tf.zeros((2, 16, 16, 3), dtype=tf.uint8))
    >>> video.to_bytes()[4:8]
    b'ftyp'
    """

    __slots__ = ()
    _docstack_family = "video"


class TensorFlowEmbedding(TensorFlowTensor):
    """An embedding vector held as a TensorFlow tensor.

    Example
    -------
    >>> from docstack import BaseDoc
    >>> from docstack.typing import TensorFlowEmbedding
    >>> class MyDoc(BaseDoc):
    ...     embedding: TensorFlowEmbedding[3]
    >>> MyDoc(embedding=[0.1, 0.2, 0.3]).embedding.shape
    (3,)
    """

    __slots__ = ()
    _docstack_family = "embedding"

"""numpy tensor types: ``NdArray`` and its image, audio, video and embedding variants."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from docstack.typing.tensor._base import AbstractTensor, AbstractTensorMeta, rebuild_tensor
from docstack.typing.tensor._convert import to_numpy
from docstack.typing.tensor._modality import (
    AudioTensorMixin,
    ImageTensorMixin,
    VideoTensorMixin,
)
from docstack.typing.tensor._shape import check_shape

_NUMERIC_KINDS = frozenset("biufc")

__all__ = [
    "NdArray",
    "ImageNdArray",
    "AudioNdArray",
    "VideoNdArray",
    "NdArrayEmbedding",
]


class _NdArrayMeta(AbstractTensorMeta):
    """Makes ``isinstance(plain_numpy_array, NdArray[...])`` answer by dtype and shape."""

    def __instancecheck__(cls, obj: Any) -> bool:
        if cls.__dict__.get("_docstack_plain", cls._docstack_plain) and isinstance(obj, np.ndarray):
            if obj.dtype.kind not in _NUMERIC_KINDS:
                return False
            spec = cls.__docstack_shape__
            return spec is None or check_shape(tuple(obj.shape), spec) is None
        return type.__instancecheck__(cls, obj)


class NdArray(AbstractTensor, np.ndarray, metaclass=_NdArrayMeta):
    """A numpy array field, optionally with a shape: ``NdArray[128]``, ``NdArray['n', 3]``.

    Accepts numpy arrays (kept as they are: no copy), lists and tuples of numbers, and
    tensors of other frameworks (torch, jax, tensorflow), which are converted. The value is a
    plain ``np.ndarray``: nothing wraps it, so it costs nothing to create and every numpy
    function sees a normal array. ``isinstance(value, NdArray[128])`` is true for any numeric
    array of that shape. (The image, audio and video variants are subclasses of
    ``np.ndarray`` instead, because they carry methods such as ``to_bytes()``.)

    Example
    -------
    >>> import numpy as np
    >>> from docstack import BaseDoc
    >>> from docstack.typing import NdArray
    >>> class MyDoc(BaseDoc):
    ...     embedding: NdArray[4]
    >>> MyDoc(embedding=[1, 2, 3, 4]).embedding.shape
    (4,)
    """

    __slots__ = ()

    _docstack_framework = "numpy"
    # values are plain np.ndarray (True) or views as this class (False: modality variants)
    _docstack_plain = True

    @classmethod
    def _docstack_convert(cls, value: Any) -> Any:
        if type(value) is (np.ndarray if cls._docstack_plain else cls):
            if value.dtype.kind in _NUMERIC_KINDS:
                return value
        arr = to_numpy(value)
        if arr.dtype.kind not in _NUMERIC_KINDS:
            raise ValueError(f"expected an array of numbers, got dtype {arr.dtype}")
        if cls._docstack_plain:
            return arr if type(arr) is np.ndarray else arr.view(np.ndarray)
        return arr.view(cls)

    @classmethod
    def _docstack_validate(cls, value: Any) -> Any:
        if type(value) is list:
            # JSON input: nested lists of numbers become one array in one C call
            try:
                arr = np.asarray(value)
            except (ValueError, TypeError):  # ragged or mixed: the general path explains
                arr = None
            if arr is not None and arr.dtype.kind in _NUMERIC_KINDS:
                value = arr
        # hot path: a numeric numpy array of the declared fixed shape (one C call each)
        if isinstance(value, np.ndarray) and value.dtype.kind in _NUMERIC_KINDS:
            if cls._docstack_plain:
                out = value if type(value) is np.ndarray else value.view(np.ndarray)
            else:
                out = value if type(value) is cls else value.view(cls)
            fixed = cls.__docstack_fixed_shape__
            if fixed is not None and out.shape == fixed:
                return out
            if cls.__docstack_shape__ is None:
                return out
        return super()._docstack_validate(value)

    @classmethod
    def _docstack_field_validator(cls) -> Callable[[Any], Any]:
        # a field of a plain NdArray type is validated once per document, so its common case
        # (a numeric np.ndarray of the declared fixed shape, or of any shape when none is
        # declared) is one closure with its constants bound, without class attribute lookups;
        # everything else goes through _docstack_validate, which also explains rejections
        if not cls._docstack_plain:
            return cls._docstack_validate
        general = cls._docstack_validate
        fixed = cls.__docstack_fixed_shape__
        if fixed is not None and len(fixed) == 1:
            # the usual embedding field: ndim and len() are read without building a tuple
            def validate_vector(
                value: Any,
                _nd: type = np.ndarray,
                _size: int = fixed[0],
                _kinds: frozenset = _NUMERIC_KINDS,
            ) -> Any:
                if (
                    type(value) is _nd
                    and value.ndim == 1
                    and len(value) == _size
                    and value.dtype.kind in _kinds
                ):
                    return value
                return general(value)

            return validate_vector
        if fixed is not None:

            def validate_fixed(
                value: Any,
                _nd: type = np.ndarray,
                _shape: tuple = fixed,
                _kinds: frozenset = _NUMERIC_KINDS,
            ) -> Any:
                if type(value) is _nd and value.shape == _shape and value.dtype.kind in _kinds:
                    return value
                return general(value)

            return validate_fixed
        if cls.__docstack_shape__ is None:

            def validate_any_shape(
                value: Any, _nd: type = np.ndarray, _kinds: frozenset = _NUMERIC_KINDS
            ) -> Any:
                if type(value) is _nd and value.dtype.kind in _kinds:
                    return value
                return general(value)

            return validate_any_shape
        return general

    def unwrap(self) -> np.ndarray:
        """The same data as a plain ``np.ndarray`` (a view, no copy).

        Example
        -------
        >>> import numpy as np
        >>> from docstack.typing import ImageNdArray
        >>> image = ImageNdArray.validate(np.zeros((2, 2, 3), np.uint8))
        >>> type(image.unwrap()) is np.ndarray and np.shares_memory(image, image.unwrap())
        True
        """
        return self.view(np.ndarray)

    def __reduce__(self) -> Any:
        return (
            rebuild_tensor,
            (type(self).__docstack_base__, type(self).__docstack_shape__, self.unwrap()),
        )


class ImageNdArray(ImageTensorMixin, NdArray):
    """An image as a numpy array, with ``to_bytes()``, ``save()`` and ``display()``.

    Example
    -------
    >>> import numpy as np
    >>> from docstack.typing import ImageNdArray
    >>> ImageNdArray.validate(np.zeros((4, 4, 3), np.uint8)).to_bytes(format='JPEG')[:3]
    b'\\xff\\xd8\\xff'
    """

    __slots__ = ()

    _docstack_family = "image"
    _docstack_plain = False


class AudioNdArray(AudioTensorMixin, NdArray):
    """Audio samples as a numpy array, with ``to_bytes()``, ``save()`` and ``display()``.

    Example
    -------
    >>> import numpy as np
    >>> from docstack.typing import AudioNdArray
    >>> AudioNdArray.validate(np.zeros((100, 2), np.float32)).to_bytes(frame_rate=8000)[:4]
    b'RIFF'
    """

    __slots__ = ()

    _docstack_family = "audio"
    _docstack_plain = False


class VideoNdArray(VideoTensorMixin, NdArray):
    """Video frames ``(frames, H, W, 3)`` as a numpy array, with ``to_bytes()`` and ``save()``.

    Example
    -------
    >>> import numpy as np
    >>> from docstack.typing import VideoNdArray
    >>> VideoNdArray.validate(np.zeros((2, 16, 16, 3), np.uint8)).to_bytes()[4:8]
    b'ftyp'
    """

    __slots__ = ()

    _docstack_family = "video"
    _docstack_plain = False


class NdArrayEmbedding(NdArray):
    """An embedding vector held as a numpy array.

    Example
    -------
    >>> from docstack.typing import NdArrayEmbedding
    >>> NdArrayEmbedding[3].validate([0.1, 0.2, 0.3]).shape
    (3,)
    """

    __slots__ = ()

    _docstack_family = "embedding"

"""``AudioBytes``: encoded audio bytes (WAV, FLAC, MP3, ...) that decode to samples."""

from __future__ import annotations

from docstack._internal.media import decode_audio
from docstack.typing.bytes._base import MediaBytes
from docstack.typing.tensor.ndarray import AudioNdArray

__all__ = ["AudioBytes"]


class AudioBytes(MediaBytes):
    """The bytes of an encoded audio file (WAV, FLAC, OGG, MP3, AAC/M4A, ...).

    A ``bytes`` subclass; as a field it accepts ``bytes``, ``bytearray``, ``memoryview`` and
    base64 strings, and is written to JSON as base64.

    Example
    -------
    >>> import numpy as np
    >>> from docstack.typing import AudioBytes, AudioNdArray
    >>> wav = AudioNdArray.validate(np.zeros(800, np.float32)).to_bytes(frame_rate=8000)
    >>> samples, frame_rate = AudioBytes(wav).load()
    >>> samples.shape, frame_rate
    ((800,), 8000)
    """

    __slots__ = ()

    def load(self) -> tuple[AudioNdArray, int]:
        """Decode the audio to float samples and their frame rate.

        Returns
        -------
        tuple[AudioNdArray, int]
            ``(samples, frame_rate)``: float32 samples in [-1, 1], shape ``(n,)`` for mono or
            ``(n, channels)``, and the number of frames per second.

        Raises
        ------
        LoadError
            The bytes are not decodable audio.

        Example
        -------
        >>> import numpy as np
        >>> from docstack.typing import AudioBytes, AudioNdArray
        >>> stereo = AudioNdArray.validate(np.zeros((100, 2), np.float32))
        >>> AudioBytes(stereo.to_bytes(frame_rate=8000)).load()[0].shape
        (100, 2)
        """
        samples, frame_rate = decode_audio(bytes(self))
        return AudioNdArray._docstack_convert(samples), frame_rate

"""``VideoBytes``: encoded video bytes (MP4, WebM, ...) and ``VideoLoadResult``."""

from __future__ import annotations

from typing import Any, NamedTuple

from docstack._internal.media import decode_video
from docstack.typing.bytes._base import MediaBytes
from docstack.typing.tensor.ndarray import AudioNdArray, NdArray, VideoNdArray

__all__ = ["VideoBytes", "VideoLoadResult"]


class VideoLoadResult(NamedTuple):
    """What loading a video gives: its frames, its audio and the indices of its key frames.

    Attributes
    ----------
    video:
        uint8 frames, shape ``(N, H, W, 3)``.
    audio:
        float32 samples of the first audio track, ``(n,)`` or ``(n, channels)``; empty
        ``(0,)`` when the video has no sound.
    key_frame_indices:
        int64 indices of the frames that are key frames.

    Example
    -------
    >>> import numpy as np
    >>> from docstack.typing import VideoBytes, VideoNdArray
    >>> mp4 = VideoNdArray.validate(np.zeros((2, 16, 16, 3), np.uint8)).to_bytes()
    >>> video, audio, key_frame_indices = VideoBytes(mp4).load()
    >>> video.shape, audio.shape
    ((2, 16, 16, 3), (0,))
    """

    video: VideoNdArray
    audio: AudioNdArray
    key_frame_indices: NdArray


class VideoBytes(MediaBytes):
    """The bytes of an encoded video (MP4, MKV, WebM, AVI, ...).

    A ``bytes`` subclass; as a field it accepts ``bytes``, ``bytearray``, ``memoryview`` and
    base64 strings, and is written to JSON as base64.

    Example
    -------
    >>> import numpy as np
    >>> from docstack.typing import VideoBytes, VideoNdArray
    >>> mp4 = VideoNdArray.validate(np.zeros((3, 16, 16, 3), np.uint8)).to_bytes()
    >>> VideoBytes(mp4).load().video.shape
    (3, 16, 16, 3)
    """

    __slots__ = ()

    def load(self, **kwargs: Any) -> VideoLoadResult:
        """Decode the video to frames, audio samples and key frame indices.

        Parameters
        ----------
        **kwargs:
            Passed to ``av.open`` (e.g. ``format='mp4'``).

        Returns
        -------
        VideoLoadResult
            ``(video, audio, key_frame_indices)``.

        Raises
        ------
        LoadError
            The bytes cannot be decoded or hold no video frame.

        Example
        -------
        >>> import numpy as np
        >>> from docstack.typing import VideoBytes, VideoNdArray
        >>> mp4 = VideoNdArray.validate(np.zeros((3, 16, 16, 3), np.uint8)).to_bytes()
        >>> VideoBytes(mp4).load().key_frame_indices.tolist()
        [0]
        """
        frames, audio, key_frames = decode_video(bytes(self), **kwargs)
        return VideoLoadResult(
            video=VideoNdArray._docstack_convert(frames),
            audio=AudioNdArray._docstack_convert(audio),
            key_frame_indices=NdArray._docstack_convert(key_frames),
        )

"""Methods that image, audio and video tensors share across frameworks."""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from docstack.typing.tensor._convert import to_numpy

__all__ = ["ImageTensorMixin", "AudioTensorMixin", "VideoTensorMixin", "display_in_notebook"]


def display_in_notebook(obj_factory: Any) -> None:
    """Show a rich object in a notebook; outside one, raise a clear error.

    Example
    -------
    >>> try:  # outside a notebook this is an error that says so
    ...     display_in_notebook(lambda: 'shown')
    ... except RuntimeError as exc:
    ...     print('notebook' in str(exc))
    True
    """
    try:
        from IPython import get_ipython
        from IPython.display import display
    except ImportError:
        raise RuntimeError("display() needs IPython: run it inside a Jupyter notebook") from None
    if get_ipython() is None:
        raise RuntimeError("display() only works inside a notebook (no IPython kernel running)")
    display(obj_factory())


class ImageTensorMixin:
    """Image methods: ``to_bytes()``, ``save()``, ``display()``.

    An image tensor is ``(H, W, C)``, ``(C, H, W)`` (when the first axis has 1, 3 or 4 channels
    and the last does not) or ``(H, W)``; floats in ``[0, 1]`` are scaled to 0..255.

    Example
    -------
    >>> import numpy as np
    >>> from docstack.typing import ImageNdArray, ImageTensor
    >>> from docstack.typing.tensor._modality import ImageTensorMixin
    >>> isinstance(ImageTensor.validate(np.zeros((2, 2, 3), np.uint8)), ImageTensorMixin)
    True
    """

    __slots__ = ()

    def to_bytes(self, format: str = "PNG") -> bytes:  # noqa: A002 - mirrors PIL's name
        """Encode the image, e.g. as PNG or JPEG bytes.

        Example
        -------
        >>> import numpy as np
        >>> from docstack.typing import ImageNdArray
        >>> ImageNdArray.validate(np.zeros((4, 4, 3), dtype=np.uint8)).to_bytes()[:4]
        b'\\x89PNG'
        """
        from docstack._internal.media import encode_image

        return encode_image(to_numpy(self), format=format)

    def save(self, file_path: str | os.PathLike, format: str | None = None) -> None:  # noqa: A002
        """Write the image to ``file_path``; the format comes from the suffix unless given.

        Example
        -------
        >>> import os, tempfile
        >>> import numpy as np
        >>> from docstack.typing import ImageNdArray
        >>> path = os.path.join(tempfile.mkdtemp(), 'black.jpg')
        >>> ImageNdArray.validate(np.zeros((8, 8, 3), np.uint8)).save(path)
        >>> open(path, 'rb').read(3)
        b'\\xff\\xd8\\xff'
        """
        fmt = format or (os.path.splitext(str(file_path))[1].lstrip(".").upper() or "PNG")
        if fmt == "JPG":
            fmt = "JPEG"
        with open(file_path, "wb") as f:
            f.write(self.to_bytes(format=fmt))

    def display(self) -> None:
        """Show the image in a notebook.

        Example
        -------
        >>> import numpy as np
        >>> from docstack.typing import ImageNdArray
        >>> ImageNdArray.validate(np.zeros((8, 8, 3), np.uint8)).display()  # doctest: +SKIP
        """

        def make() -> Any:
            from IPython.display import Image

            return Image(self.to_bytes())

        display_in_notebook(make)


class AudioTensorMixin:
    """Audio methods: ``to_bytes()``, ``save()``, ``display()``.

    An audio tensor holds samples: ``(n,)`` for mono or ``(n, channels)``, floats in
    ``[-1, 1]`` or int16.

    Example
    -------
    >>> import numpy as np
    >>> from docstack.typing import AudioTensor
    >>> from docstack.typing.tensor._modality import AudioTensorMixin
    >>> isinstance(AudioTensor.validate(np.zeros(100, np.float32)), AudioTensorMixin)
    True
    """

    __slots__ = ()

    def to_bytes(self, frame_rate: int = 44100, format: str = "wav") -> bytes:  # noqa: A002
        """Encode the samples as an audio file (WAV by default).

        Example
        -------
        >>> import numpy as np
        >>> from docstack.typing import AudioNdArray
        >>> data = AudioNdArray.validate(np.zeros(100, np.float32)).to_bytes(frame_rate=8000)
        >>> data[:4], data[8:12]
        (b'RIFF', b'WAVE')
        """
        from docstack._internal.media import encode_audio

        return encode_audio(to_numpy(self), frame_rate=frame_rate, format=format)

    def save(
        self,
        file_path: str | os.PathLike,
        frame_rate: int = 44100,
        format: str | None = None,  # noqa: A002
    ) -> None:
        """Write the samples to an audio file; the format comes from the suffix unless given.

        Example
        -------
        >>> import os, tempfile
        >>> import numpy as np
        >>> from docstack.typing import AudioNdArray
        >>> path = os.path.join(tempfile.mkdtemp(), 'silence.wav')
        >>> AudioNdArray.validate(np.zeros(100, np.float32)).save(path, frame_rate=8000)
        >>> open(path, 'rb').read(4)
        b'RIFF'
        """
        fmt = format or (os.path.splitext(str(file_path))[1].lstrip(".").lower() or "wav")
        with open(file_path, "wb") as f:
            f.write(self.to_bytes(frame_rate=frame_rate, format=fmt))

    def display(self, rate: int = 44100) -> None:
        """Play the audio in a notebook.

        Example
        -------
        >>> import numpy as np
        >>> from docstack.typing import AudioNdArray
        >>> AudioNdArray.validate(np.zeros(100, np.float32)).display(rate=8000)  # doctest: +SKIP
        """

        def make() -> Any:
            from IPython.display import Audio

            arr = to_numpy(self)
            return Audio(data=arr.T if arr.ndim == 2 else arr, rate=rate)

        display_in_notebook(make)


class VideoTensorMixin:
    """Video methods: ``to_bytes()``, ``save()``, ``display()``.

    A video tensor is ``(frames, H, W, 3)`` (or one frame, ``(H, W, 3)``) of RGB pixels;
    any other shape is a ``ValueError``.

    Example
    -------
    >>> import numpy as np
    >>> from docstack.typing import VideoTensor
    >>> from docstack.typing.tensor._modality import VideoTensorMixin
    >>> isinstance(VideoTensor.validate(np.zeros((2, 8, 8, 3), np.uint8)), VideoTensorMixin)
    True
    """

    __slots__ = ()

    @classmethod
    def _docstack_validate(cls, value: Any) -> Any:
        out = super()._docstack_validate(value)  # type: ignore[misc]
        shape = tuple(out.shape)
        if len(shape) not in (3, 4) or shape[-1] != 3:
            raise ValueError(
                f"{cls.__name__}: a video is (frames, height, width, 3) RGB pixels, "
                f"got shape {shape}"
            )
        return out

    def to_bytes(
        self,
        audio_tensor: Any = None,
        video_frame_rate: int = 24,
        audio_frame_rate: int = 44100,
        format: str = "mp4",  # noqa: A002
    ) -> bytes:
        """Encode the frames (and optional audio samples) as a video file (MP4 by default).

        Example
        -------
        >>> import numpy as np
        >>> from docstack.typing import VideoNdArray
        >>> VideoNdArray.validate(np.zeros((2, 16, 16, 3), np.uint8)).to_bytes()[4:8]
        b'ftyp'
        """
        from docstack._internal.media import encode_video

        audio = None if audio_tensor is None else to_numpy(audio_tensor)
        return encode_video(
            np.asarray(to_numpy(self)),
            frame_rate=video_frame_rate,
            audio=audio,
            audio_frame_rate=audio_frame_rate,
            format=format,
        )

    def save(
        self,
        file_path: str | os.PathLike,
        audio_tensor: Any = None,
        video_frame_rate: int = 24,
        audio_frame_rate: int = 44100,
    ) -> None:
        """Write the video to ``file_path``; the container comes from the suffix.

        Example
        -------
        >>> import os, tempfile
        >>> import numpy as np
        >>> from docstack.typing import VideoNdArray
        >>> path = os.path.join(tempfile.mkdtemp(), 'clip.mp4')
        >>> VideoNdArray.validate(np.zeros((2, 16, 16, 3), np.uint8)).save(path)
        >>> open(path, 'rb').read(8)[4:]
        b'ftyp'
        """
        fmt = os.path.splitext(str(file_path))[1].lstrip(".").lower() or "mp4"
        data = self.to_bytes(audio_tensor, video_frame_rate, audio_frame_rate, format=fmt)
        with open(file_path, "wb") as f:
            f.write(data)

    def display(self, audio: Any = None) -> None:
        """Play the video in a notebook.

        Example
        -------
        >>> import numpy as np
        >>> from docstack.typing import VideoNdArray
        >>> VideoNdArray.validate(np.zeros((2, 16, 16, 3), np.uint8)).display()  # doctest: +SKIP
        """

        def make() -> Any:
            from IPython.display import Video

            return Video(data=self.to_bytes(audio), embed=True, mimetype="video/mp4")

        display_in_notebook(make)

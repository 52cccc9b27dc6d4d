"""Stream the frames of a video, one at a time, with the time each is shown.

Decoding goes through PyAV (FFmpeg), imported on first use. Frames are decoded one by one and
handed out as they come, so a film of any length is read in constant memory.

Every reader takes a :data:`VideoSource`: the encoded video as bytes, a path (``str`` or
``os.PathLike``), or a ``file://``, ``http(s)://`` or ``data:`` URL; each reads the same
frames.

Example
-------
>>> import base64, tempfile
>>> from pathlib import Path
>>> from docstack.typing import VideoNdArray
>>> data = VideoNdArray.validate(np.zeros((3, 8, 8, 3), np.uint8)).to_bytes(video_frame_rate=10)
>>> folder = tempfile.TemporaryDirectory()
>>> path = Path(folder.name) / 'clip.mp4'
>>> _ = path.write_bytes(data)
>>> url = 'data:video/mp4;base64,' + base64.b64encode(data).decode()
>>> sources = [data, path, str(path), path.as_uri(), url]
>>> [[frame.time for frame in iter_frames(source)] for source in sources]
[[0.0, 0.1, 0.2], [0.0, 0.1, 0.2], [0.0, 0.1, 0.2], [0.0, 0.1, 0.2], [0.0, 0.1, 0.2]]
>>> folder.cleanup()
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Optional, Union

import numpy as np

from docstack._internal.fetch import fetch_bytes, is_remote
from docstack._internal.optional import import_optional
from docstack.errors import LoadError

__all__ = [
    "Frame",
    "VideoSource",
    "describe_source",
    "frames_of",
    "iter_frames",
    "open_video",
    "resolve_source",
]

#: What :func:`iter_frames` reads: a path (``str`` or ``os.PathLike``), a URL (``VideoUrl``,
#: ``file://``, ``http(s)://``, ``data:``) or the encoded video as ``bytes`` (the module's
#: example reads one video from each).
VideoSource = Union[str, "os.PathLike[str]", bytes, bytearray, memoryview]

Size = Union[int, tuple[int, int], None]


@dataclass(frozen=True)
class Frame:
    """One decoded video frame.

    Attributes
    ----------
    index:
        The position of the frame in the stream, counting every decoded frame from 0 (frames
        skipped by ``every`` still count).
    time:
        When the frame is shown, in seconds from the start of the stream: its presentation
        timestamp times the stream's time base, less the stream's start time.
    image:
        The pixels, an ``(H, W, 3)`` uint8 RGB array.
    duration:
        How long the frame is shown, in seconds: its own duration from the stream when it has
        one, else one period of the stream's frame rate.

    Example
    -------
    >>> import numpy as np
    >>> frame = Frame(index=0, time=0.0, image=np.zeros((2, 2, 3), np.uint8), duration=0.04)
    >>> frame.image.shape
    (2, 2, 3)
    """

    index: int
    time: float
    image: np.ndarray
    duration: float


def describe_source(source: Any) -> str:
    """How a video source is named in messages: its path or URL, or the size of its bytes.

    Example
    -------
    >>> describe_source('clips/a.mp4')
    "'clips/a.mp4'"
    >>> describe_source(b'abc')
    '3 bytes of video'
    """
    if isinstance(source, (bytes, bytearray, memoryview)):
        return f"{len(source)} bytes of video"
    text = os.fspath(source)
    return repr(text if len(text) <= 100 else text[:100] + "...")


def _local_path(text: str) -> Optional[str]:
    """The file a path or ``file://`` URL names; ``None`` for remote and ``data:`` URLs."""
    lowered = text[:7].lower()
    if lowered.startswith("file://"):
        from urllib.parse import urlsplit
        from urllib.request import url2pathname

        return url2pathname(urlsplit(text).path)
    if is_remote(text) or lowered.startswith("data:"):
        return None
    return os.path.expanduser(text)


def resolve_source(source: Any) -> Union[str, bytes]:
    """A video source as what PyAV reads: a local file's path (streamed from disk) or bytes.

    Remote URLs are fetched with docstack's URL timeout and size cap, ``data:`` URLs decoded.

    Raises
    ------
    LoadError
        The file is missing or a directory, the URL cannot be fetched, or the bytes are empty.
    TypeError
        ``source`` is not a path, a URL or bytes.

    Example
    -------
    >>> resolve_source(b'abc')
    b'abc'
    >>> resolve_source('data:video/mp4;base64,AAAA')
    b'\\x00\\x00\\x00'
    """
    if isinstance(source, (bytes, bytearray, memoryview)):
        if len(source) == 0:
            raise LoadError("cannot load 0 bytes of video: the data is empty")
        return bytes(source)
    if not isinstance(source, (str, os.PathLike)):
        raise TypeError(
            f"a video source is a path, a URL or bytes, got {type(source).__name__}: {source!r:.80}"
        )
    text = os.fspath(source)
    path = _local_path(text)
    if path is None:
        data = fetch_bytes(text)
        if not data:
            raise LoadError(f"cannot load {describe_source(source)}: the data is empty")
        return data
    if not os.path.exists(path):
        raise LoadError(f"cannot load {describe_source(source)}: not found (no file at {path!r})")
    if os.path.isdir(path):
        raise LoadError(f"cannot load {describe_source(source)}: {path!r} is a directory")
    return path


@contextmanager
def open_video(source: Any, name: Optional[str] = None) -> Iterator[Any]:
    """Open ``source`` with PyAV and yield its first video stream (threaded decoding on).

    ``name`` is how messages call the source (default: :func:`describe_source`).

    Raises
    ------
    LoadError
        The source is missing, cannot be fetched, or holds no decodable video stream; the
        message names the source.

    Example
    -------
    >>> from docstack.typing import VideoNdArray
    >>> data = VideoNdArray.validate(np.zeros((3, 8, 8, 3), np.uint8)).to_bytes()
    >>> with open_video(data) as stream:
    ...     (stream.width, stream.height)
    (8, 8)
    """
    av = import_optional("av")
    name = name or describe_source(source)
    target = resolve_source(source)
    if isinstance(target, bytes):
        target = io.BytesIO(target)
    try:
        container = av.open(target, mode="r")
    except (av.FFmpegError, OSError, ValueError, EOFError) as exc:
        raise LoadError(f"cannot load {name}: not a video ({exc})") from exc
    try:
        kind = container.format.name
        if kind in _NOT_VIDEO or kind.endswith("_pipe"):
            raise LoadError(f"cannot load {name}: not a video (FFmpeg reads it as {kind!r})")
        stream = _first_video_stream(container)
        if stream is None:
            raise LoadError(f"cannot load {name}: it has no video stream")
        stream.thread_type = "AUTO"
        yield stream
    finally:
        container.close()


# FFmpeg formats that open as a "video" but are not one: text files (rendered as ANSI art) and
# single still images
_NOT_VIDEO = frozenset({"tty", "image2", "bin", "txt"})


def _first_video_stream(container: Any) -> Any:
    """The first video stream that is not a still picture attached to audio (cover art)."""
    for stream in container.streams.video:
        if not int(getattr(stream, "disposition", 0) or 0) & _ATTACHED_PICTURE:
            return stream
    return None


_ATTACHED_PICTURE = 0x400  # AV_DISPOSITION_ATTACHED_PIC


def _output_size(width: int, height: int, size: Size) -> tuple[int, int]:
    """``(width, height)`` of the frames handed out for the requested ``size``."""
    if size is None:
        return width, height
    if isinstance(size, (int, np.integer)) and not isinstance(size, bool):
        if size <= 0:
            raise ValueError(f"size must be a positive number of pixels, got {size!r}")
        scale = min(1.0, float(size) / max(width, height))
        return max(1, round(width * scale)), max(1, round(height * scale))
    if (
        isinstance(size, tuple)
        and len(size) == 2
        and all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in size)
        and min(size) > 0
    ):
        out_height, out_width = size
        return int(out_width), int(out_height)
    raise ValueError(
        "size must be None, a positive int (the longest side) or a (height, width) "
        f"pair of positive ints, got {size!r}"
    )


def _check_every(every: Optional[float]) -> None:
    if every is None:
        return
    if isinstance(every, bool) or not isinstance(every, (int, float, np.integer, np.floating)):
        raise TypeError(f"every must be a number of seconds or None, got {every!r}")
    if not every > 0:
        raise ValueError(f"every must be a positive number of seconds, got {every!r}")


def _check_max_frames(max_frames: Optional[int]) -> None:
    if max_frames is None:
        return
    if isinstance(max_frames, bool) or not isinstance(max_frames, (int, np.integer)):
        raise TypeError(f"max_frames must be an int or None, got {max_frames!r}")
    if max_frames < 0:
        raise ValueError(f"max_frames must be >= 0, got {max_frames!r}")


class _Clock:
    """Turns a frame's presentation timestamp into seconds from the start of the stream."""

    def __init__(self, stream: Any) -> None:
        self.time_base = stream.time_base
        self.start = stream.start_time or 0
        rate = stream.average_rate or stream.base_rate or stream.guessed_rate
        self.step = Fraction(1, 25) if not rate else 1 / Fraction(rate)
        self.last: Optional[Fraction] = None

    def seconds(self, frame: Any) -> float:
        pts = frame.pts
        time_base = frame.time_base or self.time_base
        if pts is None or time_base is None:
            # no timestamp: one frame period after the previous frame
            at = Fraction(0) if self.last is None else self.last + self.step
        else:
            at = (pts - self.start) * Fraction(time_base)
        self.last = at
        return float(at)

    def duration(self, frame: Any) -> float:
        time_base = frame.time_base or self.time_base
        length = getattr(frame, "duration", None)  # PyAV 12 and later
        if length and time_base is not None:
            return float(length * Fraction(time_base))
        return float(self.step)


def iter_frames(
    source: VideoSource,
    *,
    every: Optional[float] = None,
    max_frames: Optional[int] = None,
    size: Size = None,
) -> Iterator[Frame]:
    """Decode a video lazily, yielding its frames with their timestamps.

    Only one decoded frame is held at a time, so a long film streams in constant memory. A
    local file is read from disk as it is decoded; a remote URL is fetched first (with
    docstack's URL timeout and size cap).

    Parameters
    ----------
    source:
        A path, a ``VideoUrl`` or other URL (``file://``, ``http(s)://``, ``data:``), or the
        encoded video as ``bytes``.
    every:
        Hand out at most one frame per ``every`` seconds: the first frame, then the first
        frame at or after each multiple of ``every`` seconds. ``None`` hands out every frame.
    max_frames:
        Stop after handing out this many frames.
    size:
        ``None`` keeps the stream's size; an ``int`` scales down (never up) so that the
        longest side is at most that many pixels, keeping the aspect ratio; a
        ``(height, width)`` pair resizes to exactly that.

    Returns
    -------
    Iterator[Frame]
        Frames in presentation order; ``frame.time`` is in seconds from the stream's start,
        taken from the frame's timestamp and the stream's time base.

    Raises
    ------
    LoadError
        The source is missing, cannot be fetched, or is not a decodable video; the message
        names the source.
    ValueError
        ``every`` is not positive, ``max_frames`` is negative, or ``size`` is invalid.

    Example
    -------
    >>> import numpy as np
    >>> from docstack.typing import VideoNdArray
    >>> clip = VideoNdArray.validate(np.zeros((10, 32, 48, 3), np.uint8))
    >>> data = clip.to_bytes(video_frame_rate=5)  # 10 frames, 2 seconds
    >>> [(f.index, f.time, f.image.shape) for f in iter_frames(data, every=1.0, size=24)]
    [(0, 0.0, (16, 24, 3)), (5, 1.0, (16, 24, 3))]
    """
    _check_every(every)
    _check_max_frames(max_frames)
    if isinstance(size, list):
        size = tuple(size)  # type: ignore[assignment]
    _output_size(1, 1, size)
    # the source is found (or fetched) now, so a missing file fails at the call; the frames
    # are decoded as they are asked for
    return frames_of(resolve_source(source), every, max_frames, size, describe_source(source))


def frames_of(
    source: Any,
    every: Optional[float] = None,
    max_frames: Optional[int] = None,
    size: Size = None,
    name: Optional[str] = None,
) -> Iterator[Frame]:
    """:func:`iter_frames` without the argument checks, naming the source ``name`` in errors.

    Example
    -------
    >>> from docstack.typing import VideoNdArray
    >>> data = VideoNdArray.validate(np.zeros((2, 8, 8, 3), np.uint8)).to_bytes()
    >>> [f.index for f in frames_of(data, name="'clip'")]
    [0, 1]
    """
    av = import_optional("av")
    name = name or describe_source(source)
    if max_frames == 0:
        return
    handed = 0
    next_time = 0.0
    with open_video(source, name) as stream:
        width, height = _output_size(stream.width, stream.height, size)
        clock = _Clock(stream)
        resize = (width, height) != (stream.width, stream.height)
        decoded = stream.container.decode(stream)
        index = -1
        while True:
            try:
                frame = next(decoded)
            except StopIteration:
                break
            except (av.FFmpegError, OSError, ValueError, EOFError) as exc:
                raise LoadError(
                    f"cannot load {name}: decoding failed after {index + 1} frames ({exc})"
                ) from exc
            index += 1
            time = clock.seconds(frame)
            if every is not None:
                if handed and time < next_time - 1e-9:
                    continue
                next_time = (np.floor(time / every + 1e-9) + 1) * every
            if resize:
                image = frame.to_ndarray(
                    format="rgb24", width=width, height=height, interpolation="AREA"
                )
            else:
                image = frame.to_ndarray(format="rgb24")
            yield Frame(index=index, time=time, image=image, duration=clock.duration(frame))
            handed += 1
            if max_frames is not None and handed >= max_frames:
                break
    if index < 0:
        raise LoadError(f"cannot load {name}: no frame could be decoded")

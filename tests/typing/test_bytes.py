"""Bytes types: decoding real media, pydantic validation and JSON (base64) round trips."""

from __future__ import annotations

import base64
import json
from typing import Optional

import numpy as np
import pytest
from pydantic import ValidationError
from sklearn.datasets import load_sample_images

from docstack import BaseDoc, DocList
from docstack._internal.media import encode_audio, encode_image, encode_video
from docstack.errors import LoadError
from docstack.typing import (
    AudioBytes,
    AudioNdArray,
    ImageBytes,
    ImageNdArray,
    NdArray,
    VideoBytes,
    VideoLoadResult,
    VideoNdArray,
)

BYTES_TYPES = [ImageBytes, AudioBytes, VideoBytes]


@pytest.fixture(scope="module")
def photo() -> np.ndarray:
    return load_sample_images().images[1][100:164, 200:296]  # (64, 96, 3), a real photo


@pytest.fixture(scope="module")
def png(photo) -> bytes:
    return encode_image(photo, "PNG")


@pytest.fixture(scope="module")
def stereo() -> np.ndarray:
    t = np.arange(4000) / 16000
    left = 0.3 * np.sin(2 * np.pi * 300 * t)
    right = 0.6 * np.sin(2 * np.pi * 500 * t)
    return np.stack([left, right], axis=1).astype(np.float32)


@pytest.fixture(scope="module")
def wav(stereo) -> bytes:
    return encode_audio(stereo, 16000)


@pytest.fixture(scope="module")
def mp4(photo) -> bytes:
    frames = np.stack([photo[:32, :32], photo[32:, :32], photo[:32, 32:64]])
    return encode_video(frames, frame_rate=3)


def test_image_bytes_load(png, photo):
    data = ImageBytes(png)
    assert isinstance(data, bytes) and data == png
    pixels = data.load()
    assert isinstance(pixels, ImageNdArray)
    np.testing.assert_array_equal(pixels, photo)
    assert data.load(width=48).shape == (32, 48, 3)
    assert data.load(width=10, height=20, axis_layout=("C", "W", "H")).shape == (3, 10, 20)
    image = data.load_pil()
    assert image.size == (96, 64)
    np.testing.assert_array_equal(np.asarray(image), photo)


def test_audio_bytes_load(wav, stereo):
    samples, frame_rate = AudioBytes(wav).load()
    assert isinstance(samples, AudioNdArray)
    assert frame_rate == 16000 and samples.shape == (4000, 2)
    np.testing.assert_allclose(samples, stereo, atol=1e-3)


def test_video_bytes_load(mp4):
    result = VideoBytes(mp4).load()
    assert isinstance(result, VideoLoadResult)
    assert isinstance(result.video, VideoNdArray) and result.video.shape == (3, 32, 32, 3)
    assert isinstance(result.audio, AudioNdArray) and result.audio.shape == (0,)
    assert isinstance(result.key_frame_indices, NdArray)
    assert result.key_frame_indices.dtype == np.int64 and result.key_frame_indices[0] == 0
    video, audio, keys = VideoBytes(mp4).load(format="mp4")  # kwargs go to av.open
    assert video.shape == (3, 32, 32, 3)


@pytest.mark.parametrize(
    "bytes_type, call",
    [
        (ImageBytes, lambda b: b.load()),
        (ImageBytes, lambda b: b.load_pil()),
        (AudioBytes, lambda b: b.load()),
        (VideoBytes, lambda b: b.load()),
    ],
)
@pytest.mark.parametrize("junk", [b"", b"\x00" * 64, b"GIF89a not really" * 4])
def test_bad_bytes_are_a_load_error(bytes_type, call, junk):
    with pytest.raises(LoadError):
        call(bytes_type(junk))


def test_truncated_image_is_a_load_error(png):
    with pytest.raises(LoadError):
        ImageBytes(png[: len(png) // 2]).load()


class MediaDoc(BaseDoc):
    image: Optional[ImageBytes] = None
    audio: Optional[AudioBytes] = None
    video: Optional[VideoBytes] = None


@pytest.mark.parametrize("bytes_type", BYTES_TYPES)
@pytest.mark.parametrize("value", [b"\x00\xffabc", bytearray(b"\x00\xffabc")])
def test_field_accepts_bytes_likes(bytes_type, value):
    class Doc(BaseDoc):
        data: bytes_type

    doc = Doc(data=value)
    assert type(doc.data) is bytes_type and doc.data == b"\x00\xffabc"
    assert Doc(data=memoryview(b"\x00\xffabc")).data == b"\x00\xffabc"
    # a base64 string is decoded (that is what JSON holds)
    assert Doc(data=base64.b64encode(b"\x00\xffabc").decode()).data == b"\x00\xffabc"
    assert Doc(data=base64.urlsafe_b64encode(b"\x00\xffabc").decode()).data == b"\x00\xffabc"


@pytest.mark.parametrize("bytes_type", BYTES_TYPES)
@pytest.mark.parametrize("bad", [42, 1.5, [1, 2], {"a": 1}, "not base64!", np.zeros(3)])
def test_field_rejects_other_types(bytes_type, bad):
    class Doc(BaseDoc):
        payload: bytes_type

    with pytest.raises(ValidationError) as info:
        Doc(payload=bad)
    assert info.value.errors()[0]["loc"] == ("payload",)
    assert bytes_type.__name__ in str(info.value)


def test_json_round_trip(png, wav, mp4):
    doc = MediaDoc(image=png, audio=wav, video=mp4)
    text = doc.model_dump_json()
    data = json.loads(text)
    assert base64.urlsafe_b64decode(data["image"]) == png
    assert base64.urlsafe_b64decode(data["video"]) == mp4
    again = MediaDoc.model_validate_json(text)
    assert again == doc and again.id == doc.id
    assert type(again.image) is ImageBytes and again.image == png
    assert type(again.audio) is AudioBytes and again.audio == wav
    assert type(again.video) is VideoBytes and again.video == mp4
    assert again.image.load().shape == (64, 96, 3)
    # python mode keeps bytes; validating the JSON-mode dump works too
    assert type(doc.model_dump()["image"]) is ImageBytes
    assert MediaDoc.model_validate(doc.model_dump(mode="json")) == doc
    # missing values stay None
    empty = MediaDoc.model_validate_json(MediaDoc().model_dump_json())
    assert empty.image is None and empty.video is None


def test_json_round_trip_in_doc_list(png, wav):
    docs = DocList[MediaDoc]([MediaDoc(image=png), MediaDoc(audio=wav)])
    payload = json.dumps([json.loads(d.model_dump_json()) for d in docs])
    back = DocList[MediaDoc]([MediaDoc.model_validate(d) for d in json.loads(payload)])
    assert back[0].image == png and back[1].audio == wav


def test_json_schema():
    props = MediaDoc.model_json_schema()["properties"]
    variants = props["image"]["anyOf"]
    assert {"type": "string", "format": "base64url"} in variants


def test_validate_classmethod():
    assert type(ImageBytes.validate(bytearray(b"ab"))) is ImageBytes
    with pytest.raises(ValueError):
        AudioBytes.validate(3)

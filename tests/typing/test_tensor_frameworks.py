"""Tests of the torch and jax tensor types, ``AnyTensor`` dispatch, embeddings and the
image, audio and video tensors."""

import copy
import json
import pickle

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import torch
from pydantic import TypeAdapter, ValidationError

from docstack import BaseDoc
from docstack._internal.media import decode_audio, decode_image, decode_video
from docstack.typing import (
    AnyEmbedding,
    AnyTensor,
    AudioJaxArray,
    AudioNdArray,
    AudioTensor,
    AudioTorchTensor,
    ImageJaxArray,
    ImageNdArray,
    ImageTensor,
    ImageTorchTensor,
    JaxArray,
    JaxArrayEmbedding,
    NdArray,
    NdArrayEmbedding,
    TorchEmbedding,
    TorchTensor,
    VideoJaxArray,
    VideoNdArray,
    VideoTensor,
    VideoTorchTensor,
)


def as_numpy(value) -> np.ndarray:
    if isinstance(value, torch.Tensor):
        return value.detach().cpu().numpy()
    return np.asarray(value)


# --------------------------------------------------------------------------------------------
# TorchTensor
# --------------------------------------------------------------------------------------------


class TorchDoc(BaseDoc):
    tensor: TorchTensor[2, 3]


@pytest.mark.parametrize(
    "value",
    [
        torch.arange(6.0).reshape(2, 3),
        np.arange(6.0).reshape(2, 3),
        [[0, 1, 2], [3, 4, 5]],
        ((0, 1, 2), (3, 4, 5)),
        jnp.arange(6.0).reshape(2, 3),
    ],
    ids=["torch", "numpy", "list", "tuple", "jax"],
)
def test_torch_tensor_accepts(value):
    doc = TorchDoc(tensor=value)
    assert isinstance(doc.tensor, torch.Tensor)
    assert isinstance(doc.tensor, TorchTensor)
    assert doc.tensor.shape == (2, 3)
    assert doc.tensor.tolist() == [[0, 1, 2], [3, 4, 5]]


def test_torch_tensor_keeps_the_data_of_a_torch_input():
    t = torch.zeros(2, 3)
    doc = TorchDoc(tensor=t)
    doc.tensor[0, 0] = 4
    assert t[0, 0].item() == 4
    assert doc.tensor.dtype == torch.float32


def test_torch_tensor_shares_memory_with_numpy_input():
    a = np.zeros((2, 3), dtype=np.float32)
    doc = TorchDoc(tensor=a)
    doc.tensor[1, 2] = 3
    assert a[1, 2] == 3
    assert doc.tensor.dtype == torch.float32


def test_torch_tensor_is_a_real_tensor():
    doc = TorchDoc(tensor=torch.ones(2, 3))
    assert doc.tensor.sum().item() == 6
    assert torch.nn.functional.relu(doc.tensor).shape == (2, 3)
    plain = doc.tensor.unwrap()
    assert type(plain) is torch.Tensor
    plain[0, 0] = 9
    assert doc.tensor[0, 0].item() == 9


@pytest.mark.parametrize(
    "value",
    [torch.zeros(3, 2), torch.zeros(6), np.zeros((2, 3, 1)), [[1, 2, 3]]],
)
def test_torch_tensor_shape_errors_name_the_field(value):
    with pytest.raises(ValidationError) as info:
        TorchDoc(tensor=value)
    assert info.value.errors()[0]["loc"] == ("tensor",)
    assert "(2, 3)" in str(info.value)


@pytest.mark.parametrize(
    "value",
    [[["a", "b", "c"], ["d", "e", "f"]], "abc", None, {"a": 1}, np.array([["x"] * 3] * 2)],
    ids=["str-list", "str", "None", "dict", "np-str"],
)
def test_torch_tensor_rejects_non_numbers(value):
    with pytest.raises(ValidationError) as info:
        TorchDoc(tensor=value)
    assert info.value.errors()[0]["loc"] == ("tensor",)


@pytest.mark.parametrize(
    "value",
    [
        np.array([["1", "2", "3"], ["4", "5", "6"]]),
        np.array([[b"1", b"2", b"3"], [b"4", b"5", b"6"]]),
        np.array([[1, 2, 3], [4, 5, 6]], dtype=object),
    ],
    ids=["np-digit-str", "np-digit-bytes", "np-object"],
)
def test_torch_tensor_rejects_numpy_digit_strings(value):
    with pytest.raises(ValidationError) as info:
        TorchDoc(tensor=value)
    assert info.value.errors()[0]["loc"] == ("tensor",)
    assert "expected an array of numbers" in str(info.value)


def test_torch_assignment_keeps_old_value_on_error():
    doc = TorchDoc(tensor=torch.ones(2, 3))
    with pytest.raises(ValidationError):
        doc.tensor = torch.zeros(3, 3)
    assert doc.tensor.tolist() == [[1, 1, 1], [1, 1, 1]]


def test_torch_json_round_trip_keeps_framework():
    doc = TorchDoc(tensor=torch.tensor([[0.5, 1.0, 2.0], [3.0, 4.0, -1.0]]))
    data = json.loads(doc.model_dump_json())
    assert data["tensor"] == [[0.5, 1.0, 2.0], [3.0, 4.0, -1.0]]
    back = TorchDoc.model_validate_json(doc.model_dump_json())
    assert isinstance(back.tensor, TorchTensor)
    assert back == doc


def test_torch_pickle_and_deepcopy():
    doc = TorchDoc(tensor=torch.arange(6).reshape(2, 3))
    back = pickle.loads(pickle.dumps(doc))
    assert isinstance(back.tensor, TorchTensor[2, 3])
    assert back.tensor.dtype == torch.int64
    assert back == doc
    other = copy.deepcopy(doc)
    other.tensor[0, 0] = 100
    assert doc.tensor[0, 0].item() == 0
    assert isinstance(other.tensor, TorchTensor)


def test_torch_json_schema():
    schema = TorchDoc.model_json_schema()["properties"]["tensor"]
    assert schema["x-docstack-tensor"] == {"framework": "torch", "shape": [2, 3]}
    assert schema["minItems"] == 2 and schema["items"]["maxItems"] == 3


# --------------------------------------------------------------------------------------------
# JaxArray
# --------------------------------------------------------------------------------------------


class JaxDoc(BaseDoc):
    array: JaxArray["n", 2]  # noqa: F821


@pytest.mark.parametrize(
    "value",
    [
        jnp.arange(6.0).reshape(3, 2),
        np.arange(6.0).reshape(3, 2),
        [[0, 1], [2, 3], [4, 5]],
        torch.arange(6.0).reshape(3, 2),
    ],
    ids=["jax", "numpy", "list", "torch"],
)
def test_jax_array_accepts(value):
    doc = JaxDoc(array=value)
    assert isinstance(doc.array, JaxArray)
    assert isinstance(doc.array.unwrap(), jax.Array)
    assert doc.array.shape == (3, 2)
    assert np.asarray(doc.array).tolist() == [[0, 1], [2, 3], [4, 5]]


def test_jax_array_behaves_like_an_array():
    doc = JaxDoc(array=jnp.ones((4, 2)))
    value = doc.array
    assert value.ndim == 2
    assert len(value) == 4
    assert value.dtype == jnp.float32
    assert float(jnp.sum(value.unwrap())) == 8.0
    assert np.asarray(value).sum() == 8
    assert np.asarray(value[1:3]).shape == (2, 2)
    assert [np.asarray(row).tolist() for row in value] == [[1, 1]] * 4


def test_jax_shape_errors_name_the_field():
    with pytest.raises(ValidationError) as info:
        JaxDoc(array=jnp.zeros((3, 3)))
    assert info.value.errors()[0]["loc"] == ("array",)
    assert "(3, 3)" in str(info.value)


@pytest.mark.parametrize("value", [[["a", "b"]], "ab", None], ids=["str-list", "str", "None"])
def test_jax_rejects_non_numbers(value):
    with pytest.raises(ValidationError) as info:
        JaxDoc(array=value)
    assert info.value.errors()[0]["loc"] == ("array",)


@pytest.mark.parametrize(
    "value",
    [np.array([["a", "b"]]), np.array([[1, "a"]], dtype=object)],
    ids=["np-str", "np-object"],
)
def test_jax_rejects_numpy_string_arrays(value):
    with pytest.raises(ValidationError) as info:
        JaxDoc(array=value)
    assert info.value.errors()[0]["loc"] == ("array",)
    assert "expected an array of numbers" in str(info.value)


def test_jax_json_round_trip_and_pickle():
    doc = JaxDoc(array=jnp.array([[0.5, 1.5], [2.0, -3.0]]))
    assert json.loads(doc.model_dump_json())["array"] == [[0.5, 1.5], [2.0, -3.0]]
    back = JaxDoc.model_validate_json(doc.model_dump_json())
    assert isinstance(back.array, JaxArray)
    assert back == doc
    unpickled = pickle.loads(pickle.dumps(doc))
    assert isinstance(unpickled.array, JaxArray)
    assert unpickled == doc
    copied = copy.deepcopy(doc)
    assert copied == doc and isinstance(copied.array, JaxArray)


def test_jax_assignment_keeps_old_value_on_error():
    doc = JaxDoc(array=jnp.ones((1, 2)))
    with pytest.raises(ValidationError):
        doc.array = jnp.ones((1, 3))
    assert np.asarray(doc.array).tolist() == [[1, 1]]
    doc.array = [[1, 2], [3, 4]]
    assert doc.array.shape == (2, 2)


def test_jax_json_schema():
    schema = JaxDoc.model_json_schema()["properties"]["array"]
    assert schema["x-docstack-tensor"] == {"framework": "jax", "shape": ["n", 2]}
    assert schema["items"]["minItems"] == 2


# --------------------------------------------------------------------------------------------
# AnyTensor dispatch
# --------------------------------------------------------------------------------------------


class AnyDocT(BaseDoc):
    tensor: AnyTensor
    shaped: AnyTensor[2] = None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (np.zeros(2), NdArray),
        ([1.0, 2.0], NdArray),
        ((1, 2), NdArray),
        (torch.zeros(2), TorchTensor),
        (jnp.zeros(2), JaxArray),
        (TorchTensor.validate([1.0, 2.0]), TorchTensor),
        (JaxArray.validate([1.0, 2.0]), JaxArray),
    ],
    ids=["numpy", "list", "tuple", "torch", "jax", "TorchTensor", "JaxArray"],
)
def test_any_tensor_keeps_the_framework(value, expected):
    doc = AnyDocT(tensor=value, shaped=value)
    assert isinstance(doc.tensor, expected)
    assert isinstance(doc.shaped, expected)
    assert as_numpy(doc.tensor).shape == (2,)


@pytest.mark.parametrize("value", [np.zeros(3), torch.zeros(3), jnp.zeros(3), [1, 2, 3]])
def test_any_tensor_shape_applies_to_every_framework(value):
    with pytest.raises(ValidationError) as info:
        AnyDocT(tensor=value, shaped=value)
    assert info.value.errors()[0]["loc"] == ("shaped",)


def test_any_tensor_rejects_non_numbers():
    with pytest.raises(ValidationError):
        AnyDocT(tensor=["a", "b"])
    with pytest.raises(ValidationError):
        AnyDocT(tensor=None)


def test_any_tensor_is_not_instantiable():
    with pytest.raises(TypeError):
        AnyTensor([1, 2])


def test_any_tensor_json_round_trip_gives_values():
    doc = AnyDocT(tensor=torch.tensor([1.0, 2.0]))
    back = AnyDocT.model_validate_json(doc.model_dump_json())
    # JSON carries no framework: the values come back as a numpy array
    assert isinstance(back.tensor, NdArray)
    assert back == doc


def test_any_tensor_json_schema():
    schema = TypeAdapter(AnyTensor[..., 3]).json_schema()
    assert schema["x-docstack-tensor"] == {"framework": "any", "shape": ["...", 3]}
    assert schema["type"] == "array"


def test_tensors_of_different_frameworks_compare_by_value():
    a = AnyDocT(tensor=np.array([1.0, 2.0]))
    b = AnyDocT(tensor=torch.tensor([1.0, 2.0]))
    c = AnyDocT(tensor=jnp.array([1.0, 2.0]))
    d = AnyDocT(tensor=np.array([1.0, 2.5]))
    assert a == b == c
    assert a != d


# --------------------------------------------------------------------------------------------
# embeddings
# --------------------------------------------------------------------------------------------


class EmbDoc(BaseDoc):
    any_emb: AnyEmbedding[4]
    np_emb: NdArrayEmbedding = None
    torch_emb: TorchEmbedding = None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ([1.0, 2.0, 3.0, 4.0], NdArrayEmbedding),
        (np.ones(4), NdArrayEmbedding),
        (torch.ones(4), TorchEmbedding),
        (jnp.ones(4), JaxArrayEmbedding),
    ],
)
def test_any_embedding_dispatch(value, expected):
    doc = EmbDoc(any_emb=value)
    assert isinstance(doc.any_emb, expected)
    assert as_numpy(doc.any_emb).shape == (4,)


def test_any_embedding_shape():
    with pytest.raises(ValidationError) as info:
        EmbDoc(any_emb=torch.ones(5))
    assert info.value.errors()[0]["loc"] == ("any_emb",)


def test_framework_embeddings_convert():
    doc = EmbDoc(any_emb=np.ones(4), np_emb=torch.ones(3), torch_emb=np.ones(2))
    assert isinstance(doc.np_emb, np.ndarray) and doc.np_emb.tolist() == [1, 1, 1]
    assert isinstance(doc.torch_emb, TorchEmbedding)
    assert isinstance(doc.torch_emb, torch.Tensor)
    back = EmbDoc.model_validate_json(doc.model_dump_json())
    assert isinstance(back.torch_emb, TorchEmbedding)
    assert back == doc


# --------------------------------------------------------------------------------------------
# modality tensors: dispatch
# --------------------------------------------------------------------------------------------


class MediaDoc(BaseDoc):
    image: ImageTensor = None
    audio: AudioTensor = None
    video: VideoTensor = None


@pytest.mark.parametrize(
    ("make", "image_cls", "audio_cls", "video_cls"),
    [
        (np.asarray, ImageNdArray, AudioNdArray, VideoNdArray),
        (torch.from_numpy, ImageTorchTensor, AudioTorchTensor, VideoTorchTensor),
        (jnp.asarray, ImageJaxArray, AudioJaxArray, VideoJaxArray),
    ],
    ids=["numpy", "torch", "jax"],
)
def test_modality_tensors_keep_framework(make, image_cls, audio_cls, video_cls):
    doc = MediaDoc(
        image=make(np.zeros((4, 4, 3), np.uint8)),
        audio=make(np.zeros(16, np.float32)),
        video=make(np.zeros((2, 4, 4, 3), np.uint8)),
    )
    assert isinstance(doc.image, image_cls)
    assert isinstance(doc.audio, audio_cls)
    assert isinstance(doc.video, video_cls)


def test_modality_tensors_reject_non_numbers():
    with pytest.raises(ValidationError) as info:
        MediaDoc(image="not an image")
    assert info.value.errors()[0]["loc"] == ("image",)


# --------------------------------------------------------------------------------------------
# images
# --------------------------------------------------------------------------------------------

_FRAMEWORKS = {
    "numpy": ImageNdArray,
    "torch": ImageTorchTensor,
    "jax": ImageJaxArray,
}


@pytest.fixture(scope="module")
def picture() -> np.ndarray:
    rng = np.random.default_rng(7)
    img = np.zeros((12, 16, 3), np.uint8)
    img[:6] = (200, 30, 60)
    img[6:, :8] = (20, 220, 90)
    img[6:, 8:] = rng.integers(0, 255, (6, 8, 3), dtype=np.uint8)
    return img


@pytest.mark.parametrize("image_cls", list(_FRAMEWORKS.values()), ids=list(_FRAMEWORKS))
def test_image_png_round_trip_is_exact(image_cls, picture):
    image = image_cls.validate(picture)
    data = image.to_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    decoded = decode_image(data)
    assert decoded.shape == (12, 16, 3)
    assert np.array_equal(decoded, picture)


def test_image_png_decodes_with_pil(picture):
    import io

    from PIL import Image

    data = ImageNdArray.validate(picture).to_bytes("PNG")
    with Image.open(io.BytesIO(data)) as img:
        assert img.format == "PNG"
        assert img.size == (16, 12)
        assert np.array_equal(np.asarray(img.convert("RGB")), picture)


@pytest.mark.parametrize("image_cls", list(_FRAMEWORKS.values()), ids=list(_FRAMEWORKS))
def test_image_jpeg_is_close(image_cls, picture):
    smooth = np.zeros((32, 32, 3), np.uint8)
    smooth[:, :16] = (200, 40, 40)
    smooth[:, 16:] = (40, 40, 200)
    data = image_cls.validate(smooth).to_bytes(format="JPEG")
    assert data[:3] == b"\xff\xd8\xff"
    decoded = decode_image(data)
    assert decoded.shape == (32, 32, 3)
    assert np.abs(decoded.astype(int) - smooth).mean() < 10


def test_image_channels_first_torch_layout(picture):
    chw = torch.from_numpy(np.ascontiguousarray(picture.transpose(2, 0, 1)))
    decoded = decode_image(ImageTorchTensor.validate(chw).to_bytes())
    assert np.array_equal(decoded, picture)


def test_image_floats_in_unit_range_are_scaled():
    img = np.full((4, 4, 3), 1.0, dtype=np.float32)
    img[0, 0] = 0.0
    decoded = decode_image(ImageNdArray.validate(img).to_bytes())
    assert decoded[1, 1].tolist() == [255, 255, 255]
    assert decoded[0, 0].tolist() == [0, 0, 0]


@pytest.mark.parametrize(
    ("name", "magic"), [("x.png", b"\x89PNG"), ("x.jpg", b"\xff\xd8"), ("x.jpeg", b"\xff\xd8")]
)
def test_image_save(tmp_path, picture, name, magic):
    path = tmp_path / name
    MediaDoc(image=picture).image.save(path)
    data = path.read_bytes()
    assert data.startswith(magic)
    assert decode_image(data).shape == (12, 16, 3)


# --------------------------------------------------------------------------------------------
# audio
# --------------------------------------------------------------------------------------------


def _sine(n: int, rate: int, freq: float = 440.0) -> np.ndarray:
    return (0.5 * np.sin(2 * np.pi * freq * np.arange(n) / rate)).astype(np.float32)


@pytest.mark.parametrize(
    "audio_cls", [AudioNdArray, AudioTorchTensor, AudioJaxArray], ids=["numpy", "torch", "jax"]
)
def test_audio_wav_round_trip(audio_cls):
    samples = _sine(800, 8000)
    data = audio_cls.validate(samples).to_bytes(frame_rate=8000)
    assert data[:4] == b"RIFF" and data[8:12] == b"WAVE"
    decoded, rate = decode_audio(data)
    assert rate == 8000
    assert decoded.shape == (800,)
    assert np.abs(decoded - samples).max() < 1e-3  # 16-bit PCM


def test_audio_stereo_and_default_rate():
    stereo = np.stack([_sine(441, 44100), -_sine(441, 44100)], axis=1)
    decoded, rate = decode_audio(AudioNdArray.validate(stereo).to_bytes())
    assert rate == 44100
    assert decoded.shape == (441, 2)
    assert np.abs(decoded - stereo).max() < 1e-3


def test_audio_save(tmp_path):
    path = tmp_path / "tone.wav"
    samples = _sine(400, 16000)
    MediaDoc(audio=samples).audio.save(path, frame_rate=16000)
    decoded, rate = decode_audio(path.read_bytes())
    assert rate == 16000 and decoded.shape == (400,)


# --------------------------------------------------------------------------------------------
# video
# --------------------------------------------------------------------------------------------


def _frames(n: int = 6, h: int = 32, w: int = 32) -> np.ndarray:
    frames = np.zeros((n, h, w, 3), np.uint8)
    frames[:] = (40, 80, 120)
    for i in range(n):
        frames[i, 4 + i : 14 + i, 4:14] = (230, 200, 40)
    return frames


@pytest.mark.parametrize(
    "video_cls", [VideoNdArray, VideoTorchTensor, VideoJaxArray], ids=["numpy", "torch", "jax"]
)
def test_video_mp4_round_trip(video_cls):
    frames = _frames()
    data = video_cls.validate(frames).to_bytes(video_frame_rate=10)
    assert data[4:8] == b"ftyp"  # an MP4 container
    decoded, audio, keys = decode_video(data)
    assert decoded.shape == frames.shape
    assert audio.shape == (0,)
    assert 0 in keys.tolist()
    assert np.abs(decoded.astype(int) - frames).mean() < 12  # lossy, but the same picture


def test_video_with_audio_track():
    frames = _frames(n=12)
    audio = _sine(22050, 44100)
    data = VideoNdArray.validate(frames).to_bytes(audio_tensor=audio, video_frame_rate=24)
    decoded, samples, _ = decode_video(data)
    assert decoded.shape[0] == 12
    assert samples.size > 0


def test_video_save(tmp_path):
    path = tmp_path / "clip.mp4"
    MediaDoc(video=_frames()).video.save(path)
    decoded, _, _ = decode_video(path.read_bytes())
    assert decoded.shape == (6, 32, 32, 3)


# --------------------------------------------------------------------------------------------
# display outside a notebook
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        ImageNdArray.validate(np.zeros((4, 4, 3), np.uint8)),
        ImageTorchTensor.validate(np.zeros((4, 4, 3), np.uint8)),
        ImageJaxArray.validate(np.zeros((4, 4, 3), np.uint8)),
        AudioNdArray.validate(np.zeros(10, np.float32)),
        AudioTorchTensor.validate(np.zeros(10, np.float32)),
        VideoNdArray.validate(np.zeros((2, 8, 8, 3), np.uint8)),
        VideoJaxArray.validate(np.zeros((2, 8, 8, 3), np.uint8)),
    ],
    ids=["img-np", "img-torch", "img-jax", "audio-np", "audio-torch", "video-np", "video-jax"],
)
def test_display_outside_a_notebook_is_a_clear_error(value):
    with pytest.raises(RuntimeError, match="notebook"):
        value.display()


# --------------------------------------------------------------------------------------------
# modality tensors in copies and columns
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("make", "image_cls"),
    [(np.asarray, ImageNdArray), (torch.from_numpy, ImageTorchTensor)],
    ids=["numpy", "torch"],
)
def test_modality_class_survives_pickle_deepcopy_and_json(make, image_cls):
    doc = MediaDoc(image=make(np.full((4, 4, 3), 9, np.uint8)))
    for other in (pickle.loads(pickle.dumps(doc)), copy.deepcopy(doc)):
        assert isinstance(other.image, image_cls)
        assert other == doc
    back = MediaDoc.model_validate_json(doc.model_dump_json())
    assert isinstance(back.image, ImageNdArray | ImageTorchTensor | ImageJaxArray)
    assert back == doc


@pytest.mark.parametrize(
    ("tensor_type", "image_cls"),
    [(None, ImageNdArray), (TorchTensor, ImageTorchTensor), (JaxArray, ImageJaxArray)],
    ids=["numpy", "torch", "jax"],
)
def test_image_column_rows_keep_their_methods(tensor_type, image_cls, picture):
    from docstack import DocVec

    class Photo(BaseDoc):
        image: ImageTensor

    dv = DocVec[Photo](
        [Photo(image=picture), Photo(image=picture[::-1].copy())], tensor_type=tensor_type
    )
    row = dv[1].image
    assert isinstance(row, image_cls)
    assert np.array_equal(decode_image(row.to_bytes()), picture[::-1])


@pytest.mark.parametrize("name", ["VideoNdArray", "VideoTorchTensor"])
def test_video_tensor_must_be_rgb_frames(name):
    import docstack.typing as t

    cls = getattr(t, name)
    assert tuple(cls.validate(np.zeros((2, 4, 4, 3))).shape) == (2, 4, 4, 3)
    assert tuple(cls.validate(np.zeros((4, 4, 3))).shape) == (4, 4, 3)
    for shape in [(2, 4, 4, 100), (4, 4), (1, 2, 4, 4, 3)]:
        with pytest.raises(ValueError, match=r"video is \(frames, height, width, 3\)"):
            cls.validate(np.zeros(shape))


@pytest.mark.parametrize("name", ["NdArrayEmbedding", "TorchEmbedding", "AnyEmbedding"])
def test_embedding_takes_one_dimension(name):
    import docstack.typing as t
    from docstack.errors import ShapeError

    cls = getattr(t, name)
    assert cls[8].__docstack_shape__ == (8,)
    for bad in [(8, 8), ...]:
        with pytest.raises(ShapeError, match="one dimension"):
            cls[bad]


@pytest.mark.parametrize("name", ["NdArray", "TorchTensor", "JaxArray"])
def test_from_ndarray_builds_the_tensor_type(name):
    import docstack.typing as t
    from docstack.typing.tensor._convert import framework_of, to_numpy

    cls = getattr(t, name)
    out = cls.from_ndarray(np.arange(3.0))
    assert (
        framework_of(out) == {"NdArray": "numpy", "TorchTensor": "torch", "JaxArray": "jax"}[name]
    )
    np.testing.assert_array_equal(to_numpy(out), [0.0, 1.0, 2.0])
    with pytest.raises(ValueError):
        cls[4].from_ndarray(np.arange(3.0))


def test_torch_tensor_types_of_different_kinds_compute_together():
    import torch

    from docstack.typing import AudioTorchTensor, TorchEmbedding

    audio = AudioTorchTensor.validate(torch.ones(3))
    emb = TorchEmbedding.validate(torch.full((3,), 2.0))
    total = audio + emb
    assert torch.equal(total.unwrap(), torch.full((3,), 3.0))
    assert isinstance(total, torch.Tensor)
    assert torch.equal((emb * audio).unwrap(), torch.full((3,), 2.0))

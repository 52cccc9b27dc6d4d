"""Tests of the TensorFlow tensor types: ``TensorFlowTensor``, its embedding, image, audio and
video variants, ``AnyTensor`` dispatch of TensorFlow input and the conversion helpers."""

import copy
import json
import os
import pickle
import subprocess
import sys

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # keep TensorFlow's start-up logs quiet
tf = pytest.importorskip("tensorflow")

import jax.numpy as jnp  # noqa: E402
import torch  # noqa: E402
from pydantic import TypeAdapter, ValidationError  # noqa: E402

from docstack import BaseDoc, DocList, DocVec  # noqa: E402
from docstack._internal.media import decode_audio, decode_image, decode_video  # noqa: E402
from docstack.typing import (  # noqa: E402
    AnyEmbedding,
    AnyTensor,
    AudioTensor,
    AudioTensorFlowTensor,
    ImageTensor,
    ImageTensorFlowTensor,
    JaxArray,
    NdArray,
    TensorFlowEmbedding,
    TensorFlowTensor,
    TorchTensor,
    VideoTensor,
    VideoTensorFlowTensor,
)
from docstack.typing.tensor._base import concrete_tensor_class  # noqa: E402
from docstack.typing.tensor._convert import (  # noqa: E402
    framework_of,
    to_framework,
    to_jax,
    to_numpy,
    to_tensorflow,
    to_torch,
)


class TFDoc(BaseDoc):
    tensor: TensorFlowTensor[2, 3]


# --------------------------------------------------------------------------------------------
# accepted inputs
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        tf.reshape(tf.range(6.0), (2, 3)),
        tf.Variable(tf.reshape(tf.range(6.0), (2, 3))),
        np.arange(6.0).reshape(2, 3),
        [[0, 1, 2], [3, 4, 5]],
        ((0, 1, 2), (3, 4, 5)),
        torch.arange(6.0).reshape(2, 3),
        jnp.arange(6.0).reshape(2, 3),
        TensorFlowTensor.validate(np.arange(6.0).reshape(2, 3)),
    ],
    ids=["tf", "tf-variable", "numpy", "list", "tuple", "torch", "jax", "TensorFlowTensor"],
)
def test_tensorflow_tensor_accepts(value):
    doc = TFDoc(tensor=value)
    assert isinstance(doc.tensor, TensorFlowTensor)
    assert isinstance(doc.tensor, TensorFlowTensor[2, 3])
    assert isinstance(doc.tensor.unwrap(), tf.Tensor)
    assert doc.tensor.tensor is doc.tensor.unwrap()
    assert doc.tensor.shape == (2, 3)
    assert doc.tensor.numpy().tolist() == [[0, 1, 2], [3, 4, 5]]


def test_tf_input_is_kept_as_is():
    t = tf.ones((2, 3))
    doc = TFDoc(tensor=t)
    assert doc.tensor.unwrap() is t


def test_dtypes_are_kept():
    assert TFDoc(tensor=np.zeros((2, 3), np.float32)).tensor.dtype == tf.float32
    assert TFDoc(tensor=np.zeros((2, 3), np.uint8)).tensor.dtype == tf.uint8
    assert TFDoc(tensor=torch.zeros(2, 3, dtype=torch.float64)).tensor.dtype == tf.float64
    assert TFDoc(tensor=[[1, 2, 3], [4, 5, 6]]).tensor.dtype == tf.int64
    assert TFDoc(tensor=tf.zeros((2, 3), tf.int32)).tensor.dtype == tf.int32


def test_numpy_input_is_copied():
    # a TensorFlow tensor is immutable: it never shares memory with the numpy input
    data = np.zeros((2, 3))
    doc = TFDoc(tensor=data)
    data[0, 0] = 5
    assert doc.tensor.numpy()[0, 0] == 0


def test_variable_input_is_a_snapshot():
    var = tf.Variable(tf.zeros((2, 3)))
    doc = TFDoc(tensor=var)
    var.assign(tf.ones((2, 3)))
    assert float(tf.reduce_sum(doc.tensor)) == 0.0
    assert not isinstance(doc.tensor.unwrap(), tf.Variable)


def test_tensorflow_and_numpy_functions_accept_the_wrapper():
    doc = TFDoc(tensor=tf.ones((2, 3)))
    value = doc.tensor
    assert float(tf.reduce_sum(value)) == 6.0
    assert tf.matmul(value, tf.ones((3, 1))).shape == (2, 1)
    assert tf.convert_to_tensor(value).shape == (2, 3)
    assert np.asarray(value).sum() == 6
    assert np.asarray(value, dtype=np.int32).dtype == np.int32


def test_behaves_like_a_tensor():
    value = TensorFlowTensor.validate(np.arange(8).reshape(4, 2))
    assert value.ndim == 2
    assert len(value) == 4
    assert isinstance(value[1], TensorFlowTensor)
    assert value[1].numpy().tolist() == [2, 3]
    assert value[1:3].shape == (2, 2)
    assert [row.numpy().tolist() for row in value] == [[0, 1], [2, 3], [4, 5], [6, 7]]
    assert value[np.array([3, 0])].numpy().tolist() == [[6, 7], [0, 1]]
    assert value[[2]].numpy().tolist() == [[4, 5]]
    assert value[np.array([True, False, False, True])].numpy().tolist() == [[0, 1], [6, 7]]
    assert "TensorFlowTensor" in repr(value)


def test_item_assignment_replaces_the_tensor():
    value = TensorFlowTensor.validate(np.zeros((2, 3), np.float32))
    before = value.unwrap()
    value[1] = [1, 2, 3]
    value[0, 0] = tf.constant(9.0)
    assert value.numpy().tolist() == [[9, 0, 0], [1, 2, 3]]
    assert value.dtype == tf.float32
    assert before.numpy().sum() == 0  # the old tensor is unchanged


def test_conversions_to_other_frameworks():
    value = TensorFlowTensor.validate(np.array([[1.5, 2.5]], np.float32))
    assert framework_of(value) == "tensorflow"
    assert framework_of(value.unwrap()) == "tensorflow"
    assert framework_of(tf.Variable([1.0])) == "tensorflow"
    assert to_numpy(value).tolist() == [[1.5, 2.5]]
    assert to_torch(value).dtype == torch.float32
    assert to_torch(value).tolist() == [[1.5, 2.5]]
    assert np.asarray(to_jax(value)).tolist() == [[1.5, 2.5]]
    assert to_tensorflow(value) is value.unwrap()
    assert isinstance(TorchTensor.validate(value), TorchTensor)
    assert np.asarray(JaxArray.validate(value)).tolist() == [[1.5, 2.5]]
    assert type(NdArray.validate(value)) is np.ndarray


@pytest.mark.parametrize("framework", ["numpy", None, "torch", "jax", "tensorflow"])
def test_to_framework_names_each_framework(framework):
    out = to_framework(np.array([[1.5, 2.5]], np.float32), framework)
    assert framework_of(out) == (framework or "numpy")
    assert to_numpy(out).tolist() == [[1.5, 2.5]]


def test_to_framework_refuses_an_unknown_name():
    with pytest.raises(ValueError, match="unknown tensor framework 'mxnet'"):
        to_framework([1.0], "mxnet")


# --------------------------------------------------------------------------------------------
# validation errors
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [tf.zeros((3, 2)), tf.zeros(6), np.zeros((2, 3, 1)), [[1, 2, 3]], torch.zeros(2, 2)],
)
def test_shape_errors_name_the_field(value):
    with pytest.raises(ValidationError) as info:
        TFDoc(tensor=value)
    assert info.value.errors()[0]["loc"] == ("tensor",)
    assert "(2, 3)" in str(info.value)


@pytest.mark.parametrize(
    "value",
    [
        [["a", "b", "c"], ["d", "e", "f"]],
        "abc",
        None,
        {"a": 1},
        np.array([["x"] * 3] * 2),
        np.array([["1", "2", "3"], ["4", "5", "6"]]),
        np.array([[1, 2, 3], [4, 5, 6]], dtype=object),
        tf.constant([["a"] * 3] * 2),
        tf.Variable([["a"] * 3] * 2),
        [[1, 2, 3], [4, 5]],
    ],
    ids=[
        "str-list",
        "str",
        "None",
        "dict",
        "np-str",
        "np-digit-str",
        "np-object",
        "tf-string",
        "tf-string-variable",
        "ragged",
    ],
)
def test_rejects_non_numbers(value):
    with pytest.raises(ValidationError) as info:
        TFDoc(tensor=value)
    assert info.value.errors()[0]["loc"] == ("tensor",)


def test_named_and_variadic_dimensions():
    square = TensorFlowTensor["n", "n"]
    assert square.validate(tf.zeros((3, 3))).shape == (3, 3)
    with pytest.raises(ValueError, match="'n'"):
        square.validate(tf.zeros((3, 4)))
    last3 = TensorFlowTensor[..., 3]
    assert last3.validate(tf.zeros((2, 5, 3))).shape == (2, 5, 3)
    with pytest.raises(ValueError, match="axis 1 must be 3"):
        last3.validate(tf.zeros((2, 4)))
    assert TensorFlowTensor[3] is TensorFlowTensor[3]
    with pytest.raises(TypeError, match="already has a shape"):
        TensorFlowTensor[3][3]


def test_assignment_keeps_old_value_on_error():
    doc = TFDoc(tensor=tf.ones((2, 3)))
    with pytest.raises(ValidationError) as info:
        doc.tensor = tf.zeros((3, 3))
    assert info.value.errors()[0]["loc"] == ("tensor",)
    assert doc.tensor.numpy().tolist() == [[1, 1, 1], [1, 1, 1]]
    with pytest.raises(ValidationError):
        doc.tensor = np.array([["a", "b", "c"]] * 2)
    assert doc.tensor.numpy().tolist() == [[1, 1, 1], [1, 1, 1]]
    doc.tensor = np.zeros((2, 3))
    assert isinstance(doc.tensor, TensorFlowTensor)
    assert doc.tensor.numpy().sum() == 0


# --------------------------------------------------------------------------------------------
# equality, JSON, pickle, schema
# --------------------------------------------------------------------------------------------


def test_equality_in_a_doc():
    a = TFDoc(id="1", tensor=tf.constant([[1.0, 2, 3], [4, 5, 6]]))
    b = TFDoc(id="1", tensor=np.array([[1.0, 2, 3], [4, 5, 6]]))
    c = TFDoc(id="1", tensor=np.array([[1.0, 2, 3], [4, 5, 7]]))
    assert a == b
    assert a != c


class AnyDocTF(BaseDoc):
    tensor: AnyTensor


def test_tensorflow_compares_by_value_with_other_frameworks():
    docs = [
        AnyDocTF(id="x", tensor=make([1.0, 2.0]))
        for make in (tf.constant, np.array, torch.tensor, jnp.array)
    ]
    assert all(d == docs[0] for d in docs)
    assert AnyDocTF(id="x", tensor=tf.constant([1.0, 2.5])) != docs[0]


def test_json_round_trip_keeps_framework():
    doc = TFDoc(tensor=tf.constant([[0.5, 1.0, 2.0], [3.0, 4.0, -1.0]]))
    data = json.loads(doc.model_dump_json())
    assert data["tensor"] == [[0.5, 1.0, 2.0], [3.0, 4.0, -1.0]]
    back = TFDoc.model_validate_json(doc.model_dump_json())
    assert isinstance(back.tensor, TensorFlowTensor)
    assert back == doc
    assert doc.model_dump()["tensor"] is doc.tensor  # python mode keeps the object


def test_pickle_and_deepcopy():
    doc = TFDoc(tensor=tf.reshape(tf.range(6, dtype=tf.int64), (2, 3)))
    back = pickle.loads(pickle.dumps(doc))
    assert isinstance(back.tensor, TensorFlowTensor[2, 3])
    assert back.tensor.dtype == tf.int64
    assert back == doc
    other = copy.deepcopy(doc)
    assert isinstance(other.tensor, TensorFlowTensor[2, 3])
    other.tensor[0, 0] = 100
    assert doc.tensor.numpy()[0, 0] == 0
    assert other.tensor.numpy()[0, 0] == 100


def test_json_schema():
    schema = TFDoc.model_json_schema()["properties"]["tensor"]
    assert schema["x-docstack-tensor"] == {"framework": "tensorflow", "shape": [2, 3]}
    assert schema["type"] == "array"
    assert schema["minItems"] == 2 and schema["maxItems"] == 2
    assert schema["items"]["minItems"] == 3 and schema["items"]["items"] == {"type": "number"}
    unshaped = TypeAdapter(TensorFlowTensor).json_schema()
    assert unshaped["x-docstack-tensor"] == {"framework": "tensorflow", "shape": None}


# --------------------------------------------------------------------------------------------
# AnyTensor and AnyEmbedding dispatch
# --------------------------------------------------------------------------------------------


class ShapedAnyDoc(BaseDoc):
    tensor: AnyTensor
    shaped: AnyTensor[2] = None


@pytest.mark.parametrize(
    "value",
    [tf.zeros(2), tf.Variable([0.0, 0.0]), TensorFlowTensor.validate([1.0, 2.0])],
    ids=["tf", "tf-variable", "TensorFlowTensor"],
)
def test_any_tensor_keeps_tensorflow(value):
    doc = ShapedAnyDoc(tensor=value, shaped=value)
    assert isinstance(doc.tensor, TensorFlowTensor)
    assert isinstance(doc.shaped, TensorFlowTensor[2])
    assert doc.tensor.shape == (2,)


def test_any_tensor_shape_applies_to_tensorflow():
    with pytest.raises(ValidationError) as info:
        ShapedAnyDoc(tensor=tf.zeros(3), shaped=tf.zeros(3))
    assert info.value.errors()[0]["loc"] == ("shaped",)


def test_any_tensor_rejects_tensorflow_strings():
    with pytest.raises(ValidationError) as info:
        ShapedAnyDoc(tensor=tf.constant(["a", "b"]))
    assert info.value.errors()[0]["loc"] == ("tensor",)


def test_any_tensor_json_round_trip_gives_numpy():
    doc = ShapedAnyDoc(tensor=tf.constant([1.0, 2.0]))
    back = ShapedAnyDoc.model_validate_json(doc.model_dump_json())
    assert isinstance(back.tensor, NdArray)  # JSON carries no framework
    assert back == doc


class EmbDocTF(BaseDoc):
    any_emb: AnyEmbedding[4]
    tf_emb: TensorFlowEmbedding = None


def test_embeddings():
    doc = EmbDocTF(any_emb=tf.ones(4), tf_emb=np.ones(3))
    assert isinstance(doc.any_emb, TensorFlowEmbedding)
    assert isinstance(doc.tf_emb, TensorFlowEmbedding)
    assert doc.tf_emb.numpy().tolist() == [1, 1, 1]
    back = EmbDocTF.model_validate_json(doc.model_dump_json())
    assert isinstance(back.tf_emb, TensorFlowEmbedding)
    assert back == doc
    with pytest.raises(ValidationError) as info:
        EmbDocTF(any_emb=tf.ones(5))
    assert info.value.errors()[0]["loc"] == ("any_emb",)


@pytest.mark.parametrize(
    ("family", "expected"),
    [
        ("tensor", TensorFlowTensor),
        ("image", ImageTensorFlowTensor),
        ("audio", AudioTensorFlowTensor),
        ("video", VideoTensorFlowTensor),
        ("embedding", TensorFlowEmbedding),
    ],
)
def test_concrete_tensor_class(family, expected):
    assert concrete_tensor_class(family, "tensorflow") is expected
    assert expected._docstack_framework == "tensorflow"


def test_any_tensor_error_mentions_tensorflow():
    with pytest.raises(TypeError, match="TensorFlowTensor"):
        AnyTensor([1, 2])


# --------------------------------------------------------------------------------------------
# modality tensors
# --------------------------------------------------------------------------------------------


class MediaDocTF(BaseDoc):
    image: ImageTensor = None
    audio: AudioTensor = None
    video: VideoTensor = None


def test_modality_tensors_keep_tensorflow():
    doc = MediaDocTF(
        image=tf.zeros((4, 4, 3), tf.uint8),
        audio=tf.zeros(16),
        video=tf.zeros((2, 4, 4, 3), tf.uint8),
    )
    assert isinstance(doc.image, ImageTensorFlowTensor)
    assert isinstance(doc.audio, AudioTensorFlowTensor)
    assert isinstance(doc.video, VideoTensorFlowTensor)
    assert isinstance(doc.image[0], ImageTensorFlowTensor)  # rows keep their class


@pytest.fixture(scope="module")
def picture() -> np.ndarray:
    rng = np.random.default_rng(11)
    img = np.zeros((12, 16, 3), np.uint8)
    img[:6] = (200, 30, 60)
    img[6:] = rng.integers(0, 255, (6, 16, 3), dtype=np.uint8)
    return img


def test_image_png_round_trip_is_exact(picture):
    data = ImageTensorFlowTensor.validate(tf.constant(picture)).to_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert np.array_equal(decode_image(data), picture)


def test_image_channels_first_and_float_images(picture):
    chw = tf.transpose(tf.constant(picture), (2, 0, 1))
    assert np.array_equal(decode_image(ImageTensorFlowTensor.validate(chw).to_bytes()), picture)
    ones = tf.ones((4, 4, 3), tf.float32)
    decoded = decode_image(ImageTensorFlowTensor.validate(ones).to_bytes())
    assert decoded[0, 0].tolist() == [255, 255, 255]


def test_image_jpeg_is_close():
    smooth = np.zeros((32, 32, 3), np.uint8)
    smooth[:, :16] = (200, 40, 40)
    smooth[:, 16:] = (40, 40, 200)
    data = ImageTensorFlowTensor.validate(tf.constant(smooth)).to_bytes(format="JPEG")
    assert data[:3] == b"\xff\xd8\xff"
    assert np.abs(decode_image(data).astype(int) - smooth).mean() < 10


@pytest.mark.parametrize(("name", "magic"), [("x.png", b"\x89PNG"), ("x.jpg", b"\xff\xd8")])
def test_image_save(tmp_path, picture, name, magic):
    path = tmp_path / name
    MediaDocTF(image=tf.constant(picture)).image.save(path)
    data = path.read_bytes()
    assert data.startswith(magic)
    assert decode_image(data).shape == (12, 16, 3)


def _sine(n: int, rate: int, freq: float = 440.0) -> np.ndarray:
    return (0.5 * np.sin(2 * np.pi * freq * np.arange(n) / rate)).astype(np.float32)


def test_audio_wav_round_trip_and_save(tmp_path):
    samples = _sine(800, 8000)
    audio = MediaDocTF(audio=tf.constant(samples)).audio
    data = audio.to_bytes(frame_rate=8000)
    assert data[:4] == b"RIFF" and data[8:12] == b"WAVE"
    decoded, rate = decode_audio(data)
    assert rate == 8000 and decoded.shape == (800,)
    assert np.abs(decoded - samples).max() < 1e-3
    path = tmp_path / "tone.wav"
    audio.save(path, frame_rate=16000)
    decoded, rate = decode_audio(path.read_bytes())
    assert rate == 16000 and decoded.shape == (800,)


def _frames(n: int = 6, h: int = 32, w: int = 32) -> np.ndarray:
    frames = np.zeros((n, h, w, 3), np.uint8)
    frames[:] = (40, 80, 120)
    for i in range(n):
        frames[i, 4 + i : 14 + i, 4:14] = (230, 200, 40)
    return frames


def test_video_mp4_round_trip_and_save(tmp_path):
    frames = _frames()
    video = MediaDocTF(video=tf.constant(frames)).video
    data = video.to_bytes(video_frame_rate=10)
    assert data[4:8] == b"ftyp"
    decoded, audio, keys = decode_video(data)
    assert decoded.shape == frames.shape
    assert audio.shape == (0,)
    assert 0 in keys.tolist()
    assert np.abs(decoded.astype(int) - frames).mean() < 12
    path = tmp_path / "clip.mp4"
    video.save(path)
    assert decode_video(path.read_bytes())[0].shape == frames.shape


def test_video_with_tensorflow_audio_track():
    frames = _frames(n=12)
    audio = AudioTensorFlowTensor.validate(_sine(22050, 44100))
    data = VideoTensorFlowTensor.validate(frames).to_bytes(audio_tensor=audio)
    decoded, samples, _ = decode_video(data)
    assert decoded.shape[0] == 12
    assert samples.size > 0


@pytest.mark.parametrize(
    "value",
    [
        ImageTensorFlowTensor.validate(np.zeros((4, 4, 3), np.uint8)),
        AudioTensorFlowTensor.validate(np.zeros(10, np.float32)),
        VideoTensorFlowTensor.validate(np.zeros((2, 8, 8, 3), np.uint8)),
    ],
    ids=["image", "audio", "video"],
)
def test_display_outside_a_notebook_is_a_clear_error(value):
    with pytest.raises(RuntimeError, match="notebook"):
        value.display()


# --------------------------------------------------------------------------------------------
# DocVec columns
# --------------------------------------------------------------------------------------------


class Photo(BaseDoc):
    image: ImageTensor
    embedding: AnyEmbedding[3]


def _photos(picture: np.ndarray) -> list:
    return [
        Photo(image=picture, embedding=[1.0, 0.0, 0.0]),
        Photo(image=picture[::-1].copy(), embedding=[0.0, 1.0, 0.0]),
        Photo(image=picture[:, ::-1].copy(), embedding=[0.0, 0.0, 1.0]),
    ]


def test_doc_vec_tensorflow_columns(picture):
    docs = _photos(picture)
    dv = DocVec[Photo](docs, tensor_type=TensorFlowTensor)
    assert dv.tensor_type is TensorFlowTensor
    assert isinstance(dv.embedding, TensorFlowEmbedding)
    assert dv.embedding.shape == (3, 3)
    assert isinstance(dv.image, ImageTensorFlowTensor)
    row = dv[1].image
    assert isinstance(row, ImageTensorFlowTensor)
    assert np.array_equal(decode_image(row.to_bytes()), picture[::-1])
    assert dv[1:].embedding.numpy().tolist() == [[0, 1, 0], [0, 0, 1]]
    assert dv[np.array([2, 0])].embedding.numpy().tolist() == [[0, 0, 1], [1, 0, 0]]
    assert dv.to_doc_list() == DocList[Photo](docs)
    back = pickle.loads(pickle.dumps(dv))
    assert isinstance(back.embedding, TensorFlowEmbedding)
    assert back.to_doc_list() == DocList[Photo](docs)


def test_doc_vec_tensorflow_row_assignment(picture):
    dv = DocVec[Photo](_photos(picture), tensor_type=TensorFlowTensor)
    dv[0].embedding = tf.constant([0.5, 0.5, 0.5], tf.float64)
    assert dv.embedding.numpy().tolist()[0] == [0.5, 0.5, 0.5]
    assert isinstance(dv.embedding, TensorFlowEmbedding)


# --------------------------------------------------------------------------------------------
# lazy import
# --------------------------------------------------------------------------------------------


def _run(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)


def test_docstack_never_imports_tensorflow_by_itself():
    result = _run(
        "import sys\n"
        "import docstack, docstack.typing\n"
        "from docstack import BaseDoc\n"
        "from docstack.typing import AnyTensor, ImageTensor\n"
        "class D(BaseDoc):\n"
        "    t: AnyTensor\n"
        "    i: ImageTensor = None\n"
        "D(t=[1.0, 2.0], i=[[0, 1], [2, 3]])\n"
        "assert 'tensorflow' not in sys.modules, 'tensorflow was imported'\n"
        "print('ok')\n"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


def test_missing_tensorflow_names_the_extra():
    result = _run(
        "import sys\n"
        "sys.modules['tensorflow'] = None  # as if it were not installed\n"
        "from docstack.errors import MissingDependencyError\n"
        "import docstack.typing\n"
        "try:\n"
        "    docstack.typing.TensorFlowTensor\n"
        "except MissingDependencyError as exc:\n"
        "    print(exc)\n"
    )
    assert result.returncode == 0, result.stderr
    assert "docstack[tensorflow]" in result.stdout

"""The ready documents: fields, shorthands, nesting, DocList / DocVec and JSON round trips."""

from __future__ import annotations

import json
from typing import Optional

import numpy as np
import pytest
import torch
import trimesh
from pydantic import ValidationError
from sklearn.datasets import load_digits, load_sample_images

from docstack import BaseDoc, DocList, DocVec
from docstack._internal.media import encode_audio, encode_image, encode_video
from docstack.documents import (
    AudioDoc,
    ImageDoc,
    Mesh3D,
    PointCloud3D,
    PointsAndColors,
    TextDoc,
    VerticesAndFaces,
    VideoDoc,
)
from docstack.errors import LoadError
from docstack.typing import (
    AudioBytes,
    AudioUrl,
    ImageBytes,
    ImageNdArray,
    ImageUrl,
    Mesh3DUrl,
    PointCloud3DUrl,
    TextUrl,
    VideoBytes,
    VideoUrl,
)

DOC_TYPES = [TextDoc, ImageDoc, AudioDoc, VideoDoc, Mesh3D, PointCloud3D]


@pytest.fixture(scope="module")
def digits() -> np.ndarray:
    """Eight real 8x8 digit images as (8, 8, 3) uint8 RGB."""
    grey = (load_digits().images[:8] * 255 / 16).astype(np.uint8)
    return np.repeat(grey[..., None], 3, axis=3)


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict:
    root = tmp_path_factory.mktemp("docs")
    photo = load_sample_images().images[0][:48, :64]
    tone = (0.4 * np.sin(np.arange(2000) / 8000 * 2 * np.pi * 220)).astype(np.float32)
    box = trimesh.creation.box(extents=(2.0, 2.0, 2.0))
    colored = trimesh.creation.icosphere(subdivisions=1)
    colored.visual.vertex_colors = np.tile([255, 0, 0, 255], (len(colored.vertices), 1))
    out = {"photo": photo, "tone": tone}
    for name, data in {
        "photo.png": encode_image(photo, "PNG"),
        "tone.wav": encode_audio(tone, 8000),
        "clip.mp4": encode_video(np.stack([photo[:16, :16]] * 2), frame_rate=2),
        "box.obj": box.export(file_type="obj").encode(),
        "box.ply": box.export(file_type="ply"),
        "red.ply": colored.export(file_type="ply"),
        "text.txt": b"a text file",
    }.items():
        path = root / name
        path.write_bytes(data)
        out[name] = path
    return out


# ---------------------------------------------------------------------------------------------
# fields and defaults
# ---------------------------------------------------------------------------------------------


def test_fields():
    assert list(TextDoc.model_fields) == ["id", "text", "url", "embedding", "bytes_"]
    assert list(ImageDoc.model_fields) == ["id", "url", "tensor", "embedding", "bytes_"]
    assert list(AudioDoc.model_fields) == [
        "id",
        "url",
        "tensor",
        "embedding",
        "bytes_",
        "frame_rate",
    ]
    assert list(VideoDoc.model_fields) == [
        "id",
        "url",
        "audio",
        "tensor",
        "key_frame_indices",
        "embedding",
        "bytes_",
    ]
    assert list(Mesh3D.model_fields) == ["id", "url", "tensors", "embedding", "bytes_"]
    assert list(PointCloud3D.model_fields) == ["id", "url", "tensors", "embedding", "bytes_"]


@pytest.mark.parametrize("doc_type", DOC_TYPES)
def test_all_fields_optional(doc_type):
    doc = doc_type()
    assert len(doc.id) == 32
    for name in doc_type.model_fields:
        if name not in ("id", "audio"):
            assert getattr(doc, name) is None


def test_video_doc_default_audio():
    a, b = VideoDoc(), VideoDoc()
    assert isinstance(a.audio, AudioDoc) and a.audio.tensor is None
    assert a.audio is not b.audio and a.audio.id != b.audio.id  # a fresh AudioDoc each
    a.audio.frame_rate = 8000
    assert b.audio.frame_rate is None
    assert VideoDoc(audio=None).audio is None


# ---------------------------------------------------------------------------------------------
# shorthands
# ---------------------------------------------------------------------------------------------


def test_text_doc_shorthands():
    doc = TextDoc("hello world")
    assert doc.text == "hello world" and TextDoc(text="x").text == "x"
    assert doc == "hello world" and doc != "other" and "hello world" == doc
    assert "world" in doc and "xyz" not in doc and "a" not in TextDoc()
    assert TextDoc("a") == TextDoc("a") and TextDoc("a") != TextDoc("b")
    assert TextDoc.model_validate("direct").text == "direct"

    class Post(BaseDoc):
        title: TextDoc
        body: Optional[TextDoc] = None

    post = Post(title="Hi", body="there")
    assert post.title.text == "Hi" and post.body.text == "there"
    assert Post(title=TextDoc(text="x", url="a.txt")).title.url == "a.txt"
    assert Post(title={"text": "as dict"}).title.text == "as dict"


@pytest.mark.parametrize("doc_type, url", [(ImageDoc, "https://x.org/cat.png"),
                                           (AudioDoc, "https://x.org/song.mp3"),
                                           (VideoDoc, "https://x.org/clip.mp4"),
                                           (Mesh3D, "https://x.org/bunny.obj"),
                                           (PointCloud3D, "https://x.org/scan.ply")])  # fmt: skip
def test_url_shorthands(doc_type, url):
    url_type = doc_type.model_fields["url"].annotation.__args__[0]
    doc = doc_type(url)
    assert doc.url == url and type(doc.url) is url_type
    assert doc_type(url=url) == doc

    class Holder(BaseDoc):
        item: doc_type
        maybe: Optional[doc_type] = None

    held = Holder(item=url, maybe=url)
    assert held.item.url == url and type(held.item) is doc_type
    assert held.maybe.url == url
    assert doc_type.model_validate(url).url == url
    assert doc_type("http://example.ai/media/1024").url == "http://example.ai/media/1024"


@pytest.mark.parametrize(
    "doc_type, value, tensor_type",
    [
        (ImageDoc, np.zeros((4, 5, 3), np.uint8), "ImageNdArray"),
        (ImageDoc, torch.zeros(3, 4, 5), "ImageTorchTensor"),
        (AudioDoc, np.zeros(100, np.float32), "AudioNdArray"),
        (AudioDoc, torch.zeros(100, 2), "AudioTorchTensor"),
        (VideoDoc, np.zeros((2, 4, 4, 3), np.uint8), "VideoNdArray"),
    ],
)
def test_tensor_shorthands(doc_type, value, tensor_type):
    doc = doc_type(value)
    assert type(doc.tensor).__name__ == tensor_type
    assert tuple(doc.tensor.shape) == tuple(value.shape)

    class Holder(BaseDoc):
        item: doc_type

    assert type(Holder(item=value).item.tensor).__name__ == tensor_type


@pytest.mark.parametrize(
    "doc_type, bytes_type",
    [
        (ImageDoc, ImageBytes),
        (AudioDoc, AudioBytes),
        (VideoDoc, VideoBytes),
        (Mesh3D, bytes),
        (PointCloud3D, bytes),
    ],
)
def test_bytes_shorthands(doc_type, bytes_type):
    doc = doc_type(b"\x00raw")
    assert doc.bytes_ == b"\x00raw" and type(doc.bytes_) is bytes_type

    class Holder(BaseDoc):
        item: doc_type

    assert Holder(item=bytearray(b"\x00raw")).item.bytes_ == b"\x00raw"


def test_3d_tensors_shorthands():
    vf = VerticesAndFaces(vertices=np.zeros((3, 3)), faces=[[0, 1, 2]])
    assert Mesh3D(vf).tensors is vf
    pc = PointsAndColors(points=np.zeros((5, 3)))
    assert PointCloud3D(pc).tensors is pc

    class Holder(BaseDoc):
        mesh: Mesh3D
        cloud: PointCloud3D

    held = Holder(mesh=vf, cloud=pc)
    assert held.mesh.tensors == vf and held.cloud.tensors == pc


@pytest.mark.parametrize("doc_type", DOC_TYPES[1:])
def test_positional_argument_errors(doc_type):
    with pytest.raises(TypeError, match=doc_type.__name__):
        doc_type(42)
    with pytest.raises(TypeError, match="both"):
        doc_type("a", url="b")
    assert doc_type(None) == doc_type()


def test_text_doc_positional_errors():
    with pytest.raises(TypeError, match="both"):
        TextDoc("a", text="b")
    with pytest.raises(ValidationError) as info:
        TextDoc(3)
    assert info.value.errors()[0]["loc"] == ("text",)


def test_subclass_keeps_shorthands():
    class Photo(ImageDoc):
        caption: str = ""

    photo = Photo("https://x.org/a.jpg", caption="sunset")
    assert photo.url == "https://x.org/a.jpg" and photo.caption == "sunset"

    class Album(BaseDoc):
        cover: Photo

    assert Album(cover="https://x.org/b.png").cover.url == "https://x.org/b.png"


# ---------------------------------------------------------------------------------------------
# wrong types
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "doc_type, field, value",
    [
        (TextDoc, "text", 3),
        (TextDoc, "url", "photo.png"),
        (TextDoc, "embedding", "not a tensor"),
        (ImageDoc, "url", "song.mp3"),
        (ImageDoc, "url", 42),
        (ImageDoc, "tensor", "abc"),
        (ImageDoc, "bytes_", 3.5),
        (ImageDoc, "embedding", {"a": 1}),
        (AudioDoc, "url", "photo.jpg"),
        (AudioDoc, "frame_rate", "fast"),
        (AudioDoc, "bytes_", [1, 2]),
        (VideoDoc, "url", "song.wav"),
        (VideoDoc, "audio", 5),
        (VideoDoc, "key_frame_indices", "x"),
        (VideoDoc, "bytes_", 1),
        (Mesh3D, "url", "notes.txt"),
        (Mesh3D, "tensors", 7),
        (PointCloud3D, "url", "clip.mp4"),
        (PointCloud3D, "tensors", "x"),
    ],
)
def test_wrong_types_name_the_field(doc_type, field, value):
    with pytest.raises(ValidationError) as info:
        doc_type(**{field: value})
    assert info.value.errors()[0]["loc"][0] == field
    assert field in str(info.value)


def test_wrong_type_as_nested_field_value():
    class Holder(BaseDoc):
        image: ImageDoc

    with pytest.raises(ValidationError) as info:
        Holder(image=42)
    assert info.value.errors()[0]["loc"] == ("image",)
    with pytest.raises(ValidationError) as info:
        Holder(image="song.mp3")
    assert info.value.errors()[0]["loc"] == ("image", "url")
    assert ".mp3" in str(info.value)


def test_assignment_is_validated():
    doc = ImageDoc()
    doc.url = "https://x.org/a.png"
    assert type(doc.url) is ImageUrl
    with pytest.raises(ValidationError):
        doc.url = "a.wav"


# ---------------------------------------------------------------------------------------------
# JSON round trips
# ---------------------------------------------------------------------------------------------


def _full_docs(digits) -> list[BaseDoc]:
    return [
        TextDoc("hello", url="a.txt", embedding=np.arange(4, dtype=np.float32), bytes_=b"\xff"),
        ImageDoc(
            url="https://x.org/a.png",
            tensor=digits[0],
            embedding=np.linspace(0, 1, 5),
            bytes_=encode_image(digits[0]),
        ),
        AudioDoc(
            url="a.wav",
            tensor=np.linspace(-1, 1, 50, dtype=np.float32),
            frame_rate=8000,
            bytes_=b"\x00\x01",
        ),
        VideoDoc(
            url="a.mp4",
            tensor=np.stack([digits[0], digits[1]]),
            key_frame_indices=np.array([0]),
            audio=AudioDoc(tensor=np.zeros(10)),
            bytes_=b"\x00mp4",
        ),
        Mesh3D(
            url="a.obj",
            tensors=VerticesAndFaces(vertices=np.eye(3), faces=np.array([[0, 1, 2]])),
            bytes_=b"\x00obj",
        ),
        PointCloud3D(
            url="a.ply",
            tensors=PointsAndColors(points=np.ones((4, 3)), colors=np.zeros((4, 3), np.uint8)),
            embedding=torch.ones(3),
        ),
    ]


def test_json_round_trip_every_document(digits):
    for doc in _full_docs(digits):
        text = doc.model_dump_json()
        json.loads(text)
        again = type(doc).model_validate_json(text)
        assert again == doc, type(doc).__name__
        assert again.id == doc.id
        assert type(again.url) is type(doc.url)
        if hasattr(doc, "bytes_") and doc.bytes_ is not None:
            assert again.bytes_ == doc.bytes_ and type(again.bytes_) is type(doc.bytes_)
    image = ImageDoc.model_validate_json(_full_docs(digits)[1].model_dump_json())
    assert isinstance(image.tensor, ImageNdArray)
    np.testing.assert_array_equal(image.tensor, digits[0])
    np.testing.assert_array_equal(image.bytes_.load(), digits[0])


def test_json_round_trip_nested(digits):
    class Page(BaseDoc):
        title: TextDoc
        banner: ImageDoc
        clips: DocList[VideoDoc]
        scene: Optional[Mesh3D] = None

    page = Page(
        title="Welcome",
        banner=digits[2],
        clips=[VideoDoc("a.mp4"), VideoDoc(tensor=np.stack([digits[3]] * 2))],
        scene="https://x.org/scene.glb",
    )
    again = Page.model_validate_json(page.model_dump_json())
    assert again == page
    assert again.title == "Welcome"
    assert again.scene.url == "https://x.org/scene.glb"
    assert again.clips[1].tensor.shape == (2, 8, 8, 3)
    assert isinstance(again.clips[0].audio, AudioDoc)


def test_json_schema_of_documents():
    for doc_type in DOC_TYPES:
        schema = doc_type.model_json_schema()
        assert "url" in schema["properties"]


# ---------------------------------------------------------------------------------------------
# DocList and DocVec
# ---------------------------------------------------------------------------------------------


def test_doc_list_of_every_document(digits):
    for doc in _full_docs(digits):
        docs = DocList[type(doc)]([doc, doc.model_copy(deep=True)])
        assert len(docs) == 2 and docs.url == [doc.url, doc.url]


def test_doc_list_validates_shorthands_from_dicts():
    docs = DocList[ImageDoc]([ImageDoc("a.png"), {"url": "b.png"}])
    assert docs.url == ["a.png", "b.png"]
    with pytest.raises(ValueError):
        DocList[ImageDoc]([TextDoc("not an image")])


def test_doc_vec_image_stacks_tensors(digits):
    docs = DocVec[ImageDoc]([ImageDoc(tensor=d, url=f"img/{i}.png") for i, d in enumerate(digits)])
    assert isinstance(docs.tensor, ImageNdArray)
    assert docs.tensor.shape == (8, 8, 8, 3)
    np.testing.assert_array_equal(docs.tensor, digits)
    assert docs.url == [f"img/{i}.png" for i in range(8)]
    view = docs[3]
    assert view.is_view() and isinstance(view, ImageDoc)
    np.testing.assert_array_equal(view.tensor, digits[3])
    view.url = "changed.png"
    assert docs.url[3] == "changed.png"
    with pytest.raises(ValidationError):
        view.url = "song.mp3"
    back = docs.to_doc_list()
    assert isinstance(back, DocList) and back[3].url == "changed.png"
    assert ImageDoc.model_validate_json(view.model_dump_json()) == view


def test_doc_vec_torch_column(digits):
    from docstack.typing import TorchTensor

    items = [ImageDoc(torch.from_numpy(d.copy())) for d in digits[:3]]
    docs = DocVec[ImageDoc](items, tensor_type=TorchTensor)
    assert isinstance(docs.tensor, torch.Tensor) and tuple(docs.tensor.shape) == (3, 8, 8, 3)
    assert isinstance(DocVec[ImageDoc](items).tensor, ImageNdArray)  # numpy by default


def test_doc_vec_of_every_document(digits):
    for doc in _full_docs(digits):
        docs = DocVec[type(doc)]([doc, doc.model_copy(deep=True)])
        assert len(docs) == 2
        assert docs[0] == doc and docs[1] == doc
        assert docs.to_doc_list()[1] == doc


def test_doc_vec_video_nested_audio(digits):
    clips = [
        VideoDoc(tensor=np.stack([d, d]), audio=AudioDoc(tensor=np.zeros(16, np.float32)))
        for d in digits[:4]
    ]
    docs = DocVec[VideoDoc](clips)
    assert docs.tensor.shape == (4, 2, 8, 8, 3)
    assert isinstance(docs.audio, DocVec)
    assert docs.audio.tensor.shape == (4, 16)
    plain = DocVec[VideoDoc]([VideoDoc(), VideoDoc()])  # default audio
    assert isinstance(plain[0].audio, AudioDoc) and plain.tensor is None


def test_doc_vec_text():
    docs = DocVec[TextDoc]([TextDoc("a"), TextDoc("b")])
    assert docs.text == ["a", "b"] and docs[1] == "b"


# ---------------------------------------------------------------------------------------------
# loading into documents from generated files
# ---------------------------------------------------------------------------------------------


def test_load_into_image_audio_video_text(files):
    image = ImageDoc(str(files["photo.png"]))
    image.tensor = image.url.load()
    image.bytes_ = image.url.load_bytes()
    np.testing.assert_array_equal(image.tensor, files["photo"])
    assert isinstance(image.bytes_, ImageBytes)

    audio = AudioDoc(str(files["tone.wav"]))
    audio.tensor, audio.frame_rate = audio.url.load()
    assert audio.frame_rate == 8000 and audio.tensor.shape == (2000,)

    video = VideoDoc(str(files["clip.mp4"]))
    video.tensor, video.audio.tensor, video.key_frame_indices = video.url.load()
    assert video.tensor.shape == (2, 16, 16, 3) and video.audio.tensor.shape == (0,)

    text = TextDoc(url=str(files["text.txt"]))
    text.text = text.url.load()
    assert text == "a text file"
    assert type(text.url) is TextUrl
    again = VideoDoc.model_validate_json(video.model_dump_json())
    assert again == video


@pytest.mark.parametrize("name", ["box.obj", "box.ply"])
def test_mesh_3d_loading(files, name):
    mesh = Mesh3D(str(files[name]))
    assert type(mesh.url) is Mesh3DUrl
    mesh.tensors = mesh.url.load()
    assert isinstance(mesh.tensors, VerticesAndFaces)
    assert mesh.tensors.vertices.shape == (8, 3) and mesh.tensors.faces.shape == (12, 3)
    np.testing.assert_allclose(np.abs(mesh.tensors.vertices), 1.0)  # extents 2
    mesh.bytes_ = mesh.url.load_bytes()
    again = Mesh3D.model_validate_json(mesh.model_dump_json())
    assert again == mesh


@pytest.mark.parametrize("name", ["box.obj", "box.ply"])
def test_point_cloud_3d_loading(files, name):
    cloud = PointCloud3D(str(files[name]))
    assert type(cloud.url) is PointCloud3DUrl
    cloud.tensors = cloud.url.load(samples=64, seed=1)
    assert isinstance(cloud.tensors, PointsAndColors)
    assert cloud.tensors.points.shape == (64, 3) and cloud.tensors.colors is None
    # every sampled point lies on a face of the box
    assert np.allclose(np.abs(cloud.tensors.points).max(axis=1), 1.0)
    again = PointCloud3D.model_validate_json(cloud.model_dump_json())
    assert again == cloud


def test_point_cloud_with_colors(files):
    cloud = PointCloud3DUrl(str(files["red.ply"])).load(samples=30)
    assert cloud.colors is not None and cloud.colors.shape == (30, 3)
    assert np.all(np.asarray(cloud.colors) == [255, 0, 0])


def test_corrupt_3d_file(tmp_path):
    bad = tmp_path / "bad.ply"
    bad.write_bytes(b"ply\nformat nonsense\n" * 4)
    with pytest.raises(LoadError, match="bad.ply"):
        Mesh3D(str(bad)).url.load()
    with pytest.raises(LoadError, match="bad.ply"):
        PointCloud3D(str(bad)).url.load(samples=5)


def test_3d_display_outside_notebook():
    vf = VerticesAndFaces(vertices=np.eye(3), faces=[[0, 1, 2]])
    with pytest.raises(RuntimeError, match="notebook"):
        vf.display()
    with pytest.raises(RuntimeError, match="notebook"):
        PointsAndColors(points=np.zeros((3, 3))).display()


def test_url_types_of_fields():
    assert ImageDoc("a.png").url.__class__ is ImageUrl
    assert AudioDoc("a.mp3").url.__class__ is AudioUrl
    assert VideoDoc("a.mp4").url.__class__ is VideoUrl


@pytest.mark.parametrize("framework", ["numpy", "torch"])
def test_point_cloud_from_a_tensor_of_points(framework):
    import torch

    points = np.random.default_rng(0).random((50, 3))
    value = torch.from_numpy(points) if framework == "torch" else points

    class Scene(BaseDoc):
        cloud: PointCloud3D

    for doc in (PointCloud3D(value), Scene(cloud=value).cloud):
        np.testing.assert_allclose(np.asarray(doc.tensors.points), points)
        assert doc.url is None
    with pytest.raises(TypeError, match="tensor of points"):
        PointCloud3D(3.5)

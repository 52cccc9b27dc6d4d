"""URL types: validation, JSON, and ``load()`` from real local files and a local HTTP server."""

from __future__ import annotations

import base64
import http.server
import json
import pickle
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import trimesh
from pydantic import ValidationError
from sklearn.datasets import load_digits, load_sample_images

from docstack import BaseDoc
from docstack._internal.media import encode_audio, encode_image, encode_video
from docstack.documents import PointsAndColors, VerticesAndFaces
from docstack.errors import DocstackError, LoadError
from docstack.typing import (
    AnyUrl,
    AudioBytes,
    AudioNdArray,
    AudioUrl,
    ImageBytes,
    ImageNdArray,
    ImageUrl,
    Mesh3DUrl,
    NdArray,
    PointCloud3DUrl,
    TextUrl,
    VideoBytes,
    VideoLoadResult,
    VideoNdArray,
    VideoUrl,
)

URL_TYPES = [AnyUrl, ImageUrl, AudioUrl, VideoUrl, TextUrl, Mesh3DUrl, PointCloud3DUrl]
MODALITY_URL_TYPES = URL_TYPES[1:]

TEXT = "Grüße, docstack!\nzweite Zeile\n"
FRAME_RATE = 8000

# ---------------------------------------------------------------------------------------------
# real media files, made once per module
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def media(tmp_path_factory) -> dict:
    root = tmp_path_factory.mktemp("media")
    china = load_sample_images().images[0][:120, :160]  # (120, 160, 3) uint8, a real photo
    digit = (load_digits().images[0] * 255 / 16).astype(np.uint8)  # (8, 8) grey
    t = np.arange(FRAME_RATE // 4) / FRAME_RATE
    tone = (0.5 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
    frames = np.stack([np.roll(china[:32, :32], shift=4 * i, axis=1) for i in range(4)])
    box = trimesh.creation.box()

    files = {
        "png": encode_image(china, "PNG"),
        "jpg": encode_image(china, "JPEG"),
        "digit.png": encode_image(digit, "PNG"),
        "wav": encode_audio(tone, FRAME_RATE),
        "mp4": encode_video(frames, frame_rate=4, audio=tone, audio_frame_rate=FRAME_RATE),
        "obj": box.export(file_type="obj").encode(),
        "ply": box.export(file_type="ply"),
        "txt": TEXT.encode("utf-8"),
    }
    paths = {}
    for key, data in files.items():
        name = key if "." in key else f"media.{key}"
        path = root / name
        path.write_bytes(data)
        paths[key] = path
    corrupt = {}
    for ext in ("png", "wav", "mp4", "obj", "ply"):
        path = root / f"corrupt.{ext}"
        # (binary garbage for OBJ needs charset_normalizer inside trimesh: see the report)
        junk = b"this is not a media file\n" if ext == "obj" else b"\x00\x01 not media \xff"
        path.write_bytes(junk * 8)
        corrupt[ext] = path
    return {
        "root": root,
        "paths": paths,
        "bytes": files,
        "corrupt": corrupt,
        "china": china,
        "digit": digit,
        "tone": tone,
        "frames": frames,
    }


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args):  # silence the test output
        pass

    def do_GET(self):
        server = self.server
        if self.path == "/slow":
            server.release.wait(10)  # set when the fixture ends
            body = b"late"
        elif self.path == "/no-length":
            self.send_response(200)
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(b"x" * 5000)
            return
        elif self.path in server.routes:
            body = server.routes[self.path]
        else:
            self.send_error(404, "Not Found")
            return
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture(scope="module")
def http_base(media):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    server.release = threading.Event()
    files = media["bytes"]
    server.routes = {
        "/image.png": files["png"],
        "/images/1024": files["png"],  # no extension
        "/audio.wav": files["wav"],
        "/clip.mp4": files["mp4"],
        "/doc.txt": files["txt"],
        "/box.obj": files["obj"],
        "/box.ply": files["ply"],
        "/models/box": files["ply"],  # no extension: the format is sniffed
        "/big.png": files["png"],
    }
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    host, port = server.server_address
    try:
        yield f"http://{host}:{port}"
    finally:
        server.release.set()
        server.shutdown()
        server.server_close()
        thread.join(5)


# ---------------------------------------------------------------------------------------------
# validation
# ---------------------------------------------------------------------------------------------

GOOD_URLS = [
    "http://example.ai/images/1024",
    "https://example.com/a/b/c",
    "https://example.com/x?size=2#frag",
    "file:///tmp/a",
    "/absolute/path/file",
    "relative/path/file",
    "./here",
    "~/home-file",
    "s3://bucket/key",
]


@pytest.mark.parametrize("url_type", URL_TYPES)
@pytest.mark.parametrize("url", GOOD_URLS)
def test_valid_urls_and_paths(url_type, url):
    value = url_type(url)
    assert isinstance(value, str) and isinstance(value, url_type)
    assert value == url

    class Doc(BaseDoc):
        link: url_type

    doc = Doc(link=url)
    assert doc.link == url and type(doc.link) is url_type


@pytest.mark.parametrize(
    "url_type, url",
    [
        (ImageUrl, "https://x.org/a.png"),
        (ImageUrl, "photo.JPEG"),
        (ImageUrl, "https://x.org/a.webp?w=10"),
        (AudioUrl, "https://x.org/a.mp3"),
        (AudioUrl, "/music/song.flac"),
        (AudioUrl, "track.webm"),  # audio-only WebM exists
        (VideoUrl, "https://x.org/a.mp4"),
        (VideoUrl, "clip.webm"),
        (VideoUrl, "clip.mkv"),
        (TextUrl, "https://x.org/readme.md"),
        (TextUrl, "notes.txt"),
        (TextUrl, "script.py"),  # unknown to every table: accepted
        (Mesh3DUrl, "bunny.obj"),
        (Mesh3DUrl, "scene.glb"),
        (PointCloud3DUrl, "scan.pcd"),
        (PointCloud3DUrl, "bunny.obj"),  # points are sampled from a mesh's surface
        (ImageUrl, "data:image/png;base64,AAAA"),
        (TextUrl, "data:,hello"),
    ],
)
def test_own_extensions_accepted(url_type, url):
    assert url_type(url) == url


@pytest.mark.parametrize("url_type", URL_TYPES)
def test_unknown_extension_accepted(url_type):
    assert url_type("https://example.com/file.unknownext") == "https://example.com/file.unknownext"


@pytest.mark.parametrize(
    "url_type, url, ext",
    [
        (ImageUrl, "a.mp3", "mp3"),
        (ImageUrl, "https://example.com/v/clip.mp4?x=1", "mp4"),
        (AudioUrl, "https://example.com/cat.png", "png"),
        (AudioUrl, "movie.mkv", "mkv"),
        (VideoUrl, "/data/song.wav", "wav"),
        (VideoUrl, "photo.jpg", "jpg"),
        (TextUrl, "photo.png", "png"),
        (TextUrl, "bunny.obj", "obj"),
        (Mesh3DUrl, "scan.pcd", "pcd"),
        (Mesh3DUrl, "notes.txt", "txt"),
        (PointCloud3DUrl, "song.mp3", "mp3"),
        (PointCloud3DUrl, "photo.gif", "gif"),
    ],
)
def test_other_modality_extension_rejected(url_type, url, ext):
    with pytest.raises(ValueError) as direct:
        url_type(url)
    message = str(direct.value)
    assert repr(url) in message and f".{ext}" in message and url_type.__name__ in message

    class Doc(BaseDoc):
        media_link: url_type

    with pytest.raises(ValidationError) as info:
        Doc(media_link=url)
    text = str(info.value)
    assert "media_link" in text and f".{ext}" in text
    assert info.value.errors()[0]["loc"] == ("media_link",)
    # the accepted extensions are listed
    own = sorted(url_type._docstack_extensions)[0]
    assert f".{own}" in text


def test_any_url_accepts_every_extension():
    for url in ("a.mp3", "a.png", "a.mp4", "a.obj", "a.txt"):
        assert AnyUrl(url) == url


def test_data_url_media_type_checked():
    assert ImageUrl("data:image/png;base64,AAAA")
    with pytest.raises(ValueError, match="audio/wav"):
        ImageUrl("data:audio/wav;base64,AAAA")
    with pytest.raises(ValueError, match="no ','"):
        AnyUrl("data:image/png;base64")


@pytest.mark.parametrize("url_type", URL_TYPES)
@pytest.mark.parametrize("bad", ["", "   ", "http://", "https:///path", "a\nb", "nul\x00"])
def test_invalid_strings_rejected(url_type, bad):
    with pytest.raises(ValueError):
        url_type(bad)

    class Doc(BaseDoc):
        link: url_type

    with pytest.raises(ValidationError) as info:
        Doc(link=bad)
    assert info.value.errors()[0]["loc"] == ("link",)


@pytest.mark.parametrize("url_type", URL_TYPES)
@pytest.mark.parametrize("bad", [42, 1.5, b"https://x.org/a.png", Path("a.png"), ["a"], None])
def test_non_str_rejected(url_type, bad):
    class Doc(BaseDoc):
        link: url_type

    with pytest.raises(ValidationError) as info:
        Doc(link=bad)
    assert info.value.errors()[0]["loc"] == ("link",)
    if bad is not None:
        assert "needs a str" in str(info.value)
        with pytest.raises(TypeError, match="needs a str"):
            url_type(bad)


def test_json_round_trip_and_schema():
    class Doc(BaseDoc):
        image: ImageUrl
        audio: AudioUrl
        other: AnyUrl | None = None

    doc = Doc(image="http://example.ai/images/1024", audio="/music/a.mp3")
    data = json.loads(doc.model_dump_json())
    assert data["image"] == "http://example.ai/images/1024"
    assert data["audio"] == "/music/a.mp3"
    again = Doc.model_validate_json(doc.model_dump_json())
    assert again == doc and type(again.image) is ImageUrl and type(again.audio) is AudioUrl
    assert type(doc.model_dump()["image"]) is ImageUrl
    schema = Doc.model_json_schema()["properties"]
    assert schema["image"]["type"] == "string"
    assert schema["image"]["format"] == "uri-reference"


def test_pickle_and_extension():
    url = ImageUrl("https://example.com/dir/a.PNG?x=1")
    assert pickle.loads(pickle.dumps(url)) == url
    assert type(pickle.loads(pickle.dumps(url))) is ImageUrl
    assert url.extension == "png"
    assert ImageUrl("http://example.ai/images/1024").extension is None


def test_validate_classmethod():
    assert type(ImageUrl.validate("a.png")) is ImageUrl
    with pytest.raises(ValueError):
        ImageUrl.validate(3)


# ---------------------------------------------------------------------------------------------
# loading local files
# ---------------------------------------------------------------------------------------------


def test_image_load_png_exact(media):
    url = ImageUrl(str(media["paths"]["png"]))
    pixels = url.load()
    assert isinstance(pixels, ImageNdArray)
    assert pixels.dtype == np.uint8 and pixels.shape == (120, 160, 3)
    np.testing.assert_array_equal(pixels, media["china"])


def test_image_load_jpeg_and_file_url(media):
    path = media["paths"]["jpg"]
    for url in (str(path), path.as_uri()):
        pixels = ImageUrl(url).load()
        assert pixels.shape == (120, 160, 3)
        # JPEG is lossy: close to the original, not equal
        diff = np.abs(pixels.astype(int) - media["china"].astype(int)).mean()
        assert diff < 10


def test_image_load_resize_and_axis_layout(media):
    url = ImageUrl(str(media["paths"]["png"]))
    assert url.load(width=80, height=30).shape == (30, 80, 3)
    assert url.load(width=80).shape == (60, 80, 3)  # aspect ratio kept
    assert url.load(height=60).shape == (60, 80, 3)
    chw = url.load(axis_layout=("C", "H", "W"))
    assert chw.shape == (3, 120, 160)
    np.testing.assert_array_equal(chw, media["china"].transpose(2, 0, 1))
    assert url.load(width=16, height=8, axis_layout=("W", "H", "C")).shape == (16, 8, 3)
    with pytest.raises(ValueError):
        url.load(axis_layout=("H", "H", "C"))


def test_image_load_grey_digit(media):
    pixels = ImageUrl(str(media["paths"]["digit.png"])).load()
    assert pixels.shape == (8, 8, 3)
    np.testing.assert_array_equal(pixels[:, :, 0], media["digit"])
    np.testing.assert_array_equal(pixels[:, :, 1], media["digit"])


def test_image_load_pil_and_bytes(media):
    url = ImageUrl(str(media["paths"]["png"]))
    image = url.load_pil()
    assert image.size == (160, 120) and image.mode == "RGB"
    data = url.load_bytes()
    assert isinstance(data, ImageBytes) and data == media["bytes"]["png"]
    np.testing.assert_array_equal(data.load(), media["china"])


def test_audio_load(media):
    url = AudioUrl(str(media["paths"]["wav"]))
    samples, frame_rate = url.load()
    assert isinstance(samples, AudioNdArray)
    assert frame_rate == FRAME_RATE
    assert samples.shape == media["tone"].shape and samples.dtype == np.float32
    np.testing.assert_allclose(samples, media["tone"], atol=1e-3)  # 16-bit PCM
    assert isinstance(url.load_bytes(), AudioBytes)


def test_video_load(media):
    url = VideoUrl(str(media["paths"]["mp4"]))
    result = url.load()
    assert isinstance(result, VideoLoadResult)
    video, audio, key_frames = result
    assert isinstance(video, VideoNdArray) and video.shape == (4, 32, 32, 3)
    assert video.dtype == np.uint8
    # lossy codec: the frames are close to what was encoded
    assert np.abs(video.astype(int) - media["frames"].astype(int)).mean() < 25
    assert isinstance(audio, AudioNdArray) and audio.ndim == 1 and audio.shape[0] > 1000
    assert isinstance(key_frames, NdArray) and key_frames.tolist()[0] == 0
    assert result.video is video and result.key_frame_indices is key_frames
    assert isinstance(url.load_bytes(), VideoBytes)


@pytest.mark.parametrize(
    ("url_cls", "bytes_cls"),
    [
        (AnyUrl, bytes),
        (TextUrl, bytes),
        (Mesh3DUrl, bytes),
        (ImageUrl, ImageBytes),
        (AudioUrl, AudioBytes),
        (VideoUrl, VideoBytes),
    ],
)
def test_load_bytes_returns_the_url_types_bytes_type(url_cls, bytes_cls):
    data = url_cls("data:;base64,AAEC").load_bytes()
    assert type(data) is bytes_cls
    assert data == b"\x00\x01\x02"
    # one implementation on AnyUrl, chosen by a class variable
    assert url_cls.load_bytes is AnyUrl.load_bytes
    assert url_cls._docstack_bytes_type is bytes_cls


def test_load_bytes_type_of_a_user_subclass():
    class Tagged(bytes):
        pass

    class TaggedUrl(AnyUrl):
        _docstack_bytes_type = Tagged

    data = TaggedUrl("data:,hi").load_bytes()
    assert type(data) is Tagged and data == b"hi"


def test_text_load(media, tmp_path):
    url = TextUrl(str(media["paths"]["txt"]))
    assert url.load() == TEXT
    latin = tmp_path / "latin.txt"
    latin.write_bytes("café".encode("latin-1"))
    assert TextUrl(str(latin)).load(charset="latin-1") == "café"
    with pytest.raises(LoadError, match="utf-8"):
        TextUrl(str(latin)).load()
    with pytest.raises(ValueError, match="charset"):
        url.load(charset="no-such-charset")
    assert TextUrl("data:text/plain;base64," + base64.b64encode(b"hi").decode()).load() == "hi"


@pytest.mark.parametrize("ext", ["obj", "ply"])
def test_mesh_load(media, ext):
    mesh = Mesh3DUrl(str(media["paths"][ext])).load()
    assert isinstance(mesh, VerticesAndFaces)
    assert mesh.vertices.shape == (8, 3) and mesh.faces.shape == (12, 3)
    np.testing.assert_allclose(np.abs(mesh.vertices), 0.5)  # the unit box
    assert int(mesh.faces.max()) == 7


@pytest.mark.parametrize("ext", ["obj", "ply"])
def test_point_cloud_load(media, ext):
    url = PointCloud3DUrl(str(media["paths"][ext]))
    cloud = url.load(samples=100, seed=0)
    assert isinstance(cloud, PointsAndColors)
    assert cloud.points.shape == (100, 3)
    assert np.all(np.abs(cloud.points) <= 0.5 + 1e-9)  # on the box's surface
    np.testing.assert_array_equal(url.load(samples=100, seed=0).points, cloud.points)
    several = url.load(samples=50, multiple_geometries=True)
    assert several.points.shape == (1, 50, 3)


def test_3d_format_from_file_type_or_content(media, tmp_path):
    no_ext = tmp_path / "box_without_extension"
    no_ext.write_bytes(media["bytes"]["ply"])
    assert Mesh3DUrl(str(no_ext)).load().vertices.shape == (8, 3)  # PLY is recognised
    obj_no_ext = tmp_path / "obj_without_extension"
    obj_no_ext.write_bytes(media["bytes"]["obj"])
    with pytest.raises(LoadError, match="file_type"):
        Mesh3DUrl(str(obj_no_ext)).load()
    assert Mesh3DUrl(str(obj_no_ext)).load(file_type="obj").faces.shape == (12, 3)
    assert PointCloud3DUrl(str(obj_no_ext)).load(10, file_type="obj").points.shape == (10, 3)


@pytest.mark.parametrize(
    "url_type, ext, call",
    [
        (ImageUrl, "png", lambda u: u.load()),
        (ImageUrl, "png", lambda u: u.load_pil()),
        (AudioUrl, "wav", lambda u: u.load()),
        (VideoUrl, "mp4", lambda u: u.load()),
        (Mesh3DUrl, "obj", lambda u: u.load()),
        (PointCloud3DUrl, "ply", lambda u: u.load(samples=10)),
    ],
)
def test_corrupt_file_is_a_load_error(media, url_type, ext, call):
    url = url_type(str(media["corrupt"][ext]))
    with pytest.raises(LoadError) as info:
        call(url)
    assert str(url) in str(info.value)
    assert isinstance(info.value, DocstackError)


def test_missing_local_file(tmp_path):
    with pytest.raises(LoadError, match="not found"):
        ImageUrl(str(tmp_path / "nothing.png")).load()


def test_unloadable_scheme():
    with pytest.raises(LoadError, match="unsupported scheme"):
        AnyUrl("s3://bucket/key").load_bytes()


def test_display_outside_notebook(media):
    with pytest.raises(RuntimeError, match="notebook"):
        ImageUrl(str(media["paths"]["png"])).display()
    with pytest.raises(RuntimeError, match="notebook"):
        Mesh3DUrl(str(media["paths"]["obj"])).display()


# ---------------------------------------------------------------------------------------------
# loading over HTTP (127.0.0.1 only)
# ---------------------------------------------------------------------------------------------


def test_http_loads(http_base, media):
    np.testing.assert_array_equal(ImageUrl(f"{http_base}/image.png").load(), media["china"])
    samples, frame_rate = AudioUrl(f"{http_base}/audio.wav").load(timeout=5)
    assert frame_rate == FRAME_RATE and samples.shape == media["tone"].shape
    assert VideoUrl(f"{http_base}/clip.mp4").load().video.shape == (4, 32, 32, 3)
    assert TextUrl(f"{http_base}/doc.txt").load() == TEXT
    assert Mesh3DUrl(f"{http_base}/box.obj").load().faces.shape == (12, 3)
    assert PointCloud3DUrl(f"{http_base}/box.ply").load(samples=20).points.shape == (20, 3)
    assert AnyUrl(f"{http_base}/doc.txt").load_bytes() == TEXT.encode()


def test_http_extensionless(http_base, media):
    url = ImageUrl(f"{http_base}/images/1024")
    assert url.load(width=40).shape == (30, 40, 3)
    assert Mesh3DUrl(f"{http_base}/models/box").load().vertices.shape == (8, 3)


def test_http_timeout_fails_fast(http_base):
    start = time.monotonic()
    with pytest.raises(LoadError, match="timed out"):
        ImageUrl(f"{http_base}/slow").load(timeout=0.5)
    assert time.monotonic() - start < 3


def test_http_size_cap(http_base, media):
    size = len(media["bytes"]["png"])
    with pytest.raises(LoadError, match="too large"):
        ImageUrl(f"{http_base}/big.png").load(max_bytes=size - 1)
    assert ImageUrl(f"{http_base}/big.png").load(max_bytes=size).shape == (120, 160, 3)
    with pytest.raises(LoadError, match="too large"):  # no Content-Length: stops reading
        AnyUrl(f"{http_base}/no-length").load_bytes(max_bytes=1000)


def test_http_not_found(http_base):
    with pytest.raises(LoadError, match="404"):
        ImageUrl(f"{http_base}/missing.png").load()
    with pytest.raises(LoadError, match="404"):
        TextUrl(f"{http_base}/missing.txt").load()


def test_subclass_instance_kept_by_any_url_field():
    class Doc(BaseDoc):
        link: AnyUrl

    image = ImageUrl("https://x.org/a.png")
    assert type(Doc(link=image).link) is ImageUrl  # keeps load() of the image URL
    assert type(ImageUrl(AnyUrl("https://x.org/b.png"))) is ImageUrl
    with pytest.raises(ValueError, match=".wav"):
        ImageUrl(AnyUrl("b.wav"))


def test_long_data_url_is_validated_quickly():
    payload = base64.b64encode(b"\x00" * 3_000_000).decode()
    start = time.monotonic()
    url = ImageUrl("data:image/png;base64," + payload)
    assert time.monotonic() - start < 1
    assert len(url.load_bytes()) == 3_000_000

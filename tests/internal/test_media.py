"""Tests of docstack._internal.media with real images, audio, video and meshes."""

from __future__ import annotations

import io
import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from docstack._internal import media
from docstack._internal.media import (
    decode_audio,
    decode_image,
    decode_mesh,
    decode_point_cloud,
    decode_video,
    encode_audio,
    encode_image,
    encode_video,
)
from docstack.errors import LoadError

# ------------------------------------------------------------------------------------------
# fixtures: real data
# ------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def photos() -> list[np.ndarray]:
    """The two photos shipped with scikit-learn (china, flower), (427, 640, 3) uint8."""
    datasets = pytest.importorskip("sklearn.datasets")
    return list(datasets.load_sample_images().images)


@pytest.fixture(scope="module")
def digits() -> np.ndarray:
    """A few 8x8 handwritten digits scaled to uint8 grey."""
    datasets = pytest.importorskip("sklearn.datasets")
    images = datasets.load_digits().images[:20]  # floats 0..16
    return np.rint(images * (255 / 16)).astype(np.uint8)


def _moving_square(n: int, height: int, width: int) -> np.ndarray:
    frames = np.zeros((n, height, width, 3), np.uint8)
    frames[:] = (30, 60, 90)
    for i in range(n):
        frames[i, 2 + i : 10 + i, 3 + 2 * i : 11 + 2 * i] = (230, 200, 40)
    return frames


def _sine(seconds: float, rate: int, freq: float = 440.0, amplitude: float = 0.5) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return (amplitude * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def _rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(x, dtype=np.float64))))


# ------------------------------------------------------------------------------------------
# images
# ------------------------------------------------------------------------------------------


def test_photo_png_round_trip(photos):
    for photo in photos:
        data = encode_image(photo, "PNG")
        assert data[:8] == b"\x89PNG\r\n\x1a\n"
        decoded = decode_image(data)
        assert decoded.shape == photo.shape == (427, 640, 3)
        assert decoded.dtype == np.uint8
        np.testing.assert_array_equal(decoded, photo)


def test_photo_jpeg_is_close(photos):
    photo = photos[0]
    for fmt in ("JPEG", "jpg", "jpeg"):
        data = encode_image(photo, fmt)
        assert data[:3] == b"\xff\xd8\xff"
        decoded = decode_image(data)
        assert decoded.shape == photo.shape and decoded.dtype == np.uint8
        assert np.abs(decoded.astype(int) - photo).mean() < 8  # quality 75


def test_digits_grayscale_round_trip(digits):
    for digit in digits:
        data = encode_image(digit)  # (8, 8) grey
        decoded = decode_image(data)
        assert decoded.shape == (8, 8, 3)
        for channel in range(3):
            np.testing.assert_array_equal(decoded[:, :, channel], digit)


def test_single_channel_hwc_and_chw(digits):
    digit = digits[0]
    for array in (digit[:, :, None], digit[None, :, :]):
        decoded = decode_image(encode_image(array))
        np.testing.assert_array_equal(decoded[:, :, 0], digit)


def test_chw_encode(photos):
    photo = photos[1][:50, :70]
    chw = np.ascontiguousarray(photo.transpose(2, 0, 1))
    assert chw.shape == (3, 50, 70)
    np.testing.assert_array_equal(decode_image(encode_image(chw)), photo)


def test_rgba_encode_drops_alpha(photos):
    photo = photos[0][:30, :40]
    rgba = np.concatenate([photo, np.full((30, 40, 1), 255, np.uint8)], axis=2)
    np.testing.assert_array_equal(decode_image(encode_image(rgba, "PNG")), photo)
    assert decode_image(encode_image(rgba, "JPEG")).shape == (30, 40, 3)


def test_float_arrays_are_scaled_or_clipped(photos):
    photo = photos[0][:20, :30]
    unit = photo.astype(np.float32) / 255.0
    np.testing.assert_array_equal(decode_image(encode_image(unit)), photo)
    big = np.full((4, 4, 3), 300.0)
    big[0, 0] = -20.0
    decoded = decode_image(encode_image(big))
    assert decoded[0, 0].tolist() == [0, 0, 0]
    assert decoded[1, 1].tolist() == [255, 255, 255]
    ints = np.full((4, 4), 1000, np.int64)
    assert decode_image(encode_image(ints)).max() == 255


@pytest.mark.parametrize("shape", [(10,), (2, 3, 4, 5), (5, 5, 2), (2, 5, 5), (7, 8, 9), (0, 4, 3)])
def test_encode_bad_shape(shape):
    with pytest.raises(ValueError, match=str(shape[0])) as info:
        encode_image(np.zeros(shape, np.uint8))
    assert str(shape) in str(info.value)


def test_encode_unknown_format():
    with pytest.raises(ValueError, match="NOPE"):
        encode_image(np.zeros((4, 4, 3), np.uint8), "NOPE")


def test_resize(photos):
    data = encode_image(photos[0])
    assert decode_image(data, width=64, height=32).shape == (32, 64, 3)
    # one side given: the other follows the aspect ratio (640 x 427)
    assert decode_image(data, width=320).shape == (214, 320, 3)
    assert decode_image(data, height=100).shape == (100, 150, 3)
    with pytest.raises(ValueError):
        decode_image(data, width=0)


@pytest.mark.parametrize("layout", list(itertools.permutations(("H", "W", "C"))))
def test_every_axis_layout(photos, layout):
    photo = photos[0][:40, :60]
    decoded = decode_image(encode_image(photo), axis_layout=layout)
    sizes = {"H": 40, "W": 60, "C": 3}
    assert decoded.shape == tuple(sizes[axis] for axis in layout)
    back = decoded.transpose([layout.index(axis) for axis in ("H", "W", "C")])
    np.testing.assert_array_equal(back, photo)


def test_axis_layout_with_resize(photos):
    decoded = decode_image(
        encode_image(photos[0]), width=32, height=16, axis_layout=("C", "H", "W")
    )
    assert decoded.shape == (3, 16, 32)


@pytest.mark.parametrize("layout", [("H", "W"), ("H", "W", "W"), ("X", "Y", "Z")])
def test_bad_axis_layout(layout):
    with pytest.raises(ValueError, match="axis_layout"):
        decode_image(encode_image(np.zeros((2, 2, 3), np.uint8)), axis_layout=layout)


def test_other_pil_modes_become_rgb():
    image_module = pytest.importorskip("PIL.Image")
    grey16 = (np.arange(32 * 32).reshape(32, 32) * 64).astype(np.uint16)
    cases = {
        "RGBA": image_module.new("RGBA", (5, 4), (10, 20, 30, 128)),
        "P": image_module.new("RGB", (5, 4), (10, 20, 30)).convert("P"),
        "1": image_module.new("1", (5, 4), 1),
        "LA": image_module.new("LA", (5, 4), (77, 200)),
        "I;16": image_module.fromarray(grey16),
    }
    for mode, image in cases.items():
        buffer = io.BytesIO()
        image.save(buffer, format="PNG")
        decoded = decode_image(buffer.getvalue())
        assert decoded.ndim == 3 and decoded.shape[2] == 3 and decoded.dtype == np.uint8, mode
    # 16-bit grey is reduced to 8 bits instead of saturating
    buffer = io.BytesIO()
    image_module.fromarray(grey16).save(buffer, format="PNG")
    decoded = decode_image(buffer.getvalue())
    np.testing.assert_array_equal(decoded[:, :, 0], (grey16 // 257).astype(np.uint8))


def test_corrupt_images_raise_load_error(photos):
    png = encode_image(photos[0][:64, :64], "PNG")
    jpeg = encode_image(photos[0][:64, :64], "JPEG")
    rng = np.random.default_rng(0)
    bad = [
        b"",
        b"definitely not an image",
        rng.integers(0, 256, 4096, dtype=np.uint8).tobytes(),
        png[:40],  # truncated PNG
        png[:8] + bytes(len(png) - 8),  # PNG signature followed by zeros
        jpeg[:100],  # truncated JPEG
    ]
    for data in bad:
        with pytest.raises(LoadError, match="not a decodable image"):
            decode_image(data)


@settings(max_examples=25, deadline=None)
@given(
    hnp.arrays(
        np.uint8,
        st.tuples(st.integers(1, 12), st.integers(1, 12), st.sampled_from([3, 4])),
    )
)
def test_png_round_trip_property(array):
    decoded = decode_image(encode_image(array, "PNG"))
    np.testing.assert_array_equal(decoded, array[:, :, :3])


# ------------------------------------------------------------------------------------------
# audio
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["wav", "flac"])
def test_mono_audio_round_trip(fmt):
    tone = _sine(0.5, 16000)
    data = encode_audio(tone, 16000, fmt)
    samples, rate = decode_audio(data)
    assert rate == 16000
    assert samples.shape == tone.shape
    assert samples.dtype == np.float32
    np.testing.assert_allclose(samples, tone, atol=1e-3)


@pytest.mark.parametrize("fmt", ["wav", "flac"])
def test_stereo_audio_round_trip(fmt):
    stereo = np.stack([_sine(0.25, 22050, 440), _sine(0.25, 22050, 660, 0.25)], axis=1)
    samples, rate = decode_audio(encode_audio(stereo, 22050, fmt))
    assert rate == 22050
    assert samples.shape == stereo.shape == (5512, 2)
    np.testing.assert_allclose(samples, stereo, atol=1e-3)


def test_int16_audio_input():
    tone = np.rint(_sine(0.1, 8000) * 32767).astype(np.int16)
    samples, rate = decode_audio(encode_audio(tone, 8000))
    assert rate == 8000
    np.testing.assert_allclose(samples, tone / 32768.0, atol=1e-4)


def test_ogg_vorbis_is_close():
    tone = _sine(0.5, 16000)
    samples, rate = decode_audio(encode_audio(tone, 16000, "ogg"))
    assert rate == 16000
    assert abs(len(samples) - len(tone)) < 2048
    assert abs(_rms(samples) - _rms(tone)) < 0.05


def test_float_audio_outside_range_is_clipped():
    loud = np.array([2.0, -3.0, 0.5], np.float32)
    samples, _ = decode_audio(encode_audio(loud, 8000))
    assert samples.min() >= -1.0 and samples.max() <= 1.0
    np.testing.assert_allclose(samples, [1.0, -1.0, 0.5], atol=1e-3)


def test_encode_audio_rejects_bad_input():
    with pytest.raises(ValueError, match="shape"):
        encode_audio(np.zeros((2, 3, 4, 5), np.float32), 8000)
    with pytest.raises(ValueError, match="dtype"):
        encode_audio(np.zeros(10, np.uint8), 8000)
    with pytest.raises(ValueError, match="format"):
        encode_audio(np.zeros(10, np.float32), 8000, "xyz")
    with pytest.raises(ValueError, match="frame_rate"):
        encode_audio(np.zeros(10, np.float32), 0)


def test_decode_audio_falls_back_to_av():
    """AAC in MP4 is not readable by libsndfile: PyAV has to decode it."""
    av = pytest.importorskip("av")
    tone = _sine(0.5, 16000)
    buffer = io.BytesIO()
    with av.open(buffer, mode="w", format="mp4") as container:
        stream = container.add_stream("aac", rate=16000)
        stream.layout = "mono"
        frame = av.AudioFrame.from_ndarray(tone[None, :], format="fltp", layout="mono")
        frame.sample_rate = 16000
        frame.pts = 0
        container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    samples, rate = decode_audio(buffer.getvalue())
    assert rate == 16000
    assert samples.ndim == 1 and samples.dtype == np.float32
    assert abs(len(samples) - len(tone)) <= 2048
    assert abs(_rms(samples) - _rms(tone)) < 0.05


def test_corrupt_audio_raises_load_error():
    rng = np.random.default_rng(1)
    for data in (
        b"",
        b"not audio at all" * 10,
        rng.integers(0, 256, 5000, dtype=np.uint8).tobytes(),
    ):
        with pytest.raises(LoadError, match="audio"):
            decode_audio(data)


# ------------------------------------------------------------------------------------------
# video
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("height", "width"), [(32, 48), (33, 47)])
def test_video_round_trip(height, width):
    frames = _moving_square(10, height, width)
    data = encode_video(frames, frame_rate=10)
    decoded, audio, keys = decode_video(data)
    assert decoded.shape == (10, height, width, 3)
    assert decoded.dtype == np.uint8
    assert np.abs(decoded[0].astype(int) - frames[0]).mean() < 8
    assert np.abs(decoded[-1].astype(int) - frames[-1]).mean() < 8
    assert audio.shape == (0,) and audio.dtype == np.float32
    assert keys.dtype == np.int64
    assert 0 in keys.tolist()


@pytest.mark.parametrize("channels", [1, 2])
def test_video_with_audio(channels):
    frames = _moving_square(10, 32, 48)
    tone = _sine(10 / 24, 16000)
    audio = tone if channels == 1 else np.stack([tone, tone * 0.5], axis=1)
    data = encode_video(frames, frame_rate=24, audio=audio, audio_frame_rate=16000)
    decoded, samples, keys = decode_video(data)
    assert decoded.shape == (10, 32, 48, 3)
    assert samples.dtype == np.float32
    assert samples.shape[1:] == (() if channels == 1 else (2,))
    assert abs(len(samples) - len(tone)) <= 2048  # AAC adds priming / padding
    assert abs(_rms(samples) - _rms(audio)) < 0.05
    assert 0 in keys.tolist()


def test_video_int16_audio_and_float_frames():
    frames = _moving_square(5, 16, 16).astype(np.float32) / 255.0
    audio = np.rint(_sine(0.2, 8000) * 32767).astype(np.int16)
    decoded, samples, _ = decode_video(encode_video(frames, audio=audio, audio_frame_rate=8000))
    assert decoded.shape == (5, 16, 16, 3)
    assert len(samples) > 0


@pytest.mark.parametrize("fmt", ["mkv", "mov", "webm"])
def test_other_containers(fmt):
    frames = _moving_square(6, 24, 33)
    decoded, audio, _ = decode_video(encode_video(frames, audio=_sine(0.25, 44100), format=fmt))
    assert decoded.shape == (6, 24, 33, 3)
    assert audio.ndim == 1 and len(audio) > 0


def test_mpeg4_encoder(monkeypatch):
    """The fallback codec when the installed PyAV has no H.264 encoder."""
    monkeypatch.setattr(media, "_VIDEO_CODECS", ("no-such-codec", "mpeg4"))
    frames = _moving_square(8, 25, 33)
    decoded, _, keys = decode_video(encode_video(frames, frame_rate=8))
    assert decoded.shape == (8, 25, 33, 3)
    assert np.abs(decoded[0].astype(int) - frames[0]).mean() < 8
    assert 0 in keys.tolist()


def test_encode_video_rejects_bad_frames():
    with pytest.raises(ValueError, match="shape"):
        encode_video(np.zeros((10, 10, 3), np.uint8))
    with pytest.raises(ValueError, match="shape"):
        encode_video(np.zeros((2, 10, 10, 4), np.uint8))
    with pytest.raises(ValueError, match="shape"):
        encode_video(np.zeros((0, 10, 10, 3), np.uint8))


def test_corrupt_video_raises_load_error():
    data = encode_video(_moving_square(4, 16, 16))
    wav = encode_audio(_sine(0.1, 8000), 8000)
    for bad in (b"", b"not a video" * 20, data[: len(data) // 3], wav):
        with pytest.raises(LoadError, match="not a decodable video"):
            decode_video(bad)


# ------------------------------------------------------------------------------------------
# meshes and point clouds
# ------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def trimesh():
    return pytest.importorskip("trimesh")


def _export(geometry, file_type: str) -> bytes:
    data = geometry.export(file_type=file_type)
    return data.encode() if isinstance(data, str) else data


@pytest.mark.parametrize("file_type", ["obj", "ply", "stl", "off", "glb"])
def test_decode_box(trimesh, file_type):
    box = trimesh.creation.box(extents=(1.0, 2.0, 3.0))
    vertices, faces = decode_mesh(_export(box, file_type), file_type)
    assert vertices.shape == (8, 3) and faces.shape == (12, 3)
    assert np.issubdtype(vertices.dtype, np.floating)
    assert np.issubdtype(faces.dtype, np.integer)
    np.testing.assert_allclose(vertices.min(axis=0), [-0.5, -1.0, -1.5])
    np.testing.assert_allclose(vertices.max(axis=0), [0.5, 1.0, 1.5])


def test_decode_mesh_file_type_case(trimesh):
    vertices, faces = decode_mesh(_export(trimesh.creation.box(), "stl"), "STL")
    assert vertices.shape == (8, 3) and faces.shape == (12, 3)


def test_decode_mesh_errors(trimesh):
    with pytest.raises(LoadError, match="ply"):
        decode_mesh(b"xx", "ply")
    with pytest.raises(LoadError, match="no vertices"):
        decode_mesh(b"# an empty obj\n", "obj")
    with pytest.raises(LoadError):
        decode_mesh(_export(trimesh.creation.box(), "stl"), "not-a-format")


def test_point_cloud_from_a_box(trimesh):
    data = _export(trimesh.creation.box(), "obj")
    points, colors = decode_point_cloud(data, "obj", samples=100)
    assert points.shape == (100, 3)
    assert colors is None
    # every point lies on the surface of the unit box
    assert np.all(np.abs(points) <= 0.5 + 1e-9)
    assert np.allclose(np.abs(points).max(axis=1), 0.5)


def test_point_cloud_seed_is_reproducible(trimesh):
    data = _export(trimesh.creation.icosphere(), "ply")
    first, _ = decode_point_cloud(data, "ply", samples=50, seed=3)
    second, _ = decode_point_cloud(data, "ply", samples=50, seed=3)
    np.testing.assert_array_equal(first, second)


def test_point_cloud_with_vertex_colors(trimesh):
    box = trimesh.creation.box()
    box.visual.vertex_colors = np.tile(np.array([[255, 0, 0, 255]], np.uint8), (8, 1))
    points, colors = decode_point_cloud(_export(box, "ply"), "ply", samples=100)
    assert points.shape == (100, 3)
    assert colors is not None and colors.shape == (100, 3) and colors.dtype == np.uint8
    assert np.all(colors == [255, 0, 0])


def test_point_cloud_from_a_vertex_only_ply(trimesh):
    rng = np.random.default_rng(0)
    cloud = trimesh.PointCloud(
        rng.normal(size=(40, 3)), colors=rng.integers(0, 256, (40, 4), dtype=np.uint8)
    )
    data = _export(cloud, "ply")
    points, colors = decode_point_cloud(data, "ply", samples=100)
    assert points.shape == (100, 3) and colors.shape == (100, 3)
    # every sampled point is one of the cloud's points
    original = np.asarray(cloud.vertices)
    distances = np.linalg.norm(points[:, None, :] - original[None, :, :], axis=2).min(axis=1)
    assert distances.max() < 1e-5


def test_point_cloud_multiple_geometries(trimesh):
    box = trimesh.creation.box()
    sphere = trimesh.creation.icosphere(radius=0.5)
    sphere.apply_translation([5.0, 0.0, 0.0])
    data = _export(trimesh.Scene([box, sphere]), "glb")
    points, colors = decode_point_cloud(data, "glb", samples=100, multiple_geometries=True)
    assert points.shape == (2, 100, 3)
    centres = sorted(points.mean(axis=1)[:, 0].round().tolist())
    assert centres == [0.0, 5.0]
    single, _ = decode_point_cloud(data, "glb", samples=100)
    assert single.shape == (100, 3)


def test_point_cloud_errors(trimesh):
    with pytest.raises(LoadError):
        decode_point_cloud(b"garbage", "ply", samples=10)
    with pytest.raises(ValueError, match="samples"):
        decode_point_cloud(_export(trimesh.creation.box(), "ply"), "ply", samples=0)


def test_audio_in_frames_is_read_as_samples_by_channel():
    from docstack._internal.media import _audio_to_float

    frames = np.arange(2 * 2 * 3, dtype=np.float32).reshape(2, 2, 3) / 100
    out = _audio_to_float(frames)
    # frame 0 channel 0 then frame 1 channel 0, sample by sample
    assert out.shape == (6, 2)
    np.testing.assert_allclose(out[:, 0], [0.0, 0.01, 0.02, 0.06, 0.07, 0.08])
    np.testing.assert_allclose(out[:, 1], [0.03, 0.04, 0.05, 0.09, 0.10, 0.11])
    with pytest.raises(ValueError, match="frames, channels, samples per frame"):
        _audio_to_float(np.zeros((2, 2, 2, 2), np.float32))

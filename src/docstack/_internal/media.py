"""Decode and encode media: images, audio, video, meshes and point clouds.

Pure functions between ``bytes`` and numpy arrays. The heavy optional libraries (Pillow,
soundfile, PyAV, trimesh) are imported lazily inside each function through
:func:`~docstack._internal.optional.import_optional`, so importing this module costs nothing and
a missing library surfaces as :class:`~docstack.errors.MissingDependencyError` naming the extra
to install. Bytes that cannot be decoded raise :class:`~docstack.errors.LoadError`.
"""

from __future__ import annotations

import io
from fractions import Fraction
from typing import Any

import numpy as np

from docstack._internal.optional import import_optional
from docstack.errors import LoadError, MissingDependencyError

__all__ = [
    "decode_audio",
    "decode_image",
    "decode_mesh",
    "decode_point_cloud",
    "decode_video",
    "encode_audio",
    "encode_image",
    "encode_video",
]

_IMAGE_AXES = ("H", "W", "C")


# --------------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------------


def _describe(data: bytes) -> str:
    return f"{len(data)} bytes starting with {bytes(data[:12])!r}"


def _to_uint8(array: np.ndarray) -> np.ndarray:
    """Bring pixel values to uint8: floats in [0, 1] are scaled by 255, the rest is clipped."""
    if array.dtype == np.uint8:
        return array
    if array.dtype == np.bool_:
        return array.astype(np.uint8) * 255
    if np.issubdtype(array.dtype, np.floating):
        values = np.nan_to_num(array.astype(np.float64), nan=0.0, posinf=255.0, neginf=0.0)
        if values.size and values.min() >= 0.0 and values.max() <= 1.0:
            values = values * 255.0
        return np.clip(np.rint(values), 0, 255).astype(np.uint8)
    if np.issubdtype(array.dtype, np.integer):
        return np.clip(array, 0, 255).astype(np.uint8)
    raise ValueError(f"cannot turn an array of dtype {array.dtype} into pixels")


def _check_positive(name: str, value: int | None) -> None:
    if value is not None and (not isinstance(value, (int, np.integer)) or value <= 0):
        raise ValueError(f"{name} must be a positive integer, got {value!r}")


def _pil_to_rgb_array(image: Any) -> np.ndarray:
    """Any PIL image mode to an (H, W, 3) uint8 array."""
    mode = image.mode
    if mode.startswith("I;16") or mode in ("I", "F"):
        # high bit depth grey: map to 8 bits instead of letting PIL saturate at 255
        values = np.asarray(image)
        if mode.startswith("I;16"):
            grey = (values.astype(np.uint32) // 257).astype(np.uint8)
        elif mode == "F" and values.size and values.min() >= 0.0 and values.max() <= 1.0:
            grey = np.rint(values * 255.0).astype(np.uint8)
        elif mode == "I" and values.size and values.max() > 255:
            grey = np.clip(values // 257, 0, 255).astype(np.uint8)
        else:
            grey = _to_uint8(values)
        return np.repeat(grey[:, :, None], 3, axis=2)
    if mode != "RGB":
        image = image.convert("RGB")
    return np.asarray(image, dtype=np.uint8)


def _frames_to_samples(array: np.ndarray) -> np.ndarray:
    """Audio in frames, ``(frames, channels, samples per frame)`` as PyAV decodes it, as one
    ``(samples, channels)`` array; any other shape is returned as it is."""
    if array.ndim != 3:
        return array
    frames, channels, per_frame = array.shape
    return array.transpose(0, 2, 1).reshape(frames * per_frame, channels)


def _audio_to_float(array: np.ndarray, what: str = "audio") -> np.ndarray:
    """Float or int16 samples, (n,), (n, channels) or (frames, channels, samples per frame),
    to float32 in [-1, 1], (n,) or (n, channels)."""
    array = _frames_to_samples(np.asarray(array))
    if array.ndim not in (1, 2):
        raise ValueError(
            f"{what} must have shape (n,), (n, channels) or (frames, channels, samples per frame), got shape {tuple(array.shape)}"
        )
    if array.dtype == np.int16:
        return array.astype(np.float32) / 32768.0
    if np.issubdtype(array.dtype, np.floating):
        return np.clip(np.nan_to_num(array.astype(np.float32)), -1.0, 1.0)
    raise ValueError(f"{what} must be float in [-1, 1] or int16, got dtype {array.dtype}")


def _av_audio_frame_to_float(frame: Any) -> np.ndarray:
    """A PyAV AudioFrame to an (n, channels) float32 array in [-1, 1]."""
    values = frame.to_ndarray()
    channels = frame.layout.nb_channels
    values = values.T if frame.format.is_planar else values.reshape(-1, channels)
    if values.dtype == np.uint8:
        out = (values.astype(np.float32) - 128.0) / 128.0
    elif np.issubdtype(values.dtype, np.integer):
        out = values.astype(np.float32) / float(2 ** (values.dtype.itemsize * 8 - 1))
    else:
        out = values.astype(np.float32)
    return out


def _finish_audio(chunks: list[np.ndarray], channels: int) -> np.ndarray:
    if not chunks:
        return np.zeros((0,) if channels <= 1 else (0, channels), dtype=np.float32)
    samples = np.concatenate(chunks, axis=0)
    np.clip(samples, -1.0, 1.0, out=samples)
    if samples.shape[1] == 1:
        samples = samples[:, 0]
    return np.ascontiguousarray(samples, dtype=np.float32)


# --------------------------------------------------------------------------------------------
# images
# --------------------------------------------------------------------------------------------


def decode_image(
    data: bytes,
    width: int | None = None,
    height: int | None = None,
    axis_layout: tuple[str, str, str] = ("H", "W", "C"),
) -> np.ndarray:
    """Decode image bytes (PNG, JPEG, GIF, BMP, WebP, TIFF, ...) to a uint8 RGB array.

    Every mode is converted to RGB (alpha is dropped, grey is repeated over three channels,
    16-bit grey is reduced to 8 bits). Of a multi-frame image only the first frame is used. EXIF
    orientation is not applied.

    Parameters
    ----------
    data:
        The encoded image.
    width, height:
        Resize to this size (bicubic). When only one is given the other follows the aspect
        ratio.
    axis_layout:
        The order of the output axes, any permutation of ``('H', 'W', 'C')``.

    Returns
    -------
    numpy.ndarray
        uint8 array of shape ``(H, W, 3)`` in the requested axis order.

    Raises
    ------
    LoadError
        The bytes are not a decodable image.
    ValueError
        Invalid ``width`` / ``height`` / ``axis_layout``.

    Example
    -------
    >>> decode_image(encode_image(np.zeros((4, 6, 3), np.uint8))).shape
    (4, 6, 3)
    """
    pil_image = import_optional("PIL.Image")
    _check_positive("width", width)
    _check_positive("height", height)
    layout = tuple(str(axis).upper() for axis in axis_layout)
    if sorted(layout) != sorted(_IMAGE_AXES):
        raise ValueError(
            f"axis_layout must be a permutation of ('H', 'W', 'C'), got {axis_layout!r}"
        )

    try:
        with pil_image.open(io.BytesIO(data)) as image:
            image.load()
            rgb = _pil_to_rgb_array(image)
    except pil_image.DecompressionBombError as exc:
        raise LoadError(f"not a decodable image: too many pixels ({exc})") from exc
    except (OSError, ValueError, SyntaxError, TypeError, IndexError, EOFError) as exc:
        # UnidentifiedImageError and "image file is truncated" are OSErrors
        raise LoadError(f"not a decodable image ({_describe(data)}): {exc}") from exc

    if width is not None or height is not None:
        h, w = rgb.shape[:2]
        if width is None:
            width = max(1, round(w * height / h))
        if height is None:
            height = max(1, round(h * width / w))
        if (width, height) != (w, h):
            resized = pil_image.fromarray(rgb).resize(
                (int(width), int(height)), resample=pil_image.Resampling.BICUBIC
            )
            rgb = np.asarray(resized, dtype=np.uint8)

    if layout != _IMAGE_AXES:
        rgb = np.ascontiguousarray(rgb.transpose([_IMAGE_AXES.index(axis) for axis in layout]))
    return rgb


def encode_image(array: np.ndarray, format: str = "PNG") -> bytes:
    """Encode a pixel array to image bytes.

    Parameters
    ----------
    array:
        ``(H, W, C)`` or ``(C, H, W)`` with C in 1, 3, 4 (CHW is assumed when the first dim is
        1, 3 or 4 and the last is not), or ``(H, W)`` grey. Floats with all values in [0, 1]
        are scaled by 255; other values are clipped to 0..255; the result is uint8.
    format:
        Any format Pillow writes, e.g. ``'PNG'``, ``'JPEG'`` (``'JPG'``), ``'WEBP'``. Formats
        without alpha support (JPEG) get the alpha channel dropped.

    Returns
    -------
    bytes
        The encoded image.

    Raises
    ------
    ValueError
        The array does not have 2 or 3 dims, has an unsupported channel count, or the format is
        unknown.

    Example
    -------
    >>> encode_image(np.zeros((4, 6, 3), np.uint8))[:4]
    b'\\x89PNG'
    """
    pil_image = import_optional("PIL.Image")
    pixels = np.asarray(array)
    shape = tuple(pixels.shape)
    if pixels.ndim == 3:
        if shape[-1] not in (1, 3, 4) and shape[0] in (1, 3, 4):
            pixels = pixels.transpose(1, 2, 0)
        elif shape[-1] not in (1, 3, 4):
            raise ValueError(
                f"cannot encode an image of shape {shape}: expected 1, 3 or 4 channels "
                "in the first (CHW) or last (HWC) dim"
            )
        if pixels.shape[-1] == 1:
            pixels = pixels[:, :, 0]
    elif pixels.ndim != 2:
        raise ValueError(
            f"cannot encode an image of shape {shape}: expected (H, W), (H, W, C) or (C, H, W)"
        )
    if pixels.size == 0:
        raise ValueError(f"cannot encode an empty image of shape {shape}")
    pixels = np.ascontiguousarray(_to_uint8(pixels))

    fmt = format.upper().lstrip(".")
    if fmt == "JPG":
        fmt = "JPEG"
    image = pil_image.fromarray(pixels)  # mode L, RGB or RGBA from the shape
    if fmt == "JPEG" and image.mode == "RGBA":
        image = image.convert("RGB")
    buffer = io.BytesIO()
    try:
        image.save(buffer, format=fmt)
    except KeyError as exc:
        raise ValueError(f"unknown image format {format!r}") from exc
    return buffer.getvalue()


# --------------------------------------------------------------------------------------------
# audio
# --------------------------------------------------------------------------------------------


def _decode_audio_av(data: bytes) -> tuple[np.ndarray, int]:
    av = import_optional("av")
    with av.open(io.BytesIO(data)) as container:
        if not container.streams.audio:
            raise LoadError(f"not decodable audio ({_describe(data)}): no audio stream")
        stream = container.streams.audio[0]
        chunks = [_av_audio_frame_to_float(frame) for frame in container.decode(stream)]
        channels = chunks[0].shape[1] if chunks else stream.codec_context.channels
        rate = int(stream.codec_context.sample_rate or stream.rate or 0)
    return _finish_audio(chunks, channels), rate


def decode_audio(data: bytes) -> tuple[np.ndarray, int]:
    """Decode audio bytes (WAV, FLAC, OGG, MP3, AAC/M4A, ...) to float samples.

    soundfile (libsndfile) is tried first; what it cannot read goes through PyAV (FFmpeg).

    Parameters
    ----------
    data:
        The encoded audio.

    Returns
    -------
    tuple[numpy.ndarray, int]
        ``(samples, frame_rate)``: float32 samples in [-1, 1], shape ``(n,)`` for mono and
        ``(n, channels)`` otherwise, and the number of frames per second.

    Raises
    ------
    LoadError
        Neither soundfile nor PyAV can decode the bytes.

    Example
    -------
    >>> tone = np.sin(np.linspace(0, 100, 8000)).astype(np.float32)
    >>> samples, rate = decode_audio(encode_audio(tone, 8000))
    >>> samples.shape, rate
    ((8000,), 8000)
    """
    soundfile = import_optional("soundfile")
    try:
        samples, rate = soundfile.read(io.BytesIO(data), dtype="float32", always_2d=True)
    except Exception as sf_error:  # libsndfile errors are RuntimeError / soundfile errors
        try:
            return _decode_audio_av(data)
        except LoadError:
            raise
        except ImportError:
            raise LoadError(
                f"not decodable audio ({_describe(data)}): {sf_error} "
                "(install av to decode more formats)"
            ) from sf_error
        except Exception as av_error:
            raise LoadError(
                f"not decodable audio ({_describe(data)}): soundfile: {sf_error}; av: {av_error}"
            ) from av_error
    return _finish_audio([samples], samples.shape[1]), int(rate)


_AUDIO_FORMATS: dict[str, tuple[str, str]] = {
    "wav": ("WAV", "PCM_16"),
    "flac": ("FLAC", "PCM_16"),
    "ogg": ("OGG", "VORBIS"),
}


def encode_audio(array: np.ndarray, frame_rate: int, format: str = "wav") -> bytes:
    """Encode samples to audio bytes with soundfile.

    Parameters
    ----------
    array:
        float samples in [-1, 1] (values outside are clipped) or int16 samples, shape ``(n,)``
        for mono or ``(n, channels)``.
    frame_rate:
        Frames (samples per channel) per second.
    format:
        ``'wav'`` (16-bit PCM), ``'flac'`` (16-bit) or ``'ogg'`` (Vorbis).

    Returns
    -------
    bytes
        The encoded audio.

    Raises
    ------
    ValueError
        Wrong shape, dtype, frame rate or format.

    Example
    -------
    >>> encode_audio(np.zeros(100, np.float32), 8000)[:4]
    b'RIFF'
    """
    soundfile = import_optional("soundfile")
    _check_positive("frame_rate", frame_rate)
    key = format.lower().lstrip(".")
    if key not in _AUDIO_FORMATS:
        raise ValueError(
            f"unsupported audio format {format!r}, expected one of {sorted(_AUDIO_FORMATS)}"
        )
    container, subtype = _AUDIO_FORMATS[key]
    samples = _frames_to_samples(np.asarray(array))
    if samples.dtype != np.int16:
        samples = _audio_to_float(samples)
    elif samples.ndim not in (1, 2):
        raise ValueError(
            f"audio must have shape (n,), (n, channels) or (frames, channels, samples per frame), got shape {samples.shape}"
        )
    buffer = io.BytesIO()
    soundfile.write(buffer, samples, int(frame_rate), format=container, subtype=subtype)
    return buffer.getvalue()


# --------------------------------------------------------------------------------------------
# video
# --------------------------------------------------------------------------------------------


def decode_video(data: bytes, **kwargs: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Decode video bytes with PyAV to frames, audio samples and key frame indices.

    Parameters
    ----------
    data:
        The encoded video (MP4, MKV, WebM, AVI, ...).
    **kwargs:
        Passed to ``av.open`` (e.g. ``format='mp4'``, ``options={...}``).

    Returns
    -------
    tuple[numpy.ndarray, numpy.ndarray, numpy.ndarray]
        ``(frames, audio, key_frame_indices)``: uint8 frames of shape ``(N, H, W, 3)``; float32
        audio samples of the first audio stream in [-1, 1], ``(n,)`` for mono or
        ``(n, channels)`` (an empty ``(0,)`` array when there is no audio); int64 indices of
        the frames that are key frames.

    Raises
    ------
    LoadError
        The bytes cannot be decoded or hold no video frame.

    Example
    -------
    >>> frames = np.zeros((3, 16, 16, 3), np.uint8)
    >>> decoded, audio, keys = decode_video(encode_video(frames))
    >>> decoded.shape, audio.shape, keys.tolist()
    ((3, 16, 16, 3), (0,), [0])
    """
    av = import_optional("av")
    frames: list[np.ndarray] = []
    key_frames: list[int] = []
    audio_chunks: list[np.ndarray] = []
    audio_channels = 1
    try:
        with av.open(io.BytesIO(data), **kwargs) as container:
            if not container.streams.video:
                raise LoadError(f"not a decodable video ({_describe(data)}): no video stream")
            video_stream = container.streams.video[0]
            video_stream.thread_type = "AUTO"
            streams = [video_stream]
            if container.streams.audio:
                audio_stream = container.streams.audio[0]
                audio_channels = audio_stream.codec_context.channels or 1
                streams.append(audio_stream)
            for frame in container.decode(*streams):
                if isinstance(frame, av.VideoFrame):
                    if frame.key_frame:
                        key_frames.append(len(frames))
                    frames.append(frame.to_ndarray(format="rgb24"))
                else:
                    audio_chunks.append(_av_audio_frame_to_float(frame))
    except LoadError:
        raise
    except (av.FFmpegError, OSError, ValueError, EOFError) as exc:
        raise LoadError(f"not a decodable video ({_describe(data)}): {exc}") from exc
    if not frames:
        raise LoadError(f"not a decodable video ({_describe(data)}): no frame could be decoded")
    if audio_chunks:
        audio_channels = audio_chunks[0].shape[1]
    audio = _finish_audio(audio_chunks, audio_channels) if audio_chunks else np.zeros(0, np.float32)
    return np.stack(frames), audio, np.asarray(key_frames, dtype=np.int64)


_CONTAINER_ALIASES = {"mkv": "matroska", "m4v": "mp4"}
_VIDEO_CODECS = ("libx264", "h264", "mpeg4")
_WEBM_VIDEO_CODECS = ("libvpx-vp9", "libvpx")
_AUDIO_CODECS = ("aac", "libmp3lame", "libopus")
_WEBM_AUDIO_CODECS = ("libopus", "opus", "libvorbis")
_OPUS_RATES = frozenset({8000, 12000, 16000, 24000, 48000})
_CHANNEL_LAYOUTS = {
    1: "mono",
    2: "stereo",
    3: "3.0",
    4: "quad",
    5: "5.0",
    6: "5.1",
    7: "6.1",
    8: "7.1",
}


def _first_encoder(av: Any, names: tuple[str, ...]) -> str | None:
    available = av.codecs_available
    for name in names:
        if name not in available:
            continue
        try:
            av.Codec(name, "w")
        except Exception:  # a decoder of that name exists, no encoder
            continue
        return name
    return None


def encode_video(
    frames: np.ndarray,
    frame_rate: int = 24,
    audio: np.ndarray | None = None,
    audio_frame_rate: int = 44100,
    format: str = "mp4",
) -> bytes:
    """Encode frames (and optionally audio) to video bytes with PyAV.

    The video codec is the first encoder the installed PyAV has among libx264/h264 and
    mpeg4 (libvpx-vp9/libvpx for WebM); audio is AAC (or MP3, Opus; Opus/Vorbis for WebM).
    H.264 uses yuv420p, except for an odd width or height, where yuv444p keeps the exact size.

    Parameters
    ----------
    frames:
        ``(N, H, W, 3)`` RGB frames, uint8 (floats in [0, 1] are scaled, other values clipped).
    frame_rate:
        Frames per second.
    audio:
        Optional float in [-1, 1] or int16 samples, ``(n,)`` or ``(n, channels)``.
    audio_frame_rate:
        Audio frames per second.
    format:
        Container: ``'mp4'``, ``'mov'``, ``'mkv'``, ``'webm'``, ``'avi'``, ...

    Returns
    -------
    bytes
        The encoded video.

    Raises
    ------
    ValueError
        Wrong shapes, rates, or no suitable encoder in the installed PyAV.

    Example
    -------
    >>> frames = np.zeros((3, 16, 16, 3), np.uint8)
    >>> len(encode_video(frames, frame_rate=10)) > 0
    True
    """
    av = import_optional("av")
    _check_positive("frame_rate", frame_rate)
    _check_positive("audio_frame_rate", audio_frame_rate)
    pixels = np.asarray(frames)
    if pixels.ndim != 4 or pixels.shape[-1] != 3 or 0 in pixels.shape:
        raise ValueError(f"frames must have shape (N, H, W, 3) with N >= 1, got {pixels.shape}")
    pixels = _to_uint8(pixels)
    samples = None if audio is None else _audio_to_float(audio)

    container_format = _CONTAINER_ALIASES.get(format.lower(), format.lower())
    is_webm = container_format == "webm"
    codec = _first_encoder(av, _WEBM_VIDEO_CODECS if is_webm else _VIDEO_CODECS)
    if codec is None:
        raise ValueError(f"the installed av has no video encoder for {format!r}")
    _, height, width, _ = pixels.shape
    pix_fmt = "yuv420p"
    if (height % 2 or width % 2) and codec in ("libx264", "h264", "libvpx-vp9"):
        pix_fmt = "yuv444p"

    buffer = io.BytesIO()
    time_base = Fraction(1, int(frame_rate))
    try:
        with av.open(buffer, mode="w", format=container_format) as container:
            video_stream = container.add_stream(codec, rate=int(frame_rate))
            video_stream.width = width
            video_stream.height = height
            video_stream.pix_fmt = pix_fmt
            if codec == "mpeg4":
                video_stream.bit_rate = max(1_000_000, width * height * int(frame_rate) // 4)

            audio_stream = None
            if samples is not None and samples.shape[0] > 0:
                audio_codec = _first_encoder(av, _WEBM_AUDIO_CODECS if is_webm else _AUDIO_CODECS)
                if audio_codec is None:
                    raise ValueError(f"the installed av has no audio encoder for {format!r}")
                channels = 1 if samples.ndim == 1 else samples.shape[1]
                stream_rate = int(audio_frame_rate)
                if "opus" in audio_codec and stream_rate not in _OPUS_RATES:
                    stream_rate = 48000  # PyAV resamples the frames to the stream's rate
                audio_stream = container.add_stream(audio_codec, rate=stream_rate)
                if channels not in _CHANNEL_LAYOUTS:
                    raise ValueError(f"audio with {channels} channels is not supported (1 to 8)")
                audio_stream.layout = _CHANNEL_LAYOUTS[channels]

            for index, frame_pixels in enumerate(pixels):
                frame = av.VideoFrame.from_ndarray(frame_pixels, format="rgb24")
                frame.pts = index
                frame.time_base = time_base
                container.mux(video_stream.encode(frame))
            container.mux(video_stream.encode(None))

            if audio_stream is not None:
                planar = samples[None, :] if samples.ndim == 1 else samples.T
                layout = audio_stream.layout.name
                step = 1024
                for start in range(0, planar.shape[1], step):
                    chunk = np.ascontiguousarray(planar[:, start : start + step], np.float32)
                    audio_frame = av.AudioFrame.from_ndarray(chunk, format="fltp", layout=layout)
                    audio_frame.sample_rate = int(audio_frame_rate)
                    audio_frame.pts = start
                    audio_frame.time_base = Fraction(1, int(audio_frame_rate))
                    container.mux(audio_stream.encode(audio_frame))
                container.mux(audio_stream.encode(None))
    except av.FFmpegError as exc:
        raise ValueError(
            f"cannot encode video of shape {pixels.shape} as {format!r}: {exc}"
        ) from exc
    return buffer.getvalue()


# --------------------------------------------------------------------------------------------
# meshes and point clouds
# --------------------------------------------------------------------------------------------


def _load_trimesh(data: bytes, file_type: str, force: str | None, **kwargs: Any) -> Any:
    trimesh = import_optional("trimesh")
    try:
        return trimesh.load(
            file_obj=io.BytesIO(data),
            file_type=file_type.lower().lstrip("."),
            force=force,
            **kwargs,
        )
    except MissingDependencyError:
        raise
    except Exception as exc:  # trimesh raises ValueError, KeyError, ImportError (codecs), ...
        raise LoadError(
            f"not a decodable {file_type!r} mesh ({_describe(data)}): {type(exc).__name__}: {exc}"
        ) from exc


def decode_mesh(
    data: bytes, file_type: str, skip_materials: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """Decode a 3D mesh file (OBJ, PLY, STL, OFF, GLB, ...) to vertices and faces with trimesh.

    A file holding several geometries is concatenated into one mesh.

    Parameters
    ----------
    data:
        The encoded mesh.
    file_type:
        The format, e.g. ``'obj'`` (usually the file extension).
    skip_materials:
        Do not load materials and textures (faster, and needs no referenced files).

    Returns
    -------
    tuple[numpy.ndarray, numpy.ndarray]
        ``(vertices, faces)``: float64 ``(V, 3)`` and int64 ``(F, 3)``.

    Raises
    ------
    LoadError
        The bytes are not a mesh of that type, or hold no vertices.

    Example
    -------
    >>> import trimesh
    >>> vertices, faces = decode_mesh(trimesh.creation.box().export(file_type="stl"), "stl")
    >>> vertices.shape, faces.shape
    ((8, 3), (12, 3))
    """
    mesh = _load_trimesh(data, file_type, force="mesh", skip_materials=skip_materials)
    vertices = np.asarray(getattr(mesh, "vertices", np.zeros((0, 3))), dtype=np.float64)
    faces = np.asarray(getattr(mesh, "faces", np.zeros((0, 3))), dtype=np.int64)
    if vertices.size == 0:
        raise LoadError(f"not a decodable {file_type!r} mesh ({_describe(data)}): no vertices")
    return vertices, faces


def _sample_geometry(
    geometry: Any, samples: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray | None]:
    trimesh = import_optional("trimesh")
    faces = getattr(geometry, "faces", None)
    if isinstance(geometry, trimesh.Trimesh) and faces is not None and len(faces):
        has_colors = geometry.visual.kind in ("vertex", "face")
        result = trimesh.sample.sample_surface(geometry, samples, sample_color=has_colors, seed=rng)
        points = result[0]
        colors = np.asarray(result[2])[:, :3].astype(np.uint8) if has_colors else None
        return np.asarray(points, dtype=np.float64), colors

    vertices = np.asarray(getattr(geometry, "vertices", np.zeros((0, 3))), dtype=np.float64)
    if len(vertices) == 0:
        raise LoadError("the geometry has no vertices to sample points from")
    index = rng.choice(len(vertices), size=samples, replace=len(vertices) < samples)
    colors = None
    vertex_colors = getattr(geometry, "colors", None)
    if vertex_colors is not None and len(vertex_colors) == len(vertices):
        colors = np.asarray(vertex_colors)[index, :3].astype(np.uint8)
    return vertices[index], colors


def decode_point_cloud(
    data: bytes,
    file_type: str,
    samples: int,
    multiple_geometries: bool = False,
    seed: int | None = None,
) -> tuple[np.ndarray, np.ndarray | None]:
    """Sample a point cloud from a 3D file with trimesh.

    Points of a mesh are sampled uniformly from its surface; a file that is already a point
    cloud (e.g. a PLY of vertices only) has ``samples`` of its points drawn (with replacement
    when it has fewer).

    Parameters
    ----------
    data:
        The encoded mesh or point cloud.
    file_type:
        The format, e.g. ``'ply'``.
    samples:
        Number of points per geometry.
    multiple_geometries:
        Sample each geometry of the file on its own (with its scene transform applied) instead
        of treating the file as one geometry.
    seed:
        Seed of the random sampling, for reproducible points.

    Returns
    -------
    tuple[numpy.ndarray, numpy.ndarray | None]
        ``(points, colors)``: float64 points of shape ``(samples, 3)``, or
        ``(n_geometries, samples, 3)`` with ``multiple_geometries``; uint8 RGB colors of the
        same leading shape when the data has vertex or face colors, else ``None``.

    Raises
    ------
    LoadError
        The bytes cannot be decoded or hold no geometry.

    Example
    -------
    >>> import trimesh
    >>> box = trimesh.creation.box().export(file_type="ply")
    >>> points, colors = decode_point_cloud(box, "ply", samples=100)
    >>> points.shape, colors
    ((100, 3), None)
    """
    trimesh = import_optional("trimesh")
    _check_positive("samples", samples)
    rng = np.random.default_rng(seed)
    if multiple_geometries:
        scene = _load_trimesh(data, file_type, force="scene")
        geometries = (
            list(scene.dump(concatenate=False)) if isinstance(scene, trimesh.Scene) else [scene]
        )
    else:
        loaded = _load_trimesh(data, file_type, force=None)
        if isinstance(loaded, trimesh.Scene):
            to_geometry = getattr(loaded, "to_geometry", None)  # trimesh >= 4.5
            loaded = to_geometry() if to_geometry is not None else loaded.dump(concatenate=True)
        geometries = [loaded]
    if not geometries:
        raise LoadError(
            f"not a decodable {file_type!r} point cloud ({_describe(data)}): no geometry"
        )

    results = []
    for geometry in geometries:
        try:
            results.append(_sample_geometry(geometry, int(samples), rng))
        except LoadError as exc:
            raise LoadError(
                f"not a decodable {file_type!r} point cloud ({_describe(data)}): {exc}"
            ) from exc
    if not multiple_geometries:
        return results[0]
    points = np.stack([points for points, _ in results])
    all_colors = [colors for _, colors in results]
    colors = None if any(c is None for c in all_colors) else np.stack(all_colors)
    return points, colors

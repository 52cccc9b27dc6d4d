"""File extensions of each media type, used to validate modality URLs.

A modality URL (``ImageUrl``, ``AudioUrl``, ...) rejects a URL whose extension is listed here
for *another* modality and not for its own; a URL without extension, or with an extension
listed nowhere, is accepted. Extensions are lower case and without the dot.
"""

from __future__ import annotations

__all__ = [
    "AUDIO_EXTENSIONS",
    "IMAGE_EXTENSIONS",
    "KNOWN_EXTENSIONS",
    "MESH_EXTENSIONS",
    "POINT_CLOUD_EXTENSIONS",
    "TEXT_EXTENSIONS",
    "VIDEO_EXTENSIONS",
    "modalities_of",
]

IMAGE_EXTENSIONS: frozenset[str] = frozenset(
    {
        "apng", "avif", "bmp", "dib", "gif", "heic", "heif", "ico", "j2k", "jfif", "jp2",
        "jpe", "jpeg", "jpg", "pbm", "pcx", "pgm", "png", "pnm", "ppm", "psd", "svg", "tga",
        "tif", "tiff", "webp",
    }
)  # fmt: skip

AUDIO_EXTENSIONS: frozenset[str] = frozenset(
    {
        "aac", "aif", "aifc", "aiff", "amr", "au", "caf", "flac", "m4a", "mka", "mp2", "mp3",
        "oga", "ogg", "opus", "snd", "wav", "wave", "weba", "webm", "wma",
    }
)  # fmt: skip

VIDEO_EXTENSIONS: frozenset[str] = frozenset(
    {
        "3g2", "3gp", "avi", "f4v", "flv", "m2ts", "m4v", "mkv", "mov", "mp4", "mpeg", "mpg",
        "mts", "ogg", "ogv", "qt", "vob", "webm", "wmv",
    }
)  # fmt: skip

TEXT_EXTENSIONS: frozenset[str] = frozenset(
    {
        "csv", "htm", "html", "ini", "json", "jsonl", "log", "markdown", "md", "ndjson",
        "rst", "rtf", "srt", "tex", "toml", "tsv", "txt", "vtt", "xml", "yaml", "yml",
    }
)  # fmt: skip

MESH_EXTENSIONS: frozenset[str] = frozenset(
    {"3ds", "3mf", "dae", "glb", "gltf", "obj", "off", "ply", "stl", "wrl"}
)

POINT_CLOUD_EXTENSIONS: frozenset[str] = MESH_EXTENSIONS | frozenset(
    {"las", "laz", "pcd", "pts", "xyz"}
)  # a point cloud is also sampled from the surface of a mesh

_BY_MODALITY: dict[str, frozenset[str]] = {
    "image": IMAGE_EXTENSIONS,
    "audio": AUDIO_EXTENSIONS,
    "video": VIDEO_EXTENSIONS,
    "text": TEXT_EXTENSIONS,
    "3D mesh": MESH_EXTENSIONS,
    "point cloud": POINT_CLOUD_EXTENSIONS,
}  # media type -> its extensions; the names are used in error messages

KNOWN_EXTENSIONS: frozenset[str] = frozenset().union(*_BY_MODALITY.values())


def modalities_of(extension: str) -> list[str]:
    """The media types an extension belongs to, e.g. ``['audio', 'video']`` for ``'webm'``.

    Example
    -------
    >>> modalities_of('webm')
    ['audio', 'video']
    >>> modalities_of('png')
    ['image']
    """
    return [name for name, table in _BY_MODALITY.items() if extension in table]

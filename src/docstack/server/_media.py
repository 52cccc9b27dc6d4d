"""The media of a document's field for the page: image thumbnails as PNG, sounds and videos
as files a player can stream. Local files are served only from the folders the service was
given as ``media_roots``; remote URLs are never fetched by the service."""

from __future__ import annotations

import io
import mimetypes
import os
import urllib.parse
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from docstack.errors import DocstackError
from docstack.index._base import DocumentIndex
from docstack.server._describe import MediaField, media_fields
from docstack.typing.tensor._convert import to_numpy

__all__ = ["Media", "MediaError", "field_media", "thumbnail_png"]

#: leading bytes of common media files and their media types
_MAGIC: tuple[tuple[bytes, int, str], ...] = (
    (b"\x89PNG", 0, "image/png"),
    (b"\xff\xd8\xff", 0, "image/jpeg"),
    (b"GIF8", 0, "image/gif"),
    (b"WEBP", 8, "image/webp"),
    (b"WAVE", 8, "audio/wav"),
    (b"OggS", 0, "audio/ogg"),
    (b"fLaC", 0, "audio/flac"),
    (b"ID3", 0, "audio/mpeg"),
    (b"ftyp", 4, "video/mp4"),
    (b"\x1aE\xdf\xa3", 0, "video/webm"),
)


class MediaError(DocstackError, ValueError):
    """A field's media cannot be served (not a media field, empty, a remote URL, a path
    outside the media roots); the ``status`` is the HTTP status to answer.

    Example
    -------
    >>> MediaError('no such file', status=404).status
    404
    """

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Media:
    """What to send for a field: bytes with a media type, a local file, or a redirect URL.

    Example
    -------
    >>> Media(data=b'x', media_type='text/plain').path is None
    True
    """

    data: bytes | None = None
    media_type: str = "application/octet-stream"
    path: str | None = None
    redirect: str | None = None


def sniff(data: bytes, kind: str) -> str:
    """The media type of encoded bytes from their leading bytes (``kind`` as a fallback).

    Example
    -------
    >>> sniff(b'\\x89PNG\\r\\n', 'image')
    'image/png'
    """
    for magic, at, media_type in _MAGIC:
        if data[at : at + len(magic)] == magic:
            return media_type
    return f"{kind}/*" if kind else "application/octet-stream"


def _field_value(index: DocumentIndex, doc_id: str, field: str) -> tuple[Any, Any, MediaField]:
    media = media_fields(index).get(field)
    if media is None:
        names = sorted(media_fields(index))
        raise MediaError(
            f"field {field!r} is not an image, audio or video field; media fields: "
            f"{names or 'none'}",
            status=404,
        )
    doc = index[doc_id]  # KeyError -> 404
    parent: Any = doc
    path = index._schema.columns[field].path
    for part in path[:-1]:
        parent = getattr(parent, part, None)
        if parent is None:
            break
    value = None if parent is None else getattr(parent, path[-1], None)
    if value is None:
        raise MediaError(f"document {doc_id!r} has no value in field {field!r}", status=404)
    return value, parent, media


def _local_path(url: str, roots: Sequence[str]) -> str:
    parts = urllib.parse.urlsplit(url)
    if parts.scheme == "file":
        raw = urllib.parse.unquote(parts.path)
    elif parts.scheme and len(parts.scheme) > 1:
        raise MediaError(f"URLs of scheme {parts.scheme!r} are not served")
    else:
        raw = url
    if not roots:
        raise MediaError(
            "local files are not served: give create_app(media_roots=[...]) the folders "
            "that hold them",
            status=403,
        )
    real = os.path.realpath(raw)
    for root in roots:
        base = os.path.realpath(root)
        if real == base or real.startswith(base.rstrip(os.sep) + os.sep):
            if not os.path.isfile(real):
                raise MediaError(f"no file at {url!r}", status=404)
            return real
    raise MediaError(f"{url!r} is outside the folders this service serves", status=403)


def _url_media(url: str, kind: str, roots: Sequence[str]) -> Media:
    lower = url.lower()
    if lower.startswith(("http://", "https://")):
        return Media(redirect=url)
    if lower.startswith("data:"):
        from docstack.typing.url.any_url import AnyUrl

        data = AnyUrl(url).load_bytes()
        return Media(data=bytes(data), media_type=sniff(bytes(data), kind))
    path = _local_path(url, roots)
    guessed = mimetypes.guess_type(path)[0] or f"{kind}/*"
    return Media(path=path, media_type=guessed)


def _tensor_media(value: Any, parent: Any, media: MediaField) -> Media:
    from docstack._internal.media import encode_audio, encode_image

    arr = to_numpy(value)
    if media.kind == "image":
        return Media(data=encode_image(arr, "PNG"), media_type="image/png")
    if media.kind == "audio":
        rate = getattr(parent, "frame_rate", None) or 44100
        return Media(data=encode_audio(arr, int(rate), "wav"), media_type="audio/wav")
    raise MediaError(
        f"field {media.name!r} holds raw video frames, which are not streamed; store the "
        "video's bytes or URL to play it",
        status=415,
    )


def field_media(index: DocumentIndex, doc_id: str, field: str, roots: Sequence[str] = ()) -> Media:
    """The media of ``field`` of document ``doc_id``, ready to send.

    Example
    -------
    >>> from docstack.documents import ImageDoc
    >>> from docstack.index import InMemoryExactNNIndex
    >>> index = InMemoryExactNNIndex[ImageDoc]()
    >>> index.index([ImageDoc(id='a', url='https://example.com/a.png')])
    >>> field_media(index, 'a', 'url').redirect
    'https://example.com/a.png'
    """
    value, parent, media = _field_value(index, doc_id, field)
    if media.source == "url":
        return _url_media(str(value), media.kind, roots)
    if media.source == "bytes":
        return Media(data=bytes(value), media_type=sniff(bytes(value), media.kind))
    return _tensor_media(value, parent, media)


def _first_frame(arr: np.ndarray, kind: str) -> np.ndarray:
    if kind == "video" and arr.ndim == 4:
        return arr[0]
    return arr


def thumbnail_png(
    index: DocumentIndex, doc_id: str, field: str, size: int, roots: Sequence[str] = ()
) -> bytes:
    """A PNG at most ``size`` pixels wide and high of an image field (or of a video tensor's
    first frame).

    Example
    -------
    >>> import numpy as np
    >>> from docstack.documents import ImageDoc
    >>> from docstack.index import InMemoryExactNNIndex
    >>> index = InMemoryExactNNIndex[ImageDoc]()
    >>> index.index([ImageDoc(id='a', tensor=np.zeros((300, 200, 3), np.uint8))])
    >>> thumbnail_png(index, 'a', 'tensor', 64)[:4]
    b'\\x89PNG'
    """
    from PIL import Image

    from docstack._internal.media import decode_image, encode_image

    value, _, media = _field_value(index, doc_id, field)
    if media.kind == "audio" or (media.kind == "video" and media.source != "tensor"):
        raise MediaError(f"field {field!r} holds {media.kind}, not an image", status=415)
    if media.source == "tensor":
        arr = _first_frame(to_numpy(value), media.kind)
    else:
        found = field_media(index, doc_id, field, roots)
        if found.redirect is not None:
            raise MediaError(f"field {field!r} is a remote URL; load it from there", status=409)
        data = found.data
        if data is None:
            data = Path(found.path or "").read_bytes()
        arr = decode_image(data)
    image = Image.open(io.BytesIO(encode_image(arr, "PNG")))
    image.thumbnail((size, size))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


# doctest compiles examples with the __future__ flags of the module namespace
del annotations

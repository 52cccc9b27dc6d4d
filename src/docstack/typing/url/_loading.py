"""Helpers shared by the URL types' ``load()`` and ``display()`` methods."""

from __future__ import annotations

import mimetypes
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from docstack._internal.fetch import is_remote, url_extension
from docstack.errors import LoadError

__all__ = ["display_media_url", "guess_3d_file_type", "media_mimetype", "naming_url", "shown_url"]

_SHOWN_CHARS = 100


def display_media_url(url: Any, widget: str, **local_kwargs: Any) -> None:
    """Show ``url`` in a notebook with IPython's ``widget`` (``'Image'``, ``'Audio'``,
    ``'Video'``): a remote URL by reference, a local file or data URL by its bytes.

    Example
    -------
    >>> from docstack.typing import ImageUrl
    >>> display_media_url(ImageUrl('https://example.com/a.png'), 'Image')  # doctest: +SKIP
    """
    from docstack.typing.tensor._modality import display_in_notebook

    def make() -> Any:
        import IPython.display

        cls = getattr(IPython.display, widget)
        if is_remote(url):
            return cls(url=str(url))
        return cls(data=bytes(url.load_bytes()), **local_kwargs)

    display_in_notebook(make)


# media types of data: URLs holding 3D files
_3D_MEDIA_TYPES = {
    "model/obj": "obj",
    "model/stl": "stl",
    "model/x.stl-ascii": "stl",
    "model/x.stl-binary": "stl",
    "model/gltf-binary": "glb",
    "model/gltf+json": "gltf",
    "model/ply": "ply",
    "application/ply": "ply",
    "model/vnd.collada+xml": "dae",
    "model/3mf": "3mf",
}


def shown_url(url: str) -> str:
    """The URL quoted for an error message (long ``data:`` URLs are cut).

    Example
    -------
    >>> shown_url('https://example.com/a.png')
    "'https://example.com/a.png'"
    """
    return repr(url if len(url) <= _SHOWN_CHARS else url[:_SHOWN_CHARS] + "...")


@contextmanager
def naming_url(url: str) -> Iterator[None]:
    """Re-raise a :class:`LoadError` from decoding with the URL in front of its message.

    Example
    -------
    >>> from docstack.errors import LoadError
    >>> try:
    ...     with naming_url('x.png'):
    ...         raise LoadError('not an image')
    ... except LoadError as exc:
    ...     print(exc)
    cannot load 'x.png': not an image
    """
    try:
        yield
    except LoadError as exc:
        raise LoadError(f"cannot load {shown_url(url)}: {exc}") from exc


def guess_3d_file_type(url: str, data: bytes, file_type: str | None) -> str:
    """The format of a 3D file: ``file_type`` if given, else from the URL, else sniffed.

    Raises
    ------
    LoadError
        The format cannot be told; the message asks for ``file_type``.

    Example
    -------
    >>> guess_3d_file_type('https://example.com/model', b'ply\\nformat ascii 1.0', None)
    'ply'
    >>> guess_3d_file_type('mesh.obj', b'', None)
    'obj'
    """
    if file_type:
        return file_type.lower().lstrip(".")
    if url[:5].lower() == "data:":
        media_type = url[5:].partition(",")[0].split(";")[0].strip().lower()
        if media_type in _3D_MEDIA_TYPES:
            return _3D_MEDIA_TYPES[media_type]
    else:
        ext = url_extension(url)
        if ext:
            return ext
    head = bytes(data[:80]).lstrip()
    if head[:3] == b"ply":
        return "ply"
    if head[:4] == b"glTF":
        return "glb"
    if head[:3] == b"OFF":
        return "off"
    if head[:5] == b"solid":
        return "stl"
    raise LoadError(
        f"cannot load {shown_url(url)}: cannot tell the 3D file format (no extension); "
        "pass file_type='obj' (or 'ply', 'stl', 'glb', ...)"
    )


def media_mimetype(url: str, default: str) -> str:
    """The MIME type of a URL from its extension, or ``default``.

    Example
    -------
    >>> media_mimetype('https://example.com/clip.webm', 'video/mp4')
    'video/webm'
    >>> media_mimetype('https://example.com/clip', 'video/mp4')
    'video/mp4'
    """
    ext = url_extension(url)
    if ext:
        guessed = mimetypes.guess_type(f"x.{ext}")[0]
        if guessed:
            return guessed
    return default

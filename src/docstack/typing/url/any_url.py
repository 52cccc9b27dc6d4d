"""``AnyUrl``: a URL or local path as a plain ``str`` that can load what it points to."""

from __future__ import annotations

import re
import urllib.parse
from typing import Any, ClassVar

from pydantic import GetCoreSchemaHandler, GetJsonSchemaHandler
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import core_schema

from docstack._internal.fetch import fetch_bytes, url_extension
from docstack.typing.url._extensions import KNOWN_EXTENSIONS, modalities_of
from docstack.typing.url._loading import shown_url as _shown

__all__ = ["AnyUrl"]

_MEDIA_MAJORS = frozenset({"image", "audio", "video", "text", "model"})
_CONTROL_CHARACTER = re.compile("[\x00-\x1f\x7f]")


def _data_url_media_type(url: str) -> str | None:
    """The lower-cased media type of a ``data:`` URL (``'image/png'``), or ``None``."""
    header = url[len("data:") :].partition(",")[0]
    media_type = header.split(";")[0].strip().lower()
    return media_type or None


class AnyUrl(str):
    """A URL or a local path: a ``str`` (so ``doc.url == 'https://...'`` holds) with loaders.

    Accepted are ``http://`` and ``https://`` URLs (with a host), ``file://`` and ``data:``
    URLs, absolute and relative local paths, and URLs of any other well-formed scheme (such
    as ``s3://``), which are kept but cannot be loaded. Empty strings, strings of whitespace,
    strings with control characters and values that are not ``str`` are rejected.

    ``AnyUrl`` accepts any file extension. The modality URLs (``ImageUrl``, ``AudioUrl``,
    ``VideoUrl``, ``TextUrl``, ``Mesh3DUrl``, ``PointCloud3DUrl``) reject a URL whose
    extension is known to belong to another media type (``ImageUrl('song.mp3')``) and accept
    URLs without extension (``'http://example.ai/images/1024'``) or with an unknown one.

    In JSON a URL is a plain string.

    Parameters
    ----------
    value:
        The URL or path.

    Raises
    ------
    ValueError
        The string is not a usable URL (in a document field: a pydantic ``ValidationError``).
    TypeError
        ``value`` is not a ``str``.

    Example
    -------
    >>> from docstack import BaseDoc
    >>> from docstack.typing import AnyUrl
    >>> class Page(BaseDoc):
    ...     link: AnyUrl
    >>> page = Page(link='https://example.com/index.html')
    >>> page.link == 'https://example.com/index.html'
    True
    >>> AnyUrl('data:text/plain;base64,aGVsbG8=').load_bytes()
    b'hello'
    """

    __slots__ = ()

    # extensions of this URL type's media; None: any extension is accepted
    _docstack_extensions: ClassVar[frozenset[str] | None] = None
    # the major media types ('image', ...) a data: URL of this type may declare
    _docstack_media_majors: ClassVar[frozenset[str]] = frozenset()
    # what the URL points to, for error messages ('images')
    _docstack_what: ClassVar[str] = "resources"
    # what load_bytes() returns: plain bytes here, ImageBytes for ImageUrl, ...
    _docstack_bytes_type: ClassVar[type[bytes]] = bytes
    # the media kind of docstack.typing.url.mimetypes; None: any
    _docstack_mime: ClassVar[str | None] = None

    @classmethod
    def mime_type(cls) -> str | None:
        """The media kind this URL type holds (``'image'``, ``'audio'``, ``'video'``,
        ``'text'`` or ``OBJ_MIMETYPE`` for 3D; see :mod:`docstack.typing.url.mimetypes`), or
        ``None`` for ``AnyUrl``, which holds any."""
        return cls._docstack_mime

    @classmethod
    def extra_extensions(cls) -> list[str]:
        """The file extensions this URL type accepts as its own media (lower case, no dot)."""
        return sorted(cls._docstack_extensions or ())

    def __new__(cls, value: str) -> AnyUrl:
        if type(value) is cls:
            return value
        if not isinstance(value, str):
            raise TypeError(f"{cls.__name__} needs a str, got {type(value).__name__}")
        return str.__new__(cls, cls._docstack_check(str(value)))

    # -- validation -------------------------------------------------------------------------

    @classmethod
    def _docstack_check(cls, url: str) -> str:
        """Return ``url`` if it is a valid URL of this type, else raise ``ValueError``."""
        name = cls.__name__
        if not url or url.isspace():
            raise ValueError(f"{name}: a URL must not be empty, got {url!r}")
        bad = _CONTROL_CHARACTER.search(url)
        if bad is not None:
            raise ValueError(
                f"{name}: {_shown(url)} is not a valid URL: it contains the control "
                f"character {bad.group()!r}"
            )
        try:
            parts = urllib.parse.urlsplit(url)
        except ValueError as exc:
            raise ValueError(f"{name}: {_shown(url)} is not a valid URL: {exc}") from None
        scheme = parts.scheme.lower()
        if len(scheme) > 1:  # a one-letter scheme is a Windows drive: a path
            if scheme in ("http", "https") and not parts.hostname:
                raise ValueError(f"{name}: {_shown(url)} is not a valid URL: it has no host")
            if scheme == "data":
                cls._docstack_check_data_url(url)
                return url
        cls._docstack_check_extension(url)
        return url

    @classmethod
    def _docstack_check_data_url(cls, url: str) -> None:
        if "," not in url:
            raise ValueError(
                f"{cls.__name__}: {_shown(url)} is not a valid data URL: no ',' before the data"
            )
        majors = cls._docstack_media_majors
        media_type = _data_url_media_type(url)
        if not majors or media_type is None:
            return
        major = media_type.split("/")[0]
        if major in _MEDIA_MAJORS and major not in majors:
            raise ValueError(
                f"{cls.__name__}: the data URL {_shown(url)} holds {media_type!r}, not "
                f"{cls._docstack_what} (expected a media type starting with "
                f"{' or '.join(repr(m + '/') for m in sorted(majors))})"
            )

    @classmethod
    def _docstack_check_extension(cls, url: str) -> None:
        accepted = cls._docstack_extensions
        if accepted is None:
            return
        ext = url_extension(url)
        if ext is None or ext in accepted or ext not in KNOWN_EXTENSIONS:
            return
        kinds = " or ".join(modalities_of(ext))
        listed = ", ".join(f".{e}" for e in sorted(accepted))
        raise ValueError(
            f"{cls.__name__}: {_shown(url)} has the extension '.{ext}' of {kinds} files, "
            f"not of {cls._docstack_what}; {cls.__name__} accepts the extensions {listed}, "
            "an extension not known as another media type's, or none"
        )

    @classmethod
    def _docstack_validate(cls, value: Any) -> AnyUrl:
        if isinstance(value, cls):  # an instance of a subclass passed the stricter checks
            return value
        if not isinstance(value, str):
            raise ValueError(
                f"{cls.__name__} needs a str (a URL or a path), got {type(value).__name__}"
            )
        return cls(value)

    @classmethod
    def validate(cls, value: Any) -> AnyUrl:
        """Validate ``value`` as this URL type, as a field of this type would.

        Parameters
        ----------
        value:
            A ``str``: a URL or a local path.

        Returns
        -------
        AnyUrl
            The value as an instance of this class.

        Raises
        ------
        ValueError
            The value is not a ``str`` or not a valid URL of this type.

        Example
        -------
        >>> from docstack.typing import AnyUrl
        >>> AnyUrl.validate('/data/a.txt')
        '/data/a.txt'
        """
        return cls._docstack_validate(value)

    # -- pydantic ---------------------------------------------------------------------------

    @classmethod
    def __get_pydantic_core_schema__(
        cls, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return core_schema.no_info_plain_validator_function(
            cls._docstack_validate,
            json_schema_input_schema=core_schema.str_schema(),
            serialization=core_schema.plain_serializer_function_ser_schema(
                str, when_used="json-unless-none"
            ),
        )

    @classmethod
    def __get_pydantic_json_schema__(
        cls, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        return {"type": "string", "format": "uri-reference", "minLength": 1}

    # -- loading ----------------------------------------------------------------------------

    @property
    def extension(self) -> str | None:
        """The lower-cased file extension without the dot, or ``None``.

        Returns
        -------
        str or None
            The extension of the last path segment (query and fragment ignored).

        Example
        -------
        >>> from docstack.typing import AnyUrl
        >>> AnyUrl('https://example.com/a/b.PNG?size=2').extension
        'png'
        """
        return url_extension(self)

    def load_bytes(self, timeout: float | None = None, max_bytes: int | None = None) -> bytes:
        """Fetch the bytes this URL points to.

        Parameters
        ----------
        timeout:
            Seconds each network operation may take (``None``: ``$DOCSTACK_URL_TIMEOUT`` or 10).
        max_bytes:
            Largest accepted size (``None``: ``$DOCSTACK_URL_MAX_BYTES`` or 512 MiB).

        Returns
        -------
        bytes
            The content, as this URL type's bytes type: ``bytes`` for ``AnyUrl``,
            ``ImageBytes`` for ``ImageUrl``, ``AudioBytes`` for ``AudioUrl`` and
            ``VideoBytes`` for ``VideoUrl`` (whose ``.load()`` decodes it).

        Raises
        ------
        LoadError
            Not found, an HTTP error, a timeout, too large, or a scheme that cannot be loaded.

        Example
        -------
        >>> from docstack.typing import AnyUrl
        >>> AnyUrl('data:,hello').load_bytes()
        b'hello'
        >>> from docstack.typing import ImageUrl
        >>> type(ImageUrl('data:image/png;base64,iVBORw0=').load_bytes()).__name__
        'ImageBytes'
        """
        data = fetch_bytes(str(self), timeout=timeout, max_bytes=max_bytes)
        bytes_type = type(self)._docstack_bytes_type
        return data if type(data) is bytes_type else bytes_type(data)

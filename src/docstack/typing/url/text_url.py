"""``TextUrl``: the URL of a text file."""

from __future__ import annotations

import codecs
from typing import ClassVar

from docstack.errors import LoadError
from docstack.typing.url._extensions import TEXT_EXTENSIONS
from docstack.typing.url._loading import shown_url
from docstack.typing.url.any_url import AnyUrl

__all__ = ["TextUrl"]


class TextUrl(AnyUrl):
    """The URL or path of a text file (TXT, Markdown, HTML, JSON, CSV, ...).

    A ``str``. A URL whose extension belongs to another media type (``'.png'``, ``'.mp3'``,
    ...) is rejected; URLs without extension or with an unknown one (``'.py'``) are accepted.

    Example
    -------
    >>> from docstack import BaseDoc
    >>> from docstack.typing import TextUrl
    >>> class Article(BaseDoc):
    ...     url: TextUrl
    >>> Article(url='data:text/plain,hello%20world').url.load()
    'hello world'
    """

    __slots__ = ()

    _docstack_extensions: ClassVar[frozenset[str] | None] = TEXT_EXTENSIONS
    _docstack_media_majors: ClassVar[frozenset[str]] = frozenset({"text"})
    _docstack_what: ClassVar[str] = "text"
    _docstack_mime: ClassVar[str | None] = "text"

    def load(
        self, charset: str = "utf-8", timeout: float | None = None, max_bytes: int | None = None
    ) -> str:
        """Fetch the file and decode it as text.

        Parameters
        ----------
        charset:
            The text encoding, e.g. ``'utf-8'`` (a byte order mark is kept; use
            ``'utf-8-sig'`` to drop it) or ``'latin-1'``.
        timeout:
            Seconds each network operation may take.
        max_bytes:
            Largest accepted size of the file.

        Returns
        -------
        str
            The text.

        Raises
        ------
        LoadError
            The URL cannot be fetched or the bytes are not valid in ``charset``.
        ValueError
            ``charset`` is not a known encoding.

        Example
        -------
        >>> from docstack.typing import TextUrl
        >>> TextUrl('data:text/plain;base64,aGk=').load()
        'hi'
        """
        try:
            codecs.lookup(charset)
        except LookupError:
            raise ValueError(f"unknown charset {charset!r}") from None
        data = self.load_bytes(timeout=timeout, max_bytes=max_bytes)
        try:
            return data.decode(charset)
        except UnicodeDecodeError as exc:
            raise LoadError(
                f"cannot load {shown_url(self)}: the bytes are not valid {charset} text ({exc})"
            ) from exc

"""``DocList.push``/``pull``/``push_stream``/``pull_stream``: documents to and from a URL.

The URL picks the store (:mod:`docstack.store`): ``file:///path/name`` a file in a folder,
``s3://bucket/name`` an S3 object, and any other fsspec URL (``memory://name``, ``gcs://``,
...) that filesystem. Documents are stored in docstack's streamed binary format.

Example
-------
>>> import tempfile
>>> from docstack import DocList
>>> from docstack.documents import TextDoc
>>> url = f'file://{tempfile.mkdtemp()}/letters'
>>> _ = DocList[TextDoc]([TextDoc(text='a'), TextDoc(text='b')]).push(url)
>>> [d.text for d in DocList[TextDoc].pull_stream(url)]
['a', 'b']
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

if TYPE_CHECKING:  # pragma: no cover
    from docstack.store.abstract_doc_store import AbstractDocStore

__all__ = ["PushPullMixin"]

_logger = logging.getLogger("docstack.store")
T = TypeVar("T", bound="PushPullMixin")


class PushPullMixin:
    """Push and pull methods of :class:`~docstack.DocList` (DocArray's names and
    signatures)."""

    __slots__ = ()
    doc_type: ClassVar[type]

    @staticmethod
    def resolve_url(url: str) -> tuple[str, str]:
        """Split ``protocol://name`` into the protocol and the name.

        Example
        -------
        >>> PushPullMixin.resolve_url('file:///data/books')
        ('file', '/data/books')
        """
        from docstack.store._registry import resolve_url

        return resolve_url(url)

    @classmethod
    def get_pushpull_backend(cls, protocol: str) -> type[AbstractDocStore]:
        """The store class of ``protocol`` (``'file'``, ``'s3'``, ``'memory'``, ...).

        Example
        -------
        >>> PushPullMixin.get_pushpull_backend('file').__name__
        'FileDocStore'
        """
        from docstack.store._registry import store_for_protocol

        return store_for_protocol(protocol)

    def push(self, url: str, show_progress: bool = False, **kwargs: Any) -> dict:
        """Write these documents to ``url``, replacing what was stored there.

        Parameters
        ----------
        url:
            ``file:///path/to/folder/name``, ``s3://bucket/path/name`` or another fsspec URL
            (``memory://name``, ``gcs://bucket/name``, ...). A ``file://`` name that does not
            start with ``/``, ``~`` or ``.`` is in the cache directory (``$DOCSTACK_CACHE``).
        show_progress:
            Show a progress bar.
        kwargs:
            Accepted and ignored, as DocArray did (``public=``, ``branding=`` were options
            of its hosted store, which is gone).

        Returns
        -------
        ``{'url': ..., 'num_docs': ..., 'size': ...}``: where the payload is, how many
        documents and how many bytes it holds.

        Raises
        ------
        ConcurrentPushException
            Another push to the same name is running; this one wrote nothing.
        UnsupportedProtocolError
            The URL names no store.
        """
        protocol, name = type(self).resolve_url(url)
        store = type(self).get_pushpull_backend(protocol)
        _logger.info("pushing %d documents to %s", len(self), url)  # type: ignore[arg-type]
        return store.push(self, name, show_progress)

    @classmethod
    def push_stream(cls, docs: Iterable[Any], url: str, show_progress: bool = False) -> dict:
        """Write documents to ``url`` as they come from ``docs``, one block at a time, so a
        stream larger than memory can be pushed.

        Parameters
        ----------
        docs:
            Any iterable of documents of this class's document type (dicts are validated
            into it; on an untyped ``DocList``, of the first document's class).
        url, show_progress:
            As for :meth:`push`.

        Returns
        -------
        As for :meth:`push`. When ``docs`` raises or holds a document of another type,
        nothing is written and what was stored at ``url`` stays.
        """
        protocol, name = cls.resolve_url(url)
        store = cls.get_pushpull_backend(protocol)
        _logger.info("pushing a stream of documents to %s", url)
        return store.push_stream(docs, name, show_progress, doc_type=cls.doc_type)

    @classmethod
    def pull(cls: type[T], url: str, show_progress: bool = False, local_cache: bool = True) -> T:
        """Read the documents stored at ``url``.

        Parameters
        ----------
        url:
            As for :meth:`push`.
        show_progress:
            Show a progress bar of the bytes read.
        local_cache:
            For remote URLs, keep a copy in the cache directory (``$DOCSTACK_CACHE``, else
            ``~/.cache/docstack``) and read the copy while the stored object is unchanged.

        Returns
        -------
        A ``DocList`` of this class's document type.

        Raises
        ------
        DocListNotFoundError
            Nothing is stored at ``url``.
        SchemaMismatchError
            The payload was written for a document class this one cannot read.
        DocTypeError
            This ``DocList`` is untyped: call ``DocList[MyDoc].pull(...)``.
        """
        protocol, name = cls.resolve_url(url)
        store = cls.get_pushpull_backend(protocol)
        _logger.info("pulling %s", url)
        return store.pull(cls, name, show_progress, local_cache)

    @classmethod
    def pull_stream(
        cls, url: str, show_progress: bool = False, local_cache: bool = False
    ) -> Iterator[Any]:
        """The documents stored at ``url``, read one block at a time, so a payload larger
        than memory can be processed.

        A missing name or a payload of another schema raises at this call; the documents
        are read as the iterator advances.

        Parameters
        ----------
        url, show_progress, local_cache:
            As for :meth:`pull`.

        Returns
        -------
        An iterator of documents of this class's document type.
        """
        protocol, name = cls.resolve_url(url)
        store = cls.get_pushpull_backend(protocol)
        _logger.info("pulling a stream of documents from %s", url)
        return store.pull_stream(cls, name, show_progress, local_cache)

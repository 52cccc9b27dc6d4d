"""The wire methods of a document: JSON, bytes, base64 and protobuf.

The codecs live in :mod:`docstack.io`; these methods only pick the codec, so a document
class carries the API DocArray users know without importing any codec until it is used.
"""

from __future__ import annotations

from typing import Any, Optional, TypeVar

__all__ = ["DocIOMixin"]

T = TypeVar("T", bound="DocIOMixin")


class DocIOMixin:
    """``to_json``/``from_json``, ``to_bytes``/``from_bytes``, ``to_base64``/``from_base64``
    and ``to_protobuf``/``from_protobuf`` for :class:`~docstack.BaseDoc`."""

    __slots__ = ()

    def to_json(self) -> str:
        """The document as a JSON string; tensors become nested lists of numbers.

        Returns
        -------
        A JSON object with one key per field.

        Example
        -------
        >>> from docstack.documents import TextDoc
        >>> TextDoc(text='hi', id='1').to_json()
        '{"id":"1","text":"hi","url":null,"embedding":null,"bytes_":null}'
        """
        from docstack.io._json import doc_to_json

        return doc_to_json(self)

    @classmethod
    def from_json(cls: type[T], data: str | bytes | bytearray) -> T:
        """Read a document from the JSON that :meth:`to_json` writes.

        Parameters
        ----------
        data:
            A JSON object, as text or UTF-8 bytes.

        Returns
        -------
        The document, validated like any new document of this class.

        Example
        -------
        >>> from docstack.documents import TextDoc
        >>> TextDoc.from_json(TextDoc(text='hi').to_json()).text
        'hi'
        """
        from docstack.io._json import doc_from_json

        return doc_from_json(cls, data)

    def to_bytes(self, protocol: Optional[str] = None, compress: Optional[str] = None) -> bytes:
        """The document as bytes.

        Parameters
        ----------
        protocol:
            ``'docstack'`` (the default: docstack's own binary format, fast and safe to
            load), ``'protobuf'`` (docstack's ``.proto`` schema) or ``'pickle'``.
        compress:
            ``None`` or one of ``'lz4'``, ``'zstd'``, ``'gzip'``, ``'zlib'``, ``'bz2'``,
            ``'lzma'``.

        Returns
        -------
        The payload; read it back with :meth:`from_bytes` and the same arguments.

        Example
        -------
        >>> from docstack.documents import TextDoc
        >>> doc = TextDoc(text='hi')
        >>> TextDoc.from_bytes(doc.to_bytes(compress='zlib'), compress='zlib') == doc
        True
        """
        from docstack.io._bytes import doc_to_bytes

        return doc_to_bytes(self, protocol=protocol, compress=compress)

    @classmethod
    def from_bytes(
        cls: type[T],
        data: bytes | bytearray | memoryview,
        protocol: Optional[str] = None,
        compress: Optional[str] = None,
    ) -> T:
        """Read a document from bytes written by :meth:`to_bytes`.

        Parameters
        ----------
        data:
            The payload.
        protocol:
            The protocol it was written with (``None``: docstack's own format). A pickle is
            loaded only when ``protocol='pickle'`` is named: unpickling runs code.
        compress:
            The compression it was written with.

        Returns
        -------
        The document.

        Raises
        ------
        DeserializationError
            The bytes are truncated, corrupt, or of another protocol or compression.
        SchemaMismatchError
            The bytes hold a document of another schema.

        Example
        -------
        >>> from docstack.documents import TextDoc
        >>> TextDoc.from_bytes(TextDoc(text='hi').to_bytes()).text
        'hi'
        """
        from docstack.io._bytes import doc_from_bytes

        return doc_from_bytes(cls, data, protocol=protocol, compress=compress)

    def to_base64(self, protocol: Optional[str] = None, compress: Optional[str] = None) -> str:
        """The document as base64 text: :meth:`to_bytes`, then base64.

        Example
        -------
        >>> from docstack.documents import TextDoc
        >>> doc = TextDoc(text='hi')
        >>> TextDoc.from_base64(doc.to_base64()) == doc
        True
        """
        from docstack.io._bytes import to_base64

        return to_base64(self.to_bytes(protocol=protocol, compress=compress))

    @classmethod
    def from_base64(
        cls: type[T],
        data: str | bytes,
        protocol: Optional[str] = None,
        compress: Optional[str] = None,
    ) -> T:
        """Read a document from :meth:`to_base64` text; the defaults match its defaults.

        Example
        -------
        >>> from docstack.documents import TextDoc
        >>> TextDoc.from_base64(TextDoc(text='hi').to_base64(compress='gzip'), compress='gzip').text
        'hi'
        """
        from docstack.io._bytes import from_base64

        return cls.from_bytes(from_base64(data), protocol=protocol, compress=compress)

    def to_protobuf(self) -> Any:
        """The document as a ``DocProto`` message of docstack's ``.proto`` schema.

        Example
        -------
        >>> from docstack.documents import TextDoc
        >>> msg = TextDoc(text='hi').to_protobuf()
        >>> TextDoc.from_protobuf(msg).text
        'hi'
        """
        from docstack.io._protobuf import doc_to_protobuf

        return doc_to_protobuf(self)

    @classmethod
    def from_protobuf(cls: type[T], msg: Any) -> T:
        """Read a document from a ``DocProto`` message (see :meth:`to_protobuf`)."""
        from docstack.io._protobuf import doc_from_protobuf

        return doc_from_protobuf(cls, msg)

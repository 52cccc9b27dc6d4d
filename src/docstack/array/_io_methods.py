"""The wire and table methods of ``DocList`` and ``DocVec``.

The codecs live in :mod:`docstack.io`; these methods only pick the codec. Every ``from_*``
is a classmethod of the parametrized array (``DocList[MyDoc].from_bytes(...)``) and returns
an instance of it; ``tensor_type`` sets the tensor class of a ``DocVec``'s ``AnyTensor``
columns and is refused by ``DocList``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from os import PathLike
from typing import Any, Optional, TypeVar, Union

__all__ = ["ArrayIOMixin"]

T = TypeVar("T", bound="ArrayIOMixin")
PathType = Union[str, "PathLike[str]"]


class ArrayIOMixin:
    """Serialization methods shared by :class:`~docstack.DocList` and :class:`~docstack.DocVec`."""

    __slots__ = ()

    @classmethod
    def _check_tensor_type(cls, tensor_type: Optional[type]) -> None:
        if tensor_type is not None and not getattr(cls, "_docstack_columnar", False):
            raise TypeError(
                f"tensor_type= applies to a DocVec; {cls.__name__} keeps each document's tensors"
            )

    # -- JSON -------------------------------------------------------------------------------

    def to_json(self) -> str:
        """The documents as a JSON array of objects (the same text for a DocList and a DocVec).

        Example
        -------
        >>> from docstack import DocList
        >>> from docstack.documents import TextDoc
        >>> docs = DocList[TextDoc]([TextDoc(text='a'), TextDoc(text='b')])
        >>> DocList[TextDoc].from_json(docs.to_json()).text
        ['a', 'b']
        """
        from docstack.io._json import array_to_json

        return array_to_json(self)

    @classmethod
    def from_json(
        cls: type[T], data: str | bytes | bytearray, tensor_type: Optional[type] = None
    ) -> T:
        """Read documents from a JSON array of objects, validating each one.

        Parameters
        ----------
        data:
            The JSON text (or UTF-8 bytes) that :meth:`to_json` writes.
        tensor_type:
            ``DocVec`` only: the tensor class of ``AnyTensor`` columns.
        """
        cls._check_tensor_type(tensor_type)
        from docstack.io._json import array_from_json

        return array_from_json(cls, data, tensor_type=tensor_type)

    # -- bytes ------------------------------------------------------------------------------

    def to_bytes(
        self,
        protocol: Optional[str] = None,
        compress: Optional[str] = None,
        show_progress: bool = False,
    ) -> bytes:
        """The documents as bytes.

        Parameters
        ----------
        protocol:
            ``'docstack'`` (default: docstack's own binary format, column by column, with raw
            tensor buffers; safe to load), ``'protobuf-array'`` (one message for the array),
            ``'protobuf'`` (one length-prefixed message per document), ``'pickle-array'``
            or ``'pickle'``.
        compress:
            ``None`` or one of ``'lz4'``, ``'zstd'``, ``'gzip'``, ``'zlib'``, ``'bz2'``,
            ``'lzma'``.
        show_progress:
            Show a progress bar.

        Example
        -------
        >>> from docstack import DocList
        >>> from docstack.documents import TextDoc
        >>> docs = DocList[TextDoc]([TextDoc(text='a')])
        >>> DocList[TextDoc].from_bytes(docs.to_bytes(compress='lz4'), compress='lz4').text
        ['a']
        """
        from docstack.io._bytes import array_to_bytes

        return array_to_bytes(
            self, protocol=protocol, compress=compress, show_progress=show_progress
        )

    @classmethod
    def from_bytes(
        cls: type[T],
        data: bytes | bytearray | memoryview,
        protocol: Optional[str] = None,
        compress: Optional[str] = None,
        show_progress: bool = False,
        tensor_type: Optional[type] = None,
    ) -> T:
        """Read documents from bytes written by :meth:`to_bytes` with the same arguments.

        A pickle is loaded only when ``protocol='pickle'`` or ``'pickle-array'`` is named
        (unpickling runs code chosen by whoever wrote the bytes).

        Raises
        ------
        DeserializationError
            The bytes are truncated, corrupt, or of another protocol or compression.
        SchemaMismatchError
            The bytes hold documents of another schema.
        UnsafeProtocolError
            The bytes are a pickle and the pickle protocol was not named.
        """
        cls._check_tensor_type(tensor_type)
        from docstack.io._bytes import array_from_bytes

        return array_from_bytes(
            cls,
            data,
            protocol=protocol,
            compress=compress,
            show_progress=show_progress,
            tensor_type=tensor_type,
        )

    def to_base64(
        self,
        protocol: Optional[str] = None,
        compress: Optional[str] = None,
        show_progress: bool = False,
    ) -> str:
        """The documents as base64 text: :meth:`to_bytes`, then base64.

        Example
        -------
        >>> from docstack import DocList
        >>> from docstack.documents import TextDoc
        >>> docs = DocList[TextDoc]([TextDoc(text='a')])
        >>> DocList[TextDoc].from_base64(docs.to_base64()).text
        ['a']
        """
        from docstack.io._bytes import to_base64

        return to_base64(
            self.to_bytes(protocol=protocol, compress=compress, show_progress=show_progress)
        )

    @classmethod
    def from_base64(
        cls: type[T],
        data: str | bytes,
        protocol: Optional[str] = None,
        compress: Optional[str] = None,
        show_progress: bool = False,
        tensor_type: Optional[type] = None,
    ) -> T:
        """Read documents from :meth:`to_base64` text; the defaults match its defaults."""
        from docstack.io._bytes import from_base64

        return cls.from_bytes(
            from_base64(data),
            protocol=protocol,
            compress=compress,
            show_progress=show_progress,
            tensor_type=tensor_type,
        )

    # -- files and streams ------------------------------------------------------------------

    def save_binary(
        self,
        file: PathType | Any,
        protocol: Optional[str] = None,
        compress: Optional[str] = None,
        show_progress: bool = False,
    ) -> None:
        """Write the documents to a file, one block of documents at a time.

        Parameters
        ----------
        file:
            A path, or a binary file object open for writing. For a path, the protocol and
            compression not given are read from its suffixes: ``docs.docstack.zst``,
            ``docs.protobuf.gz``, ``docs.pickle`` (a path with neither uses the defaults).
        protocol, compress:
            As for :meth:`to_bytes`.
        show_progress:
            Show a progress bar.

        Example
        -------
        >>> import tempfile, os
        >>> from docstack import DocList
        >>> from docstack.documents import TextDoc
        >>> path = os.path.join(tempfile.mkdtemp(), 'docs.docstack.lz4')
        >>> DocList[TextDoc]([TextDoc(text='a')]).save_binary(path)
        >>> DocList[TextDoc].load_binary(path).text
        ['a']
        """
        from docstack.io._files import save_binary

        save_binary(self, file, protocol=protocol, compress=compress, show_progress=show_progress)

    @classmethod
    def load_binary(
        cls: type[T],
        file: PathType | Any,
        protocol: Optional[str] = None,
        compress: Optional[str] = None,
        show_progress: bool = False,
        streaming: bool = False,
        tensor_type: Optional[type] = None,
    ) -> T | Iterator[Any]:
        """Read documents from a file written by :meth:`save_binary`.

        Parameters
        ----------
        file:
            A path or a binary file object. For a path, protocol and compression not given
            are read from its suffixes.
        protocol, compress:
            As for :meth:`from_bytes`.
        show_progress:
            Show a progress bar (of bytes read).
        streaming:
            Return a generator that reads and yields one document at a time, so a file
            larger than memory can be processed. Only one block of documents is in memory.
        tensor_type:
            ``DocVec`` only: the tensor class of ``AnyTensor`` columns.

        Returns
        -------
        An instance of this class, or with ``streaming=True`` a generator of documents.
        """
        cls._check_tensor_type(tensor_type)
        from docstack.io._files import load_binary

        return load_binary(
            cls,
            file,
            protocol=protocol,
            compress=compress,
            show_progress=show_progress,
            streaming=streaming,
            tensor_type=tensor_type,
        )

    # -- protobuf ---------------------------------------------------------------------------

    def to_protobuf(self) -> Any:
        """The documents as one message of docstack's ``.proto`` schema (``DocListProto``
        for a DocList, ``DocVecProto``, column by column, for a DocVec)."""
        from docstack.io._protobuf import array_to_protobuf

        return array_to_protobuf(self)

    @classmethod
    def from_protobuf(cls: type[T], msg: Any, tensor_type: Optional[type] = None) -> T:
        """Read documents from a message written by :meth:`to_protobuf`."""
        cls._check_tensor_type(tensor_type)
        from docstack.io._protobuf import array_from_protobuf

        return array_from_protobuf(cls, msg, tensor_type=tensor_type)

    # -- tables -----------------------------------------------------------------------------

    def to_arrow(self) -> Any:
        """The documents as a ``pyarrow.Table``: a column per field, tensors as fixed-size
        lists, nested documents as structs, ``DocList`` fields as lists of structs."""
        from docstack.io._arrow import array_to_arrow

        return array_to_arrow(self)

    @classmethod
    def from_arrow(cls: type[T], table: Any, tensor_type: Optional[type] = None) -> T:
        """Read documents from a ``pyarrow.Table`` (or ``RecordBatch``) of :meth:`to_arrow`'s
        layout; tensor columns are read without copying where Arrow allows."""
        cls._check_tensor_type(tensor_type)
        from docstack.io._arrow import array_from_arrow

        return array_from_arrow(cls, table, tensor_type=tensor_type)

    def to_parquet(self, path: PathType | Any, **kwargs: Any) -> None:
        """Write the documents to a Parquet file (:meth:`to_arrow`, then
        ``pyarrow.parquet.write_table(table, path, **kwargs)``)."""
        from docstack.io._arrow import array_to_parquet

        array_to_parquet(self, path, **kwargs)

    @classmethod
    def from_parquet(
        cls: type[T], path: PathType | Any, tensor_type: Optional[type] = None, **kwargs: Any
    ) -> T:
        """Read documents from a Parquet file written by :meth:`to_parquet`."""
        cls._check_tensor_type(tensor_type)
        from docstack.io._arrow import array_from_parquet

        return array_from_parquet(cls, path, tensor_type=tensor_type, **kwargs)

    def to_dataframe(self) -> Any:
        """The documents as a ``pandas.DataFrame``: a column per field, nested fields
        flattened with ``__`` (``image__url``), a tensor per cell."""
        from docstack.io._pandas import array_to_dataframe

        return array_to_dataframe(self)

    @classmethod
    def from_dataframe(cls: type[T], df: Any, tensor_type: Optional[type] = None) -> T:
        """Read documents from a ``pandas.DataFrame`` of :meth:`to_dataframe`'s layout."""
        cls._check_tensor_type(tensor_type)
        from docstack.io._pandas import array_from_dataframe

        return array_from_dataframe(cls, df, tensor_type=tensor_type)

    def to_csv(self, file_path: PathType, dialect: Any = "excel") -> None:
        """Write the documents to a CSV file: a column per (flattened) field, tensors as
        JSON arrays with their dtype, so :meth:`from_csv` gives back equal documents."""
        from docstack.io._csv import array_to_csv

        array_to_csv(self, file_path, dialect=dialect)

    @classmethod
    def from_csv(
        cls: type[T],
        file_path: PathType,
        encoding: str = "utf-8",
        dialect: Any = "excel",
        tensor_type: Optional[type] = None,
    ) -> T:
        """Read documents from a CSV file written by :meth:`to_csv` (or any CSV whose header
        names the fields, nested ones as ``a__b``)."""
        cls._check_tensor_type(tensor_type)
        from docstack.io._csv import array_from_csv

        return array_from_csv(
            cls, file_path, encoding=encoding, dialect=dialect, tensor_type=tensor_type
        )

    def to_list(self) -> list[dict[str, Any]]:
        """The documents as a list of plain dicts (nested documents as dicts, tensors kept)."""
        from docstack.io._rows import array_to_list

        return array_to_list(self)

    @classmethod
    def from_list(
        cls: type[T], rows: Iterable[dict[str, Any]], tensor_type: Optional[type] = None
    ) -> T:
        """Read documents from dicts such as :meth:`to_list` returns, validating each."""
        cls._check_tensor_type(tensor_type)
        from docstack.io._rows import array_from_list

        return array_from_list(cls, rows, tensor_type=tensor_type)

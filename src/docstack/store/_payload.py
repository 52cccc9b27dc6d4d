"""The payload a store holds: docstack's binary format, written as documents come.

A push encodes documents in blocks (see :mod:`docstack.io._binary`) as they arrive from any
iterable, so a stream larger than memory is pushed holding one block at a time; a pull reads
the frame and header first (so a payload of another schema is refused before any document
is read) and then hands the bytes to ``load_binary(streaming=True)``.

Blocks start at :data:`FIRST_BLOCK` documents and are then sized to about
:data:`TARGET_BLOCK_BYTES` each, between :data:`MIN_BLOCK` and :data:`MAX_BLOCK` documents:
small documents get blocks large enough to encode column by column, large ones (images,
long tensors) blocks small enough to stream.

Example
-------
>>> import io
>>> from docstack import DocList
>>> from docstack.documents import TextDoc
>>> buf = io.BytesIO()
>>> write_docs((TextDoc(text=t) for t in 'ab'), buf.write, TextDoc)[0]
2
>>> _ = buf.seek(0)
>>> [d.text for d in read_docs(DocList[TextDoc], buf)]
['a', 'b']
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable, Iterable, Iterator
from typing import Any, Optional

from docstack.array.any_array import describe_doc
from docstack.base_doc import AnyDoc
from docstack.errors import DeserializationError, DocTypeError
from docstack.io import _binary
from docstack.io._bytes import not_docstack_error, progress_bar

__all__ = [
    "FIRST_BLOCK",
    "MIN_BLOCK",
    "MAX_BLOCK",
    "TARGET_BLOCK_BYTES",
    "MAX_HEADER_BYTES",
    "SUFFIX",
    "payload_compression",
    "write_docs",
    "read_docs",
    "check_typed",
]

#: the suffix of a stored payload's file or object name
SUFFIX = ".docs"
FIRST_BLOCK = 128
MIN_BLOCK = 16
MAX_BLOCK = 2048
TARGET_BLOCK_BYTES = 4 << 20
#: a header (the schema, as JSON) longer than this is taken for corruption
MAX_HEADER_BYTES = 64 << 20


def payload_compression() -> str:
    """The compression of pushed blocks: zstd when ``zstandard`` is installed (fast on
    tensors too), else zlib from the standard library. Either is recorded in the payload,
    so a pull finds it."""
    return "zstd" if importlib.util.find_spec("zstandard") is not None else "zlib"


def check_typed(docs_cls: type) -> type:
    """The document class of ``docs_cls``; an untyped ``DocList`` cannot be pulled into."""
    doc_type = getattr(docs_cls, "doc_type", None)
    if doc_type is None or doc_type is AnyDoc:
        raise DocTypeError(
            "pulling needs the document type of the payload: call DocList[MyDoc].pull(...) "
            "or .pull_stream(...) on a parametrized DocList"
        )
    return doc_type


def _as_doc(doc: Any, doc_cls: type, position: int) -> Any:
    if isinstance(doc, doc_cls):
        return doc
    if isinstance(doc, dict):
        return doc_cls.model_validate(doc)
    raise DocTypeError(
        f"cannot push a {type(doc).__name__} (at position {position}) into a payload of "
        f"{doc_cls.__name__} documents: {describe_doc(doc)}"
    )


def _next_block_size(block_bytes: int, block_docs: int) -> int:
    per_doc = max(block_bytes / max(block_docs, 1), 1.0)
    return int(min(MAX_BLOCK, max(MIN_BLOCK, TARGET_BLOCK_BYTES // per_doc)))


def write_docs(
    docs: Iterable[Any],
    write: Callable[[bytes], Any],
    doc_type: Optional[type] = None,
    show_progress: bool = False,
) -> tuple[int, int]:
    """Encode ``docs`` block by block and pass each piece of the payload to ``write``.

    Parameters
    ----------
    docs:
        Documents of one class (dicts are validated into it); any iterable, read once.
    write:
        Called with each piece of the payload in order (a file's ``write``).
    doc_type:
        The payload's document class; ``None`` or ``AnyDoc``: the first document's class.
    show_progress:
        Show a progress bar of the documents written.

    Returns
    -------
    The number of documents and of bytes written.
    """
    total = len(docs) if hasattr(docs, "__len__") else None
    iterator = iter(docs)
    first: list[Any] = []
    if doc_type is None or doc_type is AnyDoc:
        head = next(iterator, None)
        if head is None:
            doc_type = AnyDoc
        else:
            first = [head]
            doc_type = type(head) if not isinstance(head, dict) else AnyDoc
            if doc_type is AnyDoc:
                raise DocTypeError(
                    "cannot tell the document class of dicts: push them with "
                    "DocList[MyDoc].push_stream(...)"
                )
    compression = payload_compression()
    size = 0
    count = 0

    def emit(data: bytes) -> None:
        nonlocal size
        write(data)
        size += len(data)

    emit(_binary.encode_header(doc_type, _binary.KIND_DOCLIST, compression))
    block_size = FIRST_BLOCK
    batch: list[Any] = []
    with progress_bar(show_progress, total, "pushing") as step:

        def flush() -> None:
            nonlocal batch, block_size, count
            data = _binary.encode_block(doc_type, batch, compression)
            emit(data)
            block_size = _next_block_size(len(data), len(batch))
            count += len(batch)
            step(len(batch))
            batch = []

        for position, doc in enumerate(_chain(first, iterator)):
            batch.append(_as_doc(doc, doc_type, position))
            if len(batch) >= block_size:
                flush()
        if batch:
            flush()
    emit(_binary.END_MARK + count.to_bytes(8, "little"))
    return count, size


def _chain(first: list[Any], rest: Iterator[Any]) -> Iterator[Any]:
    yield from first
    yield from rest


class _Reader:
    """``read(n)`` over bytes already read and then a file, reporting each piece read."""

    __slots__ = ("pending", "f", "seen")

    def __init__(self, pending: bytes, f: Any, seen: Callable[[bytes], None]) -> None:
        self.pending, self.f, self.seen = pending, f, seen

    def read(self, n: int) -> bytes:
        if self.pending:
            out, self.pending = self.pending[:n], self.pending[n:]
            if len(out) < n:
                out += self._read_file(n - len(out))
            return out
        return self._read_file(n)

    def _read_file(self, n: int) -> bytes:
        data = self.f.read(n)
        self.seen(data)
        return data


def _read_exactly(f: Any, n: int) -> bytes:
    parts, left = [], n
    while left > 0:
        chunk = f.read(left)
        if not chunk:
            break
        parts.append(chunk)
        left -= len(chunk)
    return b"".join(parts)


def read_docs(
    docs_cls: type,
    f: Any,
    size: Optional[int] = None,
    show_progress: bool = False,
    sink: Optional[Callable[[bytes], None]] = None,
    on_done: Optional[Callable[[], None]] = None,
    on_abort: Optional[Callable[[], None]] = None,
) -> Iterator[Any]:
    """The documents of the payload in the binary file ``f``, read block by block.

    The frame and header are read and checked against ``docs_cls`` now, so a payload that
    is not docstack's format or is of another schema raises here; the documents are read
    as the iterator is advanced, and ``f`` is closed when it ends.

    Parameters
    ----------
    docs_cls:
        A parametrized ``DocList[MyDoc]``.
    f:
        A binary file object positioned at the start of the payload.
    size:
        The payload's size in bytes, for the progress bar.
    show_progress:
        Show a progress bar of the bytes read.
    sink:
        Called with every piece of bytes read, in order (to keep a copy), from the first
        document read on.
    on_done, on_abort:
        Called when the whole payload was read and checked, or when reading it stopped
        early (an error or the iterator closed before its end).

    Returns
    -------
    An iterator of ``docs_cls.doc_type`` documents.
    """
    doc_type = check_typed(docs_cls)
    try:
        head = _read_exactly(f, _binary.FRAME.size)
        if head[:4] != _binary.MAGIC or len(head) < _binary.FRAME.size:
            raise not_docstack_error(head, None)
        header_len = int.from_bytes(head[-4:], "little")
        if header_len > MAX_HEADER_BYTES:
            raise DeserializationError("the payload's header is corrupt (its length is absurd)")
        header = _read_exactly(f, header_len)
        frame = _binary.read_frame(head + header)
        _binary.make_plan(doc_type, frame)
    except BaseException:
        f.close()
        if on_abort is not None:
            on_abort()
        raise
    return _iter_docs(docs_cls, f, head + header, size, show_progress, sink, on_done, on_abort)


def _iter_docs(
    docs_cls: type,
    f: Any,
    prefix: bytes,
    size: Optional[int],
    show_progress: bool,
    sink: Optional[Callable[[bytes], None]],
    on_done: Optional[Callable[[], None]],
    on_abort: Optional[Callable[[], None]],
) -> Iterator[Any]:
    from docstack.io._files import load_binary

    try:
        with progress_bar(show_progress, size, "pulling") as step:
            step(len(prefix))
            if sink is not None:
                sink(prefix)

            def seen(data: bytes) -> None:
                step(len(data))
                if sink is not None:
                    sink(data)

            reader = _Reader(prefix, f, seen)
            yield from load_binary(docs_cls, reader, protocol="docstack", streaming=True)
            if reader.read(1):
                raise DeserializationError("the payload has trailing bytes after its end mark")
    except BaseException:
        if on_abort is not None:
            on_abort()
        raise
    else:
        if on_done is not None:
            on_done()
    finally:
        f.close()

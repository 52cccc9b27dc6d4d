"""``to_bytes``/``from_bytes`` for every protocol, and base64.

* ``'docstack'`` (the default): :mod:`docstack.io._binary`; the compression is recorded in
  the payload, so ``from_bytes`` finds it (a ``compress=`` that contradicts it is an error).
* ``'protobuf-array'`` / ``'protobuf'``: docstack's ``.proto`` schema, one message for the
  array, or one length-prefixed message per document; compressed as a whole.
* ``'pickle-array'`` / ``'pickle'``: the same with pickle. Loaded only when named.
"""

from __future__ import annotations

import base64
import binascii
import pickle
import struct
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, Optional

from docstack.errors import DeserializationError, DocTypeError, UnsafeProtocolError
from docstack.io import _binary
from docstack.io._compression import check_compression, compress, decompress, detect_compression
from docstack.io._protocols import DOC_PROTOCOLS, PROTOCOLS, check_protocol

__all__ = [
    "doc_to_bytes",
    "doc_from_bytes",
    "array_to_bytes",
    "array_from_bytes",
    "to_base64",
    "from_base64",
    "progress_bar",
    "encode_records",
    "end_of_records",
    "iter_records",
    "looks_like_pickle",
    "not_docstack_error",
    "refuse_pickle",
    "pickle_named_on_failure",
    "record_encoder",
    "iter_record_docs",
    "prefixed",
    "unpickle",
    "check_loaded_doc",
    "make_array",
    "plain_doc",
]

_LEN = struct.Struct("<I")
_PICKLE_PROTOCOL = 5


@contextmanager
def progress_bar(show: bool, total: Optional[int], label: str) -> Iterator[Callable[[int], None]]:
    """A ``step(n)`` callable that advances a rich progress bar (a no-op when not shown)."""
    if not show:
        yield lambda n: None
        return
    from rich.progress import Progress

    with Progress(transient=False) as bar:
        task = bar.add_task(label, total=total)
        yield lambda n: bar.advance(task, n)


def looks_like_pickle(data: Any) -> bool:
    """Whether ``data`` starts like a pickle of protocol 2 or later."""
    head = bytes(data[:2])
    return len(head) == 2 and head[0] == 0x80 and 2 <= head[1] <= 5


def refuse_pickle(data: Any, compression: Optional[str]) -> None:
    """Raise :class:`UnsafeProtocolError` when ``data`` (after decompression) is a pickle."""
    raw = data
    if compression is not None:
        try:
            raw = decompress(data, compression)
        except DeserializationError:
            return
    # a pickle, or length-prefixed pickles (the per-document 'pickle' protocol)
    if looks_like_pickle(raw) or looks_like_pickle(raw[4:6]):
        raise UnsafeProtocolError(
            "these bytes are a pickle; unpickling runs code chosen by whoever wrote them, so "
            "docstack loads a pickle only when asked by name: pass protocol='pickle' or "
            "'pickle-array' if you trust the source"
        )


@contextmanager
def pickle_named_on_failure(head: Any) -> Iterator[None]:
    """Read a protobuf payload; if it fails and its first bytes (``head``) look like a
    pickle, say that it is a pickle instead of how it failed to parse.

    Only on failure: a valid protobuf message may start with the same two bytes.
    """
    try:
        yield
    except UnsafeProtocolError:
        raise
    except DeserializationError as exc:
        try:
            refuse_pickle(head, None)
        except UnsafeProtocolError as unsafe:
            raise unsafe from exc
        raise


def not_docstack_error(data: Any, compression: Optional[str]) -> DeserializationError:
    """The error for bytes that are not a docstack payload, saying what they look like."""
    refuse_pickle(data, compression)
    seen = detect_compression(data)
    if seen is not None:
        refuse_pickle(data, seen)
        return DeserializationError(
            f"not a docstack payload: the bytes look {seen}-compressed; a docstack payload "
            "records its compression inside, so these were written with another protocol "
            f"(pass protocol=... and compress={seen!r})"
        )
    if not bytes(data[:4]):
        return DeserializationError("not a docstack payload: the bytes are empty")
    return DeserializationError(
        "not a docstack payload (no DSTK mark): pass the protocol the bytes were written "
        f"with, one of {', '.join(map(repr, PROTOCOLS))}"
    )


def _as_buffer(data: Any) -> Any:
    if isinstance(data, (bytes, bytearray, memoryview)):
        return data
    raise TypeError(f"expected bytes, got {type(data).__name__}")


# -- length-prefixed records (the per-document protocols) -------------------------------------


_END_RECORD = 0xFFFFFFFF  # the length that marks the end of a record stream
_COUNT = struct.Struct("<Q")


def end_of_records(count: int) -> bytes:
    """The end mark of a record stream: ``u32 0xFFFFFFFF | u64 number of records``."""
    return _LEN.pack(_END_RECORD) + _COUNT.pack(count)


def encode_records(payloads: Iterator[bytes]) -> bytes:
    """``u32 length | payload`` for each payload, then the end mark with the count."""
    parts: list[bytes] = []
    count = 0
    for p in payloads:
        parts.append(_LEN.pack(len(p)))
        parts.append(p)
        count += 1
    parts.append(end_of_records(count))
    return b"".join(parts)


def iter_records(read: Callable[[int], Any]) -> Iterator[Any]:
    """The payloads of a record stream read with ``read(n)``.

    Every length is checked against the bytes there, and the stream must end with its end
    mark and the right count: a stream cut short, even between two records, is a
    :class:`DeserializationError`, never fewer documents.
    """
    count = 0
    while True:
        head = read(4)
        if len(head) != 4:
            raise DeserializationError(
                "the payload is truncated: it ends before its end mark"
                if len(head) == 0
                else "the payload is truncated: a record length is cut short"
            )
        size = _LEN.unpack(head)[0]
        if size == _END_RECORD:
            tail = read(8)
            if len(tail) != 8:
                raise DeserializationError("the payload is truncated: its end mark is cut short")
            if _COUNT.unpack(tail)[0] != count:
                raise DeserializationError("the payload is corrupt: its record count is wrong")
            if len(read(1)):
                raise DeserializationError("the payload has trailing bytes after its end mark")
            return
        body = read(size)
        if len(body) != size:
            raise DeserializationError("the payload is truncated: a record is cut short")
        count += 1
        yield body


def record_encoder(protocol: str) -> Callable[[Any], bytes]:
    """How the per-document protocol (``'protobuf'``, ``'pickle'`` or ``'json'``) writes one
    document."""
    if protocol == "json":
        from docstack.io._json import doc_json_bytes

        return doc_json_bytes
    if protocol == "protobuf":
        from docstack.io._protobuf import doc_to_protobuf_bytes

        return doc_to_protobuf_bytes

    def encode_one(doc: Any) -> bytes:
        return pickle.dumps(plain_doc(doc), protocol=_PICKLE_PROTOCOL)

    return encode_one


def iter_record_docs(
    read: Callable[[int], Any],
    protocol: str,
    doc_cls: type,
    step: Callable[[int], None] = lambda size: None,
) -> Iterator[Any]:
    """The documents of a record stream of the per-document protocol ``protocol``, read with
    ``read(n)``; ``step`` gets the size of each record read.

    A pickle stream read as protobuf fails to parse; then the error says it is a pickle.
    """
    if protocol == "protobuf":
        from docstack.io._protobuf import doc_from_protobuf_bytes

        head = bytes(read(6))
        read = prefixed(head, read)
        with pickle_named_on_failure(head):
            for payload in iter_records(read):
                step(len(payload) + 4)
                yield doc_from_protobuf_bytes(doc_cls, payload)
        return
    if protocol == "json":
        for payload in iter_records(read):
            step(len(payload) + 4)
            yield doc_cls.from_json(bytes(payload))
        return
    for i, payload in enumerate(iter_records(read)):
        step(len(payload) + 4)
        yield check_loaded_doc(unpickle(payload, "a document"), doc_cls, i)


def prefixed(head: bytes, read: Callable[[int], Any]) -> Callable[[int], bytes]:
    """``read`` with ``head`` (bytes already read) put back in front."""
    pending = head

    def read_again(n: int) -> bytes:
        nonlocal pending
        if not pending:
            return bytes(read(n))
        out, pending = pending[:n], pending[n:]
        return out + bytes(read(n - len(out))) if len(out) < n else out

    return read_again


# -- pickle ---------------------------------------------------------------------------------


def unpickle(data: Any, what: str) -> Any:
    try:
        return pickle.loads(data)
    except Exception as exc:  # unpickling can raise nearly anything on bad input
        if isinstance(exc, MemoryError):
            raise
        raise DeserializationError(f"cannot unpickle {what}: {exc}") from exc


def check_loaded_doc(doc: Any, doc_cls: type, position: Optional[int] = None) -> Any:
    if isinstance(doc, doc_cls):
        return doc
    at = "" if position is None else f" at position {position}"
    raise DocTypeError(f"the payload holds a {type(doc).__name__}{at}, not a {doc_cls.__name__}")


# -- one document ---------------------------------------------------------------------------


def doc_to_bytes(doc: Any, protocol: Optional[str] = None, compress: Optional[str] = None) -> bytes:
    """A document as bytes (see ``BaseDoc.to_bytes``)."""
    protocol = check_protocol(protocol, DOC_PROTOCOLS)
    name = check_compression(compress)
    doc_cls = _doc_class(doc)
    if protocol == "docstack":
        return _binary.encode(doc_cls, [doc], _binary.KIND_DOC, name)
    if protocol == "protobuf":
        from docstack.io._protobuf import doc_to_protobuf_bytes

        return _compress(doc_to_protobuf_bytes(doc), name)
    if protocol == "json":
        from docstack.io._json import doc_json_bytes

        return _compress(doc_json_bytes(doc), name)
    return _compress(pickle.dumps(plain_doc(doc), protocol=_PICKLE_PROTOCOL), name)


def doc_from_bytes(
    doc_cls: type, data: Any, protocol: Optional[str] = None, compress: Optional[str] = None
) -> Any:
    """A document from bytes (see ``BaseDoc.from_bytes``)."""
    protocol = check_protocol(protocol, DOC_PROTOCOLS)
    name = check_compression(compress)
    data = _as_buffer(data)
    if protocol == "docstack":
        docs = _docstack_docs(doc_cls, data, name)
        if len(docs) != 1:
            raise DeserializationError(
                f"the payload holds {len(docs)} documents, not one: read it with "
                f"DocList[{doc_cls.__name__}].from_bytes"
            )
        return docs[0]
    raw = decompress(data, name)
    if protocol == "protobuf":
        from docstack.io._protobuf import doc_from_protobuf_bytes

        with pickle_named_on_failure(bytes(raw[:6])):
            return doc_from_protobuf_bytes(doc_cls, raw)
    if protocol == "json":
        return doc_cls.from_json(bytes(raw))
    return check_loaded_doc(unpickle(raw, "the document"), doc_cls)


def _doc_class(doc: Any) -> type:
    cls = type(doc)
    return getattr(cls, "__docstack_view_of__", None) or cls


def plain_doc(doc: Any) -> Any:
    """A standalone document (a ``DocVec`` view becomes a copy that pickles on its own)."""
    return doc._to_doc() if doc.is_view() else doc


def _compress(data: bytes, name: Optional[str]) -> bytes:
    return data if name is None else compress(data, name)


def _docstack_docs(doc_cls: type, data: Any, compression: Optional[str]) -> list[Any]:
    if bytes(data[:4]) != _binary.MAGIC:
        raise not_docstack_error(data, compression)
    _, blocks = _binary.decode(data, doc_cls, compression)
    out: list[Any] = []
    for block in blocks:
        out.extend(_binary.build_docs(block))
    return out


# -- arrays ---------------------------------------------------------------------------------


def array_to_bytes(
    docs: Any,
    protocol: Optional[str] = None,
    compress: Optional[str] = None,
    show_progress: bool = False,
) -> bytes:
    """A ``DocList`` or ``DocVec`` as bytes (see ``DocList.to_bytes``)."""
    protocol = check_protocol(protocol)
    name = check_compression(compress)
    n = len(docs)
    columnar = getattr(type(docs), "_docstack_columnar", False)
    with progress_bar(show_progress, n, "serializing") as step:
        if protocol == "docstack":
            kind = _binary.KIND_DOCVEC if columnar else _binary.KIND_DOCLIST
            block_size = max(1, -(-n // 20)) if show_progress and n else None
            return _binary.encode(docs.doc_type, docs, kind, name, block_size, step)
        if protocol == "protobuf-array":
            from docstack.io._protobuf import array_to_protobuf_bytes

            out = array_to_protobuf_bytes(docs)
            step(n)
            return _compress(out, name)
        if protocol == "pickle-array":
            out = pickle.dumps(docs, protocol=_PICKLE_PROTOCOL)
            step(n)
            return _compress(out, name)
        if protocol == "json-array":
            from docstack.io._json import array_json_bytes

            out = array_json_bytes(docs)
            step(n)
            return _compress(out, name)
        encode_one = record_encoder(protocol)

        def each() -> Iterator[bytes]:
            for doc in docs:
                yield encode_one(doc)
                step(1)

        return _compress(encode_records(each()), name)


def array_from_bytes(
    cls: type,
    data: Any,
    protocol: Optional[str] = None,
    compress: Optional[str] = None,
    show_progress: bool = False,
    tensor_type: Optional[type] = None,
) -> Any:
    """A ``DocList`` or ``DocVec`` (``cls``) from bytes (see ``DocList.from_bytes``)."""
    protocol = check_protocol(protocol)
    name = check_compression(compress)
    data = _as_buffer(data)
    doc_cls = cls.doc_type
    columnar = getattr(cls, "_docstack_columnar", False)
    if protocol == "docstack":
        if bytes(data[:4]) != _binary.MAGIC:
            raise not_docstack_error(data, name)
        frame, blocks = _binary.decode(data, doc_cls, name)
        with progress_bar(show_progress, len(blocks), "deserializing") as step:
            if columnar and len(blocks) == 1:
                storage = _binary.build_storage(blocks[0], tensor_type)
                step(1)
                return cls._from_storage(storage)
            docs: list[Any] = []
            for block in blocks:
                docs.extend(_binary.build_docs(block))
                step(1)
        return make_array(cls, docs, tensor_type)
    raw = decompress(data, name)
    if protocol == "protobuf-array":
        from docstack.io._protobuf import array_from_protobuf_bytes

        with pickle_named_on_failure(bytes(raw[:6])):
            return array_from_protobuf_bytes(cls, raw, tensor_type=tensor_type)
    if protocol == "pickle-array":
        loaded = unpickle(raw, "the documents")
        if not getattr(type(loaded), "__docstack_doc_array__", False):
            raise DocTypeError(f"the payload holds a {type(loaded).__name__}, not documents")
        docs = [check_loaded_doc(d, doc_cls, i) for i, d in enumerate(loaded)]
        return make_array(cls, docs, tensor_type)
    if protocol == "json-array":
        if columnar:
            return cls.from_json(bytes(raw), tensor_type=tensor_type)
        return cls.from_json(bytes(raw))
    with progress_bar(show_progress, len(raw), "deserializing") as step:
        read = _binary.BufferReader(raw).read
        docs = list(iter_record_docs(read, protocol, doc_cls, step))
    return make_array(cls, docs, tensor_type)


def make_array(cls: type, docs: list[Any], tensor_type: Optional[type]) -> Any:
    if getattr(cls, "_docstack_columnar", False):
        return cls(docs, tensor_type=tensor_type)
    return cls(docs, validate_input_docs=False)


# -- base64 ---------------------------------------------------------------------------------


def to_base64(data: bytes) -> str:
    """``data`` as base64 text.

    Example
    -------
    >>> to_base64(b'docstack')
    'ZG9jc3RhY2s='
    """
    return base64.b64encode(data).decode("ascii")


def from_base64(data: str | bytes) -> bytes:
    """The bytes of base64 text; invalid text is a :class:`DeserializationError`.

    Example
    -------
    >>> from_base64('ZG9jc3RhY2s=')
    b'docstack'
    """
    try:
        return base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError, TypeError) as exc:
        raise DeserializationError(f"not valid base64: {exc}") from exc

"""``save_binary``/``load_binary``: documents to and from files, streamed.

A docstack file is a docstack payload (see :mod:`docstack.io._binary`) written block by
block, so neither writing nor a streaming read holds more than one block of documents in
memory. The per-document protocols (``'protobuf'``, ``'pickle'``) write length-prefixed
records through a streaming compressor, so they stream too; the array protocols
(``'protobuf-array'``, ``'pickle-array'``) are one payload and are read whole.

A path's suffixes name what the arguments leave out: ``docs.docstack.zst``,
``docs.protobuf.gz``, ``docs.pickle-array.lz4``. A file is written to a temporary name and
renamed into place, so a failed save leaves any earlier file as it was.
"""

from __future__ import annotations

import bz2
import gzip
import lzma
import os
import tempfile
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, BinaryIO, Optional

from docstack._internal.optional import import_optional
from docstack.errors import DeserializationError
from docstack.io import _binary
from docstack.io._bytes import (
    array_from_bytes,
    array_to_bytes,
    end_of_records,
    iter_record_docs,
    make_array,
    not_docstack_error,
    progress_bar,
    record_encoder,
)
from docstack.io._compression import SUFFIXES, check_compression
from docstack.io._protocols import PROTOCOLS, WHOLE_ARRAY_PROTOCOLS, check_protocol

__all__ = ["save_binary", "load_binary", "protocol_and_compression_from_path", "BLOCK_SIZE"]

#: documents per block of a docstack file
BLOCK_SIZE = 8192


def protocol_and_compression_from_path(
    path: Any, protocol: Optional[str], compress: Optional[str]
) -> tuple[str, Optional[str]]:
    """Fill the protocol and compression not given from the suffixes of ``path``.

    Example
    -------
    >>> protocol_and_compression_from_path('docs.protobuf.gz', None, None)
    ('protobuf', 'gzip')
    >>> protocol_and_compression_from_path('docs.bin', None, 'lz4')
    ('docstack', 'lz4')
    """
    suffixes: list[str] = []
    if isinstance(path, (str, os.PathLike)):
        suffixes = [s.lstrip(".").lower() for s in Path(path).suffixes]
    found_compression = None
    if suffixes and suffixes[-1] in SUFFIXES:
        found_compression = SUFFIXES[suffixes.pop()]
    found_protocol = suffixes[-1] if suffixes and suffixes[-1] in PROTOCOLS else None
    protocol = check_protocol(protocol if protocol is not None else found_protocol)
    compress = check_compression(compress if compress is not None else found_compression)
    if protocol == "docstack" and compress is None and found_compression is not None:
        compress = found_compression
    return protocol, compress


# -- streaming compression ------------------------------------------------------------------


class _ZlibWriter:
    def __init__(self, f: BinaryIO) -> None:
        self.f, self.c = f, zlib.compressobj()

    def write(self, data: Any) -> None:
        self.f.write(self.c.compress(data))

    def close(self) -> None:
        self.f.write(self.c.flush())


class _ZlibReader:
    def __init__(self, f: BinaryIO) -> None:
        self.f, self.d, self.buf = f, zlib.decompressobj(), b""

    def read(self, n: int) -> bytes:
        while len(self.buf) < n and not self.d.eof:
            chunk = self.f.read(1 << 16)
            if not chunk:
                break
            self.buf += self.d.decompress(chunk)
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def close(self) -> None:
        pass


def _writer(f: BinaryIO, compress: Optional[str]) -> Any:
    if compress is None:
        return f
    if compress == "gzip":
        return gzip.GzipFile(fileobj=f, mode="wb", mtime=0)
    if compress == "bz2":
        return bz2.BZ2File(f, "wb")
    if compress == "lzma":
        return lzma.LZMAFile(f, "wb")
    if compress == "lz4":
        return import_optional("lz4.frame").LZ4FrameFile(f, "wb", content_checksum=True)
    if compress == "zstd":
        zstd = import_optional("zstandard")
        return zstd.ZstdCompressor(write_checksum=True).stream_writer(f, closefd=False)
    return _ZlibWriter(f)


def _reader(f: BinaryIO, compress: Optional[str]) -> Any:
    if compress is None:
        return f
    if compress == "gzip":
        return gzip.GzipFile(fileobj=f, mode="rb")
    if compress == "bz2":
        return bz2.BZ2File(f, "rb")
    if compress == "lzma":
        return lzma.LZMAFile(f, "rb")
    if compress == "lz4":
        return import_optional("lz4.frame").LZ4FrameFile(f, "rb")
    if compress == "zstd":
        return import_optional("zstandard").ZstdDecompressor().stream_reader(f, closefd=False)
    return _ZlibReader(f)


def _safe_read(stream: Any, compress: Optional[str]) -> Callable[[int], bytes]:
    """``read(n)`` that reads exactly ``n`` bytes unless the stream ends, and turns the
    decompressors' errors into :class:`DeserializationError`."""

    def read(n: int) -> bytes:
        parts, left = [], n
        try:
            while left > 0:
                chunk = stream.read(left)
                if not chunk:
                    break
                parts.append(chunk)
                left -= len(chunk)
        except (OSError, EOFError, ValueError, RuntimeError, zlib.error, lzma.LZMAError) as exc:
            raise DeserializationError(
                f"cannot read the file{f' as {compress}' if compress else ''}: {exc}"
            ) from exc
        except Exception as exc:  # lz4/zstandard raise their own classes
            if isinstance(exc, (MemoryError, DeserializationError)):
                raise
            raise DeserializationError(f"cannot read the file as {compress}: {exc}") from exc
        return b"".join(parts)

    return read


@contextmanager
def replace_when_done(f: BinaryIO, tmp: Any, path: Any) -> Iterator[BinaryIO]:
    """Write ``f`` (open on the temporary file ``tmp``); when the block ends without an
    error, its bytes are synced and ``tmp`` takes the place of ``path`` in one rename, and
    when it raises, ``tmp`` is removed: ``path`` is never half written."""
    try:
        yield f
        f.flush()
        os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


@contextmanager
def _open_for_write(file: Any) -> Iterator[BinaryIO]:
    if not isinstance(file, (str, os.PathLike)):
        yield file
        return
    path = Path(file)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent or ".")
    with os.fdopen(fd, "wb") as f, replace_when_done(f, tmp, path):
        yield f


@contextmanager
def _open_for_read(file: Any) -> Iterator[BinaryIO]:
    if not isinstance(file, (str, os.PathLike)):
        yield file
        return
    with open(file, "rb") as f:
        yield f


# -- save -----------------------------------------------------------------------------------


def save_binary(
    docs: Any,
    file: Any,
    protocol: Optional[str] = None,
    compress: Optional[str] = None,
    show_progress: bool = False,
) -> None:
    """Write ``docs`` to ``file`` (see ``DocList.save_binary``)."""
    protocol, compress = protocol_and_compression_from_path(file, protocol, compress)
    n = len(docs)
    doc_cls = docs.doc_type
    with _open_for_write(file) as f:
        if protocol == "docstack":
            columnar = getattr(type(docs), "_docstack_columnar", False)
            kind = _binary.KIND_DOCVEC if columnar else _binary.KIND_DOCLIST
            with progress_bar(show_progress, n, "saving") as step:
                f.write(_binary.encode_header(doc_cls, kind, compress))
                for start in range(0, n, BLOCK_SIZE):
                    chunk = docs[start : start + BLOCK_SIZE]
                    f.write(_binary.encode_block(doc_cls, chunk, compress))
                    step(len(chunk))
                f.write(_binary.END_MARK + n.to_bytes(8, "little"))
            return
        if protocol in WHOLE_ARRAY_PROTOCOLS:
            f.write(array_to_bytes(docs, protocol, compress=compress, show_progress=show_progress))
            return
        encode_one = record_encoder(protocol)
        out = _writer(f, compress)
        with progress_bar(show_progress, n, "saving") as step:
            for doc in docs:
                payload = encode_one(doc)
                out.write(len(payload).to_bytes(4, "little"))
                out.write(payload)
                step(1)
        out.write(end_of_records(n))
        if out is not f:
            out.close()


# -- load -----------------------------------------------------------------------------------


def load_binary(
    cls: type,
    file: Any,
    protocol: Optional[str] = None,
    compress: Optional[str] = None,
    show_progress: bool = False,
    streaming: bool = False,
    tensor_type: Optional[type] = None,
) -> Any:
    """Read ``cls`` documents from ``file`` (see ``DocList.load_binary``)."""
    protocol, compress = protocol_and_compression_from_path(file, protocol, compress)
    if isinstance(file, (str, os.PathLike)) and not Path(file).is_file():
        raise FileNotFoundError(f"no such file: {os.fspath(file)!r}")
    docs = _iter_docs(cls, file, protocol, compress, show_progress, tensor_type)
    if streaming:
        return docs
    if protocol == "docstack" and getattr(cls, "_docstack_columnar", False):
        return _load_doc_vec(cls, file, compress, show_progress, tensor_type)
    if protocol in WHOLE_ARRAY_PROTOCOLS:
        with _open_for_read(file) as f:
            data = f.read()
        return array_from_bytes(cls, data, protocol, compress, show_progress, tensor_type)
    return make_array(cls, list(docs), tensor_type)


def _file_size(f: BinaryIO) -> Optional[int]:
    try:
        return os.fstat(f.fileno()).st_size
    except (OSError, AttributeError, ValueError):
        return None


def _docstack_blocks(
    f: BinaryIO, doc_cls: type, compress: Optional[str], step: Callable[[int], None]
) -> Iterator[Any]:
    raw_read = _safe_read(f, None)

    def read(n: int) -> bytes:
        data = raw_read(n)
        step(len(data))
        return data

    head = read(_binary.FRAME.size)
    if head[:4] != _binary.MAGIC:
        raise not_docstack_error(head, compress)
    header_len = int.from_bytes(head[-4:], "little")
    header = read(header_len)
    frame = _binary.read_frame(head + header)
    compression = _binary.check_compression_matches(frame, compress)
    plan = _binary.make_plan(doc_cls, frame)
    yield from _binary.iter_blocks(read, frame, plan, compression)


def _iter_docs(
    cls: type,
    file: Any,
    protocol: str,
    compress: Optional[str],
    show_progress: bool,
    tensor_type: Optional[type],
) -> Iterator[Any]:
    doc_cls = cls.doc_type
    with _open_for_read(file) as f, progress_bar(show_progress, _file_size(f), "loading") as step:
        if protocol == "docstack":
            for block in _docstack_blocks(f, doc_cls, compress, step):
                yield from _binary.build_docs(block)
            return
        if protocol in WHOLE_ARRAY_PROTOCOLS:
            data = f.read()
            step(len(data))
            yield from array_from_bytes(cls, data, protocol, compress, False, tensor_type)
            return
        read = _safe_read(_reader(f, compress), compress)
        yield from iter_record_docs(read, protocol, doc_cls, step)


def _load_doc_vec(
    cls: type,
    file: Any,
    compress: Optional[str],
    show_progress: bool,
    tensor_type: Optional[type],
) -> Any:
    doc_cls = cls.doc_type
    with _open_for_read(file) as f, progress_bar(show_progress, _file_size(f), "loading") as step:
        blocks = list(_docstack_blocks(f, doc_cls, compress, step))
    if len(blocks) == 1:
        return cls._from_storage(_binary.build_storage(blocks[0], tensor_type))
    docs: list[Any] = []
    for block in blocks:
        docs.extend(_binary.build_docs(block))
    return make_array(cls, docs, tensor_type)

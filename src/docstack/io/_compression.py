"""Compression of payloads: lz4, zstd, gzip, zlib, bz2 and lzma by one name each."""

from __future__ import annotations

import bz2
import gzip
import lzma
import zlib
from typing import Any, Optional

from docstack._internal.optional import import_optional
from docstack.errors import DeserializationError

__all__ = ["COMPRESSIONS", "compress", "decompress", "check_compression", "SUFFIXES"]

#: every compression ``to_bytes(compress=...)`` accepts
COMPRESSIONS: tuple[str, ...] = ("lz4", "zstd", "gzip", "zlib", "bz2", "lzma")

#: file suffixes that name a compression (``docs.docstack.zst``)
SUFFIXES: dict[str, str] = {
    "lz4": "lz4",
    "zst": "zstd",
    "zstd": "zstd",
    "gz": "gzip",
    "gzip": "gzip",
    "zlib": "zlib",
    "bz2": "bz2",
    "xz": "lzma",
    "lzma": "lzma",
}

# the first bytes every payload of a compression starts with (zlib's vary with the level)
_MAGIC: dict[str, tuple[bytes, ...]] = {
    "lz4": (b"\x04\x22\x4d\x18",),
    "zstd": (b"\x28\xb5\x2f\xfd",),
    "gzip": (b"\x1f\x8b",),
    "bz2": (b"BZh",),
    "lzma": (b"\xfd7zXZ\x00",),
    "zlib": (b"\x78\x01", b"\x78\x5e", b"\x78\x9c", b"\x78\xda"),
}


def check_compression(name: Optional[str]) -> Optional[str]:
    """``name`` if it is a known compression (or ``None``), else a ``ValueError``.

    Example
    -------
    >>> check_compression('gzip')
    'gzip'
    """
    if name is None or name in COMPRESSIONS:
        return name
    raise ValueError(
        f"unknown compression {name!r}; use one of {', '.join(map(repr, COMPRESSIONS))} or None"
    )


def _zstd() -> Any:
    return import_optional("zstandard")


def _lz4() -> Any:
    return import_optional("lz4.frame")


def compress(data: bytes | memoryview, name: Optional[str]) -> bytes:
    """``data`` compressed with ``name`` (``None``: unchanged).

    Example
    -------
    >>> decompress(compress(b'abc' * 100, 'bz2'), 'bz2') == b'abc' * 100
    True
    """
    name = check_compression(name)
    if name is None:
        return bytes(data)
    if name == "lz4":
        return _lz4().compress(data, content_checksum=True)
    if name == "zstd":
        return _zstd().ZstdCompressor(level=3, write_checksum=True).compress(data)
    if name == "gzip":
        return gzip.compress(data, compresslevel=6, mtime=0)
    if name == "zlib":
        return zlib.compress(data)
    if name == "bz2":
        return bz2.compress(data)
    return lzma.compress(data)


def detect_compression(data: bytes | memoryview) -> Optional[str]:
    """The compression whose magic bytes ``data`` starts with, if any."""
    head = bytes(data[:6])
    for name, magics in _MAGIC.items():
        if any(head.startswith(m) for m in magics):
            return name
    return None


def decompress(data: bytes | memoryview, name: Optional[str]) -> bytes | memoryview:
    """``data`` decompressed with ``name`` (``None``: unchanged).

    Raises
    ------
    DeserializationError
        ``data`` is not a valid ``name`` payload; the message names the compression the
        bytes look like when they look like another one.
    """
    name = check_compression(name)
    if name is None:
        return data
    magics = _MAGIC[name]
    if not any(bytes(data[: len(m)]) == m for m in magics):
        seen = detect_compression(data)
        hint = f" (they look {seen}-compressed)" if seen else ""
        raise DeserializationError(f"the bytes are not {name}-compressed{hint}")
    try:
        if name == "lz4":
            return _lz4().decompress(data)
        if name == "zstd":
            # a frame written without its content size needs the streaming reader
            return _zstd().ZstdDecompressor().decompressobj().decompress(data)
        if name == "gzip":
            return gzip.decompress(data)
        if name == "zlib":
            return zlib.decompress(data)
        if name == "bz2":
            return bz2.decompress(data)
        return lzma.decompress(data)
    except Exception as exc:  # each library has its own error classes
        if isinstance(exc, MemoryError):
            raise
        raise DeserializationError(f"cannot decompress the {name} payload: {exc}") from exc

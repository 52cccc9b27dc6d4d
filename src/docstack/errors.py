"""Errors raised by docstack.

Every error docstack raises on purpose derives from :class:`DocstackError`, so a caller can
catch them all at once. Validation failures of document fields are pydantic
``ValidationError`` instances (pydantic's own class), as users of pydantic models expect.
"""

from __future__ import annotations

__all__ = [
    "DocstackError",
    "DocTypeError",
    "MissingDependencyError",
    "LoadError",
    "ShapeError",
    "SerializationError",
    "DeserializationError",
    "SchemaMismatchError",
    "UnsafeProtocolError",
    "UnusableObjectError",
]


class DocstackError(Exception):
    """Base class of every error raised by docstack."""


class DocTypeError(DocstackError, TypeError, ValueError):
    """A document is not of the type an array or field expects.

    It is both a ``TypeError`` and a ``ValueError`` so that code written for either keeps
    working.
    """


class ShapeError(DocstackError, ValueError):
    """A tensor's shape does not match the shape its type declares."""


class MissingDependencyError(DocstackError, ImportError):
    """An optional dependency is not installed; the message names the extra to install."""


class LoadError(DocstackError, OSError):
    """Loading a URL, a file or bytes failed: not found, too large, timed out or corrupt."""


class SerializationError(DocstackError, ValueError):
    """Documents cannot be written in the requested format (a value it cannot hold)."""


class DeserializationError(DocstackError, ValueError):
    """Bytes, text or a file cannot be read back into documents: truncated, corrupt, of
    another protocol or compression, or not a docstack payload at all."""


class SchemaMismatchError(DeserializationError):
    """A payload was written for a document schema other than the one asked to read it."""


class UnsafeProtocolError(DeserializationError):
    """A pickle payload was given to a loader that was not told to unpickle.

    Unpickling runs code chosen by whoever wrote the bytes, so docstack loads pickles only
    when the caller names ``protocol='pickle'`` or ``'pickle-array'``.
    """


class UnusableObjectError(DocstackError, NotImplementedError):
    """An array was used after its data moved into another one (a ``DocVec`` after
    ``to_doc_list()`` handed its documents over, or the reverse)."""

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

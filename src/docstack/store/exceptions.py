"""Errors of pushing and pulling ``DocList`` payloads (all are
:class:`~docstack.errors.DocstackError`).

Example
-------
>>> from docstack.errors import DocstackError
>>> issubclass(ConcurrentPushException, DocstackError)
True
>>> issubclass(DocListNotFoundError, FileNotFoundError)
True
"""

from __future__ import annotations

from docstack.errors import DocstackError

__all__ = ["ConcurrentPushException", "DocListNotFoundError", "UnsupportedProtocolError"]


class ConcurrentPushException(DocstackError):
    """Another push to the same name is in progress; this push wrote nothing."""


class DocListNotFoundError(DocstackError, FileNotFoundError, ValueError):
    """No ``DocList`` is stored under the name.

    It is a ``FileNotFoundError`` (what DocArray's file store raised) and a ``ValueError``
    (what its S3 store raised), so code written for either keeps working.
    """


class UnsupportedProtocolError(DocstackError, ValueError):
    """The URL names no store docstack can push to or pull from (or is not a URL)."""

"""``S3DocStore``: ``DocList`` payloads as objects in S3 or an S3-compatible server
(``s3://bucket/name`` URLs), through s3fs.

``s3://my-bucket/shelf/books`` is the object ``shelf/books.docs`` of bucket ``my-bucket``;
the bucket must exist. Credentials and the endpoint come from the usual AWS settings
(``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY``, ``AWS_ENDPOINT_URL``, ``~/.aws``) or
from fsspec's configuration (``fsspec.config.conf['s3'] = {'endpoint_url': ...}``).

A push streams the documents into a hidden temporary object (uploaded in parts as it grows)
and copies it into place on the server once complete; S3 has no locks, so of two pushes
from different machines the last to finish wins (DocArray's S3 store behaved the same).
See :mod:`docstack.store.fsspec_store` for pulls and the local cache.

Needs the ``store`` extra: ``pip install 'docstack[store]'``.

Example
-------
>>> S3DocStore.protocol
's3'
"""

from __future__ import annotations

from typing import ClassVar, Optional

from docstack.store.exceptions import UnsupportedProtocolError
from docstack.store.fsspec_store import FsspecDocStore

__all__ = ["S3DocStore"]


class S3DocStore(FsspecDocStore):
    """Push and pull ``DocList`` payloads to and from S3; names are ``bucket/path/name``.

    Example
    -------
    >>> S3DocStore._url('my-bucket/shelf/books')
    's3://my-bucket/shelf/books'
    """

    protocol: ClassVar[Optional[str]] = "s3"

    @classmethod
    def _check_payload_url(cls, url: str) -> None:
        if "/" not in url.split("://", 1)[1].strip("/"):
            raise UnsupportedProtocolError(
                f"{url!r} names a bucket but no DocList: use s3://bucket/path/name"
            )

    @classmethod
    def delete(cls, name: str, missing_ok: bool = True) -> bool:
        """Delete the payload of ``name`` (``bucket/path/name``); a missing one returns
        ``False`` unless ``missing_ok=False`` (DocArray's S3 store had this default)."""
        return super().delete(name, missing_ok=missing_ok)

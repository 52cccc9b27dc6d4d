"""Which store a URL goes to: ``file://`` to :class:`FileDocStore`, ``s3://`` to
:class:`S3DocStore`, any other protocol fsspec knows to :class:`FsspecDocStore`.

Example
-------
>>> resolve_url('s3://bucket/shelf/books')
('s3', 'bucket/shelf/books')
>>> store_for_protocol('file').__name__
'FileDocStore'
"""

from __future__ import annotations

from docstack.errors import MissingDependencyError
from docstack.store.abstract_doc_store import AbstractDocStore
from docstack.store.exceptions import UnsupportedProtocolError

__all__ = ["resolve_url", "store_for_protocol"]

_JAC_GONE = (
    "jac:// was Jina AI Cloud's hosted DocList store, which has shut down; push to a folder "
    "(file:///path/name), an S3 bucket (s3://bucket/name) or any fsspec URL instead"
)


def resolve_url(url: str) -> tuple[str, str]:
    """Split ``protocol://name`` into the protocol (lower case) and the name.

    Raises
    ------
    UnsupportedProtocolError
        ``url`` is not a string of that form, or it is a ``jac://`` URL.
    """
    if not isinstance(url, str) or "://" not in url:
        raise UnsupportedProtocolError(
            f"expected a URL like file:///path/name, s3://bucket/name or memory://name, got {url!r}"
        )
    protocol, name = url.split("://", 1)
    protocol = protocol.lower()
    if not protocol:
        raise UnsupportedProtocolError(f"{url!r} has no protocol before '://'")
    if protocol == "jac":
        raise UnsupportedProtocolError(_JAC_GONE)
    return protocol, name


def store_for_protocol(protocol: str) -> type[AbstractDocStore]:
    """The store class of ``protocol``.

    Raises
    ------
    UnsupportedProtocolError
        Neither docstack nor fsspec knows ``protocol``.
    MissingDependencyError
        fsspec, or the package fsspec needs for ``protocol``, is not installed.
    """
    protocol = protocol.lower()
    if protocol == "jac":
        raise UnsupportedProtocolError(_JAC_GONE)
    if protocol == "file":
        from docstack.store.file import FileDocStore

        return FileDocStore
    from docstack.store.fsspec_store import FsspecDocStore, import_fsspec

    fsspec = import_fsspec()
    try:
        fsspec.get_filesystem_class(protocol)
    except ValueError:
        raise UnsupportedProtocolError(
            f"unknown protocol {protocol!r}: use file://, s3:// or a protocol fsspec knows "
            f"({', '.join(sorted(fsspec.available_protocols()))})"
        ) from None
    except ImportError as exc:
        raise MissingDependencyError(
            f"{protocol}:// needs a package that is not installed: {exc}"
        ) from exc
    if protocol in ("s3", "s3a"):
        from docstack.store.s3 import S3DocStore

        return S3DocStore if protocol == "s3" else S3DocStore.for_protocol(protocol)
    return FsspecDocStore.for_protocol(protocol)

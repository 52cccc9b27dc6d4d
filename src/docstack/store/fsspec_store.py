"""``FsspecDocStore``: ``DocList`` payloads on any filesystem fsspec reaches
(``memory://``, ``gcs://``, ``abfs://``, ``sftp://``, ...; ``s3://`` has
:class:`~docstack.store.s3.S3DocStore`).

``memory://shelf/books`` is the object ``/shelf/books.docs`` of that filesystem. A push
streams documents into a hidden temporary object beside the target and moves it into place
once every document is written, so a reader never sees half a payload and a failed push
leaves the earlier one as it was; a second push to the same name from this process while
one is running raises :class:`~docstack.store.exceptions.ConcurrentPushException`
(object stores have no locks across machines: there the last complete push wins).

A pull with ``local_cache=True`` keeps a copy under ``<cache dir>/store/<protocol>/`` named
after the stored object's size and version (ETag or modification time), and reads that copy
for as long as the stored object is unchanged.

Filesystem options (endpoints, credentials) come from fsspec's own configuration:
``fsspec.config.conf['s3'] = {'endpoint_url': ...}`` or ``FSSPEC_S3_ENDPOINT_URL``.

Needs the ``store`` extra: ``pip install 'docstack[store]'``.

Example
-------
>>> from docstack import DocList
>>> from docstack.documents import TextDoc
>>> docs = DocList[TextDoc]([TextDoc(text='a'), TextDoc(text='b')])
>>> docs.push('memory://fsspec-example/letters')['num_docs']
2
>>> FsspecDocStore.for_protocol('memory').list('fsspec-example')
['letters']
>>> DocList[TextDoc].pull('memory://fsspec-example/letters', local_cache=False).text
['a', 'b']
"""

from __future__ import annotations

import hashlib
import os
import posixpath
import tempfile
import threading
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any, BinaryIO, ClassVar, Optional

from docstack._internal.cache import cache_dir
from docstack.errors import MissingDependencyError
from docstack.store._payload import SUFFIX, check_typed, read_docs, write_docs
from docstack.store._table import print_table
from docstack.store.abstract_doc_store import AbstractDocStore
from docstack.store.exceptions import (
    ConcurrentPushException,
    DocListNotFoundError,
    UnsupportedProtocolError,
)

__all__ = ["FsspecDocStore", "import_fsspec"]

_PUSHING: set[str] = set()
_PUSHING_LOCK = threading.Lock()


def import_fsspec() -> Any:
    """The ``fsspec`` module, or a :class:`MissingDependencyError` naming the ``store``
    extra."""
    try:
        import fsspec
    except ImportError as exc:
        raise MissingDependencyError(
            "pushing to and pulling from URLs other than file:// needs fsspec: "
            "pip install 'docstack[store]' (or pip install fsspec s3fs)"
        ) from exc
    return fsspec


class FsspecDocStore(AbstractDocStore):
    """Push and pull ``DocList`` payloads on an fsspec filesystem.

    The class itself takes full URLs as names (``memory://shelf/books``);
    ``FsspecDocStore.for_protocol('memory')`` is the store of one protocol, which takes
    what follows ``memory://``.

    Example
    -------
    >>> from docstack.documents import TextDoc
    >>> store = FsspecDocStore.for_protocol('memory')
    >>> store.push_stream((TextDoc(text=str(i)) for i in range(3)), 'fsspec-doc/n')['num_docs']
    3
    >>> store.delete('fsspec-doc/n'), store.delete('fsspec-doc/n', missing_ok=True)
    (True, False)
    """

    #: the protocol the names of this store are in (``None``: names are full URLs)
    protocol: ClassVar[Optional[str]] = None

    @classmethod
    def for_protocol(cls, protocol: str) -> type[FsspecDocStore]:
        """The store of ``protocol`` (one class per protocol, made once).

        Parameters
        ----------
        protocol:
            An fsspec protocol: ``'memory'``, ``'gcs'``, ``'abfs'``, ...

        Returns
        -------
        A subclass whose names are what follows ``protocol://``.
        """
        return _store_class(cls, protocol)

    # -- names --------------------------------------------------------------------------

    @classmethod
    def _url(cls, name: str) -> str:
        if "://" in name:
            return name
        if cls.protocol is None:
            raise UnsupportedProtocolError(
                f"{cls.__name__} takes full URLs (memory://folder/name), got {name!r}; "
                f"or use {cls.__name__}.for_protocol('memory')"
            )
        return f"{cls.protocol}://{name}"

    @classmethod
    def _check_payload_url(cls, url: str) -> None:
        """Raise if ``url`` cannot name a payload."""
        protocol, rest = url.split("://", 1)
        if not rest.strip("/"):
            raise UnsupportedProtocolError(f"{url!r} names no DocList: use {protocol}://path/name")

    @classmethod
    def _resolve(cls, name: str, payload: bool = True) -> tuple[Any, str, str]:
        """The filesystem, the path (without suffix) and the URL of ``name`` (of a payload,
        or with ``payload=False`` of a namespace)."""
        url = cls._url(name)
        if payload:
            cls._check_payload_url(url)
        fsspec = import_fsspec()
        protocol = url.split("://", 1)[0]
        try:
            fs, path = fsspec.core.url_to_fs(url)
        except ImportError as exc:
            raise MissingDependencyError(
                f"{protocol}:// needs a package that is not installed: {exc}"
            ) from exc
        except ValueError as exc:
            raise UnsupportedProtocolError(f"cannot use {url!r}: {exc}") from exc
        return fs, path.rstrip("/"), url

    # -- listing and deleting -----------------------------------------------------------

    @classmethod
    def list(cls, namespace: str, show_table: bool = False) -> list[str]:
        """The names of the payloads directly under ``namespace``, sorted (an empty list
        when nothing is there: object stores have no folders to be missing)."""
        fs, path, url = cls._resolve(namespace, payload=False)
        fs.invalidate_cache(path)
        try:
            entries = fs.ls(path, detail=True)
        except FileNotFoundError:
            entries = []
        found = []
        for entry in entries:
            base = posixpath.basename(str(entry["name"]).rstrip("/"))
            if entry.get("type") == "file" and base.endswith(SUFFIX) and not base.startswith("."):
                found.append((base[: -len(SUFFIX)], entry))
        found.sort(key=lambda item: item[0])
        if show_table:
            rows = [(name, _modified(entry), entry.get("size")) for name, entry in found]
            print_table(url, rows)
        return [name for name, _ in found]

    @classmethod
    def delete(cls, name: str, missing_ok: bool = False) -> bool:
        """Delete the payload of ``name``; see :meth:`AbstractDocStore.delete`."""
        fs, path, url = cls._resolve(name)
        target = path + SUFFIX
        fs.invalidate_cache(target)
        if not fs.isfile(target):
            if missing_ok:
                return False
            raise DocListNotFoundError(f"no DocList is stored at {url + SUFFIX!r}")
        fs.rm(target)
        fs.invalidate_cache(posixpath.dirname(target))
        return True

    # -- push -----------------------------------------------------------------------------

    @classmethod
    def push_stream(
        cls,
        docs: Iterable[Any],
        name: str,
        show_progress: bool = False,
        doc_type: Optional[type] = None,
    ) -> dict:
        """Write documents under ``name`` as they come; see
        :meth:`AbstractDocStore.push_stream`.

        Raises
        ------
        ConcurrentPushException
            Another push to ``name`` is running in this process.
        """
        fs, path, url = cls._resolve(name)
        target = path + SUFFIX
        parent, base = posixpath.split(target)
        tmp = posixpath.join(parent, f".{base}.{uuid.uuid4().hex}.tmp")
        with _claim(f"{url.split('://', 1)[0]}://{target}"):
            f = _open_for_write(fs, tmp)
            try:
                try:
                    count, size = write_docs(docs, f.write, doc_type, show_progress)
                finally:
                    f.close()
                fs.mv(tmp, target)
            except BaseException:
                _remove_quietly(fs, tmp)
                raise
            fs.invalidate_cache(parent)
        return {"url": url + SUFFIX, "num_docs": count, "size": size}

    # -- pull -----------------------------------------------------------------------------

    @classmethod
    def pull_stream(
        cls,
        docs_cls: type,
        name: str,
        show_progress: bool = False,
        local_cache: bool = False,
    ) -> Iterator[Any]:
        """The documents stored under ``name``; see :meth:`AbstractDocStore.pull_stream`."""
        check_typed(docs_cls)
        fs, path, url = cls._resolve(name)
        target = path + SUFFIX
        fs.invalidate_cache(target)
        try:
            info = fs.info(target)
        except FileNotFoundError:
            info = None
        if info is None or info.get("type") != "file":
            raise DocListNotFoundError(f"no DocList is stored at {url + SUFFIX!r}")
        size = info.get("size")
        if not local_cache:
            return read_docs(docs_cls, fs.open(target, "rb"), size, show_progress)
        cached = _cache_path(url, info)
        if cached.is_file() and (size is None or cached.stat().st_size == size):
            return read_docs(docs_cls, open(cached, "rb"), size, show_progress)  # noqa: SIM115
        copy = _CacheCopy(cached)
        return read_docs(
            docs_cls,
            fs.open(target, "rb"),
            size,
            show_progress,
            sink=copy.write,
            on_done=copy.commit,
            on_abort=copy.discard,
        )


@cache
def _store_class(base: type[FsspecDocStore], protocol: str) -> type[FsspecDocStore]:
    name = f"{base.__name__}[{protocol}]"
    return type(base)(name, (base,), {"protocol": protocol, "__module__": base.__module__})


@contextmanager
def _claim(url: str) -> Iterator[None]:
    """Mark a push to ``url`` as running in this process for the block's duration."""
    with _PUSHING_LOCK:
        if url in _PUSHING:
            raise ConcurrentPushException(
                f"another push to {url!r} is in progress; this one wrote nothing"
            )
        _PUSHING.add(url)
    try:
        yield
    finally:
        with _PUSHING_LOCK:
            _PUSHING.discard(url)


def _open_for_write(fs: Any, path: str) -> Any:
    """``fs.open(path, 'wb')``, making the parent folder on filesystems that need one (never
    on object stores, whose opens do not fail for want of a folder: no bucket is created)."""
    try:
        return fs.open(path, "wb")
    except FileNotFoundError:
        fs.makedirs(posixpath.dirname(path), exist_ok=True)
        return fs.open(path, "wb")


def _remove_quietly(fs: Any, path: str) -> None:
    try:
        fs.rm(path)
    except Exception:  # the temporary object may never have been written
        pass


def _modified(info: dict) -> Any:
    for key in ("LastModified", "last_modified", "mtime", "modified", "created"):
        if info.get(key) is not None:
            return info[key]
    return None


# -- the local cache of pulls -----------------------------------------------------------------


def _version(info: dict) -> str:
    for key in ("ETag", "etag", "md5", "checksum", "generation", "VersionId", "version_id"):
        if info.get(key):
            return f"{key}={info[key]}"
    modified = _modified(info)
    return "" if modified is None else f"modified={modified}"


def _cache_path(url: str, info: dict) -> Path:
    """Where the copy of the stored object ``url`` (as ``info`` describes it) is cached."""
    protocol, rest = url.split("://", 1)
    parts = [p for p in rest.split("/") if p not in ("", ".", "..")]
    token = hashlib.sha256(f"{info.get('size')}|{_version(info)}".encode()).hexdigest()[:16]
    folder = cache_dir().joinpath("store", protocol, *parts[:-1])
    return folder / f"{parts[-1]}.{token}{SUFFIX}"


class _CacheCopy:
    """A copy of a payload being read, written to a temporary file and moved into the
    cache only once the whole payload was read and checked."""

    def __init__(self, path: Path) -> None:
        self.path = path
        # '<leaf>.<16 hex>.docs': the other versions of the same object share the leaf
        self.leaf = path.name[: -len(SUFFIX) - 17]
        self.f: Optional[BinaryIO] = None
        self.tmp: Optional[str] = None

    def write(self, data: bytes) -> None:
        if self.f is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, self.tmp = tempfile.mkstemp(
                prefix=f".{self.path.name}.", suffix=".tmp", dir=self.path.parent
            )
            self.f = os.fdopen(fd, "wb")
        self.f.write(data)

    def commit(self) -> None:
        if self.f is None or self.tmp is None:
            return
        self.f.close()
        os.replace(self.tmp, self.path)
        self.f = self.tmp = None
        # older versions of the same object are of no more use
        for other in self.path.parent.iterdir():
            name = other.name
            token = name[len(self.leaf) + 1 : -len(SUFFIX)]
            if (
                name != self.path.name
                and name.startswith(f"{self.leaf}.")
                and name.endswith(SUFFIX)
                and len(token) == 16
                and all(c in "0123456789abcdef" for c in token)
            ):
                other.unlink(missing_ok=True)

    def discard(self) -> None:
        if self.f is None or self.tmp is None:
            return
        self.f.close()
        try:
            os.unlink(self.tmp)
        except FileNotFoundError:
            pass
        self.f = self.tmp = None

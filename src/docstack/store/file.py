"""``FileDocStore``: ``DocList`` payloads as files in a folder (``file://`` URLs).

``file:///data/shelf/books`` is the file ``/data/shelf/books.docs``. A name that does not
start with ``/``, ``~`` or ``.`` is taken inside the cache directory (``$DOCSTACK_CACHE``,
else ``~/.cache/docstack``), as in DocArray.

A push writes ``.<name>.docs.tmp`` beside the target while holding an exclusive lock on it,
and renames it into place once every document is written: a failed push leaves any earlier
payload as it was, and a second push to the same name while one is running raises
:class:`ConcurrentPushException` (the lock dies with its process, so a crashed push blocks
nothing).

Example
-------
>>> import tempfile
>>> from docstack import DocList
>>> from docstack.documents import TextDoc
>>> folder = tempfile.mkdtemp()
>>> DocList[TextDoc]([TextDoc(text='hi')]).push(f'file://{folder}/greetings')['num_docs']
1
>>> FileDocStore.list(folder)
['greetings']
>>> DocList[TextDoc].pull(f'file://{folder}/greetings').text
['hi']
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO, Optional

from docstack._internal.cache import cache_dir
from docstack.io._files import replace_when_done
from docstack.store._payload import SUFFIX, check_typed, read_docs, write_docs
from docstack.store._table import print_table
from docstack.store.abstract_doc_store import AbstractDocStore
from docstack.store.exceptions import (
    ConcurrentPushException,
    DocListNotFoundError,
    UnsupportedProtocolError,
)

try:  # POSIX: an advisory lock that is released when its process ends
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

__all__ = ["FileDocStore", "ConcurrentPushException"]


class FileDocStore(AbstractDocStore):
    """Push and pull ``DocList`` payloads to and from files on this machine.

    Example
    -------
    >>> import tempfile
    >>> from docstack.documents import TextDoc
    >>> folder = tempfile.mkdtemp()
    >>> FileDocStore.push_stream((TextDoc(text=str(i)) for i in range(3)), f'{folder}/n')['num_docs']
    3
    >>> FileDocStore.delete(f'{folder}/n')
    True
    """

    @staticmethod
    def _abs_filepath(name: str) -> Path:
        """The absolute path of ``name`` (without the ``.docs`` suffix).

        ``/a`` and ``~/a`` are taken as they are, ``./a`` and ``../a`` from the working
        directory, and any other name inside the cache directory.

        Example
        -------
        >>> FileDocStore._abs_filepath('/data/books')
        PosixPath('/data/books')
        """
        if not name:
            raise UnsupportedProtocolError("file:// needs a name: file:///path/to/folder/name")
        if not name.startswith(("/", "~", ".")):
            return cache_dir() / name
        return Path(os.path.abspath(os.path.expanduser(name)))

    @classmethod
    def _payload_path(cls, name: str) -> Path:
        path = cls._abs_filepath(name)
        return path.with_name(path.name + SUFFIX)

    @classmethod
    def list(cls, namespace: str, show_table: bool = False) -> list[str]:
        """The names of the payloads in the folder ``namespace``, sorted.

        Raises
        ------
        FileNotFoundError
            The folder does not exist.
        """
        folder = cls._abs_filepath(namespace)
        if not folder.is_dir():
            raise FileNotFoundError(f"no such folder: {str(folder)!r}")
        files = sorted(
            p for p in folder.iterdir() if p.name.endswith(SUFFIX) and not p.name.startswith(".")
        )
        names = [p.name[: -len(SUFFIX)] for p in files]
        if show_table:
            rows = []
            for name, p in zip(names, files):
                stat = p.stat()
                rows.append((name, datetime.fromtimestamp(int(stat.st_mtime)), stat.st_size))
            print_table(f"file://{folder}", rows)
        return names

    @classmethod
    def delete(cls, name: str, missing_ok: bool = False) -> bool:
        """Delete the payload of ``name``; see :meth:`AbstractDocStore.delete`."""
        path = cls._payload_path(name)
        try:
            path.unlink()
        except FileNotFoundError:
            if missing_ok:
                return False
            raise DocListNotFoundError(f"no DocList is stored at {str(path)!r}") from None
        return True

    @classmethod
    def push_stream(
        cls,
        docs: Iterable[Any],
        name: str,
        show_progress: bool = False,
        doc_type: Optional[type] = None,
    ) -> dict:
        """Write documents to ``name``'s file as they come; see
        :meth:`AbstractDocStore.push_stream`.

        Raises
        ------
        ConcurrentPushException
            Another push to ``name`` is running.
        """
        path = cls._payload_path(name)
        path.parent.mkdir(parents=True, exist_ok=True)
        with _locked_temp(path) as f:
            count, size = write_docs(docs, f.write, doc_type, show_progress)
        return {"url": f"file://{path}", "num_docs": count, "size": size}

    @classmethod
    def pull_stream(
        cls,
        docs_cls: type,
        name: str,
        show_progress: bool = False,
        local_cache: bool = False,
    ) -> Iterator[Any]:
        """The documents in ``name``'s file; see :meth:`AbstractDocStore.pull_stream`
        (``local_cache`` does not apply: the file is already local)."""
        check_typed(docs_cls)
        path = cls._payload_path(name)
        try:
            f = open(path, "rb")  # noqa: SIM115 - closed by read_docs
        except FileNotFoundError:
            raise DocListNotFoundError(f"no DocList is stored at {str(path)!r}") from None
        size = os.fstat(f.fileno()).st_size
        return read_docs(docs_cls, f, size, show_progress)


@contextmanager
def _locked_temp(path: Path) -> Iterator[BinaryIO]:
    """A temporary file beside ``path``, locked against other pushes, renamed to ``path``
    when the block ends without an error and removed when it raises."""
    tmp = path.with_name(f".{path.name}.tmp")
    f = _open_locked(tmp, path)
    try:
        with replace_when_done(f, tmp, path):
            f.truncate(0)
            yield f
    finally:
        f.close()  # releases the lock


def _busy(path: Path) -> ConcurrentPushException:
    return ConcurrentPushException(
        f"another push to {str(path)!r} is in progress; this one wrote nothing"
    )


def _open_locked(tmp: Path, path: Path) -> BinaryIO:
    if fcntl is None:  # pragma: no cover - Windows: the temporary file itself is the lock
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            raise ConcurrentPushException(
                f"another push to {str(path)!r} is in progress (or one was interrupted: then "
                f"delete {str(tmp)!r}); this one wrote nothing"
            ) from None
        return os.fdopen(fd, "wb")
    while True:
        f = open(tmp, "ab")  # noqa: SIM115 - returned to the caller, who closes it
        try:
            fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            f.close()
            raise _busy(path) from None
        except BaseException:
            f.close()
            raise
        # the file may have been renamed into place (or removed) between our open and our
        # lock: then it is no longer the temporary file, and we start again
        try:
            same = os.path.samestat(os.fstat(f.fileno()), os.stat(tmp))
        except FileNotFoundError:
            same = False
        if same:
            return f
        f.close()

"""The database of an embedded HNSW index and the lock on its ``work_dir``.

The in-memory state of an open index (the sequence counter, the vectors of the growing
segment, the graphs) mirrors the database, so two live handles on one ``work_dir`` would
drift apart after either writes. Hence one open index per ``work_dir``:

- another process holding it open: opening fails with a ``DocstackError`` (an exclusive
  ``flock`` on ``docstack.lock``, dropped by the operating system when that process ends,
  killed or not);
- an index of this process holding it open: the new index takes the ``work_dir`` over once
  it has opened (the lock never leaves the process), and the old handle is closed: using it
  raises a ``DocstackError`` that says so. An open that fails leaves the old handle as it
  was. This is what DocArray code does when it opens a ``work_dir`` again without closing
  the first index.

Read-only handles (``read_only=True``) share the ``work_dir`` with each other, in any number
of processes (a shared ``flock``): several server processes, or a search from the command
line beside a running service. A handle that writes excludes them all, and they it: the
state a reader holds in memory would otherwise miss the writer's changes.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from docstack.errors import DocstackError
from docstack.index._sql_filter import register_functions

__all__ = ["DB_NAME", "Store", "connect", "fsync_dir", "require_fts5", "vector_blobs"]

DB_NAME = "docstack.sqlite3"
LOCK_NAME = "docstack.lock"
FORMAT_VERSION = "1"

# the stores open in this process, by the real path of their work_dir
_OPEN: dict[str, weakref.ref[Store]] = {}
_OPEN_GUARD = threading.Lock()


def _live_store(key: str) -> Store | None:
    with _OPEN_GUARD:
        ref = _OPEN.get(key)
        store = ref() if ref is not None else None
        return store if store is not None and store.closed is None else None


def lock_work_dir(work_dir: Path, shared: bool = False) -> Any:
    """Hold a lock on ``work_dir`` for as long as the returned file is open: exclusive (a
    handle that writes), or ``shared`` with other read-only handles."""
    path = work_dir / LOCK_NAME
    # a reader opens the writer's lock file without writing it (flock needs no write access)
    mode = "rb" if shared and path.is_file() else "a+b"
    f = open(path, mode)  # noqa: SIM115 - held open as the lock
    try:
        if os.name == "nt":  # pragma: no cover - Windows has no shared flock: exclusive
            import msvcrt

            msvcrt.locking(f.fileno(), msvcrt.LK_NBLCK, 1)
        else:
            import fcntl

            fcntl.flock(f.fileno(), (fcntl.LOCK_SH if shared else fcntl.LOCK_EX) | fcntl.LOCK_NB)
    except OSError:
        f.close()
        if shared:
            raise DocstackError(
                f"{work_dir} is open for writing in another HnswDocumentIndex (in another "
                "process, or in this one): read-only handles open once it is closed"
            ) from None
        raise DocstackError(
            f"{work_dir} is already open in another HnswDocumentIndex (in another process, "
            "or in this one under another path, or read-only): close that one first "
            "(index.close()), or use another work_dir; searches alone can share it "
            "(read_only=True)"
        ) from None
    return f


class Store:
    """What the root index and its sub-indexes share: the database and pending memory work.

    ``owner_lock`` is the lock of the index that opens the store; a newer store on the same
    work_dir holds the older one's ``owner_lock`` from its start until :meth:`opened` (or
    :meth:`close`), so that the older index writes nothing while the newer one reads.
    """

    def __init__(self, work_dir: Path, owner_lock: Any, read_only: bool = False) -> None:
        self.work_dir = work_dir
        self.read_only = read_only
        self.key = os.path.realpath(work_dir)
        if read_only and not (work_dir / DB_NAME).is_file():
            raise DocstackError(f"{work_dir} holds no index to open read-only")
        self.graph_dir = work_dir / "hnsw"
        if not read_only:
            self.graph_dir.mkdir(parents=True, exist_ok=True)
        self.owner_lock = owner_lock
        self.closed: str | None = None  # why the store can no longer be used
        self._conn: sqlite3.Connection | None = None
        self.in_tx = False
        self.tx_serial = 0  # counts the transactions begun
        self.after_commit: list[Callable[[], None]] = []
        # a read-only handle takes nothing over: it shares the work_dir with other readers
        self.predecessor = None if read_only else self._hold_predecessor()
        if self.predecessor is not None:
            self.lock = self.predecessor.lock  # the predecessor's until opened()
            self.owns_lock = False
        else:
            self.lock = lock_work_dir(work_dir, shared=read_only)
            self.owns_lock = True
        try:
            self._connect(work_dir)
        except BaseException:
            self.close()
            raise

    def _hold_predecessor(self) -> Store | None:
        while True:
            store = _live_store(self.key)
            if store is None:
                return None
            store.owner_lock.acquire()
            if store.closed is None:
                return store
            store.owner_lock.release()  # closed while we waited: look again

    def opened(self) -> None:
        """The index on this store opened: take the work_dir over and register."""
        if self.read_only:
            return
        pred, self.predecessor = self.predecessor, None
        if pred is not None:
            pred._retire(
                f"this HnswDocumentIndex was replaced by another one opened on "
                f"{self.work_dir} in this process (one open index per work_dir): use that one"
            )
            self.owns_lock = True
            pred.owner_lock.release()
        with _OPEN_GUARD:
            _OPEN[self.key] = weakref.ref(self)

    def _retire(self, reason: str) -> None:
        self.closed = reason
        if self._conn is not None:
            self._conn.close()
        self.lock, self.owns_lock = None, False

    def close(self) -> None:
        """Close the database and release the work_dir (idempotent)."""
        if self.closed is None:
            self.closed = (
                "this HnswDocumentIndex was closed (index.close()): open its work_dir again "
                "to use it"
            )
        if self._conn is not None:
            self._conn.close()
        if self.owns_lock and self.lock is not None and not self.lock.closed:
            self.lock.close()
        pred, self.predecessor = self.predecessor, None
        if pred is not None:  # a failed open: the predecessor goes on as it was
            pred.owner_lock.release()
        with _OPEN_GUARD:
            ref = _OPEN.get(self.key)
            if ref is not None and ref() is self:
                del _OPEN[self.key]

    def check(self) -> None:
        """Raise the reason when the store is closed."""
        if self.closed is not None:
            raise DocstackError(self.closed)

    @property
    def conn(self) -> sqlite3.Connection:
        """The database connection (a ``DocstackError`` once the store is closed)."""
        if self.closed is not None:
            raise DocstackError(self.closed)
        return self._conn  # type: ignore[return-value]

    def _connect(self, work_dir: Path) -> None:
        self._conn = connect(work_dir, self.read_only)
        try:
            if self.read_only:
                self._connect_read_only(work_dir)
            else:
                self._connect_writable(work_dir)
        except sqlite3.DatabaseError as exc:
            what = "no index to open read-only: " if self.read_only else ""
            raise DocstackError(
                f"{work_dir} holds {what}{DB_NAME} is not an index ({exc})"
            ) from None

    def _connect_writable(self, work_dir: Path) -> None:
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=FULL")
        # a 64 MiB page cache (allocated as used; the default is 2 MiB): a bulk write of
        # 100k rows otherwise spills and re-reads pages of the id index, 0.3 s of its 1 s
        self.conn.execute("PRAGMA cache_size=-65536")
        register_functions(self.conn)
        self.conn.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT)")
        version = self.get_meta("format_version")
        if version is None:
            self.set_meta("format_version", FORMAT_VERSION)
        elif version != FORMAT_VERSION:
            raise DocstackError(
                f"{work_dir} holds an index of format {version}; this docstack reads "
                f"format {FORMAT_VERSION}"
            )

    def _connect_read_only(self, work_dir: Path) -> None:
        self.conn.execute("PRAGMA cache_size=-65536")
        register_functions(self.conn)
        version = self.get_meta("format_version")
        if version != FORMAT_VERSION:
            raise DocstackError(
                f"{work_dir} holds an index of format {version}; this docstack reads "
                f"format {FORMAT_VERSION}"
            )

    def check_writable(self) -> None:
        """Raise a ``DocstackError`` when this handle was opened read-only."""
        if self.read_only:
            raise DocstackError(
                f"this HnswDocumentIndex on {self.work_dir} was opened read_only=True: it "
                "searches and reads, and cannot write; open it without read_only to write "
                "(once the read-only handles are closed)"
            )

    def get_meta(self, key: str) -> str | None:
        row = self.conn.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return None if row is None else row[0]

    def set_meta(self, key: str, value: str) -> None:
        self.conn.execute(
            "INSERT INTO meta(key, value) VALUES(?, ?) "
            "ON CONFLICT(key) DO UPDATE SET value=excluded.value",
            (key, value),
        )

    @contextmanager
    def transaction(self) -> Iterator[None]:
        if self.in_tx:
            yield
            return
        self.check_writable()
        self.conn.execute("BEGIN IMMEDIATE")
        self.in_tx = True
        self.tx_serial += 1
        try:
            yield
        except BaseException:
            self.in_tx = False
            self.after_commit.clear()
            self.conn.execute("ROLLBACK")
            raise
        self.in_tx = False
        try:
            self.conn.execute("COMMIT")
        except BaseException:
            self.after_commit.clear()
            if self.conn.in_transaction:
                self.conn.execute("ROLLBACK")
            raise
        work, self.after_commit = self.after_commit, []
        for fn in work:
            fn()


def connect(work_dir: Path, read_only: bool) -> sqlite3.Connection:
    """A connection to the index database of ``work_dir``; ``read_only``: SQLite's
    ``mode=ro``, which never writes the database file (not even a WAL checkpoint on close)."""
    path = work_dir / DB_NAME
    if read_only:
        uri = path.resolve().as_uri() + "?mode=ro"
        return sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=False)
    return sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)


def require_fts5(conn: sqlite3.Connection) -> None:
    """Raise a ``DocstackError`` that says why when this process's SQLite has no FTS5.

    Python's SQLite has FTS5, but TensorFlow bundles an SQLite without it, and when
    ``tensorflow`` is imported before ``sqlite3`` its copy serves the whole process.
    """
    try:  # the temporary database: writable by a mode=ro connection too
        conn.execute("CREATE VIRTUAL TABLE temp.docstack_fts5_probe USING fts5(body)")
        conn.execute("DROP TABLE temp.docstack_fts5_probe")
    except sqlite3.OperationalError as exc:
        if "fts5" not in str(exc):
            raise
        raise DocstackError(
            f"the SQLite this process uses (version {sqlite3.sqlite_version}) has no FTS5, "
            "which text search needs. TensorFlow brings an SQLite without it: import "
            "docstack.index (or sqlite3) before tensorflow"
        ) from exc


def fsync_dir(path: Path) -> None:
    """Make a rename inside ``path`` durable (where the platform allows)."""
    try:
        fd = os.open(str(path), os.O_RDONLY)
    except OSError:  # pragma: no cover - platforms without directory fds
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def vector_blobs(vectors: np.ndarray, missing: np.ndarray) -> list[bytes | None]:
    """The float32 bytes of each row of ``vectors`` (``None`` where ``missing``): one
    ``tolist()`` of a row-sized void view, 4x faster than a ``tobytes()`` per row.

    >>> vector_blobs(np.array([[1, 0], [3, 4]], dtype=np.float32), np.array([False, True]))
    [b'\\x00\\x00\\x80?\\x00\\x00\\x00\\x00', None]
    """
    rows = np.ascontiguousarray(vectors, dtype=np.float32)
    if not rows.shape[1]:
        blobs: list[bytes | None] = [b""] * len(rows)
    else:
        blobs = rows.view(np.dtype((np.void, rows.shape[1] * 4))).ravel().tolist()
    for i in np.flatnonzero(missing).tolist():
        blobs[i] = None
    return blobs


# doctest compiles examples with the __future__ flags of the module namespace
del annotations

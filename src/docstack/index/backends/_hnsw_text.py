"""In-memory copies of the embedded index's BM25 text tables.

The embedded index keeps each searched text field in an SQLite FTS5 table: durable, written
in the same transaction as the documents. FTS5 scores an OR query by walking every posting
of its terms through its own cursor, about 6 ms for three common words over 100k short
documents. :class:`~docstack.index._bm25.BM25Index` scores the same documents identically
(the same matches, the same ``bm25()`` arithmetic, ties by smaller key) with numpy, about
0.4 ms. So once a field has been text-searched twice by this process, :class:`TextMemory`
builds a ``BM25Index`` of it in a background thread, from a snapshot read through a
connection of its own, while FTS5 goes on answering; writes committed meanwhile are logged
and replayed onto the copy before it answers. From then on every committed write updates it.

The FTS5 table stays the truth: the copy is rebuilt from it in each process, and searches
inside an open transaction (which must see its uncommitted rows) use FTS5. A one-off search
(the ``docstack search`` command) pays for no build, except on a read-only handle for a
field that has no FTS5 table yet (a reader cannot create one): the copy is then built during
that first search, as the only way to search the field.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from docstack.index._bm25 import BM25Index
from docstack.index._sql_filter import quote_identifier as _q
from docstack.index.backends._hnsw_store import Store, connect

__all__ = ["TextMemory"]

#: searches of a field by this process before its copy is built
SEARCHES_BEFORE_BUILD = 2
_FETCH = 20_000

Change = Callable[[BM25Index], None]


class _Closed(Exception):
    """The index closed while its copy was being built."""


class TextMemory:
    """The in-memory BM25 copies of one table's text fields (see the module's docstring).

    ``lock`` is the index's lock: searches and writes hold it, the builder takes it only to
    install a finished copy.
    """

    def __init__(self, store: Store, table: str, lock: Any) -> None:
        self._store, self._table, self._lock = store, table, lock
        self.ready: dict[str, BM25Index] = {}
        self._building: dict[str, list[Change]] = {}
        self._threads: dict[str, threading.Thread] = {}
        self._searches: dict[str, int] = {}
        #: fields whose build failed, with why (they stay on FTS5)
        self.failed: dict[str, BaseException] = {}

    def copy_for(self, name: str) -> BM25Index | None:
        """The copy that answers a search of field ``name``, or ``None`` when FTS5 must
        (no copy yet, or inside a transaction); counts the search and starts the build when
        it is due. Call with the index's lock held."""
        if self._store.in_tx:
            return None
        found = self.ready.get(name)
        if found is not None:
            return found
        count = self._searches[name] = self._searches.get(name, 0) + 1
        if (
            count >= SEARCHES_BEFORE_BUILD
            and name not in self._building
            and name not in self.failed
        ):
            self._start(name)
        return None

    def _start(self, name: str) -> None:
        """Pin a snapshot of the table in a connection of its own (under the index's lock,
        so no commit falls between the snapshot and the log) and build from it in a thread."""
        log: list[Change] = []
        conn = None
        try:
            conn = connect(self._store.work_dir, read_only=True)  # never writes the file
            conn.execute("BEGIN")
            conn.execute(f"SELECT count(*) FROM {_q(self._table)}").fetchone()  # the snapshot
            thread = threading.Thread(
                target=self._build,
                args=(name, conn, log),
                name=f"docstack-bm25-{self._table}-{name}",
                daemon=True,
            )
            self._building[name] = log
            thread.start()
        except Exception as exc:  # noqa: BLE001 - FTS5 goes on answering, and says why
            self._building.pop(name, None)
            self.failed[name] = exc
            if conn is not None:
                conn.close()
            return
        self._threads[name] = thread

    def _read(self, name: str, conn: sqlite3.Connection) -> BM25Index:
        """A copy of field ``name`` from the documents table, as ``conn`` sees it."""
        index = BM25Index()
        column = _q(name)
        cursor = conn.execute(
            f"SELECT seq, {column} FROM {_q(self._table)} WHERE {column} IS NOT NULL"
        )
        while rows := cursor.fetchmany(_FETCH):
            if self._store.closed is not None:
                raise _Closed  # the index was closed: stop reading
            keys = np.fromiter((r[0] for r in rows), np.int64, len(rows))
            index.add(keys, [r[1] for r in rows])
        index.prepare()
        return index

    def search_now(
        self, name: str, text: str, k: int, allowed: np.ndarray | None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Search the copy, building it first, here, if there is none: for a read-only
        handle on a field that has no FTS5 table (it cannot create one). Call with the
        index's lock held."""
        found = self.ready.get(name)
        if found is None:
            found = self.ready[name] = self._read(name, self._store.conn)
        return found.search(text, k, allowed=allowed)

    def _build(self, name: str, conn: sqlite3.Connection, log: list[Change]) -> None:
        try:
            index = self._read(name, conn)
        except _Closed:
            return
        except Exception as exc:  # noqa: BLE001 - the field stays on FTS5, and says why
            with self._lock:
                self.failed[name] = exc
                if self._building.get(name) is log:
                    del self._building[name]
            return
        finally:
            conn.close()
        with self._lock:
            if self._store.closed is not None or self._building.get(name) is not log:
                return
            for change in log:  # the writes committed since the snapshot, in order
                change(index)
            del self._building[name]
            self.ready[name] = index

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for the builds under way; whether all ended (for tests and benchmarks)."""
        for thread in list(self._threads.values()):
            thread.join(timeout)
        return not any(t.is_alive() for t in self._threads.values())

    # ---------------------------------------------------------------- committed writes

    def _apply(self, name: str, change: Change) -> None:
        found = self.ready.get(name)
        if found is not None:
            change(found)
        elif name in self._building:
            self._building[name].append(change)

    def _fields(self) -> list[str]:
        return [*self.ready, *self._building]

    def inserted(self, seqs: np.ndarray, values: dict[str, Sequence[Any]]) -> None:
        """Rows ``seqs`` were committed with these text values (per field)."""
        for name in self._fields():
            texts = list(values[name])
            self._apply(name, lambda index, t=texts: index.add(seqs, t))

    def deleted(self, seqs: Sequence[int]) -> None:
        """Rows ``seqs`` were deleted."""
        keys = np.asarray(seqs, dtype=np.int64)
        for name in self._fields():
            self._apply(name, lambda index: index.remove(keys))

    def updated(self, seq: int, name: str, value: Any) -> None:
        """Row ``seq``'s field ``name`` now holds ``value`` (``None``: no text)."""
        if name in self._fields():
            self._apply(name, lambda index: index.add(np.array([seq], np.int64), [value]))


# doctest compiles examples with the __future__ flags of the module namespace
del annotations

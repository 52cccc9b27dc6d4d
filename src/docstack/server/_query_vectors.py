"""Query vectors of text searches: a cache of the latest, and concurrent misses embedded
together in one call of the model (dynamic batching, as model servers do)."""

from __future__ import annotations

import copy
import threading
from collections import OrderedDict
from typing import Any

import numpy as np

__all__ = ["QUERY_VECTORS", "QueryVectorCache"]


class _Pending:
    """A text waiting for its vector: answered by whichever thread runs its batch."""

    __slots__ = ("done", "error", "text", "vector")

    def __init__(self, text: str) -> None:
        self.text = text
        self.vector: np.ndarray | None = None
        self.error: BaseException | None = None
        self.done = False


class _Lane:
    """The queue of one encoder: texts waiting, and whether a thread is running the model."""

    __slots__ = ("busy", "cond", "waiting")

    def __init__(self) -> None:
        self.cond = threading.Condition()
        self.waiting: list[_Pending] = []
        self.busy = False


class QueryVectorCache:
    """The last ``size`` text queries embedded, per encoder, with concurrent misses batched.

    Search traffic repeats its popular queries, and embedding one costs more than the rest of
    a search (about 4 ms of CPU for MiniLM on one core, against under a millisecond for the
    HNSW search and the JSON). Misses that arrive while the model runs wait and go into its
    next call together (up to ``max_batch`` texts): one call for eight short queries costs
    about half as much as eight calls, so under load the service answers more searches per
    core. A lone query never waits: it runs at once, as a batch of one.

    Thread-safe (the service answers searches from a thread pool); the vectors it answers
    are read-only. A batch that fails is retried text by text, so one bad query fails alone.

    Example
    -------
    >>> import numpy as np
    >>> from docstack.embed import Encoder
    >>> class Length(Encoder):
    ...     name, dim, calls = 'length', 1, 0
    ...     def _encode_batch(self, items, modality):
    ...         Length.calls += 1
    ...         return np.array([[len(t)] for t in items], np.float32)
    >>> cache, enc = QueryVectorCache(size=2), Length()
    >>> cache.get(enc, 'red fox').tolist(), cache.get(enc, 'red fox').tolist(), Length.calls
    ([7.0], [7.0], 1)
    """

    def __init__(self, size: int = 4096, max_batch: int = 16) -> None:
        if max_batch < 1:
            raise ValueError(f"max_batch must be at least 1, got {max_batch}")
        self.size, self.max_batch = size, max_batch
        self._lock = threading.Lock()
        self._items: OrderedDict[tuple[int, str], tuple[Any, np.ndarray]] = OrderedDict()
        self._lanes: dict[int, tuple[Any, _Lane]] = {}
        #: model calls made and texts they embedded (how well misses were batched)
        self.calls = 0
        self.embedded = 0

    def get(self, encoder: Any, text: str) -> np.ndarray:
        """``text`` embedded as a query by ``encoder``: from the cache, or by the model (in
        a batch with the other texts waiting for it at that moment)."""
        with self._lock:
            found = self._cached(encoder, text)
            if found is not None:
                return found
            lane = self._lanes.get(id(encoder))
            if lane is None or lane[0] is not encoder:
                lane = self._lanes[id(encoder)] = (encoder, _Lane())
        pending = _Pending(text)
        self._wait_or_run(encoder, lane[1], pending)
        if pending.error is not None:
            # each request raises its own copy: waiters on one text share the error
            raise copy.copy(pending.error) from pending.error
        assert pending.vector is not None
        return pending.vector

    def _cached(self, encoder: Any, text: str) -> np.ndarray | None:
        """The cached vector of ``text`` by ``encoder`` (made the newest), or ``None``; call
        with ``_lock`` held."""
        key = (id(encoder), text)
        found = self._items.get(key)
        if found is None or found[0] is not encoder:  # an id reused by another encoder
            return None
        self._items.move_to_end(key)
        return found[1]

    def _wait_or_run(self, encoder: Any, lane: _Lane, pending: _Pending) -> None:
        """Queue ``pending``; while the model is busy, wait; when it is free and ``pending``
        is not answered yet, run the model on the texts waiting (oldest first)."""
        with lane.cond:
            lane.waiting.append(pending)
            while not pending.done:
                if lane.busy:
                    lane.cond.wait()
                    continue
                lane.busy = True
                batch = lane.waiting[: self.max_batch]
                del lane.waiting[: self.max_batch]
                lane.cond.release()
                try:
                    self._embed(encoder, batch)
                finally:
                    for left in batch:  # interrupted: its waiters must not wait for ever
                        if not left.done:
                            left.error = RuntimeError("embedding the query was interrupted")
                            left.done = True
                    lane.cond.acquire()
                    lane.busy = False
                    lane.cond.notify_all()

    def _embed(self, encoder: Any, batch: list[_Pending]) -> None:
        """Answer every text of ``batch`` (a text asked twice is embedded once, a text that
        the previous batch embedded while this one waited comes from the cache)."""
        rows: dict[str, Any] = {}
        with self._lock:
            for p in batch:
                found = self._cached(encoder, p.text)
                if found is not None:
                    rows[p.text] = found
        texts = [t for t in dict.fromkeys(p.text for p in batch) if t not in rows]
        try:
            if texts:
                rows.update(zip(texts, self._run(encoder, texts)))
        except Exception as exc:  # noqa: BLE001 - answered to the requests it belongs to
            if len(texts) == 1:
                rows[texts[0]] = exc
            else:
                for text in texts:  # one by one: a bad text fails alone
                    try:
                        rows[text] = self._run(encoder, [text])[0]
                    except Exception as one:  # noqa: BLE001
                        rows[text] = one
        for p in batch:
            found = rows[p.text]
            if isinstance(found, BaseException):
                p.error = found
            else:
                p.vector = found
            p.done = True
        with self._lock:
            for text, vector in rows.items():
                if isinstance(vector, np.ndarray):
                    self._items[(id(encoder), text)] = (encoder, vector)  # kept: ids stay its own
                    self._items.move_to_end((id(encoder), text))
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def _run(self, encoder: Any, texts: list[str]) -> list[np.ndarray]:
        vectors = np.asarray(encoder.encode_query(texts, modality="text"))
        if vectors.ndim != 2 or len(vectors) != len(texts):
            raise ValueError(
                f"encoder {getattr(encoder, 'name', encoder)!r} answered shape "
                f"{vectors.shape} for {len(texts)} texts"
            )
        with self._lock:
            self.calls += 1
            self.embedded += len(texts)
        rows = []
        for row in vectors:
            row = np.array(row)  # its own buffer: a cached vector does not pin the batch
            row.setflags(write=False)
            rows.append(row)
        return rows


#: the query vectors of text searches, shared by the service's applications
QUERY_VECTORS = QueryVectorCache()


# doctest compiles examples with the __future__ flags of the module namespace
del annotations

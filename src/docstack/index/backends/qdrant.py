"""``QdrantDocumentIndex``: documents in a Qdrant collection, behind the one index API.

Connect as DocArray did: ``location=':memory:'`` or ``path='./qdrant'`` run qdrant-client's
local mode in this process (a Python engine for tests and small data; ``path`` keeps the data
on disk and may be opened by one client at a time), ``url='http://host:6333'`` or
``host=``/``port=``/``grpc_port=``/``prefer_grpc=``/``api_key=`` a server. With none of them
the client connects to a server on ``localhost:6333``. ``collection_name`` (or ``index_name``)
names the collection, by default the document class' name in lower case; the collection
settings ``hnsw_config``, ``optimizers_config``, ``wal_config``, ``quantization_config``,
``on_disk_payload``, ``shard_number``, ``replication_factor`` and
``write_consistency_factor`` are passed to Qdrant when the collection is created.

How the API maps onto Qdrant:

============================  =========================================================
vector search (``find``)      native: one named vector per vector field; scores converted
                              to docstack's meaning (``'sqeuclidean'`` is Qdrant's
                              ``Euclid`` squared). ``exact_search=True`` asks Qdrant for
                              exact (not HNSW) search.
filters                       native ``Filter`` for ``$eq $neq $in $nin $gt $gte $lt $lte
                              $exists``, ``$and $or $not``; ``$regex``, ``$size`` and
                              order on strings run in docstack's planner over the payload
                              (a scan), with the rest of the filter still run in Qdrant.
                              A qdrant ``models.Filter`` or its dict form is used as is.
text search                   docstack's planner: BM25 exactly as the other backends
                              score it (SQLite FTS5's), from an in-process index built
                              from the collection on first use and kept current by this
                              client's writes. Qdrant's own BM25 (``TextQuery``) uses
                              Lucene's IDF and another tokenizer, so its scores and
                              ranks differ from every other backend's; it runs with
                              ``text_scoring='qdrant'`` (a text index with BM25 scoring
                              on each ``str`` field).
hybrid, fusion                docstack's planner (the base class fuses the native vector
                              results with the text results, RRF or weighted).
sub-indexes                   one linked collection per ``DocList`` field
                              (``<collection>__<field>``), linked by ``parent_id``.
raw queries                   ``execute_query`` takes Qdrant's own query as DocArray did
                              (a dict of ``search()``/``scroll()`` arguments, a
                              ``QueryRequest``, a ``Filter``) and runs it as ``find()``.
upsert atomicity              Qdrant has no transactions: a failed ``index()`` puts back
                              what it had replaced (an undo journal), a killed process
                              keeps the batches Qdrant acknowledged.
============================  =========================================================

Insertion order (``filter()`` results, ties) is the order of the last write of each
document, kept in the payload as ``seq``. The text index of another client's writes (a server
shared by several processes) is seen after reopening.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

import numpy as np

from docstack.index._base import DocumentIndex
from docstack.index._bm25 import BM25Index
from docstack.index._query import Query
from docstack.index._results import FindResult
from docstack.index._schema import IndexSchema, RowBatch
from docstack.index.backends._qdrant_engine import (
    PAGE,
    QdrantDBConfig,
    QdrantEngine,
    QdrantIndexError,
    Shared,
)
from docstack.index.backends._qdrant_raw import QdrantQueryError, is_raw, parse_raw
from docstack.index.backends._qdrant_rows import (
    decode_payloads,
    encode_batch,
    gc_paused,
    point_id,
)
from docstack.index.backends._qdrant_search import QdrantSearch
from docstack.io._bytes import progress_bar

__all__ = ["QdrantDocumentIndex", "QdrantIndexError", "QdrantQueryError"]


class QdrantDocumentIndex(QdrantSearch, QdrantEngine, DocumentIndex):
    """A Document Index stored in a Qdrant collection (a server, or the local mode).

    Example
    -------
    >>> import numpy as np
    >>> from docstack import BaseDoc
    >>> from docstack.typing import NdArray
    >>> class Doc(BaseDoc):
    ...     title: str
    ...     emb: NdArray[2]
    >>> index = QdrantDocumentIndex[Doc](location=':memory:')
    >>> index.index([Doc(id='a', title='x', emb=[1, 0]), Doc(id='b', title='y', emb=[0, 1])])
    >>> docs, scores = index.find(np.array([1.0, 0.1]), search_field='emb', limit=1)
    >>> docs.id, index.filter({'title': 'y'}).id
    (['a'], ['b'])
    >>> index.collection_name
    'doc'
    """

    DBConfig = QdrantDBConfig

    # ------------------------------------------------------------------ opening

    @property
    def collection_name(self) -> str:
        """The Qdrant collection holding the documents."""
        return self._db_config.collection_name or self._doc_type.__name__.lower()

    @property
    def index_name(self) -> str:
        """The collection name (DocArray's alias of :attr:`collection_name`)."""
        return self.collection_name

    def _b_open(self) -> None:
        self._row_cache: dict[int, dict[str, Any]] = {}
        self._bm25: dict[str, BM25Index] = {}
        self._created = False
        self._seq = 0
        shared = self.__dict__.pop("_parent_shared", None)
        self._owner = shared is None
        if shared is None:
            shared = Shared(self._connect())
        self._shared = shared
        shared.indexes.append(self)
        self._collection = self.collection_name
        if self._call("check", self.client.collection_exists, self._collection):
            info = self._call("read", self.client.get_collection, self._collection)
            self._check_existing(info)
            self._created = True
            self._seq = self._max_seq()
            self._ensure_text_indexes(info.payload_schema or {})
        elif all(name in self._dims for name in self._schema.vector_columns):
            self._create(self._dims)

    def _b_abort_open(self) -> None:
        shared = getattr(self, "_shared", None)
        if shared is not None and getattr(self, "_owner", False):
            try:
                shared.client.close()
            except Exception:  # noqa: BLE001 - the open already failed; keep its error
                pass

    def close(self) -> None:
        """Close the client (and with it the local storage, so another client may open it).

        Example
        -------
        >>> import os, tempfile
        >>> from docstack import BaseDoc
        >>> class Note(BaseDoc):
        ...     text: str
        >>> path = os.path.join(tempfile.mkdtemp(), 'qdrant')
        >>> index = QdrantDocumentIndex[Note](path=path)
        >>> index.index(Note(id='n1', text='kept'))
        >>> index.close()
        >>> QdrantDocumentIndex[Note](path=path)['n1'].text
        'kept'
        """
        if self._owner:
            self._shared.client.close()

    def _b_subindex(self, name: str, doc_type: type) -> DocumentIndex:
        cls = QdrantDocumentIndex[doc_type]
        child = cls.__new__(cls)
        child._parent_shared = self._shared
        name = f"{self._collection}__{name}"
        child.__init__(replace(self._db_config, collection_name=name, index_name=name))
        return child

    # ------------------------------------------------------------------ writes

    @contextmanager
    def _b_transaction(self) -> Iterator[None]:
        shared = self._shared
        if shared.journal is not None:
            yield
            return
        shared.journal = []
        try:
            yield
        except BaseException as exc:
            journal, shared.journal = shared.journal, None
            for undo in reversed(journal):
                try:
                    undo()
                except Exception as e:  # noqa: BLE001 - keep undoing, report on the error
                    exc.add_note(f"docstack could not undo part of the failed write: {e}")
            for idx in shared.indexes:
                idx._forget()
            raise
        finally:
            shared.journal = None

    def _record(self, undo: Callable[[], None]) -> None:
        journal = self._shared.journal
        if journal is not None:
            journal.append(undo)

    def _forget(self) -> None:
        self._row_cache.clear()
        self._bm25.clear()

    def _ensure_created(self, batch: RowBatch) -> None:
        if self._created:
            return
        dims = dict(self._dims)
        for name in self._schema.vector_columns:
            if name not in dims and batch.values[name].shape[1]:
                dims[name] = int(batch.values[name].shape[1])
        unknown = sorted(set(self._schema.vector_columns) - set(dims))
        if unknown:
            raise QdrantIndexError(
                f"vector field(s) {unknown} have no known dimension, and Qdrant needs it to "
                "create the collection: give it in the type (NdArray[128]) or Field(dim=128)"
            )
        self._create(dims)
        self._record(self._undo_create)

    def _undo_create(self) -> None:
        self.client.delete_collection(self._collection)
        self._created = False

    def _restore(self, records: list) -> None:
        from qdrant_client import models

        points = [
            models.PointStruct(id=r.id, vector=r.vector or {}, payload=r.payload) for r in records
        ]
        for start in range(0, len(points), self._db_config.batch_size):
            chunk = points[start : start + self._db_config.batch_size]
            self.client.upsert(self._collection, points=chunk, wait=True)

    def _delete_points(self, pids: list[Any]) -> None:
        from qdrant_client import models

        for start in range(0, len(pids), PAGE):
            selector = models.PointIdsList(points=pids[start : start + PAGE])
            self._call(
                "delete points",
                self.client.delete,
                collection_name=self._collection,
                points_selector=selector,
                wait=True,
            )

    def _b_upsert(self, batch: RowBatch) -> None:
        from qdrant_client import models

        self._ensure_created(batch)
        pids = [point_id(i) for i in batch.ids]
        old = self._retrieve(pids, True, True)
        with gc_paused():
            payloads, vectors = encode_batch(self._schema, batch, self._next_seqs(len(batch)))
            # built without pydantic's validation: encode_batch makes JSON values, str ids
            # and lists of floats, which validation would walk float by float
            make = models.PointStruct.model_construct
            points = [
                make(id=pid, vector=vec, payload=p) for pid, vec, p in zip(pids, vectors, payloads)
            ]

        def undo() -> None:
            self.client.delete(self._collection, points_selector=models.PointIdsList(points=pids))
            self._restore(old)

        self._record(undo)
        size = self._db_config.batch_size
        label = f"Writing to Qdrant collection {self._collection}"
        with progress_bar(self._write_progress, len(points), label) as step:
            for start in range(0, len(points), size):
                part = points[start : start + size]
                self._call(
                    "write points",
                    self.client.upsert,
                    collection_name=self._collection,
                    points=part,
                    wait=True,
                )
                step(len(part))
        self._row_cache.clear()
        if self._bm25:
            dead = np.array([r.payload["seq"] for r in old], dtype=np.int64)
            keys = np.array([p["seq"] for p in payloads], dtype=np.int64)
            for name, bm in self._bm25.items():
                bm.remove(dead)
                bm.add(keys, batch.values[name])

    def _drop(self, records: list) -> list[str]:
        """Delete the points of ``records`` (undoable); return their document ids."""
        if not records:
            return []
        self._record(lambda: self._restore(records))
        self._delete_points([r.id for r in records])
        self._row_cache.clear()
        if self._bm25:
            dead = np.array([r.payload["seq"] for r in records], dtype=np.int64)
            for bm in self._bm25.values():
                bm.remove(dead)
        return [r.payload["id"] for r in records]

    def _b_delete(self, ids: Sequence[str]) -> list[str]:
        wanted = list(dict.fromkeys(ids))
        by_id = {
            r.payload["id"]: r for r in self._retrieve([point_id(i) for i in wanted], True, True)
        }
        return self._drop([by_id[i] for i in wanted if i in by_id])

    def _b_delete_children(self, parent_ids: Sequence[str]) -> list[str]:
        records = []
        parents = list(dict.fromkeys(parent_ids))
        for start in range(0, len(parents), PAGE):
            flt = self._seq_filter("parent_id", parents[start : start + PAGE])
            records.extend(self._scroll(flt, True, True))
        records.sort(key=lambda r: r.payload["seq"])
        return self._drop(records)

    def _b_update(self, doc_id: str, values: dict[str, Any]) -> bool:
        found = self._retrieve([point_id(doc_id)])
        if not found or found[0].payload.get("id") != doc_id:
            return False
        record = found[0]
        before = {k: record.payload.get(k) for k in values}
        new = {
            k: float(v) if self._schema.columns[k].kind == "float" and v is not None else v
            for k, v in values.items()
        }
        client = self.client
        self._record(lambda: client.set_payload(self._collection, before, points=[record.id]))
        self._call(
            "update a point",
            client.set_payload,
            collection_name=self._collection,
            payload=new,
            points=[record.id],
            wait=True,
        )
        self._row_cache.clear()
        key = np.array([record.payload["seq"]], dtype=np.int64)
        for name, bm in self._bm25.items():
            if name in new:
                bm.remove(key)
                bm.add(key, [new[name]])
        return True

    def _b_reconfigured(self, old: IndexSchema) -> None:
        if not self._created:
            return
        for name, col in self._schema.vector_columns.items():
            before = old.vector_columns.get(name)
            if before is not None and before.space != col.space:
                self._schema = old
                raise QdrantIndexError(
                    f"collection {self._collection!r} scores field {name!r} by "
                    f"{before.space!r}; Qdrant cannot change a collection's metric: open "
                    "another collection_name for the new one"
                )

    # ------------------------------------------------------------------ reads

    def _b_rows(self, keys: np.ndarray) -> tuple[list[str], dict[str, list[Any]]]:
        wanted = [int(k) for k in keys.tolist()]
        missing = [k for k in dict.fromkeys(wanted) if k not in self._row_cache]
        for start in range(0, len(missing), PAGE):
            self._cache(self._scroll(self._seq_filter("seq", missing[start : start + PAGE])))
        cache = self._row_cache
        return decode_payloads(self._schema, [cache[k] for k in wanted])

    def _b_get(self, ids: Sequence[str]) -> tuple[list[str], dict[str, list[Any]]]:
        unique = list(dict.fromkeys(ids))
        records = self._retrieve([point_id(i) for i in unique])
        by_id = {r.payload["id"]: r.payload for r in records}
        return decode_payloads(self._schema, [by_id[i] for i in ids if i in by_id])

    def _b_children(
        self, parent_ids: Sequence[str]
    ) -> tuple[list[str], list[str], dict[str, list[Any]]]:
        order = {p: i for i, p in enumerate(dict.fromkeys(parent_ids))}
        parents = list(order)
        payloads = []
        for start in range(0, len(parents), PAGE):
            flt = self._seq_filter("parent_id", parents[start : start + PAGE])
            payloads.extend(r.payload for r in self._scroll(flt))
        payloads.sort(key=lambda p: (order[p["parent_id"]], p["position"]))
        ids, values = decode_payloads(self._schema, payloads)
        return ids, [p["parent_id"] for p in payloads], values

    def _b_parents(self, ids: Sequence[str]) -> dict[str, str]:
        unique = list(dict.fromkeys(ids))
        records = self._retrieve([point_id(i) for i in unique], ["id", "parent_id"])
        return {r.payload["id"]: r.payload.get("parent_id") for r in records}

    def _b_count(self) -> int:
        if not self._created:
            return 0
        result = self._call(
            "count points", self.client.count, collection_name=self._collection, exact=True
        )
        return int(result.count)

    def _b_contains(self, doc_id: str) -> bool:
        found = self._retrieve([point_id(doc_id)], ["id"])
        return bool(found) and found[0].payload.get("id") == doc_id

    # ------------------------------------------------------------------ raw queries

    def execute_query(self, query: Any, **kwargs: Any) -> FindResult:
        """Run a query from :meth:`build_query`, or Qdrant's own query (DocArray's way).

        A raw query is the dict DocArray passed to qdrant-client (``client.search()``
        arguments: ``vector``, ``filter``, ``params``, ``limit``, ``offset``,
        ``score_threshold``; without ``vector``, a filter-only scroll), a qdrant
        ``QueryRequest`` (or its dict form: ``query``, ``using``) or a ``Filter``. It runs on
        this collection through ``find()``'s path (``filter()``'s without a vector): whole
        documents, scores in docstack's meaning for the field's metric (``score_threshold``
        too), scores of 1 for a filter. A query docstack cannot read or run raises
        :class:`QdrantQueryError`.

        Example
        -------
        >>> from docstack import BaseDoc
        >>> from docstack.typing import NdArray
        >>> class Doc(BaseDoc):
        ...     n: int
        ...     emb: NdArray[2]
        >>> index = QdrantDocumentIndex[Doc](location=':memory:')
        >>> index.index([Doc(id='a', n=1, emb=[1, 0]), Doc(id='b', n=2, emb=[0, 1])])
        >>> docs, scores = index.execute_query({'vector': [1.0, 0.0], 'limit': 1})
        >>> docs.id, scores.tolist()
        (['a'], [1.0])
        >>> flt = {'must': [{'key': 'n', 'match': {'value': 2}}]}
        >>> index.execute_query({'filter': flt}).documents.id
        ['b']
        """
        if isinstance(query, Query) or not is_raw(query):
            return super().execute_query(query, **kwargs)
        if kwargs:
            raise TypeError(f"execute_query() takes no settings; got {sorted(kwargs)}")
        raw = parse_raw(query)
        if raw.vector is None:
            docs = self.filter(raw.filter or {}, limit=raw.limit, offset=raw.offset)
            return FindResult(docs, np.ones(len(docs), dtype=np.float64))
        try:
            column = self._schema.vector_column(raw.field or "")
        except Exception as e:
            raise QdrantQueryError(f"the raw query's vector field: {e}") from e
        try:
            vectors = self._query_vectors(raw.vector, column, single=True)
        except Exception as e:
            raise QdrantQueryError(f"the raw query's vector for {column.name!r}: {e}") from e
        node = self._parse_filter(raw.filter) if raw.filter is not None else None
        with self._lock:
            self._raw_params = raw.params
            try:
                found = self._find(
                    column, vectors, raw.limit, raw.score_threshold, raw.offset, node
                )
            finally:
                self._raw_params = None
        return found[0]


# doctest compiles examples with the __future__ flags of the module namespace
del annotations

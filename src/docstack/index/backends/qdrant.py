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
                              ranks differ from every other backend's.
hybrid, fusion                docstack's planner (the base class fuses the native vector
                              results with the text results, RRF or weighted).
sub-indexes                   one linked collection per ``DocList`` field
                              (``<collection>__<field>``), linked by ``parent_id``.
upsert atomicity              Qdrant has no transactions: a failed ``index()`` puts back
                              what it had replaced (an undo journal), a killed process
                              keeps the batches Qdrant acknowledged.
============================  =========================================================

Insertion order (``filter()`` results, ties) is the order of the last write of each
document, kept in the payload as ``seq``. The text index of another client's writes (a server
shared by several processes) is seen after reopening.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from docstack._internal.optional import import_optional
from docstack._internal.query import And, Comparison, FilterNode, Not, Or, evaluate
from docstack.errors import DocstackError, LoadError, ShapeError
from docstack.index._base import BaseDBConfig, DocumentIndex
from docstack.index._bm25 import BM25Index
from docstack.index._schema import Column, IndexSchema, RowBatch
from docstack.index.backends._qdrant_filter import (
    NeedsPlanner,
    compile_filter,
    native_filter,
    planner_paths,
)
from docstack.index.backends._qdrant_rows import decode_payloads, encode_batch, point_id

__all__ = ["QdrantDocumentIndex", "QdrantIndexError"]

_DISTANCES = {"cosine": "Cosine", "l2": "Euclid", "sqeuclidean": "Euclid", "ip": "Dot"}
_COLLECTION_SETTINGS = (
    "shard_number",
    "replication_factor",
    "write_consistency_factor",
    "on_disk_payload",
    "hnsw_config",
    "optimizers_config",
    "wal_config",
    "quantization_config",
)
_PAGE = 1024
_EMPTY = (np.zeros(0, np.int64), np.zeros(0, np.float64))


class QdrantIndexError(DocstackError, RuntimeError):
    """Qdrant failed or refused an operation; the message says what happened and what to do."""


@dataclass
class QdrantDBConfig(BaseDBConfig):
    """Settings of :class:`QdrantDocumentIndex` (DocArray's names; see the module docstring).

    ``exact_search``: search vectors exactly instead of through Qdrant's HNSW graph.
    ``batch_size``: points per upsert request.
    """

    location: str | None = None
    url: str | None = None
    port: int | None = 6333
    grpc_port: int = 6334
    prefer_grpc: bool = True
    https: bool | None = None
    api_key: str | None = None
    prefix: str | None = None
    timeout: float | None = None
    host: str | None = None
    path: str | None = None
    collection_name: str | None = None
    shard_number: int | None = None
    replication_factor: int | None = None
    write_consistency_factor: int | None = None
    on_disk_payload: bool | None = None
    hnsw_config: Any = None
    optimizers_config: Any = None
    wal_config: Any = None
    quantization_config: Any = None
    exact_search: bool = False
    batch_size: int = 256

    def __post_init__(self) -> None:
        if self.collection_name is None and self.index_name is not None:
            self.collection_name = self.index_name
        if self.index_name is None and self.collection_name is not None:
            self.index_name = self.collection_name
        if isinstance(self.batch_size, bool) or not isinstance(self.batch_size, int):
            raise TypeError(f"batch_size must be a positive int, got {self.batch_size!r}")
        if self.batch_size < 1:
            raise ValueError(f"batch_size must be a positive int, got {self.batch_size}")

    @property
    def is_local(self) -> bool:
        """Whether these settings open qdrant-client's local mode (in this process)."""
        return self.location == ":memory:" or self.path is not None


class _Shared:
    """What a root index and its sub-indexes share: the client and the undo journal."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.journal: list[Callable[[], None]] | None = None
        self.indexes: list[QdrantDocumentIndex] = []


class QdrantDocumentIndex(DocumentIndex):
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

    @property
    def client(self) -> Any:
        """The ``QdrantClient`` in use (shared with the sub-indexes)."""
        return self._shared.client

    def _b_open(self) -> None:
        self._row_cache: dict[int, dict[str, Any]] = {}
        self._bm25: dict[str, BM25Index] = {}
        self._created = False
        self._seq = 0
        shared = self.__dict__.pop("_parent_shared", None)
        self._owner = shared is None
        if shared is None:
            shared = _Shared(self._connect())
        self._shared = shared
        shared.indexes.append(self)
        self._collection = self.collection_name
        if self._call("check", self.client.collection_exists, self._collection):
            info = self._call("read", self.client.get_collection, self._collection)
            self._check_existing(info)
            self._created = True
            self._seq = self._max_seq()
        elif all(name in self._dims for name in self._schema.vector_columns):
            self._create(self._dims)

    def _connect(self) -> Any:
        qdrant = import_optional("qdrant_client")
        cfg = self._db_config
        settings = {
            "location": cfg.location,
            "url": cfg.url,
            "port": cfg.port,
            "grpc_port": cfg.grpc_port,
            "prefer_grpc": cfg.prefer_grpc,
            "https": cfg.https,
            "api_key": cfg.api_key,
            "prefix": cfg.prefix,
            "timeout": cfg.timeout,
            "host": cfg.host,
            "path": cfg.path,
        }
        if cfg.timeout is None:
            del settings["timeout"]
        try:
            return qdrant.QdrantClient(**settings)
        except Exception as e:
            if cfg.path is not None:
                if "already accessed" in str(e):
                    raise QdrantIndexError(
                        f"the Qdrant storage at {cfg.path!r} is open in another client (local "
                        "mode allows one at a time): close() that index first, or run a "
                        "Qdrant server for several processes"
                    ) from e
                raise LoadError(f"cannot open the Qdrant storage at {cfg.path!r}: {e}") from e
            raise QdrantIndexError(f"cannot create a Qdrant client ({self._where()}): {e}") from e

    def _where(self) -> str:
        cfg = self._db_config
        if cfg.location == ":memory:":
            return "local mode in memory"
        if cfg.path is not None:
            return f"local mode at {cfg.path!r}"
        return f"server {cfg.url or cfg.location or (cfg.host or 'localhost')}"

    def _b_abort_open(self) -> None:
        shared = getattr(self, "_shared", None)
        if shared is not None and getattr(self, "_owner", False):
            try:
                shared.client.close()
            except Exception:  # noqa: BLE001 - the open already failed; keep its error
                pass

    def close(self) -> None:
        """Close the client (and with it the local storage, so another client may open it)."""
        if self._owner:
            self._shared.client.close()

    def _b_subindex(self, name: str, doc_type: type) -> DocumentIndex:
        cls = QdrantDocumentIndex[doc_type]
        child = cls.__new__(cls)
        child._parent_shared = self._shared
        name = f"{self._collection}__{name}"
        child.__init__(replace(self._db_config, collection_name=name, index_name=name))
        return child

    def _check_existing(self, info: Any) -> None:
        vectors = info.config.params.vectors
        name = self._collection
        if self._schema.vector_columns and not isinstance(vectors, dict):
            raise QdrantIndexError(
                f"collection {name!r} has one unnamed vector; docstack stores one named vector "
                "per vector field: open another collection_name"
            )
        for col in self._schema.vector_columns.values():
            params = (vectors or {}).get(col.name)
            if params is None:
                raise QdrantIndexError(
                    f"collection {name!r} has no vector {col.name!r} (it was created for "
                    f"another schema, with vectors {sorted(vectors or {})}): open another "
                    "collection_name, or delete the collection to start afresh"
                )
            dim = self._dims.get(col.name)
            if dim is not None and params.size != dim:
                raise ShapeError(
                    f"collection {name!r} stores field {col.name!r} with dimension "
                    f"{params.size}, but the schema says {dim}: the embedding changed; open "
                    "another collection_name, or delete the collection to re-index"
                )
            want = _DISTANCES[col.space]
            got = getattr(params.distance, "value", params.distance)
            if got != want:
                raise QdrantIndexError(
                    f"collection {name!r} scores field {col.name!r} by {got}, but the schema "
                    f"asks for {col.space!r} ({want}): open another collection_name"
                )
            self._dims[col.name] = int(params.size)

    def _create(self, dims: dict[str, int]) -> None:
        from qdrant_client import models

        cfg = self._db_config
        vectors = {
            name: models.VectorParams(size=dims[name], distance=_DISTANCES[col.space])
            for name, col in self._schema.vector_columns.items()
        }
        settings = {k: getattr(cfg, k) for k in _COLLECTION_SETTINGS if getattr(cfg, k) is not None}
        client = self.client
        self._call(
            "create the collection",
            client.create_collection,
            collection_name=self._collection,
            vectors_config=vectors,
            **settings,
        )
        self._created = True
        if not cfg.is_local:  # local mode has no payload indexes (it scans)
            schema_types = {"id": "keyword", "seq": "integer", "parent_id": "keyword"}
            for key, kind in schema_types.items():
                self._call(
                    "create a payload index",
                    client.create_payload_index,
                    collection_name=self._collection,
                    field_name=key,
                    field_schema=kind,
                )

    def _max_seq(self) -> int:
        from qdrant_client import models

        records, _ = self._call(
            "read",
            self.client.scroll,
            collection_name=self._collection,
            limit=1,
            with_payload=["seq"],
            order_by=models.OrderBy(key="seq", direction="desc"),
        )
        return int(records[0].payload["seq"]) if records else 0

    def _next_seqs(self, n: int) -> range:
        start = self._seq + 1
        if not self._db_config.is_local:
            # several clients may write to a server: order them by time as well
            start = max(start, time.time_ns() // 1000)
        self._seq = start + n - 1
        return range(start, start + n)

    # ------------------------------------------------------------------ engine calls

    def _call(self, what: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except DocstackError:
            raise
        except Exception as e:
            raise self._engine_error(what, e) from e

    def _engine_error(self, what: str, e: Exception) -> DocstackError:
        text = f"{type(e).__name__}: {e}"
        lowered = text.lower()
        if any(w in lowered for w in ("connect", "unavailable", "timed out", "timeout")):
            return QdrantIndexError(
                f"cannot reach Qdrant ({self._where()}) to {what}: {text}. Start the server or "
                "check url/host/port; for an embedded index pass location=':memory:' or path="
            )
        if getattr(self, "_created", False):
            try:
                exists = self.client.collection_exists(self._collection)
            except Exception:  # noqa: BLE001 - report the first error
                exists = True
            if not exists:
                return QdrantIndexError(
                    f"collection {self._collection!r} no longer exists: it was deleted behind "
                    "this index (its documents are gone); open the index again to create it"
                )
        return QdrantIndexError(
            f"Qdrant failed to {what} in collection {self._collection!r} ({self._where()}): {text}"
        )

    def _retrieve(self, ids: Sequence[str], payload: Any = True, vectors: bool = False) -> list:
        if not self._created or not ids:
            return []
        out = []
        for start in range(0, len(ids), _PAGE):
            out.extend(
                self._call(
                    "read points",
                    self.client.retrieve,
                    collection_name=self._collection,
                    ids=list(ids[start : start + _PAGE]),
                    with_payload=payload,
                    with_vectors=vectors,
                )
            )
        return out

    def _scroll(
        self,
        flt: Any,
        payload: Any = True,
        vectors: bool = False,
        ordered: bool = False,
        limit: int | None = None,
    ) -> list:
        """Every point matching ``flt`` (up to ``limit``), by ``seq`` when ``ordered``."""
        from qdrant_client import models

        out: list = []
        if not self._created or flt is False or limit == 0:
            return out
        offset: Any = None
        start: int | None = None
        while True:
            page = _PAGE if limit is None else min(_PAGE, limit - len(out))
            kwargs: dict[str, Any] = {}
            if ordered:
                kwargs["order_by"] = models.OrderBy(key="seq", direction="asc", start_from=start)
            else:
                kwargs["offset"] = offset
            records, offset = self._call(
                "read points",
                self.client.scroll,
                collection_name=self._collection,
                scroll_filter=flt,
                limit=page,
                with_payload=payload,
                with_vectors=vectors,
                **kwargs,
            )
            out.extend(records)
            if limit is not None and len(out) >= limit:
                return out
            if ordered:
                if len(records) < page:
                    return out
                start = int(records[-1].order_value) + 1
            elif offset is None:
                return out

    def _seq_filter(self, key: str, values: list[Any]) -> Any:
        from qdrant_client import models

        return models.Filter(
            must=[models.FieldCondition(key=key, match=models.MatchAny(any=values))]
        )

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

        for start in range(0, len(pids), _PAGE):
            selector = models.PointIdsList(points=pids[start : start + _PAGE])
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
        payloads, vectors = encode_batch(self._schema, batch, self._next_seqs(len(batch)))
        points = [
            models.PointStruct(id=pid, vector=vec, payload=p)
            for pid, vec, p in zip(pids, vectors, payloads)
        ]

        def undo() -> None:
            self.client.delete(self._collection, points_selector=models.PointIdsList(points=pids))
            self._restore(old)

        self._record(undo)
        size = self._db_config.batch_size
        for start in range(0, len(points), size):
            self._call(
                "write points",
                self.client.upsert,
                collection_name=self._collection,
                points=points[start : start + size],
                wait=True,
            )
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
        for start in range(0, len(parents), _PAGE):
            flt = self._seq_filter("parent_id", parents[start : start + _PAGE])
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

    def _cache(self, records: Sequence[Any]) -> None:
        if len(self._row_cache) > 100_000:
            self._row_cache.clear()
        for r in records:
            self._row_cache[int(r.payload["seq"])] = r.payload

    def _b_rows(self, keys: np.ndarray) -> tuple[list[str], dict[str, list[Any]]]:
        wanted = [int(k) for k in keys.tolist()]
        missing = [k for k in dict.fromkeys(wanted) if k not in self._row_cache]
        for start in range(0, len(missing), _PAGE):
            self._cache(self._scroll(self._seq_filter("seq", missing[start : start + _PAGE])))
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
        for start in range(0, len(parents), _PAGE):
            flt = self._seq_filter("parent_id", parents[start : start + _PAGE])
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

    # ------------------------------------------------------------------ filters

    def _parse_filter(self, filter_query: Any) -> FilterNode | None:
        if filter_query is not None:
            try:
                native = native_filter(filter_query, self._schema.filter_columns)
            except Exception as e:
                from docstack._internal.query import FilterError

                raise FilterError(f"not a valid Qdrant filter: {e}") from e
            if native is not None:
                return native  # type: ignore[return-value]
        return super()._parse_filter(filter_query)

    def _kinds(self) -> dict[tuple[str, ...], str]:
        return {col.path: col.kind for col in self._schema.filter_columns.values()}

    def _resolve(self, node: Any) -> Any:
        """``node`` as a Qdrant ``Filter``; ``None`` for everything, ``False`` for nothing."""
        from qdrant_client import models

        if node is None:
            return None
        try:
            flt = compile_filter(node, self._kinds())
        except NeedsPlanner:
            pids = self._planner_match(node)
            if not pids:
                return False
            return models.Filter(must=[models.HasIdCondition(has_id=pids)])
        return None if flt is True else flt

    def _planner_match(self, node: Any) -> list[Any]:
        """Point ids matching ``node``, parts Qdrant cannot run evaluated in docstack."""
        from qdrant_client import models

        kinds = self._kinds()
        prefilter = None
        if isinstance(node, And):
            native = []
            for child in node.children:
                try:
                    native.append(compile_filter(child, kinds))
                except NeedsPlanner:
                    continue
            if any(c is False for c in native):
                return []
            native = [c for c in native if c is not True]
            prefilter = models.Filter(must=native) if native else None
        keys = sorted({"__".join(p) for p in planner_paths(node)})
        records = self._scroll(prefilter, keys or False)
        if not records:
            return []
        mask = self._mask(node, records, kinds)
        return [r.id for r, ok in zip(records, mask.tolist()) if ok]

    def _mask(self, node: Any, records: list, kinds: dict) -> np.ndarray:
        n = len(records)
        try:
            flt = compile_filter(node, kinds)
        except NeedsPlanner:
            if isinstance(node, Comparison):
                key = "__".join(node.path)
                column = [(r.payload or {}).get(key) for r in records]
                return evaluate(node, lambda path: column, n)
            if isinstance(node, Not):
                return ~self._mask(node.child, records, kinds)
            parts = [self._mask(c, records, kinds) for c in node.children]
            if isinstance(node, Or):
                return np.logical_or.reduce(parts) if parts else np.zeros(n, bool)
            return np.logical_and.reduce(parts) if parts else np.ones(n, bool)
        if isinstance(flt, bool):
            return np.full(n, flt)
        hits = {r.id for r in self._scroll(flt, False)}
        return np.fromiter((r.id in hits for r in records), bool, n)

    def _b_filter(self, node: FilterNode | None, limit: int | None) -> np.ndarray:
        records = self._scroll(self._resolve(node), True, ordered=True, limit=limit)
        self._cache(records)
        return np.array([r.payload["seq"] for r in records], dtype=np.int64)

    # ------------------------------------------------------------------ search

    def _b_vector_search(
        self, column: Column, queries: np.ndarray, k: int, node: FilterNode | None
    ) -> list[tuple[np.ndarray, np.ndarray]]:
        from qdrant_client import models

        flt = self._resolve(node) if self._created else False
        if flt is False or k <= 0:
            return [_EMPTY for _ in range(len(queries))]
        cfg = self._db_config
        exact = cfg.exact_search and not cfg.is_local  # local mode always searches exactly
        params = models.SearchParams(exact=True) if exact else None
        requests = [
            models.QueryRequest(
                query=q.tolist(),
                using=column.name,
                limit=k,
                filter=flt,
                params=params,
                with_payload=True,
            )
            for q in queries
        ]
        responses = self._call(
            "search",
            self.client.query_batch_points,
            collection_name=self._collection,
            requests=requests,
        )
        out = []
        for response in responses:
            points = response.points
            self._cache(points)
            keys = np.array([p.payload["seq"] for p in points], dtype=np.int64)
            scores = np.array([p.score for p in points], dtype=np.float64)
            if column.space == "sqeuclidean":
                scores = scores**2
            out.append((keys, scores))
        return out

    def _text_index(self, name: str) -> BM25Index:
        bm = self._bm25.get(name)
        if bm is None:
            bm = BM25Index()
            records = self._scroll(None, [name, "seq"], ordered=True)
            keys = np.array([r.payload["seq"] for r in records], dtype=np.int64)
            bm.add(keys, [r.payload.get(name) for r in records])
            self._bm25[name] = bm
        return bm

    def _b_text_search(
        self, column: Column, text: str, k: int, node: FilterNode | None
    ) -> tuple[np.ndarray, np.ndarray]:
        if not self._created:
            return _EMPTY
        bm = self._text_index(column.name)
        if node is None:
            return bm.search(text, limit=k)
        flt = self._resolve(node)
        if flt is False:
            return _EMPTY
        allowed = np.array([r.payload["seq"] for r in self._scroll(flt, ["seq"])], np.int64)
        keys, scores = bm.search(text, limit=max(len(bm), 1))
        keep = np.isin(keys, allowed)
        return keys[keep][:k], scores[keep][:k]


# doctest compiles examples with the __future__ flags of the module namespace
del annotations

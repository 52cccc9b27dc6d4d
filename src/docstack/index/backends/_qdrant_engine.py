"""The Qdrant side of ``QdrantDocumentIndex``: settings, the client, the collection, and the
engine's failures turned into docstack errors (a mixin over the index)."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from docstack._internal.optional import import_optional
from docstack.errors import DocstackError, LoadError, ShapeError
from docstack.index._base import BaseDBConfig

__all__ = ["PAGE", "QdrantDBConfig", "QdrantEngine", "QdrantIndexError", "Shared"]

DISTANCES = {"cosine": "Cosine", "l2": "Euclid", "sqeuclidean": "Euclid", "ip": "Dot"}
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
#: points per read request
PAGE = 1024


class QdrantIndexError(DocstackError, RuntimeError):
    """Qdrant failed or refused an operation; the message says what happened and what to do."""


@dataclass
class QdrantDBConfig(BaseDBConfig):
    """Settings of :class:`QdrantDocumentIndex` (DocArray's names; see the module docstring).

    ``exact_search``: search vectors exactly instead of through Qdrant's HNSW graph.
    ``batch_size``: points per upsert request.
    ``text_scoring``: ``'docstack'`` (the default) scores text search with the BM25 every
    backend uses (SQLite FTS5's); ``'qdrant'`` runs it in Qdrant (a full-text index with
    BM25 scoring on each ``str`` field, ``TextQuery``), whose scores use Lucene's IDF and
    Qdrant's word tokenizer: ranks and scores then differ from the other backends'.
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
    text_scoring: str = "docstack"

    def __post_init__(self) -> None:
        if self.collection_name is None and self.index_name is not None:
            self.collection_name = self.index_name
        if self.index_name is None and self.collection_name is not None:
            self.index_name = self.collection_name
        if isinstance(self.batch_size, bool) or not isinstance(self.batch_size, int):
            raise TypeError(f"batch_size must be a positive int, got {self.batch_size!r}")
        if self.batch_size < 1:
            raise ValueError(f"batch_size must be a positive int, got {self.batch_size}")
        if self.text_scoring not in ("docstack", "qdrant"):
            raise ValueError(
                f"text_scoring must be 'docstack' or 'qdrant', got {self.text_scoring!r}"
            )

    @property
    def is_local(self) -> bool:
        """Whether these settings open qdrant-client's local mode (in this process)."""
        return self.location == ":memory:" or self.path is not None


class Shared:
    """What a root index and its sub-indexes share: the client and the undo journal."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.journal: list[Callable[[], None]] | None = None
        self.indexes: list[Any] = []


class QdrantEngine:
    """Connection, collection and engine calls of ``QdrantDocumentIndex`` (a mixin: it reads
    the index's ``_db_config``, ``_schema``, ``_dims``, ``_shared`` and ``_collection``)."""

    _db_config: Any
    _schema: Any
    _dims: dict[str, int]
    _shared: Shared
    _collection: str
    _created: bool
    _seq: int

    @property
    def client(self) -> Any:
        """The ``QdrantClient`` in use (shared with the sub-indexes)."""
        return self._shared.client

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
            want = DISTANCES[col.space]
            got = getattr(params.distance, "value", params.distance)
            if got != want:
                raise QdrantIndexError(
                    f"collection {name!r} scores field {col.name!r} by {got}, but the schema "
                    f"asks for {col.space!r} ({want}): open another collection_name"
                )
            self._dims[col.name] = int(params.size)

    _meta_values: dict[str, str] | None = None

    def _b_meta_get(self, key: str) -> str | None:
        if not self._created:
            return (self._meta_values or {}).get(key)
        info = self._call("read", self.client.get_collection, self._collection)
        return (info.config.metadata or {}).get(f"docstack.{key}")

    def _b_meta_set(self, key: str, value: str) -> None:
        if not self._created:  # written with the collection (its first write)
            self._meta_values = {**(self._meta_values or {}), key: value}
            return
        self._call(
            "update the collection",
            self.client.update_collection,
            collection_name=self._collection,
            metadata={f"docstack.{key}": value},
        )

    def _create(self, dims: dict[str, int]) -> None:
        from qdrant_client import models

        cfg = self._db_config
        vectors = {
            name: models.VectorParams(size=dims[name], distance=DISTANCES[col.space])
            for name, col in self._schema.vector_columns.items()
        }
        settings = {k: getattr(cfg, k) for k in _COLLECTION_SETTINGS if getattr(cfg, k) is not None}
        client = self.client
        self._call(
            "create the collection",
            client.create_collection,
            collection_name=self._collection,
            vectors_config=vectors,
            metadata={f"docstack.{k}": v for k, v in (self._meta_values or {}).items()} or None,
            **settings,
        )
        self._created = True
        self._ensure_text_indexes({})
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

    def _text_fields(self) -> list[str]:
        return [n for n in self._schema.text_columns if n != "id" and not n.endswith("__id")]

    def _ensure_text_indexes(self, existing: dict[str, Any]) -> None:
        """With ``text_scoring='qdrant'``, a text index with BM25 scoring on each str field."""
        if self._db_config.text_scoring != "qdrant":
            return
        from qdrant_client import models

        params = models.TextIndexParams(type="text", scoring=True)
        for name in self._text_fields():
            if name not in existing:
                self._call(
                    "create a text index",
                    self.client.create_payload_index,
                    collection_name=self._collection,
                    field_name=name,
                    field_schema=params,
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
        for start in range(0, len(ids), PAGE):
            out.extend(
                self._call(
                    "read points",
                    self.client.retrieve,
                    collection_name=self._collection,
                    ids=list(ids[start : start + PAGE]),
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
            page = PAGE if limit is None else min(PAGE, limit - len(out))
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


# doctest compiles examples with the __future__ flags of the module namespace
del annotations

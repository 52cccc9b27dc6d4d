"""``MilvusDocumentIndex``: documents in Milvus (a server, or Milvus Lite in process).

One collection per index (see :mod:`docstack.index.backends._milvus_schema` for the layout),
reached through pymilvus' ``MilvusClient``. What runs where:

========================  =================================================================
vector search             Milvus (several vector fields per collection; HNSW by default)
filters                   Milvus boolean expressions; ``$regex``, ``$size`` and values no
                          literal can spell (NUL characters) run in docstack on the rows
                          Milvus returns for the rest of the filter
text search               Milvus' BM25 function (scores are Milvus' BM25, higher is better)
hybrid, RRF               Milvus ``hybrid_search`` with ``RRFRanker`` (vector and BM25 parts,
                          equal weights, at most one text part, no filter beside a text
                          part); docstack takes each part's ranks from the answer and gives
                          the planner's ids, order and scores (see ``_milvus_hybrid``). Other
                          RRF queries, ties at a part's depth, and servers older than 2.4 run
                          in the planner
hybrid, weighted          docstack's planner: Milvus' ``WeightedRanker`` normalises scores
                          with arctan, docstack min-max
old servers               the server version is read on connect: a feature it lacks (BM25
                          and nullable fields before 2.5, several vector fields before 2.4)
                          is a ``MilvusFeatureError`` naming it, the version and what to do
sub-indexes               linked collections (``<index_name>__<field>``)
lists                     ``list[int|float|str|bool]`` as typed ``ARRAY`` fields, filtered
                          in Milvus (``array_contains_any``, ``array_length``); other
                          conditions on their elements run in docstack
configure()               a change of a vector field's index settings rebuilds its Milvus
                          index (``_milvus_admin``); ``ef``/``nprobe`` apply at once
========================  =================================================================
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from docstack._internal.optional import import_optional
from docstack.errors import DocstackError
from docstack.index._base import BaseDBConfig, DocumentIndex
from docstack.index._schema import RowBatch
from docstack.index.backends._milvus_admin import MilvusAdmin
from docstack.index.backends._milvus_arrays import MilvusLimitError
from docstack.index.backends._milvus_features import MilvusFeatures, server_features
from docstack.index.backends._milvus_filter import (
    FALSE,
    TRUE,
)
from docstack.index.backends._milvus_filtering import MilvusFiltering
from docstack.index.backends._milvus_hybrid import MilvusHybrid
from docstack.index.backends._milvus_raw import MilvusQueryError, MilvusRawQueries
from docstack.index.backends._milvus_schema import (
    PARENT,
    PK,
    POS,
    SEQ,
    CollectionLayout,
)
from docstack.index.backends._milvus_search import MilvusSearch
from docstack.io._bytes import progress_bar

__all__ = [
    "MilvusDocumentIndex",
    "MilvusError",
    "MilvusFeatureError",
    "MilvusLimitError",
    "MilvusQueryError",
    "MilvusSchemaError",
]

_QUERY_PAGE = 16384
_IN_CHUNK = 4096


class MilvusError(DocstackError, RuntimeError):
    """Milvus failed (server down, timeout, collection gone); the message says what to do."""


class MilvusSchemaError(MilvusError, ValueError):
    """An existing collection does not fit the schema (another dimension, other fields)."""


class MilvusFeatureError(MilvusError, NotImplementedError):
    """The connected Milvus lacks a feature docstack needs; the message names the feature,
    the server's version and what to do (BM25 text search, several vector fields and
    nullable fields need Milvus 2.5 or Milvus Lite)."""


@dataclass
class MilvusDBConfig(BaseDBConfig):
    """Settings of :class:`MilvusDocumentIndex`.

    - ``uri``: ``'http://host:port'`` for a server, or a local file path ending in ``.db``
      for Milvus Lite in this process; when absent, ``host`` and ``port`` make the URI.
    - ``user``, ``password``, ``token``, ``db_name``: credentials and database.
    - ``index_name``: the collection (default: ``docstack_<DocumentClass>``).
    - ``consistency_level``: ``'Strong'`` (default: a search right after ``index()`` sees
      the write), ``'Bounded'`` (searches may miss writes of the last few seconds, and wait
      less), ``'Session'`` (this client sees its own writes), ``'Eventually'`` (fastest, no
      guarantee).
    - ``batch_size``: rows per insert request of ``index()``.
    - ``timeout``: seconds per request (``None``: pymilvus' default).
    """

    host: str = "localhost"
    port: int = 19530
    user: str = ""
    password: str = ""
    token: str = ""
    uri: str | None = None
    db_name: str = ""
    consistency_level: str = "Strong"
    batch_size: int = 1000
    timeout: float | None = None


class MilvusDocumentIndex(
    MilvusAdmin, MilvusFiltering, MilvusRawQueries, MilvusHybrid, MilvusSearch, DocumentIndex
):
    """A Document Index in Milvus: the same API and answers as the embedded index.

    Vector fields take ``Field(space=..., index_type='HNSW'|'FLAT'|'IVF_FLAT'|...,
    M=16, ef_construction=200, nlist=128, ef=64, nprobe=16)``; ``str`` fields are
    text-searchable through Milvus' BM25 (``Field(full_text_search=False)`` opts out; id
    fields are not searchable). ``list[int|float|str|bool]`` fields are Milvus arrays that
    filters can name (``{'tags': 'a'}``: an element equals ``'a'``; ``{'tags': {'$size': 2}}``),
    limited by ``Field(json_schema_extra={'max_capacity': 4096, 'max_length': 65535})``.

    Example
    -------
    >>> import tempfile, os
    >>> from docstack import BaseDoc, DocList
    >>> from docstack.typing import NdArray
    >>> class Doc(BaseDoc):
    ...     title: str
    ...     emb: NdArray[3]
    >>> path = os.path.join(tempfile.mkdtemp(), 'milvus.db')
    >>> index = MilvusDocumentIndex[Doc](uri=path, index_name='docs')
    >>> index.index(DocList[Doc]([Doc(title=f't{i}', emb=[i, 1, 0]) for i in range(4)]))
    >>> docs, scores = index.find([3, 1, 0], search_field='emb', limit=2)
    >>> docs.title
    ['t3', 't2']
    >>> index.filter({'title': {'$in': ['t1', 't2']}}).title
    ['t1', 't2']
    """

    DBConfig = MilvusDBConfig

    # ------------------------------------------------------------------ opening

    def _b_open(self) -> None:
        import_optional("pymilvus")
        config = self._db_config
        if not isinstance(config.batch_size, int) or config.batch_size <= 0:
            raise ValueError(f"batch_size must be a positive int, got {config.batch_size!r}")
        self._uri = _resolve_uri(config)
        self._client = _connect(self._uri, config)
        self._collection = _collection_name(
            config.index_name or f"docstack_{self._doc_type.__name__}"
        )
        self._layout: CollectionLayout | None = None
        self._exists = False
        self._row_cache: dict[int, dict[str, Any]] = {}
        self._raw_params: dict[str, Any] | None = None
        self._unflushed = 0
        self._features: MilvusFeatures | None = None
        self._attach()

    def _b_subindex(self, name: str, doc_type: type) -> DocumentIndex:
        from dataclasses import replace

        config = replace(self._db_config, index_name=f"{self._collection}__{name}")
        child = MilvusDocumentIndex[doc_type](db_config=config)
        child._is_child = True
        return child

    @property
    def collection_name(self) -> str:
        """The Milvus collection holding this index's documents."""
        return self._collection

    def _get_layout(self) -> CollectionLayout:
        if self._layout is None:
            is_child = getattr(self, "_is_child", False) or self._parent is not None
            features = self._server_features()
            self._layout = CollectionLayout(
                self._schema,
                is_child,
                features.has("bm25"),
                features.has("nullable"),
                features.has("array"),
            )
        return self._layout

    def _server_features(self) -> MilvusFeatures:
        """What the connected Milvus can do (its version, read once)."""
        if self._features is None:
            self._features = server_features(self._client)
        return self._features

    def _require(self, feature: str, advice: str) -> None:
        features = self._server_features()
        if not features.has(feature):
            raise MilvusFeatureError(features.missing(feature, self._uri, advice))

    def _attach(self) -> None:
        """Check an existing collection against the schema and load it."""
        if not self._call("has_collection", self._client.has_collection, self._collection):
            self._exists = False
            return
        desc = self._call("describe_collection", self._client.describe_collection, self._collection)
        fields = {f["name"]: f for f in desc.get("fields", [])}
        self._is_child = PARENT in fields
        layout = self._get_layout()
        for name in self._schema.vector_columns:
            spec = fields.get(layout.fields[name])
            if spec is None:
                continue
            dim = int(spec.get("params", {}).get("dim", 0))
            known = self._dims.get(name)
            if known is not None and known != dim:
                raise MilvusSchemaError(
                    f"collection {self._collection!r} stores field {name!r} with dimension "
                    f"{dim}, but {self._doc_type.__name__} declares {known}: open it with the "
                    "schema it was written with, or use another index_name"
                )
            self._dims[name] = dim
        self._adopt_list_fields(layout, fields)
        expected = layout.expected_fields()
        missing = sorted(expected - set(fields))
        extra = sorted(set(fields) - expected)
        if missing or extra:
            raise MilvusSchemaError(
                f"collection {self._collection!r} does not match {self._doc_type.__name__}: "
                f"fields missing {missing or 'none'}, unknown fields {extra or 'none'}; open it "
                "with the schema it was written with, or use another index_name"
            )
        self._call("load_collection", self._client.load_collection, self._collection)
        self._exists = True

    def _create(self, dims: dict[str, int]) -> None:
        layout = self._get_layout()
        unknown = [n for n in self._schema.vector_columns if not dims.get(n)]
        if unknown:
            raise ValueError(
                f"Milvus needs the dimension of vector field(s) {unknown} before the first "
                "write: give the type a shape (NdArray[128]) or Field(dim=...)"
            )
        if len(self._schema.vector_columns) > 1:
            self._require(
                "multi_vector",
                f"{self._doc_type.__name__} has vector fields "
                f"{sorted(self._schema.vector_columns)}: keep one vector field per index on "
                "this server, or use Milvus 2.4+ or Milvus Lite",
            )
        if layout.text_fields:
            self._require(
                "bm25",
                f"Fields {sorted(layout.text_fields)} ask for text search: mark them "
                "Field(full_text_search=False), or use Milvus 2.5+ or Milvus Lite",
            )
        schema, index_params = layout.build(self._client, dims)
        try:
            self._call(
                "create_collection",
                self._client.create_collection,
                self._collection,
                schema=schema,
                consistency_level=self._db_config.consistency_level,
            )
        except MilvusError as e:
            if layout.text_fields and "bm25" in str(e).lower():
                raise MilvusFeatureError(
                    f"the Milvus at {self._uri} cannot create BM25 text search (Milvus 2.5+ "
                    f"has it): {e}. Mark str fields Field(full_text_search=False)"
                ) from e
            raise
        if len(index_params):
            self._call(
                "create_index",
                self._client.create_index,
                self._collection,
                index_params,
                sync=False,
            )
        self._call("load_collection", self._client.load_collection, self._collection)
        self._exists = True
        for key, value in (getattr(self, "_meta_values", None) or {}).items():
            self._b_meta_set(key, value)

    def _b_meta_get(self, key: str) -> str | None:
        if not self._exists:
            return super()._b_meta_get(key)
        desc = self._call("describe_collection", self._client.describe_collection, self._collection)
        return (desc.get("properties") or {}).get(f"docstack.{key}")

    def _b_meta_set(self, key: str, value: str) -> None:
        if not self._exists:  # kept until the collection is created (its first write)
            super()._b_meta_set(key, value)
            return
        self._call(
            "alter_collection_properties",
            self._client.alter_collection_properties,
            self._collection,
            properties={f"docstack.{key}": value},
        )

    def close(self) -> None:
        """Flush pending writes (the connection stays shared with other indexes)."""
        self._flush(force=True)

    # ------------------------------------------------------------------ engine calls

    def _call(self, what: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
        if self._db_config.timeout is not None and what not in ("create_index",):
            kwargs.setdefault("timeout", self._db_config.timeout)
        try:
            return fn(*args, **kwargs)
        except DocstackError:
            raise
        except Exception as e:
            raise _translate(e, what, self._collection, self._uri) from e

    def _query(
        self, expr: str, fields: list[str], limit: int | None = None
    ) -> list[dict[str, Any]]:
        if not self._exists or expr == FALSE:
            return []
        expr = "" if expr == TRUE else expr
        consistency = self._db_config.consistency_level
        if limit is not None:
            return list(
                self._call(
                    "query",
                    self._client.query,
                    self._collection,
                    filter=expr or f"{SEQ} >= 0",
                    output_fields=fields,
                    limit=limit,
                    consistency_level=consistency,
                )
            )
        first = self._query(expr or TRUE, fields, _QUERY_PAGE)
        if len(first) < _QUERY_PAGE:
            return first
        out: list[dict[str, Any]] = []
        iterator = self._call(
            "query",
            self._client.query_iterator,
            self._collection,
            batch_size=_QUERY_PAGE,
            filter=expr,
            output_fields=fields,
            consistency_level=consistency,
        )
        try:
            while True:
                page = self._call("query", iterator.next)
                if not page:
                    break
                out.extend(page)
        finally:
            iterator.close()
        return out

    def _by_values(
        self, field: str, values: Sequence[Any], fields: list[str]
    ) -> list[dict[str, Any]]:
        from docstack.index.backends._milvus_filter import quote_string

        out: list[dict[str, Any]] = []
        unique = list(dict.fromkeys(values))
        for i in range(0, len(unique), _IN_CHUNK):
            part = unique[i : i + _IN_CHUNK]
            literals = ", ".join(
                quote_string(v) if isinstance(v, str) else str(int(v)) for v in part
            )
            out.extend(self._query(f"{field} in [{literals}]", fields))
        return out

    def _flush(self, force: bool = False) -> None:
        if self._exists and (
            self._unflushed >= self._db_config.batch_size or (force and self._unflushed)
        ):
            self._call("flush", self._client.flush, self._collection)
            self._unflushed = 0
        for child in self._subindices.values():
            child._flush(force)  # type: ignore[attr-defined]

    # ------------------------------------------------------------------ writes

    def _next_seqs(self, n: int) -> int:
        with _SEQ_LOCK:
            global _LAST_SEQ
            start = max(time.time_ns(), _LAST_SEQ + 1)
            _LAST_SEQ = start + n - 1
            return start

    def _b_upsert(self, batch: RowBatch) -> None:
        if not len(batch):
            return
        self._row_cache.clear()
        if not self._exists:
            dims = dict(self._dims)
            for name in self._schema.vector_columns:
                values = batch.values.get(name)
                if name not in dims and values is not None and values.shape[1]:
                    dims[name] = int(values.shape[1])
            self._create(dims)
        if not self._server_features().has("nullable"):
            self._check_no_nulls(batch)
        rows = self._get_layout().encode(batch, self._next_seqs(len(batch)))
        size = self._db_config.batch_size
        done = 0
        label = f"Writing to Milvus collection {self._collection}"
        with progress_bar(self._write_progress, len(rows), label) as step:
            for start in range(0, len(rows), size):
                try:
                    self._call(
                        "upsert", self._client.upsert, self._collection, rows[start : start + size]
                    )
                except MilvusError as e:
                    raise type(e)(
                        f"{e} -- documents {batch.ids[start : start + size][:5]}"
                        f"{' ...' if len(batch.ids) - start > 5 else ''} and the "
                        f"{max(0, len(rows) - start - size)} after them were not written"
                        + (f" ({done} written before)" if done else "")
                    ) from e
                done += len(rows[start : start + size])
                self._unflushed += len(rows[start : start + size])
                step(len(rows[start : start + size]))

    def _check_no_nulls(self, batch: RowBatch) -> None:
        """On a Milvus without nullable fields, refuse a None value before anything is
        written (the server would refuse the whole request with a row count error)."""
        for name, col in self._schema.columns.items():
            if col.kind == "vector" or name == "id":
                continue
            values = batch.values.get(name)
            if values is None:
                continue
            gaps = [i for i, v in enumerate(values) if v is None]
            if gaps:
                self._require(
                    "nullable",
                    f"Field {name!r} of document {batch.ids[gaps[0]]!r} is None: give every "
                    "document a value for it, or use Milvus 2.5+ or Milvus Lite",
                )

    def _after_write(self, show_progress: bool) -> None:
        self._flush()

    def _b_delete(self, ids: Sequence[str]) -> list[str]:
        self._row_cache.clear()
        found = {e[PK] for e in self._by_values(PK, list(ids), [PK])}
        ordered = [i for i in dict.fromkeys(ids) if i in found]
        if ordered:
            self._call("delete", self._client.delete, self._collection, ids=ordered)
        return ordered

    def _b_delete_children(self, parent_ids: Sequence[str]) -> list[str]:
        if not self._exists or not parent_ids:
            return []
        self._row_cache.clear()
        rows = self._by_values(PARENT, list(parent_ids), [PK, SEQ])
        rows.sort(key=lambda e: e[SEQ])
        ids = [e[PK] for e in rows]
        if ids:
            self._call("delete", self._client.delete, self._collection, ids=ids)
        return ids

    def _b_update(self, doc_id: str, values: dict[str, Any]) -> bool:
        rows = self._by_values(PK, [doc_id], ["*"])
        if not rows:
            return False
        self._row_cache.clear()
        layout = self._get_layout()
        row = {k: v for k, v in rows[0].items() if k not in set(layout.text_fields.values())}
        for name, value in values.items():
            row[layout.fields[name]] = layout.encode_value(name, value, doc_id)
        self._call("upsert", self._client.upsert, self._collection, [row])
        return True

    # ------------------------------------------------------------------ reads

    def _b_get(self, ids: Sequence[str]) -> tuple[list[str], dict[str, list[Any]]]:
        layout = self._get_layout()
        found = {e[PK]: e for e in self._by_values(PK, list(ids), layout.output_fields())}
        return layout.decode([found[i] for i in ids if i in found])

    def _b_rows(self, keys: np.ndarray) -> tuple[list[str], dict[str, list[Any]]]:
        layout = self._get_layout()
        wanted = [int(k) for k in keys]
        missing = [k for k in wanted if k not in self._row_cache]
        if missing:
            for e in self._by_values(SEQ, missing, layout.output_fields()):
                self._row_cache[int(e[SEQ])] = e
        return layout.decode([self._row_cache[k] for k in wanted])

    def _b_children(
        self, parent_ids: Sequence[str]
    ) -> tuple[list[str], list[str], dict[str, list[Any]]]:
        layout = self._get_layout()
        if not self._exists or not parent_ids:
            ids, values = layout.decode([])
            return ids, [], values
        order = {p: i for i, p in enumerate(dict.fromkeys(parent_ids))}
        rows = self._by_values(PARENT, list(order), layout.output_fields())
        rows.sort(key=lambda e: (order[e[PARENT]], e[POS]))
        ids, values = layout.decode(rows)
        return ids, [e[PARENT] for e in rows], values

    def _b_parents(self, ids: Sequence[str]) -> dict[str, str]:
        return {e[PK]: e[PARENT] for e in self._by_values(PK, list(ids), [PK, PARENT])}

    def _b_count(self) -> int:
        if not self._exists:
            return 0
        res = self._call(
            "count",
            self._client.query,
            self._collection,
            filter="",
            output_fields=["count(*)"],
            consistency_level=self._db_config.consistency_level,
        )
        return int(res[0]["count(*)"])

    def _b_contains(self, doc_id: str) -> bool:
        return bool(self._by_values(PK, [doc_id], [PK]))


_SEQ_LOCK = threading.Lock()
_LAST_SEQ = 0


def _collection_name(name: str) -> str:
    import re

    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]{0,254}", name):
        raise ValueError(
            f"index_name {name!r} is not a Milvus collection name: use letters, digits and "
            "'_' (not starting with a digit), at most 255 characters"
        )
    return name


def _resolve_uri(config: MilvusDBConfig) -> str:
    uri = config.uri
    if uri is None:
        return f"http://{config.host}:{int(config.port)}"
    uri = str(uri)
    if "://" in uri:
        if not uri.startswith(("http://", "https://", "tcp://", "grpc://", "unix://")):
            raise ValueError(f"unsupported Milvus uri {uri!r}: use http://host:port or a .db path")
        return uri
    if not uri.endswith(".db"):
        raise ValueError(
            f"a local Milvus Lite uri is a file path ending in '.db', got {uri!r} "
            "(for a server give http://host:port)"
        )
    Path(uri).expanduser().resolve().parent.mkdir(parents=True, exist_ok=True)
    return str(Path(uri).expanduser().resolve())


def _connect(uri: str, config: MilvusDBConfig) -> Any:
    from pymilvus import MilvusClient

    try:
        return MilvusClient(
            uri=uri,
            user=config.user,
            password=config.password,
            token=config.token,
            db_name=config.db_name,
            timeout=config.timeout if config.timeout is not None else 10.0,
        )
    except Exception as e:
        raise MilvusError(
            f"cannot connect to Milvus at {uri}: {e}. Is the server running (for Milvus "
            "Lite, is milvus-lite installed)?"
        ) from e


def _translate(e: Exception, what: str, collection: str, uri: str) -> MilvusError:
    message = str(getattr(e, "message", "") or e)
    low = message.lower()
    if "not exist" in low or "not found" in low or "can't find collection" in low:
        if "collection" in low:
            return MilvusError(
                f"{what} on collection {collection!r} failed: it no longer exists in Milvus "
                f"({message}); was it dropped behind this index? Open the index again to "
                "recreate it"
            )
    if "dim" in low and ("mismatch" in low or "dimension" in low):
        return MilvusSchemaError(f"{what} on collection {collection!r}: {message}")
    if any(s in low for s in ("unavailable", "connect", "deadline", "timeout", "timed out")):
        return MilvusError(
            f"{what} on collection {collection!r} failed: Milvus at {uri} did not answer "
            f"({message}); check that the server is running and reachable"
        )
    return MilvusError(f"{what} on collection {collection!r} failed: {message}")


# doctest compiles examples with the __future__ flags of the module namespace
del annotations

"""``MilvusDocumentIndex``: documents in Milvus (a server, or Milvus Lite in process).

One collection per index (see :mod:`docstack.index.backends._milvus_schema` for the layout),
reached through pymilvus' ``MilvusClient``. What runs where:

========================  =================================================================
vector search             Milvus (several vector fields per collection; HNSW by default)
filters                   Milvus boolean expressions; ``$regex``, ``$size`` and values no
                          literal can spell (NUL characters) run in docstack on the rows
                          Milvus returns for the rest of the filter
text search               Milvus' BM25 function (scores are Milvus' BM25, higher is better)
hybrid queries            docstack fuses Milvus' vector and BM25 results (RRF or weighted)
sub-indexes               linked collections (``<index_name>__<field>``)
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

from docstack._internal.metrics import higher_is_better
from docstack._internal.optional import import_optional
from docstack._internal.query import FilterNode, evaluate, field_paths
from docstack.errors import DocstackError
from docstack.index._base import BaseDBConfig, DocumentIndex
from docstack.index._bm25 import tokenize
from docstack.index._query import Query
from docstack.index._results import FindResult
from docstack.index._schema import Column, RowBatch
from docstack.index.backends._milvus_filter import (
    FALSE,
    TRUE,
    MilvusField,
    RawExpression,
    split_filter,
)
from docstack.index.backends._milvus_schema import (
    PARENT,
    PK,
    POS,
    SEQ,
    CollectionLayout,
    search_params,
)

__all__ = [
    "MilvusDocumentIndex",
    "MilvusError",
    "MilvusFeatureError",
    "MilvusQueryError",
    "MilvusSchemaError",
]

_QUERY_PAGE = 16384
_IN_CHUNK = 4096


class MilvusError(DocstackError, RuntimeError):
    """Milvus failed (server down, timeout, collection gone); the message says what to do."""


class MilvusSchemaError(MilvusError, ValueError):
    """An existing collection does not fit the schema (another dimension, other fields)."""


class MilvusQueryError(DocstackError, TypeError, ValueError):
    """A raw Milvus request given to ``execute_query`` that docstack cannot run as given
    (a ``TypeError`` and a ``ValueError``, as the other backends raise for a bad query)."""


class MilvusFeatureError(MilvusError, NotImplementedError):
    """The connected Milvus lacks a feature docstack needs (BM25 text search)."""


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


class MilvusDocumentIndex(DocumentIndex):
    """A Document Index in Milvus: the same API and answers as the embedded index.

    Vector fields take ``Field(space=..., index_type='HNSW'|'FLAT'|'IVF_FLAT'|...,
    M=16, ef_construction=200, nlist=128, ef=64, nprobe=16)``; ``str`` fields are
    text-searchable through Milvus' BM25 (``Field(full_text_search=False)`` opts out; id
    fields are not searchable).

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
            self._layout = CollectionLayout(self._schema, is_child)
        return self._layout

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
        rows = self._get_layout().encode(batch, self._next_seqs(len(batch)))
        size = self._db_config.batch_size
        done = 0
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
            row[layout.fields[name]] = layout.encode_value(name, value)
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

    # ------------------------------------------------------------------ filters

    def _parse_filter(self, filter_query: Any) -> FilterNode | None:
        if isinstance(filter_query, str):
            if not filter_query.strip():
                return None
            return RawExpression(filter_query)  # type: ignore[return-value]
        return super()._parse_filter(filter_query)

    def _filter_fields(self) -> dict[tuple[str, ...], MilvusField]:
        layout = self._get_layout()
        return {
            col.path: MilvusField(layout.fields[name], col.kind)
            for name, col in self._schema.filter_columns.items()
        }

    def _expression(self, node: FilterNode | None) -> str:
        """A Milvus expression selecting exactly the rows matching ``node``."""
        if node is None:
            return TRUE
        expr, residual = split_filter(node, self._filter_fields())
        if residual is None or expr == FALSE:
            return expr
        # docstack evaluates the rest on the rows Milvus selects for the part it can
        layout = self._get_layout()
        paths = sorted(field_paths(residual))
        names = {p: "__".join(p) for p in paths}
        fields = [SEQ] + [layout.fields[n] for n in names.values()]
        rows = self._query(expr, list(dict.fromkeys(fields)))
        if not rows:
            return FALSE

        def column(path: tuple[str, ...]) -> list[Any]:
            fname = layout.fields[names[path]]
            return [e.get(fname) for e in rows]

        mask = evaluate(residual, column, len(rows))
        seqs = [int(e[SEQ]) for e, keep in zip(rows, mask) if keep]
        if not seqs:
            return FALSE
        return f"{SEQ} in [{', '.join(map(str, seqs))}]"

    def _b_filter(self, node: FilterNode | None, limit: int | None) -> np.ndarray:
        expr = self._expression(node)
        rows = self._query(expr, [SEQ])
        keys = np.sort(np.fromiter((e[SEQ] for e in rows), dtype=np.int64, count=len(rows)))
        return keys if limit is None else keys[:limit]

    # ------------------------------------------------------------------ raw queries

    def execute_query(self, query: Any, **kwargs: Any) -> FindResult:
        """Run a query from :meth:`build_query`, or a raw Milvus request as DocArray took.

        Raw requests, run on this index's collection through the same result path as
        :meth:`find` (whole documents; scores in docstack's meaning for the field's space;
        equal scores in insertion order):

        - the keyword arguments of ``MilvusClient.search`` as a dict: ``data`` (one query
          vector, or a list holding one), ``anns_field`` (the docstack field name or its
          Milvus field), ``filter`` (a Milvus expression, or a portable filter), ``limit``
          (default 10), ``offset``, ``search_params`` (its ``params``, e.g. ``ef`` or
          ``nprobe``, go to Milvus; ``metric_type`` must be the field's), ``output_fields``
          and ``collection_name`` (accepted; documents always come back whole);
        - the keyword arguments of ``MilvusClient.query`` (a dict without ``data``):
          ``filter``, ``limit``, ``offset``; the matching documents with scores of 1;
        - DocArray's query, a list of ``(component, kwargs)`` pairs such as
          ``[('find', {'query': vec, 'search_field': 'emb', 'limit': 5}),
          ('filter', {'filter_query': 'price < 10'})]`` (components ``find``,
          ``text_search`` and ``filter``, run as :meth:`build_query` would).

        A request docstack cannot run as given raises :class:`MilvusQueryError` naming
        the problem.
        """
        if isinstance(query, Query):
            return super().execute_query(query, **kwargs)
        if kwargs:
            raise TypeError(f"execute_query() takes no settings; got {sorted(kwargs)}")
        if isinstance(query, dict):
            return self._raw_request(query)
        if isinstance(query, (list, tuple)):
            return self._raw_components(query)
        raise MilvusQueryError(
            "execute_query() takes a query from build_query().build(), a dict of "
            "MilvusClient.search/query keyword arguments, or a list of (component, kwargs) "
            f"pairs; got {type(query).__name__}"
        )

    def _raw_components(self, query: Sequence[Any]) -> FindResult:
        builder = self.build_query()
        methods = {"find": builder.find, "text_search": builder.text_search}
        methods["filter"] = builder.filter
        if not query:
            raise MilvusQueryError("the raw query is empty: give at least one component")
        for i, part in enumerate(query):
            if not (isinstance(part, (list, tuple)) and len(part) == 2):
                raise MilvusQueryError(
                    f"component {i} of the raw query is {part!r}: each is a "
                    "(name, kwargs) pair such as ('find', {'query': vec, 'limit': 5})"
                )
            name, params = part
            if name not in methods:
                raise MilvusQueryError(
                    f"unknown component {name!r} in the raw query: use one of {sorted(methods)}"
                )
            if not isinstance(params, dict):
                raise MilvusQueryError(
                    f"the arguments of component {name!r} are a dict, got {type(params).__name__}"
                )
            try:
                methods[name](**params)
            except MilvusQueryError:
                raise
            except (TypeError, ValueError) as e:
                raise MilvusQueryError(f"component {name!r} of the raw query: {e}") from e
        return super().execute_query(builder.build())

    _SEARCH_KEYS = frozenset(
        {
            "collection_name",
            "data",
            "anns_field",
            "filter",
            "limit",
            "offset",
            "search_params",
            "output_fields",
        }
    )
    _QUERY_KEYS = frozenset({"collection_name", "filter", "limit", "offset", "output_fields"})

    def _raw_request(self, request: dict[str, Any]) -> FindResult:
        is_search = "data" in request
        allowed = self._SEARCH_KEYS if is_search else self._QUERY_KEYS
        unknown = sorted(str(k) for k in request if k not in allowed)
        if unknown:
            raise MilvusQueryError(
                f"unsupported key(s) {unknown} in the raw Milvus "
                f"{'search' if is_search else 'query'} request: docstack runs "
                f"{sorted(allowed)}"
                + ("" if is_search else " (a search needs 'data', the query vector)")
            )
        collection = request.get("collection_name")
        if collection is not None and collection != self._collection:
            raise MilvusQueryError(
                f"the raw request names collection {collection!r}, but this index is "
                f"collection {self._collection!r}"
            )
        limit = request.get("limit", 10)
        offset = request.get("offset", 0)
        for what, value in (("limit", limit), ("offset", offset)):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
                raise MilvusQueryError(
                    f"{what} of the raw request must be an int >= 0, got {value!r}"
                )
        filter_query = request.get("filter")
        try:
            node = None if filter_query is None else self._parse_filter(filter_query)
        except (TypeError, ValueError) as e:
            raise MilvusQueryError(f"the filter of the raw request is not valid: {e}") from e
        if not is_search:
            docs = self.filter(
                {} if node is None else filter_query, limit=int(limit), offset=int(offset)
            )
            return FindResult(docs, np.ones(len(docs), dtype=np.float64))
        column = self._raw_column(request.get("anns_field"))
        vector = self._raw_vector(request["data"], column)
        params = self._raw_search_params(request.get("search_params"), column)
        self._raw_params = params
        try:
            return self._find(column, vector, int(limit), None, int(offset), node)[0]
        finally:
            self._raw_params = None

    def _raw_column(self, anns_field: Any) -> Column:
        if anns_field is not None and not isinstance(anns_field, str):
            raise MilvusQueryError(f"anns_field must be a field name, got {anns_field!r}")
        layout = self._get_layout()
        by_milvus = {layout.fields[n]: n for n in self._schema.vector_columns}
        name = by_milvus.get(anns_field or "", anns_field or "")
        try:
            return self._schema.vector_column(name)
        except ValueError as e:
            raise MilvusQueryError(f"anns_field of the raw request: {e}") from e

    def _raw_vector(self, data: Any, column: Column) -> np.ndarray:
        try:
            array = np.asarray(data, dtype=np.float64)
        except (TypeError, ValueError) as e:
            raise MilvusQueryError(
                f"data of the raw request must be a query vector (or a list of one): {e}"
            ) from e
        if array.ndim == 2 and len(array) != 1:
            raise MilvusQueryError(
                f"data of the raw request holds {len(array)} query vectors; execute_query "
                "runs one (use find_batched for several)"
            )
        array = array.reshape(1, -1) if array.ndim == 1 else array
        dim = self._dims.get(column.name)
        if array.ndim != 2 or (dim is not None and array.shape[1] != dim):
            raise MilvusQueryError(
                f"data of the raw request has shape {np.shape(data)}, but field "
                f"{column.name!r} holds vectors of dimension {dim}"
            )
        if not np.all(np.isfinite(array)):
            raise MilvusQueryError("data of the raw request holds NaN or infinite values")
        return self._query_vectors(array, column, single=False)

    def _raw_search_params(self, params: Any, column: Column) -> dict[str, Any] | None:
        if params is None:
            return None
        if not isinstance(params, dict):
            raise MilvusQueryError(f"search_params must be a dict, got {type(params).__name__}")
        unknown = sorted(str(k) for k in params if k not in ("metric_type", "params"))
        if unknown:
            raise MilvusQueryError(
                f"unsupported key(s) {unknown} in search_params: docstack passes "
                "'metric_type' and 'params'"
            )
        metric = search_params(column, 1)["metric_type"]
        given = params.get("metric_type")
        if given is not None and str(given).upper() != metric:
            raise MilvusQueryError(
                f"search_params asks for metric_type {given!r}, but field {column.name!r} is "
                f"indexed with {metric!r} (its space is {column.space!r})"
            )
        inner = params.get("params", {})
        if not isinstance(inner, dict):
            raise MilvusQueryError(f"search_params['params'] must be a dict, got {inner!r}")
        return dict(inner)

    # ------------------------------------------------------------------ search

    def _b_vector_search(
        self, column: Column, queries: np.ndarray, k: int, node: FilterNode | None
    ) -> list[tuple[np.ndarray, np.ndarray]]:
        empty = [(np.zeros(0, np.int64), np.zeros(0)) for _ in range(len(queries))]
        if not self._exists:
            return empty
        expr = self._expression(node)
        if expr == FALSE:
            return empty
        layout = self._get_layout()
        parts = [] if expr == TRUE else [expr]
        if column.optional:
            parts.append(f"{layout.has_field(column.name)} == true")

        def search(batch: list[Any], depth: int) -> list[Any]:
            params = search_params(column, depth)
            if self._raw_params:
                params["params"] = {**params["params"], **self._raw_params}
                if "ef" in params["params"]:
                    params["params"]["ef"] = max(int(params["params"]["ef"]), depth)
            return self._call(
                "search",
                self._client.search,
                self._collection,
                data=batch,
                anns_field=layout.fields[column.name],
                filter=" and ".join(parts),
                limit=min(depth, 16384),
                output_fields=layout.output_fields(),
                search_params=params,
                consistency_level=self._db_config.consistency_level,
            )

        # one result more than asked shows whether the k-th score is tied with the next; only
        # such queries are searched again deeper, so that equal scores come in insertion
        # order as on every backend (a deeper search for every query costs Milvus Lite about
        # 2.5x: its cost grows with the limit)
        hits = list(search(queries.tolist(), k + 1))
        tied = [i for i, per_query in enumerate(hits) if _tied_at(_distances(per_query), k)]
        if tied:
            deeper = search([queries[i].tolist() for i in tied], k + max(16, k // 2))
            for i, per_query in zip(tied, deeper):
                hits[i] = per_query
        self._row_cache.clear()
        return self._rescore(column, queries, hits, k)

    def _rescore(
        self, column: Column, queries: np.ndarray, hits: list[Any], k: int
    ) -> list[tuple[np.ndarray, np.ndarray]]:
        """The engine's candidates of every query, scored again exactly as the other backends
        score (the documented meaning, equal scores in insertion order), in one numpy pass."""
        fname = self._get_layout().fields[column.name]
        decoded: dict[int, np.ndarray] = {}
        groups = [_candidates(per_query, fname, decoded) for per_query in hits]
        counts = np.fromiter((len(e) for e, _ in groups), np.int64, len(groups))
        width = int(counts.max()) if len(counts) else 0
        if width == 0:
            return [(np.zeros(0, np.int64), np.zeros(0)) for _ in range(len(queries))]
        dim = queries.shape[1]
        matrix = np.zeros((len(groups), width, dim), np.float32)
        seqs = np.full((len(groups), width), np.iinfo(np.int64).max, np.int64)
        for i, (entities, vectors) in enumerate(groups):
            n = len(entities)
            if n:
                matrix[i, :n] = vectors
                seqs[i, :n] = [e[SEQ] for e in entities]
        # candidates in insertion order, so that a stable sort by score keeps it among ties
        by_seq = np.argsort(seqs, axis=1, kind="stable")
        seqs = np.take_along_axis(seqs, by_seq, axis=1)
        matrix = np.take_along_axis(matrix, by_seq[:, :, None], axis=1)
        valid = np.arange(width)[None, :] < counts[:, None]
        scores = _scores(matrix, np.asarray(queries, np.float32), column.space)
        higher = higher_is_better(column.space)
        worst = -np.inf if higher else np.inf
        key = np.where(valid & ~np.isnan(scores), scores, worst)
        order = np.argsort(-key if higher else key, axis=1, kind="stable")
        out = []
        for i, (entities, vectors) in enumerate(groups):
            n = min(k, int(counts[i]))
            picked = order[i, :n]
            keys = seqs[i, picked]
            out.append((keys, scores[i, picked]))
            rows = by_seq[i, picked]
            for row in rows.tolist():
                e = entities[row]
                if fname not in e:
                    e[fname] = vectors[row].copy()
                self._row_cache[int(e[SEQ])] = e
        return out

    def _b_text_search(
        self, column: Column, text: str, k: int, node: FilterNode | None
    ) -> tuple[np.ndarray, np.ndarray]:
        layout = self._get_layout()
        sparse = layout.text_fields.get(column.name)
        if sparse is None:
            raise ValueError(
                f"field {column.name!r} is not text-searchable in Milvus: BM25 is set up when "
                "the collection is created, for str fields other than ids (mark it "
                "Field(full_text_search=True))"
            )
        empty = (np.zeros(0, np.int64), np.zeros(0))
        if not self._exists or not tokenize(text):
            return empty
        allowed: set[int] | None = None
        if node is not None:
            # Milvus Lite computes BM25 statistics over the filtered rows only: search all
            # rows (the scores of the unfiltered search) and keep the allowed ones
            allowed = set(self._b_filter(node, None).tolist())
            if not allowed:
                return empty
        depth = k if allowed is None else max(4 * k, 64)
        while True:
            hits = self._call(
                "text search",
                self._client.search,
                self._collection,
                data=[text],
                anns_field=sparse,
                filter="",
                limit=min(depth, 16384),
                output_fields=layout.output_fields(),
                search_params={"metric_type": "BM25"},
                consistency_level=self._db_config.consistency_level,
            )[0]
            if allowed is None or len(hits) < depth or depth >= 16384:
                break
            kept = sum(1 for h in hits if int(h["entity"][SEQ]) in allowed)
            if kept >= k:
                break
            depth *= 4
        if allowed is not None:
            hits = [h for h in hits if int(h["entity"][SEQ]) in allowed]
        self._row_cache.clear()
        for h in hits:
            self._row_cache[int(h["entity"][SEQ])] = h["entity"]
        keys = np.fromiter((h["entity"][SEQ] for h in hits), np.int64, len(hits))
        # Milvus reports BM25 as a score; Milvus Lite as its negation
        scores = np.abs(np.fromiter((h["distance"] for h in hits), np.float64, len(hits)))
        order = np.lexsort((keys, -scores))[:k]
        return keys[order], scores[order]


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


def _tied_at(distances: Sequence[float], k: int) -> bool:
    """Whether the engine's k-th and (k+1)-th results have the same distance (to float32
    precision): the k best are then not settled by the score alone."""
    if len(distances) <= k or k == 0:
        return False
    a, b = float(distances[k - 1]), float(distances[k])
    return abs(a - b) <= 1e-6 * max(1.0, abs(a))


def _distances(per_query: Any) -> Sequence[float]:
    """The engine's distances of one query's hits (without decoding the hits' fields)."""
    distances = getattr(per_query, "distances", None)
    if distances is not None and len(distances) == len(per_query):
        return distances
    return [h["distance"] for h in per_query]


def _candidates(
    per_query: Any, fname: str, decoded: dict[int, np.ndarray]
) -> tuple[list[dict[str, Any]], np.ndarray]:
    """One query's hits: their entities and the float32 vectors of field ``fname``.

    pymilvus decodes a hit's vector into a Python list when the hit is first read; when the
    searched vector is the only field left to decode, it is read for all the hits of the
    search at once, and given to an entity only when that hit is kept (``decoded`` holds the
    search's vectors by field). Otherwise the hits are read as pymilvus gives them.
    """
    lazy = getattr(per_query, "lazy_field_data", None)
    start = getattr(per_query, "start", None)
    if (
        lazy is not None
        and start is not None
        and not getattr(per_query, "has_materialized", True)
        and len(lazy) == 1
        and lazy[0].field_name == fname
        and lazy[0].HasField("vectors")
        and lazy[0].vectors.HasField("float_vector")
        and not len(lazy[0].valid_data)
    ):
        data = lazy[0]
        everything = decoded.get(id(data))
        if everything is None:
            dim = int(data.vectors.dim)
            everything = np.asarray(data.vectors.float_vector.data, np.float32).reshape(-1, dim)
            decoded[id(data)] = everything
        n = len(per_query)
        entities = [per_query.get_raw_item(i)["entity"] for i in range(n)]
        return entities, everything[start : start + n]
    entities = [h["entity"] for h in per_query]
    if not entities:
        return entities, np.zeros((0, 0), np.float32)
    return entities, np.asarray([e[fname] for e in entities], dtype=np.float32)


def _scores(matrix: np.ndarray, queries: np.ndarray, space: str) -> np.ndarray:
    """float64 scores of each query's candidates, ``matrix`` ``(q, c, dim)`` float32, computed
    as :func:`docstack._internal.metrics.scores` computes them (float32, then float64)."""
    out = np.matmul(matrix, queries[:, :, None])[:, :, 0]
    if space != "ip":
        row_sq = np.einsum("qcd,qcd->qc", matrix, matrix)
        query_sq = np.einsum("qd,qd->q", queries, queries)
        if space == "cosine":
            inverse = np.sqrt(query_sq)
            out *= np.divide(1, inverse, out=np.zeros_like(inverse), where=inverse > 0)[:, None]
            norms = np.sqrt(row_sq)
            out *= np.divide(1, norms, out=np.zeros_like(norms), where=norms > 0)
        else:
            out *= -2
            out += row_sq
            out += query_sq[:, None]
            np.maximum(out, 0, out=out)
            if space == "l2":
                np.sqrt(out, out=out)
    return out.astype(np.float64)

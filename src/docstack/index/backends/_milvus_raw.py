"""Raw Milvus requests given to ``MilvusDocumentIndex.execute_query``, run as DocArray ran
them: ``MilvusClient.search``/``query`` keyword arguments, or DocArray's list of
``(component, kwargs)`` pairs; results go through ``find()``'s path, with docstack's scores.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from docstack.errors import DocstackError
from docstack.index._query import Query
from docstack.index._results import FindResult
from docstack.index._schema import Column
from docstack.index.backends._milvus_schema import search_params

__all__ = ["MilvusQueryError", "MilvusRawQueries"]


class MilvusQueryError(DocstackError, TypeError, ValueError):
    """A raw Milvus request given to ``execute_query`` that docstack cannot run as given
    (a ``TypeError`` and a ``ValueError``, as the other backends raise for a bad query)."""


class MilvusRawQueries:
    """``execute_query`` of :class:`~docstack.index.backends.milvus.MilvusDocumentIndex`."""

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

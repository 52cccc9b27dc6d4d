"""Qdrant's own (raw) queries for ``QdrantDocumentIndex.execute_query``, as DocArray took them.

DocArray passed a dict through to qdrant-client: with ``'vector'`` it searched
(``client.search(query_vector=..., query_filter=..., search_params=..., **rest)``), without
it scrolled with the filter. docstack reads the same dict (and qdrant's ``QueryRequest``, the
client's newer request, or its dict form) into a :class:`RawRequest` that the index runs
through the path of ``find()``/``filter()``: the documents come back whole, scores in
docstack's meaning for the field's metric.

Keys: ``vector`` (or ``query``): a vector, ``(name, vector)``, ``{'name': ..., 'vector': ...}``
or ``{'nearest': vector}``; ``using``: the vector field; ``filter`` (or ``query_filter``,
``scroll_filter``): a qdrant ``Filter`` or its dict form; ``params`` (or ``search_params``):
qdrant ``SearchParams`` or its dict; ``limit`` (10), ``offset`` (a count),
``score_threshold`` (in docstack's score meaning, as ``find()``'s); ``with_payload``,
``with_vector(s)`` are accepted and ignored (documents always come back whole).

Example
-------
>>> r = parse_raw({'vector': ('emb', [1.0, 0.0]), 'limit': 3, 'filter': {'must': []}})
>>> r.field, r.vector, r.limit, type(r.filter).__name__
('emb', [1.0, 0.0], 3, 'Filter')
>>> parse_raw({'vectr': [1.0]})
Traceback (most recent call last):
...
docstack.index.backends._qdrant_raw.QdrantQueryError: unknown key(s) ['vectr'] in a raw Qdrant query; ...
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from docstack.errors import DocstackError

__all__ = ["QdrantQueryError", "RawRequest", "parse_raw"]

_VECTOR_KEYS = ("vector", "query", "query_vector")
_FILTER_KEYS = ("filter", "query_filter", "scroll_filter")
_PARAM_KEYS = ("params", "search_params")
_IGNORED = ("with_payload", "with_vector", "with_vectors")
_KNOWN = {
    *_VECTOR_KEYS,
    *_FILTER_KEYS,
    *_PARAM_KEYS,
    *_IGNORED,
    "using",
    "limit",
    "offset",
    "score_threshold",
}
# QueryRequest fields docstack cannot run through find(): named, so the error can say so
_UNSUPPORTED = ("prefetch", "lookup_from", "shard_key", "shard_key_selector", "order_by")


class QdrantQueryError(DocstackError, TypeError, ValueError):
    """A raw Qdrant query that ``execute_query`` cannot read or run; the message says why
    (a ``TypeError`` and a ``ValueError``, as a malformed built query is one or the other)."""


@dataclass
class RawRequest:
    """A raw Qdrant query read into what ``find()``/``filter()`` take."""

    field: str | None
    vector: Any
    filter: Any
    params: Any
    limit: int
    offset: int
    score_threshold: float | None


def is_raw(query: Any) -> bool:
    """Whether ``query`` is a raw Qdrant query (a dict, a ``QueryRequest`` or a ``Filter``)."""
    from qdrant_client import models

    return isinstance(query, (Mapping, models.QueryRequest, models.Filter))


def parse_raw(query: Any) -> RawRequest:
    """Read a raw Qdrant query; raise :class:`QdrantQueryError` for one docstack cannot run."""
    from qdrant_client import models

    if isinstance(query, models.Filter):
        query = {"filter": query}
    elif isinstance(query, models.QueryRequest):
        query = {k: getattr(query, k) for k in query.model_fields_set}
    if not isinstance(query, Mapping):
        raise QdrantQueryError(
            "a raw Qdrant query is a dict of client.search()/scroll() arguments (DocArray's "
            f"form), a qdrant QueryRequest or a Filter; got {type(query).__name__}"
        )
    query = {k: v for k, v in query.items() if not (k in _UNSUPPORTED and v is None)}
    bad = sorted(k for k in query if k in _UNSUPPORTED)
    if bad:
        raise QdrantQueryError(
            f"{bad} in a raw Qdrant query: execute_query runs one vector search or a filter "
            "on this index's collection; use index.client for the rest of Qdrant's API"
        )
    unknown = sorted(str(k) for k in query if k not in _KNOWN)
    if unknown:
        raise QdrantQueryError(
            f"unknown key(s) {unknown} in a raw Qdrant query; it takes {sorted(_KNOWN)}"
        )
    field, vector = _vector(_one(query, _VECTOR_KEYS), models)
    using = query.get("using")
    if using is not None:
        if not isinstance(using, str):
            raise QdrantQueryError(f"'using' names a vector field, got {using!r}")
        if field is not None and field != using:
            raise QdrantQueryError(f"the query names vector {field!r} but 'using' {using!r}")
        field = using
    if field is not None and vector is None:
        raise QdrantQueryError(f"the query names vector field {field!r} but gives no vector")
    return RawRequest(
        field=field,
        vector=vector,
        filter=_model(_one(query, _FILTER_KEYS), models.Filter, "filter"),
        params=_model(_one(query, _PARAM_KEYS), models.SearchParams, "params"),
        limit=_count(query.get("limit", 10), "limit"),
        offset=_count(query.get("offset", 0) or 0, "offset"),
        score_threshold=_threshold(query.get("score_threshold")),
    )


def _one(query: Mapping, keys: tuple[str, ...]) -> Any:
    given = [k for k in keys if query.get(k) is not None]
    if len(given) > 1:
        raise QdrantQueryError(f"a raw Qdrant query takes one of {list(keys)}, got {given}")
    return query[given[0]] if given else None


def _vector(value: Any, models: Any) -> tuple[str | None, Any]:
    if value is None:
        return None, None
    if isinstance(value, models.NearestQuery):
        value = value.nearest
    if isinstance(value, Mapping):
        if set(value) == {"nearest"}:
            value = value["nearest"]
        elif set(value) == {"name", "vector"} and isinstance(value["name"], str):
            return value["name"], _dense(value["vector"])
        else:
            raise QdrantQueryError(
                "a raw query's vector is a list of numbers, (name, vector), "
                f"{{'name': ..., 'vector': ...}} or {{'nearest': ...}}; got keys {sorted(value)}"
            )
    if isinstance(value, tuple) and len(value) == 2 and isinstance(value[0], str):
        return value[0], _dense(value[1])
    if hasattr(value, "name") and hasattr(value, "vector"):  # a NamedVector of older clients
        return value.name, _dense(value.vector)
    return None, _dense(value)


def _dense(value: Any) -> Any:
    if isinstance(value, (str, bytes, Mapping)) or value is None:
        raise QdrantQueryError(
            f"a raw query's vector must be dense (a list of numbers), got {type(value).__name__}"
            " (sparse vectors and other Qdrant query kinds are not docstack fields)"
        )
    return value


def _model(value: Any, model: Any, what: str) -> Any:
    if value is None or isinstance(value, model):
        return value
    if not isinstance(value, Mapping):
        raise QdrantQueryError(
            f"a raw query's {what} is a qdrant {model.__name__} or its dict form, "
            f"got {type(value).__name__}"
        )
    try:
        return model.model_validate(dict(value))
    except Exception as e:
        raise QdrantQueryError(f"not a valid Qdrant {model.__name__}: {e}") from e


def _count(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise QdrantQueryError(
            f"a raw query's {what} must be a count (an int >= 0), got {value!r}"
            + (" (docstack pages by count, not by point id)" if what == "offset" else "")
        )
    return value


def _threshold(value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise QdrantQueryError(f"score_threshold must be a number, got {value!r}")
    return float(value)


# doctest compiles examples with the __future__ flags of the module namespace
del annotations

"""``filter_docs``: select the documents of an array that match a query."""

from __future__ import annotations

from typing import Any, TypeVar

import orjson

from docstack._internal.query import FilterError, parse_filter
from docstack._internal.query_eval import evaluate as _evaluate
from docstack.base_doc import AnyDoc
from docstack.utils._paths import column_values, mapping_paths, schema_paths

__all__ = ["filter_docs", "FilterError"]

A = TypeVar("A")


def filter_docs(docs: A, query: dict[str, Any] | list[dict[str, Any]] | str) -> A:
    """The documents of ``docs`` that match ``query``, in their order, as the same array type.

    The query language is MongoDB-style: ``{'price': {'$gt': 3}}``. Operators: ``$eq``,
    ``$neq``, ``$gt``, ``$gte``, ``$lt``, ``$lte``, ``$in``, ``$nin``, ``$exists``,
    ``$regex``, ``$size``, and ``$and``, ``$or``, ``$not``. Nested fields are reached with
    ``__`` (``'banner__title'``), and so are the keys of ``dict`` fields (``'meta__lang'``
    for ``meta: dict``; a key a document's dict lacks is a missing value, as ``None`` is). A
    plain value means ``$eq``; several conditions are combined with AND. The query is
    checked before anything runs: an unknown operator or a field the documents do not have
    raises :class:`FilterError`.

    The result is a new array, never ``docs`` itself: a ``DocList`` of the same documents,
    or a ``DocVec`` with its own copy of the columns (even for an empty query).

    Parameters
    ----------
    docs:
        A ``DocList`` or ``DocVec``.
    query:
        A query dict, a list of dicts (all must match) or the same as a JSON string.

    Returns
    -------
    A ``DocList`` (or ``DocVec``) of the matching documents.

    Example
    -------
    >>> from docstack import BaseDoc, DocList
    >>> from docstack.utils import filter_docs
    >>> class Book(BaseDoc):
    ...     title: str
    ...     price: float
    >>> books = DocList[Book]([Book(title='a', price=3), Book(title='b', price=12)])
    >>> filter_docs(books, {'price': {'$lt': 10}}).title
    ['a']
    >>> class Page(BaseDoc):
    ...     meta: dict = {}
    >>> pages = DocList[Page]([Page(meta={'lang': 'en'}), Page(meta={'lang': 'fr'}), Page()])
    >>> len(filter_docs(pages, {'meta__lang': {'$in': ['en', 'de']}}))
    1
    >>> len(filter_docs(pages, {'meta__lang': {'$exists': False}}))
    1
    """
    if isinstance(query, (str, bytes)):
        try:
            query = orjson.loads(query)
        except orjson.JSONDecodeError as exc:
            raise FilterError(f"the query string is not valid JSON: {exc}") from None
    if isinstance(query, list):
        query = {"$and": query} if query else {}
    doc_type = getattr(docs, "doc_type", AnyDoc)
    if doc_type is AnyDoc:
        node = parse_filter(query)  # type: ignore[arg-type]
    else:
        fields, dict_fields = schema_paths(doc_type), mapping_paths(doc_type)
        node = parse_filter(query, fields=fields, dict_fields=dict_fields)  # type: ignore[arg-type]
    # an empty query selects everything through the same mask: the result is always a copy
    # (a DocVec slice would share tensor memory with ``docs``)
    mask = _evaluate(node, lambda path: column_values(docs, path), len(docs))  # type: ignore[arg-type]
    return docs[mask]  # type: ignore[index]

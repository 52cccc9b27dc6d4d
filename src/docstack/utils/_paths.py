"""Reading field values along ``a__b`` paths over whole document arrays.

A path goes through nested documents, ``DocList`` fields (the values of all their documents,
gathered into one list per top-level document) and dicts (a key lookup; a missing key gives
``None``, which the filter language reads as "does not exist").
"""

import typing
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from docstack._internal.fields import doc_fields, unwrap_optional
from docstack.base_doc import BaseDocWithoutId

__all__ = ["column_values", "mapping_paths", "schema_paths"]

_MAX_DEPTH = 16  # recursive schemas: stop somewhere sensible


def schema_paths(doc_type: type, prefix: str = "", _depth: int = 0) -> set[str]:
    """Every field path of a document class, nested ones joined with ``__``.

    Example
    -------
    >>> from docstack import BaseDoc
    >>> class Inner(BaseDoc):
    ...     title: str = ''
    >>> class Outer(BaseDoc):
    ...     inner: Inner = Inner()
    >>> sorted(schema_paths(Outer))
    ['id', 'inner', 'inner__id', 'inner__title']
    """
    out: set[str] = set()
    if _depth > _MAX_DEPTH:
        return out
    for name, kind in doc_fields(doc_type).items():
        path = f"{prefix}{name}"
        out.add(path)
        if kind.kind in ("doc", "doclist") and kind.doc_cls is not None:
            out |= schema_paths(kind.doc_cls, f"{path}__", _depth + 1)
    return out


def _is_mapping_annotation(annotation: Any) -> bool:
    inner, _ = unwrap_optional(annotation)
    origin = typing.get_origin(inner) or inner
    try:
        return isinstance(origin, type) and issubclass(origin, Mapping)
    except TypeError:  # e.g. a TypedDict refuses class checks
        return False


def mapping_paths(doc_type: type, prefix: str = "", _depth: int = 0) -> set[str]:
    """The paths (as in :func:`schema_paths`) of the fields annotated as dicts or mappings.

    Any key below one of them is a valid filter path (``'meta__lang'`` for ``meta: dict``).

    Example
    -------
    >>> from docstack import BaseDoc
    >>> class Inner(BaseDoc):
    ...     attrs: dict[str, int] | None = None
    >>> class Outer(BaseDoc):
    ...     meta: dict = {}
    ...     inner: Inner = Inner()
    >>> sorted(mapping_paths(Outer))
    ['inner__attrs', 'meta']
    """
    out: set[str] = set()
    if _depth > _MAX_DEPTH:
        return out
    for name, kind in doc_fields(doc_type).items():
        path = f"{prefix}{name}"
        if kind.kind in ("doc", "doclist") and kind.doc_cls is not None:
            out |= mapping_paths(kind.doc_cls, f"{path}__", _depth + 1)
        elif kind.kind == "other" and _is_mapping_annotation(kind.annotation):
            out.add(path)
    return out


def _is_doc_array(value: Any) -> bool:
    return getattr(type(value), "__docstack_doc_array__", False)


def column_values(docs: Any, path: tuple[str, ...]) -> Any:
    """The values at ``path`` for every document of ``docs``, one entry per document.

    On a ``DocVec`` whole columns are read (a stacked tensor stays one array, nested
    ``DocVec`` columns are read whole too); on a ``DocList`` the values are gathered per
    document. The value of a ``DocList`` field is a list of its documents (a ``DocVec``'s
    documents are listed as views); a path through it gives the list of the values of its
    documents (flattened: a list value adds its items). A ``None`` on the way, or a key a dict
    lacks, gives ``None``.

    Example
    -------
    >>> from docstack import BaseDoc, DocList
    >>> class D(BaseDoc):
    ...     meta: dict = {}
    >>> docs = DocList[D]([D(meta={'lang': 'en'}), D()])
    >>> column_values(docs, ('meta', 'lang'))
    ['en', None]
    >>> column_values(docs.to_doc_vec(), ('meta', 'lang'))
    ['en', None]
    """
    from docstack.array.doc_vec import DocVec

    if not isinstance(docs, DocVec):
        return [_walk(doc, path) for doc in docs]
    kinds = doc_fields(docs.doc_type)
    head, rest = path[0], path[1:]
    if head not in kinds:
        raise KeyError(head)
    kind = kinds[head].kind
    column = docs.get_column(head)
    if kind == "doclist":
        # each value is a DocVec; without a rest path, it is the sequence of its documents,
        # as a DocList field's value is (its views are only made if its elements are read)
        if not rest:
            return [None if v is None else _DocSequence(v) for v in column]
        return [_walk(v, rest) for v in column]
    if not rest:
        return column
    if kind == "doc" and isinstance(column, DocVec):
        return column_values(column, rest)
    if column is None:  # a tensor column nobody has
        return None
    return [_walk(v, rest) for v in column]


class _DocSequence(Sequence):
    """The documents of a nested ``DocVec``, as a read-only sequence.

    Its length needs no document; its items are the ``DocVec``'s views.
    """

    __slots__ = ("_docs",)

    def __init__(self, docs: Any) -> None:
        self._docs = docs

    def __len__(self) -> int:
        return len(self._docs)

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return list(self._docs[index])
        return self._docs[index]

    def __iter__(self) -> Iterator[Any]:
        return iter(self._docs)

    def __repr__(self) -> str:
        return f"_DocSequence({self._docs!r})"


def _step(value: Any, part: str) -> Any:
    """One step down a path: a field of a document or a key of a mapping; else ``None``."""
    if isinstance(value, BaseDocWithoutId):
        return getattr(value, part, None)
    if isinstance(value, Mapping):
        return value.get(part)
    return None


def _walk(value: Any, path: tuple[str, ...]) -> Any:
    for i, part in enumerate(path):
        if value is None:
            return None
        if _is_doc_array(value):
            return _gather(value, path[i:])
        value = _step(value, part)
    return value


def _gather(docs: Any, path: tuple[str, ...]) -> list[Any]:
    """The values at ``path`` of every document of a nested array, in one flat list."""
    from docstack.array.doc_vec import DocVec

    values: Any = column_values(docs, path) if isinstance(docs, DocVec) else None
    if values is None:
        values = [_walk(doc, path) for doc in docs]
    out: list[Any] = []
    for got in values:  # a stacked tensor column gives its rows
        if isinstance(got, list):
            out.extend(got)
        else:
            out.append(got)
    return out

"""What DocArray's Document Index API has that docstack spells differently, in one place.

- :class:`BaseRuntimeConfig`: the settings ``configure()`` changes, as a dataclass per index
  class (``HnswDocumentIndex.RuntimeConfig``), as in DocArray.
- :func:`coerce_docs`: documents of another class are indexed when their fields fit the
  schema (DocArray indexes a ``TextDoc`` into an index of a subclass of it, or of a class
  with the same fields); documents that do not fit are refused with a ``DocTypeError``.
- :func:`column_infos`: DocArray's table of columns (``index._column_infos``), read-only,
  for code that inspects it.
- :func:`raise_not_composable` and :func:`raise_not_supported`: what a query builder method
  that cannot be part of a built query does.
- :func:`subindex_contains`: whether a document is stored at any level of the index.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from docstack._internal.fields import doc_fields, unwrap_optional
from docstack.base_doc.doc import BaseDoc
from docstack.errors import DocTypeError

if TYPE_CHECKING:  # pragma: no cover
    from docstack.index._base import DocumentIndex

__all__ = [
    "BaseRuntimeConfig",
    "ColumnInfo",
    "coerce_docs",
    "column_infos",
    "raise_not_composable",
    "raise_not_supported",
    "subindex_contains",
    "updated_runtime_config",
]


@dataclass
class BaseRuntimeConfig:
    """Settings an open index can change with ``configure()``.

    ``default_column_config`` maps a column type (``np.ndarray`` for every tensor, ``str``,
    ``int``, ``float``, ``bool``, ``None`` for all) to settings for such columns, over those
    the index was opened with; a field's own ``Field(...)`` keywords still override them.

    Example
    -------
    >>> import numpy as np
    >>> from docstack import BaseDoc
    >>> from docstack.typing import NdArray
    >>> from docstack.index import InMemoryExactNNIndex
    >>> class Doc(BaseDoc):
    ...     emb: NdArray[2]
    >>> index = InMemoryExactNNIndex[Doc]()
    >>> index.configure(InMemoryExactNNIndex.RuntimeConfig({np.ndarray: {'space': 'l2'}}))
    >>> index.index([Doc(id='a', emb=[3, 4])])
    >>> index.find([0, 0], search_field='emb').scores.tolist()
    [5.0]
    """

    default_column_config: dict[Any, dict[str, Any]] = field(default_factory=dict)


@dataclass(frozen=True)
class ColumnInfo:
    """One column as DocArray described it: the field's type, how the backend stores it
    (docstack's column kind, ``None`` for a sub-index), the vector dimension and the
    column's settings."""

    docarray_type: Any
    db_type: Any
    n_dim: int | None
    config: Mapping[str, Any]


def column_infos(index: DocumentIndex) -> dict[str, ColumnInfo]:
    """The columns of ``index`` by name (nested fields as ``'a__b'``), in field order, with
    one entry per ``DocList`` field (its sub-index).

    Example
    -------
    >>> from docstack import BaseDoc
    >>> from docstack.typing import NdArray
    >>> from docstack.index import InMemoryExactNNIndex
    >>> class Doc(BaseDoc):
    ...     title: str
    ...     emb: NdArray[3]
    >>> infos = InMemoryExactNNIndex[Doc]()._column_infos
    >>> list(infos), infos['emb'].db_type, infos['emb'].n_dim
    (['id', 'title', 'emb'], 'vector', 3)
    """
    schema = index._schema
    out: dict[str, ColumnInfo] = {}

    def walk(doc_type: type, prefix: tuple[str, ...]) -> None:
        for fname, fk in doc_fields(doc_type).items():
            path = (*prefix, fname)
            name = "__".join(path)
            if fk.kind == "doc":
                walk(fk.doc_cls, path)  # type: ignore[arg-type]
            elif fk.kind == "doclist":
                out[name] = ColumnInfo(unwrap_optional(fk.annotation)[0], None, None, {})
            else:
                col = schema.columns[name]
                py_type = col.tensor_cls or unwrap_optional(col.annotation)[0]
                out[name] = ColumnInfo(py_type, col.kind, col.dim, dict(col.config))

    walk(schema.doc_type, ())
    return out


def _fits(doc: Any, doc_type: type) -> bool:
    base = getattr(type(doc), "__docstack_view_of__", None) or type(doc)
    return isinstance(base, type) and issubclass(base, doc_type)


def coerce_docs(doc_type: type, docs: Sequence[Any]) -> list[Any]:
    """``docs`` as documents of ``doc_type``: those of it (or a subclass) as they are, the
    others converted by :func:`coerce_doc`.

    Example
    -------
    >>> from docstack import BaseDoc
    >>> class Stored(BaseDoc):
    ...     title: str
    ...     n: int = 0
    >>> class Incoming(BaseDoc):
    ...     title: str
    >>> [type(d).__name__ for d in coerce_docs(Stored, [Incoming(title='a'), Stored(title='b')])]
    ['Stored', 'Stored']
    """
    return [
        doc if _fits(doc, doc_type) else coerce_doc(doc, doc_type, f"document {i}")
        for i, doc in enumerate(docs)
    ]


def coerce_doc(doc: Any, doc_type: type, where: str) -> Any:
    """A document of another class as a ``doc_type`` with the same id and values.

    It fits when every one of its fields is a field of ``doc_type`` (nothing would be lost)
    and its values validate as that field's type; ``doc_type``'s other fields take their
    defaults. Nested documents and ``DocList`` items are converted the same way. Anything
    else raises a ``DocTypeError`` that names the document and why.

    Example
    -------
    >>> from docstack import BaseDoc
    >>> class Stored(BaseDoc):
    ...     title: str
    >>> class Other(BaseDoc):
    ...     title: str
    ...     price: int
    >>> coerce_doc(Other(id='x', title='t', price=3), Stored, 'document 0')
    Traceback (most recent call last):
    ...
    docstack.errors.DocTypeError: document 0 (id='x') is a Other, but this index stores Stored documents, and Stored has no field(s) ['price']: index Stored documents, or documents whose fields all belong to Stored
    """  # noqa: E501
    src = type(doc)
    label = f"{where} (id={getattr(doc, 'id', None)!r}) is a {src.__name__}"
    target = doc_type.__name__
    if not isinstance(doc, BaseDoc):
        raise DocTypeError(f"{label}, but this index stores {target} documents")
    targets = doc_fields(doc_type)
    extra = [name for name in src.model_fields if name not in targets]
    if extra:
        raise DocTypeError(
            f"{label}, but this index stores {target} documents, and {target} has no "
            f"field(s) {extra}: index {target} documents, or documents whose fields all "
            f"belong to {target}"
        )
    values: dict[str, Any] = {}
    for name in src.model_fields:
        value = getattr(doc, name)
        fk = targets[name]
        if value is not None and fk.kind == "doc" and not _fits(value, fk.doc_cls):
            value = coerce_doc(value, fk.doc_cls, f"field {name!r} of {where}")  # type: ignore[arg-type]
        elif value is not None and fk.kind == "doclist":
            inner: type = fk.doc_cls  # type: ignore[assignment]
            value = [
                v
                if _fits(v, inner)
                else coerce_doc(v, inner, f"item {j} of field {name!r} of {where}")
                for j, v in enumerate(value)
            ]
        values[name] = value
    try:
        return doc_type.model_validate(values)
    except ValidationError as e:
        raise DocTypeError(
            f"{label}, but this index stores {target} documents, and its values do not "
            f"validate as {target}: {e}"
        ) from e


def updated_runtime_config(
    current: Any, runtime_config: Any, changes: Mapping[str, Any], config_cls: type
) -> Any:
    """The runtime settings after ``configure(runtime_config, **changes)``.

    A ``config_cls`` instance replaces the current settings (``changes`` then apply on top of
    it); ``None`` or a mapping of settings changes the current ones. A changed
    ``default_column_config`` is merged into the current one per column type and setting.

    Example
    -------
    >>> old = BaseRuntimeConfig({str: {'a': 1}})
    >>> updated_runtime_config(old, None, {'default_column_config': {str: {'b': 2}}},
    ...                        BaseRuntimeConfig)
    BaseRuntimeConfig(default_column_config={<class 'str'>: {'a': 1, 'b': 2}})
    """
    if runtime_config is None:
        base, changes = current, dict(changes)
    elif isinstance(runtime_config, config_cls):
        base, changes = runtime_config, dict(changes)
    elif isinstance(runtime_config, Mapping):
        base, changes = current, {**runtime_config, **changes}
    else:
        raise TypeError(
            f"runtime_config must be a {config_cls.__name__} or a dict of settings, got "
            f"{type(runtime_config).__name__}"
        )
    names = {f.name for f in fields(base)}
    unknown = sorted(set(changes) - names)
    if unknown:
        raise TypeError(f"unknown runtime setting(s) {unknown}; valid: {sorted(names)}")
    if "default_column_config" in changes and base is current:
        merged = {key: dict(value) for key, value in current.default_column_config.items()}
        for key, value in changes["default_column_config"].items():
            merged[key] = {**merged.get(key, {}), **value}
        changes["default_column_config"] = merged
    return replace(base, **changes) if changes else base


def raise_not_composable(name: str) -> Callable[..., Any]:
    """A query builder method that cannot be part of a built query, but that the index
    offers as a method of its own.

    Example
    -------
    >>> class Builder:
    ...     find_batched = raise_not_composable('find_batched')
    >>> Builder().find_batched()
    Traceback (most recent call last):
    ...
    NotImplementedError: find_batched() cannot be part of a query built by Builder; call index.find_batched() directly
    """  # noqa: E501

    def method(self: Any, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(
            f"{name}() cannot be part of a query built by {type(self).__name__}; call "
            f"index.{name}() directly"
        )

    method.__name__ = name
    return method


def raise_not_supported(name: str) -> Callable[..., Any]:
    """A query builder method that this index does not offer at all."""

    def method(self: Any, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(f"{name}() is not supported by {type(self).__name__}")

    method.__name__ = name
    return method


def subindex_contains(index: DocumentIndex, item: Any) -> bool:
    """Whether a document with ``item``'s id is stored in ``index`` or any of its sub-indexes
    (at any depth)."""
    if not isinstance(item, BaseDoc):
        raise TypeError(
            f"subindex_contains() takes a document (a BaseDoc), got {type(item).__name__}"
        )
    if item in index:
        return True
    return any(subindex_contains(child, item) for child in index._subindices.values())


# doctest compiles examples with the __future__ flags of the module namespace
del annotations

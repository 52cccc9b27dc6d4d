"""The schema of a Document Index: the columns a document class becomes.

Every field of the document class becomes one column, nested documents are flattened with
``'__'`` (``thumbnail__tensor``), and each ``DocList`` field becomes a linked sub-index. A
column has a kind that says how backends store it:

- ``'vector'``: a searchable 1-D tensor of known or inferred dimension (stored as float32),
- ``'str'``, ``'int'``, ``'float'``, ``'bool'``: scalars, filterable (``str`` also
  text-searchable),
- ``'tensor'``: any other tensor, stored as its dtype, shape and raw bytes,
- ``'bytes'``: raw bytes,
- ``'json'``: anything else, stored as the JSON pydantic makes of it; a list of scalars
  (``list[int]``, ``list[float]``, ``list[str]``, ``list[bool]``, ``Optional`` or not) is a
  ``'json'`` column too (the stored format is the same JSON array) whose :attr:`Column.element`
  names the element kind, and it is filterable: a condition on such a field holds when an
  element meets it (see :mod:`docstack._internal.query` for the semantics),
- ``'presence'``: whether an ``Optional`` nested document is there.

Settings of a column come from, in rising priority: the backend's defaults per column type,
``default_column_config`` given to ``configure()``, and the field's own
``Field(space=..., dim=..., ...)`` keywords.
"""

from __future__ import annotations

import math
import typing
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Literal

import numpy as np
from pydantic import TypeAdapter

from docstack._internal.fields import doc_fields, unwrap_optional
from docstack._internal.metrics import canonical_metric
from docstack.errors import DocstackError
from docstack.index._stored import encode_tensor, restore_column
from docstack.index._stored import originals as vector_originals
from docstack.index._vectors import stack_vectors

__all__ = [
    "Column",
    "ColumnKind",
    "IndexSchema",
    "RowBatch",
    "Subindex",
    "INDEX_METRICS",
]

ColumnKind = Literal["vector", "str", "int", "float", "bool", "tensor", "bytes", "json", "presence"]

#: The metrics a Document Index scores with, and the meaning of each score (the same on every
#: backend). ``Field(space=...)`` also takes DocArray's names: ``'cosine_sim'`` (cosine),
#: ``'euclidean_dist'`` (l2), ``'sqeuclidean_dist'`` (sqeuclidean), ``'dot'`` and
#: ``'inner_product'`` (ip).
INDEX_METRICS: dict[str, str] = {
    "cosine": "cosine similarity in [-1, 1]; higher is better",
    "l2": "euclidean distance, >= 0; lower is better",
    "sqeuclidean": "squared euclidean distance, >= 0; lower is better",
    "ip": "inner product; higher is better",
}

_FILTERABLE = frozenset({"str", "int", "float", "bool"})
#: The element types of the list columns filters may name (exact types: ``bool`` is not ``int``).
_LIST_ELEMENTS: dict[type, str] = {bool: "bool", int: "int", float: "float", str: "str"}
_INT64 = (-(2**63), 2**63 - 1)
_RESERVED = frozenset({"parent_id", "position", "seq"})


def index_metric(name: Any, where: str) -> str:
    """Canonical index metric for a user's ``space`` setting (DocArray's names accepted)."""
    try:
        metric = canonical_metric(name)
    except (ValueError, AttributeError):
        metric = None
    if metric not in INDEX_METRICS:
        raise ValueError(
            f"{where}: unknown space {name!r}; use one of 'cosine', 'l2', 'sqeuclidean', "
            "'ip' (or their aliases 'cosine_sim', 'euclidean_dist', 'sqeuclidean_dist', "
            "'dot', 'inner_product')"
        )
    return metric


def field_extras(info: Any) -> dict[str, Any]:
    """The backend settings given as ``Field(space=..., dim=...)`` keywords."""
    extra = info.json_schema_extra
    return dict(extra) if isinstance(extra, Mapping) else {}


@dataclass(frozen=True)
class Column:
    """One column of an index: a (possibly nested) field of the document class.

    Example
    -------
    >>> from docstack import BaseDoc
    >>> from docstack.typing import NdArray
    >>> class D(BaseDoc):
    ...     title: str
    ...     emb: NdArray[4]
    >>> schema = IndexSchema.from_doc_type(D, {})
    >>> schema.columns['emb'].kind, schema.columns['emb'].dim
    ('vector', 4)
    """

    name: str
    path: tuple[str, ...]
    kind: ColumnKind
    annotation: Any
    optional: bool
    config: Mapping[str, Any] = field(default_factory=dict)
    tensor_cls: type | None = None

    @property
    def dim(self) -> int | None:
        """The vector dimension (``None`` while not yet known)."""
        dim = self.config.get("dim")
        return None if dim is None or dim == -1 else int(dim)

    @property
    def space(self) -> str:
        """The canonical metric of a vector column."""
        return index_metric(self.config.get("space", "cosine"), f"field {self.name!r}")

    @property
    def filterable(self) -> bool:
        """Whether filters may name this column: a scalar, or a list of scalars.

        Example
        -------
        >>> Column('tags', ('tags',), 'json', list[str], False).filterable
        True
        >>> Column('meta', ('meta',), 'json', dict, False).filterable
        False
        """
        return self.kind in _FILTERABLE or self.element is not None

    @property
    def scalar(self) -> bool:
        """Whether the column holds one ``str``, ``int``, ``float`` or ``bool`` per document.

        Example
        -------
        >>> Column('n', ('n',), 'int', int, False).scalar
        True
        >>> Column('tags', ('tags',), 'json', list[str], False).scalar
        False
        """
        return self.kind in _FILTERABLE

    @cached_property
    def element(self) -> str | None:
        """For a ``'json'`` column typed as a list of scalars (``list[int]``,
        ``Optional[list[str]]``, ...), the element kind: ``'int'``, ``'float'``, ``'str'`` or
        ``'bool'``; ``None`` for any other column.

        Such a column is stored as the JSON array of its elements, like any ``'json'``
        column, and is filterable.

        Example
        -------
        >>> from typing import List, Optional
        >>> Column('t', ('t',), 'json', Optional[List[int]], True).element
        'int'
        >>> Column('t', ('t',), 'json', list[list[int]], False).element is None
        True
        """
        if self.kind != "json":
            return None
        inner, _ = unwrap_optional(self.annotation)
        if typing.get_origin(inner) is not list:
            return None
        args = typing.get_args(inner)
        if len(args) != 1:
            return None
        return _LIST_ELEMENTS.get(args[0])  # type: ignore[call-overload]

    @cached_property
    def adapter(self) -> TypeAdapter:
        """A pydantic adapter that validates a stored value back to the field's type."""
        return TypeAdapter(self.annotation)


@dataclass(frozen=True)
class Subindex:
    """A ``DocList`` field, stored as a linked index of its own documents."""

    name: str
    path: tuple[str, ...]
    doc_type: type


@dataclass(frozen=True)
class _Nested:
    """A nested document field (``thumbnail``), with its own fields below it."""

    name: str
    path: tuple[str, ...]
    doc_type: type
    optional: bool


@dataclass
class RowBatch:
    """Validated documents turned into columns, ready for a backend to write.

    ``values[name]`` is a list (one value per document, ``None`` for missing) for every
    column except vector columns, which are float32 arrays ``(n, dim)`` with rows of zeros
    where ``vector_missing[name]`` is True.
    """

    ids: list[str]
    values: dict[str, Any]
    vector_missing: dict[str, np.ndarray]
    parents: list[str] | None = None
    #: per vector column, the vectors in their own dtype where it is not float32 (else None)
    originals: dict[str, list[Any] | None] = field(default_factory=dict)
    positions: list[int] | None = None

    def __len__(self) -> int:
        return len(self.ids)


class IndexSchema:
    """The columns, nested documents and sub-indexes of a document class.

    Parameters
    ----------
    doc_type:
        The document class.
    column_defaults:
        Settings per column type: keys are python types (``np.ndarray`` for every tensor,
        ``str``, ``int``, ...) or ``None`` (every column); values are dicts of settings.

    Example
    -------
    >>> from docstack import BaseDoc, DocList
    >>> from docstack.typing import NdArray
    >>> class Img(BaseDoc):
    ...     emb: NdArray[8]
    >>> class Post(BaseDoc):
    ...     title: str
    ...     cover: Img
    ...     gallery: DocList[Img]
    >>> s = IndexSchema.from_doc_type(Post, {})
    >>> sorted(s.columns), list(s.subindexes)
    (['cover__emb', 'cover__id', 'id', 'title'], ['gallery'])
    """

    def __init__(
        self,
        doc_type: type,
        columns: dict[str, Column],
        nested: list[_Nested],
        subindexes: dict[str, Subindex],
    ) -> None:
        self.doc_type = doc_type
        self.columns = columns
        self.nested = nested
        self.subindexes = subindexes

    # ------------------------------------------------------------------ construction

    @classmethod
    def from_doc_type(
        cls, doc_type: type, column_defaults: Mapping[Any, Mapping[str, Any]]
    ) -> IndexSchema:
        """Build the schema of ``doc_type`` (see the class docstring)."""
        columns: dict[str, Column] = {}
        nested: list[_Nested] = []
        subindexes: dict[str, Subindex] = {}
        cls._walk(doc_type, (), False, column_defaults, columns, nested, subindexes)
        schema = cls(doc_type, columns, nested, subindexes)
        from docstack.index._embed import embed_specs

        for name, spec in embed_specs(schema).items():  # checks every embed_from field
            config = columns[name].config
            if config.get("dim") is None:
                config["dim"] = int(spec.encoder.dim)  # type: ignore[index]
        return schema

    @classmethod
    def _walk(
        cls,
        doc_type: type,
        prefix: tuple[str, ...],
        parent_optional: bool,
        defaults: Mapping[Any, Mapping[str, Any]],
        columns: dict[str, Column],
        nested: list[_Nested],
        subindexes: dict[str, Subindex],
    ) -> None:
        infos = doc_type.model_fields
        for fname, fk in doc_fields(doc_type).items():
            path = (*prefix, fname)
            name = "__".join(path)
            if not prefix and fname in _RESERVED:
                raise DocstackError(
                    f"field {fname!r} of {doc_type.__name__} uses a name the index reserves "
                    f"({', '.join(sorted(_RESERVED))}); rename it"
                )
            extras = field_extras(infos[fname])
            optional = fk.optional or parent_optional
            if fk.kind == "doc":
                nested.append(_Nested(name, path, fk.doc_cls, fk.optional))
                if fk.optional:
                    columns[name] = Column(name, path, "presence", bool, True)
                cls._walk(fk.doc_cls, path, optional, defaults, columns, nested, subindexes)
                continue
            if fk.kind == "doclist":
                subindexes[name] = Subindex(name, path, fk.doc_cls)
                continue
            if fk.kind == "tensor":
                config = {**defaults.get(None, {}), **defaults.get(np.ndarray, {}), **extras}
                kind = cls._tensor_kind(fk.tensor_cls, config, name, "dim" in extras)
                if kind == "vector":
                    fixed = _fixed_dim(fk.tensor_cls)
                    if fixed is not None:
                        config["dim"] = fixed  # the type's own shape wins over Field(dim=)
                    config.setdefault("dim", None)
                    config["space"] = index_metric(config.get("space", "cosine"), f"field {name!r}")
                columns[name] = Column(
                    name, path, kind, fk.annotation, optional, config, tensor_cls=fk.tensor_cls
                )
                continue
            inner, _ = unwrap_optional(fk.annotation)
            kind = _scalar_kind(inner)
            py = {"str": str, "int": int, "float": float, "bool": bool}.get(kind)
            config = {**defaults.get(None, {}), **(defaults.get(py, {}) if py else {}), **extras}
            columns[name] = Column(name, path, kind, fk.annotation, optional, config)

    @staticmethod
    def _tensor_kind(
        tensor_cls: type, config: Mapping[str, Any], name: str, own_dim: bool = False
    ) -> ColumnKind:
        if config.get("index") is False:
            return "tensor"
        dim = config.get("dim")
        if dim is not None and dim != -1:
            if isinstance(dim, bool) or not isinstance(dim, int) or dim <= 0:
                raise ValueError(f"field {name!r}: dim must be a positive int, got {dim!r}")
            fixed = _fixed_dim(tensor_cls)
            shape = getattr(tensor_cls, "__docstack_fixed_shape__", None)
            if shape is not None and fixed is None:
                raise ValueError(
                    f"field {name!r}: dim={dim} makes it a searchable vector, but its type "
                    f"fixes the shape {shape}, which is not 1-D"
                )
            if fixed is not None and fixed != dim and own_dim:
                warnings.warn(
                    f"field {name!r}: Field(dim={dim}) is ignored, its type fixes the "
                    f"dimension at {fixed}",
                    UserWarning,
                    stacklevel=2,
                )
            return "vector"
        family = getattr(tensor_cls, "_docstack_family", "tensor")
        if family in ("image", "audio", "video"):
            return "tensor"
        spec = getattr(tensor_cls, "__docstack_shape__", None)
        if spec is not None and len(spec) != 1:
            return "tensor"
        return "vector"

    # ------------------------------------------------------------------ views

    @cached_property
    def vector_columns(self) -> dict[str, Column]:
        """The searchable vector columns by name."""
        return {n: c for n, c in self.columns.items() if c.kind == "vector"}

    @cached_property
    def filter_columns(self) -> dict[str, Column]:
        """The columns filters may name: scalars and lists of scalars."""
        return {n: c for n, c in self.columns.items() if c.filterable}

    @cached_property
    def scalar_columns(self) -> dict[str, Column]:
        """The columns holding one scalar per document (``update()`` sets these)."""
        return {n: c for n, c in self.columns.items() if c.scalar}

    @cached_property
    def text_columns(self) -> dict[str, Column]:
        """The columns text search may name."""
        return {n: c for n, c in self.columns.items() if c.kind == "str"}

    def vector_column(self, search_field: str | None) -> Column:
        """The vector column named ``search_field`` (``'a.b'`` or ``'a__b'``), checked."""
        vectors = self.vector_columns
        if search_field is None or search_field == "":
            if len(vectors) == 1:
                return next(iter(vectors.values()))
            raise ValueError(
                "search_field is required: this index has "
                + (f"vector fields {sorted(vectors)}" if vectors else "no vector field")
            )
        name = _normalise(search_field)
        if name in vectors:
            return vectors[name]
        col = self.columns.get(name)
        if col is not None:
            raise ValueError(
                f"search_field {search_field!r} is a {col.kind} field, not a searchable vector; "
                f"vector fields: {sorted(vectors) or 'none'}"
            )
        raise ValueError(
            f"unknown search_field {search_field!r} for {self.doc_type.__name__}; "
            f"vector fields: {sorted(vectors) or 'none'}"
        )

    def text_column(self, search_field: str | None) -> Column:
        """The text column named ``search_field``, checked."""
        texts = self.text_columns
        usable = sorted(n for n in texts if n != "id" and not n.endswith("__id"))
        if not search_field:
            if len(usable) == 1:
                return texts[usable[0]]
            raise ValueError(f"search_field is required; text fields: {usable or 'none'}")
        name = _normalise(search_field)
        if name in texts:
            return texts[name]
        raise ValueError(
            f"search_field {search_field!r} is not a text field of "
            f"{self.doc_type.__name__}; text fields: {usable or 'none'}"
        )

    # ------------------------------------------------------------------ documents -> rows

    def check_doc_types(self, docs: Sequence[Any]) -> Sequence[Any]:
        """The documents as this schema's class, or ``DocTypeError`` naming the first that
        does not fit.

        Documents of the class (or a subclass, or a view of one) pass as they are; documents
        of another class whose fields all belong to the schema and validate as its types are
        converted to it (:func:`docstack.index._compat.coerce_docs`).
        """
        doc_type = self.doc_type
        seen: set[type] = set()
        for doc in docs:
            t = type(doc)
            if t in seen:
                continue
            base = getattr(t, "__docstack_view_of__", None) or t
            if base is doc_type or (isinstance(base, type) and issubclass(base, doc_type)):
                seen.add(t)
                continue
            from docstack.index._compat import coerce_docs

            return coerce_docs(doc_type, docs)
        return docs

    def to_rows(
        self,
        docs: Sequence[Any],
        dims: dict[str, int],
        computed: Mapping[str, list[Any]] | None = None,
    ) -> RowBatch:
        """Turn validated documents into a :class:`RowBatch`, checking vectors.

        ``dims`` holds the known dimension of each vector column; a column without one gets
        it from the first vector seen (the caller records it after a successful write).
        Raises ``ShapeError``/``ValueError`` naming the field and document on a wrong
        dimension, a NaN or infinite vector, or a missing required vector. ``computed``
        holds, per embedded vector column, the vectors the index computed for documents that
        left theirs out (``None`` where a document brought its own).
        """
        n = len(docs)
        ids = [str(d.id) for d in docs]
        if len(set(ids)) != n:
            seen: set[str] = set()
            dup = next(i for i in ids if i in seen or seen.add(i))  # type: ignore[func-returns-value]
            raise ValueError(f"document id {dup!r} appears more than once in one index() call")
        raw: dict[tuple[str, ...], list[Any]] = {(): list(docs)}
        for nd in self.nested:
            parent = raw[nd.path[:-1]]
            key = nd.path[-1]
            raw[nd.path] = [None if p is None else getattr(p, key) for p in parent]
        values: dict[str, Any] = {}
        missing: dict[str, np.ndarray] = {}
        originals: dict[str, list[Any] | None] = {}
        for name, col in self.columns.items():
            parent = raw[col.path[:-1]]
            key = col.path[-1]
            if col.kind == "presence":
                values[name] = [v is not None for v in raw[col.path]]
                continue
            column = [None if p is None else getattr(p, key) for p in parent]
            if col.kind == "vector":
                filled = computed.get(name) if computed else None
                if filled is not None:
                    column = [v if f is None else f for v, f in zip(column, filled)]
                values[name], missing[name] = stack_vectors(col, column, ids, dims)
                originals[name] = vector_originals(column)
            elif col.kind == "tensor":
                values[name] = [None if v is None else encode_tensor(v) for v in column]
            elif col.kind == "json":
                if col.element == "int":
                    _check_int64_lists(column, name, ids)
                dump = col.adapter.dump_json
                values[name] = [None if v is None else dump(v) for v in column]
            elif col.kind == "float":
                values[name] = [
                    None if v is None or (isinstance(v, float) and math.isnan(v)) else v
                    for v in column
                ]
            elif col.kind == "str":
                values[name] = [None if v is None else str(v) for v in column]
            elif col.kind == "bytes":
                values[name] = [None if v is None else bytes(v) for v in column]
            else:
                values[name] = column
        return RowBatch(ids, values, missing, originals=originals)

    # ------------------------------------------------------------------ rows -> documents

    def to_docs(self, ids: Sequence[str], values: Mapping[str, Sequence[Any]]) -> list[Any]:
        """Build documents from stored column values (the reverse of :meth:`to_rows`).

        ``values[name]`` holds one stored value per id for every column (vectors as float32
        rows or ``None``). Sub-index (``DocList``) fields are left empty; the index fills
        them.
        """
        n = len(ids)
        restored: dict[str, list[Any]] = {}
        for name, col in self.columns.items():
            if name == "id":
                continue
            restored[name] = restore_column(col, values[name], n)
        return self._assemble(self.doc_type, (), list(ids), restored, n)

    def _assemble(
        self,
        doc_type: type,
        prefix: tuple[str, ...],
        ids: list[Any],
        restored: dict[str, list[Any]],
        n: int,
    ) -> list[Any]:
        from docstack.array.doc_list import DocList
        from docstack.base_doc.doc import construct_docs

        fields: dict[str, list[Any]] = {}
        for fname, fk in doc_fields(doc_type).items():
            path = (*prefix, fname)
            name = "__".join(path)
            if fname == "id":
                fields[fname] = ids if not prefix else restored[name]
            elif fk.kind == "doc":
                sub = self._assemble(fk.doc_cls, path, [], restored, n)
                if fk.optional:
                    present = restored[name]
                    sub = [s if p else None for s, p in zip(sub, present)]
                fields[fname] = sub
            elif fk.kind == "doclist":
                fields[fname] = [DocList[fk.doc_cls]() for _ in range(n)]
            else:
                fields[fname] = restored[name]
        names = list(fields)
        if not names:
            return []
        return construct_docs(doc_type, names, [fields[k] for k in names], set(names))


def _check_int64_lists(column: list[Any], name: str, ids: Sequence[str]) -> None:
    """Raise ``ValueError`` naming the document if a ``list[int]`` holds an int beyond 64 bits
    (every backend compares list elements as 64-bit integers)."""
    lo, hi = _INT64
    for value, doc_id in zip(column, ids):
        if value and not lo <= min(value) <= max(value) <= hi:
            raise ValueError(
                f"document {doc_id!r}: field {name!r} holds an int that does not fit in 64 "
                "bits, the range an index stores"
            )


def _normalise(path: str) -> str:
    return path.replace(".", "__")


def _fixed_dim(tensor_cls: type) -> int | None:
    shape = getattr(tensor_cls, "__docstack_fixed_shape__", None)
    if shape is not None and len(shape) == 1:
        return int(shape[0])
    return None


def _scalar_kind(inner: Any) -> ColumnKind:
    if isinstance(inner, type):
        if issubclass(inner, bool):
            return "bool"
        if issubclass(inner, str):
            return "str"
        if issubclass(inner, int):
            return "int"
        if issubclass(inner, float):
            return "float"
        if issubclass(inner, (bytes, bytearray)):
            return "bytes"
    return "json"


# doctest compiles examples with the __future__ flags of the module namespace
del annotations

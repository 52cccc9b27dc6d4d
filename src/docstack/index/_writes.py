"""Writes of a Document Index: upserts with sub-documents (planned, then written in one
transaction), deletes by id or filter, and in-place updates of scalar fields."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from docstack.errors import DocTypeError
from docstack.index._embed import fill_vectors
from docstack.index._schema import RowBatch

if TYPE_CHECKING:  # pragma: no cover
    from docstack.index._base import DocumentIndex

__all__ = ["IndexWrites"]


class IndexWrites:
    """The write methods of :class:`~docstack.index.DocumentIndex` (a mixin)."""

    def index(self, docs: Any, show_progress: bool = False) -> None:
        """Insert or replace documents (an upsert by ``id``), with their sub-documents.

        The write is atomic: on any error (a wrong dimension, a NaN vector, a document of
        another schema) nothing is written and the error names the field and document. A
        search right after sees the new versions.

        Parameters
        ----------
        docs:
            A document, a ``DocList``/``DocVec`` or a sequence of documents of the schema.
        show_progress:
            Show a progress bar (useful for large batches).

        Example
        -------
        >>> from docstack import BaseDoc, DocList
        >>> from docstack.typing import NdArray
        >>> from docstack.index import InMemoryExactNNIndex
        >>> class Doc(BaseDoc):
        ...     emb: NdArray[2]
        >>> index = InMemoryExactNNIndex[Doc]()
        >>> index.index([Doc(id='a', emb=[1, 0]), Doc(id='b', emb=[0, 1])])
        >>> index.index(Doc(id='a', emb=[1, 1]))
        >>> index.num_docs(), index['a'].emb.tolist()
        (2, [1, 1])
        """
        docs = self._as_docs(docs)
        if not docs:
            return
        with self._lock:
            self._b_check_writable()
            plan: list[tuple[DocumentIndex, RowBatch, dict[str, int]]] = []
            self._plan(docs, None, plan, show_progress=show_progress)
            with self._b_transaction():
                for idx, batch, _ in plan:
                    for child in idx._subindices.values():
                        child._delete_children_recursive(batch.ids)
                    idx._write_progress = show_progress
                    try:
                        idx._b_upsert(batch)
                    finally:
                        idx._write_progress = False
            for idx, _, dims in plan:
                if dims:
                    idx._dims.update(dims)
                    idx._b_dims_changed()
            self._after_write(show_progress)

    def _after_write(self, show_progress: bool) -> None:
        """Backends may do derived work (merging segments) after a committed write."""

    def _plan(
        self,
        docs: Sequence[Any],
        parents: list[str] | None,
        plan: list[tuple[DocumentIndex, RowBatch, dict[str, int]]],
        positions: list[int] | None = None,
        show_progress: bool = False,
    ) -> None:
        dims = dict(self._dims)
        computed = fill_vectors(self, docs, show_progress)
        batch = self._schema.to_rows(docs, dims, computed)
        for name, values in batch.values.items():
            col = self._schema.columns[name]
            if col.kind == "int":
                _check_int64(values, name, batch.ids)
        new_dims = {}
        for name in batch.vector_missing:
            if name not in dims:
                width = batch.values[name].shape[1]
                if width:
                    new_dims[name] = width
                    dims[name] = width
        batch.parents = parents
        batch.positions = positions
        plan.append((self, batch, new_dims))
        for name, child in self._subindices.items():
            child_docs: list[Any] = []
            child_parents: list[str] = []
            child_positions: list[int] = []
            for doc_id, doc in zip(batch.ids, docs):
                value = getattr(doc, name)
                if value is None:
                    continue
                for j, sub in enumerate(value):
                    child_docs.append(sub)
                    child_parents.append(doc_id)
                    child_positions.append(j)
            if child_docs:
                child_docs = list(child._schema.check_doc_types(child_docs))
                child._plan(child_docs, child_parents, plan, child_positions, show_progress)

    def _delete_children_recursive(self, parent_ids: Sequence[str]) -> None:
        removed = self._b_delete_children(parent_ids)
        if removed:
            for child in self._subindices.values():
                child._delete_children_recursive(removed)

    def __delitem__(self, key: str | Sequence[str]) -> None:
        """Delete documents by id (with their sub-documents); a missing id raises KeyError."""
        ids = [key] if isinstance(key, str) else [str(k) for k in key]
        with self._lock:
            self._b_check_writable()
            missing = [i for i in dict.fromkeys(ids) if not self._b_contains(i)]
            if missing:
                raise KeyError(f"no documents with ids {missing}")
            with self._b_transaction():
                found = self._b_delete(ids)
                for child in self._subindices.values():
                    child._delete_children_recursive(found)

    def delete(self, filter: Any = None, ids: Sequence[str] | None = None) -> int:
        """Delete the documents matching a filter (or the given ids); return how many.

        Example
        -------
        >>> from docstack import BaseDoc
        >>> from docstack.index import InMemoryExactNNIndex
        >>> class Doc(BaseDoc):
        ...     n: int
        >>> index = InMemoryExactNNIndex[Doc]()
        >>> index.index([Doc(n=i) for i in range(5)])
        >>> index.delete(filter={'n': {'$gte': 3}}), index.num_docs()
        (2, 3)
        """
        if (filter is None) == (ids is None):
            raise ValueError("give exactly one of filter= or ids=")
        with self._lock:
            self._b_check_writable()
            if ids is None:
                node = self._parse_filter(filter)
                keys = self._b_filter(node, None)
                ids = self._b_rows(keys)[0] if len(keys) else []
            ids = [str(i) for i in ids]
            if not ids:
                return 0
            with self._b_transaction():
                found = self._b_delete(ids)
                for child in self._subindices.values():
                    child._delete_children_recursive(found)
            return len(found)

    def update(self, doc_id: str, **values: Any) -> None:
        """Set scalar fields of one stored document in place, validated by the schema.

        Only ``str``/``int``/``float``/``bool`` fields (nested ones as ``a__b``) can be
        updated this way; to change anything else, ``index()`` the changed document.

        Example
        -------
        >>> from docstack import BaseDoc
        >>> from docstack.index import InMemoryExactNNIndex
        >>> class Doc(BaseDoc):
        ...     title: str
        >>> index = InMemoryExactNNIndex[Doc]()
        >>> index.index(Doc(id='x', title='old'))
        >>> index.update('x', title='new')
        >>> index['x'].title
        'new'
        """
        if not values:
            raise ValueError("update() needs at least one field=value")
        stored: dict[str, Any] = {}
        for name, value in values.items():
            col = self._schema.columns.get(name.replace(".", "__"))
            if col is None or not col.scalar or col.name == "id":
                updatable = sorted(n for n in self._schema.scalar_columns if n != "id")
                raise ValueError(
                    f"cannot update field {name!r}: update() sets scalar fields "
                    f"({', '.join(updatable) or 'none'}); index() the document to change others"
                )
            try:
                checked = col.adapter.validate_python(value)
            except Exception as e:
                raise DocTypeError(f"invalid value for field {name!r}: {e}") from e
            if checked is None and not col.optional:
                raise DocTypeError(f"field {name!r} may not be None")
            if col.kind == "int":
                _check_int64([checked], name, [doc_id])
            if col.kind == "float" and checked is not None and checked != checked:
                checked = None
            if col.kind == "str" and checked is not None:
                checked = str(checked)
            stored[col.name] = checked
        with self._lock:
            self._b_check_writable()
            with self._b_transaction():
                if not self._b_update(str(doc_id), stored):
                    raise KeyError(f"no document with id {doc_id!r}")


_INT64 = (-(2**63), 2**63 - 1)


def _check_int64(values: Sequence[Any], name: str, ids: Sequence[str]) -> None:
    lo, hi = _INT64
    for v, doc_id in zip(values, ids):
        if v is not None and not (lo <= v <= hi):
            raise ValueError(
                f"document {doc_id!r}: field {name!r} = {v} does not fit in 64 bits, the "
                "range an index stores"
            )


# doctest compiles examples with the __future__ flags of the module namespace
del annotations

"""The backend contract of a Document Index: the ``_b_*`` primitives a backend implements.

:class:`~docstack.index.DocumentIndex` does everything else (schema, validation, sub-indexes,
filters, results, fusion) once for every backend, in terms of these methods. A backend is a
subclass that implements the abstract ones; those it leaves out raise a
``NotImplementedError`` that names the missing method and says how a docstack backend is
written. DocArray's backend methods (``_index``, ``_find``, ``_filter``, ``_get_items``,
``_del_items``, ``python_type_to_db_type``, ...) are not part of this contract: docstack never
calls them.

Example
-------
>>> from docstack import BaseDoc
>>> from docstack.index import DocumentIndex
>>> class Doc(BaseDoc):
...     title: str
>>> class Unfinished(DocumentIndex):
...     def _index(self, column_to_data):  # DocArray's way: never called by docstack
...         pass
>>> Unfinished[Doc]().index(Doc(title='a'))  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
NotImplementedError: Unfinished[Doc] does not implement _b_upsert() ...
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import numpy as np

from docstack._internal.query import FilterNode
from docstack.index._schema import Column, IndexSchema, RowBatch

if TYPE_CHECKING:  # pragma: no cover
    from docstack.index._base import DocumentIndex

__all__ = ["BackendPrimitives"]


def _missing(index: Any, name: str) -> NotImplementedError:
    return NotImplementedError(
        f"{type(index).__name__} does not implement {name}() (one of the _b_* storage and "
        "search primitives every docstack backend implements; see "
        "docstack.index.backends.in_memory for a complete backend). DocArray's backend "
        "methods (_index, _find, _filter, _get_items, _del_items, ...) are not called by "
        "docstack"
    )


class BackendPrimitives:
    """The storage and search primitives of a backend (see the module docstring)."""

    def _b_open(self) -> None:
        """Open or create the storage (called once the schema is known)."""

    def _b_abort_open(self) -> None:
        """Release what a failed open holds (files, connections); nothing by default."""

    @abstractmethod
    def _b_subindex(self, name: str, doc_type: type) -> DocumentIndex:
        """A child index for the ``DocList`` field ``name``."""
        raise _missing(self, "_b_subindex")

    def _b_check_writable(self) -> None:
        """Raise when this handle cannot write (opened read-only); checked before a write
        does any work (embedding, validation)."""

    @contextmanager
    def _b_transaction(self) -> Iterator[None]:
        """Make every write inside atomic (all or nothing)."""
        yield

    #: True while ``index(show_progress=True)`` runs :meth:`_b_upsert`: a backend that writes
    #: in several requests shows a progress bar over them (``docstack.io._bytes.progress_bar``)
    _write_progress: bool = False

    @abstractmethod
    def _b_upsert(self, batch: RowBatch) -> None:
        """Write rows, replacing rows with the same ids (showing progress over the requests
        when :attr:`_write_progress` is set)."""
        raise _missing(self, "_b_upsert")

    @abstractmethod
    def _b_delete(self, ids: Sequence[str]) -> list[str]:
        """Delete rows by id; return the ids that existed."""
        raise _missing(self, "_b_delete")

    @abstractmethod
    def _b_delete_children(self, parent_ids: Sequence[str]) -> list[str]:
        """Delete the rows whose parent is one of ``parent_ids``; return their ids."""
        raise _missing(self, "_b_delete_children")

    @abstractmethod
    def _b_get(self, ids: Sequence[str]) -> tuple[list[str], dict[str, list[Any]]]:
        """The stored rows of the ids that exist, in the order asked."""
        raise _missing(self, "_b_get")

    @abstractmethod
    def _b_children(
        self, parent_ids: Sequence[str]
    ) -> tuple[list[str], list[str], dict[str, list[Any]]]:
        """``(ids, parent_ids, values)`` of the rows under the parents, in position order."""
        raise _missing(self, "_b_children")

    @abstractmethod
    def _b_parents(self, ids: Sequence[str]) -> dict[str, str]:
        """The parent id of each given row id."""
        raise _missing(self, "_b_parents")

    @abstractmethod
    def _b_rows(self, keys: np.ndarray) -> tuple[list[str], dict[str, list[Any]]]:
        """The stored rows of search keys, in order."""
        raise _missing(self, "_b_rows")

    @abstractmethod
    def _b_count(self) -> int:
        """How many documents are stored."""
        raise _missing(self, "_b_count")

    @abstractmethod
    def _b_contains(self, doc_id: str) -> bool:
        """Whether a document with this id is stored."""
        raise _missing(self, "_b_contains")

    @abstractmethod
    def _b_filter(self, node: FilterNode | None, limit: int | None) -> np.ndarray:
        """Keys of the first ``limit`` matching rows, in insertion order."""
        raise _missing(self, "_b_filter")

    @abstractmethod
    def _b_vector_search(
        self, column: Column, queries: np.ndarray, k: int, node: FilterNode | None
    ) -> list[tuple[np.ndarray, np.ndarray]]:
        """Per query, ``(keys, scores)`` of the ``k`` best matching rows, best first."""
        raise _missing(self, "_b_vector_search")

    @abstractmethod
    def _b_text_search(
        self, column: Column, text: str, k: int, node: FilterNode | None
    ) -> tuple[np.ndarray, np.ndarray]:
        """``(keys, bm25 scores)`` of the ``k`` best matching rows, best first."""
        raise _missing(self, "_b_text_search")

    def _b_hybrid_search(
        self,
        vectors: Sequence[tuple[Column, np.ndarray, int, float]],
        texts: Sequence[tuple[Column, str, int, float]],
        node: FilterNode | None,
        fusion: str,
        rrf_k: int,
        limit: int,
    ) -> tuple[np.ndarray, np.ndarray] | None:
        """The fused ``(keys, scores)`` of a hybrid query run by the engine, or ``None``.

        ``vectors`` and ``texts`` hold ``(column, query, depth, weight)`` per part; ``fusion``
        is ``'rrf'`` (constant ``rrf_k``) or ``'weighted'``; at least the ``limit`` best are
        returned, best first. The answer must be the one the planner gives from
        ``_b_vector_search``/``_b_text_search`` and :mod:`docstack.retrieval` fusion (same
        keys, order and scores); a backend returns ``None`` for any query its engine cannot
        answer that way, and the planner fuses. ``None`` by default.
        """
        return None

    @abstractmethod
    def _b_update(self, doc_id: str, values: dict[str, Any]) -> bool:
        """Set stored scalar values of one row; False if the id is absent."""
        raise _missing(self, "_b_update")

    def _b_reconfigured(self, old: IndexSchema) -> None:
        """React to new column settings."""

    def _b_dims_changed(self) -> None:
        """Persist newly learnt vector dimensions (``self._dims``)."""

    def _b_meta_get(self, key: str) -> str | None:
        """A small stored setting of this index (the encoders it embeds with), or None.

        Backends that persist override this and :meth:`_b_meta_set`; the default keeps the
        values for the life of the object.
        """
        return (getattr(self, "_meta_values", None) or {}).get(key)

    def _b_meta_set(self, key: str, value: str) -> None:
        """Store a small setting of this index (see :meth:`_b_meta_get`)."""
        if getattr(self, "_meta_values", None) is None:
            self._meta_values: dict[str, str] = {}
        self._meta_values[key] = value


# doctest compiles examples with the __future__ flags of the module namespace
del annotations

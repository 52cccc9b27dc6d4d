"""Sub-index search of a Document Index: ``DocList`` fields are linked indexes of their own,
searched and filtered through the root index."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from docstack.array.doc_list import DocList
from docstack.base_doc.doc import BaseDoc
from docstack.index._compat import subindex_contains
from docstack.index._results import SubindexFindResult

if TYPE_CHECKING:  # pragma: no cover
    from docstack.index._base import DocumentIndex

__all__ = ["SubindexSearch"]


class SubindexSearch:
    """The sub-index methods of :class:`~docstack.index.DocumentIndex` (a mixin)."""

    def subindex_contains(self, item: BaseDoc) -> bool:
        """Whether a document with ``item``'s id is stored here or in a sub-index (any depth).

        Example
        -------
        >>> from docstack import BaseDoc, DocList
        >>> from docstack.index import InMemoryExactNNIndex
        >>> class Page(BaseDoc):
        ...     text: str
        >>> class Book(BaseDoc):
        ...     pages: DocList[Page]
        >>> index = InMemoryExactNNIndex[Book]()
        >>> page = Page(text='p1')
        >>> index.index(Book(pages=[page]))
        >>> page in index, index.subindex_contains(page)
        (False, True)
        """
        with self._lock:
            return subindex_contains(self, item)

    def _subindex_path(self, subindex: str) -> list[DocumentIndex]:
        if not isinstance(subindex, str) or not subindex:
            raise ValueError("subindex= names a DocList field, e.g. 'docs' or 'docs__images'")
        chain = [self]
        for part in subindex.replace(".", "__").split("__"):
            current = chain[-1]
            child = current._subindices.get(part)
            if child is None:
                raise ValueError(
                    f"unknown subindex {subindex!r}: {current._doc_type.__name__} has "
                    f"DocList fields {sorted(current._subindices) or 'none'}"
                )
            chain.append(child)
        return chain

    def find_subindex(
        self,
        query: Any,
        subindex: str = "",
        search_field: str = "",
        limit: int = 10,
        score_threshold: float | None = None,
        offset: int = 0,
    ) -> SubindexFindResult:
        """Search a sub-index (a ``DocList`` field, nested ones as ``'docs__images'``).

        Returns the matching sub-documents with, for each, the root document holding it.

        Example
        -------
        >>> from docstack import BaseDoc, DocList
        >>> from docstack.typing import NdArray
        >>> from docstack.index import InMemoryExactNNIndex
        >>> class Page(BaseDoc):
        ...     emb: NdArray[2]
        >>> class Book(BaseDoc):
        ...     pages: DocList[Page]
        >>> index = InMemoryExactNNIndex[Book]()
        >>> index.index([Book(id='b1', pages=[Page(emb=[1, 0])]),
        ...              Book(id='b2', pages=[Page(emb=[0, 1])])])
        >>> roots, subs, scores = index.find_subindex([0, 1], subindex='pages',
        ...                                           search_field='emb', limit=1)
        >>> roots.id
        ['b2']
        """
        chain = self._subindex_path(subindex)
        sub = chain[-1]
        result = sub.find(query, search_field, limit, score_threshold, offset)
        roots = self._roots_of(chain, [d.id for d in result.documents])
        return SubindexFindResult(roots, result.documents, result.scores)

    def filter_subindex(
        self, filter_query: Any, subindex: str = "", limit: int = 10, offset: int = 0
    ) -> DocList:
        """The sub-documents of ``subindex`` matching a filter."""
        sub = self._subindex_path(subindex)[-1]
        return sub.filter(filter_query, limit=limit, offset=offset)

    def _roots_of(self, chain: list[DocumentIndex], ids: list[str]) -> DocList:
        current = ids
        with self._lock:
            for idx in reversed(chain[1:]):
                parents = idx._b_parents(current)
                current = [parents[i] for i in current]
            unique = list(dict.fromkeys(current))
            found = self[unique] if unique else DocList[self._doc_type]()
            by_id = {d.id: d for d in found}
        return DocList[self._doc_type]([by_id[i] for i in current])


# doctest compiles examples with the __future__ flags of the module namespace
del annotations

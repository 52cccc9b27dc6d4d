"""Merge document arrays that hold versions of the same documents (same ids)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

__all__ = ["reduce", "reduce_all"]


def reduce(left: Any, right: Any, left_id_map: dict[str, int] | None = None) -> Any:
    """Merge ``right`` into ``left``, in place, matching documents by id.

    A document of ``right`` whose id is in ``left`` is merged into that document with
    :meth:`BaseDoc.update`; the others are appended to ``left``.

    ``right`` is never shared with the result nor changed: what comes from it is a deep
    copy (appended documents, and the values merged into ``left``'s documents: tensors,
    nested documents, list items), so changing ``right`` afterwards leaves ``left`` as it
    is, and a document repeated in ``right`` is merged into the copy, not into ``right``.
    ``left``'s own documents are updated in place.

    Parameters
    ----------
    left:
        The ``DocList`` that receives the merge.
    right:
        The ``DocList`` merged into it.
    left_id_map:
        ``{id: position}`` of ``left``, if already computed.

    Returns
    -------
    ``left``.

    Example
    -------
    >>> from docstack import BaseDoc, DocList
    >>> from docstack.utils import reduce
    >>> class D(BaseDoc):
    ...     tags: list[str] = []
    >>> a = DocList[D]([D(id='1', tags=['x'])])
    >>> b = DocList[D]([D(id='1', tags=['y']), D(id='2')])
    >>> [d.tags for d in reduce(a, b)]
    [['x', 'y'], []]
    >>> b[1].tags.append('z')  # right is not part of the result
    >>> a[1].tags
    []
    """
    if left_id_map is None:
        left_id_map = {doc.id: i for i, doc in enumerate(left)}
    for doc in right:
        own = doc.model_copy(deep=True)  # a DocVec's view becomes a standalone document
        position = left_id_map.get(own.id)
        if position is None:
            left_id_map[own.id] = len(left)
            left.append(own)
        else:
            left[position].update(own)
    return left


def reduce_all(docs: Sequence[Any]) -> Any:
    """Merge several ``DocList``s into the first one (see :func:`reduce`).

    Parameters
    ----------
    docs:
        At least one ``DocList``.

    Returns
    -------
    The first ``DocList``, with (deep copies of) all the others merged into it; the others
    are left unchanged.

    Example
    -------
    >>> from docstack import BaseDoc, DocList
    >>> from docstack.utils import reduce_all
    >>> class D(BaseDoc):
    ...     n: int = 0
    >>> parts = [DocList[D]([D(id='a', n=1)]), DocList[D]([D(id='b')]), DocList[D]([D(id='a', n=3)])]
    >>> [(d.id, d.n) for d in reduce_all(parts)]
    [('a', 3), ('b', 0)]
    """
    if not docs:
        raise ValueError("reduce_all() needs at least one DocList")
    left = docs[0]
    id_map = {doc.id: i for i, doc in enumerate(left)}
    for right in docs[1:]:
        reduce(left, right, id_map)
    return left

"""Methods of ``DocList`` and ``DocVec`` under the private names DocArray code calls.

``_batch`` is the batching that :func:`docstack.utils.map_docs_batched` runs on;
``_flatten_one_level`` flattens the nested lists that ``traverse_flat`` walks.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from typing import Any

__all__ = ["BatchingMixin"]


class BatchingMixin:
    """Batches of an array's documents, and one-level flattening of nested lists."""

    def _batch(
        self, batch_size: int, shuffle: bool = False, show_progress: bool = False
    ) -> Iterator[Any]:
        """Yield arrays of ``batch_size`` documents (the last may be shorter), of this
        array's own kind (a ``DocVec`` gives ``DocVec`` batches whose tensors are stacked).

        Parameters
        ----------
        batch_size:
            Documents per batch, at least 1.
        shuffle:
            Visit the documents in a random order.
        show_progress:
            Show a progress bar over the batches.

        Example
        -------
        >>> from docstack import DocList
        >>> from docstack.documents import TextDoc
        >>> docs = DocList[TextDoc]([TextDoc(text=str(i)) for i in range(5)])
        >>> [b.text for b in docs._batch(batch_size=2)]
        [['0', '1'], ['2', '3'], ['4']]
        """
        if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size < 1:
            raise ValueError(f"batch_size must be an int of at least 1, got {batch_size!r}")
        n = len(self)  # type: ignore[arg-type]
        starts = range(0, n, batch_size)
        if shuffle:
            order = list(range(n))
            random.shuffle(order)
            batches: Iterator[Any] = (
                self[order[i : i + batch_size]]  # type: ignore[index]
                for i in starts
            )
        else:
            batches = (self[i : i + batch_size] for i in starts)  # type: ignore[index]
        if not show_progress:
            yield from batches
            return
        from rich.progress import track

        yield from track(batches, total=len(starts), description="Batching")

    @staticmethod
    def _flatten_one_level(sequence: Sequence[Any]) -> list[Any]:
        """The items of a list of lists (or of arrays of documents) in one list; a
        sequence whose first item is not a list is returned as a list as it is.

        Example
        -------
        >>> BatchingMixin._flatten_one_level([[1, 2], [3]])
        [1, 2, 3]
        >>> BatchingMixin._flatten_one_level([1, 2])
        [1, 2]
        """
        if len(sequence) == 0 or not isinstance(sequence[0], list):
            return list(sequence)
        return [item for sub in sequence for item in sub]

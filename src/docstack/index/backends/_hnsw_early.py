"""A sealed HNSW graph built while the write that holds its rows commits.

hnswlib releases the GIL while it inserts, so the graph of a bulk write into a field that
has no graph yet is built in a background thread while SQLite writes and syncs the same
rows: the commit's disk waits overlap the build instead of coming before it. The graph is
handed to its :class:`~docstack.index.backends._hnsw_segments.Segments` only after the
commit; a rolled-back write's graph is never adopted.
"""

from __future__ import annotations

import os
import threading
from typing import Any

import numpy as np

from docstack._internal.optional import import_optional

__all__ = ["EarlyGraph", "hnsw_space", "new_graph", "threads"]


def threads(n: Any) -> int:
    """hnswlib threads for a configured ``num_threads`` (every core when not positive).

    >>> threads(2), threads(-1) == (os.cpu_count() or 1)
    (2, True)
    """
    n = int(n)
    return n if n > 0 else (os.cpu_count() or 1)


def hnsw_space(metric: str) -> str:
    """hnswlib's space for an index metric (its 'l2' space measures squared distances).

    >>> hnsw_space("sqeuclidean"), hnsw_space("cosine")
    ('l2', 'cosine')
    """
    return {"cosine": "cosine", "l2": "l2", "sqeuclidean": "l2", "ip": "ip"}[metric]


def new_graph(space: str, dim: int, config: dict[str, Any], max_elements: int) -> Any:
    """An empty hnswlib graph with the build and search settings of ``config``.

    >>> g = new_graph("cosine", 4, {"max_elements": 8, "M": 8, "ef_construction": 50,
    ...     "allow_replace_deleted": False, "ef": 16, "num_threads": 1}, 2)
    >>> g.get_max_elements(), g.ef
    (8, 16)
    """
    hnswlib = import_optional("hnswlib")
    graph = hnswlib.Index(space=hnsw_space(space), dim=dim)
    graph.init_index(
        max_elements=max(int(config["max_elements"]), max_elements),
        M=int(config["M"]),
        ef_construction=int(config["ef_construction"]),
        allow_replace_deleted=bool(config["allow_replace_deleted"]),
    )
    graph.set_ef(int(config["ef"]))
    graph.set_num_threads(threads(config["num_threads"]))
    return graph


class EarlyGraph:
    """A graph of ``vectors`` labelled ``labels``, built by a background thread.

    Example
    -------
    >>> cfg = {"max_elements": 8, "M": 8, "ef_construction": 50,
    ...     "allow_replace_deleted": False, "ef": 16, "num_threads": 1}
    >>> vectors = np.eye(4, dtype=np.float32)
    >>> early = EarlyGraph("cosine", cfg, np.arange(1, 5), vectors, 5)
    >>> sorted(early.result().get_ids_list())
    [1, 2, 3, 4]
    """

    def __init__(
        self,
        space: str,
        config: dict[str, Any],
        labels: np.ndarray,
        vectors: np.ndarray,
        max_elements: int,
    ) -> None:
        self.space = space
        self.labels = labels
        self._graph: Any = None
        self._error: BaseException | None = None
        # the graph object is made here, so that a bad setting raises in the caller
        graph = new_graph(space, vectors.shape[1], config, max_elements)
        n_threads = threads(config["num_threads"])
        self._thread = threading.Thread(
            target=self._build, args=(graph, vectors, n_threads), daemon=True
        )
        self._thread.start()

    def _build(self, graph: Any, vectors: np.ndarray, n_threads: int) -> None:
        try:
            graph.add_items(vectors, self.labels, num_threads=n_threads)
            self._graph = graph
        except BaseException as exc:  # noqa: BLE001 - raised again by result()
            self._error = exc

    def result(self) -> Any:
        """Wait for the build; the graph, or the build's error raised again."""
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self._graph

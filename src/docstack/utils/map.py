"""Apply a function to every document (or batch) with threads or processes."""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterable, Iterator
from contextlib import contextmanager
from typing import Any, Literal

__all__ = ["map_docs", "map_docs_batched"]

Backend = Literal["thread", "process"]


def _check_picklable(func: Any, backend: str) -> None:
    """A process pool sends ``func`` to its workers by pickling it: say so up front, instead
    of failing inside the pool, for a lambda or a function defined inside another."""
    if backend != "process":
        return
    import pickle

    try:
        pickle.dumps(func)
    except (pickle.PicklingError, AttributeError, TypeError) as exc:
        name = getattr(func, "__qualname__", repr(func))
        raise ValueError(
            f"Multiprocessing does not allow functions that cannot be pickled, such as "
            f"lambdas and functions defined inside another function ({name}): define it at "
            f"module level, or use backend='thread'"
        ) from exc


@contextmanager
def _pool(backend: str, num_worker: int | None, pool: Any) -> Iterator[Any]:
    if pool is not None:
        yield pool
        return
    # imported here: multiprocessing and rich.progress are only needed once work is mapped
    from multiprocessing.pool import Pool, ThreadPool

    if backend == "thread":
        made: Any = ThreadPool(num_worker)
    elif backend == "process":
        made = Pool(num_worker)
    else:
        raise ValueError(f"backend must be 'thread' or 'process', got {backend!r}")
    try:
        yield made
    finally:
        made.close()
        made.join()


def _progress(items: Iterable[Any], total: int, show: bool, label: str) -> Iterator[Any]:
    if not show:
        yield from items
        return
    from rich.progress import Progress

    with Progress(transient=False) as bar:
        task = bar.add_task(label, total=total)
        for item in items:
            yield item
            bar.advance(task)


def map_docs(
    docs: Any,
    func: Callable[[Any], Any],
    backend: Backend = "thread",
    num_worker: int | None = None,
    pool: Any = None,
    show_progress: bool = False,
) -> Generator[Any, None, None]:
    """Apply ``func`` to every document in parallel; yields the results in input order.

    Use threads for functions that release the GIL (I/O such as ``url.load()``, numpy,
    torch) and processes for pure-Python work; with processes, ``func`` and the documents
    must be picklable (a function defined at module level, not a lambda).

    Parameters
    ----------
    docs:
        A ``DocList``, ``DocVec`` or any iterable of documents.
    func:
        Called with one document; its return value is yielded.
    backend:
        ``'thread'`` (default) or ``'process'``.
    num_worker:
        Number of workers (default: the number of CPUs).
    pool:
        An existing ``multiprocessing`` pool to use (not closed afterwards).
    show_progress:
        Show a progress bar.

    Returns
    -------
    A generator of ``func``'s results, in the order of ``docs``.

    Example
    -------
    >>> from docstack import DocList
    >>> from docstack.documents import TextDoc
    >>> from docstack.utils import map_docs
    >>> docs = DocList[TextDoc]([TextDoc(text='a'), TextDoc(text='b')])
    >>> [d.text for d in map_docs(docs, lambda d: TextDoc(text=d.text.upper()))]
    ['A', 'B']
    """
    items = list(docs)
    _check_picklable(func, backend if pool is None else "")
    with _pool(backend, num_worker, pool) as p:
        yield from _progress(p.imap(func, items), len(items), show_progress, "Mapping")


def _batches(docs: Any, batch_size: int, shuffle: bool) -> list[Any]:
    return list(docs._batch(batch_size=batch_size, shuffle=shuffle))


def map_docs_batched(
    docs: Any,
    func: Callable[[Any], Any],
    batch_size: int,
    backend: Backend = "thread",
    num_worker: int | None = None,
    shuffle: bool = False,
    pool: Any = None,
    show_progress: bool = False,
) -> Generator[Any, None, None]:
    """Apply ``func`` to batches of documents in parallel; yields the results in order.

    Each batch is a ``DocList``/``DocVec`` slice of ``batch_size`` documents (the last may be
    shorter), so ``func`` can run a model on a whole batch at once.

    Parameters
    ----------
    docs:
        A ``DocList`` or ``DocVec``.
    func:
        Called with one batch; its return value is yielded.
    batch_size:
        Documents per batch (>= 1).
    backend, num_worker, pool, show_progress:
        As in :func:`map_docs`.
    shuffle:
        Put the documents in random order before batching.

    Returns
    -------
    A generator of ``func``'s results, one per batch.

    Example
    -------
    >>> from docstack import DocList
    >>> from docstack.documents import TextDoc
    >>> from docstack.utils import map_docs_batched
    >>> docs = DocList[TextDoc]([TextDoc(text=str(i)) for i in range(5)])
    >>> list(map_docs_batched(docs, len, batch_size=2))
    [2, 2, 1]
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    batches = _batches(docs, batch_size, shuffle)
    _check_picklable(func, backend if pool is None else "")
    with _pool(backend, num_worker, pool) as p:
        yield from _progress(p.imap(func, batches), len(batches), show_progress, "Mapping")

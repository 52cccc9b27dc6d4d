"""Pausing the cyclic garbage collector while many objects are made at once."""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["paused_gc"]

# Building or reading 100k documents allocates hundreds of thousands of dicts, sets and
# models; every 700 allocations start a collection, and as the heap grows the full ones scan
# everything again. None of these objects form cycles, so the collector is paused (for the
# whole process: the gc module has no other switch) while they are made; cycles made
# meanwhile are collected once it runs again. A counter keeps nested and concurrent pauses
# from switching it back on while another one is still running.
_lock = threading.Lock()
_depth = 0
_reenable = False


@contextmanager
def paused_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector for the ``with`` block.

    Example
    -------
    >>> import gc
    >>> with paused_gc():
    ...     gc.isenabled()
    False
    """
    global _depth, _reenable
    with _lock:
        if _depth == 0:
            _reenable = gc.isenabled()
            gc.disable()
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0 and _reenable:
                gc.enable()

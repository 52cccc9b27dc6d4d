"""``_get_cache_path``, at DocArray's path: docstack's cache directory.

Example
-------
>>> _get_cache_path().is_dir()
True
"""

from __future__ import annotations

from pathlib import Path

from docstack._internal.cache import cache_dir

__all__ = ["_get_cache_path"]


def _get_cache_path() -> Path:
    """The cache directory (``$DOCSTACK_CACHE``, else ``~/.cache/docstack``), created if
    missing."""
    return cache_dir()

"""Where docstack keeps files it caches (pulled ``DocList`` payloads).

The directory is ``$DOCSTACK_CACHE`` when that is set, else ``~/.cache/docstack``; it is
read at every call, so setting the variable takes effect at once.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["cache_dir", "CACHE_ENV_VAR"]

#: the environment variable that moves the cache directory
CACHE_ENV_VAR = "DOCSTACK_CACHE"


def cache_dir() -> Path:
    """The cache directory, created if missing.

    Returns
    -------
    ``Path($DOCSTACK_CACHE)`` when the variable is set and not empty, else
    ``~/.cache/docstack``.

    Example
    -------
    >>> import os, tempfile
    >>> os.environ['DOCSTACK_CACHE'] = tempfile.mkdtemp()
    >>> cache_dir() == Path(os.environ['DOCSTACK_CACHE'])
    True
    >>> del os.environ['DOCSTACK_CACHE']
    """
    configured = os.environ.get(CACHE_ENV_VAR)
    path = Path(configured).expanduser() if configured else Path.home() / ".cache" / "docstack"
    path.mkdir(parents=True, exist_ok=True)
    return path

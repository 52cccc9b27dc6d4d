"""Making many dicts with the same keys fast."""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Callable

__all__ = ["dict_maker"]


@lru_cache(maxsize=256)
def dict_maker(names: tuple[str, ...]) -> Callable[..., dict[str, Any]]:
    """A function of one value per name that returns the dict ``{name: value}``.

    It is a dict display compiled for these names, twice as fast as
    ``dict(zip(names, values))``; ``map(dict_maker(names), *columns)`` makes one dict per
    row in C. The names are written as ``repr`` literals, so any string is safe.

    Example
    -------
    >>> make = dict_maker(("a", "b c"))
    >>> make(1, 2)
    {'a': 1, 'b c': 2}
    """
    params = ", ".join(f"v{i}" for i in range(len(names)))
    items = ", ".join(f"{name!r}: v{i}" for i, name in enumerate(names))
    return eval(f"lambda {params}: {{{items}}}", {})  # noqa: S307 - built from repr literals

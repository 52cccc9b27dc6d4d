"""Module attributes that import their module on first access (PEP 562).

Used by packages that name classes of optional frameworks (torch, jax, TensorFlow) so that
importing the package imports none of them.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

__all__ = ["lazy_attributes"]


def lazy_attributes(package: str, names: dict[str, str]) -> Callable[[str], Any]:
    """A module ``__getattr__`` that imports ``names[attr]`` (a module path) on first use.

    Example
    -------
    >>> getter = lazy_attributes('pkg', {'sqrt': 'math'})
    >>> getter('sqrt')(4.0)
    2.0
    """

    def __getattr__(attr: str) -> Any:
        module = names.get(attr)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {attr!r}")
        return getattr(importlib.import_module(module), attr)

    return __getattr__

"""Read a value by a ``__``-separated path, and test it with a named lookup.

``lookup('a__b.gt', 3, obj)`` reads ``obj.a.b`` (or ``obj['a']['b']``) and tests it with
the lookup named after the dot. The lookups are ``exact``, ``neq``, ``gt``, ``gte``, ``lt``,
``lte``, ``contains``, ``icontains``, ``in``, ``nin``, ``startswith``, ``istartswith``,
``endswith``, ``iendswith``, ``regex`` (a search, not a full match), ``size`` and
``exists``.

Example
-------
>>> doc = {'a': {'b': 5, 'name': 'docstack'}}
>>> dunder_get(doc, 'a__b')
5
>>> lookup('a__b.gt', 3, doc), lookup('a__name.istartswith', 'DOC', doc)
(True, True)
>>> lookup('a__missing.exists', False, doc)
True
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["dunder_get", "lookup"]


def dunder_get(obj: Any, key: str) -> Any:
    """The value at the ``__``-separated path ``key``: a mapping is read by key (``KeyError``
    when absent), a sequence by integer index, anything else by attribute
    (``AttributeError``)."""
    value = obj
    for part in key.split("__"):
        if isinstance(value, Mapping):
            value = value[part]
        elif isinstance(value, (list, tuple)) and part.lstrip("-").isdigit():
            value = value[int(part)]
        else:
            value = getattr(value, part)
    return value


def _lower(x: Any) -> Any:
    return x.lower() if isinstance(x, str) else x


_LOOKUPS: dict[str, Callable[[Any, Any], bool]] = {
    "exact": lambda v, x: v == x,
    "neq": lambda v, x: v != x,
    "gt": lambda v, x: v > x,
    "gte": lambda v, x: v >= x,
    "lt": lambda v, x: v < x,
    "lte": lambda v, x: v <= x,
    "contains": lambda v, x: x in v,
    "icontains": lambda v, x: _lower(x) in _lower(v),
    "in": lambda v, x: v in x,
    "nin": lambda v, x: v not in x,
    "startswith": lambda v, x: v.startswith(x),
    "istartswith": lambda v, x: v.lower().startswith(x.lower()),
    "endswith": lambda v, x: v.endswith(x),
    "iendswith": lambda v, x: v.lower().endswith(x.lower()),
    "regex": lambda v, x: re.search(x, v) is not None,
    "size": lambda v, x: len(v) == x,
}


def lookup(key: str, val: Any, doc: Any) -> bool:
    """Whether the value of ``doc`` at the path before the dot in ``key`` passes the lookup
    after the dot (``exact`` when there is none) against ``val``."""
    path, _, name = key.partition(".")
    name = name or "exact"
    if name == "exists":
        try:
            dunder_get(doc, path)
        except (KeyError, AttributeError, IndexError):
            return not val
        return bool(val)
    if name not in _LOOKUPS:
        raise ValueError(f"unknown lookup {name!r} in {key!r}; known: {sorted(_LOOKUPS)}")
    try:
        value = dunder_get(doc, path)
    except (KeyError, AttributeError, IndexError):
        return False
    try:
        return bool(_LOOKUPS[name](value, val))
    except TypeError:
        return False

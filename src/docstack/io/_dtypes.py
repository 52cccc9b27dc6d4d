"""The one check every reader applies to a dtype named inside a payload."""

from __future__ import annotations

from typing import Any

import numpy as np

from docstack.errors import DeserializationError

__all__ = ["payload_dtype"]


def payload_dtype(value: Any, what: str) -> np.dtype:
    """The numeric or bool dtype a payload names (``'<f4'``, ``'float32'``, ...).

    Anything else (objects, records, sub-arrays, dates, strings, or text numpy does not
    know) is a :class:`~docstack.errors.DeserializationError` naming ``what``: a payload
    never decides to build an object array.

    Example
    -------
    >>> payload_dtype('<f4', 'column x')
    dtype('float32')
    >>> payload_dtype('O', 'column x')
    Traceback (most recent call last):
    ...
    docstack.errors.DeserializationError: column x has an invalid dtype 'O'
    """
    dtype = None
    if isinstance(value, str) and len(value) <= 32:
        try:
            dtype = np.dtype(value)
        except (TypeError, ValueError, SyntaxError):
            dtype = None
    if dtype is None or dtype.kind not in "biufc" or dtype.fields or dtype.subdtype:
        raise DeserializationError(f"{what} has an invalid dtype {value!r}")
    return dtype

"""``orjson`` dumps that know docstack's values: tensors of any framework, documents and
arrays of documents, numpy scalars, and bytes (as base64, which documents read back from
JSON).

Example
-------
>>> import numpy as np
>>> orjson_dumps({'v': np.arange(3), 'n': np.float32(0.5)})
b'{"v":[0,1,2],"n":0.5}'
>>> orjson_dumps_and_decode([1, 2, b'hi'])
'[1,2,"aGk="]'
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

import numpy as np
import orjson

from docstack.typing.tensor._convert import framework_of, to_numpy

__all__ = ["orjson_dumps", "orjson_dumps_and_decode"]

_OPTIONS = orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS


def _default(value: Any) -> Any:
    """What orjson cannot write on its own, as values it can."""
    if framework_of(value) is not None:
        return to_numpy(value).tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (bytes, bytearray, memoryview)):
        return base64.b64encode(value).decode("ascii")
    kind = type(value)
    if getattr(kind, "__docstack_document__", False):
        from docstack.io._json import doc_json_bytes

        return orjson.Fragment(doc_json_bytes(value))
    if getattr(kind, "__docstack_doc_array__", False):
        from docstack.io._json import array_json_bytes

        return orjson.Fragment(array_json_bytes(value))
    if isinstance(value, np.ndarray):  # a dtype or layout orjson does not take natively
        return value.tolist()
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json")
    raise TypeError(f"a value of type {kind.__name__} cannot be written as JSON: {value!r:.80}")


def orjson_dumps(v: Any, *, default: Callable[[Any], Any] | None = None) -> bytes:
    """``v`` as JSON bytes; ``default`` handles what neither orjson nor docstack can write.

    Raises
    ------
    TypeError
        A value that cannot be written as JSON (orjson raises its ``JSONEncodeError``, a
        ``TypeError``).
    """
    if default is None:
        return orjson.dumps(v, default=_default, option=_OPTIONS)

    def chained(value: Any) -> Any:
        try:
            return _default(value)
        except TypeError:
            return default(value)

    return orjson.dumps(v, default=chained, option=_OPTIONS)


def orjson_dumps_and_decode(v: Any, *, default: Callable[[Any], Any] | None = None) -> str:
    """``v`` as JSON text (see :func:`orjson_dumps`)."""
    return orjson_dumps(v, default=default).decode()

"""Sending documents: the codecs behind ``to_json``, ``to_bytes``, ``save_binary``,
``to_protobuf``, ``to_arrow``, ``to_parquet``, ``to_dataframe``, ``to_csv`` and the
FastAPI response class.

The methods live on :class:`~docstack.BaseDoc`, :class:`~docstack.DocList` and
:class:`~docstack.DocVec`; this package holds what they call and the names a caller may
need: the protocols and compressions, and :class:`DocstackResponse` (FastAPI, imported
when first used).

Example
-------
>>> from docstack.io import PROTOCOLS, COMPRESSIONS
>>> 'docstack' in PROTOCOLS and 'zstd' in COMPRESSIONS
True
"""

from __future__ import annotations

from typing import Any

from docstack.io._compression import COMPRESSIONS
from docstack.io._protocols import PROTOCOLS

__all__ = ["COMPRESSIONS", "PROTOCOLS", "DocstackResponse"]


def __getattr__(name: str) -> Any:
    if name == "DocstackResponse":
        from docstack.io._fastapi import DocstackResponse

        return DocstackResponse
    raise AttributeError(f"module 'docstack.io' has no attribute {name!r}")

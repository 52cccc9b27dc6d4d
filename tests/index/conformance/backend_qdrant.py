"""Qdrant in qdrant-client's local mode (the engine in this process), for the conformance suite.

Each factory call opens a new in-memory engine, so every test starts from an empty collection.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest


def _qdrant_local(doc_type: type, work_dir: str, **kwargs: Any) -> Any:
    pytest.importorskip("qdrant_client")
    from docstack.index import QdrantDocumentIndex

    return QdrantDocumentIndex[doc_type](location=":memory:", **kwargs)


FACTORIES: dict[str, Callable[..., Any]] = {"qdrant_local": _qdrant_local}

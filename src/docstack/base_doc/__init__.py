"""Documents: ``BaseDoc``, ``BaseDocWithoutId`` and the schemaless ``AnyDoc``.

``DocArrayResponse`` is :class:`docstack.io.DocstackResponse` under the name code written
for DocArray imports from here (FastAPI; imported when first used).
"""

from typing import Any

from docstack.base_doc.any_doc import AnyDoc
from docstack.base_doc.doc import BaseDoc, BaseDocWithoutId

__all__ = ["AnyDoc", "BaseDoc", "BaseDocWithoutId", "DocArrayResponse"]


def __getattr__(name: str) -> Any:
    if name == "DocArrayResponse":
        from docstack.io._fastapi import DocstackResponse

        return DocstackResponse
    raise AttributeError(f"module 'docstack.base_doc' has no attribute {name!r}")

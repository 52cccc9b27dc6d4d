"""Documents: ``BaseDoc``, ``BaseDocWithoutId`` and the schemaless ``AnyDoc``."""

from docstack.base_doc.any_doc import AnyDoc
from docstack.base_doc.doc import BaseDoc, BaseDocWithoutId

__all__ = ["AnyDoc", "BaseDoc", "BaseDocWithoutId"]

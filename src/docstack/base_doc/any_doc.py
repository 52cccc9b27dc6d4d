"""``AnyDoc``: a schemaless document that accepts any fields."""

from __future__ import annotations

from pydantic import ConfigDict

from docstack.base_doc.doc import BaseDoc

__all__ = ["AnyDoc"]


class AnyDoc(BaseDoc):
    """A document with no fixed schema: every keyword becomes a field.

    ``DocList`` without a type parameter holds documents of any type, and ``AnyDoc`` is what
    untyped data (a dict, a JSON object) loads into.

    Example
    -------
    >>> from docstack.base_doc import AnyDoc
    >>> doc = AnyDoc(title='hello', score=3)
    >>> doc.title, doc.score
    ('hello', 3)
    """

    model_config = ConfigDict(extra="allow")

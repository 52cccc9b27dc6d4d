"""``LegacyDocument``: the data model of DocArray v1's ``Document``, as a docstack document."""

from __future__ import annotations

from typing import Any, Optional

from docstack.array.doc_list import DocList
from docstack.base_doc import BaseDoc
from docstack.typing.tensor.any_tensor import AnyEmbedding, AnyTensor

__all__ = ["LegacyDocument"]


class LegacyDocument(BaseDoc):
    """A document with the fields of DocArray v1 (``docarray<=0.21``) ``Document``.

    It helps to move a code base from DocArray v1: data shaped like a v1 ``Document`` fits
    it. Only the fields are the same; the methods of the v1 ``Document`` are not here.

    Parameters
    ----------
    tensor:
        A tensor of any framework.
    chunks:
        Parts of this document, themselves ``LegacyDocument`` s.
    matches:
        Documents that matched this one in a search.
    blob:
        Raw bytes.
    text:
        Text.
    url:
        Where the content comes from (v1's ``uri``).
    embedding:
        An embedding (a tensor of any framework).
    tags:
        Free-form metadata; a new empty dict for each document.
    scores:
        Named scores, such as those of a match.

    Example
    -------
    >>> import numpy as np
    >>> from docstack import DocList
    >>> from docstack.documents.legacy import LegacyDocument
    >>> doc = LegacyDocument(text='hello', url='http://example.com/img.png')
    >>> doc.embedding = np.zeros(4)
    >>> doc.tags['price'] = 10
    >>> doc.chunks = DocList[LegacyDocument]([LegacyDocument(text='hel'), LegacyDocument()])
    >>> len(doc.chunks), doc.chunks[0].text, doc.tags
    (2, 'hel', {'price': 10})
    >>> LegacyDocument().tags is LegacyDocument().tags
    False
    """

    tensor: Optional[AnyTensor] = None
    chunks: Optional[DocList[LegacyDocument]] = None
    matches: Optional[DocList[LegacyDocument]] = None
    blob: Optional[bytes] = None
    text: Optional[str] = None
    url: Optional[str] = None
    embedding: Optional[AnyEmbedding] = None
    tags: dict[str, Any] = {}
    scores: Optional[dict[str, Any]] = None


# doctest compiles the examples with this module's __future__ flags; without this, classes
# defined in them could not resolve their string annotations
del annotations

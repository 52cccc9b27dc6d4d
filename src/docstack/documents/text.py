"""``TextDoc``: a ready document for text."""

from __future__ import annotations

from typing import Any, Optional

from pydantic import model_validator

from docstack.base_doc import BaseDoc
from docstack.documents._shorthand import UNSET, positional_to_fields
from docstack.typing.tensor.any_tensor import AnyEmbedding
from docstack.typing.url.text_url import TextUrl

__all__ = ["TextDoc"]


class TextDoc(BaseDoc):
    """A document for text: the text itself, where it comes from and its embedding.

    Shorthands: ``TextDoc('hello')`` is ``TextDoc(text='hello')``, and a ``str`` given to a
    field of type ``TextDoc`` becomes ``TextDoc(text=...)``. A ``TextDoc`` compares equal to
    a ``str`` when its ``text`` is that string, and ``'ell' in TextDoc('hello')`` looks into
    the text.

    Parameters
    ----------
    text:
        The text (also the one positional argument).
    url:
        Where the text comes from; :meth:`TextUrl.load` reads it.
    embedding:
        An embedding of the text (a tensor of any framework).
    bytes_:
        The raw bytes of the text.

    Example
    -------
    >>> from docstack import BaseDoc
    >>> from docstack.documents import TextDoc
    >>> doc = TextDoc('hello world')
    >>> doc.text, doc == 'hello world', 'world' in doc
    ('hello world', True, True)
    >>> class Post(BaseDoc):
    ...     title: TextDoc
    >>> Post(title='Hi').title.text
    'Hi'
    """

    text: Optional[str] = None
    url: Optional[TextUrl] = None
    embedding: Optional[AnyEmbedding] = None
    bytes_: Optional[bytes] = None

    def __init__(self, value: Any = UNSET, /, **data: Any) -> None:
        fields = {"text": value}
        super().__init__(**positional_to_fields(type(self), value, data, fields, "the text"))

    # pydantic validates dicts without calling this __init__, as for the base one
    __init__.__pydantic_base_init__ = True  # type: ignore[attr-defined]

    @model_validator(mode="before")
    @classmethod
    def _docstack_from_str(cls, data: Any) -> Any:
        return {"text": data} if isinstance(data, str) else data

    def __eq__(self, other: object) -> bool:
        if isinstance(other, str):
            return self.text == other
        return super().__eq__(other)

    __hash__ = None  # type: ignore[assignment]

    def __contains__(self, item: str) -> bool:
        """Whether ``item`` occurs in the text (``False`` when there is no text).

        Parameters
        ----------
        item:
            The substring to look for.

        Returns
        -------
        bool
            ``item in self.text``.

        Example
        -------
        >>> from docstack.documents import TextDoc
        >>> 'ell' in TextDoc('hello'), 'x' in TextDoc()
        (True, False)
        """
        return self.text is not None and item in self.text

"""``ImageDoc``: a ready document for images."""

from __future__ import annotations

from typing import Any, Optional

from pydantic import model_validator

from docstack.base_doc import BaseDoc
from docstack.documents._shorthand import UNSET, media_fields, positional_to_fields
from docstack.typing.bytes.image_bytes import ImageBytes
from docstack.typing.tensor.any_tensor import AnyEmbedding, ImageTensor
from docstack.typing.url.image_url import ImageUrl

__all__ = ["ImageDoc"]


def _shorthand(value: Any) -> dict[str, Any] | None:
    return media_fields(value, str_field="url", tensor_field="tensor", bytes_field="bytes_")


class ImageDoc(BaseDoc):
    """A document for an image: its URL, pixels, encoded bytes and embedding.

    Shorthands, both for the one positional argument and for a value given to a field of type
    ``ImageDoc``: a ``str`` is the ``url``, a tensor (numpy, torch, jax, ...) the ``tensor``
    and ``bytes`` the ``bytes_``.

    Parameters
    ----------
    url:
        Where the image is; ``doc.url.load()`` decodes it to a tensor.
    tensor:
        The pixels, a tensor of any framework (``(H, W, C)`` by convention).
    embedding:
        An embedding of the image.
    bytes_:
        The encoded image (PNG, JPEG, ...); ``doc.bytes_.load()`` decodes it.

    Example
    -------
    >>> import numpy as np
    >>> from docstack import BaseDoc
    >>> from docstack.documents import ImageDoc
    >>> ImageDoc('https://example.com/cat.png').url
    'https://example.com/cat.png'
    >>> class Product(BaseDoc):
    ...     photo: ImageDoc
    >>> Product(photo=np.zeros((8, 8, 3), np.uint8)).photo.tensor.shape
    (8, 8, 3)
    >>> doc = ImageDoc(url='https://example.com/cat.png')
    >>> doc.tensor = doc.url.load()  # doctest: +SKIP
    """

    url: Optional[ImageUrl] = None
    tensor: Optional[ImageTensor] = None
    embedding: Optional[AnyEmbedding] = None
    bytes_: Optional[ImageBytes] = None

    def __init__(self, value: Any = UNSET, /, **data: Any) -> None:
        fields = _shorthand(value)
        accepts = "a URL (str), a tensor or bytes"
        super().__init__(**positional_to_fields(type(self), value, data, fields, accepts))

    # pydantic validates dicts without calling this __init__, as for the base one
    __init__.__pydantic_base_init__ = True  # type: ignore[attr-defined]

    @model_validator(mode="before")
    @classmethod
    def _docstack_shorthand(cls, data: Any) -> Any:
        fields = _shorthand(data)
        return data if fields is None else fields

"""``ImageDoc``: a ready document for images."""

from __future__ import annotations

from typing import Any, ClassVar, Optional

from docstack.documents._shorthand import MediaDoc
from docstack.typing.bytes.image_bytes import ImageBytes
from docstack.typing.tensor.any_tensor import AnyEmbedding, ImageTensor
from docstack.typing.url.image_url import ImageUrl

__all__ = ["ImageDoc"]


class ImageDoc(MediaDoc):
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

    _docstack_shorthand_fields: ClassVar[dict[str, Any]] = {
        "str_field": "url",
        "tensor_field": "tensor",
        "bytes_field": "bytes_",
    }
    _docstack_accepts: ClassVar[str] = "a URL (str), a tensor or bytes"

    url: Optional[ImageUrl] = None
    tensor: Optional[ImageTensor] = None
    embedding: Optional[AnyEmbedding] = None
    bytes_: Optional[ImageBytes] = None

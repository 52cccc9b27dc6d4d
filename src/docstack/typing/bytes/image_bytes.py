"""``ImageBytes``: encoded image bytes (PNG, JPEG, ...) that decode to a tensor."""

from __future__ import annotations

import io
from typing import Any

from docstack._internal.media import decode_image
from docstack._internal.optional import import_optional
from docstack.errors import LoadError
from docstack.typing.bytes._base import MediaBytes
from docstack.typing.tensor.ndarray import ImageNdArray

__all__ = ["ImageBytes"]


class ImageBytes(MediaBytes):
    """The bytes of an encoded image (PNG, JPEG, GIF, BMP, WebP, TIFF, ...).

    A ``bytes`` subclass; as a field it accepts ``bytes``, ``bytearray``, ``memoryview`` and
    base64 strings, and is written to JSON as base64.

    Example
    -------
    >>> import numpy as np
    >>> from docstack.typing import ImageBytes, ImageNdArray
    >>> png = ImageNdArray.validate(np.zeros((4, 6, 3), np.uint8)).to_bytes()
    >>> ImageBytes(png).load().shape
    (4, 6, 3)
    """

    __slots__ = ()

    def load(
        self,
        width: int | None = None,
        height: int | None = None,
        axis_layout: tuple[str, str, str] = ("H", "W", "C"),
    ) -> ImageNdArray:
        """Decode the image to a uint8 RGB tensor.

        Parameters
        ----------
        width, height:
            Resize to this size; with only one given the other keeps the aspect ratio.
        axis_layout:
            The order of the axes, a permutation of ``('H', 'W', 'C')``.

        Returns
        -------
        ImageNdArray
            uint8 pixels, shape ``(H, W, 3)`` in the requested axis order.

        Raises
        ------
        LoadError
            The bytes are not a decodable image.

        Example
        -------
        >>> import numpy as np
        >>> from docstack.typing import ImageBytes, ImageNdArray
        >>> png = ImageNdArray.validate(np.zeros((4, 6, 3), np.uint8)).to_bytes()
        >>> ImageBytes(png).load(width=3, axis_layout=('C', 'H', 'W')).shape
        (3, 2, 3)
        """
        pixels = decode_image(bytes(self), width=width, height=height, axis_layout=axis_layout)
        return ImageNdArray._docstack_convert(pixels)

    def load_pil(self) -> Any:
        """Decode the image to a ``PIL.Image.Image`` (fully loaded, in its own mode).

        Returns
        -------
        PIL.Image.Image
            The image.

        Raises
        ------
        LoadError
            The bytes are not a decodable image.

        Example
        -------
        >>> import numpy as np
        >>> from docstack.typing import ImageBytes, ImageNdArray
        >>> png = ImageNdArray.validate(np.zeros((4, 6, 3), np.uint8)).to_bytes()
        >>> ImageBytes(png).load_pil().size
        (6, 4)
        """
        pil_image = import_optional("PIL.Image")
        try:
            image = pil_image.open(io.BytesIO(bytes(self)))
            image.load()
        except pil_image.DecompressionBombError as exc:
            raise LoadError(f"not a decodable image: too many pixels ({exc})") from exc
        except (OSError, ValueError, SyntaxError, TypeError, IndexError, EOFError) as exc:
            raise LoadError(
                f"not a decodable image ({len(self)} bytes starting with "
                f"{bytes(self[:12])!r}): {exc}"
            ) from exc
        return image

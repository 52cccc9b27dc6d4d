"""``ImageUrl``: the URL of an image."""

from __future__ import annotations

from typing import Any, ClassVar, cast

from docstack.typing.bytes.image_bytes import ImageBytes
from docstack.typing.tensor.ndarray import ImageNdArray
from docstack.typing.url._extensions import IMAGE_EXTENSIONS
from docstack.typing.url._loading import display_media_url, naming_url
from docstack.typing.url.any_url import AnyUrl

__all__ = ["ImageUrl"]


class ImageUrl(AnyUrl):
    """The URL or path of an image (PNG, JPEG, GIF, BMP, WebP, TIFF, ...).

    A ``str``. A URL whose extension belongs to another media type (``'.mp3'``, ``'.mp4'``,
    ...) is rejected; URLs without extension or with an unknown one are accepted.

    Example
    -------
    >>> from docstack import BaseDoc
    >>> from docstack.typing import ImageUrl
    >>> class Banner(BaseDoc):
    ...     image: ImageUrl
    >>> Banner(image='http://example.ai/images/1024').image
    'http://example.ai/images/1024'
    >>> Banner(image='https://example.com/a.png').image.load()  # doctest: +SKIP
    """

    __slots__ = ()

    _docstack_extensions: ClassVar[frozenset[str] | None] = IMAGE_EXTENSIONS
    _docstack_media_majors: ClassVar[frozenset[str]] = frozenset({"image"})
    _docstack_what: ClassVar[str] = "images"
    _docstack_mime: ClassVar[str | None] = "image"
    _docstack_bytes_type: ClassVar[type[bytes]] = ImageBytes

    def load(
        self,
        width: int | None = None,
        height: int | None = None,
        axis_layout: tuple[str, str, str] = ("H", "W", "C"),
        timeout: float | None = None,
        max_bytes: int | None = None,
    ) -> ImageNdArray:
        """Fetch and decode the image to a uint8 RGB tensor.

        Parameters
        ----------
        width, height:
            Resize to this size; with only one given the other keeps the aspect ratio.
        axis_layout:
            The order of the axes, a permutation of ``('H', 'W', 'C')``.
        timeout:
            Seconds each network operation may take.
        max_bytes:
            Largest accepted size of the encoded image.

        Returns
        -------
        ImageNdArray
            uint8 pixels, ``(H, W, 3)`` in the requested axis order.

        Raises
        ------
        LoadError
            The URL cannot be fetched or the data is not a decodable image.

        Example
        -------
        >>> from docstack.typing import ImageUrl
        >>> url = ImageUrl('https://example.com/a.png')
        >>> url.load(width=224, height=224, axis_layout=('C', 'H', 'W'))  # doctest: +SKIP
        """
        data = cast(ImageBytes, self.load_bytes(timeout=timeout, max_bytes=max_bytes))
        with naming_url(self):
            return data.load(width=width, height=height, axis_layout=axis_layout)

    def load_pil(self, timeout: float | None = None, max_bytes: int | None = None) -> Any:
        """Fetch the image and open it with Pillow.

        Parameters
        ----------
        timeout:
            Seconds each network operation may take.
        max_bytes:
            Largest accepted size of the encoded image.

        Returns
        -------
        PIL.Image.Image
            The image, fully loaded, in its own mode.

        Raises
        ------
        LoadError
            The URL cannot be fetched or the data is not a decodable image.

        Example
        -------
        >>> from docstack.typing import ImageUrl
        >>> ImageUrl('https://example.com/a.png').load_pil().size  # doctest: +SKIP
        """
        data = cast(ImageBytes, self.load_bytes(timeout=timeout, max_bytes=max_bytes))
        with naming_url(self):
            return data.load_pil()

    def display(self) -> None:
        """Show the image in a notebook (remote images are shown by URL).

        Raises
        ------
        RuntimeError
            Not running in a notebook.

        Example
        -------
        >>> from docstack.typing import ImageUrl
        >>> ImageUrl('https://example.com/a.png').display()  # doctest: +SKIP
        """

        display_media_url(self, "Image")

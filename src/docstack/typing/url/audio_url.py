"""``AudioUrl``: the URL of an audio file."""

from __future__ import annotations

from typing import ClassVar, cast

from docstack.typing.bytes.audio_bytes import AudioBytes
from docstack.typing.tensor.ndarray import AudioNdArray
from docstack.typing.url._extensions import AUDIO_EXTENSIONS
from docstack.typing.url._loading import display_media_url, naming_url
from docstack.typing.url.any_url import AnyUrl

__all__ = ["AudioUrl"]


class AudioUrl(AnyUrl):
    """The URL or path of an audio file (WAV, FLAC, OGG, MP3, M4A, ...).

    A ``str``. A URL whose extension belongs to another media type (``'.png'``, ``'.mp4'``,
    ...) is rejected; URLs without extension or with an unknown one are accepted.

    Example
    -------
    >>> from docstack import BaseDoc
    >>> from docstack.typing import AudioUrl
    >>> class Song(BaseDoc):
    ...     url: AudioUrl
    >>> Song(url='https://example.com/song.mp3').url
    'https://example.com/song.mp3'
    >>> samples, frame_rate = Song(url='https://example.com/a.wav').url.load()  # doctest: +SKIP
    """

    __slots__ = ()

    _docstack_extensions: ClassVar[frozenset[str] | None] = AUDIO_EXTENSIONS
    _docstack_media_majors: ClassVar[frozenset[str]] = frozenset({"audio"})
    _docstack_what: ClassVar[str] = "audio"
    _docstack_mime: ClassVar[str | None] = "audio"
    _docstack_bytes_type: ClassVar[type[bytes]] = AudioBytes

    def load(
        self, timeout: float | None = None, max_bytes: int | None = None
    ) -> tuple[AudioNdArray, int]:
        """Fetch and decode the audio to float samples and their frame rate.

        Parameters
        ----------
        timeout:
            Seconds each network operation may take.
        max_bytes:
            Largest accepted size of the encoded audio.

        Returns
        -------
        tuple[AudioNdArray, int]
            ``(samples, frame_rate)``: float32 samples in [-1, 1], ``(n,)`` for mono or
            ``(n, channels)``, and the number of frames per second.

        Raises
        ------
        LoadError
            The URL cannot be fetched or the data is not decodable audio.

        Example
        -------
        >>> from docstack.typing import AudioUrl
        >>> samples, frame_rate = AudioUrl('https://example.com/a.wav').load()  # doctest: +SKIP
        """
        data = cast(AudioBytes, self.load_bytes(timeout=timeout, max_bytes=max_bytes))
        with naming_url(self):
            return data.load()

    def display(self) -> None:
        """Play the audio in a notebook (remote audio is played from its URL).

        Raises
        ------
        RuntimeError
            Not running in a notebook.

        Example
        -------
        >>> from docstack.typing import AudioUrl
        >>> AudioUrl('https://example.com/a.wav').display()  # doctest: +SKIP
        """

        display_media_url(self, "Audio")

"""``AudioDoc``: a ready document for audio."""

from __future__ import annotations

from typing import Any, ClassVar, Optional

from docstack.documents._shorthand import MediaDoc
from docstack.typing.bytes.audio_bytes import AudioBytes
from docstack.typing.tensor.any_tensor import AnyEmbedding, AudioTensor
from docstack.typing.url.audio_url import AudioUrl

__all__ = ["AudioDoc"]


class AudioDoc(MediaDoc):
    """A document for audio: its URL, samples, frame rate, encoded bytes and embedding.

    Shorthands, both for the one positional argument and for a value given to a field of type
    ``AudioDoc``: a ``str`` is the ``url``, a tensor the ``tensor`` and ``bytes`` the
    ``bytes_``.

    Parameters
    ----------
    url:
        Where the audio is; ``doc.url.load()`` gives ``(samples, frame_rate)``.
    tensor:
        The samples, ``(n,)`` or ``(n, channels)``, a tensor of any framework.
    embedding:
        An embedding of the audio.
    bytes_:
        The encoded audio (WAV, MP3, ...); ``doc.bytes_.load()`` decodes it.
    frame_rate:
        Frames (samples per channel) per second of ``tensor``.

    Example
    -------
    >>> from docstack.documents import AudioDoc
    >>> doc = AudioDoc('https://example.com/song.mp3')
    >>> doc.url
    'https://example.com/song.mp3'
    >>> doc.tensor, doc.frame_rate = doc.url.load()  # doctest: +SKIP
    """

    _docstack_shorthand_fields: ClassVar[dict[str, Any]] = {
        "str_field": "url",
        "tensor_field": "tensor",
        "bytes_field": "bytes_",
    }
    _docstack_accepts: ClassVar[str] = "a URL (str), a tensor or bytes"

    url: Optional[AudioUrl] = None
    tensor: Optional[AudioTensor] = None
    embedding: Optional[AnyEmbedding] = None
    bytes_: Optional[AudioBytes] = None
    frame_rate: Optional[int] = None

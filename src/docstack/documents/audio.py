"""``AudioDoc``: a ready document for audio."""

from __future__ import annotations

from typing import Any, Optional

from pydantic import model_validator

from docstack.base_doc import BaseDoc
from docstack.documents._shorthand import UNSET, media_fields, positional_to_fields
from docstack.typing.bytes.audio_bytes import AudioBytes
from docstack.typing.tensor.any_tensor import AnyEmbedding, AudioTensor
from docstack.typing.url.audio_url import AudioUrl

__all__ = ["AudioDoc"]


def _shorthand(value: Any) -> dict[str, Any] | None:
    return media_fields(value, str_field="url", tensor_field="tensor", bytes_field="bytes_")


class AudioDoc(BaseDoc):
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

    url: Optional[AudioUrl] = None
    tensor: Optional[AudioTensor] = None
    embedding: Optional[AnyEmbedding] = None
    bytes_: Optional[AudioBytes] = None
    frame_rate: Optional[int] = None

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

"""``VideoDoc``: a ready document for videos."""

from __future__ import annotations

from typing import Any, Optional

from pydantic import Field, model_validator

from docstack.base_doc import BaseDoc
from docstack.documents._shorthand import UNSET, media_fields, positional_to_fields
from docstack.documents.audio import AudioDoc
from docstack.typing.bytes.video_bytes import VideoBytes
from docstack.typing.tensor.any_tensor import AnyEmbedding, AnyTensor, VideoTensor
from docstack.typing.url.video_url import VideoUrl

__all__ = ["VideoDoc"]


def _shorthand(value: Any) -> dict[str, Any] | None:
    return media_fields(value, str_field="url", tensor_field="tensor", bytes_field="bytes_")


class VideoDoc(BaseDoc):
    """A document for a video: its URL, frames, sound, key frames, bytes and embedding.

    Shorthands, both for the one positional argument and for a value given to a field of type
    ``VideoDoc``: a ``str`` is the ``url``, a tensor the ``tensor`` and ``bytes`` the
    ``bytes_``.

    Parameters
    ----------
    url:
        Where the video is; ``doc.url.load()`` gives ``(video, audio, key_frame_indices)``.
    audio:
        The sound track as an :class:`~docstack.documents.AudioDoc`; by default a fresh empty
        ``AudioDoc()`` per document.
    tensor:
        The frames, ``(N, H, W, 3)``, a tensor of any framework.
    key_frame_indices:
        Indices of the key frames.
    embedding:
        An embedding of the video.
    bytes_:
        The encoded video (MP4, ...); ``doc.bytes_.load()`` decodes it.

    Example
    -------
    >>> from docstack.documents import VideoDoc
    >>> doc = VideoDoc('https://example.com/clip.mp4')
    >>> doc.audio.tensor is None
    True
    >>> doc.tensor, doc.audio.tensor, doc.key_frame_indices = doc.url.load()  # doctest: +SKIP
    """

    url: Optional[VideoUrl] = None
    audio: Optional[AudioDoc] = Field(default_factory=AudioDoc)
    tensor: Optional[VideoTensor] = None
    key_frame_indices: Optional[AnyTensor] = None
    embedding: Optional[AnyEmbedding] = None
    bytes_: Optional[VideoBytes] = None

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

"""``VideoDoc``: a ready document for videos."""

from __future__ import annotations

from typing import Any, ClassVar, Optional

from pydantic import Field

from docstack.documents._shorthand import MediaDoc
from docstack.documents.audio import AudioDoc
from docstack.typing.bytes.video_bytes import VideoBytes
from docstack.typing.tensor.any_tensor import AnyEmbedding, AnyTensor, VideoTensor
from docstack.typing.url.video_url import VideoUrl

__all__ = ["VideoDoc"]


class VideoDoc(MediaDoc):
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

    _docstack_shorthand_fields: ClassVar[dict[str, Any]] = {
        "str_field": "url",
        "tensor_field": "tensor",
        "bytes_field": "bytes_",
    }
    _docstack_accepts: ClassVar[str] = "a URL (str), a tensor or bytes"

    url: Optional[VideoUrl] = None
    audio: Optional[AudioDoc] = Field(default_factory=AudioDoc)
    tensor: Optional[VideoTensor] = None
    key_frame_indices: Optional[AnyTensor] = None
    embedding: Optional[AnyEmbedding] = None
    bytes_: Optional[VideoBytes] = None

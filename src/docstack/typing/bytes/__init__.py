"""Bytes types: encoded media kept as ``bytes``, with ``load()`` to decode them."""

from docstack.typing.bytes.audio_bytes import AudioBytes
from docstack.typing.bytes.image_bytes import ImageBytes
from docstack.typing.bytes.video_bytes import VideoBytes, VideoLoadResult

__all__ = ["AudioBytes", "ImageBytes", "VideoBytes", "VideoLoadResult"]

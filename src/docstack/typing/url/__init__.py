"""URL types: a ``str`` that validates the URL and loads what it points to."""

from docstack.typing.url.any_url import AnyUrl
from docstack.typing.url.audio_url import AudioUrl
from docstack.typing.url.image_url import ImageUrl
from docstack.typing.url.mesh_url import Mesh3DUrl
from docstack.typing.url.point_cloud_url import PointCloud3DUrl
from docstack.typing.url.text_url import TextUrl
from docstack.typing.url.video_url import VideoUrl

__all__ = [
    "AnyUrl",
    "AudioUrl",
    "ImageUrl",
    "Mesh3DUrl",
    "PointCloud3DUrl",
    "TextUrl",
    "VideoUrl",
]

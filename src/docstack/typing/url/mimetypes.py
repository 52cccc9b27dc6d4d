"""The media kinds of the URL types, under DocArray's names.

Each URL type's ``mime_type()`` is one of these: ``ImageUrl.mime_type() == IMAGE_MIMETYPE``,
and the 3D types (``Mesh3DUrl``, ``PointCloud3DUrl``) use ``OBJ_MIMETYPE``. The extra
extension lists name the extensions a kind accepts that Python's ``mimetypes`` does not map
to it (3D formats, source code as text).

Example
-------
>>> from docstack.typing import ImageUrl
>>> ImageUrl.mime_type() == IMAGE_MIMETYPE
True
"""

from __future__ import annotations

from docstack.typing.url._extensions import (
    MESH_EXTENSIONS,
    POINT_CLOUD_EXTENSIONS,
    TEXT_EXTENSIONS,
)

__all__ = [
    "AUDIO_MIMETYPE",
    "IMAGE_MIMETYPE",
    "MESH_EXTRA_EXTENSIONS",
    "OBJ_MIMETYPE",
    "POINT_CLOUD_EXTRA_EXTENSIONS",
    "TEXT_EXTRA_EXTENSIONS",
    "TEXT_MIMETYPE",
    "VIDEO_MIMETYPE",
]

TEXT_MIMETYPE = "text"
AUDIO_MIMETYPE = "audio"
IMAGE_MIMETYPE = "image"
VIDEO_MIMETYPE = "video"
#: the kind of 3D files (meshes and point clouds)
OBJ_MIMETYPE = "application/x-tgif"

MESH_EXTRA_EXTENSIONS: list[str] = sorted(MESH_EXTENSIONS)
POINT_CLOUD_EXTRA_EXTENSIONS: list[str] = sorted(POINT_CLOUD_EXTENSIONS)
TEXT_EXTRA_EXTENSIONS: list[str] = sorted(TEXT_EXTENSIONS)

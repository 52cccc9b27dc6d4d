"""Ready documents for text, images, audio, video, 3D meshes and point clouds.

Example
-------
>>> from docstack.documents import ImageDoc, TextDoc
>>> TextDoc('hello').text
'hello'
>>> ImageDoc('https://example.com/cat.png').url
'https://example.com/cat.png'
"""

from docstack.documents.audio import AudioDoc
from docstack.documents.image import ImageDoc
from docstack.documents.mesh import Mesh3D, VerticesAndFaces
from docstack.documents.point_cloud import PointCloud3D, PointsAndColors
from docstack.documents.text import TextDoc
from docstack.documents.video import VideoDoc

__all__ = [
    "AudioDoc",
    "ImageDoc",
    "Mesh3D",
    "PointCloud3D",
    "PointsAndColors",
    "TextDoc",
    "VerticesAndFaces",
    "VideoDoc",
]

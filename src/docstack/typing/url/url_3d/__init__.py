"""The 3D URL types at DocArray's path."""

from docstack.typing.url.mesh_url import Mesh3DUrl
from docstack.typing.url.point_cloud_url import PointCloud3DUrl

__all__ = ["Mesh3DUrl", "PointCloud3DUrl"]

"""DocArray's module path for the point cloud URL type; it lives in ``docstack.typing.url.point_cloud_url``."""

from docstack.typing.url.point_cloud_url import PointCloud3DUrl

__all__ = ["PointCloud3DUrl"]

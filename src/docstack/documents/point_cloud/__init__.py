"""Point cloud documents: ``PointCloud3D`` and the tensors it holds, ``PointsAndColors``."""

from docstack.documents.point_cloud.point_cloud_3d import PointCloud3D
from docstack.documents.point_cloud.points_and_colors import PointsAndColors

__all__ = ["PointCloud3D", "PointsAndColors"]

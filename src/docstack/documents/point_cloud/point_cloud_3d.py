"""``PointCloud3D``: a ready document for point clouds."""

from __future__ import annotations

from typing import Any, ClassVar, Optional

from docstack.documents._shorthand import MediaDoc
from docstack.documents.point_cloud.points_and_colors import PointsAndColors
from docstack.typing.tensor.any_tensor import AnyEmbedding
from docstack.typing.url.point_cloud_url import PointCloud3DUrl

__all__ = ["PointCloud3D"]


class PointCloud3D(MediaDoc):
    """A document for a point cloud: its URL, points and colors, bytes and embedding.

    Shorthands, both for the one positional argument and for a value given to a field of type
    ``PointCloud3D``: a ``str`` is the ``url``, ``bytes`` the ``bytes_``, a
    :class:`PointsAndColors` the ``tensors`` and a tensor of any framework the points
    (``tensors.points``).

    Parameters
    ----------
    url:
        Where the point cloud (or mesh) file is; ``doc.url.load(samples)`` gives a
        :class:`PointsAndColors`.
    tensors:
        The points and their colors.
    embedding:
        An embedding of the point cloud.
    bytes_:
        The file's bytes.

    Example
    -------
    >>> from docstack.documents import PointCloud3D
    >>> cloud = PointCloud3D('https://example.com/scan.ply')
    >>> cloud.url
    'https://example.com/scan.ply'
    >>> cloud.tensors = cloud.url.load(samples=1000)  # doctest: +SKIP
    >>> import numpy as np
    >>> PointCloud3D(np.zeros((100, 3))).tensors.points.shape
    (100, 3)
    """

    _docstack_shorthand_fields: ClassVar[dict[str, Any]] = {
        "str_field": "url",
        "bytes_field": "bytes_",
        "doc_field": "tensors",
        "doc_type": PointsAndColors,
        "tensor_field": "tensors__points",
    }
    _docstack_accepts: ClassVar[str] = "a URL (str), bytes, PointsAndColors or a tensor of points"

    url: Optional[PointCloud3DUrl] = None
    tensors: Optional[PointsAndColors] = None
    embedding: Optional[AnyEmbedding] = None
    bytes_: Optional[bytes] = None

"""``PointCloud3D``: a ready document for point clouds."""

from __future__ import annotations

from typing import Any, Optional

from pydantic import model_validator

from docstack.base_doc import BaseDoc
from docstack.documents._shorthand import UNSET, media_fields, positional_to_fields
from docstack.documents.point_cloud.points_and_colors import PointsAndColors
from docstack.typing.tensor.any_tensor import AnyEmbedding
from docstack.typing.url.point_cloud_url import PointCloud3DUrl

__all__ = ["PointCloud3D"]


def _shorthand(value: Any) -> dict[str, Any] | None:
    return media_fields(
        value,
        str_field="url",
        bytes_field="bytes_",
        doc_field="tensors",
        doc_type=PointsAndColors,
    )


class PointCloud3D(BaseDoc):
    """A document for a point cloud: its URL, points and colors, bytes and embedding.

    Shorthands, both for the one positional argument and for a value given to a field of type
    ``PointCloud3D``: a ``str`` is the ``url``, ``bytes`` the ``bytes_`` and a
    :class:`PointsAndColors` the ``tensors``.

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
    """

    url: Optional[PointCloud3DUrl] = None
    tensors: Optional[PointsAndColors] = None
    embedding: Optional[AnyEmbedding] = None
    bytes_: Optional[bytes] = None

    def __init__(self, value: Any = UNSET, /, **data: Any) -> None:
        fields = _shorthand(value)
        accepts = "a URL (str), bytes or PointsAndColors"
        super().__init__(**positional_to_fields(type(self), value, data, fields, accepts))

    # pydantic validates dicts without calling this __init__, as for the base one
    __init__.__pydantic_base_init__ = True  # type: ignore[attr-defined]

    @model_validator(mode="before")
    @classmethod
    def _docstack_shorthand(cls, data: Any) -> Any:
        fields = _shorthand(data)
        return data if fields is None else fields

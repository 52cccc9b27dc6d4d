"""``PointCloud3DUrl``: the URL of a point cloud (or of a mesh to sample points from)."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from docstack._internal.media import decode_point_cloud
from docstack.typing.tensor._modality import display_in_notebook
from docstack.typing.url._extensions import POINT_CLOUD_EXTENSIONS
from docstack.typing.url._loading import guess_3d_file_type, naming_url
from docstack.typing.url.any_url import AnyUrl

if TYPE_CHECKING:
    from docstack.documents.point_cloud.points_and_colors import PointsAndColors

__all__ = ["PointCloud3DUrl"]


class PointCloud3DUrl(AnyUrl):
    """The URL or path of a point cloud (PLY, PCD, XYZ, ...) or of a mesh to sample it from.

    A ``str``. A URL whose extension belongs to another media type (``'.png'``, ``'.mp3'``,
    ...) is rejected; URLs without extension or with an unknown one are accepted. Mesh
    formats (OBJ, STL, GLB, ...) are accepted: points are sampled from the surface.

    Example
    -------
    >>> from docstack import BaseDoc
    >>> from docstack.typing import PointCloud3DUrl
    >>> class Scan(BaseDoc):
    ...     url: PointCloud3DUrl
    >>> Scan(url='https://example.com/room.ply').url
    'https://example.com/room.ply'
    >>> Scan(url='https://example.com/room.ply').url.load(samples=100)  # doctest: +SKIP
    """

    __slots__ = ()

    _docstack_extensions: ClassVar[frozenset[str] | None] = POINT_CLOUD_EXTENSIONS
    _docstack_media_majors: ClassVar[frozenset[str]] = frozenset({"model"})
    _docstack_what: ClassVar[str] = "point clouds"
    _docstack_mime: ClassVar[str | None] = "application/x-tgif"

    def load(
        self,
        samples: int,
        multiple_geometries: bool = False,
        timeout: float | None = None,
        max_bytes: int | None = None,
        file_type: str | None = None,
        seed: int | None = None,
    ) -> PointsAndColors:
        """Fetch the file and sample a point cloud from it (with trimesh).

        Points of a mesh are sampled uniformly from its surface; a file that already is a
        point cloud has ``samples`` of its points drawn.

        Parameters
        ----------
        samples:
            Number of points (per geometry).
        multiple_geometries:
            Sample each geometry of the file on its own: ``points`` then has shape
            ``(n_geometries, samples, 3)``.
        timeout:
            Seconds each network operation may take.
        max_bytes:
            Largest accepted size of the file.
        file_type:
            The format (``'ply'``, ``'obj'``, ...); by default the URL's extension, else the
            ``data:`` URL's media type, else recognised from the file's first bytes.
        seed:
            Seed of the random sampling, for reproducible points.

        Returns
        -------
        PointsAndColors
            ``points`` (float64, ``(samples, 3)``) and ``colors`` (uint8 RGB of the same
            leading shape, or ``None`` when the file has no colors).

        Raises
        ------
        LoadError
            The URL cannot be fetched, the format cannot be told, or the data holds no
            geometry.

        Example
        -------
        >>> from docstack.typing import PointCloud3DUrl
        >>> cloud = PointCloud3DUrl('https://example.com/a.ply').load(1000)  # doctest: +SKIP
        >>> cloud.points.shape  # doctest: +SKIP
        (1000, 3)
        """
        from docstack.documents.point_cloud.points_and_colors import PointsAndColors

        data = self.load_bytes(timeout=timeout, max_bytes=max_bytes)
        kind = guess_3d_file_type(self, data, file_type)
        with naming_url(self):
            points, colors = decode_point_cloud(
                data, kind, samples, multiple_geometries=multiple_geometries, seed=seed
            )
        return PointsAndColors(points=points, colors=colors)

    def display(self, samples: int = 10000) -> None:
        """Sample the point cloud and show it in a notebook.

        Parameters
        ----------
        samples:
            Number of points to show.

        Raises
        ------
        RuntimeError
            Not running in a notebook.

        Example
        -------
        >>> from docstack.typing import PointCloud3DUrl
        >>> PointCloud3DUrl('https://example.com/a.ply').display()  # doctest: +SKIP
        """
        display_in_notebook(lambda: self.load(samples=samples)._docstack_notebook_view())

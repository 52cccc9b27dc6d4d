"""``PointsAndColors``: the tensors of a point cloud."""

from __future__ import annotations

from typing import Any, Optional

import numpy as np

from docstack._internal.optional import import_optional
from docstack.base_doc import BaseDoc
from docstack.typing.tensor._convert import to_numpy
from docstack.typing.tensor._modality import display_in_notebook
from docstack.typing.tensor.any_tensor import AnyTensor

__all__ = ["PointsAndColors"]


class PointsAndColors(BaseDoc):
    """The points of a point cloud and their colors, as :meth:`PointCloud3DUrl.load` returns.

    Parameters
    ----------
    points:
        Point positions, ``(n, 3)`` (or ``(n_geometries, n, 3)``), a tensor of any framework.
    colors:
        RGB(A) colors of the points, same leading shape, or ``None``.

    Example
    -------
    >>> import numpy as np
    >>> from docstack.documents import PointsAndColors
    >>> cloud = PointsAndColors(points=np.random.rand(100, 3))
    >>> cloud.points.shape, cloud.colors
    ((100, 3), None)
    """

    points: AnyTensor
    colors: Optional[AnyTensor] = None

    def _docstack_notebook_view(self) -> Any:
        trimesh = import_optional("trimesh")
        points = np.asarray(to_numpy(self.points)).reshape(-1, 3)
        colors = None
        if self.colors is not None:
            raw = np.asarray(to_numpy(self.colors))
            colors = raw.reshape(-1, raw.shape[-1])
        cloud = trimesh.points.PointCloud(points, colors=colors)
        return trimesh.Scene(cloud).show(viewer="notebook")

    def display(self) -> None:
        """Show the points in a notebook (an interactive 3D view made by trimesh).

        Raises
        ------
        RuntimeError
            Not running in a notebook.

        Example
        -------
        >>> import numpy as np
        >>> from docstack.documents import PointsAndColors
        >>> PointsAndColors(points=np.random.rand(100, 3)).display()  # doctest: +SKIP
        """
        display_in_notebook(self._docstack_notebook_view)

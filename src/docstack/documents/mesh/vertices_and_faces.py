"""``VerticesAndFaces``: the tensors of a 3D mesh."""

from __future__ import annotations

from typing import Any

import numpy as np

from docstack._internal.optional import import_optional
from docstack.base_doc import BaseDoc
from docstack.typing.tensor._convert import to_numpy
from docstack.typing.tensor._modality import display_in_notebook
from docstack.typing.tensor.any_tensor import AnyTensor

__all__ = ["VerticesAndFaces"]


class VerticesAndFaces(BaseDoc):
    """The vertices and faces of a 3D mesh, as :meth:`Mesh3DUrl.load` returns them.

    Parameters
    ----------
    vertices:
        Vertex positions, ``(V, 3)``, a tensor of any framework.
    faces:
        Triangles as indices into ``vertices``, ``(F, 3)``.

    Example
    -------
    >>> from docstack.documents import VerticesAndFaces
    >>> tri = VerticesAndFaces(vertices=[[0, 0, 0], [1, 0, 0], [0, 1, 0]], faces=[[0, 1, 2]])
    >>> tri.vertices.shape, tri.faces.shape
    ((3, 3), (1, 3))
    """

    vertices: AnyTensor
    faces: AnyTensor

    def _docstack_notebook_view(self) -> Any:
        trimesh = import_optional("trimesh")
        mesh = trimesh.Trimesh(
            vertices=np.asarray(to_numpy(self.vertices)),
            faces=np.asarray(to_numpy(self.faces)),
            process=False,
        )
        return mesh.scene().show(viewer="notebook")

    def display(self) -> None:
        """Show the mesh in a notebook (an interactive 3D view made by trimesh).

        Raises
        ------
        RuntimeError
            Not running in a notebook.

        Example
        -------
        >>> from docstack.documents import VerticesAndFaces
        >>> tri = VerticesAndFaces(vertices=[[0, 0, 0], [1, 0, 0], [0, 1, 0]], faces=[[0, 1, 2]])
        >>> tri.display()  # doctest: +SKIP
        """
        display_in_notebook(self._docstack_notebook_view)

"""``Mesh3DUrl``: the URL of a 3D mesh file."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from docstack._internal.media import decode_mesh
from docstack.typing.tensor._modality import display_in_notebook
from docstack.typing.url._extensions import MESH_EXTENSIONS
from docstack.typing.url._loading import guess_3d_file_type, naming_url
from docstack.typing.url.any_url import AnyUrl

if TYPE_CHECKING:
    from docstack.documents.mesh.vertices_and_faces import VerticesAndFaces

__all__ = ["Mesh3DUrl"]


class Mesh3DUrl(AnyUrl):
    """The URL or path of a 3D mesh (OBJ, PLY, STL, OFF, GLB/glTF, ...).

    A ``str``. A URL whose extension belongs to another media type (``'.png'``, ``'.pcd'``,
    ...) is rejected; URLs without extension or with an unknown one are accepted.

    Example
    -------
    >>> from docstack import BaseDoc
    >>> from docstack.typing import Mesh3DUrl
    >>> class Model(BaseDoc):
    ...     url: Mesh3DUrl
    >>> Model(url='https://example.com/bunny.obj').url
    'https://example.com/bunny.obj'
    >>> Model(url='https://example.com/bunny.obj').url.load().vertices  # doctest: +SKIP
    """

    __slots__ = ()

    _docstack_extensions: ClassVar[frozenset[str] | None] = MESH_EXTENSIONS
    _docstack_media_majors: ClassVar[frozenset[str]] = frozenset({"model"})
    _docstack_what: ClassVar[str] = "3D meshes"
    _docstack_mime: ClassVar[str | None] = "application/x-tgif"

    def load(
        self,
        skip_materials: bool = True,
        timeout: float | None = None,
        max_bytes: int | None = None,
        file_type: str | None = None,
    ) -> VerticesAndFaces:
        """Fetch the file and decode it to a mesh's vertices and faces (with trimesh).

        A file of several geometries is concatenated into one mesh.

        Parameters
        ----------
        skip_materials:
            Do not load materials and textures (faster, and needs no referenced files).
        timeout:
            Seconds each network operation may take.
        max_bytes:
            Largest accepted size of the file.
        file_type:
            The format (``'obj'``, ``'ply'``, ...); by default the URL's extension, else the
            ``data:`` URL's media type, else recognised from the file's first bytes (PLY,
            GLB, OFF, ASCII STL).

        Returns
        -------
        VerticesAndFaces
            ``vertices`` (float64, ``(V, 3)``) and ``faces`` (int64, ``(F, 3)``).

        Raises
        ------
        LoadError
            The URL cannot be fetched, the format cannot be told, or the data is not a mesh.

        Example
        -------
        >>> from docstack.typing import Mesh3DUrl
        >>> mesh = Mesh3DUrl('https://example.com/bunny.obj').load()  # doctest: +SKIP
        >>> mesh.vertices.shape, mesh.faces.shape  # doctest: +SKIP
        ((2503, 3), (4968, 3))
        """
        from docstack.documents.mesh.vertices_and_faces import VerticesAndFaces

        data = self.load_bytes(timeout=timeout, max_bytes=max_bytes)
        kind = guess_3d_file_type(self, data, file_type)
        with naming_url(self):
            vertices, faces = decode_mesh(data, kind, skip_materials=skip_materials)
        return VerticesAndFaces(vertices=vertices, faces=faces)

    def display(self) -> None:
        """Load the mesh and show it in a notebook.

        Raises
        ------
        RuntimeError
            Not running in a notebook.

        Example
        -------
        >>> from docstack.typing import Mesh3DUrl
        >>> Mesh3DUrl('https://example.com/bunny.obj').display()  # doctest: +SKIP
        """
        display_in_notebook(lambda: self.load()._docstack_notebook_view())

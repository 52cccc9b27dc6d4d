"""``Mesh3D``: a ready document for 3D meshes."""

from __future__ import annotations

from typing import Any, ClassVar, Optional

from docstack.documents._shorthand import MediaDoc
from docstack.documents.mesh.vertices_and_faces import VerticesAndFaces
from docstack.typing.tensor.any_tensor import AnyEmbedding
from docstack.typing.url.mesh_url import Mesh3DUrl

__all__ = ["Mesh3D"]


class Mesh3D(MediaDoc):
    """A document for a 3D mesh: its URL, vertices and faces, bytes and embedding.

    Shorthands, both for the one positional argument and for a value given to a field of type
    ``Mesh3D``: a ``str`` is the ``url``, ``bytes`` the ``bytes_`` and a
    :class:`VerticesAndFaces` the ``tensors``.

    Parameters
    ----------
    url:
        Where the mesh file is; ``doc.url.load()`` gives a :class:`VerticesAndFaces`.
    tensors:
        The vertices and faces.
    embedding:
        An embedding of the mesh.
    bytes_:
        The mesh file's bytes.

    Example
    -------
    >>> from docstack.documents import Mesh3D
    >>> mesh = Mesh3D('https://example.com/bunny.obj')
    >>> mesh.url
    'https://example.com/bunny.obj'
    >>> mesh.tensors = mesh.url.load()  # doctest: +SKIP
    """

    _docstack_shorthand_fields: ClassVar[dict[str, Any]] = {
        "str_field": "url",
        "bytes_field": "bytes_",
        "doc_field": "tensors",
        "doc_type": VerticesAndFaces,
    }
    _docstack_accepts: ClassVar[str] = "a URL (str), bytes or VerticesAndFaces"

    url: Optional[Mesh3DUrl] = None
    tensors: Optional[VerticesAndFaces] = None
    embedding: Optional[AnyEmbedding] = None
    bytes_: Optional[bytes] = None

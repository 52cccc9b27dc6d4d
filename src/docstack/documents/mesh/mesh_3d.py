"""``Mesh3D``: a ready document for 3D meshes."""

from __future__ import annotations

from typing import Any, Optional

from pydantic import model_validator

from docstack.base_doc import BaseDoc
from docstack.documents._shorthand import UNSET, media_fields, positional_to_fields
from docstack.documents.mesh.vertices_and_faces import VerticesAndFaces
from docstack.typing.tensor.any_tensor import AnyEmbedding
from docstack.typing.url.mesh_url import Mesh3DUrl

__all__ = ["Mesh3D"]


def _shorthand(value: Any) -> dict[str, Any] | None:
    return media_fields(
        value,
        str_field="url",
        bytes_field="bytes_",
        doc_field="tensors",
        doc_type=VerticesAndFaces,
    )


class Mesh3D(BaseDoc):
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

    url: Optional[Mesh3DUrl] = None
    tensors: Optional[VerticesAndFaces] = None
    embedding: Optional[AnyEmbedding] = None
    bytes_: Optional[bytes] = None

    def __init__(self, value: Any = UNSET, /, **data: Any) -> None:
        fields = _shorthand(value)
        accepts = "a URL (str), bytes or VerticesAndFaces"
        super().__init__(**positional_to_fields(type(self), value, data, fields, accepts))

    # pydantic validates dicts without calling this __init__, as for the base one
    __init__.__pydantic_base_init__ = True  # type: ignore[attr-defined]

    @model_validator(mode="before")
    @classmethod
    def _docstack_shorthand(cls, data: Any) -> Any:
        fields = _shorthand(data)
        return data if fields is None else fields

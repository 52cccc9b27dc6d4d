"""3D mesh documents: ``Mesh3D`` and the tensors it holds, ``VerticesAndFaces``."""

from docstack.documents.mesh.mesh_3d import Mesh3D
from docstack.documents.mesh.vertices_and_faces import VerticesAndFaces

__all__ = ["Mesh3D", "VerticesAndFaces"]

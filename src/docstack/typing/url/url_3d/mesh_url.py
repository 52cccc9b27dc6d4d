"""DocArray's module path for the 3D mesh URL type; it lives in ``docstack.typing.url.mesh_url``."""

from docstack.typing.url.mesh_url import Mesh3DUrl

__all__ = ["Mesh3DUrl"]

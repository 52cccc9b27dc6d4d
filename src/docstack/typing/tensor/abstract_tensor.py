"""DocArray's module path for the base class of every tensor type; it lives in ``docstack.typing.tensor._base``."""

from docstack.typing.tensor._base import AbstractTensor

__all__ = ["AbstractTensor"]

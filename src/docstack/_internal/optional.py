"""Lazy imports of optional dependencies with an error that names the extra to install."""

from __future__ import annotations

import importlib
import sys
from types import ModuleType
from typing import Any

from docstack.errors import MissingDependencyError

# module name -> (pip package, docstack extra)
_EXTRAS: dict[str, tuple[str, str]] = {
    "torch": ("torch", "torch"),
    "jax": ("jax", "jax"),
    "jax.numpy": ("jax", "jax"),
    "PIL": ("pillow", "image"),
    "PIL.Image": ("pillow", "image"),
    "soundfile": ("soundfile", "audio"),
    "av": ("av", "video"),
    "trimesh": ("trimesh", "mesh"),
    "tensorflow": ("tensorflow", "tensorflow"),
    "pandas": ("pandas", "pandas"),
    "pyarrow": ("pyarrow", "arrow"),
    "pyarrow.parquet": ("pyarrow", "arrow"),
    "lz4": ("lz4", "compression"),
    "lz4.frame": ("lz4", "compression"),
    "zstandard": ("zstandard", "compression"),
    "google.protobuf": ("protobuf", "protobuf"),
    "fastapi": ("fastapi", "web"),
    "pymilvus": ("pymilvus", "milvus"),
    "qdrant_client": ("qdrant-client", "qdrant"),
}


def import_optional(name: str, extra: str | None = None) -> ModuleType:
    """Import an optional dependency or raise :class:`MissingDependencyError` naming its extra.

    Parameters
    ----------
    name:
        The module to import, e.g. ``"torch"`` or ``"PIL.Image"``.
    extra:
        The docstack extra to name when it is missing, where the feature's extra is not the
        module's usual one (``"clip"`` for torch used by the CLIP encoder).

    Returns
    -------
    The imported module.

    Example
    -------
    >>> np = import_optional("numpy")
    """
    try:
        return importlib.import_module(name)
    except ImportError as exc:
        package, usual = _EXTRAS.get(name, (name.split(".")[0], "full"))
        extra = extra or usual
        raise MissingDependencyError(
            f"{name!r} is needed for this feature but is not installed: "
            f"pip install 'docstack[{extra}]' (or pip install {package})"
        ) from exc


def loaded_module(name: str) -> Any:
    """The module if it is already imported, else ``None``; never imports anything.

    Used to recognise a framework's objects without paying for importing the framework.
    """
    return sys.modules.get(name)

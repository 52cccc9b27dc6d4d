"""Which optional frameworks are installed, without importing them.

Example
-------
>>> from docstack.utils._internal.misc import is_torch_available
>>> isinstance(is_torch_available(), bool)
True
"""

from __future__ import annotations

import importlib.util

__all__ = [
    "is_jax_available",
    "is_tf_available",
    "is_torch_available",
    "jax_imported",
    "tf_imported",
    "torch_imported",
]


def _installed(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


def is_torch_available() -> bool:
    """Whether torch can be imported."""
    return _installed("torch")


def is_tf_available() -> bool:
    """Whether TensorFlow can be imported."""
    return _installed("tensorflow")


def is_jax_available() -> bool:
    """Whether jax can be imported."""
    return _installed("jax")


#: Module-level flags under the names DocArray code tests.
torch_imported: bool = is_torch_available()
tf_imported: bool = is_tf_available()
jax_imported: bool = is_jax_available()

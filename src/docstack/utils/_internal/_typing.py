"""Type predicates that never raise on typing constructs (``List[int]``, unions, ``None``).

Example
-------
>>> from typing import List, Optional
>>> from docstack.typing import NdArray
>>> safe_issubclass(List[int], object), is_type_tensor(NdArray), is_tensor_union(Optional[NdArray])
(False, True, True)
"""

from __future__ import annotations

import types
import typing
from typing import Any

from docstack.typing.tensor._base import AbstractTensor

__all__ = ["is_tensor_union", "is_type_tensor", "safe_issubclass"]


def safe_issubclass(x: Any, a_tuple: Any) -> bool:
    """``issubclass(x, a_tuple)``, but ``False`` for anything that is not a real class.

    ``DocList[MyDoc]`` is a real class (its metaclass is a ``type``) even though it reports
    an origin and arguments to annotation readers, as ``list[int]`` does.
    """
    if not issubclass(type(x), type):
        return False
    return issubclass(x, a_tuple)


def is_type_tensor(type_: Any) -> bool:
    """Whether ``type_`` is a tensor class (``NdArray``, ``TorchTensor[3]``, ...)."""
    return safe_issubclass(type_, AbstractTensor)


def is_tensor_union(type_: Any) -> bool:
    """Whether ``type_`` is a union whose members are tensor classes or ``None``."""
    if typing.get_origin(type_) not in (typing.Union, types.UnionType):
        return False
    members = [a for a in typing.get_args(type_) if a is not type(None)]
    return bool(members) and all(is_type_tensor(a) or is_tensor_union(a) for a in members)

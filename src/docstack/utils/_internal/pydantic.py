"""``is_pydantic_v2``, at DocArray's path: docstack runs on pydantic v2 only.

Example
-------
>>> is_pydantic_v2
True
"""

from __future__ import annotations

import pydantic

__all__ = ["is_pydantic_v2"]

#: always true: docstack requires pydantic v2
is_pydantic_v2: bool = pydantic.VERSION.startswith("2.")

"""DocArray's private helper paths (``docarray.utils._internal``), kept so that code and
tests written against them run; docstack's own helpers live in :mod:`docstack._internal`."""

__all__: list[str] = []

"""The table ``list(..., show_table=True)`` prints: name, last modified, size.

Example
-------
>>> from datetime import datetime
>>> rows = [('books', datetime(2024, 1, 2), 2048)]
>>> print_table('memory://shelf', rows, width=60)  # doctest: +NORMALIZE_WHITESPACE +ELLIPSIS
1 DocList in memory://shelf
Name Last Modified Size
...
books 2024-01-02 00:00:00 2.0 kB
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Optional

__all__ = ["print_table"]


def print_table(
    where: str, rows: Sequence[tuple[str, Any, Optional[int]]], width: Optional[int] = None
) -> None:
    """Print one row per stored ``DocList``: its name, when it was last modified and its
    size in bytes (``None``: unknown)."""
    from rich import box, filesize
    from rich.console import Console
    from rich.table import Table

    table = Table(
        title=f"{len(rows)} DocList{'s' if len(rows) != 1 else ''} in {where}",
        box=box.SIMPLE,
        highlight=True,
    )
    table.add_column("Name")
    table.add_column("Last Modified", justify="center")
    table.add_column("Size", justify="right")
    for name, modified, size in rows:
        shown = "" if size is None else filesize.decimal(size)
        table.add_row(name, "" if modified is None else str(modified), shown)
    Console(width=width).print(table)

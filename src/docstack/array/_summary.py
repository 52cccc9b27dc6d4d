"""The rich summary of a ``DocList`` or ``DocVec``."""

from __future__ import annotations

from typing import Any

from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table

from docstack.base_doc import AnyDoc
from docstack.base_doc._summary import schema_tree

__all__ = ["print_array_summary"]


def print_array_summary(array: Any) -> None:
    """Print a panel with the array's type, length, columns (for a DocVec) and schema."""
    table = Table(show_header=False, box=None)
    table.add_row("Type", type(array).__name__)
    table.add_row("Length", str(len(array)))
    tensor_type = getattr(array, "tensor_type", None)
    if tensor_type is not None:
        table.add_row("Tensor type", tensor_type.__name__)
    if hasattr(array, "_column_summary"):
        for name, text in array._column_summary():
            table.add_row(f"  {name}", text)
    parts: list[Any] = [
        Panel(
            table,
            title=f"{type(array).__docstack_array_base__.__name__} Summary"
            if hasattr(type(array), "__docstack_array_base__")
            else f"{type(array).__name__} Summary",
            expand=False,
        )
    ]
    doc_type = array.doc_type
    if doc_type is AnyDoc:
        kinds = sorted({type(d).__name__ for d in array})
        parts.append(Panel(", ".join(kinds) or "(empty)", title="Document types", expand=False))
    else:
        parts.append(Panel(schema_tree(doc_type), title="Document Schema", expand=False))
    Console().print(Group(*parts))

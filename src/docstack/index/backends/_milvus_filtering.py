"""The filter primitives of :class:`~docstack.index.backends.milvus.MilvusDocumentIndex`: a
portable filter (or a raw Milvus expression string, DocArray's way) becomes one Milvus
expression selecting exactly the matching rows (see :mod:`._milvus_filter` for the compiler).
Conditions Milvus cannot express are evaluated by docstack on the rows Milvus selects for the
rest, and come back as a ``_ds_seq in [...]`` expression, so searches filter in the engine.
List fields (``list[int|float|str|bool]``) are filterable here too, with the language's
semantics for list values (a condition on the elements, ``$size`` on the length).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from docstack._internal.query import FilterNode, field_paths, parse_filter
from docstack._internal.query_eval import evaluate
from docstack.index.backends._milvus_arrays import list_element
from docstack.index.backends._milvus_filter import (
    FALSE,
    TRUE,
    MilvusField,
    RawExpression,
    split_filter,
)
from docstack.index.backends._milvus_schema import SEQ

__all__ = ["MilvusFiltering"]


class MilvusFiltering:
    """``_parse_filter``, ``_expression`` and ``_b_filter`` of the Milvus backend (a mixin)."""

    def _parse_filter(self, filter_query: Any) -> FilterNode | None:
        if isinstance(filter_query, str):
            if not filter_query.strip():
                return None
            return RawExpression(filter_query)  # type: ignore[return-value]
        if isinstance(filter_query, Mapping):
            fields = [*self._schema.filter_columns, *self._list_columns()]
            return parse_filter(filter_query, fields=fields)
        return super()._parse_filter(filter_query)

    def _list_columns(self) -> dict[str, str]:
        """The columns holding lists of scalars (filterable here), with their element kind."""
        columns = {}
        for name, col in self._schema.columns.items():
            element = list_element(col)
            if element is not None:
                columns[name] = element
        return columns

    def _filter_fields(self) -> dict[tuple[str, ...], MilvusField]:
        layout = self._get_layout()
        out = {
            col.path: MilvusField(layout.fields[name], col.kind)
            for name, col in self._schema.filter_columns.items()
        }
        for name, element in self._list_columns().items():
            kind = "array" if name in layout.arrays.elements else "json"
            out[self._schema.columns[name].path] = MilvusField(layout.fields[name], kind, element)
        return out

    def _expression(self, node: FilterNode | None) -> str:
        """A Milvus expression selecting exactly the rows matching ``node``."""
        if node is None:
            return TRUE
        # a server without nullable fields holds no missing value: no 'is null' tests
        nulls = self._server_features().has("nullable")
        expr, residual = split_filter(node, self._filter_fields(), nulls)
        if residual is None or expr == FALSE:
            return expr
        # docstack evaluates the rest on the rows Milvus selects for the part it can
        layout = self._get_layout()
        paths = sorted(field_paths(residual))
        names = {p: "__".join(p) for p in paths}
        fields = [SEQ] + [layout.fields[n] for n in names.values()]
        rows = self._query(expr, list(dict.fromkeys(fields)))
        if not rows:
            return FALSE

        def column(path: tuple[str, ...]) -> list[Any]:
            name = names[path]
            fname = layout.fields[name]
            if self._schema.columns[name].kind == "json" and name not in layout.arrays.elements:
                return [None if e.get(fname) is None else e[fname]["v"] for e in rows]
            return [e.get(fname) for e in rows]

        mask = evaluate(residual, column, len(rows))
        seqs = [int(e[SEQ]) for e, keep in zip(rows, mask) if keep]
        if not seqs:
            return FALSE
        return f"{SEQ} in [{', '.join(map(str, seqs))}]"

    def _b_filter(self, node: FilterNode | None, limit: int | None) -> np.ndarray:
        expr = self._expression(node)
        rows = self._query(expr, [SEQ])
        keys = np.sort(np.fromiter((e[SEQ] for e in rows), dtype=np.int64, count=len(rows)))
        return keys if limit is None else keys[:limit]


# doctest compiles examples with the __future__ flags of the module namespace
del annotations

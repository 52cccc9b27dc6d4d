"""Keeping a Milvus collection in step with its schema's settings.

- :meth:`MilvusAdmin._adopt_list_fields`: on attach, list columns are read as the collection
  stores them (``JSON`` from before lists became arrays, or an ``ARRAY`` whose element type
  must be the schema's).
- :meth:`MilvusAdmin._b_reconfigured`: ``configure()`` changing a vector field's index
  settings (``index_type``, ``M``, ``ef_construction``, ``nlist``, ``index_params``, or the
  metric of ``space``) rebuilds that field's Milvus index: release the collection, drop the
  index, create the new one, load. Search settings (``ef``, ``nprobe``) need no rebuild: every
  search reads them.
"""

from __future__ import annotations

from typing import Any

from docstack.index._schema import IndexSchema
from docstack.index.backends._milvus_schema import METRICS, CollectionLayout, vector_index

__all__ = ["MilvusAdmin"]


def index_settings(schema: IndexSchema, name: str) -> tuple[str, dict[str, Any], str]:
    """``(index_type, build params, metric)`` of vector column ``name``.

    Example
    -------
    >>> from docstack import BaseDoc
    >>> from docstack.typing import NdArray
    >>> class D(BaseDoc):
    ...     emb: NdArray[4]
    >>> index_settings(IndexSchema.from_doc_type(D, {}), 'emb')
    ('HNSW', {'M': 16, 'efConstruction': 200}, 'COSINE')
    """
    col = schema.columns[name]
    index_type, params = vector_index(col)
    return index_type, params, METRICS[col.space]


class MilvusAdmin:
    """Attach-time checks and index rebuilds of :class:`MilvusDocumentIndex` (a mixin)."""

    def _adopt_list_fields(self, layout: CollectionLayout, fields: dict[str, Any]) -> None:
        """Read list columns as the collection stores them: JSON (written before docstack
        stored lists as arrays) or an ARRAY of the schema's element type."""
        from pymilvus import DataType

        from docstack.index.backends.milvus import MilvusSchemaError

        types = {"int": DataType.INT64, "float": DataType.DOUBLE, "str": DataType.VARCHAR}
        types["bool"] = DataType.BOOL
        for name, element in list(layout.arrays.elements.items()):
            spec = fields.get(layout.fields[name])
            if spec is None:
                continue
            if spec.get("type") == DataType.JSON:
                layout.arrays.keep_json(name)
            elif spec.get("element_type") != types[element]:
                raise MilvusSchemaError(
                    f"collection {self._collection!r} stores field {name!r} as "
                    f"{spec.get('type')!r} of {spec.get('element_type')!r}, but "
                    f"{self._doc_type.__name__} declares a list of {element}: open it with the "
                    "schema it was written with, or use another index_name"
                )
            else:
                layout.arrays.adopt(name, spec.get("params", {}).get("max_capacity"))

    def _b_reconfigured(self, old: IndexSchema) -> None:
        self._layout = None  # the layout reads the new column settings
        if not self._exists:
            return
        desc = self._call("describe_collection", self._client.describe_collection, self._collection)
        layout = self._get_layout()  # type: ignore[attr-defined]
        self._adopt_list_fields(layout, {f["name"]: f for f in desc.get("fields", [])})
        changed = [
            name
            for name in self._schema.vector_columns
            if name in old.vector_columns
            and index_settings(old, name) != index_settings(self._schema, name)
        ]
        for name in changed:
            self._rebuild_index(layout, name, old)

    def _rebuild_index(self, layout: CollectionLayout, name: str, old: IndexSchema) -> None:
        from docstack.index.backends.milvus import MilvusError

        fname = layout.fields[name]
        index_type, params, metric = index_settings(self._schema, name)
        client = self._client
        index_params = client.prepare_index_params()
        index_params.add_index(fname, index_type=index_type, metric_type=metric, params=params)
        try:
            self._call("release_collection", client.release_collection, self._collection)
            for existing in self._call(
                "list_indexes", client.list_indexes, self._collection, field_name=fname
            ):
                self._call("drop_index", client.drop_index, self._collection, existing)
            self._call("create_index", client.create_index, self._collection, index_params)
        except MilvusError as e:
            self._schema = old
            self._layout = None
            raise MilvusError(
                f"{e} -- rebuilding the index of field {name!r} as {index_type} {params} failed; "
                f"the collection may have no index on it now: configure() it again, or rebuild "
                f"it with pymilvus (release_collection, drop_index, create_index, "
                f"load_collection on {self._collection!r})"
            ) from e
        finally:
            self._call("load_collection", client.load_collection, self._collection)


# doctest compiles examples with the __future__ flags of the module namespace
del annotations

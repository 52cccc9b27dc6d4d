"""How a docstack schema is laid out in a Milvus collection, and rows written and read back.

One collection per index (a sub-index is a collection of its own, linked by parent id):

- ``id``: the primary key, ``VARCHAR`` (docstack ids are any strings);
- ``_ds_seq``: ``INT64``, a number that grows with every write: the insertion order filters
  return, and the key searches hand to the base class;
- ``_ds_parent``, ``_ds_pos``: the parent id and position of a sub-document (sub-indexes only);
- ``str``/``int``/``float``/``bool`` columns as nullable ``VARCHAR``/``INT64``/``DOUBLE``/
  ``BOOL`` fields, so filters run in Milvus; a text-searchable ``str`` field also has an
  analyzer and a BM25 function writing ``_ds_bm25__<field>`` (a sparse vector);
- vectors as ``FLOAT_VECTOR`` fields, several per collection; an optional one has a
  ``_ds_has__<field>`` flag (a missing vector is stored as a unit placeholder that searches
  skip), and one whose dtype is not float32 keeps the original in ``_ds_orig__<field>``;
- tensors that are not searched and bytes as ``_ds``-encoded base64 chunks in an
  ``ARRAY<VARCHAR>`` (up to 4096 chunks of 64 KiB);
- lists of ``int``/``float``/``str``/``bool`` as typed ``ARRAY`` fields where the server has
  them (see :mod:`docstack.index.backends._milvus_arrays`), dicts and other values as
  ``JSON``.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import orjson

from docstack.index._schema import Column, IndexSchema, RowBatch
from docstack.index._stored import decode_tensor, encode_tensor
from docstack.index.backends._milvus_arrays import ArrayColumns

__all__ = [
    "BLOB_KINDS",
    "METRICS",
    "PARENT",
    "POS",
    "SEQ",
    "CollectionLayout",
    "blob_chunks",
    "field_name",
]

SEQ = "_ds_seq"
PARENT = "_ds_parent"
POS = "_ds_pos"
PK = "id"
BLOB_KINDS = frozenset({"tensor", "bytes"})
#: docstack metric -> Milvus metric type
METRICS = {"cosine": "COSINE", "l2": "L2", "sqeuclidean": "L2", "ip": "IP"}
_MAX_VARCHAR = 65535
_CHUNK = 65532  # a multiple of 4: base64 chunks decode on their own
_MAX_CHUNKS = 4096
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,199}")
#: names Milvus reserves or its expression parser reads as keywords
_RESERVED = frozenset(
    {
        "$meta",
        "interval",
        "iso",
        "_partition",
        "_seq",
        "and",
        "or",
        "not",
        "in",
        "like",
        "is",
        "null",
        "true",
        "false",
        "exists",
        "text_match",
        "phrase_match",
        "json_contains",
        "json_contains_all",
        "json_contains_any",
        "array_contains",
        "array_contains_all",
        "array_contains_any",
        "array_length",
    }
)


def field_name(column: str) -> str:
    """The Milvus field of a docstack column: the column name itself when Milvus accepts it,
    else a ``_ds_x_`` name spelled from its UTF-8 bytes.

    Example
    -------
    >>> field_name('thumb__tensor'), field_name('interval'), field_name('título')
    ('thumb__tensor', '_ds_x_696e74657276616c', '_ds_x_74c3ad74756c6f')
    """
    if _NAME.fullmatch(column) and column.lower() not in _RESERVED and not column.startswith("_"):
        return column
    return "_ds_x_" + column.encode("utf-8").hex()


def blob_chunks(data: bytes) -> list[str]:
    """Bytes as base64 chunks that fit Milvus ``VARCHAR`` elements."""
    text = base64.b64encode(data).decode("ascii")
    chunks = [text[i : i + _CHUNK] for i in range(0, len(text), _CHUNK)] or [""]
    if len(chunks) > _MAX_CHUNKS:
        raise ValueError(
            f"a value of {len(data)} bytes is too large for a Milvus field "
            f"(at most {_MAX_CHUNKS * _CHUNK * 3 // 4} bytes)"
        )
    return chunks


def _unchunk(chunks: Sequence[str]) -> bytes:
    return base64.b64decode("".join(chunks))


class CollectionLayout:
    """The Milvus fields of one index and the conversion of rows to and from them."""

    def __init__(
        self,
        schema: IndexSchema,
        is_child: bool,
        bm25: bool = True,
        nullable: bool = True,
        arrays: bool = True,
    ) -> None:
        self.schema = schema
        #: the list columns stored as typed ARRAY fields (the others as JSON)
        self.arrays = ArrayColumns(schema, arrays)
        self.is_child = is_child
        #: a server without nullable fields stores a missing blob as an empty array
        self.nullable = nullable
        self.fields: dict[str, str] = {
            name: (PK if name == "id" else field_name(name)) for name in schema.columns
        }
        self.text_fields: dict[str, str] = {}
        for name, col in schema.columns.items():
            # without BM25 in the server, only fields that ask for it explicitly (an error)
            if col.kind == "str" and _text_searchable(col, bm25):
                self.text_fields[name] = "_ds_bm25__" + self.fields[name]

    # ------------------------------------------------------------------ helpers

    def has_field(self, name: str) -> str:
        return "_ds_has__" + self.fields[name]

    def orig_field(self, name: str) -> str:
        return "_ds_orig__" + self.fields[name]

    def output_fields(self) -> list[str]:
        """Every stored field but the BM25 sparse vectors (what rebuilds a document)."""
        out = [PK, SEQ]
        if self.is_child:
            out += [PARENT, POS]
        for name, col in self.schema.columns.items():
            if name == "id":
                continue
            out.append(self.fields[name])
            if col.kind == "vector":
                out.append(self.orig_field(name))
                if col.optional:
                    out.append(self.has_field(name))
        return out

    # ------------------------------------------------------------------ collection schema

    def build(self, client: Any, dims: Mapping[str, int]) -> tuple[Any, Any]:
        """``(schema, index_params)`` of a new collection (every vector dimension known)."""
        from pymilvus import DataType, Function, FunctionType

        schema = client.create_schema(auto_id=False, enable_dynamic_field=False)
        schema.add_field(PK, DataType.VARCHAR, is_primary=True, max_length=_MAX_VARCHAR)
        schema.add_field(SEQ, DataType.INT64)
        if self.is_child:
            schema.add_field(PARENT, DataType.VARCHAR, max_length=_MAX_VARCHAR)
            schema.add_field(POS, DataType.INT64)
        index = client.prepare_index_params()
        scalar = {"int": DataType.INT64, "float": DataType.DOUBLE, "bool": DataType.BOOL}
        for name, col in self.schema.columns.items():
            if name == "id":
                continue
            fname = self.fields[name]
            kind = col.kind
            if kind == "str":
                if name in self.text_fields:
                    sparse = self.text_fields[name]
                    schema.add_field(
                        fname,
                        DataType.VARCHAR,
                        max_length=_MAX_VARCHAR,
                        nullable=True,
                        enable_analyzer=True,
                    )
                    schema.add_field(sparse, DataType.SPARSE_FLOAT_VECTOR)
                    schema.add_function(
                        Function(
                            name=f"{sparse}_fn",
                            function_type=FunctionType.BM25,
                            input_field_names=[fname],
                            output_field_names=[sparse],
                        )
                    )
                    index.add_index(
                        sparse,
                        index_type="SPARSE_INVERTED_INDEX",
                        metric_type="BM25",
                        params={"bm25_k1": 1.2, "bm25_b": 0.75},
                    )
                else:
                    schema.add_field(
                        fname, DataType.VARCHAR, max_length=_MAX_VARCHAR, nullable=True
                    )
            elif kind in ("int", "float", "bool", "presence"):
                schema.add_field(fname, scalar.get(kind, DataType.BOOL), nullable=True)
            elif kind == "vector":
                schema.add_field(fname, DataType.FLOAT_VECTOR, dim=int(dims[name]))
                index_type, params = vector_index(col)
                index.add_index(
                    fname, index_type=index_type, metric_type=METRICS[col.space], params=params
                )
                self._add_blob(schema, self.orig_field(name))
                if col.optional:
                    schema.add_field(self.has_field(name), DataType.BOOL)
            elif kind in BLOB_KINDS:
                self._add_blob(schema, fname)
            elif name in self.arrays.elements:
                self.arrays.add_fields(schema, name, fname)
            else:
                schema.add_field(fname, DataType.JSON, nullable=True)
        return schema, index

    @staticmethod
    def _add_blob(schema: Any, fname: str) -> None:
        from pymilvus import DataType

        schema.add_field(
            fname,
            DataType.ARRAY,
            element_type=DataType.VARCHAR,
            max_capacity=_MAX_CHUNKS,
            max_length=_MAX_VARCHAR,
            nullable=True,
        )

    def expected_fields(self) -> set[str]:
        """The field names a collection of this layout has."""
        out = set(self.output_fields()) | set(self.text_fields.values())
        return out

    # ------------------------------------------------------------------ rows

    def encode(self, batch: RowBatch, start_seq: int) -> list[dict[str, Any]]:
        """The Milvus rows of a batch, numbered from ``start_seq``."""
        n = len(batch)
        rows: list[dict[str, Any]] = [
            {PK: doc_id, SEQ: start_seq + i} for i, doc_id in enumerate(batch.ids)
        ]
        if self.is_child:
            parents = batch.parents or [""] * n
            positions = batch.positions or [0] * n
            for row, parent, pos in zip(rows, parents, positions):
                row[PARENT] = parent
                row[POS] = int(pos)
        for name, col in self.schema.columns.items():
            if name == "id":
                continue
            fname = self.fields[name]
            values = batch.values[name]
            kind = col.kind
            if kind == "vector":
                missing = batch.vector_missing[name]
                dim = values.shape[1]
                placeholder = [1.0] + [0.0] * (dim - 1)
                listed = values.tolist()
                originals = batch.originals.get(name) or [None] * n
                none = None if self.nullable else []
                has = self.has_field(name) if col.optional else None
                orig = self.orig_field(name)
                for i, row in enumerate(rows):
                    gone = bool(missing[i])
                    row[fname] = placeholder if gone else listed[i]
                    o = originals[i]
                    row[orig] = none if o is None or gone else blob_chunks(encode_tensor(o))
                    if has is not None:
                        row[has] = not gone
            elif kind in BLOB_KINDS:
                empty = None if self.nullable else []
                for row, v in zip(rows, values):
                    row[fname] = empty if v is None else blob_chunks(bytes(v))
            elif name in self.arrays.elements:
                for row, v in zip(rows, self.arrays.encode(name, values, batch.ids)):
                    row[fname] = v
            elif kind == "json":
                for row, v in zip(rows, values):
                    row[fname] = None if v is None else {"v": orjson.loads(v)}
            elif kind == "int":
                for row, v in zip(rows, values):
                    row[fname] = None if v is None else int(v)
            elif kind == "float":
                for row, v in zip(rows, values):
                    row[fname] = None if v is None else float(v)
            elif kind in ("bool", "presence"):
                for row, v in zip(rows, values):
                    row[fname] = None if v is None else bool(v)
            else:
                for row, v in zip(rows, values):
                    row[fname] = v
        return rows

    def encode_value(self, name: str, value: Any, doc_id: str = "") -> Any:
        """One stored scalar value (as :meth:`IndexSchema.to_rows` made it) as Milvus takes it."""
        kind = self.schema.columns[name].kind
        if value is None:
            return None
        if name in self.arrays.elements:
            return self.arrays.encode(name, [value], [doc_id])[0]
        if kind == "json":
            return {"v": orjson.loads(value)}
        if kind in BLOB_KINDS:
            return blob_chunks(bytes(value))
        if kind == "int":
            return int(value)
        if kind == "float":
            return float(value)
        if kind in ("bool", "presence"):
            return bool(value)
        return value

    def decode(
        self, entities: Sequence[Mapping[str, Any]]
    ) -> tuple[list[str], dict[str, list[Any]]]:
        """``(ids, values)`` of Milvus rows, values as :meth:`IndexSchema.to_docs` takes them."""
        ids = [e[PK] for e in entities]
        values: dict[str, list[Any]] = {}
        for name, col in self.schema.columns.items():
            if name == "id":
                continue
            fname = self.fields[name]
            kind = col.kind
            column = [e.get(fname) for e in entities]
            if kind == "vector":
                has = self.has_field(name) if col.optional else None
                orig = self.orig_field(name)
                out: list[Any] = []
                for e, v in zip(entities, column):
                    if has is not None and not e.get(has):
                        out.append(None)
                    elif e.get(orig):
                        out.append(decode_tensor(_unchunk(e[orig])))
                    else:
                        out.append(np.asarray(v, dtype=np.float32))
                values[name] = out
            elif kind in BLOB_KINDS:
                # an empty array is a missing value (bytes are at least one chunk)
                values[name] = [_unchunk(v) if v else None for v in column]
            elif name in self.arrays.elements:
                values[name] = self.arrays.decode(column)
            elif kind == "json":
                values[name] = [None if v is None else orjson.dumps(v["v"]) for v in column]
            else:
                values[name] = column
        return ids, values


def vector_index(col: Column) -> tuple[str, dict[str, Any]]:
    """The Milvus index type and build parameters of a vector column."""
    config = col.config
    index_type = str(config.get("index_type", "HNSW")).upper()
    if index_type == "HNSW":
        params = {
            "M": int(config.get("M", 16)),
            "efConstruction": int(config.get("ef_construction", 200)),
        }
    elif index_type.startswith("IVF"):
        params = {"nlist": int(config.get("nlist", 128))}
    else:
        params = {}
    extra = config.get("index_params")
    if isinstance(extra, Mapping):
        params.update(extra)
    return index_type, params


def search_params(col: Column, k: int) -> dict[str, Any]:
    """The Milvus search parameters of a vector column for ``k`` results."""
    config = col.config
    params: dict[str, Any] = {}
    index_type = str(config.get("index_type", "HNSW")).upper()
    if index_type == "HNSW":
        params["ef"] = max(int(config.get("ef", 64)), k)
    elif index_type.startswith("IVF"):
        params["nprobe"] = int(config.get("nprobe", 16))
    return {"metric_type": METRICS[col.space], "params": params}


def _text_searchable(col: Column, bm25: bool = True) -> bool:
    setting = col.config.get("full_text_search")
    if setting is not None:
        return bool(setting)
    return bm25 and col.name != "id" and not col.name.endswith("__id")


# doctest compiles examples with the __future__ flags of the module namespace
del annotations

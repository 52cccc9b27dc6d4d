"""Embeddings declared in the schema: a vector field that names its source and its encoder.

::

    class Page(BaseDoc):
        text: str
        embedding: NdArray[384] = Field(embed_from='text', encoder=encoder)

``index(docs)`` computes the vectors documents leave out, in batches, and keeps a stored
vector without calling the model when the document's source is unchanged; ``find('a query',
search_field='embedding')`` embeds the query with the same encoder. ``embed_from`` may name
several fields (``('text', 'image')``): each document is embedded from the first of them it
has, so texts and images share one vector field of a multimodal encoder. A field with an
``encoder`` and no ``embed_from`` embeds queries only: documents bring their own vectors.

The index records each encoder's name and dimension; opening it with another is an
:class:`EncoderMismatchError`, never a silent drift.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import orjson

from docstack._internal.equality import values_equal
from docstack._internal.fields import unwrap_optional
from docstack.errors import DocstackError
from docstack.index._stored import restore_column

if TYPE_CHECKING:  # pragma: no cover
    from docstack.index._base import DocumentIndex
    from docstack.index._schema import Column, IndexSchema

__all__ = [
    "EmbedSpec",
    "EncoderMismatchError",
    "embed_specs",
    "field_encoder",
    "fill_vectors",
    "find_by_modality",
    "query_inputs",
]

#: the key under which an index records its encoders (see ``_b_meta_get``)
META_KEY = "encoders"


class EncoderMismatchError(DocstackError):
    """An index was built with one encoder and opened with another (or another dimension)."""


@dataclass(frozen=True)
class EmbedSpec:
    """How one vector column is computed: from which columns, with which encoder."""

    column: str
    sources: tuple[str, ...]
    modalities: tuple[str, ...]
    encoder: Any

    def record(self) -> dict[str, Any]:
        """What the index stores about the encoder, to check it on reopening."""
        return {"encoder": str(self.encoder.name), "dim": int(self.encoder.dim)}


def _source_modality(col: Column, field: str) -> str:
    from docstack.typing.url.image_url import ImageUrl

    inner, _ = unwrap_optional(col.annotation)
    if col.kind == "str":
        if isinstance(inner, type) and issubclass(inner, ImageUrl):
            return "image"
        return "text"
    if col.kind == "tensor" and getattr(col.tensor_cls, "_docstack_family", "") == "image":
        return "image"
    raise ValueError(
        f"field {field!r}: embed_from names {col.name!r}, a {col.kind} field; embed from a "
        "str field (text), an ImageUrl or an image tensor"
    )


def embed_specs(schema: IndexSchema) -> dict[str, EmbedSpec]:
    """The vector columns of ``schema`` that declare ``embed_from``, checked.

    Example
    -------
    >>> import numpy as np
    >>> from pydantic import Field
    >>> from docstack import BaseDoc
    >>> from docstack.embed import Encoder
    >>> from docstack.typing import NdArray
    >>> from docstack.index._schema import IndexSchema
    >>> class Letters(Encoder):
    ...     name, dim = 'letters', 2
    ...     def _encode_batch(self, items, modality):
    ...         return np.array([[len(t), t.count('a')] for t in items])
    >>> class Doc(BaseDoc):
    ...     text: str
    ...     emb: NdArray[2] = Field(embed_from='text', encoder=Letters())
    >>> spec = embed_specs(IndexSchema.from_doc_type(Doc, {}))['emb']
    >>> spec.sources, spec.modalities, spec.encoder.name
    (('text',), ('text',), 'letters')
    """
    cached = getattr(schema, "_embed_specs", None)
    if cached is not None:
        return cached
    specs: dict[str, EmbedSpec] = {}
    for name, col in schema.vector_columns.items():
        raw = col.config.get("embed_from")
        if raw is None and col.config.get("encoder") is None:
            continue
        # an encoder without embed_from embeds queries only: documents bring their vectors
        sources = () if raw is None else (raw,) if isinstance(raw, str) else tuple(raw)
        if raw is not None and (not sources or not all(isinstance(s, str) and s for s in sources)):
            raise ValueError(f"field {name!r}: embed_from must name a field, got {raw!r}")
        encoder = _encoder_of(schema.doc_type, col)
        prefix = col.path[:-1]
        cols, modalities = [], []
        for src in sources:
            full = "__".join((*prefix, *src.replace("__", ".").split(".")))
            src_col = schema.columns.get(full)
            if src_col is None or full == name:
                raise ValueError(
                    f"field {name!r}: embed_from names {src!r}, which is not a field of "
                    f"{schema.doc_type.__name__} it can embed"
                )
            modality = _source_modality(src_col, name)
            if modality not in encoder.modalities:
                raise ValueError(
                    f"field {name!r}: encoder {encoder.name!r} takes "
                    f"{sorted(encoder.modalities)}, but embed_from field {src!r} holds "
                    f"{modality}"
                )
            cols.append(full)
            modalities.append(modality)
        if col.dim is not None and col.dim != encoder.dim:
            raise ValueError(
                f"field {name!r} has dimension {col.dim}, but its encoder {encoder.name!r} "
                f"answers {encoder.dim}"
            )
        specs[name] = EmbedSpec(name, tuple(cols), tuple(modalities), encoder)
    schema._embed_specs = specs  # type: ignore[attr-defined]
    return specs


def _encoder_of(doc_type: type, col: Column) -> Any:
    owner: Any = doc_type
    for part in col.path[:-1]:
        from docstack._internal.fields import doc_fields

        owner = doc_fields(owner)[part].doc_cls
    encoder = (getattr(owner, "__docstack_encoders__", None) or {}).get(col.path[-1])
    if encoder is None:
        encoder = col.config.get("encoder")
    if encoder is None or isinstance(encoder, str):
        raise ValueError(
            f"field {col.name!r} declares embed_from or encoder but no encoder object: give "
            "Field(embed_from=..., encoder=SomeEncoder(...)) a docstack.embed.Encoder"
        )
    for attr in ("name", "dim", "modalities", "encode", "encode_query"):
        if not hasattr(encoder, attr):
            raise TypeError(
                f"field {col.name!r}: encoder must be a docstack.embed.Encoder, got "
                f"{type(encoder).__name__} (no {attr!r})"
            )
    return encoder


def field_encoder(index: DocumentIndex, search_field: str) -> Any:
    """The encoder the vector field ``search_field`` declares, or ``None``.

    Example
    -------
    >>> from docstack import BaseDoc
    >>> from docstack.typing import NdArray
    >>> from docstack.index import InMemoryExactNNIndex
    >>> class Doc(BaseDoc):
    ...     emb: NdArray[2]
    >>> field_encoder(InMemoryExactNNIndex[Doc](), 'emb') is None
    True
    """
    column = index._schema.vector_column(search_field)
    spec = embed_specs(index._schema).get(column.name)
    return None if spec is None else spec.encoder


def check_records(index: DocumentIndex) -> None:
    """Compare the encoders of the schema with those the index recorded; record new ones."""
    specs = embed_specs(index._schema)
    if not specs:
        return
    raw = index._b_meta_get(META_KEY)
    stored: dict[str, Any] = orjson.loads(raw) if raw else {}
    for name, spec in specs.items():
        old = stored.get(name)
        new = spec.record()
        if old is not None and old != new:
            raise EncoderMismatchError(
                f"field {name!r} of this index was embedded with encoder {old['encoder']!r} "
                f"(dimension {old['dim']}); the schema now names {new['encoder']!r} "
                f"(dimension {new['dim']}). Vectors of two models are not comparable: open "
                "the index with the encoder it was built with, or build a new index"
            )
    merged = {**stored, **{n: s.record() for n, s in specs.items()}}
    if merged != stored:
        index._b_meta_set(META_KEY, orjson.dumps(merged).decode())


def _value_at(doc: Any, path: tuple[str, ...]) -> Any:
    for part in path:
        if doc is None:
            return None
        doc = getattr(doc, part, None)
    return doc


def _as_input(value: Any, modality: str) -> Any:
    if modality == "image":
        if isinstance(value, str):
            return np.asarray(value.load())  # an ImageUrl
        return np.asarray(value)
    return value if type(value) is str else str(value)


def fill_vectors(
    index: DocumentIndex, docs: Sequence[Any], show_progress: bool = False
) -> dict[str, list[Any]]:
    """The vectors to write for each embedded column, one per document (``None`` = given).

    Documents that bring their own vector keep it. For the others, a stored document with
    the same id and an equal source keeps its stored vector; the rest are encoded in
    batches, grouped by modality.
    """
    specs = embed_specs(index._schema)
    out: dict[str, list[Any]] = {}
    if not specs or not docs:
        return out
    cols = index._schema.columns
    docs = list(docs)  # positional access to a DocList costs a call per document
    for name, spec in specs.items():
        if not spec.sources:
            continue
        path = cols[name].path
        sources = [(src, cols[src].path, m) for src, m in zip(spec.sources, spec.modalities)]
        todo: list[int] = []
        chosen: list[tuple[str, Any, str]] = []  # (source column, value, modality)
        for i, doc in enumerate(docs):
            if _value_at(doc, path) is not None:
                continue
            parent = _value_at(doc, path[:-1]) if len(path) > 1 else doc
            if parent is None:
                continue
            for src, src_path, modality in sources:
                value = _value_at(doc, src_path)
                if value is not None:
                    todo.append(i)
                    chosen.append((src, value, modality))
                    break
        if not todo:
            continue
        vectors: list[Any] = [None] * len(docs)
        reuse = _stored_vectors(index, [str(docs[i].id) for i in todo], name, chosen)
        groups: dict[str, list[int]] = {}
        for j, (_, _, modality) in enumerate(chosen):
            if reuse[j] is None:
                groups.setdefault(modality, []).append(j)
            else:
                vectors[todo[j]] = reuse[j]
        for modality, js in groups.items():
            inputs = [_as_input(chosen[j][1], modality) for j in js]
            encoded = spec.encoder.encode(
                inputs, modality=modality, show_progress=show_progress and len(js) > 256
            )
            for j, row in zip(js, encoded):
                vectors[todo[j]] = row
        out[name] = vectors
    return out


def _stored_vectors(
    index: DocumentIndex, ids: list[str], name: str, chosen: list[tuple[str, Any, str]]
) -> list[Any]:
    """Per document, its stored vector when its stored source equals the new one.

    Sources are compared per source column in one batch: stored values restored in one
    call, texts compared in one numpy comparison, other values (images) one by one.
    """
    found: list[Any] = [None] * len(ids)
    if not index._b_count():
        return found
    got_ids, values = index._b_get(ids)
    if not got_ids:
        return found
    where = {i: k for k, i in enumerate(got_ids)}
    stored_vectors = values[name]
    by_source: dict[str, tuple[list[int], list[int]]] = {}  # src -> (positions j, rows k)
    for j, (doc_id, (src, _, _)) in enumerate(zip(ids, chosen)):
        k = where.get(doc_id)
        if k is not None and stored_vectors[k] is not None:
            js, ks = by_source.setdefault(src, ([], []))
            js.append(j)
            ks.append(k)
    cols = index._schema.columns
    for src, (js, ks) in by_source.items():
        olds = restore_column(cols[src], [values[src][k] for k in ks], len(ks))
        news = [chosen[j][1] for j in js]
        if all(type(v) is str for v in news):
            same = np.equal(_objects(olds), _objects(news)).tolist()
        else:
            same = [old is not None and values_equal(old, new) for old, new in zip(olds, news)]
        for j, k, keep in zip(js, ks, same):
            if keep is True:
                found[j] = np.asarray(stored_vectors[k], dtype=np.float32)
    return found


def _objects(items: list[Any]) -> np.ndarray:
    """A 1-d object array of ``items`` (``np.array`` would build a string array)."""
    out = np.empty(len(items), dtype=object)
    out[:] = items
    return out


def query_inputs(query: Any, spec: EmbedSpec, single: bool) -> tuple[list[Any], str] | None:
    """Raw queries to embed (texts, or images for an image encoder), or ``None`` when the
    query is already a vector or a document."""
    if isinstance(query, str):
        return [query], "text"
    if isinstance(query, (list, tuple)) and query and all(isinstance(q, str) for q in query):
        return list(query), "text"
    if "image" in spec.encoder.modalities and hasattr(query, "shape"):
        arr = np.asarray(query)
        if arr.ndim == 3:
            return [arr], "image"
        if arr.ndim == 4 and not single:
            return list(arr), "image"
    return None


def encode_queries(query: Any, spec: EmbedSpec, single: bool) -> np.ndarray | None:
    """``query`` embedded with the column's encoder, or ``None`` when it needs no encoding."""
    found = query_inputs(query, spec, single)
    if found is None:
        return None
    items, modality = found
    if modality not in spec.encoder.modalities:
        raise ValueError(
            f"field {spec.column!r}: its encoder {spec.encoder.name!r} cannot embed a "
            f"{modality} query"
        )
    return spec.encoder.encode_query(items, modality=modality)


def doc_query_vector(doc: Any, spec: EmbedSpec, columns: Mapping[str, Column]) -> Any:
    """A query document's vector: its own, or its source embedded with the encoder."""
    vector = _value_at(doc, columns[spec.column].path)
    if vector is not None:
        return vector
    for src, modality in zip(spec.sources, spec.modalities):
        value = _value_at(doc, columns[src].path)
        if value is not None:
            return spec.encoder.encode_query([_as_input(value, modality)], modality=modality)[0]
    return None


def find_by_modality(
    index: DocumentIndex,
    query: Any,
    *,
    search_field: str = "",
    modality_field: str = "modality",
    modalities: Sequence[str] | None = None,
    limit: int = 10,
    filter: Any = None,
    rrf_k: int = 60,
) -> dict[str, Any]:
    """Search each modality on its own, and fuse the lists by rank.

    A text query's cosine similarity to texts and to images of one CLIP-style space are not
    comparable (texts score higher among themselves), so one list sorted by raw score tends
    to hold one modality only. This answers a :class:`~docstack.index.FindResult` per value
    of ``modality_field`` (filtered on it), plus ``'fused'``: the lists merged by
    reciprocal rank fusion, whose scores are RRF scores (higher is better).

    Example
    -------
    >>> import numpy as np
    >>> from docstack import BaseDoc, DocList
    >>> from docstack.typing import NdArray
    >>> from docstack.index import InMemoryExactNNIndex, find_by_modality
    >>> class Item(BaseDoc):
    ...     modality: str
    ...     emb: NdArray[2]
    >>> index = InMemoryExactNNIndex[Item]()
    >>> index.index(DocList[Item]([Item(id='t', modality='text', emb=[1, 0]),
    ...                            Item(id='i', modality='image', emb=[0.2, 1])]))
    >>> out = find_by_modality(index, np.array([1.0, 0.0]), search_field='emb', limit=2,
    ...                        modalities=['text', 'image'])
    >>> sorted(out), out['fused'].documents.id
    (['fused', 'image', 'text'], ['t', 'i'])
    """
    from docstack.array.doc_list import DocList
    from docstack.index._results import FindResult
    from docstack.retrieval import reciprocal_rank_fusion

    if modalities is None:
        seen = index.filter({}, limit=index.num_docs() or 1)
        values = getattr(seen, modality_field, None) if len(seen) else []
        if values is None:
            raise ValueError(f"{modality_field!r} is not a field of {index.schema.__name__}")
        modalities = sorted({v for v in values if v is not None})
    out: dict[str, Any] = {}
    for modality in modalities:
        condition: Any = {modality_field: {"$eq": modality}}
        if filter:
            condition = {"$and": [filter, condition]}
        built = (
            index.build_query()
            .find(query, search_field=search_field)
            .filter(condition)
            .build(limit=limit)
        )
        out[modality] = index.execute_query(built)
    docs_by_id = {d.id: d for r in out.values() for d in r.documents}
    ids, scores = reciprocal_rank_fusion([list(r.documents.id) for r in out.values()], k=rrf_k)
    fused = DocList[index.schema]([docs_by_id[i] for i in ids[:limit]])
    out["fused"] = FindResult(fused, np.asarray(scores[:limit], dtype=np.float64))
    return out


# doctest compiles examples with the __future__ flags of the module namespace
del annotations

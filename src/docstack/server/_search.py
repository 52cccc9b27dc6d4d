"""Search requests of the service: one JSON body for text, vector, hybrid, more-like-this and
filter-only searches, run through the index's public query API."""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, create_model

from docstack._internal.metrics import higher_is_better
from docstack.embed._base import EncoderError
from docstack.errors import DocstackError
from docstack.index._base import DocumentIndex
from docstack.index._results import FindResult
from docstack.server._describe import default_fields, encoder_of
from docstack.server._query_vectors import QUERY_VECTORS, QueryVectorCache

__all__ = [
    "QueryVectorCache",
    "SearchError",
    "SearchOutcome",
    "SearchRequest",
    "run_search",
    "search_model",
]

Mode = Literal["text", "vector", "hybrid", "filter"]


class SearchError(DocstackError, ValueError):
    """A search request the index cannot answer (the message says why); a 400 response.

    Example
    -------
    >>> str(SearchError("give text"))
    'give text'
    """


class SearchRequest(BaseModel):
    """The body of ``POST /api/indexes/{name}/search``.

    ``mode`` picks the search: ``'text'`` (BM25 of ``text`` in ``text_field``),
    ``'vector'`` (nearest neighbours in ``vector_field`` of ``vector``, of the stored vector
    of document ``like_id``, or of ``text`` embedded by the field's encoder), ``'hybrid'``
    (both, fused with ``fusion``) or ``'filter'`` (only ``filter``, in insertion order).
    Without ``mode``: text and a vector source give ``'hybrid'``, a vector or ``like_id``
    ``'vector'``, text alone ``'text'``, nothing ``'filter'``. ``filter`` is the portable
    filter language of :mod:`docstack.index` and applies before every limit.

    Results leave tensors out unless asked (``tensors='full'``), as Qdrant and Milvus leave
    vectors out of search results: a 384-d vector is about 4 KB of JSON per hit, more than
    the rest of a typical document, and clients that need it ask for it.

    Example
    -------
    >>> SearchRequest(text='red fox').resolved_mode()
    'text'
    >>> SearchRequest(text='red fox', like_id='a').resolved_mode()
    'hybrid'
    >>> SearchRequest(text='red fox').tensors
    'summary'
    """

    model_config = ConfigDict(extra="forbid")

    mode: Mode | None = Field(None, description="text, vector, hybrid or filter")
    text: str | None = Field(None, description="a text query", max_length=10_000)
    vector: list[float] | None = Field(None, description="a query vector", max_length=65_536)
    like_id: str | None = Field(None, description="more like this: a stored document's id")
    text_field: str | None = Field(None, description="the text field for BM25")
    vector_field: str | None = Field(None, description="the vector field searched")
    filter: dict[str, Any] | None = Field(None, description="a portable filter")
    limit: int = Field(10, ge=0)
    offset: int = Field(0, ge=0)
    score_threshold: float | None = Field(None, allow_inf_nan=False)
    fusion: Literal["rrf", "weighted"] = "rrf"
    text_weight: float = Field(1.0, ge=0, allow_inf_nan=False)
    vector_weight: float = Field(1.0, ge=0, allow_inf_nan=False)
    tensors: Literal["full", "summary"] = Field(
        "summary",
        description="'summary' (the default): tensors (vectors, images, sounds) are null, "
        "with their shape and dtype in tensor_info; 'full': tensors as lists",
    )

    def resolved_mode(self) -> str:
        """The mode asked for, or the one the given inputs imply.

        >>> SearchRequest(vector=[0.1, 0.2]).resolved_mode(), SearchRequest().resolved_mode()
        ('vector', 'filter')
        >>> SearchRequest(mode='text', text='fox', like_id='a').resolved_mode()  # asked for
        'text'
        """
        if self.mode is not None:
            return self.mode
        has_vector = self.vector is not None or self.like_id is not None
        if self.text is not None and has_vector:
            return "hybrid"
        if has_vector:
            return "vector"
        return "text" if self.text is not None else "filter"


def search_model(max_limit: int, max_offset: int) -> type[SearchRequest]:
    """A :class:`SearchRequest` whose ``limit`` and ``offset`` are capped (so the cap is in
    the OpenAPI schema and a larger value is a 422 naming the field).

    Example
    -------
    >>> Model = search_model(50, 1000)
    >>> Model.model_json_schema()['properties']['limit']['maximum']
    50
    """
    return create_model(
        "SearchRequest",
        __base__=SearchRequest,
        limit=(int, Field(10, ge=0, le=max_limit, description=f"at most {max_limit}")),
        offset=(int, Field(0, ge=0, le=max_offset, description=f"at most {max_offset}")),
    )


class SearchOutcome(BaseModel):
    """What a search found, with how to read its scores.

    Example
    -------
    >>> SearchOutcome(mode='text', score='bm25', higher_is_better=True).score_label
    'higher is better'
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    mode: str
    score: str | None
    higher_is_better: bool | None
    documents: Any = None
    scores: Any = None

    @property
    def score_label(self) -> str | None:
        """``'higher is better'``, ``'lower is better'`` or ``None`` (no scores)."""
        if self.higher_is_better is None:
            return None
        return "higher is better" if self.higher_is_better else "lower is better"


def _stored_vector(index: DocumentIndex, doc_id: str, field: str) -> np.ndarray:
    doc = index[doc_id]  # KeyError: an unknown id, answered 404
    value: Any = doc
    for part in index._schema.columns[field].path:
        value = getattr(value, part, None)
        if value is None:
            raise SearchError(f"document {doc_id!r} has no value in vector field {field!r}")
    return np.asarray(value, dtype=np.float32)


def query_vector(
    index: DocumentIndex, req: SearchRequest, field: str, image: np.ndarray | None = None
) -> Any:
    """The query vector of a vector or hybrid search: the uploaded image or ``text``
    embedded by the field's encoder, the given ``vector``, or the stored vector of
    ``like_id``."""
    column = index._schema.columns[field]
    encoder = encoder_of(index, column)
    if image is not None:
        if encoder is None or "image" not in getattr(encoder, "modalities", ()):
            raise SearchError(
                f"vector field {field!r} has no encoder that embeds images; search it by "
                "vector, by text or by a document id instead"
            )
        return encoder.encode_query([image], modality="image")[0]
    if req.vector is not None:
        return np.asarray(req.vector, dtype=np.float32)
    if req.like_id is not None:
        return _stored_vector(index, req.like_id, field)
    if req.text is None:
        raise SearchError("a vector search needs 'vector', 'like_id' or 'text'")
    if encoder is None:  # a field with embed_from always has one: the schema checks it
        raise SearchError(
            f"vector field {field!r} has no encoder to embed text: give 'vector' or "
            "'like_id', or search with mode='text'"
        )
    if "text" not in getattr(encoder, "modalities", ("text",)):
        raise SearchError(f"the encoder of vector field {field!r} does not embed text")
    return QUERY_VECTORS.get(encoder, req.text)


def run_search(
    index: DocumentIndex, req: SearchRequest, image: np.ndarray | None = None
) -> SearchOutcome:
    """Run a search request on ``index`` through ``build_query()``/``execute_query()``.

    Example
    -------
    >>> from docstack import BaseDoc
    >>> from docstack.index import InMemoryExactNNIndex
    >>> class Doc(BaseDoc):
    ...     text: str
    >>> index = InMemoryExactNNIndex[Doc]()
    >>> index.index([Doc(text='red fox'), Doc(text='blue whale')])
    >>> out = run_search(index, SearchRequest(text='fox'))
    >>> out.documents.text, out.score_label
    (['red fox'], 'higher is better')
    """
    mode = "vector" if image is not None else req.resolved_mode()
    schema = index._schema
    if mode == "filter":
        docs = index.filter(req.filter or {}, limit=req.limit, offset=req.offset)
        return SearchOutcome(mode=mode, score=None, higher_is_better=None, documents=docs)
    builder = index.build_query()
    default_text, default_vector = default_fields(index)
    score, higher = "bm25", True
    if mode in ("vector", "hybrid"):
        if req.vector_field is None and default_vector is None:
            names = list(schema.vector_columns)
            if not names:
                raise SearchError("this index has no vector field: search it with mode='text'")
            raise SearchError(f"give 'vector_field': the vector fields of this index are {names}")
        column = schema.vector_column(req.vector_field or default_vector)
        vector = query_vector(index, req, column.name, image)
        try:
            builder.find(vector, search_field=column.name, weight=req.vector_weight)
        except (TypeError, EncoderError) as exc:
            raise SearchError(f"vector field {column.name!r}: {exc}") from exc
        score, higher = column.space, higher_is_better(column.space)
        if req.like_id is not None:
            builder.filter({"id": {"$neq": req.like_id}})
    if mode in ("text", "hybrid"):
        if req.text is None:
            raise SearchError(f"mode {mode!r} needs 'text'")
        if req.text_field is None and default_text is None:
            names = [n for n in schema.text_columns if n != "id"]
            raise SearchError(f"give 'text_field': the text fields of this index are {names}")
        column = schema.text_column(req.text_field or default_text)
        builder.text_search(req.text, search_field=column.name, weight=req.text_weight)
    if mode == "hybrid":
        score, higher = req.fusion, True
    if req.filter is not None:
        builder.filter(req.filter)
    query = builder.build(
        limit=req.limit, offset=req.offset, score_threshold=req.score_threshold, fusion=req.fusion
    )
    result: FindResult = index.execute_query(query)
    return SearchOutcome(
        mode=mode,
        score=score,
        higher_is_better=higher,
        documents=result.documents,
        scores=result.scores,
    )


# doctest compiles examples with the __future__ flags of the module namespace
del annotations

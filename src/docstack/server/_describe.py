"""What the service tells clients about an index: its fields, vectors, text fields, media
fields and encoders, as plain JSON-ready dicts."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from docstack._internal.fields import unwrap_optional
from docstack._internal.metrics import higher_is_better
from docstack.index._base import DocumentIndex
from docstack.index._schema import Column

__all__ = [
    "MediaField",
    "as_index_map",
    "default_fields",
    "describe_index",
    "encoder_of",
    "media_fields",
    "moment_fields",
]

_MEDIA = ("image", "audio", "video")
#: plain ``str`` fields taken for the URL or path of a video
_VIDEO_PATH_NAMES = frozenset({"video_url", "video_path"})


@dataclass(frozen=True)
class MediaField:
    """A field holding an image, a sound or a video, and where its data is.

    ``source`` is ``'tensor'`` (pixels or samples), ``'bytes'`` (an encoded file) or
    ``'url'`` (a URL or local path).

    Example
    -------
    >>> MediaField('photo__url', 'image', 'url').kind
    'image'
    """

    name: str
    kind: str
    source: str


def _type_name(annotation: Any) -> str:
    inner, optional = unwrap_optional(annotation)
    name = getattr(inner, "__name__", None) or str(inner).replace("typing.", "")
    return f"{name} | None" if optional else name


def _media_of(column: Column) -> MediaField | None:
    if column.kind == "tensor":
        family = getattr(column.tensor_cls, "_docstack_family", None)
        return MediaField(column.name, family, "tensor") if family in _MEDIA else None
    inner, _ = unwrap_optional(column.annotation)
    if not isinstance(inner, type):
        return None
    if column.kind == "str":
        mime = getattr(inner, "_docstack_mime", None)
        if mime is None and column.name in _VIDEO_PATH_NAMES:
            mime = "video"  # a plain str naming a video, as docstack.video's moments have
        return MediaField(column.name, mime, "url") if mime in _MEDIA else None
    if column.kind == "bytes":
        for kind in _MEDIA:
            if inner.__name__.lower() == f"{kind}bytes":
                return MediaField(column.name, kind, "bytes")
    return None


def _is_url(column: Column) -> bool:
    inner, _ = unwrap_optional(column.annotation)
    return isinstance(inner, type) and hasattr(inner, "_docstack_mime")


def media_fields(index: DocumentIndex) -> dict[str, MediaField]:
    """The image, audio and video fields of an index's schema, by column name.

    Example
    -------
    >>> from docstack.documents import ImageDoc
    >>> from docstack.index import InMemoryExactNNIndex
    >>> sorted(media_fields(InMemoryExactNNIndex[ImageDoc]()))
    ['bytes_', 'tensor', 'url']
    """
    out = {}
    for column in index._schema.columns.values():
        media = _media_of(column)
        if media is not None:
            out[column.name] = media
    return out


def moment_fields(index: DocumentIndex) -> dict[str, str] | None:
    """For an index of video moments, the names of its ``start``/``end`` (seconds) fields and
    of the video field a moment plays from (``None`` when the schema has no such fields).

    A moment is a document with a numeric ``start`` field (``end`` optional) and a video
    field (a ``VideoUrl``, a ``video_url``/``video_path`` text field, video bytes), or a
    ``video_id`` text field naming it (as :class:`docstack.video.VideoMomentDoc` has).

    Example
    -------
    >>> from docstack import BaseDoc
    >>> from docstack.typing import VideoUrl
    >>> from docstack.index import InMemoryExactNNIndex
    >>> class Moment(BaseDoc):
    ...     url: VideoUrl
    ...     start: float
    ...     end: float
    >>> moment_fields(InMemoryExactNNIndex[Moment]())
    {'start': 'start', 'end': 'end', 'video': 'url'}
    """
    columns = index._schema.columns
    start = columns.get("start")
    if start is None or start.kind not in ("int", "float"):
        return None
    end = columns.get("end")
    videos = [m.name for m in media_fields(index).values() if m.kind == "video"]
    urls = [n for n in videos if media_fields(index)[n].source == "url"]
    video = (urls or videos or [None])[0]
    if video is None and "video_id" in columns:
        video = "video_id"
    if video is None:
        return None
    out = {"start": "start", "video": video}
    if end is not None and end.kind in ("int", "float"):
        out = {"start": "start", "end": "end", "video": video}
    return out


def encoder_of(index: DocumentIndex, column: Column) -> Any:
    """The encoder that embeds queries for a vector column (``Field(encoder=...)``), or
    ``None`` when the column holds vectors given by the caller.

    Example
    -------
    >>> from docstack import BaseDoc
    >>> from docstack.typing import NdArray
    >>> from docstack.index import InMemoryExactNNIndex
    >>> class Doc(BaseDoc):
    ...     emb: NdArray[2]
    >>> index = InMemoryExactNNIndex[Doc]()
    >>> encoder_of(index, index._schema.columns['emb']) is None
    True
    """
    from docstack.index._embed import embed_specs

    spec = embed_specs(index._schema).get(column.name)
    return None if spec is None else spec.encoder


def _encoder_info(encoder: Any, column: Column) -> dict[str, Any] | None:
    if encoder is None:
        return None
    return {
        "name": str(getattr(encoder, "name", "") or type(encoder).__name__),
        "dim": getattr(encoder, "dim", None),
        "modalities": sorted(getattr(encoder, "modalities", ("text",))),
        "embed_from": column.config.get("embed_from"),
    }


def default_fields(index: DocumentIndex) -> tuple[str | None, str | None]:
    """The text field and vector field a search uses when the request names none: the one
    text field that is not an id or a media URL (among several, the one named ``text``), and
    the one vector field with vectors stored (or an encoder); ``None`` where there is no
    single choice.

    Example
    -------
    >>> from docstack.documents import ImageDoc
    >>> from docstack.index import InMemoryExactNNIndex
    >>> default_fields(InMemoryExactNNIndex[ImageDoc]())
    (None, 'embedding')
    """
    schema = index._schema
    media = media_fields(index)
    texts = [
        n
        for n, c in schema.text_columns.items()
        if n != "id" and not n.endswith("__id") and n not in media and not _is_url(c)
    ]
    vectors = list(schema.vector_columns)
    if len(vectors) > 1:
        vectors = [
            n
            for n, c in schema.vector_columns.items()
            if n in index._dims or encoder_of(index, c) is not None
        ]
    if len(texts) > 1 and "text" in texts:  # the field named text, as TextDoc's is
        texts = ["text"]
    return (
        texts[0] if len(texts) == 1 else None,
        vectors[0] if len(vectors) == 1 else None,
    )


def describe_index(name: str, index: DocumentIndex) -> dict[str, Any]:
    """The overview of one index the service answers: count, fields, vectors, text fields,
    media fields, moment fields and the score direction of each vector field.

    Example
    -------
    >>> from docstack.documents import TextDoc
    >>> from docstack.index import InMemoryExactNNIndex
    >>> info = describe_index('notes', InMemoryExactNNIndex[TextDoc]())
    >>> info['num_docs'], info['default_text_field'], info['vector_fields'][0]['name']
    (0, 'text', 'embedding')
    """
    schema = index._schema
    media = media_fields(index)
    fields = []
    for column in schema.columns.values():
        if column.kind == "presence":
            continue
        fields.append(
            {
                "name": column.name,
                "kind": column.kind,
                "type": _type_name(column.annotation),
                "optional": column.optional,
                "filterable": column.filterable,
                "media": media[column.name].kind if column.name in media else None,
                "media_source": media[column.name].source if column.name in media else None,
            }
        )
    vectors = []
    for column in schema.vector_columns.values():
        space = column.space
        vectors.append(
            {
                "name": column.name,
                "dim": index._dims.get(column.name, column.dim),
                "metric": space,
                "higher_is_better": higher_is_better(space),
                "encoder": _encoder_info(encoder_of(index, column), column),
            }
        )
    text_fields = sorted(n for n in schema.text_columns if n != "id" and not n.endswith("__id"))
    default_text, default_vector = default_fields(index)
    return {
        "name": name,
        "document_type": schema.doc_type.__name__,
        "backend": type(index).__name__.split("[")[0],
        "num_docs": index.num_docs(),
        "fields": fields,
        "vector_fields": vectors,
        "text_fields": text_fields,
        "default_text_field": default_text,
        "default_vector_field": default_vector,
        "filter_fields": sorted(schema.filter_columns),
        "media_fields": [
            {"name": m.name, "kind": m.kind, "source": m.source} for m in media.values()
        ],
        "moment": moment_fields(index),
        "subindexes": sorted(schema.subindexes),
    }


def as_index_map(indexes: DocumentIndex | Mapping[str, DocumentIndex]) -> dict[str, DocumentIndex]:
    """The indexes a service serves, by name: one index is served as its ``index_name``
    (or ``'default'``).

    Example
    -------
    >>> from docstack.documents import TextDoc
    >>> from docstack.index import InMemoryExactNNIndex
    >>> list(as_index_map(InMemoryExactNNIndex[TextDoc]()))
    ['default']
    """
    if isinstance(indexes, DocumentIndex):
        return {indexes.index_name or "default": indexes}
    if not isinstance(indexes, Mapping) or not indexes:
        raise TypeError(
            "create_app() takes a DocumentIndex or a non-empty mapping of names to "
            f"DocumentIndex, got {type(indexes).__name__}"
        )
    out = {}
    for key, value in indexes.items():
        if not isinstance(key, str) or not key or "/" in key:
            raise ValueError(f"index names must be non-empty strings without '/', got {key!r}")
        if not isinstance(value, DocumentIndex):
            raise TypeError(f"index {key!r} is a {type(value).__name__}, not a DocumentIndex")
        out[key] = value
    return out


# doctest compiles examples with the __future__ flags of the module namespace
del annotations

"""The schema of a folder index: one :class:`FileDoc` per file, its text chunks and video
moments as sub-indexes.

Classes are built per encoder (a vector field's dimension and encoder are part of its type),
by :func:`file_schema`:

- ``FileDoc``: ``path``, ``name``, ``suffix``, ``kind``, ``size``, ``mtime``, ``sha256``,
  ``title``, the ``text`` of text files, media metadata (``width``/``height`` and a small
  ``thumbnail`` of images; ``duration``, ``sample_rate``, ``channels`` of audio and video;
  ``frame_rate``; ``vertices``/``faces`` of meshes; ``pages`` of PDFs) and, with an image
  encoder, ``image_embedding``;
- ``chunks``: ``FileChunk`` documents (a :class:`~docstack.chunking.ChunkDoc` with an
  ``embedding`` computed from its ``text`` by the text encoder). A file without text has one
  chunk holding its name, so every file can be found by name;
- ``moments``: ``FileMoment`` documents of videos (``start``/``end`` seconds, a small key
  frame, and with an image encoder an ``embedding`` of it).

Chunks and moments repeat the file's ``path``, ``name``, ``suffix``, ``kind``, ``size`` and
``mtime``, so a search filter on those fields applies at every level (:data:`FILTER_FIELDS`).
"""

from __future__ import annotations

from typing import Any, NamedTuple, Optional

from pydantic import Field, create_model

from docstack.array import DocList
from docstack.base_doc import BaseDoc
from docstack.chunking import ChunkDoc
from docstack.typing import ImageNdArray, NdArray

__all__ = ["FILTER_FIELDS", "FileSchema", "file_schema"]

#: the fields a ``--filter`` may name: every level of the index holds them
FILTER_FIELDS = ("path", "name", "suffix", "kind", "size", "mtime")

_FILE_FIELDS: dict[str, Any] = {
    "path": (str, ...),
    "name": (str, ""),
    "suffix": (str, ""),
    "kind": (str, ""),
    "size": (int, 0),
    "mtime": (float, 0.0),
}


class FileSchema(NamedTuple):
    """The document classes of one index: the file, its chunks, its video moments."""

    file: type
    chunk: type
    moment: type


_CACHE: dict[tuple[Any, ...], FileSchema] = {}


def _vector(dim: int, source: str, encoder: Any) -> tuple[Any, Any]:
    return (
        Optional[NdArray[dim]],  # type: ignore[valid-type]
        Field(None, json_schema_extra={"embed_from": source, "encoder": encoder}),
    )


def file_schema(text_encoder: Any, image_encoder: Any = None) -> FileSchema:
    """The document classes for an index embedding texts with ``text_encoder`` (and images
    and key frames with ``image_encoder``, when given).

    Example
    -------
    >>> from docstack.cli import HashingEncoder
    >>> schema = file_schema(HashingEncoder(8))
    >>> doc = schema.file(path='/a.txt', kind='text', chunks=[schema.chunk(text='hi')])
    >>> doc.chunks[0].text, 'image_embedding' in schema.file.model_fields
    ('hi', False)
    """
    key = (id(text_encoder), id(image_encoder))
    cached = _CACHE.get(key)
    if cached is not None:
        return cached
    chunk_fields: dict[str, Any] = dict(_FILE_FIELDS, path=(str, ""))
    chunk_fields["embedding"] = _vector(text_encoder.dim, "text", text_encoder)
    chunk = create_model("FileChunk", __base__=ChunkDoc, __module__=__name__, **chunk_fields)
    moment_fields: dict[str, Any] = dict(_FILE_FIELDS, path=(str, ""))
    moment_fields.update(
        parent_doc_id=(str, ""),
        start=(float, 0.0),
        end=(float, 0.0),
        keyframe_time=(Optional[float], None),
        keyframe=(Optional[ImageNdArray], None),
    )
    file_fields: dict[str, Any] = dict(_FILE_FIELDS)
    file_fields.update(
        sha256=(str, ""),
        title=(str, ""),
        text=(Optional[str], None),
        width=(Optional[int], None),
        height=(Optional[int], None),
        thumbnail=(Optional[ImageNdArray], None),
        duration=(Optional[float], None),
        sample_rate=(Optional[int], None),
        channels=(Optional[int], None),
        frame_rate=(Optional[float], None),
        vertices=(Optional[int], None),
        faces=(Optional[int], None),
        pages=(Optional[int], None),
    )
    if image_encoder is not None:
        moment_fields["embedding"] = _vector(image_encoder.dim, "keyframe", image_encoder)
        file_fields["image_embedding"] = _vector(image_encoder.dim, "thumbnail", image_encoder)
    moment = create_model("FileMoment", __base__=BaseDoc, __module__=__name__, **moment_fields)
    chunks_type = DocList[chunk]  # type: ignore[valid-type]
    moments_type = DocList[moment]  # type: ignore[valid-type]
    file_fields["chunks"] = (chunks_type, Field(default_factory=chunks_type))
    file_fields["moments"] = (moments_type, Field(default_factory=moments_type))
    file = create_model("FileDoc", __base__=BaseDoc, __module__=__name__, **file_fields)
    schema = FileSchema(file, chunk, moment)
    _CACHE[key] = schema
    return schema

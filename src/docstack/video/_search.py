"""Embed video moments and search them: type a phrase, get the moments of a film that match."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Optional, TypeVar

import numpy as np

from docstack.base_doc import BaseDoc

if TYPE_CHECKING:  # pragma: no cover
    from docstack.embed import Encoder

__all__ = ["Moment", "embed_moments", "find_moments", "merge_hits"]

M = TypeVar("M")

# two moments whose ends are this close (in seconds) touch: timestamps are float seconds
_TOUCH = 1e-6


@dataclass(frozen=True)
class Moment:
    """A stretch of one video that matched a search.

    Attributes
    ----------
    video_id:
        Which video.
    video_url:
        Where the video is (``None`` when it was indexed from bytes).
    start, end:
        The span in seconds, from the start of the first matched document to the end of the
        last.
    score:
        The score of the best matched document, in the index's meaning for its metric.
    hits:
        The matched documents that make up the moment, in time order.

    Example
    -------
    >>> Moment(video_id='v', video_url=None, start=2.0, end=6.0, score=0.9, hits=()).duration
    4.0
    """

    video_id: str
    video_url: Optional[str]
    start: float
    end: float
    score: float
    hits: tuple[Any, ...]

    @property
    def duration(self) -> float:
        """``end - start``, in seconds.

        Example
        -------
        >>> Moment('v', None, 1.0, 1.5, 0.0, ()).duration
        0.5
        """
        return self.end - self.start


def embed_moments(
    moments: M,
    encoder: Encoder,
    *,
    batch_size: Optional[int] = None,
    show_progress: bool = False,
) -> M:
    """Fill each moment's ``embedding`` from its ``keyframe`` with an image encoder.

    The key frames go to ``encoder.encode(..., modality='image')`` in batches; the moments are
    changed in place and returned.

    Parameters
    ----------
    moments:
        A ``DocList`` or ``DocVec`` of :class:`VideoMomentDoc` (or any documents with a
        ``keyframe`` and an ``embedding`` field), e.g. from :func:`segment_video`.
    encoder:
        A :class:`docstack.embed.Encoder` whose ``modalities`` include ``'image'``.
    batch_size, show_progress:
        Passed to ``encoder.encode``.

    Returns
    -------
    The same ``moments``, with embeddings.

    Raises
    ------
    ValueError
        A moment has no key frame (the message names it).
    EncoderError
        The encoder does not take images or answers the wrong shape.

    Example
    -------
    >>> import numpy as np
    >>> from docstack.embed import Encoder
    >>> from docstack.video import VideoMomentDoc
    >>> from docstack import DocList
    >>> class MeanColour(Encoder):
    ...     name, dim, modalities = 'mean-colour', 3, frozenset({'image'})
    ...     def _encode_batch(self, images, modality):
    ...         return [np.mean(image, axis=(0, 1)) for image in images]
    >>> red = np.zeros((4, 4, 3), np.uint8); red[..., 0] = 255
    >>> docs = DocList[VideoMomentDoc]([VideoMomentDoc(video_id='v', start=0, end=1, keyframe=red)])
    >>> embed_moments(docs, MeanColour())[0].embedding.tolist()
    [255.0, 0.0, 0.0]
    """
    keyframes = list(moments.keyframe)  # type: ignore[attr-defined]
    for i, keyframe in enumerate(keyframes):
        if keyframe is None:
            doc = moments[i]  # type: ignore[index]
            raise ValueError(
                f"moment {getattr(doc, 'id', i)!r} (#{i}) has no keyframe to embed; "
                "segment_video() gives every moment one"
            )
    vectors = encoder.encode(
        [np.asarray(k) for k in keyframes],
        modality="image",
        batch_size=batch_size,
        show_progress=show_progress,
    )
    moments.embedding = vectors  # type: ignore[attr-defined]
    return moments


def merge_hits(
    docs: Sequence[Any], scores: Sequence[float], *, merge_gap: float = 0.0
) -> list[Moment]:
    """Merge search hits (best first) into moments: adjacent hits of one video become one.

    The rule: hits of the same video are taken in time order, and a hit joins the moment
    before it when it starts no later than ``merge_gap`` seconds after that moment ends
    (touching or overlapping hits always join). A moment spans its hits, scores as its best
    hit, and moments are ordered by their best hit's rank, so the order needs no knowledge
    of whether the metric's scores grow or shrink with relevance.

    Parameters
    ----------
    docs:
        Documents with ``video_id``, ``start`` and ``end`` (and optionally ``video_url``),
        best first, as an index's ``find`` returns them.
    scores:
        Their scores.
    merge_gap:
        Seconds between two hits that still merge them, ``>= 0``.

    Returns
    -------
    list[Moment]
        Best first.

    Example
    -------
    >>> from docstack.video import VideoMomentDoc
    >>> hits = [VideoMomentDoc(video_id='v', start=s, end=s + 2) for s in (4.0, 2.0, 10.0)]
    >>> [(m.start, m.end, m.score) for m in merge_hits(hits, [0.9, 0.8, 0.5])]
    [(2.0, 6.0, 0.9), (10.0, 12.0, 0.5)]
    """
    if isinstance(merge_gap, bool) or not isinstance(merge_gap, (int, float, np.number)):
        raise TypeError(f"merge_gap must be a number of seconds, got {merge_gap!r}")
    if not merge_gap >= 0:
        raise ValueError(f"merge_gap must be >= 0 seconds, got {merge_gap!r}")
    if len(docs) != len(scores):
        raise ValueError(f"got {len(docs)} documents but {len(scores)} scores")
    hits = sorted(
        (_hit_fields(doc, rank) for rank, doc in enumerate(docs)),
        key=lambda h: (h[0], h[1], h[2]),  # video, start, end
    )
    groups: list[list[tuple[str, float, float, int, Any]]] = []
    reach = 0.0  # the end of the moment being built
    for hit in hits:
        if groups and groups[-1][0][0] == hit[0] and hit[1] <= reach + merge_gap + _TOUCH:
            groups[-1].append(hit)
            reach = max(reach, hit[2])
        else:
            groups.append([hit])
            reach = hit[2]
    moments = [_moment(group, scores) for group in groups]
    moments.sort(key=lambda pair: pair[0])
    return [moment for _, moment in moments]


def _moment(
    group: list[tuple[str, float, float, int, Any]], scores: Sequence[float]
) -> tuple[int, Moment]:
    """The moment a group of merged hits makes, with the rank of its best hit."""
    best = min(group, key=lambda h: h[3])
    moment = Moment(
        video_id=best[0],
        video_url=getattr(best[4], "video_url", None),
        start=min(h[1] for h in group),
        end=max(h[2] for h in group),
        score=float(scores[best[3]]),
        hits=tuple(h[4] for h in group),
    )
    return best[3], moment


def _hit_fields(doc: Any, rank: int) -> tuple[str, float, float, int, Any]:
    try:
        return (str(doc.video_id), float(doc.start), float(doc.end), rank, doc)
    except AttributeError as exc:
        raise ValueError(
            f"search hit #{rank} ({type(doc).__name__}) is not a video moment: it needs "
            f"video_id, start and end fields ({exc})"
        ) from None


def _query_vector(query: Any, encoder: Optional[Encoder]) -> Any:
    """A search vector (or document) for ``query``: text and images go through ``encoder``."""
    if isinstance(query, BaseDoc):
        return query
    if isinstance(query, str):
        modality = "text"
    else:
        array = np.asarray(query)
        if array.ndim <= 1:
            return array
        if array.ndim != 3:
            raise ValueError(
                "query must be a text, an (H, W, 3) image, a 1-D vector or a document, "
                f"got an array of shape {array.shape}"
            )
        modality, query = "image", array
    if encoder is None:
        raise ValueError(
            f"an encoder is needed to search with a {modality} query: "
            "find_moments(index, query, encoder=...)"
        )
    return encoder.encode_query([query], modality=modality)[0]


def find_moments(
    index: Any,
    query: Any,
    *,
    search_field: str = "embedding",
    limit: int = 5,
    merge_gap: float = 0.0,
    encoder: Optional[Encoder] = None,
    candidates: Optional[int] = None,
    score_threshold: Optional[float] = None,
) -> list[Moment]:
    """Search an index of video moments and answer the matching moments, best first.

    The ``candidates`` best documents are found with ``index.find``; adjacent ones of the same
    video are merged into one moment by :func:`merge_hits` (a hit joins when it starts no
    later than ``merge_gap`` seconds after the moment before it ends), and the ``limit`` best
    moments are answered. As hits merge, fewer than ``limit`` moments can come back: raise
    ``candidates`` for more.

    Parameters
    ----------
    index:
        Any ``docstack.index`` document index (in-memory, HNSW, Milvus, Qdrant, ...) whose
        documents have ``video_id``, ``start``, ``end`` and a vector field, such as
        :class:`VideoMomentDoc`.
    query:
        A text or an ``(H, W, 3)`` image (both embedded with ``encoder.encode_query``), a
        vector, or a document whose ``search_field`` holds the vector.
    search_field:
        The vector field to search.
    limit:
        The most moments to answer.
    merge_gap:
        Seconds between hits of one video that still merge them, ``>= 0``.
    encoder:
        Embeds text and image queries; the one the moments were embedded with (e.g. a CLIP
        model, whose text and image vectors share a space). By default the encoder the
        vector field declares (``Field(encoder=...)``), if any.
    candidates:
        How many documents to fetch before merging (default ``limit``).
    score_threshold:
        Passed to ``index.find``: keep only hits at least this good.

    Returns
    -------
    list[Moment]
        Best first: which video, from when to when, the score of the best hit, and the hits.

    Raises
    ------
    ValueError
        A text or image query without an encoder, a bad ``limit``/``candidates``/``merge_gap``,
        or an index whose documents are not video moments.

    Example
    -------
    >>> import numpy as np
    >>> from docstack.embed import Encoder
    >>> from docstack.index import InMemoryExactNNIndex
    >>> from docstack.typing import VideoNdArray
    >>> from docstack.video import VideoMomentDoc, embed_moments, segment_video
    >>> class MeanColour(Encoder):
    ...     name, dim, modalities = 'mean-colour', 3, frozenset({'text', 'image'})
    ...     def _encode_batch(self, items, modality):
    ...         if modality == 'text':
    ...             return [[w == 'red', w == 'green', w == 'blue'] for w in items]
    ...         return [np.mean(image, axis=(0, 1)) + 1.0 for image in items]
    >>> frames = np.zeros((30, 32, 32, 3), np.uint8)
    >>> frames[:10, ..., 0] = frames[10:, ..., 2] = 255  # 1 s red, then 2 s blue
    >>> data = VideoNdArray.validate(frames).to_bytes(video_frame_rate=10)
    >>> moments = segment_video(data, method='interval', interval=0.5, video_id='clip')
    >>> index = InMemoryExactNNIndex[VideoMomentDoc]()
    >>> index.index(embed_moments(moments, MeanColour()))
    >>> best = find_moments(index, 'blue', encoder=MeanColour(), candidates=4)[0]
    >>> (best.video_id, best.start, best.end, len(best.hits))
    ('clip', 1.0, 3.0, 4)
    """
    for name, value in (("limit", limit), ("candidates", candidates)):
        if value is None and name == "candidates":
            continue
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"{name} must be a positive int, got {value!r}")
    if encoder is None:
        from docstack.index._embed import field_encoder

        encoder = field_encoder(index, search_field)  # Field(encoder=...) of the moments
    vector = _query_vector(query, encoder)
    docs, scores = index.find(
        vector,
        search_field=search_field,
        limit=int(candidates or limit),
        score_threshold=score_threshold,
    )
    return merge_hits(list(docs), np.asarray(scores).tolist(), merge_gap=merge_gap)[:limit]

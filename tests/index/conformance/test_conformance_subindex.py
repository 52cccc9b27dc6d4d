"""Sub-indexes: DocList fields become linked indexes, searched on their own."""

from __future__ import annotations

import numpy as np
import pytest

from docstack import BaseDoc, DocList
from docstack.typing import NdArray


class Image(BaseDoc):
    url: str
    emb: NdArray[3]


class Video(BaseDoc):
    title: str
    images: DocList[Image]
    emb: NdArray[2]


class Channel(BaseDoc):
    name: str
    videos: DocList[Video]


def make_channels(count=3):
    out = []
    for i in range(count):
        videos = []
        for j in range(2):
            images = [
                Image(id=f"i{i}{j}{k}", url=f"u{i}{j}{k}", emb=[i, j, k + 1.0]) for k in range(3)
            ]
            videos.append(
                Video(id=f"v{i}{j}", title=f"video {i}{j}", images=images, emb=[i + 1.0, j])
            )
        out.append(Channel(id=f"c{i}", name=f"channel {i}", videos=videos))
    return out


@pytest.fixture
def loaded(make_index):
    index = make_index(Channel)
    channels = make_channels()
    index.index(DocList[Channel](channels))
    return index, channels


def test_round_trip_with_nested_doc_lists(loaded):
    index, channels = loaded
    assert index.num_docs() == 3
    assert index.subindices["videos"].num_docs() == 6
    assert index.subindices["videos"].subindices["images"].num_docs() == 18
    got = index["c1"]
    assert got == channels[1]
    assert [v.id for v in got.videos] == ["v10", "v11"]
    assert [im.id for im in got.videos[1].images] == ["i110", "i111", "i112"]


def test_find_subindex_returns_roots_subdocs_and_scores(loaded):
    index, _ = loaded
    roots, subs, scores = index.find_subindex(
        np.array([3.0, 1.0]), subindex="videos", search_field="emb", limit=2
    )
    assert subs.id[0] == "v21"
    assert roots.id[0] == "c2"
    assert len(roots) == len(subs) == len(scores) == 2
    assert isinstance(roots[0], Channel)


def test_find_in_a_nested_subindex(loaded):
    index, _ = loaded
    roots, subs, scores = index.find_subindex(
        np.array([1.0, 1.0, 3.0]), subindex="videos__images", search_field="emb", limit=3
    )
    assert subs.id[0] == "i112"
    assert scores[0] == pytest.approx(1.0, abs=1e-6)
    for root, sub in zip(roots, subs):
        assert root.id == "c" + sub.id[1]
        assert sub.id in {im.id for v in root.videos for im in v.images}


def test_filter_subindex(loaded):
    index, _ = loaded
    found = index.filter_subindex({"url": {"$regex": "^u1"}}, subindex="videos__images", limit=100)
    assert sorted(found.id) == sorted(f"i1{j}{k}" for j in range(2) for k in range(3))
    assert index.filter_subindex({"title": "video 01"}, subindex="videos").id == ["v01"]


def test_deleting_a_root_deletes_its_subdocuments(loaded):
    index, _ = loaded
    del index["c0"]
    assert index.subindices["videos"].num_docs() == 4
    assert index.subindices["videos"].subindices["images"].num_docs() == 12
    roots, subs, _ = index.find_subindex(
        np.array([0.0, 0.0, 1.0]), subindex="videos__images", search_field="emb", limit=20
    )
    assert all(r.id != "c0" for r in roots)


def test_upserting_a_root_replaces_its_subdocuments(loaded):
    index, channels = loaded
    new = Channel(
        id="c1", name="renamed", videos=[Video(id="vnew", title="only", images=[], emb=[5.0, 5.0])]
    )
    index.index(new)
    assert index["c1"] == new
    assert index.subindices["videos"].num_docs() == 5
    assert index.subindices["videos"].subindices["images"].num_docs() == 12
    roots, subs, _ = index.find_subindex(
        np.array([5.0, 5.0]), subindex="videos", search_field="emb", limit=1
    )
    assert (roots.id, subs.id) == (["c1"], ["vnew"])


def test_unknown_subindex_is_a_clear_error(loaded):
    index, _ = loaded
    with pytest.raises(ValueError, match="videos"):
        index.find_subindex(np.ones(2), subindex="clips", search_field="emb")
    with pytest.raises(ValueError, match="images"):
        index.find_subindex(np.ones(3), subindex="videos__frames", search_field="emb")

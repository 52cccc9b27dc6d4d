"""Seed 001's multimodal demo, on a tiny CLIP with random weights: text and image documents
in one index, a text query, and the same query filtered to one modality.

The seed embeds animal texts and animal images with one CLIP model into an in-memory exact
index, asks "Buddha frog statue", then asks again keeping only images. Random weights make
the ranking meaningless, so these tests check the plumbing: what comes back under a filter,
that every score is the cosine between the encoder's query vector and the stored vector
(computed here independently), and that texts and images share one space of unit vectors.
The images are real photographs shipped with scikit-image; two are given as files on disk
by ``ImageUrl`` so the index loads them.
"""

from __future__ import annotations

from typing import Optional

import numpy as np
import pytest
from pydantic import Field

from docstack import BaseDoc, DocList
from docstack.index import HnswDocumentIndex, InMemoryExactNNIndex, find_by_modality
from docstack.typing import ImageNdArray, ImageUrl, NdArray

pytest.importorskip("transformers", reason="transformers not installed")
pytest.importorskip("torch", reason="torch not installed")
skimage_data = pytest.importorskip("skimage.data", reason="scikit-image not installed")
pytestmark = pytest.mark.filterwarnings("ignore:Using extra keyword arguments on `Field`")

TEXTS = {
    "t-frog": "a green frog on a buddha statue in a pond",
    "t-cat": "a tabby cat sleeping on the grass",
    "t-dog": "a dog on the grass",
    "t-rocket": "a rocket launch in the blue sky",
    "t-coffee": "a cup of coffee",
}
# photographs shipped with scikit-image; the last two reach the index as files
IMAGES = {"i-astronaut": "astronaut", "i-cat": "cat", "i-coffee": "coffee", "i-rocket": "rocket"}
AS_FILES = ("i-coffee", "i-rocket")
QUERY = "buddha frog statue"


@pytest.fixture(scope="module")
def clip(clip_folder):
    from docstack.embed import ClipEncoder

    return ClipEncoder(clip_folder, device="cpu", batch_size=4)


@pytest.fixture(scope="module")
def pictures():
    return {key: getattr(skimage_data, name)() for key, name in IMAGES.items()}


@pytest.fixture(scope="module")
def expected(clip, pictures):
    """Every document's vector and the query's, computed by the encoder directly."""
    texts = clip.encode(list(TEXTS.values()))
    images = clip.encode(list(pictures.values()), modality="image")
    vectors = dict(zip([*TEXTS, *pictures], np.concatenate([texts, images])))
    return vectors, clip.encode_query([QUERY])[0]


def _schema(encoder):
    class Media(BaseDoc):
        modality: str
        text: Optional[str] = None
        image: Optional[ImageNdArray] = None
        url: Optional[ImageUrl] = None
        embedding: NdArray[24] = Field(embed_from=("text", "image", "url"), encoder=encoder)

    return Media


@pytest.fixture(scope="module", params=["in_memory", "hnsw"])
def index(request, clip, pictures, tmp_path_factory):
    """The seed's collection indexed once per backend (the tests only read it)."""
    from PIL import Image

    tmp_path = tmp_path_factory.mktemp(f"seed-{request.param}")
    Media = _schema(clip)
    if request.param == "in_memory":
        index = InMemoryExactNNIndex[Media]()
    else:
        index = HnswDocumentIndex[Media](work_dir=str(tmp_path / "index"))
    docs = [Media(id=key, modality="text", text=text) for key, text in TEXTS.items()]
    for key, pixels in pictures.items():
        if key in AS_FILES:
            path = tmp_path / f"{key}.png"
            Image.fromarray(pixels).save(path)
            docs.append(Media(id=key, modality="image", url=str(path)))
        else:
            docs.append(Media(id=key, modality="image", image=pixels))
    index.index(DocList[Media](docs))
    return index


def _ranked(expected, ids):
    """``ids`` ordered by cosine to the query, with the cosines, from the direct vectors."""
    vectors, query = expected
    scores = {
        i: float(vectors[i] @ query / np.linalg.norm(vectors[i]) / np.linalg.norm(query))
        for i in ids
    }
    order = sorted(ids, key=lambda i: -scores[i])
    return order, np.array([scores[i] for i in order])


def test_vectors_are_unit_length_in_one_space_and_equal_the_encoders(index, clip, expected):
    vectors, _ = expected
    stored = {d.id: np.asarray(d.embedding, dtype=np.float32) for d in index[list(vectors)]}
    assert set(stored) == set(vectors) and index.num_docs() == len(vectors)
    for key, vector in stored.items():
        assert vector.shape == (clip.dim,) == (24,)
        np.testing.assert_allclose(np.linalg.norm(vector), 1.0, atol=1e-5)
        np.testing.assert_allclose(vector, vectors[key], atol=1e-5, err_msg=key)
    # one space: a text and an image compare by cosine, within [-1, 1], and no text vector
    # equals an image vector
    texts = np.stack([stored[k] for k in TEXTS])
    images = np.stack([stored[k] for k in IMAGES])
    cross = texts @ images.T
    assert cross.shape == (len(TEXTS), len(IMAGES)) and np.all(np.abs(cross) <= 1 + 1e-5)
    assert not np.allclose(np.abs(cross), 1.0, atol=1e-3)


def test_a_text_query_scores_every_document_by_cosine_to_the_query_vector(index, expected):
    ids, scores = _ranked(expected, list(expected[0]))
    found = index.find(QUERY, search_field="embedding", limit=len(ids))
    assert list(found.documents.id) == ids
    np.testing.assert_allclose(found.scores, scores, atol=1e-5)
    # both modalities come back from the one vector field
    assert set(found.documents.modality) == {"text", "image"}
    top = index.find(QUERY, search_field="embedding", limit=1)
    assert list(top.documents.id) == ids[:1]


@pytest.mark.parametrize("modality", ["image", "text"])
def test_the_modality_filter_keeps_one_modality_ranked_by_the_same_scores(
    index, expected, modality
):
    keys = list(IMAGES if modality == "image" else TEXTS)
    ids, scores = _ranked(expected, keys)
    query = (
        index.build_query()
        .filter({"modality": {"$eq": modality}})
        .find(QUERY, search_field="embedding")
        .build(limit=3)
    )
    found = index.execute_query(query)
    assert list(found.documents.modality) == [modality] * 3
    assert list(found.documents.id) == ids[:3]
    np.testing.assert_allclose(found.scores, scores[:3], atol=1e-5)


def test_find_by_modality_answers_each_modality_and_fuses_them(index, expected):
    out = find_by_modality(index, QUERY, search_field="embedding", limit=3)
    assert sorted(out) == ["fused", "image", "text"]
    for modality, keys in (("text", TEXTS), ("image", IMAGES)):
        ids, scores = _ranked(expected, list(keys))
        assert list(out[modality].documents.id) == ids[:3]
        np.testing.assert_allclose(out[modality].scores, scores[:3], atol=1e-5)
    fused = list(out["fused"].documents.id)
    # reciprocal rank fusion of two lists: each list's first is among the fused first two
    assert set(fused[:2]) == {out["text"].documents.id[0], out["image"].documents.id[0]}
    assert np.all(np.diff(out["fused"].scores) <= 0)


@pytest.mark.parametrize("backend", ["in_memory", "hnsw"])
def test_reindexing_embeds_only_changed_texts_and_images(clip_folder, tmp_path, backend):
    from docstack.embed import ClipEncoder

    class Counting(ClipEncoder):
        def _encode_batch(self, items, modality):
            self.seen.append((modality, len(items)))
            return super()._encode_batch(items, modality)

    enc = Counting(clip_folder, device="cpu")
    enc.seen = []
    Media = _schema(enc)
    rng = np.random.default_rng(1)
    pixels = [rng.integers(0, 256, (24, 24, 3), dtype=np.uint8) for _ in range(3)]
    docs = [Media(id=f"t{i}", modality="text", text=t) for i, t in enumerate(TEXTS.values())]
    docs += [Media(id=f"i{i}", modality="image", image=p) for i, p in enumerate(pixels)]
    if backend == "in_memory":
        index = InMemoryExactNNIndex[Media]()
    else:
        index = HnswDocumentIndex[Media](work_dir=str(tmp_path))
    index.index(DocList[Media](docs))
    assert sorted(enc.seen) == [("image", 3), ("text", 5)]
    before = {d.id: np.asarray(d.embedding) for d in index[[d.id for d in docs]]}

    enc.seen.clear()
    index.index(DocList[Media]([Media(**d.model_dump(exclude={"embedding"})) for d in docs]))
    assert enc.seen == []  # nothing changed: every stored vector is kept

    changed = pixels[1].copy()
    changed[0, 0] ^= 1  # one bit of one pixel
    again = [Media(**d.model_dump(exclude={"embedding"})) for d in docs]
    again[0].text = "a frog"
    again[6].image = changed
    index.index(DocList[Media](again))
    assert sorted(enc.seen) == [("image", 1), ("text", 1)]
    after = {d.id: np.asarray(d.embedding) for d in index[[d.id for d in docs]]}
    np.testing.assert_allclose(after["t0"], enc.encode(["a frog"])[0], atol=1e-5)
    np.testing.assert_allclose(after["i1"], enc.encode([changed])[0], atol=1e-5)
    for key in set(before) - {"t0", "i1"}:
        np.testing.assert_array_equal(after[key], before[key])

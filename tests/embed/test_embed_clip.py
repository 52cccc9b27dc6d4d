"""ClipEncoder's plumbing on a small randomly initialised CLIP saved to a folder (no CLIP
weights can be had offline): shapes, unit vectors, one space for texts and images,
batching, and the errors of mixed input."""

from __future__ import annotations

import numpy as np
import pytest

from docstack.embed import ClipEncoder, EncoderError, as_rgb_array

pytest.importorskip("transformers", reason="transformers not installed")
pytest.importorskip("torch", reason="torch not installed")


@pytest.fixture(scope="module")
def encoder(clip_folder):
    return ClipEncoder(clip_folder, batch_size=2)


@pytest.fixture(scope="module")
def images():
    rng = np.random.default_rng(0)
    return [
        rng.integers(0, 256, (40, 50, 3), dtype=np.uint8),
        rng.integers(0, 256, (32, 32, 3), dtype=np.uint8),
        rng.integers(0, 256, (64, 48, 3), dtype=np.uint8),
    ]


TEXTS = ["a photo of a red car", "a dog on the grass", "the blue sky"]


def test_texts_and_images_land_in_one_space_as_unit_vectors(encoder, images):
    texts = encoder.encode(TEXTS)
    pictures = encoder.encode(images)
    assert encoder.modalities == {"text", "image"} and encoder.dim == 24
    assert texts.shape == (3, 24) and pictures.shape == (3, 24)
    assert texts.dtype == pictures.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(texts, axis=1), 1.0, atol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(pictures, axis=1), 1.0, atol=1e-5)
    cross = texts @ pictures.T  # a text query scores images
    assert cross.shape == (3, 3) and np.all(np.abs(cross) <= 1.0 + 1e-5)
    assert encoder.name == "tiny-clip0" and encoder.device == "cpu"


def test_batched_equals_one_by_one(encoder, images):
    for items in (TEXTS, images):
        np.testing.assert_allclose(
            encoder.encode(items, batch_size=3), encoder.encode(items, batch_size=1), atol=1e-5
        )


def test_pil_images_grey_and_float_arrays_embed_like_uint8_rgb(encoder, images):
    from PIL import Image

    rgb = images[0]
    as_float = rgb.astype(np.float32) / 255.0
    out = encoder.encode([rgb, Image.fromarray(rgb), as_float])
    np.testing.assert_allclose(out[1], out[0], atol=1e-5)
    np.testing.assert_allclose(out[2], out[0], atol=1e-5)
    grey = rgb[:, :, 0]
    np.testing.assert_allclose(
        encoder.encode([grey]), encoder.encode([np.stack([grey] * 3, axis=2)]), atol=1e-5
    )


def test_image_documents_embed_their_tensor(encoder, images):
    from docstack.documents import ImageDoc

    doc = ImageDoc(tensor=images[1])
    np.testing.assert_allclose(
        encoder.encode([doc], modality="image"), encoder.encode([images[1]]), atol=1e-5
    )


def test_mixed_modalities_in_one_call_are_an_error(encoder, images):
    with pytest.raises(EncoderError, match="separate calls"):
        encoder.encode(["a red car", images[0]])
    with pytest.raises(EncoderError, match="separate calls"):
        encoder.encode([images[0], "a red car"])


def test_an_image_of_the_wrong_shape_is_named():
    with pytest.raises(EncoderError, match=r"got shape \(4, 4, 2\)"):
        as_rgb_array(np.zeros((4, 4, 2), dtype=np.uint8))


def test_model_and_processors_can_be_given_as_objects(clip_folder, encoder):
    from transformers import AutoImageProcessor, AutoTokenizer, CLIPModel

    parts = (
        CLIPModel.from_pretrained(clip_folder),
        AutoTokenizer.from_pretrained(clip_folder),
        AutoImageProcessor.from_pretrained(clip_folder),
    )
    again = ClipEncoder(parts, device="cpu")
    np.testing.assert_allclose(again.encode(TEXTS), encoder.encode(TEXTS), atol=1e-6)
    with pytest.raises(EncoderError, match="model must be"):
        ClipEncoder((parts[0],), device="cpu")


def test_image_documents_urls_and_bytes_embed_the_image_they_hold(encoder, images, tmp_path):
    from PIL import Image

    from docstack.documents import ImageDoc
    from docstack.embed import modality_of
    from docstack.typing import ImageBytes, ImageUrl

    path = tmp_path / "picture.png"
    Image.fromarray(images[2]).save(path)
    items = [
        ImageDoc(tensor=images[2]),
        ImageDoc(url=str(path)),
        ImageDoc(bytes_=path.read_bytes()),
        ImageUrl(str(path)),
        ImageBytes(path.read_bytes()),
    ]
    assert [modality_of(item) for item in items] == ["image"] * 5
    reference = encoder.encode([images[2]])[0]
    for side in (encoder.encode, encoder.encode_query):
        out = side(items)  # the modality is read from the first document
        np.testing.assert_allclose(out, np.tile(reference, (5, 1)), atol=1e-5)


def test_an_image_document_without_an_image_is_named(encoder, images):
    from docstack.documents import ImageDoc

    with pytest.raises(EncoderError, match="input 1 is a ImageDoc holding no image"):
        encoder.encode([images[0], ImageDoc()])

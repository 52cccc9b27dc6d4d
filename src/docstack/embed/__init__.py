"""Embedding models behind one small interface, :class:`Encoder`.

Adapters for real models live in submodules behind optional extras and are imported on first
use, so ``import docstack.embed`` stays light.

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

from docstack.embed._base import Encoder, EncoderError, modality_of

__all__ = ["Encoder", "EncoderError", "modality_of"]

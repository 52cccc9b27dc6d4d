"""Computational backends: one class of framework operations per tensor framework.

``AbstractComputationalBackend`` is the interface; the backends live in their own modules, as
in DocArray, so that importing one framework's backend never imports another framework:

- :mod:`docstack.computation.numpy_backend`: ``NumpyCompBackend``
- :mod:`docstack.computation.torch_backend`: ``TorchCompBackend``
- :mod:`docstack.computation.jax_backend`: ``JaxCompBackend``
- :mod:`docstack.computation.tensorflow_backend`: ``TensorFlowCompBackend``

torch, jax and TensorFlow are imported when a backend first uses them.

Example
-------
>>> import numpy as np
>>> from docstack.computation.numpy_backend import NumpyCompBackend
>>> values, indices = NumpyCompBackend.Retrieval.top_k(np.array([0.3, 0.1, 0.2]), k=2)
>>> indices.tolist()
[[1, 2]]
"""

from __future__ import annotations

from docstack.computation.abstract_comp_backend import AbstractComputationalBackend

__all__ = ["AbstractComputationalBackend"]

"""Datasets for training loops: ``MultiModalDataset`` feeds documents to a PyTorch
``DataLoader`` and batches them into ``DocVec``.

``MultiModalDataset`` is imported on first access (it imports torch); without torch, that
raises :class:`~docstack.errors.MissingDependencyError` naming the ``torch`` extra.

Example
-------
>>> from docstack import DocList
>>> from docstack.data import MultiModalDataset
>>> from docstack.documents import TextDoc
>>> ds = MultiModalDataset[TextDoc](DocList[TextDoc]([TextDoc(text=' a ')]), {'text': str.strip})
>>> ds[0].text
'a'
"""

from __future__ import annotations

import importlib
from typing import Any

from docstack.data._preprocessing import PreprocessingError

__all__ = ["MultiModalDataset", "PreprocessingError"]


def __getattr__(name: str) -> Any:
    if name == "MultiModalDataset":
        return importlib.import_module(f"{__name__}.torch_dataset").MultiModalDataset
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

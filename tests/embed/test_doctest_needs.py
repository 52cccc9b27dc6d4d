"""The doctest set-up of ``src/docstack``: an example whose optional packages are missing is
skipped naming them, and every example it lists exists."""

from __future__ import annotations

import importlib
import types

import pytest

from docstack import conftest as doctest_setup


def test_an_example_with_a_missing_package_is_skipped_naming_it(monkeypatch):
    monkeypatch.setitem(doctest_setup.NEEDS, "docstack.x.f", ("json", "no_such_module_here"))
    with pytest.raises(pytest.skip.Exception, match="needs no_such_module_here, not installed"):
        doctest_setup.pytest_runtest_setup(types.SimpleNamespace(name="docstack.x.f"))
    # installed packages and unlisted items run
    monkeypatch.setitem(doctest_setup.NEEDS, "docstack.x.f", ("json",))
    doctest_setup.pytest_runtest_setup(types.SimpleNamespace(name="docstack.x.f"))
    doctest_setup.pytest_runtest_setup(types.SimpleNamespace(name="test_something"))


@pytest.mark.parametrize("name", sorted(doctest_setup.NEEDS))
def test_each_listed_example_exists_and_runs_unskipped(name):
    module_name, attr = name.rsplit(".", 1)
    obj = getattr(importlib.import_module(module_name), attr)
    assert ">>> " in obj.__doc__ and "+SKIP" not in obj.__doc__

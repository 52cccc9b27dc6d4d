"""Run DocArray's own test suite against docstack, next to the same tests run against DocArray.

The tests are never copied into this repository: this script exports them from a DocArray
checkout (a git directory or a work tree) into a folder outside the tree, makes a second copy
with ``docarray`` renamed to ``docstack``, runs each copy with its own interpreter and
compares the outcomes test by test.

Usage::

    python tools/docarray_suite.py --docarray-repo /path/to/docarray.git \\
        --work /tmp/dacheck --docarray-python /tmp/venv-da/bin/python \\
        --docstack-python .venv/bin/python

It prints the share of the tests that pass on DocArray which also pass on docstack (the goal
is 95%), and writes ``report.json`` (every test's two outcomes) and ``failing.txt`` (the
tests that pass on DocArray and not on docstack, with the first line of each error) into
the work folder. Tests listed in ``docs/docarray-private-tests.md`` are counted apart.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

# the parts of the suite the goal covers: units, integrations and the embedded index tests
SUITE = [
    "tests/units",
    "tests/integrations",
    "tests/index/base_classes",
    "tests/index/hnswlib",
    "tests/index/in_memory",
]
# tests that need the internet, a hosted service or are benchmarks are left out for both
MARKERS = "not internet and not jac and not atlas and not benchmark and not elasticv8"
PYTEST_INI = """[pytest]
markers =
    slow: slow
    internet: needs the internet
    asyncio: async test
    proto: protobuf
    tensorflow: tensorflow
    jax: jax
    index: document index
    benchmark: benchmark
    elasticv8: elastic v8
    jac: jac cloud
    atlas: mongodb atlas
asyncio_mode = strict
"""
REPO = Path(__file__).resolve().parent.parent
PRIVATE_LIST = REPO / "docs" / "docarray-private-tests.md"


def export_tests(repo: Path, dest: Path) -> None:
    """Export ``tests/`` of a DocArray checkout (git dir or work tree) into ``dest``."""
    dest.mkdir(parents=True, exist_ok=True)
    if (repo / "tests").is_dir():
        shutil.copytree(repo / "tests", dest / "tests", dirs_exist_ok=True)
        return
    with tempfile.TemporaryDirectory() as tmp:
        archive = Path(tmp) / "tests.tar"
        subprocess.run(
            ["git", f"--git-dir={repo}", "archive", "-o", str(archive), "HEAD", "tests"],
            check=True,
        )
        with tarfile.open(archive) as tar:
            tar.extractall(dest, filter="data")


def rename(dest: Path) -> None:
    """Rename the package ``docarray`` to ``docstack`` in every Python file of ``dest``.

    Imports and dotted paths (``from docarray...``, ``import docarray``, ``docarray.x`` in a
    string given to ``mock.patch``) are renamed; the bare word elsewhere (test data such as
    ``'docarray'`` in a string) is left as it is.
    """
    imports = re.compile(r"\b(from|import)(\s+)docarray\b")
    dotted = re.compile(r"\bdocarray\.")
    for path in dest.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        text = dotted.sub("docstack.", imports.sub(r"\1\2docstack", text))
        path.write_text(text, encoding="utf-8")


def run_suite(python: str, root: Path, timeout: int, extra: list[str]) -> Path:
    """Run the suite in ``root`` with ``python``; return the path of its JUnit XML report."""
    (root / "pytest.ini").write_text(PYTEST_INI)
    report = root / "junit.xml"
    cmd = [
        python,
        "-m",
        "pytest",
        *[s for s in SUITE if (root / s).exists()],
        "-m",
        MARKERS,
        "-p",
        "no:cacheprovider",
        "-q",
        "--no-header",
        "--continue-on-collection-errors",
        "-o",
        "junit_family=xunit1",
        f"--junitxml={report}",
        f"--timeout={timeout}",
        *extra,
    ]
    env = dict(os.environ, PYTHONPATH=str(root), PYTHONDONTWRITEBYTECODE="1")
    with open(root / "pytest.log", "w") as log:
        subprocess.run(cmd, cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT)
    return report


def outcomes(report: Path) -> dict[str, tuple[str, str]]:
    """Map each test id to (outcome, first line of its message) from a JUnit XML report."""
    result: dict[str, tuple[str, str]] = {}
    # parametrised ids can hold the absolute path of the copy (toy data files): cut it off
    root = re.compile(r"[^\[\]\-]*/(?:docarray|docstack)/(?=tests/)")
    for case in ET.parse(report).getroot().iter("testcase"):
        test_id = f"{case.get('file') or case.get('classname')}::{case.get('name')}"
        test_id = root.sub("<root>/", test_id)
        outcome, message = "passed", ""
        for child in case:
            if child.tag in ("failure", "error", "skipped"):
                outcome = "skipped" if child.tag == "skipped" else "failed"
                message = (child.get("message") or "").strip().splitlines()[:1]
                message = message[0][:300] if message else ""
                break
        result[test_id] = (outcome, message)
    return result


def private_tests() -> dict[str, str]:
    """Test ids (or id prefixes) listed as asserting DocArray's internals, with reasons."""
    listed: dict[str, str] = {}
    if PRIVATE_LIST.exists():
        for line in PRIVATE_LIST.read_text().splitlines():
            m = re.match(r"^\| `([^`]+)` \| (.+) \|$", line.strip())
            if m:
                listed[m.group(1)] = m.group(2)
    return listed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--docarray-repo", type=Path, required=True)
    parser.add_argument("--work", type=Path, required=True)
    parser.add_argument("--docarray-python", required=True)
    parser.add_argument("--docstack-python", default=sys.executable)
    parser.add_argument("--timeout", type=int, default=120)
    parser.add_argument(
        "--only",
        choices=["docarray", "docstack", "none"],
        help="run one side only, or none (compare the last runs again)",
    )
    parser.add_argument("pytest_args", nargs="*", help="passed on to pytest (after --)")
    args = parser.parse_args(argv)

    sides = {"docarray": args.docarray_python, "docstack": args.docstack_python}
    for side, python in sides.items():
        root = args.work / side
        if args.only and args.only != side:
            continue
        shutil.rmtree(root, ignore_errors=True)
        export_tests(args.docarray_repo, root)
        if side == "docstack":
            rename(root)
        print(f"running DocArray's tests on {side} ...", flush=True)
        run_suite(python, root, args.timeout, args.pytest_args)

    da = outcomes(args.work / "docarray" / "junit.xml")
    ds = outcomes(args.work / "docstack" / "junit.xml")
    private = private_tests()

    def is_private(test_id: str) -> bool:
        return any(test_id == p or test_id.startswith(p) for p in private)

    passing = [t for t, (o, _) in da.items() if o == "passed"]
    both = [t for t in passing if ds.get(t, ("missing", ""))[0] == "passed"]
    failing = sorted(t for t in passing if t not in set(both))
    failing_private = [t for t in failing if is_private(t)]
    share = len(both) / max(len(passing), 1)
    print(f"pass on DocArray: {len(passing)}; of these pass on docstack: {len(both)} ({share:.1%})")
    print(
        f"failing on docstack only: {len(failing)}, of which listed as private: {len(failing_private)}"
    )
    counted = len(both) / max(len(passing) - len(failing_private), 1)
    print(f"share without the listed private tests: {counted:.1%}")
    with open(args.work / "failing.txt", "w") as out:
        for t in failing:
            mark = " [private]" if is_private(t) else ""
            out.write(f"{t}{mark}\n    {ds.get(t, ('missing', ''))[1]}\n")
    report = {t: {"docarray": da[t][0], "docstack": ds.get(t, ("missing", ""))[0]} for t in da}
    (args.work / "report.json").write_text(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

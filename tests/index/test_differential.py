"""Differential test: every backend answers random filters and filtered searches exactly as the
in-memory exact index does (same ids, same order, same scores).

Random documents (str, int, float, bool fields, lists of each of them, a vector), hundreds of
random portable filters over every operator of the language (``$eq $neq $in $nin $gt $gte $lt
$lte $exists $regex $size``, ``$and $or $not``) with operands of every type, hostile strings
included, on scalar and list fields alike (element conditions, whole-list operands, ``$size``,
empty and missing lists), and some upserts that move documents to the end of the insertion
order. The backends are those of
the conformance suite (``tests/index/conformance/backend_*.py`` join by themselves).
"""

from __future__ import annotations

import importlib.util
import random
import sys
from pathlib import Path
from typing import Optional

import numpy as np
import pytest

from docstack import BaseDoc
from docstack.typing import NdArray

_CONFORMANCE = Path(__file__).parent / "conformance"


def _factories() -> dict:
    """The conformance suite's backends, loaded as its conftest loads them."""
    if str(_CONFORMANCE) not in sys.path:
        sys.path.insert(0, str(_CONFORMANCE))
    spec = importlib.util.spec_from_file_location(
        "_docstack_conformance_backends", _CONFORMANCE / "conftest.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return dict(module.FACTORIES)


FACTORIES = _factories()
OTHERS = [name for name in FACTORIES if name != "in_memory"]

DIM = 8
N = 150
N_FILTERS = 400
N_SEARCHES = 60

HOSTILE = [
    "it's",
    'say "hi"',
    "back\\slash",
    "a' or 1==1 --",
    '" OR 1=1; --',
    '{"$gt": ""}',
    '{"must": [{"key": "n"}]}',
    "ünï ✓ 漢字",
    "%_*?.",
    "tab\tnew\nline",
    "",
    "apple",
    "Apple",
    "apple pie",
    "10",
]
REGEXES = ["^a", "e$", "[\"']", "\\\\", "or 1==1", ".", "^$", "ü", "\\d", "(?i)APPLE"]
NUMBERS = [0, 1, 2, -1, 3, 7, 2.5, -0.5, 1.0, 0.0, True, False, 2**53 + 1, -(2**60), 1e300]
LIST_INTS = [-1, 0, 1, 2, 3, 7, 2**53 + 1, -(2**60), 2**63 - 1, -(2**63)]
LIST_FLOATS = [0.0, -0.0, 0.5, 1.0, 2.5, -1.5, 3.0, 1e300, -1e-300]
LIST_FIELDS = ["tags", "nums", "scores", "bools"]


class Item(BaseDoc):
    text: str
    n: int
    price: Optional[float] = None
    flag: Optional[bool] = None
    tags: list[str] = []
    nums: Optional[list[int]] = None
    scores: list[float] = []
    bools: Optional[list[bool]] = None
    emb: NdArray[DIM]


def make_items(rng: random.Random, nrng: np.random.Generator) -> list[Item]:
    items = []
    for i in range(N):
        items.append(
            Item(
                id=f"i{i}",
                text=rng.choice(HOSTILE),
                n=rng.choice([-1, 0, 1, 2, 3, 7, 2**53 + 1, -(2**60)]),
                price=rng.choice([None, 0.0, 0.5, 1.0, 2.5, -1.5, 3.0]),
                flag=rng.choice([None, True, False]),
                tags=rng.sample(HOSTILE, rng.randint(0, 3)),
                nums=None if rng.random() < 0.2 else random_list(rng, LIST_INTS),
                scores=random_list(rng, LIST_FLOATS),
                bools=None if rng.random() < 0.3 else random_list(rng, [True, False]),
                emb=nrng.standard_normal(DIM),
            )
        )
    return items


def random_list(rng: random.Random, pool: list) -> list:
    """0 to 3 elements of ``pool``, repeats allowed."""
    return [rng.choice(pool) for _ in range(rng.randint(0, 3))]


def random_operand(rng: random.Random, field: str = "") -> object:
    pool = rng.choice(["str", "num", "num"])
    if field == "nums" and rng.random() < 0.5:
        return rng.choice(LIST_INTS)
    if field == "scores" and rng.random() < 0.5:
        return rng.choice(LIST_FLOATS)
    return rng.choice(HOSTILE) if pool == "str" else rng.choice(NUMBERS)


def whole_list(rng: random.Random, field: str) -> list:
    """A list operand: some document's list (so that it matches), or a random one."""
    pools = {"tags": HOSTILE, "nums": LIST_INTS, "scores": LIST_FLOATS, "bools": [True, False]}
    if rng.random() < 0.3:
        return random_list(rng, NUMBERS + HOSTILE)
    return random_list(rng, pools.get(field, NUMBERS))


def random_leaf(rng: random.Random) -> dict:
    field = rng.choice(["text", "n", "price", "flag", "id", "text", "n", *LIST_FIELDS * 2])
    op = rng.choice(
        ["$eq", "$neq", "$in", "$nin", "$gt", "$gte", "$lt", "$lte", "$exists", "$regex", "$size"]
    )
    if op == "$exists":
        value: object = rng.choice([True, False])
    elif op == "$regex":
        value = rng.choice(REGEXES)
    elif op == "$size":
        value = rng.randint(0, 3) if field in LIST_FIELDS else rng.randint(0, 12)
    elif op in ("$in", "$nin"):
        value = [random_operand(rng, field) for _ in range(rng.randint(0, 4))]
        if rng.random() < 0.2:
            value.append(None)
        if field in LIST_FIELDS and rng.random() < 0.15:
            value.append(whole_list(rng, field))
    elif op in ("$eq", "$neq"):
        value = None if rng.random() < 0.1 else random_operand(rng, field)
        if field == "id" and rng.random() < 0.5:
            value = f"i{rng.randrange(N)}"
        if field in LIST_FIELDS and rng.random() < 0.15:
            value = whole_list(rng, field)
    else:
        value = random_operand(rng, field)
    if op == "$eq" and rng.random() < 0.3:
        return {field: value}
    return {field: {op: value}}


def random_filter(rng: random.Random, depth: int = 0) -> dict:
    roll = rng.random()
    if depth >= 2 or roll < 0.45:
        return random_leaf(rng)
    if roll < 0.65:
        return {"$and": [random_filter(rng, depth + 1) for _ in range(rng.randint(1, 3))]}
    if roll < 0.85:
        return {"$or": [random_filter(rng, depth + 1) for _ in range(rng.randint(1, 3))]}
    return {"$not": random_filter(rng, depth + 1)}


def load(factory, work_dir: Path, items: list[Item], rng: random.Random):
    index = factory(Item, str(work_dir))
    index.index(items[: N // 2])
    index.index(items[N // 2 :])
    # upserts move documents to the end of the insertion order
    moved = [items[i].model_copy(update={"n": 3}) for i in rng.sample(range(N), 10)]
    index.index(moved)
    return index


@pytest.fixture(scope="module")
def scenario(tmp_path_factory):
    rng = random.Random(20261203)
    items = make_items(rng, np.random.default_rng(7))
    load_seed = rng.randrange(2**32)
    reference = load(
        FACTORIES["in_memory"], tmp_path_factory.mktemp("ref"), items, random.Random(load_seed)
    )
    filters = [random_filter(rng) for _ in range(N_FILTERS)]
    expected_filters = [reference.filter(f, limit=N).id for f in filters]
    queries = np.random.default_rng(11).standard_normal((N_SEARCHES, DIM))
    searches = []
    for q, f in zip(queries, filters):
        query = reference.build_query().find(q, search_field="emb").filter(f).build(limit=10)
        found = reference.execute_query(query)
        searches.append((q, f, found.documents.id, found.scores))
    hits = sum(1 for e in expected_filters if e)
    assert hits > N_FILTERS // 4, "the random filters should match something often"
    return items, load_seed, filters, expected_filters, searches


@pytest.mark.parametrize("backend", OTHERS)
def test_backend_matches_in_memory(backend, scenario, tmp_path):
    items, load_seed, filters, expected_filters, searches = scenario
    index = load(FACTORIES[backend], tmp_path / "index", items, random.Random(load_seed))
    try:
        for f, expected in zip(filters, expected_filters):
            assert index.filter(f, limit=N).id == expected, f"filter {f!r}"
        for q, f, ids, scores in searches:
            query = index.build_query().find(q, search_field="emb").filter(f).build(limit=10)
            found = index.execute_query(query)
            assert found.documents.id == ids, f"find with filter {f!r}"
            np.testing.assert_allclose(found.scores, scores, rtol=1e-5, atol=1e-5)
    finally:
        close = getattr(index, "close", None)
        if close is not None:
            close()

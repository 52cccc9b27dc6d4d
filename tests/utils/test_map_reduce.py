"""Tests of ``docstack.utils`` map_docs, map_docs_batched, reduce and reduce_all."""

from __future__ import annotations

import inspect
import os
import threading
import time
from multiprocessing.pool import ThreadPool
from typing import Optional

import numpy as np
import pytest
from pydantic import Field

from docstack import BaseDoc, DocList, DocVec
from docstack.typing import NdArray
from docstack.utils import map_docs, map_docs_batched, reduce, reduce_all

# --------------------------------------------------------------------------------------------
# documents and module-level functions (picklable, for the process backend)
# --------------------------------------------------------------------------------------------


class Num(BaseDoc):
    x: int = 0
    text: str = ""
    vec: Optional[NdArray[2]] = None


def square(doc: Num) -> int:
    return doc.x * doc.x


def square_with_pid(doc: Num) -> tuple[int, int]:
    return doc.x * doc.x, os.getpid()


def shout(doc: Num) -> Num:
    return Num(x=doc.x + 100, text=doc.text.upper())


def batch_xs(batch) -> list[int]:
    return [int(v) for v in batch.x]


def batch_summary(batch) -> tuple[str, int, int]:
    return type(batch).__name__, len(batch), int(sum(batch.x))


def fail_on_three(doc: Num) -> int:
    if doc.x == 3:
        raise RuntimeError("three is not allowed")
    return doc.x


def make_nums(n: int = 20) -> DocList[Num]:
    return DocList[Num]([Num(x=i, text=f"t{i}", vec=[i, -i]) for i in range(n)])


@pytest.fixture(params=["list", "vec"])
def nums(request):
    docs = make_nums()
    return docs if request.param == "list" else docs.to_doc_vec()


# --------------------------------------------------------------------------------------------
# map_docs
# --------------------------------------------------------------------------------------------


def test_map_docs_threads_results_in_order(nums):
    def slow_square(doc):
        time.sleep(0.002 * (len(nums) - doc.x))  # early documents finish last
        return doc.x * doc.x

    results = map_docs(nums, slow_square, backend="thread", num_worker=4)
    assert inspect.isgenerator(results)
    assert list(results) == [i * i for i in range(20)]


def test_map_docs_returns_documents(nums):
    out = list(map_docs(nums, shout))
    assert [d.x for d in out] == [i + 100 for i in range(20)]
    assert [d.text for d in out] == [f"T{i}" for i in range(20)]
    # the input is untouched
    assert list(nums.x) == list(range(20))


def test_map_docs_over_a_plain_list_and_an_empty_array():
    docs = list(make_nums(5))
    assert list(map_docs(docs, square)) == [0, 1, 4, 9, 16]
    assert list(map_docs(DocList[Num](), square)) == []


def test_map_docs_num_worker_bounds_the_threads(nums):
    seen = set()
    lock = threading.Lock()

    def record(doc):
        time.sleep(0.002)
        with lock:
            seen.add(threading.get_ident())
        return doc.x

    assert list(map_docs(nums, record, num_worker=2)) == list(range(20))
    assert 1 <= len(seen) <= 2
    assert threading.get_ident() not in seen


def test_map_docs_propagates_exceptions(nums):
    with pytest.raises(RuntimeError, match="three"):
        list(map_docs(nums, fail_on_three))


def test_map_docs_processes():
    docs = make_nums(20)
    out = list(map_docs(docs, square_with_pid, backend="process", num_worker=2))
    assert [value for value, _ in out] == [i * i for i in range(20)]
    pids = {pid for _, pid in out}
    assert os.getpid() not in pids
    assert 1 <= len(pids) <= 2


def test_map_docs_processes_return_documents():
    docs = make_nums(20).to_doc_vec()
    out = list(map_docs(docs, shout, backend="process", num_worker=2))
    assert all(isinstance(d, Num) for d in out)
    assert [(d.x, d.text) for d in out] == [(i + 100, f"T{i}") for i in range(20)]


def test_map_docs_show_progress(nums, capsys):
    assert list(map_docs(nums, square, show_progress=True)) == [i * i for i in range(20)]
    out = capsys.readouterr().out
    assert "Mapping" in out
    assert "100%" in out


def test_map_docs_without_progress_prints_nothing(nums, capsys):
    list(map_docs(nums, square))
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""


@pytest.mark.parametrize("backend", ["threads", "proces", "", None])
def test_map_docs_invalid_backend(nums, backend):
    with pytest.raises(ValueError, match=f"backend.*{backend!r}"):
        list(map_docs(nums, square, backend=backend))
    with pytest.raises(ValueError, match="backend"):
        list(map_docs_batched(nums, batch_xs, batch_size=3, backend=backend))


class SpyPool(ThreadPool):
    """A thread pool that counts the calls to ``imap``."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.imap_calls = 0

    def imap(self, *args, **kwargs):
        self.imap_calls += 1
        return super().imap(*args, **kwargs)


def test_existing_pool_is_used_and_left_open(nums):
    pool = SpyPool(2)
    try:
        assert list(map_docs(nums, square, pool=pool)) == [i * i for i in range(20)]
        assert pool.imap_calls == 1
        batches = list(map_docs_batched(nums, batch_xs, batch_size=8, pool=pool))
        assert batches == [list(range(8)), list(range(8, 16)), list(range(16, 20))]
        assert pool.imap_calls == 2
        # still open: it takes more work
        assert pool.apply(square, (Num(x=7),)) == 49
        assert list(map_docs(nums, square, pool=pool))[-1] == 361
    finally:
        pool.close()
        pool.join()


# --------------------------------------------------------------------------------------------
# map_docs_batched
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("n", "batch_size", "sizes"),
    [
        (23, 5, [5, 5, 5, 5, 3]),
        (20, 5, [5, 5, 5, 5]),
        (20, 1, [1] * 20),
        (20, 20, [20]),
        (20, 64, [20]),
        (0, 4, []),
    ],
)
@pytest.mark.parametrize("kind", ["list", "vec"])
def test_batch_sizes(n, batch_size, sizes, kind):
    docs = make_nums(n)
    docs = docs if kind == "list" else docs.to_doc_vec()
    summaries = list(map_docs_batched(docs, batch_summary, batch_size=batch_size))
    assert [size for _, size, _ in summaries] == sizes
    expected_type = "DocList[Num]" if kind == "list" else "DocVec[Num]"
    assert all(name == expected_type for name, _, _ in summaries)
    assert sum(total for _, _, total in summaries) == sum(range(n))


def test_batches_hold_consecutive_documents_in_order(nums):
    batches = list(map_docs_batched(nums, batch_xs, batch_size=6))
    assert batches == [list(range(0, 6)), list(range(6, 12)), list(range(12, 18)), [18, 19]]
    assert inspect.isgenerator(map_docs_batched(nums, batch_xs, batch_size=6))


def test_batches_are_arrays_of_the_documents(nums):
    def check(batch):
        assert batch.doc_type is Num
        assert isinstance(batch, DocVec if isinstance(nums, DocVec) else DocList)
        return [(d.x, d.text, np.asarray(d.vec).tolist()) for d in batch]

    rows = [row for batch in map_docs_batched(nums, check, batch_size=7) for row in batch]
    assert rows == [(i, f"t{i}", [i, -i]) for i in range(20)]


def test_batched_results_in_order_with_slow_threads(nums):
    def slow(batch):
        time.sleep(0.01 if batch.x[0] == 0 else 0.0)  # the first batch finishes last
        return batch_xs(batch)

    out = list(map_docs_batched(nums, slow, batch_size=3, num_worker=4))
    assert sum(out, []) == list(range(20))


def test_shuffle_covers_every_document_once(nums):
    results = list(map_docs_batched(nums, batch_xs, batch_size=6, shuffle=True))
    assert [len(b) for b in results] == [6, 6, 6, 2]
    flat = sum(results, [])
    assert sorted(flat) == list(range(20))
    assert len(set(flat)) == 20


def test_shuffle_changes_the_order():
    docs = make_nums(40)
    orders = [
        sum(map_docs_batched(docs, batch_xs, batch_size=5, shuffle=True), []) for _ in range(3)
    ]
    assert all(sorted(order) == list(range(40)) for order in orders)
    # the chance that all three shuffles keep the order is (1/40!)**3
    assert any(order != list(range(40)) for order in orders)


def test_shuffle_with_ids():
    docs = make_nums(13)

    def ids(batch):
        return [d.id for d in batch]

    for array in (docs, docs.to_doc_vec()):
        got = sum(map_docs_batched(array, ids, batch_size=4, shuffle=True), [])
        assert sorted(got) == sorted(d.id for d in docs)


@pytest.mark.parametrize("batch_size", [0, -1, -10])
def test_batch_size_below_one(nums, batch_size):
    with pytest.raises(ValueError, match="batch_size"):
        list(map_docs_batched(nums, batch_xs, batch_size=batch_size))


def test_map_docs_batched_processes():
    docs = make_nums(20).to_doc_vec()
    out = list(map_docs_batched(docs, batch_summary, batch_size=6, backend="process", num_worker=2))
    assert out == [
        ("DocVec[Num]", 6, sum(range(0, 6))),
        ("DocVec[Num]", 6, sum(range(6, 12))),
        ("DocVec[Num]", 6, sum(range(12, 18))),
        ("DocVec[Num]", 2, 18 + 19),
    ]


def test_map_docs_batched_show_progress(nums, capsys):
    assert len(list(map_docs_batched(nums, batch_xs, batch_size=5, show_progress=True))) == 4
    out = capsys.readouterr().out
    assert "Mapping" in out
    assert "100%" in out


# --------------------------------------------------------------------------------------------
# reduce
# --------------------------------------------------------------------------------------------


class Inner(BaseDoc):
    label: Optional[str] = None
    notes: list[str] = []
    count: int = 0


class Part(BaseDoc):
    text: str = ""


class Record(BaseDoc):
    title: Optional[str] = None
    count: int = 0
    tags: list[str] = []
    inner: Optional[Inner] = None
    parts: DocList[Part] = Field(default_factory=DocList[Part])
    vec: Optional[NdArray[2]] = None
    meta: dict[str, int] = {}
    flags: set[str] = set()


def parts(*texts: str) -> DocList[Part]:
    return DocList[Part]([Part(text=t) for t in texts])


def test_reduce_merges_documents_with_the_same_id():
    left = DocList[Record](
        [
            Record(
                id="a",
                title="left",
                count=1,
                tags=["x"],
                inner=Inner(label="in", notes=["n1"], count=1),
                parts=parts("p1"),
                vec=[0, 0],
                meta={"k": 1},
                flags={"f"},
            ),
            Record(id="b", title="b"),
        ]
    )
    right = DocList[Record](
        [
            Record(
                id="a",
                count=5,
                tags=["y", "z"],
                inner=Inner(notes=["n2"], count=2),
                parts=parts("p2"),
                vec=[1, 2],
                meta={"j": 2},
                flags={"g"},
            )
        ]
    )
    first = left[0]
    out = reduce(left, right)
    assert out is left
    assert len(left) == 2
    assert left[0] is first  # merged in place
    doc = left[0]
    assert doc.id == "a"
    assert doc.title == "left"  # None in right keeps left's value
    assert doc.count == 5  # scalars replaced
    assert doc.tags == ["x", "y", "z"]  # lists extended
    assert doc.inner.label == "in"  # nested: None kept ...
    assert doc.inner.notes == ["n1", "n2"]  # ... lists extended ...
    assert doc.inner.count == 2  # ... scalars replaced
    assert isinstance(doc.parts, DocList)
    assert [p.text for p in doc.parts] == ["p1", "p2"]  # DocList fields extended
    assert np.asarray(doc.vec).tolist() == [1, 2]  # tensors replaced
    assert doc.meta == {"k": 1, "j": 2}  # dicts updated
    assert doc.flags == {"f", "g"}  # sets unioned
    assert left[1].title == "b"


def test_reduce_none_in_right_keeps_left_values():
    left = DocList[Record]([Record(id="a", title="t", inner=Inner(label="x"), vec=[3, 4])])
    right = DocList[Record]([Record(id="a")])
    reduce(left, right)
    doc = left[0]
    assert doc.title == "t"
    assert doc.inner.label == "x"
    assert np.asarray(doc.vec).tolist() == [3, 4]
    assert doc.count == 0 and doc.tags == []


def test_reduce_falsy_values_in_right_still_replace():
    left = DocList[Record]([Record(id="a", title="t", count=9)])
    reduce(left, DocList[Record]([Record(id="a", title="", count=0)]))
    assert left[0].title == ""
    assert left[0].count == 0


def test_reduce_fills_missing_values_from_right():
    left = DocList[Record]([Record(id="a")])
    reduce(left, DocList[Record]([Record(id="a", title="new", inner=Inner(label="i"))]))
    assert left[0].title == "new"
    assert left[0].inner.label == "i"


def test_reduce_appends_new_ids_in_order():
    left = DocList[Record]([Record(id="a", count=1), Record(id="b", count=2)])
    right = DocList[Record](
        [Record(id="c", count=3), Record(id="b", count=20), Record(id="d", count=4)]
    )
    out = reduce(left, right)
    assert out is left
    assert [d.id for d in left] == ["a", "b", "c", "d"]
    assert [d.count for d in left] == [1, 20, 3, 4]


def test_reduce_new_id_repeated_in_right_becomes_one_document():
    left = DocList[Record]([Record(id="a")])
    right = DocList[Record]([Record(id="n", tags=["1"]), Record(id="n", tags=["2"], count=7)])
    reduce(left, right)
    assert [d.id for d in left] == ["a", "n"]
    assert left[1].tags == ["1", "2"]
    assert left[1].count == 7


def test_reduce_into_an_empty_doclist():
    left = DocList[Record]()
    right = DocList[Record]([Record(id="x"), Record(id="y")])
    assert [d.id for d in reduce(left, right)] == ["x", "y"]
    assert reduce(left, DocList[Record]()) is left
    assert len(left) == 2


def test_reduce_with_a_precomputed_id_map():
    left = DocList[Record]([Record(id="a", tags=["1"]), Record(id="b", tags=["2"])])
    id_map = {d.id: i for i, d in enumerate(left)}
    reduce(left, DocList[Record]([Record(id="b", tags=["3"]), Record(id="c")]), id_map)
    # the map keeps working for the next merge, the appended id included
    reduce(left, DocList[Record]([Record(id="c", tags=["4"]), Record(id="a", tags=["5"])]), id_map)
    assert [(d.id, d.tags) for d in left] == [("a", ["1", "5"]), ("b", ["2", "3"]), ("c", ["4"])]


# --------------------------------------------------------------------------------------------
# reduce_all
# --------------------------------------------------------------------------------------------


def test_reduce_all_merges_into_the_first():
    first = DocList[Record]([Record(id="a", title="a0", tags=["0"]), Record(id="b", count=1)])
    second = DocList[Record]([Record(id="b", count=2, tags=["b1"]), Record(id="c", title="c1")])
    third = DocList[Record](
        [Record(id="a", count=3, tags=["3"]), Record(id="c", tags=["c3"]), Record(id="d")]
    )
    out = reduce_all([first, second, third])
    assert out is first
    assert [d.id for d in out] == ["a", "b", "c", "d"]
    by_id = {d.id: d for d in out}
    assert by_id["a"].title == "a0" and by_id["a"].count == 3 and by_id["a"].tags == ["0", "3"]
    assert by_id["b"].count == 2 and by_id["b"].tags == ["b1"]
    assert by_id["c"].title == "c1" and by_id["c"].tags == ["c3"]


def test_reduce_all_later_values_win():
    lists = [DocList[Record]([Record(id="a", count=i, tags=[str(i)])]) for i in range(1, 5)]
    out = reduce_all(lists)
    assert len(out) == 1
    assert out[0].count == 4
    assert out[0].tags == ["1", "2", "3", "4"]


def test_reduce_all_single_list():
    only = DocList[Record]([Record(id="a"), Record(id="b")])
    out = reduce_all([only])
    assert out is only
    assert [d.id for d in out] == ["a", "b"]


def test_reduce_all_empty_raises():
    with pytest.raises(ValueError, match="at least one"):
        reduce_all([])


def test_reduce_all_accepts_a_tuple():
    a = DocList[Record]([Record(id="a", count=1)])
    b = DocList[Record]([Record(id="a", count=2)])
    assert reduce_all((a, b)) is a
    assert a[0].count == 2


# --------------------------------------------------------------------------------------------
# reduce copies what it takes from right
# --------------------------------------------------------------------------------------------


def test_reduce_appended_documents_are_copies():
    left = DocList[Record]([Record(id="a")])
    right = DocList[Record](
        [Record(id="n", tags=["t"], inner=Inner(label="i"), parts=parts("p"), vec=[1, 2])]
    )
    reduce(left, right)
    appended = left[1]
    assert appended is not right[0]
    assert appended == right[0]  # same id and values
    right[0].tags.append("later")
    right[0].inner.label = "changed"
    right[0].parts[0].text = "changed"
    right[0].vec[0] = 99
    assert appended.tags == ["t"]
    assert appended.inner.label == "i"
    assert appended.parts[0].text == "p"
    assert np.asarray(appended.vec).tolist() == [1, 2]


def test_reduce_merged_values_are_copies():
    left = DocList[Record]([Record(id="a", tags=["x"], parts=parts("p1"))])
    right = DocList[Record](
        [Record(id="a", tags=["y"], inner=Inner(notes=["n"]), parts=parts("p2"), vec=[3, 4])]
    )
    reduce(left, right)
    doc = left[0]
    right[0].inner.notes.append("later")
    right[0].parts[0].text = "changed"
    right[0].vec[1] = 99
    right[0].tags.append("later")
    assert doc.inner.notes == ["n"]  # filled from right, not shared with it
    assert [p.text for p in doc.parts] == ["p1", "p2"]
    assert np.asarray(doc.vec).tolist() == [3, 4]
    assert doc.tags == ["x", "y"]


def test_reduce_leaves_right_unchanged():
    left = DocList[Record]([Record(id="a", tags=["l"])])
    right = DocList[Record](
        [Record(id="n", tags=["1"]), Record(id="n", tags=["2"], count=7), Record(id="a")]
    )
    before = [(d.id, list(d.tags), d.count) for d in right]
    reduce(left, right)
    assert [(d.id, d.tags, d.count) for d in left] == [("a", ["l"], 0), ("n", ["1", "2"], 7)]
    assert [(d.id, list(d.tags), d.count) for d in right] == before


def test_reduce_from_a_docvec_appends_standalone_documents():
    left = DocList[Record]([Record(id="a", count=1)])
    right = DocList[Record]([Record(id="b", vec=[1, 2]), Record(id="a", count=5)]).to_doc_vec()
    reduce(left, right)
    assert [(d.id, d.count) for d in left] == [("a", 5), ("b", 0)]
    assert not left[1].is_view()
    right[0].vec[0] = 42  # in place, in the DocVec's column
    assert right[0].vec[0] == 42
    assert np.asarray(left[1].vec).tolist() == [1, 2]


def test_reduce_all_leaves_the_others_unchanged():
    first = DocList[Record]([Record(id="a", tags=["0"])])
    second = DocList[Record]([Record(id="b", tags=["1"])])
    third = DocList[Record]([Record(id="b", tags=["2"])])
    out = reduce_all([first, second, third])
    assert [(d.id, d.tags) for d in out] == [("a", ["0"]), ("b", ["1", "2"])]
    assert second[0].tags == ["1"] and third[0].tags == ["2"]
    assert out[1] is not second[0]


def test_process_backend_refuses_a_function_it_cannot_send():
    from docstack.documents import TextDoc

    docs = DocList[TextDoc]([TextDoc(text="a")])

    def local(doc):
        return doc

    for func in (lambda d: d, local):
        with pytest.raises(ValueError, match="cannot be pickled"):
            list(map_docs(docs, func, backend="process"))
    assert [d.text for d in map_docs(docs, local, backend="thread")] == ["a"]

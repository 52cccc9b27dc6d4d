"""The service's query-vector cache: concurrent misses share one call of the model, a bad
text fails alone, and a lone query runs at once."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from docstack.embed import Encoder
from docstack.server._query_vectors import QueryVectorCache


class Gate(Encoder):
    """Embeds a text as (its length, its number of words); the first call waits at a gate
    until the test opens it, so that other requests queue behind it meanwhile."""

    name, dim = "gate", 2

    def __init__(self) -> None:
        self.batches: list[list[str]] = []
        self.entered = threading.Event()
        self.gate = threading.Event()

    def _encode_batch(self, items, modality):
        self.batches.append(list(items))
        self.entered.set()
        assert self.gate.wait(10), "the test never opened the gate"
        if any("boom" in t for t in items):
            raise ValueError(f"cannot embed {items!r}")
        return np.array([[len(t), len(t.split())] for t in items], np.float32)


def ask_all(cache, encoder, texts, first="first query"):
    """Ask ``first`` in a thread, wait until its model call runs, then ask ``texts`` from
    one thread each, let them queue, open the gate; each text's vector or error."""
    answers: dict[str, object] = {}

    def ask(text):
        try:
            answers[text] = cache.get(encoder, text).tolist()
        except Exception as exc:  # noqa: BLE001 - recorded for the assertions
            answers[text] = exc

    threads = [threading.Thread(target=ask, args=(first,))]
    threads[0].start()
    assert encoder.entered.wait(10)
    for text in texts:
        threads.append(threading.Thread(target=ask, args=(text,)))
        threads[-1].start()
    deadline = time.monotonic() + 10
    while sum(len(lane.waiting) for _, lane in cache._lanes.values()) < len(texts):
        assert time.monotonic() < deadline, "the requests never queued"
        time.sleep(0.01)
    encoder.gate.set()
    for t in threads:
        t.join(10)
        assert not t.is_alive(), "a request never got its vector"
    return answers


def test_misses_that_arrive_while_the_model_runs_share_its_next_call():
    cache, encoder = QueryVectorCache(), Gate()
    texts = [f"query number {i}" for i in range(6)] + ["query number 1"]  # one asked twice
    answers = ask_all(cache, encoder, texts)
    assert encoder.batches[0] == ["first query"]  # a lone query ran at once
    assert len(encoder.batches) == 2  # the six others in one call, the repeat embedded once
    assert sorted(encoder.batches[1]) == sorted(set(texts))
    for text in texts:
        assert answers[text] == [float(len(text)), 3.0]
    assert (cache.calls, cache.embedded) == (2, 7)
    again = cache.get(encoder, "query number 4")  # cached now: no call
    assert len(encoder.batches) == 2 and not again.flags.writeable


def test_a_batch_is_capped_at_max_batch():
    cache, encoder = QueryVectorCache(max_batch=3), Gate()
    texts = [f"q{i}" for i in range(7)]
    answers = ask_all(cache, encoder, texts)
    assert [len(b) for b in encoder.batches] == [1, 3, 3, 1]
    assert all(answers[t] == [2.0, 1.0] for t in texts)


def test_a_bad_text_fails_alone_and_is_not_cached():
    cache, encoder = QueryVectorCache(), Gate()
    answers = ask_all(cache, encoder, ["good one", "boom here", "fine too"])
    assert answers["good one"] == [8.0, 2.0] and answers["fine too"] == [8.0, 2.0]
    assert isinstance(answers["boom here"], ValueError)
    assert "boom here" in str(answers["boom here"])
    # the batch failed, then each text was run by itself
    assert encoder.batches[2:] == [["good one"], ["boom here"], ["fine too"]]
    with pytest.raises(ValueError, match="boom"):
        cache.get(encoder, "boom here")  # errors are not cached: asked again, run again


def test_an_encoder_answering_the_wrong_number_of_rows_is_an_error():
    class Short(Encoder):
        name, dim = "short", 2

        def _encode_query_batch(self, items, modality):
            return np.zeros((len(items) + 1, 2), np.float32)

        def _encode_batch(self, items, modality):  # pragma: no cover - queries only
            raise AssertionError

    with pytest.raises(ValueError, match="short"):
        QueryVectorCache().get(Short(), "x")


def test_max_batch_must_be_positive():
    with pytest.raises(ValueError, match="max_batch"):
        QueryVectorCache(max_batch=0)


def test_a_text_embedded_while_it_waited_is_not_embedded_again():
    cache, encoder = QueryVectorCache(), Gate()
    answers = ask_all(cache, encoder, ["first query", "other"])  # asked again while it runs
    assert encoder.batches == [["first query"], ["other"]]
    assert answers["first query"] == [11.0, 2.0] and answers["other"] == [5.0, 1.0]


def test_requests_for_one_bad_text_each_raise_their_own_error():
    cache, encoder = QueryVectorCache(), Gate()
    errors = []

    def ask():
        try:
            cache.get(encoder, "boom")
        except ValueError as exc:
            errors.append(exc)

    encoder.gate.set()
    threads = [threading.Thread(target=ask) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert len(errors) == 4 and len({id(e) for e in errors}) == 4
    assert all("boom" in str(e) and isinstance(e.__cause__, ValueError) for e in errors)

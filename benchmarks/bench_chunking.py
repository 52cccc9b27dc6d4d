"""Chunking throughput in MB/s, docstack against calling semantic-text-splitter directly.

Run ``.venv/bin/python benchmarks/bench_chunking.py``. Two corpora of real text, each
repeated to about ``--mb`` MB:

- ``seeds``: the four seed texts in ``/work/shared/seeds`` (Markdown, HTML-escaped RSS,
  mojibake and mathematical letters beyond the BMP);
- ``news``: gensim's Lee news corpora (``lee_background.cor`` + ``lee.cor``, plain ASCII
  prose), when gensim is installed.

Rows (best of ``--pairs`` runs, the two sides of a row timed in turns):

- characters: ``FixedSizeChunker(1000, overlap=200).split`` against
  ``TextSplitter(1000, overlap=200).chunk_indices``;
- sentences: ``SentenceChunker().split`` (one chunk per sentence) against
  ``TextSplitter(200).chunk_indices`` (sentence-sized pieces), and pysbd on a slice;
- recursive: ``RecursiveChunker(1000).split`` against the ``TextSplitter`` it wraps;
- documents: ``chunk()`` of the corpus cut into 10 kB ``TextDoc`` s into ``ChunkDoc`` s.

Goal: characters and sentences at least 50 MB/s.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from pathlib import Path

from _common import best_of, in_turns

SEEDS = Path(os.environ.get("DOCSTACK_SEEDS", "/work/shared/seeds"))


def corpora(mb: float) -> dict[str, str]:
    """Each corpus joined and repeated to about ``mb`` megabytes (UTF-8)."""
    texts = {"seeds": "\n\n".join(p.read_text("utf-8") for p in sorted(SEEDS.glob("*.txt")))}
    try:
        from gensim.test.utils import datapath

        news = [Path(datapath(n)).read_text("latin-1") for n in ("lee_background.cor", "lee.cor")]
        texts["news"] = "\n".join(news)
    except ImportError:
        print("gensim is not installed: the news corpus is left out")
    out = {}
    for name, text in texts.items():
        size = len(text.encode("utf-8"))
        out[name] = "\n\n".join([text] * max(1, round(mb * 1e6 / size)))
    return out


def bench_corpus(name: str, text: str, pairs: int, chunkers: tuple, splitters: tuple) -> None:
    """Print the rows of one corpus."""
    from docstack.chunking import chunk
    from docstack.documents import TextDoc

    fixed, sentences, recursive = chunkers
    sts_fixed, sts_small, sts_recursive, segmenter = splitters
    mb = len(text.encode("utf-8")) / 1e6

    def row(label, ours, theirs, n=mb):
        a, b = in_turns(ours, theirs, pairs=pairs)
        print(f"{name:7} {label:34} {n / a:13.1f} {n / b:12.1f} {b / a:6.2f}")

    row(
        "characters 1000/200 vs sts",
        lambda: fixed.split(text),
        lambda: sts_fixed.chunk_indices(text),
    )
    row(
        "sentences vs sts(200)",
        lambda: sentences.split(text),
        lambda: sts_small.chunk_indices(text),
    )
    piece = text[:200_000]
    row(
        "sentences vs pysbd (200 kB)",
        lambda: sentences.split(piece),
        lambda: segmenter.segment(piece),
        n=len(piece.encode("utf-8")) / 1e6,
    )
    row(
        "recursive 1000 vs its sts",
        lambda: recursive.split(text),
        lambda: sts_recursive.chunk_indices(text),
    )
    docs = [TextDoc(text=text[i : i + 10_000]) for i in range(0, len(text), 10_000)]
    t0 = time.perf_counter()
    seconds, out = best_of(lambda: chunk(docs, sentences), repeats=2)
    n_chunks = sum(len(d.chunks) for d in out)
    print(
        f"{name:7} {'chunk() docs -> ChunkDocs (sent.)':34} {mb / seconds:13.1f} "
        f"{'':>12} {'':>6}  ({n_chunks} chunks, {time.perf_counter() - t0:.1f} s)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, default=4.0, help="corpus size in MB")
    parser.add_argument("--pairs", type=int, default=5, help="timed runs per side")
    args = parser.parse_args()

    import pysbd
    from semantic_text_splitter import TextSplitter

    from docstack.chunking import FixedSizeChunker, RecursiveChunker, SentenceChunker

    chunkers = (FixedSizeChunker(1000, overlap=200), SentenceChunker(), RecursiveChunker(1000))
    splitters = (
        TextSplitter(1000, overlap=200),
        TextSplitter(200),
        TextSplitter(1000),
        pysbd.Segmenter(language="en", clean=False, char_span=True),
    )

    print(
        f"machine: {platform.machine()}, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}; "
        f"python {platform.python_version()}"
    )
    header = f"{'corpus':7} {'operation':34} {'docstack MB/s':>13} {'direct MB/s':>12} {'ratio':>6}"
    print(header)
    print("-" * len(header))
    for name, text in corpora(args.mb).items():
        bench_corpus(name, text, args.pairs, chunkers, splitters)


if __name__ == "__main__":
    main()

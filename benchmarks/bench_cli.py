"""``docstack search`` end to end, process start included, on a 10k-document index.

Builds (once, kept in ``--dir``) an index of ``--docs`` small text files with ``docstack index``
and the default local encoder, then runs ``python -m docstack search QUERY --index DIR`` as a
subprocess ``--runs`` times per mode and prints the median and the slowest run. The goal is
under 2 s for a hybrid search (the query embedded by the model, process start included).

The texts: gensim's test corpora (``lee_background.cor``, ``lee.cor``) when gensim is
installed, else the seeds in ``/work/shared/seeds`` (or ``--corpus DIR``): their sentences,
two to four at a time from a sliding window, with a document number, until there are
``--docs`` documents.

    python benchmarks/bench_cli.py --docs 10000 --runs 7 --dir /tmp/bench-cli
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
QUERIES = [
    "bushfires burning near Sydney",
    "asylum seekers fleeing the Taliban",
    "interest rates and the economy",
    "a cricket test match",
]


def corpus_texts(corpus: str | None) -> tuple[list[str], str]:
    """The source texts and where they came from."""
    if corpus is None:
        try:
            from gensim.test.utils import datapath

            names = ("lee_background.cor", "lee.cor")
            texts = [Path(datapath(n)).read_text(errors="replace") for n in names]
            return texts, "gensim test corpora (lee_background.cor, lee.cor)"
        except ImportError:
            corpus = "/work/shared/seeds"
    folder = Path(corpus)
    texts = [p.read_text(errors="replace") for p in sorted(folder.glob("*.txt"))]
    if not texts:
        sys.exit(f"no .txt files in {folder}; give --corpus DIR")
    return texts, f"the seeds in {folder} ({len(texts)} files)"


def make_documents(texts: list[str], count: int) -> list[str]:
    """``count`` short documents: windows of 2-4 sentences sliding over the texts."""
    sentences = [
        s.strip()
        for text in texts
        for s in re.split(r"(?<=[.!?])\s+", " ".join(text.split()))
        if 20 <= len(s.strip()) <= 400
    ]
    if not sentences:
        sys.exit("the corpus has no sentences")
    docs = []
    n = len(sentences)
    for i in range(count):
        width = 2 + i % 3
        start = (i * 7 + i // n) % n
        window = [sentences[(start + k) % n] for k in range(width)]
        docs.append(f"Document {i}. " + " ".join(window))
    return docs


def docstack(*argv: str) -> subprocess.CompletedProcess:
    """``python -m docstack ARGV``, timed by the caller.

    Byte code is cached (under the system's temporary folder, not in the source tree), as
    it is for an installed package: compiling docstack's modules at every start would be
    timed otherwise.
    """
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = os.path.join(tempfile.gettempdir(), "docstack-bench-pycache")
    return subprocess.run(
        [sys.executable, "-m", "docstack", *argv], capture_output=True, text=True, env=env
    )


def build(folder: Path, docs: int, corpus: str | None, encoder: str) -> None:
    """Write the documents and index them, unless ``folder`` already holds that index."""
    index = folder / "index"
    files = folder / "files"
    marker = folder / f"built-{docs}-{encoder.replace(':', '_')}"
    if marker.exists():
        print(f"reusing the index in {index}")
        return
    texts, source = corpus_texts(corpus)
    print(f"texts: {source}")
    files.mkdir(parents=True, exist_ok=True)
    for i, text in enumerate(make_documents(texts, docs)):
        (files / f"{i:05d}.txt").write_text(text)
    t0 = time.perf_counter()
    done = docstack("index", str(files), "--into", str(index), "--encoder", encoder, "-q")
    if done.returncode:
        sys.exit(done.stderr)
    print(done.stdout.strip())
    print(f"built {docs} documents in {time.perf_counter() - t0:.1f} s")
    marker.touch()


def time_searches(index: Path, mode: str, runs: int) -> list[float]:
    """Wall-clock seconds of ``runs`` search processes (after one untimed warm-up)."""
    times = []
    for i in range(runs + 1):
        query = QUERIES[i % len(QUERIES)]
        t0 = time.perf_counter()
        done = docstack("search", query, "--index", str(index), "--mode", mode, "--json")
        elapsed = time.perf_counter() - t0
        if done.returncode or not done.stdout.strip():
            sys.exit(f"search failed: {done.stderr}")
        if i:
            times.append(elapsed)
    return times


def main() -> None:
    """Build the index if needed, time the searches, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--docs", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--dir", default="/tmp/docstack-bench-cli")
    parser.add_argument("--corpus", help="a folder of .txt files (default: gensim or the seeds)")
    parser.add_argument("--encoder", default="local")
    parser.add_argument("--modes", default="hybrid,vector,text")
    args = parser.parse_args()
    folder = Path(args.dir)
    build(folder, args.docs, args.corpus, args.encoder)
    docstack("--version")  # fills the byte-code cache
    starts = []
    for _ in range(3):
        t0 = time.perf_counter()
        docstack("--version")
        starts.append(time.perf_counter() - t0)
    print(f"python -m docstack --version: {min(starts):.2f} s (start-up alone, best of 3)")
    print(f"load average: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    print(f"{'mode':<8} {'p50 s':>7} {'max s':>7}  (goal: < 2 s, {args.runs} runs)")
    for mode in args.modes.split(","):
        times = time_searches(folder / "index", mode, args.runs)
        print(f"{mode:<8} {statistics.median(times):>7.2f} {max(times):>7.2f}")


if __name__ == "__main__":
    main()

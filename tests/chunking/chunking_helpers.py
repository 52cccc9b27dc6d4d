"""A small deterministic encoder for chunking tests: hashed bag of words."""

from __future__ import annotations

import re
import zlib

import numpy as np

from docstack.embed import Encoder

WORD = re.compile(r"[a-z]+")


class HashedWords(Encoder):
    """Each lower-cased word (a final 's' dropped) adds 1 to one of ``dim`` buckets chosen by
    its CRC32."""

    name, dim = "hashed-words", 256

    def _encode_batch(self, items, modality):
        out = np.zeros((len(items), self.dim), dtype=np.float32)
        for row, text in enumerate(items):
            for word in WORD.findall(text.lower()):
                word = word[:-1] if word.endswith("s") else word
                out[row, zlib.crc32(word.encode()) % self.dim] += 1.0
        return out


CATS = [
    "Cats purr when the cat is happy.",
    "A cat chases mice around the barn.",
    "The cat sleeps on the warm cat bed.",
    "A kitten grows into a cat, and the cat purrs.",
]
CARS = [
    "Cars need fuel and the car needs oil.",
    "A car engine turns the car wheels.",
    "Electric cars charge their car batteries.",
    "The car dealer sells used cars.",
]

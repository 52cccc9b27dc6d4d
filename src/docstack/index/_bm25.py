"""BM25 text search in memory, scoring exactly as SQLite FTS5's ``bm25()`` does.

Every backend must give text search the same scores. The embedded index searches with SQLite
FTS5, so this module reproduces FTS5's ranking: for a query of terms ``t`` (each counted once),

    score(d) = sum_t idf(t) * f(t, d) * (k1 + 1) / (f(t, d) + k1 * (1 - b + b * |d| / avgdl))

with ``k1 = 1.2``, ``b = 0.75``, ``idf(t) = log((N - n(t) + 0.5) / (n(t) + 0.5))`` (``1e-6``
when that is not positive), ``N`` the number of indexed texts, ``n(t)`` how many contain ``t``,
``|d|`` the number of tokens of ``d`` and ``avgdl`` the mean over all texts. FTS5 returns the
negated sum; here higher is better.

Tokens follow FTS5's ``unicode61`` tokenizer: runs of letters and digits, case-folded, with
diacritics removed. Python's Unicode tables are used, so rare scripts and characters whose
case folding differs between the two may tokenize differently.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from collections.abc import Sequence

import numpy as np

__all__ = ["BM25Index", "fts_match_expression", "tokenize"]

K1 = 1.2
B = 0.75
_TOKEN = re.compile(r"[^\W_]+")


def _strip_diacritics(token: str) -> str:
    if token.isascii():
        return token
    decomposed = unicodedata.normalize("NFKD", token)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def tokenize(text: str) -> list[str]:
    """The tokens FTS5's ``unicode61`` tokenizer makes of ``text``.

    Example
    -------
    >>> tokenize("Café, RED-wine_2")
    ['cafe', 'red', 'wine', '2']
    """
    return [_strip_diacritics(t) for t in _TOKEN.findall(text.lower())]


def fts_match_expression(query: str) -> str | None:
    """A safe FTS5 ``MATCH`` expression: each distinct query token quoted, OR-ed.

    Returns ``None`` when the query has no tokens.

    Example
    -------
    >>> fts_match_expression('red "wine" red')
    '"red" OR "wine"'
    >>> fts_match_expression('  ?! ') is None
    True
    """
    terms = list(dict.fromkeys(tokenize(query)))
    if not terms:
        return None
    return " OR ".join('"' + t.replace('"', '""') + '"' for t in terms)


class BM25Index:
    """An incremental BM25 index of texts by integer key, with FTS5's scores.

    Example
    -------
    >>> index = BM25Index()
    >>> index.add(np.array([0, 1, 2]), ['red fox', 'blue whale', 'red red wine'])
    >>> keys, scores = index.search('red', limit=5)
    >>> keys.tolist()
    [2, 0]
    >>> index.remove(np.array([2]))
    >>> index.search('red', limit=5)[0].tolist()
    [0]
    """

    def __init__(self) -> None:
        self._postings: dict[str, dict[int, int]] = {}
        self._terms: dict[int, Counter[str]] = {}
        self._length: dict[int, int] = {}
        self._total = 0

    def __len__(self) -> int:
        return len(self._length)

    def add(self, keys: np.ndarray, texts: Sequence[str | None]) -> None:
        """Index texts under keys (``None`` texts are skipped); a known key is replaced."""
        keys_list = np.asarray(keys, dtype=np.int64).tolist()
        if len(keys_list) != len(texts):
            raise ValueError(f"got {len(keys_list)} keys for {len(texts)} texts")
        known = [k for k in keys_list if k in self._length]
        if known:
            self.remove(np.asarray(known, dtype=np.int64))
        postings = self._postings
        for key, text in zip(keys_list, texts):
            if text is None:
                continue
            tokens = tokenize(text)
            counts = Counter(tokens)
            self._terms[key] = counts
            self._length[key] = len(tokens)
            self._total += len(tokens)
            for term, tf in counts.items():
                plist = postings.get(term)
                if plist is None:
                    postings[term] = {key: tf}
                else:
                    plist[key] = tf

    def remove(self, keys: np.ndarray) -> None:
        """Forget the texts of keys (unknown keys are ignored)."""
        for key in np.asarray(keys, dtype=np.int64).tolist():
            counts = self._terms.pop(key, None)
            if counts is None:
                continue
            self._total -= self._length.pop(key)
            for term in counts:
                plist = self._postings[term]
                del plist[key]
                if not plist:
                    del self._postings[term]

    def search(
        self,
        query: str,
        limit: int,
        allowed: np.ndarray | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """The ``limit`` best keys for ``query`` (any of its terms), best first.

        Parameters
        ----------
        query:
            Free text; its distinct tokens are the terms.
        limit:
            How many results at most.
        allowed:
            A boolean mask by key: only keys where it is True are returned (keys beyond its
            end are not). Statistics (``N``, ``avgdl``, ``n(t)``) still cover every text.

        Returns
        -------
        tuple
            ``(keys, scores)``: int64 keys and float64 scores, higher first, ties by key.
        """
        n = len(self._length)
        terms = list(dict.fromkeys(tokenize(query)))
        empty = np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float64)
        if not n or not terms or limit <= 0:
            return empty
        avgdl = self._total / n
        key_parts: list[np.ndarray] = []
        score_parts: list[np.ndarray] = []
        for term in terms:
            plist = self._postings.get(term)
            if not plist:
                continue
            hits = len(plist)
            idf = math.log((n - hits + 0.5) / (hits + 0.5))
            if idf <= 0.0:
                idf = 1e-6
            keys = np.fromiter(plist.keys(), dtype=np.int64, count=hits)
            tf = np.fromiter(plist.values(), dtype=np.float64, count=hits)
            length = np.fromiter((self._length[k] for k in plist), dtype=np.float64, count=hits)
            part = idf * (tf * (K1 + 1.0)) / (tf + K1 * (1.0 - B + B * length / avgdl))
            key_parts.append(keys)
            score_parts.append(part)
        if not key_parts:
            return empty
        all_keys = np.concatenate(key_parts)
        all_scores = np.concatenate(score_parts)
        if allowed is not None:
            allowed = np.asarray(allowed, dtype=bool)
            ok = all_keys < len(allowed)
            ok[ok] = allowed[all_keys[ok]]
            all_keys, all_scores = all_keys[ok], all_scores[ok]
            if not len(all_keys):
                return empty
        unique, inverse = np.unique(all_keys, return_inverse=True)
        totals = np.zeros(len(unique), dtype=np.float64)
        # add term by term, in query order, as FTS5 does
        np.add.at(totals, inverse, all_scores)
        order = np.lexsort((unique, -totals))[:limit]
        return unique[order], totals[order]


# doctest compiles examples with the __future__ flags of the module namespace
del annotations

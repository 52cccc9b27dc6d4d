"""An in-memory BM25 text index that scores exactly as SQLite FTS5's ``bm25()``.

The SQLite backend searches text with an FTS5 table (``fts5(body, tokenize='unicode61')``) and
a query of OR-ed terms; :class:`BM25Index` gives the same matches and the same scores without
SQLite, so both backends answer a text search alike. The score of a document ``D`` for the
distinct query terms ``q1 .. qn`` (in the order they first appear in the query) is FTS5's
(``ext/fts5/fts5_aux.c``, verified against SQLite 3.40), negated so that higher is better::

    score(D) = sum_i  IDF(qi) * f(qi, D) * (k1 + 1) / (f(qi, D) + k1 * (1 - b + b * |D| / avgdl))

    IDF(q) = log((N - n(q) + 0.5) / (n(q) + 0.5)), or 1e-6 where that is <= 0

with ``k1 = 1.2``, ``b = 0.75``, ``f(q, D)`` the number of times ``q`` occurs in ``D``, ``|D|``
the number of tokens of ``D``, ``N`` the number of indexed documents, ``avgdl`` their mean
length in tokens and ``n(q)`` the number of documents holding ``q``. A document matches when it
holds at least one query term.

Documents whose text is ``None`` are not indexed (they do not count in ``N``): the SQLite
backend must likewise leave such rows out of its FTS5 table, since FTS5 counts a ``NULL`` row.
An empty string is a document of 0 tokens, as in FTS5.

:func:`tokenize` mirrors FTS5's ``unicode61`` tokenizer with its defaults
(``remove_diacritics=1``, token characters are the Unicode categories ``L*``, ``N*``, ``Co``
and unassigned code points; everything else separates tokens; tokens are case folded and
Latin letters lose a single diacritic). Checked exhaustively, code point by code point, against
SQLite 3.40: it agrees on every code point below U+037F (ASCII, Latin-1, Latin Extended-A/B,
IPA, combining marks). Elsewhere it follows Python's Unicode database, which is newer than
SQLite's tables (they predate Unicode 7.0: U+037F, new in 7.0, is not folded by SQLite); with
Python 3.11, about 3,200 of the 1.1 million code points are classified differently
(characters assigned since, e.g. newer symbols, emoji and marks) and about 180 fold
differently (e.g. Cherokee, Georgian Mtavruli, some Latin Extended-D letters), so a text
holding those may tokenize differently. Tokens longer than 32,768 UTF-8 bytes are cut there, as
FTS5 does (where that cuts a character in two, FTS5 keeps its first bytes and we drop them).

Example
-------
>>> index = BM25Index()
>>> index.add(np.arange(6), ['the quick brown fox', 'the lazy dog', 'a dog chases a cat',
...                          'cats and dogs', 'a quick dog', None])
>>> keys, scores = index.search('Quick DOG!', limit=3)
>>> keys.tolist(), np.round(scores, 4).tolist()
([4, 0, 1], [0.3611, 0.3218, 0.0])
>>> fts_match_expression('Quick DOG!')
'"quick" OR "dog"'
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import numpy as np

__all__ = ["BM25Index", "fts_match_expression", "tokenize"]

#: BM25 parameters of FTS5's ``bm25()``.
K1 = 1.2
B = 0.75
#: The IDF of a term in at least half of the documents (FTS5's floor).
IDF_FLOOR = 1e-6
#: FTS5 cuts longer tokens to this many UTF-8 bytes.
MAX_TOKEN_BYTES = 32768
#: Postings added since the last sort by term are scanned, until there are more than this
#: (or a quarter of the sorted ones).
_MIN_UNSORTED = 4096
#: A search sums its postings into one array over all slots, rather than sorting them, when
#: there are more than a 1/_DENSE of the slots (measured: 100k short documents, 3 terms).
_DENSE = 16

# --------------------------------------------------------------------------------------------
# Tokenizer
# --------------------------------------------------------------------------------------------

_ASCII_TOKEN = re.compile(r"[a-z0-9]+")

# The combining marks unicode61 keeps inside a token (and then removes, with
# remove_diacritics=1); any other mark separates tokens.
_DIACRITICS = [*range(0x300, 0x305), *range(0x306, 0x30D), 0x30F, 0x311, 0x31B] + [
    *range(0x323, 0x329),
    0x32D,
    0x32E,
    0x330,
    0x331,
]
# Planes 4-13 are unassigned (token characters) and planes 15-16 are private use (token
# characters) but for their unassigned last two code points (token characters too).
_SCANNED = (range(0, 0x40000), range(0xE0000, 0xF0000))


def _is_token_char(ch: str) -> bool:
    cat = unicodedata.category(ch)
    return cat[0] in "LN" or cat in ("Co", "Cn")


def _fold(ch: str) -> str:
    """unicode61's folding of one token character: simple case folding, then the removal of a
    single diacritic from a Latin letter. Only the BMP and Deseret are case folded."""
    cp = ord(ch)
    if cp >= 0x10000:
        return chr(cp + 40) if 0x10400 <= cp < 0x10428 else ch
    folded = ch.casefold()
    if len(folded) != 1:  # full folding expands (e.g. 'ß' -> 'ss'): take the simple one
        folded = ch.lower()
        if len(folded) != 1:  # 'İ' -> 'i' + combining dot
            folded = folded[0]
    parts = unicodedata.normalize("NFD", folded)
    if len(parts) == 2 and parts[0].isascii() and unicodedata.combining(parts[1]):
        return parts[0]
    return folded


def _char_class(ranges: list[tuple[int, int]]) -> str:
    return "".join(
        re.escape(chr(lo)) + ("-" + re.escape(chr(hi)) if hi > lo else "") for lo, hi in ranges
    )


@lru_cache(maxsize=1)
def _unicode_tables() -> tuple[re.Pattern[str], dict[int, str | None]]:
    """The token pattern and the folding table for non-ASCII text, built once (~0.1 s)."""
    diacritics = set(_DIACRITICS)
    separators: list[tuple[int, int]] = []  # runs of separators, diacritics excluded
    start = None
    for block in _SCANNED:
        for cp in block:
            sep = not _is_token_char(chr(cp)) and cp not in diacritics
            if sep and start is None:
                start = cp
            elif not sep and start is not None:
                separators.append((start, cp - 1))
                start = None
        if start is not None:
            separators.append((start, block[-1]))
            start = None
    seps = _char_class(separators)
    marks = _char_class([(cp, cp) for cp in _DIACRITICS])
    # a token starts with a token character and goes on through token characters and the
    # diacritics (which are not token characters)
    pattern = re.compile(f"[^{seps}{marks}][^{seps}]*")
    fold: dict[int, str | None] = {cp: None for cp in _DIACRITICS}
    fold.update({cp: chr(cp + 32) for cp in range(ord("A"), ord("Z") + 1)})
    for cp in range(0x80, 0x10000):
        ch = chr(cp)
        if cp not in diacritics and _is_token_char(ch):
            folded = _fold(ch)
            if folded != ch:
                fold[cp] = folded
    for cp in range(0x10400, 0x10428):
        fold[cp] = chr(cp + 40)
    return pattern, fold


def _cut(token: str) -> str:
    if len(token) * 4 <= MAX_TOKEN_BYTES:
        return token
    data = token.encode("utf-8", "surrogatepass")
    if len(data) <= MAX_TOKEN_BYTES:
        return token
    return data[:MAX_TOKEN_BYTES].decode("utf-8", "ignore")


def tokenize(text: str) -> list[str]:
    """Split ``text`` into tokens as FTS5's ``unicode61`` tokenizer does (see module notes).

    Tokens are runs of letters and numbers (anything else separates them), case folded, with
    diacritics removed from Latin letters.

    Example
    -------
    >>> tokenize("Crème Brûlée, l'été 2024 -- AT&T's_X")
    ['creme', 'brulee', 'l', 'ete', '2024', 'at', 't', 's', 'x']
    """
    if text.isascii():
        tokens = _ASCII_TOKEN.findall(text.lower())
    else:
        pattern, fold = _unicode_tables()
        found = pattern.findall(text)
        if not found:
            return []
        # separators (NUL included) never occur inside a token: fold all tokens at once
        tokens = "\x00".join(found).translate(fold).split("\x00")
    if any(len(t) * 4 > MAX_TOKEN_BYTES for t in tokens):
        tokens = [_cut(t) for t in tokens]
    return tokens


def _query_terms(query: str) -> list[str]:
    """The distinct tokens of ``query``, in the order they first appear."""
    return list(dict.fromkeys(tokenize(query)))


def fts_match_expression(query: str) -> str | None:
    """An FTS5 ``MATCH`` expression searching the distinct tokens of ``query``, OR-ed.

    Every token is quoted, so no FTS5 syntax in the user's text (``AND``, ``NEAR``, ``*``,
    ``col:``, quotes) is interpreted. ``None`` when the query has no token (nothing matches).

    Example
    -------
    >>> fts_match_expression('Hello, "world" AND hello*')
    '"hello" OR "world" OR "and"'
    >>> fts_match_expression('?!') is None
    True
    """
    terms = _query_terms(query)
    if not terms:
        return None
    return " OR ".join('"' + t.replace('"', '""') + '"' for t in terms)


# --------------------------------------------------------------------------------------------
# The index
# --------------------------------------------------------------------------------------------


def _grow(array: np.ndarray, needed: int) -> np.ndarray:
    """``array`` with room for at least ``needed`` items (amortised doubling)."""
    if needed <= len(array):
        return array
    out = np.zeros(max(needed, 2 * len(array), 16), dtype=array.dtype)
    out[: len(array)] = array
    return out


def _ranges(starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """The concatenation of ``arange(s, e)`` for each pair, vectorised."""
    lengths = ends - starts
    total = int(lengths.sum())
    if total == 0:
        return np.zeros(0, np.int64)
    offsets = np.cumsum(lengths) - lengths
    return np.repeat(starts - offsets, lengths) + np.arange(total, dtype=np.int64)


class BM25Index:
    """BM25 text search over documents keyed by int, scoring as SQLite FTS5's ``bm25()``.

    Postings (term, document, frequency) live in numpy arrays; a search gathers the postings of
    the query's terms and scores them with vectorised arithmetic and one ``np.bincount``.
    Updating a key (``remove`` then ``add``, or ``add`` of a present key) updates the document
    count, the mean length and the document frequencies exactly as FTS5's DELETE + INSERT.

    Example
    -------
    >>> index = BM25Index()
    >>> index.add(np.array([10, 11, 12]), ['red apple', 'green apple', 'red car'])
    >>> index.search('red', limit=3)[0].tolist()
    [10, 12]
    >>> index.add(np.array([10]), ['blue apple'])  # an update
    >>> index.search('red', limit=3)[0].tolist(), len(index)
    ([12], 3)
    """

    def __init__(self) -> None:
        self._vocab: dict[str, int] = {}
        self._df = np.zeros(0, np.int64)  # per term: live documents holding it
        # documents live in slots, numbered in the order they were added
        self._n_slots = 0
        self._slot_key = np.zeros(0, np.int64)
        self._slot_len = np.zeros(0, np.int64)  # tokens
        self._slot_alive = np.zeros(0, bool)
        self._slot_start = np.zeros(1, np.int64)  # postings of slot s: start[s]:start[s + 1]
        self._key_slot: dict[int, int] = {}
        self._total_tokens = 0
        # postings in slot order; the first _n_sorted are also indexed by term
        self._n_postings = 0
        self._dead_postings = 0
        self._p_term = np.zeros(0, np.int64)
        self._p_slot = np.zeros(0, np.int64)
        self._p_tf = np.zeros(0, np.int64)
        self._n_sorted = 0
        self._by_term = np.zeros(0, np.int64)  # posting positions sorted by term
        self._term_start = np.zeros(1, np.int64)  # term t: _by_term[start[t]:start[t + 1]]

    def __len__(self) -> int:
        """The number of indexed documents (keys whose text is not ``None``)."""
        return len(self._key_slot)

    def __contains__(self, key: object) -> bool:
        """Whether ``key`` is indexed."""
        try:
            return int(key) in self._key_slot  # type: ignore[call-overload]
        except (TypeError, ValueError):
            return False

    # ---------------------------------------------------------------- updates

    def add(self, keys: np.ndarray | Sequence[int], texts: Sequence[str | None]) -> None:
        """Index ``texts[i]`` under ``keys[i]``, replacing what a present key held.

        A ``None`` text leaves its key unindexed (removing what it held). When a key repeats
        in one call, its last text wins.

        Example
        -------
        >>> index = BM25Index()
        >>> index.add(np.array([1, 2]), ['one', None])
        >>> len(index), 1 in index, 2 in index
        (1, True, False)
        """
        keys = np.asarray(keys, dtype=np.int64).reshape(-1)
        if len(keys) != len(texts):
            raise ValueError(f"got {len(keys)} keys but {len(texts)} texts")
        latest = dict(zip(keys.tolist(), range(len(keys))))  # the last text of each key wins
        self.remove(np.fromiter(latest, np.int64, len(latest)))
        new_keys: list[int] = []
        lengths: list[int] = []
        term_ids: list[int] = []
        vocab = self._vocab
        for key, i in latest.items():
            text = texts[i]
            if text is None:
                continue
            if not isinstance(text, str):
                raise TypeError(f"texts must be str or None, got {type(text).__name__}")
            tokens = tokenize(text)
            new_keys.append(key)
            lengths.append(len(tokens))
            for token in tokens:
                tid = vocab.get(token)
                if tid is None:
                    tid = vocab[token] = len(vocab)
                term_ids.append(tid)
        if not new_keys:
            return
        self._append(new_keys, lengths, term_ids)

    def _append(self, keys: list[int], lengths: list[int], term_ids: list[int]) -> None:
        n_docs, n_terms = len(keys), len(self._vocab)
        doc_len = np.asarray(lengths, np.int64)
        # (document, term) pairs -> frequencies, sorted by document then term
        pair = np.repeat(np.arange(n_docs, dtype=np.int64), doc_len) * n_terms + np.asarray(
            term_ids, np.int64
        )
        pair, tf = np.unique(pair, return_counts=True)
        doc, term = np.divmod(pair, n_terms) if n_terms else (pair, pair)
        first = self._n_slots
        slot = doc + first
        # slots
        end = first + n_docs
        self._slot_key = _grow(self._slot_key, end)
        self._slot_len = _grow(self._slot_len, end)
        self._slot_alive = _grow(self._slot_alive, end)
        self._slot_start = _grow(self._slot_start, end + 1)
        self._slot_key[first:end] = keys
        self._slot_len[first:end] = doc_len
        self._slot_alive[first:end] = True
        per_doc = np.bincount(doc, minlength=n_docs)
        self._slot_start[first + 1 : end + 1] = self._n_postings + np.cumsum(per_doc)
        self._key_slot.update(zip(keys, range(first, end)))
        self._n_slots = end
        self._total_tokens += int(doc_len.sum())
        # postings
        p0, p1 = self._n_postings, self._n_postings + len(pair)
        self._p_term = _grow(self._p_term, p1)
        self._p_slot = _grow(self._p_slot, p1)
        self._p_tf = _grow(self._p_tf, p1)
        self._p_term[p0:p1] = term
        self._p_slot[p0:p1] = slot
        self._p_tf[p0:p1] = tf
        self._n_postings = p1
        self._df = _grow(self._df, n_terms)
        self._df[:n_terms] += np.bincount(term, minlength=n_terms)

    def remove(self, keys: np.ndarray | Sequence[int]) -> None:
        """Unindex ``keys``; keys that are not indexed are ignored.

        Example
        -------
        >>> index = BM25Index()
        >>> index.add(np.array([1, 2]), ['a b', 'b c'])
        >>> index.remove(np.array([1, 99]))
        >>> index.search('a b', limit=5)[0].tolist()
        [2]
        """
        pop = self._key_slot.pop
        found = [pop(k, None) for k in np.asarray(keys, dtype=np.int64).reshape(-1).tolist()]
        found = [s for s in found if s is not None]
        if not found:
            return
        slots = np.asarray(found, np.int64)
        self._slot_alive[slots] = False
        self._total_tokens -= int(self._slot_len[slots].sum())
        positions = _ranges(self._slot_start[slots], self._slot_start[slots + 1])
        np.subtract.at(self._df, self._p_term[positions], 1)
        self._dead_postings += len(positions)

    # ---------------------------------------------------------------- maintenance

    def _compact(self) -> None:
        """Drop removed documents and their postings, renumbering the slots."""
        n_slots, n_post = self._n_slots, self._n_postings
        alive = self._slot_alive[:n_slots]
        new_slot = np.cumsum(alive) - 1
        keep = alive[self._p_slot[:n_post]]
        term = self._p_term[:n_post][keep]
        slot = new_slot[self._p_slot[:n_post][keep]]
        tf = self._p_tf[:n_post][keep]
        keys = self._slot_key[:n_slots][alive]
        lengths = self._slot_len[:n_slots][alive]
        n = len(keys)
        self._n_slots = n
        self._slot_key, self._slot_len = keys.copy(), lengths.copy()
        self._slot_alive = np.ones(n, bool)
        self._slot_start = np.zeros(n + 1, np.int64)
        np.cumsum(np.bincount(slot, minlength=n), out=self._slot_start[1:])
        self._key_slot = dict(zip(keys.tolist(), range(n)))
        self._p_term, self._p_slot, self._p_tf = term, slot, tf
        self._n_postings = len(term)
        self._dead_postings = 0
        self._n_sorted = 0

    def prepare(self) -> None:
        """Do now the upkeep a search would do first (compacting, sorting the postings by
        term), so that the next search pays none of it.

        >>> index = BM25Index()
        >>> index.add(np.arange(2), ['red fox', 'blue fox'])
        >>> index.prepare()
        >>> index.search('fox', limit=5)[0].tolist()
        [0, 1]
        """
        self._prepare()

    def _prepare(self) -> None:
        """Compact when half the postings are dead; index by term when the tail grows."""
        compacted = self._dead_postings * 2 > self._n_postings
        if compacted:
            self._compact()
        tail = self._n_postings - self._n_sorted
        if compacted or tail > max(_MIN_UNSORTED, self._n_sorted // 4):
            n = self._n_postings
            terms = self._p_term[:n]
            self._by_term = np.argsort(terms, kind="stable")
            counts = np.bincount(terms, minlength=len(self._vocab))
            self._term_start = np.zeros(len(counts) + 1, np.int64)
            np.cumsum(counts, out=self._term_start[1:])
            self._n_sorted = n

    # ---------------------------------------------------------------- search

    def search(
        self,
        query: str,
        limit: int,
        allowed: np.ndarray | None = None,
        key_space: int | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """The ``limit`` best documents for ``query``, best first.

        Parameters
        ----------
        query:
            Free text; its distinct tokens are OR-ed (see :func:`fts_match_expression`).
        limit:
            The most results to return.
        allowed:
            Optional boolean mask indexed by key: only keys ``k`` with ``allowed[k]`` True may
            be returned (keys beyond its end, or negative, may not).
        key_space:
            Optional bound: only keys below it may be returned.

        Returns
        -------
        tuple[numpy.ndarray, numpy.ndarray]
            The keys (int64) and their BM25 scores (float64, FTS5's ``-bm25()``: higher is
            better), sorted by score, ties by smaller key. Documents holding none of the
            query's terms are never returned.

        Example
        -------
        >>> index = BM25Index()
        >>> index.add(np.arange(4), ['a a b', 'a', 'b', 'c'])
        >>> keys, scores = index.search('a', limit=10)
        >>> keys.tolist()  # 'a' alone is the shorter document
        [1, 0]
        >>> index.search('a b', limit=10, allowed=np.array([False, True, True]))[0].tolist()
        [1, 2]
        """
        empty = np.zeros(0, np.int64), np.zeros(0, np.float64)
        n_docs = len(self._key_slot)
        if limit <= 0 or n_docs == 0:
            return empty
        vocab = self._vocab
        term_ids = [vocab[t] for t in _query_terms(query) if t in vocab]
        term_ids = [t for t in term_ids if self._df[t] > 0]
        if not term_ids:
            return empty
        self._prepare()
        slots, tfs, idfs = self._postings(term_ids, n_docs)
        # per posting, exactly FTS5's arithmetic; bincount sums each document's terms in query
        # order, starting from 0.0, as FTS5's loop over phrases does
        avgdl = self._total_tokens / n_docs
        doc_len = self._slot_len[slots].astype(np.float64)
        tf = tfs.astype(np.float64)
        contrib = idfs * ((tf * (K1 + 1.0)) / (tf + K1 * ((1 - B) + B * doc_len / avgdl)))
        if len(slots) * _DENSE > self._n_slots:
            # many postings: sum into every slot (no sort); each slot's terms are still added
            # in query order, and a match scores > 0 (an IDF is at least IDF_FLOOR)
            dense = np.bincount(slots, weights=contrib, minlength=self._n_slots)
            uniq = np.flatnonzero(dense)
            scores = dense[uniq]
        else:
            uniq, inverse = np.unique(slots, return_inverse=True)
            scores = np.bincount(inverse, weights=contrib, minlength=len(uniq))
        keys = self._slot_key[uniq]
        ok = self._allowed(keys, allowed, key_space)
        if ok is not None:
            keys, scores = keys[ok], scores[ok]
        return _top(keys, scores, limit)

    def _postings(
        self, term_ids: list[int], n_docs: int
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The live postings of ``term_ids`` (slots, frequencies, IDFs), term after term."""
        n_sorted, n_post = self._n_sorted, self._n_postings
        tail_pos = np.zeros(0, np.int64)
        if n_post > n_sorted:
            tail_terms = self._p_term[n_sorted:n_post]
            tail_pos = np.flatnonzero(np.isin(tail_terms, term_ids)) + n_sorted
        tail_terms_sel = self._p_term[tail_pos]
        alive = self._slot_alive
        parts: list[np.ndarray] = []
        idf_parts: list[np.ndarray] = []
        n_indexed_terms = len(self._term_start) - 1
        for t in term_ids:
            if t < n_indexed_terms:
                pos = self._by_term[self._term_start[t] : self._term_start[t + 1]]
            else:  # a term first seen after the last sort: only in the tail
                pos = np.zeros(0, np.int64)
            if len(tail_pos):
                pos = np.concatenate([pos, tail_pos[tail_terms_sel == t]])
            pos = pos[alive[self._p_slot[pos]]]
            hits = int(self._df[t])
            idf = math.log((n_docs - hits + 0.5) / (hits + 0.5))
            if idf <= 0.0:
                idf = IDF_FLOOR
            parts.append(pos)
            idf_parts.append(np.full(len(pos), idf))
        pos = np.concatenate(parts)
        return self._p_slot[pos], self._p_tf[pos], np.concatenate(idf_parts)

    @staticmethod
    def _allowed(keys: np.ndarray, allowed: np.ndarray | None, key_space: int | None) -> Any:
        ok = None
        if allowed is not None:
            allowed = np.asarray(allowed, dtype=bool).reshape(-1)
            inside = (keys >= 0) & (keys < len(allowed))
            ok = inside.copy()
            ok[inside] = allowed[keys[inside]]
        if key_space is not None:
            below = keys < key_space
            ok = below if ok is None else ok & below
        return ok


def _top(keys: np.ndarray, scores: np.ndarray, limit: int) -> tuple[np.ndarray, np.ndarray]:
    """The ``limit`` best (highest score, then smallest key), best first."""
    if len(keys) > limit:
        neg = -scores
        kth = np.partition(neg, limit - 1)[limit - 1]
        keep = neg <= kth  # every tie at the boundary stays a candidate
        keys, scores = keys[keep], scores[keep]
    order = np.lexsort((keys, -scores))[:limit]
    return keys[order].astype(np.int64), scores[order].astype(np.float64)

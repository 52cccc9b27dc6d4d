"""Sentence boundaries found in one vectorised pass, and the sentence chunker built on them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Optional

import numpy as np

from docstack.chunking._base import Chunk, Chunker, ChunkingError, chunks_from_spans, require

__all__ = ["SentenceChunker", "sentence_spans"]


_SPACE, _TERM, _CLOSE, _START, _OPEN = 1, 2, 4, 8, 16

# character classes of the 256 one-byte codes the text is mapped to (see _one_byte)
_TABLE = np.zeros(256, dtype=np.uint8)
for _c in " \t\n\r\f\v\xa0":
    _TABLE[ord(_c)] |= _SPACE
for _c in ".!?":
    _TABLE[ord(_c)] |= _TERM
for _c in "\"')]\xbb":
    _TABLE[ord(_c)] |= _CLOSE
for _c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789\"'([\xab" + "".join(
    chr(i) for i in range(0xC0, 0xDF) if i != 0xD7
):
    _TABLE[ord(_c)] |= _START
for _c in "\"'([\xab":
    _TABLE[ord(_c)] |= _OPEN

# characters beyond Latin-1 that the rules read, as the Latin-1 character standing in for them
_WIDE = {
    0x2026: "!",  # ellipsis ends a sentence (not a dot: no abbreviation check)
    0x3002: "!",
    0xFF01: "!",
    0xFF1F: "?",
    0x201D: ")",
    0x2019: ")",
    0x201C: "(",
    0x2018: "(",
    0x2028: " ",
    0x2029: " ",
    0x202F: " ",
    0x3000: " ",
    **{c: " " for c in range(0x2000, 0x200B)},
}
_WIDE_CODES = np.array(sorted(_WIDE), dtype=np.uint32)
_WIDE_BYTES = np.array([ord(_WIDE[c]) for c in sorted(_WIDE)], dtype=np.uint8)
_OTHER = 0x7F  # stands in for every other character beyond Latin-1

#: words ending in a dot that do not end a sentence when a capital follows
ABBREVIATIONS = frozenset(
    "mr. mrs. ms. dr. prof. sr. jr. st. vs. etc. e.g. i.e. cf. fig. no. vol. "
    "inc. ltd. co. jan. feb. mar. apr. jun. jul. aug. sep. oct. nov. dec. "
    "gen. gov. sen. rep. rev. lt. col. capt. mt. ft. u.s. u.k. a.m. p.m.".split()
)
_KEY_LEN = 6


def _keys(codes: np.ndarray, starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Each word's first ``_KEY_LEN`` characters, lower-cased, packed into one integer."""
    key = np.zeros(starts.size, dtype=np.uint64)
    for j in range(_KEY_LEN):
        c = codes[np.minimum(starts + j, codes.size - 1)].astype(np.uint64)
        c = np.where((c >= 65) & (c <= 90), c | np.uint64(32), c)
        key = key * np.uint64(256) + np.where(j < lengths, c, np.uint64(0))
    return key


def _abbreviation_keys() -> np.ndarray:
    words = [w for w in ABBREVIATIONS if len(w) <= _KEY_LEN]
    flat = np.frombuffer("".join(words).encode("ascii"), dtype=np.uint8)
    lengths = np.array([len(w) for w in words])
    starts = np.concatenate(([0], np.cumsum(lengths)[:-1]))
    return np.unique(_keys(flat, starts, lengths))


_ABBREV_KEYS = _abbreviation_keys()
_EMPTY = np.zeros(0, np.int64)
_SEPARATOR = "\n\n"


def _one_byte(text: str) -> np.ndarray:
    """One byte per character (positions are character offsets): Latin-1 as itself, the
    characters of ``_WIDE`` as their stand-ins, any other as ``_OTHER``."""
    if text.isascii():
        return np.frombuffer(text.encode("ascii"), dtype=np.uint8)
    # UTF-32 (one code unit per character) costs about as little as UTF-16 from any string
    codes = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    wide = np.flatnonzero(codes > 255)
    out = codes.astype(np.uint8)
    if wide.size:
        values = codes[wide].astype(np.uint32)
        hit = np.minimum(np.searchsorted(_WIDE_CODES, values), _WIDE_CODES.size - 1)
        out[wide] = np.where(_WIDE_CODES[hit] == values, _WIDE_BYTES[hit], _OTHER)
    return out


def _short_word_starts(space: np.ndarray, ends: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Where the words ending before ``ends`` start, for words of at most ``_KEY_LEN + 1``
    characters (``short``); longer words are not looked at."""
    start = np.zeros(ends.size, dtype=np.int64)
    short = np.zeros(ends.size, dtype=bool)
    for back in range(1, _KEY_LEN + 3):
        at = ends - back
        hit = ~short & ((at < 0) | space[np.maximum(at, 0)])
        start[hit] = at[hit] + 1
        short |= hit
    return start, short


class _Runs:
    """Where runs of whitespace begin and end, for positions in whitespace; the common case
    (a run of one character) is read directly, the rest from the run boundaries, which are
    found only when some position needs them."""

    def __init__(self, space: np.ndarray) -> None:
        self.space = space
        self._flips: Optional[np.ndarray] = None

    def _boundaries(self) -> np.ndarray:
        if self._flips is None:
            self._flips = np.flatnonzero(self.space[1:] != self.space[:-1]) + 1
        return self._flips

    def next_run(self, p: np.ndarray) -> np.ndarray:
        """The first position after the whitespace run holding each position."""
        out = p + 1
        n = self.space.size
        far = np.flatnonzero(self.space[np.minimum(out, n - 1)] & (out < n))
        if far.size:
            flips = self._boundaries()
            bounds = np.append(flips, n)
            out[far] = bounds[np.searchsorted(flips, p[far], side="right")]
        return out

    def run_start(self, p: np.ndarray) -> np.ndarray:
        """The first position of the whitespace run holding each position."""
        out = p.copy()
        far = np.flatnonzero((p > 0) & self.space[np.maximum(p - 1, 0)])
        if far.size:
            flips = self._boundaries()
            at = np.searchsorted(flips, p[far], side="right") - 1
            out[far] = np.where(at >= 0, flips[np.maximum(at, 0)], 0)
        return out


def _fast_spans(text: str) -> tuple[np.ndarray, np.ndarray]:
    codes = _one_byte(text)
    n = codes.size
    space = (codes == 32) | ((codes >= 9) & (codes <= 13)) | (codes == 0xA0)
    first = int(np.argmax(~space))
    if space[first]:  # nothing but whitespace
        return _EMPTY, _EMPTY
    last = n - int(np.argmax(~space[::-1]))
    runs = _Runs(space)
    next_run, run_start = runs.next_run, runs.run_start

    # a sentence ends at a terminator, then up to two closing quotes/brackets, then a space
    term = np.flatnonzero((codes == 46) | (codes == 33) | (codes == 63))
    term = term[term < last - 1]
    after = term + 1
    for _ in range(2):
        closing = (_TABLE[codes[after]] & _CLOSE) != 0
        after = np.where(closing & (after < last - 1), after + 1, after)
    # (positions after distinct terminators differ: only closers lie between them)
    ends = after[space[after]]
    # the next sentence starts after the run of whitespace (mostly one character long)
    starts = ends + 1
    longer = np.flatnonzero(space[starts])
    if longer.size:
        starts[longer] = next_run(starts[longer])
    # ... when it starts with a capital, a digit or an opening quote
    keep = (_TABLE[codes[starts]] & _START) != 0
    other = np.flatnonzero(codes[starts] == _OTHER)
    if other.size:
        keep[other] = [text[i].isupper() for i in starts[other].tolist()]
    ends, starts = ends[keep], starts[keep]

    # a short word ending in a dot may be an abbreviation or an initial ("Dr.", "J.")
    dotted = np.flatnonzero(codes[ends - 1] == 46)
    if dotted.size:
        word, short = _short_word_starts(space, ends[dotted])
        dotted, word = dotted[short], word[short]
        word += (_TABLE[codes[word]] & _OPEN) != 0
        length = ends[dotted] - word
        initial = (length == 2) & (codes[word] >= 65) & (codes[word] <= 90)
        keys = _keys(codes, word, length)
        at = np.minimum(np.searchsorted(_ABBREV_KEYS, keys), _ABBREV_KEYS.size - 1)
        known = (length <= _KEY_LEN) & (_ABBREV_KEYS[at] == keys)
        keep = np.ones(ends.size, dtype=bool)
        keep[dotted[initial | known]] = False
        ends, starts = ends[keep], starts[keep]

    # a blank line always ends a sentence: two newlines in one run of whitespace
    newlines = np.flatnonzero(codes == 10)
    if newlines.size > 1:
        pair = newlines[:-1]
        gap = newlines[1:] - pair
        # adjacent newlines, or whitespace only between them
        maybe = np.flatnonzero((gap > 1) & space[np.minimum(pair + 1, n - 1)])
        blank_pair = gap == 1
        blank_pair[maybe] = next_run(pair[maybe]) > newlines[1:][maybe]
        blank = pair[blank_pair]
        blank = blank[(blank > first) & (blank < last)]
        if blank.size:
            ends = np.concatenate((ends, run_start(blank)))
            starts = np.concatenate((starts, next_run(blank)))
            starts, at = np.unique(starts, return_index=True)
            ends = ends[at]
    sent_starts = np.concatenate(([first], starts)).astype(np.int64)
    sent_ends = np.concatenate((ends, [last])).astype(np.int64)
    return sent_starts, sent_ends


_PYSBD: dict[str, object] = {}


def _pysbd_spans(text: str, language: str) -> tuple[np.ndarray, np.ndarray]:
    segmenter = _PYSBD.get(language)
    if segmenter is None:
        pysbd = require("pysbd", "pysbd")
        segmenter = _PYSBD[language] = pysbd.Segmenter(
            language=language, clean=False, char_span=True
        )
    starts, ends = [], []
    for span in segmenter.segment(text):  # type: ignore[attr-defined]
        piece = span.sent
        lead = len(piece) - len(piece.lstrip())
        trail = len(piece.rstrip())
        if trail > lead:
            starts.append(span.start + lead)
            ends.append(span.start + trail)
    return np.asarray(starts, dtype=np.int64), np.asarray(ends, dtype=np.int64)


def sentence_spans(
    text: str, engine: str = "fast", language: str = "en"
) -> tuple[np.ndarray, np.ndarray]:
    """The ``[start, end)`` character spans of the sentences of ``text``, without whitespace.

    Parameters
    ----------
    text:
        The text to split.
    engine:
        ``'fast'`` (default): rules applied to the whole text at once with numpy (a
        terminator ``.!?…`` and optional closing quotes, whitespace, then a capital, a digit
        or an opening quote; common abbreviations and initials do not end sentences; a blank
        line always does). ``'pysbd'``: the rule-based segmenter ``pysbd`` (many languages
        and edge cases, about 200 times slower).
    language:
        The ISO code of the language for ``'pysbd'``.

    Returns
    -------
    ``(starts, ends)``, two int64 arrays.

    Example
    -------
    >>> text = 'Dr. Smith went home. It rained!  "Why?" she asked.'
    >>> starts, ends = sentence_spans(text)
    >>> [text[s:e] for s, e in zip(starts, ends)]
    ['Dr. Smith went home.', 'It rained!', '"Why?" she asked.']
    """
    if not text:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    if engine == "fast":
        return _fast_spans(text)
    if engine == "pysbd":
        return _pysbd_spans(text, language)
    raise ChunkingError(f"engine must be 'fast' or 'pysbd', got {engine!r}")


def group_spans(
    starts: np.ndarray, ends: np.ndarray, count: int, overlap: int, size: Optional[int]
) -> tuple[np.ndarray, np.ndarray]:
    """Merge consecutive unit spans into chunks of ``count`` units (``overlap`` shared), or
    as many whole units as fit in ``size`` characters when ``size`` is given.

    >>> s, e = group_spans(np.array([0, 5, 10]), np.array([4, 9, 14]), 2, 1, None)
    >>> s.tolist(), e.tolist()
    ([0, 5], [9, 14])
    >>> s, e = group_spans(np.array([0, 5, 10]), np.array([4, 9, 14]), 1, 0, 9)
    >>> s.tolist(), e.tolist()
    ([0, 10], [9, 14])
    """
    n = starts.size
    if n == 0:
        return starts, ends
    if size is None:
        step = count - overlap
        first = np.arange(0, max(n - overlap, 1), step)
        last = np.minimum(first + count, n) - 1
        return starts[first], ends[last]
    firsts, lasts = [], []
    i = 0
    while i < n:
        # the furthest unit j whose end stays within size of unit i's start (at least i)
        j = max(int(np.searchsorted(ends, starts[i] + size, side="right")) - 1, i)
        firsts.append(i)
        lasts.append(j)
        if j + 1 >= n:
            break
        i = max(j + 1 - overlap, i + 1)
    return starts[firsts], ends[lasts]


class SentenceChunker(Chunker):
    """One chunk per sentence, or per group of sentences.

    Parameters
    ----------
    sentences:
        How many sentences make one chunk (default 1).
    overlap:
        How many sentences consecutive chunks share (smaller than ``sentences``).
    size:
        When given, pack as many whole sentences as fit in ``size`` characters into each
        chunk instead (a sentence longer than ``size`` is a chunk of its own).
    engine, language:
        The sentence splitter (see :func:`sentence_spans`).
    repair:
        Fix mojibake with ``ftfy`` first (offsets refer to the repaired text).

    Example
    -------
    >>> chunker = SentenceChunker()
    >>> [c.text for c in chunker.split('One here. Two there.\\n\\nthree')]
    ['One here.', 'Two there.', 'three']
    >>> [c.text for c in SentenceChunker(sentences=2, overlap=1).split('Go. Run. Stop.')]
    ['Go. Run.', 'Run. Stop.']
    """

    def __init__(
        self,
        sentences: int = 1,
        overlap: int = 0,
        *,
        size: Optional[int] = None,
        engine: str = "fast",
        language: str = "en",
        repair: bool = False,
    ) -> None:
        super().__init__(repair=repair)
        if int(sentences) < 1:
            raise ChunkingError(f"sentences must be at least 1, got {sentences}")
        if not 0 <= int(overlap) < int(sentences) and size is None:
            raise ChunkingError(
                f"overlap ({overlap} sentences) must be >= 0 and smaller than sentences "
                f"({sentences})"
            )
        if size is not None and int(size) < 1:
            raise ChunkingError(f"size must be at least 1 character, got {size}")
        if engine not in ("fast", "pysbd"):
            raise ChunkingError(f"engine must be 'fast' or 'pysbd', got {engine!r}")
        self.sentences, self.overlap = int(sentences), int(overlap)
        self.size = None if size is None else int(size)
        self.engine, self.language = engine, language

    def spans(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        """The chunks' ``(starts, ends)`` arrays for an already prepared text.

        >>> s, e = SentenceChunker().spans('Hi. Bye.')
        >>> s.tolist(), e.tolist()
        ([0, 4], [3, 8])
        """
        starts, ends = sentence_spans(text, self.engine, self.language)
        if self.sentences == 1 and self.size is None:
            return starts, ends
        return group_spans(starts, ends, self.sentences, self.overlap, self.size)

    def _split(self, text: str) -> list[Chunk]:
        return chunks_from_spans(text, *self.spans(text))

    def split_prepared_batch(self, texts: Sequence[str]) -> list[list[Chunk]]:
        """Chunk many texts with one pass of the sentence rules over all of them.

        The texts are joined with blank lines (which always end a sentence), split once,
        and the sentences handed back to their texts.

        >>> [[c.text for c in cs] for cs in SentenceChunker().split_prepared_batch(['A b. C d.', 'E.'])]
        [['A b.', 'C d.'], ['E.']]
        """
        if self.engine != "fast" or len(texts) < 2:
            return super().split_prepared_batch(texts)
        joined = _SEPARATOR.join(texts)
        starts, ends = sentence_spans(joined)
        lengths = np.fromiter(map(len, texts), dtype=np.int64, count=len(texts))
        offsets = np.concatenate(([0], np.cumsum(lengths + len(_SEPARATOR))[:-1]))
        # which text each sentence lies in, and where each text's sentences begin
        bounds = np.searchsorted(starts, offsets)
        bounds = np.append(bounds, starts.size)
        out = []
        for i, text in enumerate(texts):
            lo, hi = bounds[i], bounds[i + 1]
            s, e = starts[lo:hi] - offsets[i], ends[lo:hi] - offsets[i]
            if (self.sentences > 1 or self.size is not None) and s.size:
                s, e = group_spans(s, e, self.sentences, self.overlap, self.size)
            out.append(chunks_from_spans(text, s, e))
        return out

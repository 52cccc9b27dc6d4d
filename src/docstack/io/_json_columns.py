"""The column-wise JSON reader: ``from_json`` of an array without a Python float per number.

Reading JSON through pydantic makes one Python ``float`` per tensor element and then an
array of them, which is most of the time ``from_json`` takes for embeddings. This reader
parses the text with simdjson (``pysimdjson``), copies each tensor straight from the parse
tape into a buffer, stacks the rows of a tensor field into one array and builds the
documents the way the binary reader does (:func:`docstack.io._binary.build_docs`). Long
text is parsed in pieces of about 1 MB, cut between documents, with one parser: a single
parse of the whole text would take about twice its size in fresh memory, and on 260 MB of
embeddings that memory cost as much time as the parse itself.

It is a fast path, not a second meaning: it takes a payload only when it gives exactly
what pydantic's reading gives, and otherwise answers ``None`` so that the caller reads
the text through pydantic, which also writes the error messages. It answers ``None`` for

* a class it does not cover: a field that is not a tensor or one of ``str``, ``int``,
  ``float``, ``bool`` (or docstack's ``str`` types such as ``ID``), optionally ``Optional``;
  custom validators, aliases, strict mode or forbidden extra keys;
* text pydantic may read differently or refuse: not an array of objects, a key repeated
  in an object, a value of another JSON type than the field's (an integer for a ``str``,
  ``1.0`` for an ``int``, ``null`` for a field that is not ``Optional``), a tensor that is
  nested (more than one dimension), starts with an integer and holds a float, or holds a
  boolean; a field given in some documents and left out in others; ``NaN``/``Infinity``
  constants, invalid UTF-8 or surrogates (simdjson refuses them); a leading byte order
  mark, or an object nested more than 64 levels deep under a key the class does not have
  (simdjson takes both, pydantic refuses them);
* values the field's validation refuses.

Tensors come back as pydantic makes them from a list of numbers: ``float64`` when the first
element is a float, ``int64`` when every element is an integer.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from typing import Annotated, Any, Optional

import numpy as np
from pydantic import TypeAdapter, ValidationError

from docstack._internal.fields import FieldKind, doc_fields, is_docstack_str, unwrap_optional
from docstack.errors import DocstackError
from docstack.io import _binary

try:  # pysimdjson is a dependency; a platform without it reads through pydantic
    import simdjson
except ImportError:  # pragma: no cover - installed everywhere docstack's tests run
    simdjson = None

__all__ = ["read_block", "build"]

_MISSING = object()  # a key the object does not have

_SCALARS: dict[Any, tuple[type, ...]] = {
    str: (str,),
    int: (int,),
    float: (float, int),
    bool: (bool,),
}


@dataclass(frozen=True)
class _Field:
    name: str
    kind: FieldKind
    allowed: tuple[type, ...]  # the Python types of the JSON values a scalar field takes
    adapter: Optional[TypeAdapter]  # validates a scalar column (list[annotation])
    info: Any


def _scalar_types(inner: Any) -> Optional[tuple[type, ...]]:
    if inner in _SCALARS:
        return _SCALARS[inner]
    return (str,) if is_docstack_str(inner) else None


@cache
def _plan(doc_cls: type) -> Optional[tuple[_Field, ...]]:
    """The fields of ``doc_cls`` as this reader reads them, or ``None`` when it cannot."""
    config = doc_cls.model_config
    if config.get("extra") in ("forbid", "allow") or config.get("strict"):
        return None
    if _binary._has_validators(doc_cls) or doc_cls.__pydantic_decorators__.model_serializers:
        return None
    fields = []
    for name, kind in doc_fields(doc_cls).items():
        info = doc_cls.model_fields[name]
        if info.alias or info.validation_alias:
            return None
        if kind.kind == "tensor":
            if info.metadata:
                return None
            fields.append(_Field(name, kind, (), None, info))
            continue
        if kind.kind != "other":
            return None
        inner, _ = unwrap_optional(info.annotation)
        allowed = _scalar_types(inner)
        if allowed is None:
            return None
        if kind.optional:
            allowed = (*allowed, type(None))
        tp: Any = info.annotation
        if info.metadata:
            tp = Annotated[(tp, *info.metadata)]  # type: ignore[valid-type]
        fields.append(_Field(name, kind, allowed, TypeAdapter(list[tp]), info))  # type: ignore[valid-type]
    return tuple(fields)


# text is parsed in pieces of about this many characters: one parser's buffers serve them
# all, where one parse of the whole text would take about twice its size in fresh memory
_PIECE_CHARS = 1 << 20


@dataclass
class _TensorRows:
    """A tensor field's rows gathered so far: each present row's numbers as bytes."""

    buffers: list[bytes] = field(default_factory=list)
    lengths: list[int] = field(default_factory=list)
    present: list[bool] = field(default_factory=list)
    code: str = ""  # "d" (float rows) or "i" (integer rows) once a non-empty row is seen


@dataclass
class _Gathered:
    """The columns of the pieces read so far."""

    plan: tuple[_Field, ...]
    n: int = 0
    # whether each field is given (in every document) or left out (in every one); None
    # until a piece with documents decides
    given: list[Optional[bool]] = field(init=False)
    scalars: list[list[Any]] = field(init=False)
    tensors: list[_TensorRows] = field(init=False)

    def __post_init__(self) -> None:
        self.given = [None] * len(self.plan)
        self.scalars = [[] for _ in self.plan]
        self.tensors = [_TensorRows() for _ in self.plan]


def _gather_rows(rows: _TensorRows, values: list[Any]) -> int:
    """Append a piece's rows (simdjson arrays, or ``None``) to ``rows``: the number of
    present rows, or -1 where a row is not what this reader takes."""
    array_type = simdjson.Array
    buffers, lengths, present = rows.buffers, rows.lengths, rows.present
    count = 0
    for value in values:
        if value is None:
            present.append(False)
            continue
        if type(value) is not array_type:
            return -1
        m = len(value)
        if m:
            first = type(value[0])
            if first is float:
                code = "d"
            elif first is int:
                code = "i"
            else:  # nested, boolean, string or null elements
                return -1
            if rows.code != code:
                if rows.code:
                    return -1  # float rows and integer rows in one field
                rows.code = code
            try:
                buffers.append(value.as_buffer(of_type=code))
            except (TypeError, ValueError):  # a float after an integer, a bool, a string
                return -1
        lengths.append(m)
        present.append(True)
        count += 1
    return count


def _tensor_column(spec: _Field, rows: _TensorRows, n: int) -> Optional[_binary._Decoded]:
    """A tensor field's gathered rows as one decoded column."""
    lengths, present = rows.lengths, rows.present
    if rows.code == "i" and 0 in lengths:
        return None  # [] reads as float64 beside int64 rows
    dtype = np.dtype(np.int64 if rows.code == "i" else np.float64)
    flat = np.frombuffer(b"".join(rows.buffers), dtype=dtype)
    if flat.size != sum(lengths):
        return None  # an element was itself an array (as_buffer flattens those)
    mask = None if all(present) else np.array(present, dtype=bool)
    decoded = _binary._Decoded(spec.kind, n, mask=mask)
    if lengths and all(m == lengths[0] for m in lengths):
        decoded.dense = flat.reshape(len(lengths), lengths[0])
    else:
        # rows of different lengths: one array per document (None where absent)
        out: list[Any] = []
        start = 0
        it = iter(lengths)
        for p in present:
            if not p:
                out.append(None)
                continue
            m = next(it)
            out.append(flat[start : start + m])
            start += m
        decoded.rows = out
        decoded.mask = None
    return decoded


def _cuts(data: str | bytes, size: int) -> list[int]:
    """Where to cut the text of a JSON array into pieces of about ``size`` characters: the
    positions of the ``,`` of a ``},{"`` (what ``to_json`` writes between documents)."""
    n = len(data)
    sep: Any = '},{"' if isinstance(data, str) else b'},{"'
    cuts: list[int] = []
    pos = size
    while pos < n - size:
        found = data.find(sep, pos)
        if found < 0:
            break
        cuts.append(found + 1)
        pos = found + 1 + size
    return cuts


def _pieces(data: str | bytes, cuts: list[int]) -> Iterator[str | bytes]:
    """The text cut at ``cuts`` (see :func:`_cuts`), each piece a JSON array of its own.

    The first piece keeps the text's ``[`` and the last its ``]``; each cut ``,`` becomes
    ``]`` ending one piece and ``[`` opening the next. Where every piece parses, each cut
    was between two documents of the top-level array (a cut inside a string leaves a piece
    with an unterminated string, one inside a nested value a piece with unbalanced
    brackets), so the pieces hold exactly the text's documents, in order.
    """
    open_, close = ("[", "]") if isinstance(data, str) else (b"[", b"]")
    start = 0
    for cut in cuts:
        piece = data[start:cut] + close  # type: ignore[operator]
        yield piece if start == 0 else open_ + piece  # type: ignore[operator]
        start = cut + 1
    yield data if start == 0 else open_ + data[start:]  # type: ignore[operator]


_NOT_JSON = object()  # a piece simdjson refused


def read_block(
    doc_cls: type, data: str | bytes | bytearray, piece_chars: int = _PIECE_CHARS
) -> Optional[_binary._Block]:
    """The documents of a JSON array as a decoded block, or ``None`` to read with pydantic.

    Long text is parsed in pieces of about ``piece_chars`` characters (see :func:`_pieces`);
    where a piece does not parse, the whole text is parsed once more in one piece, so that
    only text simdjson refuses as a whole goes to pydantic for that reason.
    """
    if simdjson is None:
        return None
    plan = _plan(doc_cls)
    if plan is None:
        return None
    if isinstance(data, bytearray):
        data = bytes(data)
    if data[:1] == "\ufeff" or data[:3] == b"\xef\xbb\xbf":
        return None  # simdjson skips a byte order mark; pydantic refuses the text
    cuts = _cuts(data, piece_chars)
    gathered = _gather_text(plan, _pieces(data, cuts))
    if gathered is _NOT_JSON and cuts:
        gathered = _gather_text(plan, _pieces(data, []))
    if not isinstance(gathered, _Gathered):
        return None
    return _finish(doc_cls, gathered)


def _gather_text(plan: tuple[_Field, ...], pieces: Iterator[str | bytes]) -> Any:
    """The gathered columns of all pieces; ``None`` where a piece holds what this reader
    does not take, ``_NOT_JSON`` where simdjson refuses a piece."""
    parser = simdjson.Parser()
    gathered = _Gathered(plan)
    for piece in pieces:
        try:
            # a str is read in place (UTF-8 is what simdjson reads; a lone surrogate fails)
            root = parser.parse(piece)
        except (ValueError, RuntimeError, TypeError):
            return _NOT_JSON
        try:
            counts = _gather(gathered, root)
        finally:
            del root  # the parser may parse again only once no proxy refers to it
        if counts is None or not _flat_rows(piece, *counts):
            return None
    return gathered


def _flat_rows(data: str | bytes, rows: int, in_strings: int) -> bool:
    """Whether no tensor row held an array as an element.

    simdjson's ``as_buffer`` flattens nested arrays, and a row such as ``[1.0, [2.0], 3.0]``
    has as many numbers as elements, so the rows cannot tell. The text can: every ``[`` in
    it opens the top-level array, a tensor row (``rows`` of them), or sits in a string value
    (``in_strings`` of them; the only other places in a payload of covered fields, extra
    keys aside). A count that differs, or a ``[`` written as an escape in a string, leaves
    the payload to pydantic.
    """
    bracket: Any = "[" if isinstance(data, str) else b"["
    if data.count(bracket) != 1 + rows + in_strings:
        return False
    if in_strings:
        escapes = ("\\u005b", "\\u005B") if isinstance(data, str) else (b"\\u005b", b"\\u005B")
        return not any(e in data for e in escapes)
    return True


# objects under keys the class does not have are skipped, as pydantic skips them, but
# pydantic refuses text nested deeper than its parser's limit (about 200 levels; simdjson
# takes 1024): values nested deeper than this go to pydantic
_MAX_EXTRA_DEPTH = 64


def _plain_keys(root: Any, plan: tuple[_Field, ...]) -> bool:
    """Whether no object of ``root`` repeats a key or holds, under a key the class does
    not have, an object nested more than ``_MAX_EXTRA_DEPTH`` levels deep (arrays there
    are caught by :func:`_flat_rows`)."""
    names = {f.name for f in plan}
    for obj in root:
        keys = list(obj.keys())
        if len(set(keys)) != len(keys):
            return False  # an object with fewer fields than the class may repeat a key
        for key in keys:
            if key not in names and not _shallow(obj[key], _MAX_EXTRA_DEPTH):
                return False
    return True


def _shallow(value: Any, depth: int) -> bool:
    """Whether ``value`` (a simdjson proxy, or the dicts and lists it hands out for the
    values of an object) is nested at most ``depth`` levels deep."""
    if isinstance(value, (simdjson.Object, dict)):
        children: Any = value.values()
    elif isinstance(value, (simdjson.Array, list)):
        children = value
    else:
        return True
    if depth == 0:
        return False
    return all(_shallow(v, depth - 1) for v in children)


def _gather(gathered: _Gathered, root: Any) -> Optional[tuple[int, int]]:
    """Add one parsed piece's documents to ``gathered``: the number of tensor rows and of
    ``[`` in string values it held, or ``None`` where it holds what this reader does not
    take."""
    if type(root) is not simdjson.Array:
        return None
    plan = gathered.plan
    n = len(root)
    nkeys = len(plan)
    columns: list[list[Any]] = [[] for _ in plan]
    pairs = [(f.name, c.append) for f, c in zip(plan, columns)]
    object_type = simdjson.Object
    irregular = False  # an object with another number of keys than the class has fields
    try:
        for obj in root:
            if type(obj) is not object_type:
                return None
            if len(obj) != nkeys:
                if len(set(obj.keys())) != len(obj):
                    return None  # a repeated key: pydantic keeps the last, simdjson the first
                irregular = True
            get = obj.get
            for key, append in pairs:
                append(get(key, _MISSING))
        seen = [n - values.count(_MISSING) for values in columns]
        if (irregular or any(count != n for count in seen)) and not _plain_keys(root, plan):
            return None
    except (ValueError, RuntimeError, TypeError):
        return None
    if not n:
        return 0, 0
    rows = in_strings = 0
    for i, (f, count, values) in enumerate(zip(plan, seen, columns)):
        if count != n and count:
            return None  # given in some documents only: each document's fields_set differs
        given = count == n
        if gathered.given[i] is None:
            gathered.given[i] = given
        elif gathered.given[i] != given:
            return None  # given in the documents of one piece and not in another's
        if not given:
            continue
        if f.kind.kind == "tensor":
            present = _gather_rows(gathered.tensors[i], values)
            if present < 0:
                return None
            rows += present
        else:
            if not set(map(type, values)) <= set(f.allowed):
                return None
            in_strings += sum(v.count("[") for v in values if type(v) is str)
            gathered.scalars[i].extend(values)
    gathered.n += n
    return rows, in_strings


def _finish(doc_cls: type, gathered: _Gathered) -> Optional[_binary._Block]:
    """The decoded block of all gathered columns (``None`` where a column does not fit)."""
    n = gathered.n
    names_read: list[str] = []
    kinds: list[FieldKind] = []
    decoded: dict[str, _binary._Decoded] = {}
    defaults: dict[str, Any] = {}
    for i, f in enumerate(gathered.plan):
        if not gathered.given[i]:
            if f.info.is_required() and n:
                return None
            defaults[f.name] = f.info
            continue
        if f.kind.kind == "tensor":
            d = _tensor_column(f, gathered.tensors[i], n)
            if d is None:
                return None
        else:
            try:
                validated = f.adapter.validate_python(gathered.scalars[i])  # type: ignore[union-attr]
            except ValidationError:
                return None
            d = _binary._Decoded(f.kind, n, values=validated)
        names_read.append(f.name)
        kinds.append(f.kind)
        decoded[f.name] = d
    plan_ = _binary._Plan(doc_cls, names_read, kinds, [None] * len(names_read), defaults)
    return _binary._Block(plan_, n, decoded)


def build(cls: type, block: _binary._Block, tensor_type: Optional[type]) -> Optional[Any]:
    """A ``DocList``/``DocVec`` (``cls``) of the block, or ``None`` where a column does not
    fit its field (pydantic then reads the text and names the document)."""
    try:
        if getattr(cls, "_docstack_columnar", False):
            return cls._from_storage(_binary.build_storage(block, tensor_type))
        return cls(_binary.build_docs(block), validate_input_docs=False)
    except DocstackError:
        return None

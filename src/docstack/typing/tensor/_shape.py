"""Shape specifications of tensor types: ``NdArray[128]``, ``NdArray['batch', 3, 'x', 'x']``.

The rule, the same for every framework:

* an ``int`` is a dimension of exactly that size;
* a ``str`` is a named dimension of any size, and every dimension with the same name must have
  the same size within one tensor (``NdArray['x', 'x']`` accepts only square matrices);
* ``...`` (at most once) stands for any number of dimensions, of any size.

A tensor whose shape does not match is rejected with an error naming the expected and actual
shapes. docstack never reshapes silently: a ``(2, 64)`` array is not a valid ``NdArray[128]``.
"""

from __future__ import annotations

from typing import Any

__all__ = ["ShapeSpec", "parse_shape_spec", "check_shape", "format_spec"]

ShapeSpec = tuple[Any, ...]  # ints, strs and at most one Ellipsis


def parse_shape_spec(item: Any) -> ShapeSpec:
    """Turn the argument of ``Tensor[...]`` into a validated shape spec tuple.

    Example
    -------
    >>> parse_shape_spec(('batch', 3, ...))
    ('batch', 3, Ellipsis)
    >>> parse_shape_spec(128)
    (128,)
    """
    items = item if isinstance(item, tuple) else (item,)
    n_ellipsis = 0
    for dim in items:
        if dim is Ellipsis:
            n_ellipsis += 1
        elif isinstance(dim, bool) or not isinstance(dim, (int, str)):
            raise TypeError(
                f"a tensor shape accepts ints, names (str) and '...', got {dim!r} in {item!r}"
            )
        elif isinstance(dim, int) and dim < 0:
            raise TypeError(f"a tensor dimension must be >= 0, got {dim} in {item!r}")
        elif isinstance(dim, str) and not dim:
            raise TypeError(f"a named dimension must be a non-empty string, got {item!r}")
    if n_ellipsis > 1:
        raise TypeError(f"'...' may appear at most once in a tensor shape, got {item!r}")
    return tuple(items)


def format_spec(spec: ShapeSpec) -> str:
    """Human-readable form of a shape spec, e.g. ``('batch', 3, ...)``.

    Example
    -------
    >>> format_spec(('batch', 3, ...))
    "('batch', 3, ...)"
    """
    parts = ["..." if d is Ellipsis else repr(d) for d in spec]
    if len(parts) == 1:
        return f"({parts[0]},)"
    return "(" + ", ".join(parts) + ")"


def check_shape(shape: tuple[int, ...], spec: ShapeSpec) -> str | None:
    """Check ``shape`` against ``spec``; return ``None`` when it matches, else the reason.

    Example
    -------
    >>> check_shape((4, 3), ('n', 3)) is None
    True
    >>> check_shape((3, 4), ('x', 'x'))
    "expected shape ('x', 'x'), got (3, 4): dimension 'x' is 3 at axis 0 but 4 at axis 1"
    """
    if Ellipsis in spec:
        cut = spec.index(Ellipsis)
        head, tail = spec[:cut], spec[cut + 1 :]
        if len(shape) < len(head) + len(tail):
            return (
                f"expected shape {format_spec(spec)} (at least {len(head) + len(tail)} "
                f"dimensions), got {tuple(shape)}"
            )
        pairs = list(zip(head, shape[: len(head)], range(len(head))))
        offset = len(shape) - len(tail)
        pairs += list(zip(tail, shape[offset:], range(offset, len(shape))))
    else:
        if len(shape) != len(spec):
            return (
                f"expected shape {format_spec(spec)} ({len(spec)} dimension"
                f"{'s' if len(spec) != 1 else ''}), got {tuple(shape)}"
            )
        pairs = list(zip(spec, shape, range(len(shape))))
    named: dict[str, tuple[int, int]] = {}
    for want, got, axis in pairs:
        if isinstance(want, str):
            if want in named and named[want][0] != got:
                size, first_axis = named[want]
                return (
                    f"expected shape {format_spec(spec)}, got {tuple(shape)}: dimension "
                    f"{want!r} is {size} at axis {first_axis} but {got} at axis {axis}"
                )
            named.setdefault(want, (got, axis))
        elif want != got:
            return (
                f"expected shape {format_spec(spec)}, got {tuple(shape)}: axis {axis} "
                f"must be {want}, not {got}"
            )
    return None

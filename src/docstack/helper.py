"""File paths by glob pattern, and the access-path helpers of DocArray's ``docarray.helper``.

An *access path* names a (nested) field of a document class by its field names joined with
``__``: ``'image__url'`` is the ``url`` of the ``image`` field. The helpers here check such
paths against a schema and turn flat ``{path: value}`` dicts into nested dicts and back,
which is how CSV files and data frames (one column per path) map onto nested documents.

Example
-------
>>> from docstack.helper import _access_path_dict_to_nested_dict, _dict_to_access_paths
>>> nested = _access_path_dict_to_nested_dict({'image__url': 'a.png', 'title': 'A'})
>>> nested
{'image': {'url': 'a.png'}, 'title': 'A'}
>>> _dict_to_access_paths(nested)
{'image__url': 'a.png', 'title': 'A'}
"""

import glob
import os
import re
from collections.abc import Iterator, Sequence
from typing import Any, Optional, Union

from docstack._internal.fields import doc_fields

__all__ = ["get_paths"]

# a separator is the last two underscores of a run: field names never start with '_', so
# 'meta___lang' is the field 'meta_' and then 'lang'
_SEPARATOR = re.compile(r"__(?!_)")


def _split_access_path(access_path: str) -> list[str]:
    """The field names along ``access_path``; ``'a__b'`` -> ``['a', 'b']``."""
    return _SEPARATOR.split(access_path)


def _is_document_class(doc_type: Any) -> bool:
    return isinstance(doc_type, type) and getattr(doc_type, "__docstack_document__", False)


def _is_access_path_valid(doc_type: type, access_path: str) -> bool:
    """Whether ``access_path`` names a field of ``doc_type``, through nested documents.

    Each step but the last must be a nested document field or a ``DocList`` field (then the
    next step names a field of its document type). Keys inside dict fields are not fields:
    ``'meta__lang'`` is not a path of ``meta: dict``.

    Parameters
    ----------
    doc_type:
        A document class.
    access_path:
        Field names joined with ``__``.

    Returns
    -------
    bool
        Whether the path leads to a field.

    Raises
    ------
    TypeError
        If ``doc_type`` is not a document class or ``access_path`` is not a string.

    Example
    -------
    >>> from docstack.documents import ImageDoc
    >>> _is_access_path_valid(ImageDoc, 'url'), _is_access_path_valid(ImageDoc, 'url__x')
    (True, False)
    """
    if not _is_document_class(doc_type):
        raise TypeError(f"expected a document class, got {doc_type!r}")
    if not isinstance(access_path, str):
        raise TypeError(f"an access path is a string, got {type(access_path).__name__}")
    current: Optional[type] = doc_type
    for name in _split_access_path(access_path):
        if current is None:  # the previous step was a leaf
            return False
        kinds = doc_fields(getattr(current, "__docstack_view_of__", None) or current)
        kind = kinds.get(name)
        if kind is None:
            return False
        current = kind.doc_cls if kind.kind in ("doc", "doclist") else None
    return True


def _all_access_paths_valid(doc_type: type, access_paths: Sequence[str]) -> list[bool]:
    """:func:`_is_access_path_valid` for each of ``access_paths``, in order.

    Example
    -------
    >>> from docstack.documents import TextDoc
    >>> _all_access_paths_valid(TextDoc, ['text', 'title'])
    [True, False]
    """
    return [_is_access_path_valid(doc_type, path) for path in access_paths]


def _access_path_to_dict(access_path: str, value: Any) -> dict[str, Any]:
    """A nested dict that holds ``value`` at ``access_path``.

    Parameters
    ----------
    access_path:
        Field names joined with ``__``.
    value:
        The value of the innermost key.

    Returns
    -------
    dict
        One key per level.

    Raises
    ------
    ValueError
        If the path is empty.

    Example
    -------
    >>> _access_path_to_dict('image__url', 'img.png')
    {'image': {'url': 'img.png'}}
    """
    if not access_path:
        raise ValueError("an access path names at least one field; got ''")
    result: Any = value
    for name in reversed(_split_access_path(access_path)):
        result = {name: result}
    return result


def _is_none_like(value: Any) -> bool:
    """Whether ``value`` stands for a missing value in a table: ``None``, ``''`` or ``'None'``.

    Only strings and ``None`` qualify; arrays and tensors never do (and are never compared).

    Example
    -------
    >>> _is_none_like(''), _is_none_like('None'), _is_none_like(0)
    (True, True, False)
    """
    return value is None or (isinstance(value, str) and value in ("", "None"))


def _access_path_dict_to_nested_dict(access_path2val: dict[str, Any]) -> dict[str, Any]:
    """Turn a ``{access_path: value}`` dict into a nested dict.

    Paths that share a prefix share the nested dict. Values that stand for a missing cell
    of a table (``None``, ``''`` and ``'None'``) become ``None``.

    Parameters
    ----------
    access_path2val:
        A dict whose keys are access paths.

    Returns
    -------
    dict
        The nested dict, one level per field name.

    Example
    -------
    >>> _access_path_dict_to_nested_dict({'img__url': 'a.png', 'img__tensor': '', 'n': 1})
    {'img': {'url': 'a.png', 'tensor': None}, 'n': 1}
    """
    nested: dict[str, Any] = {}
    for access_path, value in access_path2val.items():
        field2val = _access_path_to_dict(access_path, None if _is_none_like(value) else value)
        _update_nested_dicts(to_update=nested, update_with=field2val)
    return nested


def _dict_to_access_paths(d: dict[Any, Any]) -> dict[str, Any]:
    """Flatten a nested dict into ``{access_path: value}``, the inverse of
    :func:`_access_path_dict_to_nested_dict`.

    Nested dicts are walked into; every other value is a leaf. An empty nested dict stays a
    leaf (``{'a': {}}`` keeps its key ``'a'``) so that nothing is lost.

    Parameters
    ----------
    d:
        A (nested) dict.

    Returns
    -------
    dict
        One key per leaf, its path joined with ``__``.

    Example
    -------
    >>> _dict_to_access_paths({'image': {'url': 'img.png', 'meta': {}}, 'title': 'A'})
    {'image__url': 'img.png', 'image__meta': {}, 'title': 'A'}
    """
    result: dict[str, Any] = {}
    for key, value in d.items():
        if isinstance(value, dict) and value:
            for sub_path, sub_value in _dict_to_access_paths(value).items():
                result[f"{key}__{sub_path}"] = sub_value
        else:
            result[key] = value
    return result


def _update_nested_dicts(to_update: dict[Any, Any], update_with: dict[Any, Any]) -> None:
    """Merge ``update_with`` into ``to_update`` in place, level by level.

    Where both hold a dict under a key, the two are merged; otherwise the value of
    ``update_with`` takes the key.

    Parameters
    ----------
    to_update:
        The dict to change.
    update_with:
        The dict to merge into it; it is not changed (its nested dicts may end up shared
        with ``to_update``).

    Example
    -------
    >>> d = {'image': {'tensor': None}, 'title': 'hello'}
    >>> _update_nested_dicts(d, {'image': {'url': 'some.png'}})
    >>> d
    {'image': {'tensor': None, 'url': 'some.png'}, 'title': 'hello'}
    """
    for key, value in update_with.items():
        current = to_update.get(key)
        if isinstance(current, dict) and isinstance(value, dict):
            _update_nested_dicts(current, value)
        else:
            to_update[key] = value


def _shallow_copy_doc(doc: Any) -> Any:
    """A new document holding the same field values as ``doc`` (see ``BaseDoc._shallow_copy``).

    Example
    -------
    >>> from docstack.documents import TextDoc
    >>> doc = TextDoc(text='hi')
    >>> twin = _shallow_copy_doc(doc)
    >>> twin == doc, twin is doc, twin.id == doc.id
    (True, False, True)
    """
    shallow_copy = getattr(type(doc), "_shallow_copy", None)
    if shallow_copy is None:
        raise TypeError(f"expected a document, got {type(doc).__name__}")
    return shallow_copy(doc)


def get_paths(
    patterns: Union[str, "os.PathLike[str]", Sequence[Union[str, "os.PathLike[str]"]]],
    recursive: bool = True,
    size: Optional[int] = None,
    exclude_regex: Optional[str] = None,
) -> Iterator[str]:
    """Yield the paths of the files that match shell-style glob ``patterns``.

    The patterns are expanded one after the other, lazily, in the order the file system
    lists entries (not sorted); a path matched by two patterns is yielded twice. A leading
    ``~`` is expanded to the home directory.

    Parameters
    ----------
    patterns:
        One pattern or a list of them: ``'*.jpg'``, ``['data/**/*.png', '~/*.txt']``.
    recursive:
        Whether ``**`` matches any number of directories (including none).
    size:
        Yield at most this many paths (``None``: all of them).
    exclude_regex:
        Leave out the paths this regular expression matches. As in DocArray it is matched
        at the start of the path (:func:`re.match`): ``'.*test'`` excludes every path that
        contains ``test``.

    Yields
    ------
    str
        One matching path per file (or directory, where the pattern matches one).

    Raises
    ------
    ValueError
        If ``exclude_regex`` is not a valid regular expression or ``size`` is negative.

    Example
    -------
    >>> import os, re, tempfile
    >>> from docstack.helper import get_paths
    >>> root = tempfile.mkdtemp()
    >>> for name in ('a.txt', 'b.txt', 'test_c.txt', 'd.png'):
    ...     open(os.path.join(root, name), 'w').close()
    >>> names = [os.path.basename(p) for p in get_paths(os.path.join(root, '*.txt'))]
    >>> sorted(names)
    ['a.txt', 'b.txt', 'test_c.txt']
    >>> no_tests = re.escape(os.path.join(root, 'test_'))  # files whose name starts with test_
    >>> kept = get_paths(os.path.join(root, '*.txt'), exclude_regex=no_tests)
    >>> sorted(os.path.basename(p) for p in kept)
    ['a.txt', 'b.txt']
    >>> len(list(get_paths(os.path.join(root, '*'), size=2)))
    2
    >>> import shutil; shutil.rmtree(root)
    """
    if isinstance(patterns, (str, os.PathLike)):
        patterns = [patterns]
    if size is not None and size < 0:
        raise ValueError(f"size must be None or at least 0, got {size}")
    excluded = None
    if exclude_regex:
        try:
            excluded = re.compile(exclude_regex)
        except re.error as exc:
            raise ValueError(f"`{exclude_regex}` is not a valid regex: {exc}") from None
    return _matching_paths(list(patterns), recursive, size, excluded)


def _matching_paths(
    patterns: list[Any], recursive: bool, size: Optional[int], excluded: Optional[re.Pattern]
) -> Iterator[str]:
    if size == 0:
        return
    count = 0
    for pattern in patterns:
        for path in glob.iglob(os.path.expanduser(os.fspath(pattern)), recursive=recursive):
            if excluded is not None and excluded.match(path):
                continue
            yield path
            count += 1
            if size is not None and count >= size:
                return

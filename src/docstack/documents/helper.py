"""Create document classes at run time: from field definitions, a ``TypedDict`` or example data.

These are DocArray's ``docarray.documents.helper`` functions. Each returns a new subclass
of :class:`~docstack.BaseDoc` (or of the document class given as ``__base__``).

Example
-------
>>> from docstack.documents.helper import create_doc
>>> Song = create_doc('Song', title=(str, ...), year=(int, 0))
>>> Song(title='Blue').year
0
"""

import sys
import typing
import warnings
from typing import Any, Callable, Optional, Union

from pydantic import ConfigDict, create_model
from pydantic.fields import FieldInfo

from docstack.base_doc import BaseDoc, BaseDocWithoutId

__all__ = ["create_doc", "create_doc_from_dict", "create_doc_from_typeddict"]

# wrappers a TypedDict may put around a key's type
_KEY_QUALIFIERS = frozenset({"Required", "NotRequired", "ReadOnly"})


def _check_base(base: Any) -> None:
    bases = base if isinstance(base, tuple) else (base,)
    for one in bases:
        if not (isinstance(one, type) and issubclass(one, BaseDocWithoutId)):
            raise ValueError(f"{one!r} is not a BaseDoc or its subclass")


def _caller_module(depth: int) -> str:
    try:
        return sys._getframe(depth + 1).f_globals.get("__name__", __name__)
    except ValueError:  # pragma: no cover - no such frame
        return __name__


def create_doc(
    __model_name: str,
    *,
    __config__: Optional[ConfigDict] = None,
    __base__: Union[type[BaseDocWithoutId], tuple[type[BaseDocWithoutId], ...]] = BaseDoc,
    __module__: Optional[str] = None,
    __validators__: Optional[dict[str, Callable[..., Any]]] = None,
    __cls_kwargs__: Optional[dict[str, Any]] = None,
    __slots__: Optional[tuple[str, ...]] = None,
    **field_definitions: Any,
) -> type[BaseDocWithoutId]:
    """Create a document class: :func:`pydantic.create_model` for documents.

    Parameters
    ----------
    __model_name:
        The name of the new class.
    __config__:
        Settings to add to the base's ``model_config``.
    __base__:
        The class to derive from: :class:`~docstack.BaseDoc` (the default) or any document
        class (a tuple of them for several bases).
    __module__:
        The module the class says it belongs to; by default the caller's module. To pickle
        the class, assign it to a module-level name equal to ``__model_name`` there.
    __validators__:
        Validators to add, by name (functions decorated with ``field_validator``...).
    __cls_kwargs__:
        Keyword arguments for the class creation.
    __slots__:
        Ignored, with a ``DeprecationWarning`` (pydantic no longer takes it).
    **field_definitions:
        The fields: ``name=(type, default)`` (``...`` as the default: required),
        ``name=type`` (required), or ``name=default`` for a value that is not a type (the
        field's type is the type of the default; a string is a default, not a forward
        reference: write ``name=('Later', ...)`` for that).

    Returns
    -------
    type
        The new document class.

    Raises
    ------
    ValueError
        If ``__base__`` is not a document class.

    Example
    -------
    >>> from typing import Optional
    >>> from docstack.documents import AudioDoc
    >>> from docstack.documents.helper import create_doc
    >>> from docstack.typing import AudioNdArray
    >>> MyAudio = create_doc(
    ...     'MyAudio', __base__=AudioDoc, title=(str, ...), tensor=(Optional[AudioNdArray], None)
    ... )
    >>> issubclass(MyAudio, AudioDoc), MyAudio(title='intro').title
    (True, 'intro')
    >>> Tagged = create_doc('Tagged', label='none', weight=1.0, size=int)
    >>> Tagged(size=3).label, Tagged(size=3).weight
    ('none', 1.0)
    >>> create_doc('Bad', __base__=dict)
    Traceback (most recent call last):
        ...
    ValueError: <class 'dict'> is not a BaseDoc or its subclass
    """
    _check_base(__base__)
    if __slots__ is not None:
        warnings.warn(
            "create_doc(__slots__=...) is ignored: pydantic models do not take __slots__",
            DeprecationWarning,
            stacklevel=2,
        )
    fields = {name: _field_definition(value) for name, value in field_definitions.items()}
    return create_model(
        __model_name,
        __config__=__config__,
        __base__=__base__,
        __module__=__module__ if __module__ is not None else _caller_module(1),
        __validators__=__validators__,
        __cls_kwargs__=__cls_kwargs__,
        **fields,
    )


def _is_type_form(value: Any) -> bool:
    """Whether ``value`` reads as a type (``int``, ``list[str]``, ``Optional[X]``, ``Any``)."""
    return (
        isinstance(value, (type, typing.TypeVar, typing.ForwardRef))
        or typing.get_origin(value) is not None
        or value is Any
    )


def _field_definition(value: Any) -> Any:
    """``(type, default)`` and bare types pass as they are; a bare value is a default whose
    type is its own (DocArray's ``name=default`` form), ``None`` one of type ``Any``."""
    if isinstance(value, tuple) or _is_type_form(value):
        return value
    if isinstance(value, FieldInfo):
        return (Any, value) if value.annotation is None else (value.annotation, value)
    return (Any if value is None else type(value), value)


def _strip_key_qualifiers(annotation: Any) -> tuple[Any, Optional[bool]]:
    """``Required[X]`` -> ``(X, True)``, ``NotRequired[X]`` -> ``(X, False)``, else ``None``."""
    required: Optional[bool] = None
    while True:
        origin = typing.get_origin(annotation)
        name = getattr(origin, "_name", None) or getattr(origin, "__name__", None)
        if origin is None or name not in _KEY_QUALIFIERS:
            return annotation, required
        if name != "ReadOnly":
            required = name == "Required"
        annotation = typing.get_args(annotation)[0]


def create_doc_from_typeddict(typeddict_cls: type, **kwargs: Any) -> type[BaseDocWithoutId]:
    """Create a document class with the keys of a ``TypedDict`` as its fields.

    Required keys become required fields; keys that are not required (``total=False``,
    ``NotRequired[...]``) become optional fields that default to ``None``. The class is named
    after the ``TypedDict``.

    Parameters
    ----------
    typeddict_cls:
        A ``TypedDict`` class (from :mod:`typing` or :mod:`typing_extensions`).
    **kwargs:
        Passed to :func:`create_doc`: ``__base__`` (a document class, :class:`~docstack.BaseDoc`
        by default), ``__config__``, ``__module__``, ``__validators__``, and further fields,
        which take precedence over the keys of the same name.

    Returns
    -------
    type
        The new document class.

    Raises
    ------
    ValueError
        If ``__base__`` is not a document class.
    TypeError
        If ``typeddict_cls`` is not a ``TypedDict``.

    Example
    -------
    >>> from typing import TypedDict
    >>> from docstack.documents import AudioDoc
    >>> from docstack.documents.helper import create_doc_from_typeddict
    >>> class Track(TypedDict):
    ...     title: str
    ...     rating: int
    >>> Doc = create_doc_from_typeddict(Track, __base__=AudioDoc)
    >>> issubclass(Doc, AudioDoc), Doc.__name__, Doc(title='a', rating=5).rating
    (True, 'Track', 5)
    """
    base = kwargs.setdefault("__base__", BaseDoc)
    _check_base(base)
    if not (isinstance(typeddict_cls, type) and typing.is_typeddict(typeddict_cls)):
        try:  # typing_extensions keeps its own TypedDict on older Pythons
            import typing_extensions

            is_td = typing_extensions.is_typeddict(typeddict_cls)
        except ImportError:  # pragma: no cover
            is_td = False
        if not is_td:
            raise TypeError(f"expected a TypedDict class, got {typeddict_cls!r}")
    hints = typing.get_type_hints(typeddict_cls, include_extras=True)
    required_keys = getattr(typeddict_cls, "__required_keys__", frozenset(hints))
    fields: dict[str, Any] = {}
    for name, hint in hints.items():
        annotation, required = _strip_key_qualifiers(hint)
        if required is None:
            required = name in required_keys
        fields[name] = (annotation, ...) if required else (Optional[annotation], None)
    extra = {k: v for k, v in kwargs.items() if not (k.startswith("__") and k.endswith("__"))}
    options = {k: v for k, v in kwargs.items() if k not in extra}
    fields.update(extra)
    options.setdefault("__module__", _caller_module(1))
    return create_doc(typeddict_cls.__name__, **options, **fields)


def _infer_type(value: Any) -> Any:
    """The field type that holds values like ``value``."""
    if value is None:
        return Any
    if isinstance(value, BaseDocWithoutId):
        return getattr(type(value), "__docstack_view_of__", None) or type(value)
    from docstack.typing.tensor._convert import framework_of

    framework = framework_of(value)
    if framework is not None:
        from docstack.typing.tensor._base import concrete_tensor_class

        return concrete_tensor_class("tensor", framework)
    return type(value)


def create_doc_from_dict(model_name: str, data_dict: dict[str, Any]) -> type[BaseDoc]:
    """Create a document class from example data: one required field per key, typed by its value.

    The type of each field is the type of its example value, with a few refinements: a
    ``None`` value gives a field of type ``Any``; a tensor (numpy, torch, TensorFlow, JAX)
    gives the docstack tensor type of its framework (``NdArray``, ``TorchTensor``, ...); a
    ``DocList`` gives ``DocList[ThatDoc]``. Unlike DocArray, other falsy values (``0``,
    ``''``, ``[]``) are typed by their type too, not as ``Any``. A key ``'id'`` replaces the
    default id field.

    Parameters
    ----------
    model_name:
        The name of the new class.
    data_dict:
        Field names and example values.

    Returns
    -------
    type
        The new :class:`~docstack.BaseDoc` subclass.

    Raises
    ------
    ValueError
        If ``data_dict`` is empty, or a key is not a valid field name.
    TypeError
        If ``data_dict`` is not a dict.

    Example
    -------
    >>> import numpy as np
    >>> from docstack.documents import ImageDoc
    >>> from docstack.documents.helper import create_doc_from_dict
    >>> Doc = create_doc_from_dict('Doc', {'image': ImageDoc(), 'author': 'me', 'vec': np.zeros(2)})
    >>> doc = Doc(image=ImageDoc(url='a.png'), author='you', vec=[1, 2])
    >>> doc.author, type(doc.vec).__name__
    ('you', 'ndarray')
    >>> create_doc_from_dict('Empty', {})
    Traceback (most recent call last):
        ...
    ValueError: `data_dict` should contain at least one item
    """
    if not isinstance(data_dict, dict):
        raise TypeError(f"data_dict must be a dict, got {type(data_dict).__name__}")
    if not data_dict:
        raise ValueError("`data_dict` should contain at least one item")
    fields: dict[str, Any] = {}
    for name, value in data_dict.items():
        if not isinstance(name, str) or not name.isidentifier() or name.startswith("_"):
            raise ValueError(
                f"{name!r} cannot be a field name: use identifiers that do not start with '_'"
            )
        fields[name] = (_infer_type(value), ...)
    return create_doc(model_name, __module__=_caller_module(1), **fields)

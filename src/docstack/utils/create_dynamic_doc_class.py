"""Rebuild a document class from its JSON schema.

A service that receives documents whose class it does not have (a gateway, a worker in
another code base) can rebuild the class from the schema the sender publishes:
``create_base_doc_from_schema(Doc.model_json_schema(), 'Doc')``. The rebuilt class reads
and writes the same JSON and protobuf as the original.

How the schema maps back to types:

* nested documents (``$ref`` to a definition with properties) become document classes,
  built once per definition and kept in ``cached_models`` by definition name; schemas that
  refer to themselves (``chunks: DocList[Self]``) are rebuilt too;
* an array of documents becomes ``DocList[...]``; other arrays ``list[...]`` (``set[...]``
  with ``uniqueItems``, ``tuple[...]`` with ``prefixItems``);
* docstack tensors (marked ``x-docstack-tensor``) become the tensor type of their framework
  with their shape (``NdArray[3]``, ``TorchTensor``, ``AnyTensor``; the modality of an
  ``ImageNdArray`` or an embedding is not in the schema, so it becomes the plain tensor
  type); a framework that is not installed gives ``AnyTensor``; DocArray's tensors (marked
  ``tensor/array shape``) become ``AnyTensor``;
* docstack URLs (``format: uri-reference``) become :class:`~docstack.typing.AnyUrl`; bytes
  (``format: base64url``) ``bytes``; dates, times, UUIDs and paths their Python types;
* an ``enum`` definition (a Python ``Enum`` in the original) becomes an ``Enum`` class of
  the same name and values, whose members equal their values where these are all strings
  (or all integers); an inline ``enum`` or ``const`` (a ``Literal`` in the original)
  becomes ``Literal[...]``; ``anyOf``/``oneOf`` a ``Union`` (with ``None``:
  ``Optional``); objects with ``additionalProperties`` ``dict[str, ...]``;
* length, range and pattern constraints of strings, numbers and lists are kept;
* titles, descriptions, examples and any other keys of a field stay in its schema.

A field that is neither required nor has a default in the schema defaults to ``None``. A
schema with an ``id`` property gives a :class:`~docstack.BaseDoc` (new documents get a
random id), one without a :class:`~docstack.BaseDocWithoutId`.
"""

import base64
import datetime
import enum
import pathlib
import types
import typing
import uuid
from collections.abc import Hashable
from typing import Annotated, Any, Literal, Optional, Union

from pydantic import ConfigDict, Field, create_model
from pydantic.fields import FieldInfo

from docstack.array.doc_list import DocList
from docstack.base_doc import BaseDoc, BaseDocWithoutId
from docstack.typing import AnyTensor, AnyUrl

__all__ = ["create_base_doc_from_schema", "create_pure_python_type_model"]

_TENSOR_KEY = "x-docstack-tensor"
_DOCARRAY_TENSOR_KEY = "tensor/array shape"

_SIMPLE_TYPES: dict[str, type] = {"string": str, "integer": int, "number": float, "boolean": bool}
_STRING_FORMATS: dict[str, type] = {
    "uri-reference": AnyUrl,
    "base64url": bytes,
    "binary": bytes,
    "date-time": datetime.datetime,
    "date": datetime.date,
    "time": datetime.time,
    "duration": datetime.timedelta,
    "uuid": uuid.UUID,
    "path": pathlib.Path,
}
# JSON schema constraint -> pydantic Field argument
_CONSTRAINTS = {
    "minLength": "min_length",
    "maxLength": "max_length",
    "pattern": "pattern",
    "minimum": "ge",
    "maximum": "le",
    "exclusiveMinimum": "gt",
    "exclusiveMaximum": "lt",
    "multipleOf": "multiple_of",
    "minItems": "min_length",
    "maxItems": "max_length",
}
# keys of a field's schema that the rebuilt type (or Field argument) writes back by itself
_FIELD_KEYS = frozenset(
    {
        "type",
        "anyOf",
        "oneOf",
        "allOf",
        "$ref",
        "items",
        "prefixItems",
        "additionalProperties",
        "properties",
        "required",
        "default",
        "enum",
        "const",
        "format",
        "title",
        "description",
        "examples",
        "deprecated",
        "uniqueItems",
        "discriminator",
        "$defs",
        "definitions",
        _TENSOR_KEY,
        _DOCARRAY_TENSOR_KEY,
        *_CONSTRAINTS,
    }
)
_MODEL_KEYS = frozenset(
    {
        "type",
        "properties",
        "required",
        "title",
        "description",
        "$defs",
        "definitions",
        "additionalProperties",
        "$ref",
        "$schema",
        "allOf",
        "anyOf",
    }
)
_FIELD_ARGS = ("title", "description", "examples", "deprecated")


def create_pure_python_type_model(model: type) -> type:
    """A subclass of the document class ``model`` with its name, docstring and fields.

    DocArray needed this step before :func:`create_base_doc_from_schema` because pydantic v1
    could not describe ``DocList`` fields. docstack's ``DocList`` fields are plain JSON
    arrays of documents in the schema already, so the copy keeps every field type as it
    is; its schema is the schema of ``model``.

    Parameters
    ----------
    model:
        A document class.

    Returns
    -------
    type
        The new subclass.

    Raises
    ------
    TypeError
        If ``model`` is not a document class.

    Example
    -------
    >>> from docstack import BaseDoc, DocList
    >>> from docstack.documents import TextDoc
    >>> class Page(BaseDoc):
    ...     '''A page of text.'''
    ...     texts: DocList[TextDoc]
    >>> Copy = create_pure_python_type_model(Page)
    >>> issubclass(Copy, Page), Copy.__name__, Copy.model_json_schema() == Page.model_json_schema()
    (True, 'Page', True)
    """
    if not (isinstance(model, type) and issubclass(model, BaseDocWithoutId)):
        raise TypeError(f"expected a document class, got {model!r}")
    return create_model(
        model.__name__, __base__=model, __doc__=model.__doc__, __module__=model.__module__
    )


def create_base_doc_from_schema(
    schema: dict[str, Any],
    base_doc_name: str,
    cached_models: Optional[dict[str, Any]] = None,
    definitions: Optional[dict[str, Any]] = None,
) -> type:
    """Build a document class from the JSON schema of another one.

    See the module documentation for how each part of the schema maps back to a type.
    ``schema`` is not changed.

    Parameters
    ----------
    schema:
        The JSON schema of a document class (``Doc.model_json_schema()``), as a dict.
    base_doc_name:
        The name of the new class. A schema that is only a reference to one of its
        definitions (pydantic writes a class that nests itself so) gives the class of that
        definition, named after it and kept under both names in ``cached_models``.
    cached_models:
        A dict of classes already built, by name; the classes built here (the nested
        ones under their definition names) are added to it, and a name found in it is
        reused, not rebuilt. Pass the same dict to rebuild several related schemas once.
    definitions:
        The definitions that ``$ref`` s point to; by default the schema's own ``$defs``.

    Returns
    -------
    type
        The new document class.

    Raises
    ------
    TypeError
        If ``schema`` is not a dict.
    ValueError
        If the schema does not describe an object, refers to a definition it lacks, or has
        a type this function does not know.

    Example
    -------
    >>> from typing import Optional
    >>> from docstack import BaseDoc, DocList
    >>> from docstack.typing import NdArray
    >>> class Chunk(BaseDoc):
    ...     text: str
    >>> class Page(BaseDoc):
    ...     title: str = 'untitled'
    ...     vector: Optional[NdArray[3]] = None
    ...     chunks: DocList[Chunk]
    >>> built = {}
    >>> Rebuilt = create_base_doc_from_schema(Page.model_json_schema(), 'Page', built)
    >>> sorted(built)
    ['Chunk', 'Page']
    >>> page = Rebuilt.from_json(Page(vector=[1, 2, 3], chunks=[Chunk(text='a')]).to_json())
    >>> page.title, page.vector.shape, page.chunks[0].text
    ('untitled', (3,), 'a')
    >>> Rebuilt(chunks=[], vector=[1, 2])
    Traceback (most recent call last):
        ...
    pydantic_core._pydantic_core.ValidationError: 1 validation error for Page
    ...
    """
    if not isinstance(schema, dict):
        raise TypeError(f"a JSON schema is a dict, got {type(schema).__name__}")
    if definitions is None:
        definitions = schema.get("$defs") or schema.get("definitions") or {}
    cache: dict[str, Any] = cached_models if cached_models is not None else {}
    if base_doc_name in cache:
        return cache[base_doc_name]
    if schema.get("type", "object") != "object":
        raise ValueError(f"a document schema describes an object, not {schema.get('type')!r}")
    reader = _SchemaReader(definitions, cache)
    before = dict(cache)
    try:
        if "properties" not in schema and "$ref" in schema:
            # a class that refers to itself is described by a reference to its definition
            model = reader.ref(schema["$ref"], base_doc_name)
            if not (isinstance(model, type) and issubclass(model, BaseDocWithoutId)):
                raise ValueError(f"{schema['$ref']!r} does not describe a document")
            cache[base_doc_name] = model
            return model
        return reader.model(schema, base_doc_name)
    except BaseException:
        # keep no half-built class (one may still hold a stand-in) in the caller's cache
        cache.clear()
        cache.update(before)
        raise


class _SchemaReader:
    """Turns the parts of one schema into types, building each nested document once."""

    def __init__(self, definitions: dict[str, Any], cache: dict[str, Any]) -> None:
        self.definitions = definitions
        self.cache = cache
        self.open: set[str] = set()  # definitions being built (for recursive schemas)
        self.placeholders: dict[str, type] = {}  # stand-ins for them, replaced when built
        self.made: list[type] = []
        self.enums: dict[str, Any] = {}

    # -- documents ---------------------------------------------------------------------------

    def ref(self, ref: str, field_name: str) -> Any:
        name = ref.rsplit("/", 1)[-1]
        if name in self.cache:
            return self.cache[name]
        target = self.definitions.get(name)
        if not isinstance(target, dict):
            raise ValueError(f"the schema refers to {ref!r} but does not define it")
        if "properties" in target:
            return self.model(target, name)
        if "enum" in target:
            return self._enum(target, name)
        if name in self.open:  # a recursive definition that is not a document
            return Any
        self.open.add(name)
        try:
            return self.annotation(target, field_name)
        finally:
            self.open.discard(name)

    def _enum(self, schema: dict[str, Any], name: str) -> Any:
        """An ``Enum`` class for an enum definition, made once per definition; its members
        are also instances of ``str`` (or ``int``) where all its values are."""
        if name in self.enums:
            return self.enums[name]
        values = schema["enum"]
        kinds = {type(v) for v in values}
        mixin = str if kinds == {str} else int if kinds == {int} else None
        try:
            made: Any = enum.Enum(  # type: ignore[misc]
                schema.get("title") or name,
                [(str(v), v) for v in values],
                module=__name__,
                type=mixin,
            )
            made.__doc__ = schema.get("description")
        except (TypeError, ValueError):  # no values, or values that cannot be names
            made = _literal(values)
        self.enums[name] = made
        return made

    def model(self, schema: dict[str, Any], name: str) -> type:
        if name in self.cache:
            return self.cache[name]
        if name in self.open:  # refers to itself: a stand-in now, the real class later
            if name not in self.placeholders:
                self.placeholders[name] = create_model(name, __base__=BaseDocWithoutId)
            return self.placeholders[name]
        self.open.add(name)
        try:
            model = self._build(schema, name)
        finally:
            self.open.discard(name)
        self.cache[name] = model
        self.made.append(model)
        placeholder = self.placeholders.pop(name, None)
        if placeholder is not None:
            self._replace(placeholder, model)
        return model

    def _replace(self, placeholder: type, model: type) -> None:
        """Put ``model`` where its stand-in is in the classes built so far, and rebuild them.

        Each class's validator embeds the schemas of the classes it nests, so all of them
        are made again, from their fields, with none of the old schemas reused.
        """
        for built in self.made:
            for info in built.model_fields.values():  # type: ignore[attr-defined]
                info.annotation = _substitute(info.annotation, placeholder, model)
        for built in self.made:
            if "__pydantic_core_schema__" in built.__dict__:
                delattr(built, "__pydantic_core_schema__")
        for built in self.made:
            built.model_rebuild(force=True)  # type: ignore[attr-defined]

    def _build(self, schema: dict[str, Any], name: str) -> type:
        properties: dict[str, Any] = schema.get("properties") or {}
        required = set(schema.get("required", ()))
        fields: dict[str, Any] = {}
        for field_name, field_schema in properties.items():
            annotation = self.annotation(field_schema, field_name)
            if field_name == "id" and annotation in (str, Optional[str]):
                continue  # BaseDoc's own id, with its random default
            info = _field_info(field_schema, field_name in required, annotation)
            fields[field_name] = (annotation, info)
        config = ConfigDict()
        title = schema.get("title")
        if title and title != name:
            config["title"] = title
        extra = {k: v for k, v in schema.items() if k not in _MODEL_KEYS}
        if extra:
            config["json_schema_extra"] = extra
        return create_model(
            name,
            __base__=BaseDoc if "id" in properties else BaseDocWithoutId,
            __config__=config or None,
            __doc__=schema.get("description"),
            __module__=__name__,
            **fields,
        )

    # -- field types -------------------------------------------------------------------------

    def annotation(self, schema: Any, field_name: str) -> Any:
        """The type that the (sub)schema ``schema`` of field ``field_name`` describes."""
        if not isinstance(schema, dict) or not schema:
            return Any  # `true` or `{}`: anything
        if _TENSOR_KEY in schema:
            return _tensor_type(schema[_TENSOR_KEY])
        if _DOCARRAY_TENSOR_KEY in schema:
            return AnyTensor
        if "$ref" in schema:
            return self.ref(schema["$ref"], field_name)
        for key in ("anyOf", "oneOf"):
            if key in schema:
                return self._union([self.annotation(s, field_name) for s in schema[key]])
        if "allOf" in schema:
            parts = schema["allOf"]
            return self.annotation(parts[0], field_name) if len(parts) == 1 else Any
        if "const" in schema:
            return _literal([schema["const"]])
        if "enum" in schema:
            return _literal(schema["enum"])
        kind = schema.get("type")
        if isinstance(kind, list):
            return self._union([self.annotation({**schema, "type": k}, field_name) for k in kind])
        if kind is None:
            return self.model(schema, field_name) if "properties" in schema else Any
        if kind == "null":
            return type(None)
        if kind in _SIMPLE_TYPES:
            if kind == "string" and schema.get("format") in _STRING_FORMATS:
                return _STRING_FORMATS[schema["format"]]
            return _constrained(_SIMPLE_TYPES[kind], schema)
        if kind == "array":
            return self._array(schema, field_name)
        if kind == "object":
            if "properties" in schema:
                return self.model(schema, schema.get("title") or field_name)
            values = schema.get("additionalProperties", True)
            value_type = self.annotation(values, field_name) if isinstance(values, dict) else Any
            return dict[str, value_type]  # type: ignore[valid-type]
        raise ValueError(f"unknown type {kind!r} in the schema of field {field_name!r}")

    def _union(self, members: list[Any]) -> Any:
        optional = type(None) in members
        distinct: list[Any] = []
        for member in members:
            if member is not type(None) and member not in distinct:
                distinct.append(member)
        if not distinct:
            return type(None)
        if Any in distinct:
            return Any
        joined = distinct[0] if len(distinct) == 1 else Union[tuple(distinct)]
        return Optional[joined] if optional else joined

    def _array(self, schema: dict[str, Any], field_name: str) -> Any:
        if "prefixItems" in schema:
            items = tuple(self.annotation(s, field_name) for s in schema["prefixItems"])
            return tuple[items]  # type: ignore[valid-type]
        item = self.annotation(schema.get("items", {}), field_name)
        if isinstance(item, type) and issubclass(item, BaseDocWithoutId):
            return DocList[item]  # type: ignore[valid-type]
        container = set if schema.get("uniqueItems") else list
        return _constrained(container[item], schema)  # type: ignore[index]


def _tensor_type(meta: Any) -> Any:
    """The tensor type of an ``x-docstack-tensor`` note: framework and shape."""
    if not isinstance(meta, dict):
        return AnyTensor
    framework = meta.get("framework") or "any"
    cls: Any = AnyTensor
    if framework != "any":
        from docstack.typing.tensor._base import concrete_tensor_class

        try:
            cls = concrete_tensor_class("tensor", framework)
        except (ImportError, ValueError):  # framework not installed, or unknown
            cls = AnyTensor
    shape = meta.get("shape")
    if not shape:
        return cls
    dims = tuple(Ellipsis if d == "..." else d for d in shape)
    return cls[dims if len(dims) != 1 else dims[0]]


def _literal(values: list[Any]) -> Any:
    if not values or not all(isinstance(v, Hashable) for v in values):
        return Any
    return Literal[tuple(values)]  # type: ignore[valid-type]


def _constrained(tp: Any, schema: dict[str, Any]) -> Any:
    """``tp`` with the length, range and pattern constraints of ``schema``."""
    constraints = {arg: schema[key] for key, arg in _CONSTRAINTS.items() if key in schema}
    return Annotated[tp, Field(**constraints)] if constraints else tp


def _decode_base64(text: str) -> bytes:
    text = text.replace("+", "-").replace("/", "_")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _is_bytes(annotation: Any) -> bool:
    if annotation is bytes:
        return True
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    return (
        typing.get_origin(annotation) in (Union, types.UnionType)
        and len(args) == 1
        and args[0] is bytes
    )


def _field_info(schema: dict[str, Any], required: bool, annotation: Any) -> FieldInfo:
    """The ``Field(...)`` of a field: its default and the metadata of its schema."""
    kwargs: dict[str, Any] = {k: schema[k] for k in _FIELD_ARGS if k in schema}
    default: Any = None
    if required:
        default = ...
    elif schema.get("default") is not None:
        default = schema["default"]
        if _is_bytes(annotation) and isinstance(default, str):
            default = _decode_base64(default)
        # the schema holds the JSON form (a tensor as a list, a URL as a string)
        kwargs["validate_default"] = True
    extra = {k: v for k, v in schema.items() if k not in _FIELD_KEYS}
    if extra:
        kwargs["json_schema_extra"] = extra
    return Field(default, **kwargs)


def _substitute(tp: Any, old: type, new: type) -> Any:
    if tp is old:
        return new
    if getattr(tp, "__docstack_doc_array__", False) and getattr(tp, "doc_type", None) is old:
        return getattr(tp, "__docstack_array_base__", tp)[new]
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin is None or origin is Literal or not args:
        return tp
    replaced = tuple(_substitute(a, old, new) for a in args)
    if all(r is a for r, a in zip(replaced, args)):
        return tp
    if origin in (Union, types.UnionType):
        return Union[replaced]
    if origin is Annotated:
        return Annotated[replaced]  # type: ignore[valid-type]
    return origin[replaced]

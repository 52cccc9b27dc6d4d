"""FastAPI support: :class:`DocstackResponse`, a JSON response that writes documents fast.

Documents and arrays of documents work in FastAPI without conversion:

* a ``BaseDoc`` subclass is a request body and a ``response_model`` like any pydantic model;
* ``DocList[MyDoc]`` is a ``response_model`` (or return annotation) and a request body as it
  is: ``def f(docs: DocList[MyDoc]) -> DocList[MyDoc]`` reads a JSON array of documents,
  without ``Body()`` and without ``python-multipart``. (FastAPI takes a ``list`` subclass
  for a list of uploaded files unless ``typing.get_args`` shows it an item type that is not
  a file; ``DocList[MyDoc]`` shows ``(MyDoc,)``.) ``Body()``, ``Body(embed=True)`` and
  ``Annotated[DocList[MyDoc], Body()]`` work as well, as does a ``DocList`` field of a
  document or of a pydantic model. ``DocVec[MyDoc]`` is a body the same way: the JSON array
  is validated as a ``DocList`` and stacked into columns;
* the OpenAPI schema describes an array of the document's schema, each tensor field an array
  of numbers (nested per dimension, sized where the type fixes the size: ``NdArray[128]`` has
  ``minItems``/``maxItems`` 128) with an ``x-docstack-tensor`` note of its framework and
  shape;
* validation errors of a request body are FastAPI's 422 responses, naming the document's
  index and the field.

``DocstackResponse`` renders a document, a ``DocList``, a ``DocVec`` or a list of documents
with docstack's JSON writer (:mod:`docstack.io._json`: one ``orjson`` call, tensors
converted column by column) and anything else (dicts, lists, tensors of any framework, numpy
scalars, models) with pydantic's serializer. Non-finite floats are written as ``NaN``,
``Infinity`` and ``-Infinity``, as documents' ``to_json`` writes them.

Example
-------
>>> from fastapi import FastAPI
>>> from docstack import DocList
>>> from docstack.documents import TextDoc
>>> from docstack.io import DocstackResponse
>>> app = FastAPI()
>>> @app.post('/echo')
... async def echo(docs: DocList[TextDoc]) -> DocList[TextDoc]:
...     return docs
>>> @app.get('/hello', response_class=DocstackResponse)
... def hello() -> DocstackResponse:
...     return DocstackResponse(DocList[TextDoc]([TextDoc(text='hi', id='1')]))
>>> hello().body
b'[{"id":"1","text":"hi","url":null,"embedding":null,"bytes_":null}]'
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pydantic_core

from docstack._internal.optional import import_optional
from docstack.errors import SerializationError
from docstack.io._json import array_json_bytes, doc_json_bytes
from docstack.typing.tensor._convert import framework_of, to_numpy

import_optional("fastapi")

from fastapi.responses import JSONResponse  # noqa: E402 - after the check that names the extra

__all__ = ["DocstackResponse", "render_json"]


def _is_doc(value: Any) -> bool:
    return getattr(type(value), "__docstack_document__", False)


def _is_doc_array(value: Any) -> bool:
    return getattr(type(value), "__docstack_doc_array__", False)


def _fallback(value: Any) -> Any:
    """What pydantic's serializer cannot write on its own, as values it can."""
    if framework_of(value) is not None:
        return to_numpy(value).tolist()
    if isinstance(value, np.generic):
        return value.item()
    if _is_doc_array(value):  # a DocVec: its documents
        return list(value.to_doc_list())
    raise SerializationError(
        f"a value of type {type(value).__name__} cannot be written as JSON: {value!r:.80}"
    )


def render_json(content: Any) -> bytes:
    """``content`` as JSON bytes, documents and arrays through docstack's JSON writer.

    Parameters
    ----------
    content:
        A document, a ``DocList``/``DocVec``, a list or tuple of documents, or any value
        pydantic can write (dicts, lists, models), tensors of any framework included.

    Returns
    -------
    UTF-8 JSON bytes.

    Raises
    ------
    SerializationError
        A value that cannot be written as JSON.

    Example
    -------
    >>> import numpy as np
    >>> render_json({'scores': np.array([0.5, 1.0]), 'n': np.int64(2)})
    b'{"scores":[0.5,1.0],"n":2}'
    """
    if _is_doc(content):
        return doc_json_bytes(content)
    if _is_doc_array(content):
        return array_json_bytes(content)
    if isinstance(content, (list, tuple)) and content and all(_is_doc(d) for d in content):
        return array_json_bytes(list(content))
    try:
        return pydantic_core.to_json(
            content, inf_nan_mode="constants", bytes_mode="base64", fallback=_fallback
        )
    except pydantic_core.PydanticSerializationError as exc:
        raise SerializationError(f"the response cannot be written as JSON: {exc}") from exc


class DocstackResponse(JSONResponse):
    """A FastAPI/Starlette JSON response written with docstack's JSON writer.

    Return it from an endpoint (``return DocstackResponse(docs)``) to send documents without
    FastAPI's per-document conversion, or name it as ``response_class`` to write every
    response of a route with it. Documents, ``DocList``, ``DocVec`` and lists of documents
    are written as their ``to_json`` writes them; numpy, torch, jax and TensorFlow tensors
    anywhere in the content become nested lists of numbers.

    Example
    -------
    >>> import numpy as np
    >>> from docstack.io import DocstackResponse
    >>> DocstackResponse({'vector': np.arange(3)}).body
    b'{"vector":[0,1,2]}'
    """

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        """``content`` as JSON bytes (see :func:`render_json`)."""
        return render_json(content)

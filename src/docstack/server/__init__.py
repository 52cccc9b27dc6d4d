"""The HTTP search service of ``docstack serve``: a JSON API and a web page over Document
Indexes, as a FastAPI application you can run with uvicorn or mount in your own app.

Needs the ``server`` extra (``pip install "docstack[server]"``: FastAPI, uvicorn,
python-multipart).

Example
-------
>>> from fastapi.testclient import TestClient
>>> from docstack.documents import TextDoc
>>> from docstack.index import InMemoryExactNNIndex
>>> from docstack.server import create_app
>>> index = InMemoryExactNNIndex[TextDoc]()
>>> index.index([TextDoc(text='a red fox'), TextDoc(text='a blue whale')])
>>> client = TestClient(create_app(index))
>>> client.get('/api/indexes/default').json()['num_docs']
2
"""

from docstack.server._app import create_app
from docstack.server._search import SearchRequest

__all__ = ["SearchRequest", "create_app"]

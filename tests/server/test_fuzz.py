"""Property-based fuzzing of the HTTP API from its own OpenAPI schema (schemathesis): no
request, however odd, gets a 500 or hangs."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, settings

from docstack.server import create_app

from .conftest import API_KEY, Point, Product, product_docs

schemathesis = pytest.importorskip("schemathesis", reason="schemathesis is not installed")
from schemathesis.checks import not_a_server_error  # noqa: E402


def _app():
    from docstack.index import InMemoryExactNNIndex

    products = InMemoryExactNNIndex[Product]()
    products.index(product_docs()[:8])
    points = InMemoryExactNNIndex[Point]()
    points.index([Point(id=f"q{i}", label=f"point {i}", location=[i, 1]) for i in range(4)])
    return create_app(
        {"products": products, "points": points},
        writable=True,
        api_key=API_KEY,
        max_limit=20,
        max_page_size=20,
    )


schema = schemathesis.openapi.from_asgi("/openapi.json", _app())


@schema.parametrize()
@settings(
    max_examples=20,
    deadline=2000,
    suppress_health_check=list(HealthCheck),
    database=None,
)
def test_no_request_gets_a_server_error(case):
    if case.path_parameters and "name" in case.path_parameters:
        # half the time aim at a real index, so requests get past the index lookup
        if hash(str(case.query)) % 2:
            case.path_parameters["name"] = "products"
    case.headers = {**(case.headers or {}), "X-API-Key": API_KEY}
    case.call_and_validate(checks=[not_a_server_error])

"""The OpenAPI document rendered from the schema package."""

from __future__ import annotations

from openapi_spec_validator import validate as validate_spec

from homesec_engine.schema import MODELS, ROUTES
from homesec_engine.schema.openapi import render_openapi


def test_the_document_is_valid_openapi_3_1() -> None:
    # Given the rendered document
    document = render_openapi("0.1.0")
    # When validated by an OpenAPI validator, then it raises nothing
    validate_spec(document)


def test_every_route_and_model_is_in_the_document() -> None:
    # Given the route table and the models
    document = render_openapi("0.1.0")
    # Then every route is an operation and every referenced model a component
    operations = {op["operationId"] for path in document["paths"].values()
                  for op in path.values()}
    assert operations == {r["operation_id"] for r in ROUTES}
    assert set(document["components"]["schemas"]) == set(MODELS)


def test_protected_operations_document_401_and_503() -> None:
    document = render_openapi("0.1.0")
    status = document["paths"]["/api/v1/status"]["get"]
    # A client generator must learn that /status can answer 401 and 503 with the error body
    assert {"401", "503"} <= set(status["responses"])
    health = document["paths"]["/api/v1/health"]["get"]
    assert "401" not in health["responses"]

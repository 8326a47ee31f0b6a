"""GET /api/v1/openapi.json through the real API handler: the document covers every route template.yaml declares,
every `$ref` resolves, and the request bodies are the pydantic request models. (tests/blackbox/test_fuzz.py then
checks the running API against it with schemathesis.)"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import pytest
from waitpoints_local.template import Template

from .support import body_of

if TYPE_CHECKING:
    from .conftest import Invoke

LoadEvent = Callable[[str], dict[str, Any]]
OPENAPI = "/api/v1/openapi.json"
TOKENS = "/api/v1/waitpoints/tokens"


@pytest.fixture
def document(api: Invoke, load_event: LoadEvent) -> dict[str, Any]:
    event = load_event("api_retrieve_token")
    event.update(routeKey=f"GET {OPENAPI}", rawPath=OPENAPI, pathParameters={})
    event["requestContext"]["http"]["path"] = OPENAPI
    event["headers"].pop("authorization", None)  # the document needs no key
    response = api(event)
    assert response["statusCode"] == 200, response
    result: dict[str, Any] = body_of(response)
    return result


def refs(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for key, inner in value.items():
            if key == "$ref":
                yield inner
            else:
                yield from refs(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from refs(inner)


def test_every_route_in_the_template_is_documented(document: dict[str, Any]) -> None:
    declared = {(route.path, route.method.lower()) for function in Template().functions() for route in function.routes}
    documented = {(path, method) for path, operations in document["paths"].items() for method in operations}
    hidden = {(OPENAPI, "get"), (f"{TOKENS}/{{id}}/complete", "options")}  # the document itself, CORS preflight
    hidden |= {("/console", "get"), ("/console/assets/{file}", "get")}  # the console's page, not the API
    hidden.add(("$default", "any"))  # the JSON 404/405 of every request no route matches: not an operation
    callback = (f"{TOKENS}/{{id}}/callback/{{hash}}", "any")  # ANY in the template; only POST completes
    assert documented == (declared - hidden - {callback}) | {(callback[0], "post")}


def test_every_reference_resolves_and_every_operation_answers_errors_as_error(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    assert all(ref.removeprefix("#/components/schemas/") in schemas for ref in refs(document))
    assert not {"HTTPValidationError", "ValidationError", "ResponseValidationError"} & set(schemas)
    for operations in document["paths"].values():
        for operation in operations.values():
            responses = operation["responses"]
            assert "200" in responses
            for status, response in responses.items():
                if status != "200":
                    assert response["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}


def test_request_bodies_are_the_request_models(document: dict[str, Any]) -> None:
    create = document["paths"][TOKENS]["post"]["requestBody"]["content"]["application/json"]["schema"]
    complete = document["paths"][f"{TOKENS}/{{id}}/complete"]["post"]["requestBody"]["content"]["application/json"]
    assert create == {"$ref": "#/components/schemas/CreateTokenRequest"}
    assert complete["schema"] == {"$ref": "#/components/schemas/CompleteTokenRequest"}
    schemas = document["components"]["schemas"]
    create_fields = schemas["CreateTokenRequest"]["properties"]
    assert set(create_fields) == {
        "timeout",
        "idempotencyKey",
        "idempotencyKeyTTL",
        "tags",
        "description",
        "completeWhen",
        "webhookSignature",
    }
    description = create_fields["description"]
    assert (description["type"], description["minLength"], description["maxLength"]) == ("string", 1, 1000)
    assert "description" in schemas["TokenBody"]["properties"]  # retrieve returns it
    assert "description" not in schemas["ListedTokenBody"]["properties"]  # list pages do not
    assert schemas["CreateTokenRequest"]["additionalProperties"] is False
    # An absent field is not a null one: explicit nulls are refused, so no default of null is advertised.
    assert '"default": null' not in json.dumps(schemas)
    retrieve = document["paths"][f"{TOKENS}/{{id}}"]["get"]
    assert [p["name"] for p in retrieve["parameters"]] == ["id"]

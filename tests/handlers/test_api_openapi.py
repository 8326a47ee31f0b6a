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
    hidden = {(OPENAPI, "get"), (f"{TOKENS}/{{id}}/complete", "options"), (f"{TOKENS}/{{id}}/reject", "options")}
    hidden |= {("/console", "get"), ("/console/assets/{file}", "get")}  # the console's page, not the API
    hidden.add(("$default", "any"))  # the JSON 404/405 of every request no route matches: not an operation
    callback = (f"{TOKENS}/{{id}}/callback/{{hash}}", "any")  # ANY in the template; only POST completes
    approval = (f"{TOKENS}/{{id}}/approval/{{hash}}", "any")  # ANY in the template: GET, HEAD and POST answer
    expected = (declared - hidden - {callback, approval}) | {(callback[0], "post")}
    assert documented == expected | {(approval[0], method) for method in ("get", "head", "post")}


def test_every_reference_resolves_and_every_operation_answers_errors_as_error(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    assert all(ref.removeprefix("#/components/schemas/") in schemas for ref in refs(document))
    assert not {"HTTPValidationError", "ValidationError", "ResponseValidationError"} & set(schemas)
    for path, operations in document["paths"].items():
        for operation in operations.values():
            responses = operation["responses"]
            assert "200" in responses
            for status, response in responses.items():
                if status == "200":
                    continue
                if path.endswith("/approval/{hash}"):  # a page for a person: HTML, never JSON
                    assert status == "303" or set(response["content"]) == {"text/html"}, (path, status)
                    continue
                schema = response["content"]["application/json"]["schema"]
                mismatch = status == "422" and path.endswith(("/complete", "/callback/{hash}"))
                assert schema == {"$ref": f"#/components/schemas/{'SchemaMismatchBody' if mismatch else 'Error'}"}


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
        "schema",
        "approval",
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


def test_reject_and_the_rejected_representation_are_documented(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    reject = document["paths"][f"{TOKENS}/{{id}}/reject"]["post"]
    assert reject["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/RejectTokenRequest"
    }
    assert set(schemas["RejectTokenRequest"]["properties"]) == {"reason", "data"}
    assert schemas["RejectTokenRequest"]["properties"]["reason"]["maxLength"] == 1000
    assert {"200", "400", "401", "403", "404"} <= set(reject["responses"])
    token = schemas["TokenBody"]["properties"]
    assert token["rejected"]["const"] is True and "rejectReason" in token
    assert token["status"]["enum"] == ["WAITING", "COMPLETED", "TIMED_OUT"]  # rejected reads COMPLETED
    assert "rejected" in schemas["ListedTokenBody"]["properties"]
    assert "approvalUrl" in schemas["CreatedTokenBody"]["properties"]
    status = next(p for p in document["paths"][TOKENS]["get"]["parameters"] if p["name"] == "filter[status]")
    assert "REJECTED" in status["description"]
    approval = document["paths"][f"{TOKENS}/{{id}}/approval/{{hash}}"]
    assert set(approval) == {"get", "head", "post"} and all(op["security"] == [] for op in approval.values())
    complete = document["paths"][f"{TOKENS}/{{id}}/complete"]["post"]["responses"]["422"]
    assert complete["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/SchemaMismatchBody"}

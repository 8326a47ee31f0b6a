"""The `$default` route's function (functions/no_route) knows exactly the template's routes, and answers
each unmatched request as README promises: JSON `{"error": ...}`, 405 with Allow where the path exists."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType

import pytest
from waitpoints_local.template import DEFAULT_ROUTE, Template

REPO = Path(__file__).resolve().parents[2]


def _module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("no_route_app", REPO / "functions/no_route/app.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


APP = _module()


def test_its_table_is_the_templates_routes() -> None:
    declared: dict[str, set[str]] = {}
    for function in Template().functions():
        for route in function.routes:
            if route.path != DEFAULT_ROUTE:
                declared.setdefault(route.path, set()).add(route.method)
    assert {path: set(methods) for path, methods in APP.ROUTES.items()} == declared


def _event(method: str, path: str, stage: str = "$default") -> dict[str, object]:
    return {"rawPath": path, "requestContext": {"http": {"method": method, "path": path}, "stage": stage}}


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("DELETE", "/api/v1/waitpoints/tokens", "GET, POST"),
        ("HEAD", "/api/v1/waitpoints/tokens/waitpoint_x", "GET"),
        ("TRACE", "/api/v1/waitpoints/tokens/x/complete", "OPTIONS, POST"),
    ],
)
def test_a_known_path_is_405_with_allow(method: str, path: str, allow: str) -> None:
    response = APP.lambda_handler(_event(method, path), None)
    assert response["statusCode"] == 405 and response["headers"]["Allow"] == allow
    assert json.loads(response["body"]).keys() == {"error"}


def test_a_named_stage_prefix_is_not_part_of_the_path() -> None:
    assert APP.lambda_handler(_event("PUT", "/prod/api/v1/openapi.json", "prod"), None)["statusCode"] == 405
    assert APP.lambda_handler(_event("PUT", "/api/v1/openapi.json", "prod"), None)["statusCode"] == 405


@pytest.mark.parametrize("path", ["/", "/api", "/api/v1/waitpoints/tokens/a/b", "/api/v1/waitpoints/tokens/"])
def test_any_other_path_is_404_error(path: str) -> None:
    response = APP.lambda_handler(_event("GET", path), None)
    assert response["statusCode"] == 404 and json.loads(response["body"]) == {"error": "No such route"}

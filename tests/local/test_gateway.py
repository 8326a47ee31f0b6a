"""The local gateway routes exactly as template.yaml's HTTP API events declare."""

from __future__ import annotations

from waitpoints_local.gateway import Binding, Router
from waitpoints_local.template import Template

TOKENS = "/api/v1/waitpoints/tokens"


def _router() -> Router:
    bindings = [Binding.of(route, function) for function in Template().functions() for route in function.routes]  # type: ignore[arg-type]
    return Router(bindings)


def test_every_template_route_is_served() -> None:
    routes = {b.route.key for b in _router().bindings}
    assert routes == {
        f"POST {TOKENS}",
        f"GET {TOKENS}",
        f"GET {TOKENS}/{{id}}",
        f"POST {TOKENS}/{{id}}/complete",
        f"OPTIONS {TOKENS}/{{id}}/complete",
        f"ANY {TOKENS}/{{id}}/callback/{{hash}}",
        f"POST {TOKENS}/{{id}}/reject",
        f"OPTIONS {TOKENS}/{{id}}/reject",
        f"POST {TOKENS}/{{id}}/timeout",
        f"POST {TOKENS}/{{id}}/extend",
        f"ANY {TOKENS}/{{id}}/approval/{{hash}}",
        "GET /api/v1/openapi.json",
        "GET /console",
        "GET /console/assets/{file}",
        "$default",
    }


def test_path_parameters_and_methods() -> None:
    router = _router()
    listed = router.match("GET", TOKENS)
    assert listed and listed[0].route.key == f"GET {TOKENS}" and listed[1] == {}
    matched = router.match("GET", f"{TOKENS}/waitpoint_abc")
    assert matched and matched[0].route.key == f"GET {TOKENS}/{{id}}" and matched[1] == {"id": "waitpoint_abc"}
    callback = router.match("DELETE", f"{TOKENS}/x/callback/y")
    assert callback and callback[0].route.method == "ANY" and callback[1] == {"id": "x", "hash": "y"}
    for method, path in (("DELETE", f"{TOKENS}/x"), ("GET", f"{TOKENS}/x/y/z"), ("POST", f"{TOKENS}/a/b/complete")):
        unmatched = router.match(method, path)  # what no route takes goes to $default, as on API Gateway
        assert unmatched and unmatched[0].route.key == "$default" and unmatched[1] == {}
    assert router.match("HEAD", TOKENS)[0].route.key == "$default"  # type: ignore[index]


def test_functions_point_at_real_handler_files() -> None:
    for function in Template().functions():
        module = function.handler.rsplit(".", 1)[0]
        assert (function.code_dir / f"{module}.py").is_file(), function

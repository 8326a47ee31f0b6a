"""AWS answering instantly from canned responses, for timing only our code (`make bench`).

A `before-call` hook returns a recorded `(HTTP response, parsed response)` for the operation, so botocore still
validates and serialises every request exactly as in production, but nothing is sent and nothing is parsed. The
responses were recorded from moto by perf_bench.py for the same requests. A GetItem of an API key (the auth
cache refills once a minute) has its own recorded answer, as has the GetItem of the shard layout (`ENVS`, read
once per container), and so has a complete's first write (made on the condition
that the token has no completion schema: for a token with one, it fails and the second write completes).
"""

from __future__ import annotations

from typing import Any

from botocore.awsrequest import AWSResponse

Canned = dict[str, dict[str, tuple[int, dict[str, Any]]]]  # service → operation (or "GetItem#APIKEY") → answer
_installed: list[tuple[Any, Any]] = []


class _Raw:
    def stream(self, **_: Any) -> Any:
        return iter(())


def canned_key(operation: str, body: Any) -> str:
    text = (body if isinstance(body, str) else body.decode()) if isinstance(body, (bytes, str)) else ""
    if operation == "GetItem" and "APIKEY#" in text:
        return "GetItem#APIKEY"
    if operation == "GetItem" and '"ENVS"' in text:
        return "GetItem#ENVS"  # the environments' shard layout: read once per container, then cached
    if operation == "UpdateItem" and isinstance(body, (bytes, str)):
        text = body if isinstance(body, str) else body.decode()
        if "attribute_not_exists(completionSchema)" in text:  # a complete's first write, for a schema-less token
            return "UpdateItem#SCHEMALESS"
    return operation


def install(responses: Canned) -> None:
    """Answer the handlers' own clients (waitpoints_core.aws) from `responses`; replaces any earlier install."""
    from waitpoints_core import aws

    uninstall()
    for service, answers in responses.items():
        client = aws.client(service)
        ready = {
            name: (AWSResponse("https://canned", status, {}, _Raw()), parsed)
            for name, (status, parsed) in answers.items()
        }

        def answer(model: Any, params: dict[str, Any], ready: dict[str, Any] = ready, **_: Any) -> Any:
            found = ready.get(canned_key(model.name, params.get("body")))
            if found is None:
                raise AssertionError(f"no canned answer for {model.name}")
            return found

        event = f"before-call.{client.meta.service_model.service_id.hyphenize()}"
        client.meta.events.register(event, answer)
        _installed.append((client, (event, answer)))


def uninstall() -> None:
    while _installed:
        client, (event, answer) = _installed.pop()
        client.meta.events.unregister(event, answer)

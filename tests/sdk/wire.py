"""Wire fixtures for the SDK's unit tests: API JSON bodies and a recording MockTransport handler."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any

import httpx

API = "https://api.example.test"
KEY = "wp_dev_" + "k" * 43
TOKEN_ID = "waitpoint_" + "a" * 25
URL = f"{API}/api/v1/waitpoints/tokens/{TOKEN_ID}/callback/{'0' * 64}"


def created(**overrides: Any) -> dict[str, Any]:
    return {"id": TOKEN_ID, "url": URL, "isCached": False, "publicAccessToken": "eyJ.pat.sig", **overrides}


def token(**overrides: Any) -> dict[str, Any]:
    body = {
        "id": TOKEN_ID,
        "url": URL,
        "status": "WAITING",
        "createdAt": "2026-11-23T21:10:58.480Z",
        "tags": [],
        "timeoutAt": "2026-11-23T21:20:58.480Z",
        "outputIsError": False,
    }
    body.update(overrides)
    return {k: v for k, v in body.items() if v is not None}


def completed(output: Any, output_type: str = "application/json") -> dict[str, Any]:
    text = output if output_type == "text/plain" else json.dumps(output)
    return token(status="COMPLETED", completedAt="2026-11-23T21:11:00.000Z", output=text, outputType=output_type)


def timed_out() -> dict[str, Any]:
    return token(
        status="TIMED_OUT",
        completedAt="2026-11-23T21:20:58.480Z",
        outputIsError=True,
        output='{"code":"WAITPOINT_TIMEOUT","message":"Waitpoint timed out at 2026-11-23T21:20:58.480Z"}',
        outputType="application/json",
    )


def page(items: Iterable[dict[str, Any]], next: str | None = None, previous: str | None = None) -> dict[str, Any]:
    pagination = {k: v for k, v in (("next", next), ("previous", previous)) if v is not None}
    return {"data": list(items), "pagination": pagination}


Reply = httpx.Response | Exception | Callable[[httpx.Request], httpx.Response]


class Recorder:
    """A MockTransport handler that answers from a script of replies and records every request."""

    def __init__(self, *replies: Reply) -> None:
        self.replies = list(replies)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        reply = self.replies.pop(0) if len(self.replies) > 1 else self.replies[0]
        if isinstance(reply, Exception):
            raise reply
        if callable(reply) and not isinstance(reply, httpx.Response):
            return reply(request)
        return reply

    @property
    def last(self) -> httpx.Request:
        return self.requests[-1]

    def body(self, index: int = -1) -> Any:
        return json.loads(self.requests[index].content)


def ok(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.Response(status, json=body, headers=headers)


def error(status: int, message: str = "boom", headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.Response(status, json={"error": message}, headers=headers)

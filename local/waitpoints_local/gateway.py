"""An HTTP server that behaves like API Gateway HTTP API: routes from the template, payload 2.0 events."""

from __future__ import annotations

import base64
import json
import re
import sys
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlsplit

from .lambdas import ContainerPool, InvocationError

if TYPE_CHECKING:
    from .template import Route

MAX_BODY = 10 * 1024 * 1024  # API Gateway HTTP API's payload limit
_TEXT_TYPES = re.compile(r"^(text/|application/(json|.*\+json|xml|.*\+xml|javascript|x-www-form-urlencoded))")


@dataclass(frozen=True)
class Binding:
    route: Route
    function: ContainerPool
    pattern: re.Pattern[str]

    @classmethod
    def of(cls, route: Route, function: ContainerPool) -> Binding:
        regex = ""
        for part in route.path.strip("/").split("/"):
            if part.startswith("{") and part.endswith("+}"):
                regex += f"/(?P<{part[1:-2]}>.+)"
            elif part.startswith("{") and part.endswith("}"):
                regex += f"/(?P<{part[1:-1]}>[^/]+)"
            else:
                regex += "/" + re.escape(part)
        return cls(route, function, re.compile(f"^{regex or '/'}$"))

    def specificity(self) -> tuple[int, int]:
        """API Gateway prefers an exact method over ANY, and literal path segments over parameters."""
        return (self.route.method == "ANY", self.route.path.count("{"))


class Router:
    def __init__(self, bindings: list[Binding]) -> None:
        self.bindings = sorted(bindings, key=Binding.specificity)

    def match(self, method: str, path: str) -> tuple[Binding, dict[str, str]] | None:
        for binding in self.bindings:
            if binding.route.method in (method, "ANY"):
                found = binding.pattern.match(path)
                if found:
                    return binding, found.groupdict()
        return None


def build_event(
    binding: Binding,
    params: dict[str, str],
    method: str,
    target: str,
    headers: dict[str, str],
    body: bytes,
    host: str,
    source_ip: str,
) -> dict[str, Any]:
    url = urlsplit(target)
    query: dict[str, str] = {}
    for key, value in parse_qsl(url.query, keep_blank_values=True):
        query[key] = f"{query[key]},{value}" if key in query else value
    now = time.time()
    is_text = not body or bool(_TEXT_TYPES.match(headers.get("content-type", "")))
    try:
        text = body.decode() if is_text else None
    except UnicodeDecodeError:
        text = None
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": binding.route.key,
        "rawPath": url.path,
        "rawQueryString": url.query,
        "headers": {**headers, "x-forwarded-proto": "http", "x-forwarded-for": source_ip},
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "local",
            "domainName": host,
            "domainPrefix": host.split(".", maxsplit=1)[0],
            "http": {
                "method": method,
                "path": url.path,
                "protocol": "HTTP/1.1",
                "sourceIp": source_ip,
                "userAgent": headers.get("user-agent", ""),
            },
            "requestId": str(uuid.uuid4()),
            "routeKey": binding.route.key,
            "stage": "$default",
            "time": datetime.fromtimestamp(now, UTC).strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "timeEpoch": int(now * 1000),
        },
        "isBase64Encoded": text is None,
    }
    if query:
        event["queryStringParameters"] = query
    if params:
        event["pathParameters"] = params
    if body:
        event["body"] = text if text is not None else base64.b64encode(body).decode()
    return event


class GatewayServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256  # socketserver's default backlog of 5 resets bursts of concurrent clients

    def __init__(self, address: tuple[str, int], router: Router) -> None:
        super().__init__(address, _RequestHandler)
        self.router = router


class _RequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out in two writes: no 40 ms delayed-ACK stall
    server: GatewayServer

    def do_request(self) -> None:
        started = time.perf_counter()
        body = self._read_body()
        if body is None:
            self._send(413, {"Content-Type": "application/json"}, b'{"message":"Request Entity Too Large"}')
            return
        path = urlsplit(self.path).path
        matched = self.server.router.match(self.command, path)
        if matched is None:
            self._send(404, {"Content-Type": "application/json"}, b'{"message":"Not Found"}')
            self._log("-", 404, started)
            return
        binding, params = matched
        headers: dict[str, str] = {}
        for name, value in self.headers.items():
            key = name.lower()
            headers[key] = f"{headers[key]},{value}" if key in headers else value
        event = build_event(
            binding,
            params,
            self.command,
            self.path,
            headers,
            body,
            self.headers.get("host", "localhost"),
            self.client_address[0],
        )
        try:
            result = binding.function.invoke(event)
            status, out_headers, out_body = _response_from(result)
        except InvocationError as error:  # API Gateway answers a crashed integration with a 500
            print(error, file=sys.stderr)
            status, out_headers, out_body = (
                500,
                {"Content-Type": "application/json"},
                b'{"message":"Internal Server Error"}',
            )
        self._send(status, out_headers, out_body)
        self._log(binding.route.key, status, started)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_HEAD = do_request

    def _read_body(self) -> bytes | None:
        if self.headers.get("transfer-encoding", "").lower() == "chunked":
            chunks, total = [], 0
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    self.rfile.readline()
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
                total += size
            data = b"".join(chunks)
        else:
            length = int(self.headers.get("content-length") or 0)
            if length > MAX_BODY:
                self.close_connection = True
                return None
            data = self.rfile.read(length) if length else b""
        return data if len(data) <= MAX_BODY else None

    def _send(self, status: int, headers: dict[str, str], body: bytes) -> None:
        self.send_response(status)
        for name, value in headers.items():
            if name.lower() not in ("content-length", "connection", "transfer-encoding"):
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _log(self, route: str, status: int, started: float) -> None:
        # The route key, never the raw path: a callback path carries its credential.
        print(
            f"{self.command:7} {route} -> {status} ({(time.perf_counter() - started) * 1000:.1f} ms)", file=sys.stderr
        )

    def log_message(self, format: str, *args: Any) -> None:
        return


def _response_from(result: Any) -> tuple[int, dict[str, str], bytes]:
    """Payload 2.0 responses: a dict with statusCode, or any other JSON value meaning 200 with that body."""
    if not (isinstance(result, dict) and "statusCode" in result):
        return 200, {"Content-Type": "application/json"}, json.dumps(result).encode()
    headers = {k: str(v) for k, v in (result.get("headers") or {}).items()}
    raw = result.get("body") or ""
    body = base64.b64decode(raw) if result.get("isBase64Encoded") else raw.encode()
    return int(result["statusCode"]), headers, body

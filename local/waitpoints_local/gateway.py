"""An HTTP server that behaves like API Gateway HTTP API: routes from the template, payload 2.0 events.

What it answers itself, before any function runs, is JSON in API Gateway's own shape, `{"message": ...}`:
400 for broken framing (a Content-Length that is not a decimal number, a bad chunk size, an unsupported
Transfer-Encoding), 413 over 10 MB, 414 for a request line over 64 KiB, 431 for over 100 headers or a header
line over 64 KiB, 500 when the function crashes, and 404 when no route matches and the template has no
`$default` route. Every method reaches the router (TRACE and unknown methods too: the template's `$default`
route answers them). The event's `domainName` is the stack's own address, never the Host header the caller
sent: on AWS it is the API's domain, whatever Host says, and it ends up in every callback URL.
"""

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

from .lambdas import ContainerPool, InvocationError, RequestTooLarge, ResponseTooLarge
from .template import DEFAULT_ROUTE

if TYPE_CHECKING:
    from .template import Route

MAX_BODY = 10 * 1024 * 1024  # API Gateway HTTP API's payload limit
MAX_CHUNK_LINE = 1024  # a chunk-size line: hex digits and extensions
MAX_LENGTH_DIGITS = 19  # a Content-Length of more digits is over MAX_BODY however it reads
_DECIMAL = re.compile(r"^[0-9]+$")
_HEX = re.compile(rb"^[0-9A-Fa-f]{1,16}$")
# API Gateway's own error bodies (what a client sees when no function ran)
GATEWAY_MESSAGES = {
    400: "Bad Request",
    404: "Not Found",
    413: "Request Entity Too Large",
    414: "Request-URI Too Long",
    431: "Request Header Fields Too Large",
    500: "Internal Server Error",
    502: "Bad Gateway",
    501: "Not Implemented",
    505: "HTTP Version Not Supported",
}


class BadFraming(Exception):
    """The request's body framing cannot be read: answered 400 (or 413) and the connection is closed."""

    def __init__(self, status: int = 400) -> None:
        super().__init__(status)
        self.status = status


def gateway_error(status: int) -> tuple[dict[str, str], bytes]:
    message = GATEWAY_MESSAGES.get(status, "Bad Request")
    return {"Content-Type": "application/json"}, json.dumps({"message": message}).encode()


_TEXT_TYPES = re.compile(r"^(text/|application/(json|.*\+json|xml|.*\+xml|javascript|x-www-form-urlencoded))")


@dataclass(frozen=True)
class Binding:
    route: Route
    function: ContainerPool
    pattern: re.Pattern[str]

    @classmethod
    def of(cls, route: Route, function: ContainerPool) -> Binding:
        if route.path == DEFAULT_ROUTE:
            return cls(route, function, re.compile(r"^.*$", re.DOTALL))
        regex = ""
        for part in route.path.strip("/").split("/"):
            if part.startswith("{") and part.endswith("+}"):
                regex += f"/(?P<{part[1:-2]}>.+)"
            elif part.startswith("{") and part.endswith("}"):
                regex += f"/(?P<{part[1:-1]}>[^/]+)"
            else:
                regex += "/" + re.escape(part)
        return cls(route, function, re.compile(f"^{regex or '/'}$"))

    def specificity(self) -> tuple[int, int, int]:
        """API Gateway prefers an exact method over ANY, and literal path segments over parameters; the
        `$default` route only takes what no other route matches."""
        return (self.route.path == DEFAULT_ROUTE, self.route.method == "ANY", self.route.path.count("{"))


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

    def __init__(self, address: tuple[str, int], router: Router, domain: str | None = None) -> None:
        super().__init__(address, _RequestHandler)
        self.router = router
        # The API's own domain (host:port), as API Gateway puts its domain in every event: never the Host header.
        self.domain = domain or f"{address[0]}:{self.server_address[1]}"


class _RequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out in two writes: no 40 ms delayed-ACK stall
    timeout = 120  # a client that stops sending mid-request (or idles) holds a thread at most this long
    server: GatewayServer

    def __getattr__(self, name: str) -> Any:
        """Every method reaches the router, TRACE and unknown ones too (http.server would answer 501 in HTML):
        API Gateway routes any method, and the `$default` route answers it."""
        if name.startswith("do_"):
            return self.do_request
        raise AttributeError(name)

    def do_request(self) -> None:
        started = time.perf_counter()
        try:
            body = self._read_body()
        except BadFraming as error:
            self.close_connection = True  # what follows on this connection cannot be told from this body
            self._send(error.status, *gateway_error(error.status))
            self._log("-", error.status, started)
            return
        path = urlsplit(self.path).path
        matched = self.server.router.match(self.command, path)
        if matched is None:
            self._send(404, *gateway_error(404))
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
            self.server.domain,
            self.client_address[0],
        )
        try:
            result = binding.function.invoke(event)
            status, out_headers, out_body = _response_from(result)
        except RequestTooLarge:  # the event (the body, base64 for binary, and its envelope) is over 6 MB
            status, (out_headers, out_body) = 413, gateway_error(413)
        except ResponseTooLarge as error:  # Lambda refused to return it: API Gateway has no answer to relay
            print(error, file=sys.stderr)
            status, (out_headers, out_body) = 502, gateway_error(502)
        except InvocationError as error:  # API Gateway answers a crashed integration with a 500
            print(error, file=sys.stderr)
            status, (out_headers, out_body) = 500, gateway_error(500)
        self._send(status, out_headers, out_body)
        self._log(binding.route.key, status, started)

    def _read_body(self) -> bytes:
        """The body, framed by Content-Length or chunked transfer coding, read with bounds before any
        conversion; BadFraming (400, or 413 over MAX_BODY) for anything else."""
        encoding = self.headers.get("transfer-encoding")
        if encoding is not None:
            if encoding.strip().lower() != "chunked":
                raise BadFraming(400)
            return self._read_chunked()
        lengths = {value.strip() for value in self.headers.get_all("content-length") or []}
        if not lengths:
            return b""
        if len(lengths) != 1:
            raise BadFraming(400)
        (text,) = lengths
        if not _DECIMAL.match(text) or len(text) > MAX_LENGTH_DIGITS:
            raise BadFraming(400 if not _DECIMAL.match(text) else 413)
        length = int(text)
        if length > MAX_BODY:
            raise BadFraming(413)
        data = self.rfile.read(length) if length else b""
        if len(data) != length:
            raise BadFraming(400)
        return data

    def _read_chunked(self) -> bytes:
        chunks, total = [], 0
        while True:
            line = self.rfile.readline(MAX_CHUNK_LINE + 1)
            if not line.endswith(b"\n") or len(line) > MAX_CHUNK_LINE:
                raise BadFraming(400)
            size_text = line.split(b";", 1)[0].strip()
            if not _HEX.match(size_text):
                raise BadFraming(400)
            size = int(size_text, 16)
            if size == 0:
                break
            total += size
            if total > MAX_BODY:
                raise BadFraming(413)
            chunk = self.rfile.read(size)
            if len(chunk) != size or self.rfile.readline(3) not in (b"\r\n", b"\n"):
                raise BadFraming(400)
            chunks.append(chunk)
        for _ in range(100):  # trailer fields, up to the empty line
            line = self.rfile.readline(MAX_CHUNK_LINE + 1)
            if line in (b"\r\n", b"\n"):
                return b"".join(chunks)
            if not line.endswith(b"\n"):
                raise BadFraming(400)
        raise BadFraming(400)

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """http.server's own errors (a request line over 64 KiB: 414; over 100 headers or a header line over
        64 KiB: 431; a malformed request line: 400) as API Gateway's JSON, never an HTML page."""
        self.close_connection = True
        headers, body = gateway_error(code)
        try:
            self.send_response(code)
            self.send_header("Content-Type", headers["Content-Type"])
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Connection", "close")
            self.end_headers()
            if self.command != "HEAD" and code >= 200 and code not in (204, 304):
                self.wfile.write(body)
        except OSError:
            pass
        self._log("-", code, time.perf_counter())

    def _send(self, status: int, headers: dict[str, str], body: bytes) -> None:
        self.send_response(status)
        for name, value in headers.items():
            if name.lower() not in ("content-length", "connection", "transfer-encoding"):
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _log(self, route: str, status: int, started: float) -> None:
        # The route key, never the raw path: a callback path carries its credential.
        method = str(getattr(self, "command", None) or "-")[:16]
        print(f"{method:7} {route} -> {status} ({(time.perf_counter() - started) * 1000:.1f} ms)", file=sys.stderr)

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

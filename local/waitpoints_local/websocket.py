"""A WebSocket server that behaves like an API Gateway WebSocket API, and its `@connections` management API.

Clients connect to `url` (ws://127.0.0.1:<port>/<stage>). Each connection, message and disconnection becomes
the Lambda proxy event API Gateway sends ($connect with headers and query string, messages routed by the
template's RouteSelectionExpression, $disconnect with its status code), handed to `invoke` (the realtime
function's ContainerPool or LocalFunction). A route with a route response sends the function's `body` back.

`management_url` (http://127.0.0.1:<port>/<stage>) speaks the `apigatewaymanagementapi` wire protocol:
POST/GET/DELETE /@connections/{id}, 410 GoneException for a connection that is not open, 413 over 128 KB, so
boto3's client with `endpoint_url=management_url` is what writes to connections, as on AWS.
"""

from __future__ import annotations

import base64
import json
import secrets
import sys
import threading
import time
import uuid
from datetime import UTC, datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, unquote, urlsplit

from websockets.datastructures import Headers
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Response
from websockets.sync.server import ServerConnection, serve

from .template import Template

if TYPE_CHECKING:
    from collections.abc import Callable

    from websockets.http11 import Request
    from websockets.sync.server import Server

MESSAGE_LIMIT = 128 * 1024  # API Gateway's WebSocket message payload limit (frames: 32 KB)


class WebSocketRoutes:
    """The WebSocket API's routes as template.yaml declares them."""

    def __init__(self, template: Template | None = None) -> None:
        template = template or Template()
        apis = {lid: p for lid, p in template.resources_of_type("AWS::ApiGatewayV2::Api").items()}
        (self.api_id, api), *_ = [(lid, p) for lid, p in apis.items() if p.get("ProtocolType") == "WEBSOCKET"]
        self.selection = str(api.get("RouteSelectionExpression", "$request.body.action"))
        routes = {
            lid: p
            for lid, p in template.resources_of_type("AWS::ApiGatewayV2::Route").items()
            if p.get("ApiId") == {"Ref": self.api_id}
        }
        self.keys = {str(p["RouteKey"]) for p in routes.values()}
        self.two_way = {
            str(routes[p["RouteId"]["Ref"]]["RouteKey"])
            for p in template.resources_of_type("AWS::ApiGatewayV2::RouteResponse").values()
            if p.get("RouteId", {}).get("Ref") in routes
        }

    def select(self, body: str | None) -> str:
        """The route of a message: `$request.body.<field>` of a JSON object, if such a route exists."""
        field = self.selection.removeprefix("$request.body.")
        try:
            value = json.loads(body or "")
        except ValueError:
            value = None
        key = value.get(field) if isinstance(value, dict) else None
        return key if isinstance(key, str) and key in self.keys and not key.startswith("$") else "$default"


class _Client:
    def __init__(self, connection_id: str, ws: ServerConnection | None, connected_at: int, source_ip: str, agent: str):
        self.id, self.ws, self.connected_at = connection_id, ws, connected_at
        self.source_ip, self.user_agent = source_ip, agent
        self.last_active_at = connected_at
        self.open = True


class WebSocketGateway:
    def __init__(
        self,
        invoke: Callable[[dict[str, Any]], Any],
        routes: WebSocketRoutes | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        stage: str = "local",
    ) -> None:
        self.invoke, self.routes, self.host, self.stage = invoke, routes or WebSocketRoutes(), host, stage
        self._port = port
        self._ws_port = 0
        self._clients: dict[str, _Client] = {}
        self._lock = threading.Lock()
        self._server: Server | None = None
        self._management: ThreadingHTTPServer | None = None
        self._threads: list[threading.Thread] = []

    # --- lifecycle ------------------------------------------------------------------------------------------

    def start(self) -> WebSocketGateway:
        self._server = serve(
            self._serve_connection,
            self.host,
            self._port,
            process_request=self._connect,
            select_subprotocol=_select_subprotocol,
            compression=None,  # API Gateway negotiates no extensions
            max_size=MESSAGE_LIMIT,
            server_header=None,
        )
        self._ws_port = int(self._server.socket.getsockname()[1])
        self._management = _ManagementServer((self.host, 0), self)
        for name, target in (
            ("ws-gateway", self._server.serve_forever),
            ("ws-management", self._management.serve_forever),
        ):
            thread = threading.Thread(target=target, name=name, daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    @property
    def url(self) -> str:
        assert self._server, "start() first"
        return f"ws://{self.host}:{self._ws_port}/{self.stage}"

    @property
    def management_url(self) -> str:
        assert self._management, "start() first"
        return f"http://{self.host}:{self._management.server_address[1]}/{self.stage}"

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
        if self._management:
            self._management.shutdown()
            self._management.server_close()
        for thread in self._threads:
            thread.join(timeout=5)

    def __enter__(self) -> WebSocketGateway:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def idle(self) -> bool:
        """No connection open, and every $disconnect has run."""
        with self._lock:
            return not self._clients

    @property
    def connection_ids(self) -> list[str]:
        with self._lock:
            return [c.id for c in self._clients.values() if c.open]

    # --- the WebSocket side ---------------------------------------------------------------------------------

    def _context(self, client: _Client, route: str, kind: str) -> dict[str, Any]:
        now = time.time()
        return {
            "routeKey": route,
            "eventType": kind,
            "extendedRequestId": uuid.uuid4().hex[:16],
            "requestTime": datetime.fromtimestamp(now, UTC).strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "messageDirection": "IN",
            "stage": self.stage,
            "connectedAt": client.connected_at,
            "requestTimeEpoch": int(now * 1000),
            "identity": {"sourceIp": client.source_ip, "userAgent": client.user_agent},
            "requestId": uuid.uuid4().hex[:16],
            "domainName": f"{self.host}:{self._ws_port}",
            "connectionId": client.id,
            "apiId": "local",
        }

    def _connect(self, ws: ServerConnection, request: Request) -> Response | None:
        """$connect, during the handshake: a non-2xx answer refuses the connection with that status."""
        connection_id = base64.urlsafe_b64encode(secrets.token_bytes(11)).decode()
        source_ip = str(ws.remote_address[0]) if ws.remote_address else "127.0.0.1"
        client = _Client(connection_id, None, int(time.time() * 1000), source_ip, request.headers.get("User-Agent", ""))
        headers: dict[str, str] = {}
        multi: dict[str, list[str]] = {}
        for name, value in request.headers.raw_items():
            headers[name] = f"{headers[name]},{value}" if name in headers else value
            multi.setdefault(name, []).append(value)
        event: dict[str, Any] = {
            "headers": headers,
            "multiValueHeaders": multi,
            "requestContext": self._context(client, "$connect", "CONNECT"),
            "isBase64Encoded": False,
        }
        query = parse_qsl(urlsplit(request.path).query, keep_blank_values=True)
        if query:
            event["queryStringParameters"] = dict(query)
            event["multiValueQueryStringParameters"] = {k: [v for q, v in query if q == k] for k, _ in query}
        try:
            result = self.invoke(event)
        except Exception as exc:
            print(f"$connect failed: {exc}", file=sys.stderr)
            return _http(HTTPStatus.INTERNAL_SERVER_ERROR)
        status = int(result.get("statusCode", 200)) if isinstance(result, dict) else 200
        if not 200 <= status < 300:
            return _http(HTTPStatus(status))
        ws.waitpoints_client = client  # type: ignore[attr-defined]
        ws.waitpoints_protocol = ((result or {}).get("headers") or {}).get("Sec-WebSocket-Protocol")  # type: ignore[attr-defined]
        return None

    def _serve_connection(self, ws: ServerConnection) -> None:
        client: _Client = ws.waitpoints_client  # type: ignore[attr-defined]
        client.ws = ws
        with self._lock:
            self._clients[client.id] = client
        code, reason = 1006, ""
        try:
            for message in ws:
                client.last_active_at = int(time.time() * 1000)
                self._message(client, message)
        except ConnectionClosed:
            pass
        finally:
            client.open = False
            if ws.close_code is not None:
                code, reason = ws.close_code, ws.close_reason or ""
            self._disconnect(client, code, reason)
            with self._lock:
                self._clients.pop(client.id, None)

    def _message(self, client: _Client, message: str | bytes) -> None:
        binary = isinstance(message, bytes)
        body = base64.b64encode(message).decode() if isinstance(message, bytes) else message
        route = "$default" if binary else self.routes.select(message)  # type: ignore[arg-type]
        context = {**self._context(client, route, "MESSAGE"), "messageId": uuid.uuid4().hex[:16]}
        event = {"requestContext": context, "body": body, "isBase64Encoded": binary}
        try:
            result = self.invoke(event)
        except Exception as exc:
            print(f"{route} failed: {exc}", file=sys.stderr)
            error = {"message": "Internal server error", "connectionId": client.id, "requestId": context["requestId"]}
            self._send(client, json.dumps(error).encode())
            return
        if route in self.routes.two_way and isinstance(result, dict) and result.get("body"):
            raw = result["body"]
            self._send(client, base64.b64decode(raw) if result.get("isBase64Encoded") else str(raw).encode())

    def _disconnect(self, client: _Client, code: int, reason: str) -> None:
        context = {**self._context(client, "$disconnect", "DISCONNECT"), "disconnectStatusCode": code}
        context["disconnectReason"] = reason
        try:
            self.invoke({"headers": {}, "requestContext": context, "isBase64Encoded": False})
        except Exception as exc:
            print(f"$disconnect failed: {exc}", file=sys.stderr)

    @staticmethod
    def _send(client: _Client, data: bytes) -> bool:
        assert client.ws is not None
        try:
            client.ws.send(data.decode())  # text frames: the API's messages are JSON
        except (ConnectionClosed, UnicodeDecodeError):
            return False
        return True

    # --- the @connections side --------------------------------------------------------------------------------

    def client(self, connection_id: str) -> _Client | None:
        with self._lock:
            client = self._clients.get(connection_id)
        return client if client and client.open else None

    def post(self, connection_id: str, data: bytes) -> bool:
        client = self.client(connection_id)
        return client is not None and self._send(client, data)

    def close(self, connection_id: str) -> bool:
        client = self.client(connection_id)
        if client is None or client.ws is None:
            return False
        client.open = False
        threading.Thread(target=client.ws.close, args=(1000, "Connection closed by the server"), daemon=True).start()
        return True


def _select_subprotocol(ws: ServerConnection, offered: Any) -> Any:
    chosen = getattr(ws, "waitpoints_protocol", None)
    return chosen if chosen in offered else None


def _http(status: HTTPStatus) -> Response:
    body = json.dumps({"message": status.phrase}).encode()
    headers = Headers([("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return Response(status.value, status.phrase, headers, body)


class _ManagementServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], gateway: WebSocketGateway) -> None:
        super().__init__(address, _ManagementHandler)
        self.gateway = gateway


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


class _ManagementHandler(BaseHTTPRequestHandler):
    """apigatewaymanagementapi (restJson1): errors carry `x-amzn-ErrorType`, which botocore turns into
    `client.exceptions.GoneException` and friends."""

    protocol_version = "HTTP/1.1"
    server: _ManagementServer

    def _connection_id(self) -> str | None:
        path = urlsplit(self.path).path
        head, marker, tail = path.partition("/@connections/")
        if not marker or head.strip("/") not in ("", self.server.gateway.stage) or not tail or "/" in tail:
            return None
        return unquote(tail)

    def do_POST(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        data = self.rfile.read(length) if length else b""
        connection_id = self._connection_id()
        if connection_id is None:
            self._answer(404, error="NotFoundException")
        elif length > MESSAGE_LIMIT:
            self._answer(413, error="PayloadTooLargeException")
        elif not self.server.gateway.post(connection_id, data):
            self._answer(410, error="GoneException")
        else:
            self._answer(200)

    def do_DELETE(self) -> None:
        connection_id = self._connection_id()
        if connection_id is None:
            self._answer(404, error="NotFoundException")
        elif not self.server.gateway.close(connection_id):
            self._answer(410, error="GoneException")
        else:
            self._answer(204)

    def do_GET(self) -> None:
        connection_id = self._connection_id()
        client = self.server.gateway.client(connection_id) if connection_id else None
        if client is None:
            self._answer(410, error="GoneException")
            return
        self._answer(
            200,
            {
                "connectedAt": _iso(client.connected_at),
                "lastActiveAt": _iso(client.last_active_at),
                "identity": {"sourceIp": client.source_ip, "userAgent": client.user_agent},
            },
        )

    def _answer(self, status: int, body: dict[str, Any] | None = None, error: str | None = None) -> None:
        payload = b""
        if error is not None:
            payload = json.dumps({"message": error}).encode()
        elif body is not None:
            payload = json.dumps(body).encode()
        self.send_response(status)
        if error is not None:
            self.send_header("x-amzn-ErrorType", error)
        if payload:
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:
        return

"""The local stack answers like a server (issue 14, #8), over raw sockets where a client library would refuse
to send the request: broken framing is a prompt 400 in JSON, an over-long request line or too many headers a
JSON 414/431, every method gets a JSON answer (405 with Allow on a path that has other methods, else 404
{"error": ...}), and the Host header never reaches a callback URL.

Framing and size answers come from API Gateway itself on AWS (`{"message": ...}`), so those tests run only
against the local stack; the routing answers come from the `$default` route's function and hold on both."""

from __future__ import annotations

import json
import socket
import time
from urllib.parse import urlsplit

import httpx
import pytest

from .conftest import Stack
from .helpers import create

TOKENS = "/api/v1/waitpoints/tokens"
PROMPT = 5.0  # seconds: an answer, not a hang until the client gives up


def raw_request(stack: Stack, data: bytes, timeout: float = 15) -> tuple[int, dict[str, str], bytes, float]:
    """Send bytes as they are; read one response (status, headers, body) and how long it took."""
    url = urlsplit(stack.url)
    started = time.monotonic()
    with socket.create_connection((url.hostname, url.port or 80), timeout=timeout) as sock:
        sock.sendall(data)
        received = b""
        while b"\r\n\r\n" not in received:
            chunk = sock.recv(65536)
            if not chunk:
                break
            received += chunk
        head, _, body = received.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
        length = int(headers.get("content-length", "0"))
        while len(body) < length:
            chunk = sock.recv(65536)
            if not chunk:
                break
            body += chunk
    return status, headers, body[:length], time.monotonic() - started


def request_bytes(method: str, target: str, stack: Stack, *extra: str, body: bytes = b"") -> bytes:
    url = urlsplit(stack.url)
    lines = [f"{method} {target} HTTP/1.1", f"Host: {url.netloc}", f"Authorization: Bearer {stack.key}", *extra]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


@pytest.fixture
def local_only(stack: Stack) -> None:
    if stack.aws_endpoint is None:
        pytest.skip("API Gateway itself answers framing and size errors on AWS")


@pytest.mark.usefixtures("local_only")
@pytest.mark.parametrize("length", ["-1", "abc", "1e3", "0x10", " ", "+5", "5, 6", "١٢"])
def test_a_content_length_that_is_not_a_decimal_number_is_a_prompt_400(stack: Stack, length: str) -> None:
    data = request_bytes("POST", TOKENS, stack, f"Content-Length: {length}", "Content-Type: application/json")
    status, headers, body, took = raw_request(stack, data + b"{}")
    assert status == 400 and took < PROMPT, (status, took)
    assert headers["content-type"] == "application/json" and json.loads(body) == {"message": "Bad Request"}


@pytest.mark.usefixtures("local_only")
def test_two_different_content_lengths_are_400(stack: Stack) -> None:
    data = request_bytes("POST", TOKENS, stack, "Content-Length: 2", "Content-Length: 3")
    assert raw_request(stack, data + b"{} ")[0] == 400


@pytest.mark.usefixtures("local_only")
def test_a_content_length_of_a_hundred_digits_is_413_without_reading(stack: Stack) -> None:
    data = request_bytes("POST", TOKENS, stack, "Content-Length: " + "9" * 100)
    status, _, body, took = raw_request(stack, data)
    assert status == 413 and took < PROMPT and json.loads(body) == {"message": "Request Entity Too Large"}


@pytest.mark.usefixtures("local_only")
@pytest.mark.parametrize(
    "chunks",
    [b"zz\r\n{}\r\n0\r\n\r\n", b"-2\r\n{}\r\n0\r\n\r\n", b"2\r\n{}XX0\r\n\r\n", b"2" * 2000 + b"\r\n", b"\r\n\r\n"],
)
def test_a_bad_chunk_is_a_prompt_400(stack: Stack, chunks: bytes) -> None:
    data = request_bytes("POST", TOKENS, stack, "Transfer-Encoding: chunked", "Content-Type: application/json")
    status, _, body, took = raw_request(stack, data + chunks)
    assert status == 400 and took < PROMPT, (status, took)
    assert json.loads(body) == {"message": "Bad Request"}


@pytest.mark.usefixtures("local_only")
def test_an_unsupported_transfer_encoding_is_400(stack: Stack) -> None:
    data = request_bytes("POST", TOKENS, stack, "Transfer-Encoding: gzip", "Content-Type: application/json")
    assert raw_request(stack, data + b"{}")[0] == 400


@pytest.mark.usefixtures("local_only")
def test_a_well_formed_chunked_body_still_works(stack: Stack) -> None:
    body = b'{"tags":["chunked"]}'
    chunks = b"%x\r\n%s\r\n0\r\nX-Trailer: 1\r\n\r\n" % (len(body), body)
    data = request_bytes("POST", TOKENS, stack, "Transfer-Encoding: chunked", "Content-Type: application/json")
    status, _, answer, _ = raw_request(stack, data + chunks)
    assert status == 200 and json.loads(answer)["id"].startswith("waitpoint_")


@pytest.mark.usefixtures("local_only")
def test_an_overlong_url_is_a_json_414(stack: Stack) -> None:
    status, headers, body, _ = raw_request(stack, request_bytes("GET", TOKENS + "?x=" + "a" * 70_000, stack))
    assert status == 414 and headers["content-type"] == "application/json"
    assert json.loads(body) == {"message": "Request-URI Too Long"}


@pytest.mark.usefixtures("local_only")
@pytest.mark.parametrize("extra", [[f"X-Junk-{i}: j" for i in range(150)], ["X-Long: " + "h" * 70_000]])
def test_too_many_or_too_long_headers_are_a_json_431(stack: Stack, extra: list[str]) -> None:
    status, headers, body, _ = raw_request(stack, request_bytes("GET", TOKENS, stack, *extra))
    assert status == 431 and headers["content-type"] == "application/json"
    assert json.loads(body) == {"message": "Request Header Fields Too Large"}


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("TRACE", TOKENS, "GET, POST"),
        ("DELETE", TOKENS, "GET, POST"),
        ("PUT", f"{TOKENS}/waitpoint_{'a' * 25}", "GET"),
        ("PATCH", f"{TOKENS}/waitpoint_{'a' * 25}", "GET"),
        ("GET", f"{TOKENS}/waitpoint_{'a' * 25}/complete", "OPTIONS, POST"),
        ("OPTIONS", TOKENS, "GET, POST"),
        ("POST", "/api/v1/openapi.json", "GET"),
        ("FROB", TOKENS, "GET, POST"),
    ],
)
def test_a_known_path_with_another_method_is_405_with_allow(stack: Stack, method: str, path: str, allow: str) -> None:
    status, headers, body, _ = raw_request(stack, request_bytes(method, path, stack))
    assert status == 405, (status, body)
    assert headers["allow"] == allow and headers["content-type"] == "application/json"
    assert json.loads(body).keys() == {"error"}


def test_head_on_an_api_route_is_405_with_allow_and_no_body(stack: Stack) -> None:
    with httpx.Client(base_url=stack.url, timeout=30) as client:
        response = client.head(TOKENS, headers={"Authorization": f"Bearer {stack.key}"})
    assert response.status_code == 405 and response.headers["allow"] == "GET, POST" and response.content == b""


@pytest.mark.parametrize(
    ("method", "path"), [("GET", "/"), ("TRACE", "/nowhere"), ("POST", "/api/v1/other"), ("GET", f"{TOKENS}/a/b/c")]
)
def test_an_unknown_path_is_404_error_json_for_every_method(stack: Stack, method: str, path: str) -> None:
    status, headers, body, _ = raw_request(stack, request_bytes(method, path, stack))
    assert status == 404 and headers["content-type"] == "application/json"
    assert json.loads(body) == {"error": "No such route"}


@pytest.mark.usefixtures("local_only")
@pytest.mark.parametrize("host", ["evil.example", "evil.example:443", "127.0.0.1:1"])
def test_the_host_header_never_reaches_a_callback_url(stack: Stack, host: str) -> None:
    data = (
        f"POST {TOKENS} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {stack.key}\r\n"
        "Content-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"
    ).encode()
    status, _, body, _ = raw_request(stack, data)
    assert status == 200
    token = json.loads(body)
    assert token["url"].startswith(stack.url + TOKENS + "/"), token["url"]
    with httpx.Client(base_url=stack.url, timeout=30, headers={"Host": host}) as client:
        listed = client.get(TOKENS, headers={"Authorization": f"Bearer {stack.key}"}).json()["data"]
        fetched = client.get(f"{TOKENS}/{token['id']}", headers={"Authorization": f"Bearer {stack.key}"}).json()
    assert all(item["url"].startswith(stack.url) for item in listed) and fetched["url"] == token["url"]


def test_created_tokens_are_unaffected(api: httpx.Client, stack: Stack) -> None:
    assert create(api)["url"].startswith(stack.url)

"""The sync Client on httpx.MockTransport: request shapes, parsing, error mapping, retries, paging, polling.

Mirrored by test_client_async.py: a test here has a twin of the same name there.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import httpx
import pytest
import waitpoints
from waitpoints import (
    APIConnectionError,
    APIResponseValidationError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    Client,
    CreatedToken,
    InternalServerError,
    NotFoundError,
    PayloadTooLargeError,
    PermissionDeniedError,
    RateLimitError,
    RetryPolicy,
    TokenStatus,
    UnprocessableEntityError,
    WaitpointTimeoutError,
    WaitTimeoutError,
)

from .wire import API, KEY, TOKEN_ID, URL, Recorder, completed, created, error, ok, page, timed_out, token


def make(recorder: Recorder, **options: object) -> tuple[Client, list[float]]:
    client = Client(API, KEY, http_client=httpx.Client(transport=httpx.MockTransport(recorder)), **options)  # type: ignore[arg-type]
    delays: list[float] = []
    client._sleep = delays.append  # type: ignore[method-assign]
    return client, delays


# --- create ---------------------------------------------------------------------------------------


def test_create_sends_every_option_in_the_api_shape() -> None:
    recorder = Recorder(ok(created()))
    client, _ = make(recorder)
    result = client.create_token(
        timeout=timedelta(minutes=1, seconds=30),
        idempotency_key="order-42",
        idempotency_key_ttl=timedelta(hours=2),
        tags="order:42",
    )
    request = recorder.last
    assert (request.method, request.url) == ("POST", httpx.URL(f"{API}/api/v1/waitpoints/tokens"))
    assert request.headers["Authorization"] == f"Bearer {KEY}"
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["User-Agent"].startswith("waitpoints-python/")
    assert recorder.body() == {
        "timeout": "90s",
        "idempotencyKey": "order-42",
        "idempotencyKeyTTL": "7200s",
        "tags": ["order:42"],
    }
    assert result == CreatedToken(TOKEN_ID, URL, False, "eyJ.pat.sig")


def test_create_without_options_sends_an_empty_object() -> None:
    recorder = Recorder(ok(created()))
    client, _ = make(recorder)
    client.create_token()
    assert recorder.last.content == b"{}"


def test_create_timeout_datetime_is_sent_as_utc_iso_with_milliseconds() -> None:
    recorder = Recorder(ok(created()))
    client, _ = make(recorder)
    client.create_token(
        timeout=datetime(2030, 1, 1, 2, 0, 0, 123456, tzinfo=timezone(timedelta(hours=2))), tags=["a", "b"]
    )
    assert recorder.body() == {"timeout": "2030-01-01T00:00:00.123Z", "tags": ["a", "b"]}


def test_create_rejects_a_naive_datetime_before_sending() -> None:
    recorder = Recorder(ok(created()))
    client, _ = make(recorder)
    with pytest.raises(ValueError, match="naive"):
        client.create_token(timeout=datetime(2030, 1, 1))
    assert recorder.requests == []


def test_create_reads_the_access_token_header_when_the_body_has_none() -> None:
    body = created()
    del body["publicAccessToken"]
    client, _ = make(Recorder(ok(body, headers={"x-trigger-jwt": "eyJ.header.sig"})))
    assert client.create_token().public_access_token == "eyJ.header.sig"


def test_cached_create_is_reported() -> None:
    client, _ = make(Recorder(ok(created(isCached=True))))
    assert client.create_token(idempotency_key="k").is_cached is True


# --- retrieve -------------------------------------------------------------------------------------


def test_retrieve_parses_dates_status_and_tags() -> None:
    recorder = Recorder(
        ok(token(tags=["x", "y"], idempotencyKey="k", idempotencyKeyExpiresAt="2026-11-23T22:10:58.480Z"))
    )
    client, _ = make(recorder)
    result = client.retrieve_token(CreatedToken(TOKEN_ID, URL, False, "pat"))
    assert (recorder.last.method, recorder.last.url.path) == ("GET", f"/api/v1/waitpoints/tokens/{TOKEN_ID}")
    assert recorder.last.content == b""
    assert result.status is TokenStatus.WAITING and not result.is_final
    assert result.created_at == datetime(2026, 11, 23, 21, 10, 58, 480000, tzinfo=UTC)
    assert result.timeout_at == datetime(2026, 11, 23, 21, 20, 58, 480000, tzinfo=UTC)
    assert result.idempotency_key_expires_at is not None and result.idempotency_key_expires_at.tzinfo is not None
    assert result.tags == ("x", "y") and result.idempotency_key == "k"
    assert result.output is None and result.error is None and result.completed_at is None


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (completed({"status": "approved", "n": [1, 2.5, None]}), {"status": "approved", "n": [1, 2.5, None]}),
        (completed("approved", "text/plain"), "approved"),
        (completed(42), 42),
        (completed(None), None),
        (token(status="COMPLETED", output='{"json":{"a":1}}', outputType="application/super+json"), {"a": 1}),
        (token(status="COMPLETED", output="not json", outputType="application/json"), "not json"),
        (token(status="COMPLETED"), None),
    ],
)
def test_retrieve_parses_the_output_by_its_type(body: dict[str, object], expected: object) -> None:
    client, _ = make(Recorder(ok(body)))
    result = client.retrieve_token(TOKEN_ID)
    assert result.status is TokenStatus.COMPLETED and result.output == expected and result.error is None


def test_retrieve_of_a_timed_out_token_has_an_error_and_no_output() -> None:
    client, _ = make(Recorder(ok(timed_out())))
    result = client.retrieve_token(TOKEN_ID)
    assert result.status is TokenStatus.TIMED_OUT and result.output is None
    assert isinstance(result.error, WaitpointTimeoutError)
    assert result.error.message == "Waitpoint timed out at 2026-11-23T21:20:58.480Z"
    assert result.error.token_id == TOKEN_ID and result.error.timeout_at == result.timeout_at


def test_retrieve_keeps_the_api_json() -> None:
    body = completed({"a": 1})
    client, _ = make(Recorder(ok(body)))
    assert client.retrieve_token(TOKEN_ID).to_dict() == body


def test_retrieve_escapes_the_id_in_the_path() -> None:
    recorder = Recorder(ok(token()))
    client, _ = make(recorder)
    client.retrieve_token("a/b?c")
    assert recorder.last.url.raw_path == b"/api/v1/waitpoints/tokens/a%2Fb%3Fc"


@pytest.mark.parametrize(
    "body",
    [
        {"id": TOKEN_ID},
        token(status="PENDING"),
        token(createdAt="yesterday"),
        token(tags="x") | {"tags": [1]},
        ["not", "an", "object"],
    ],
)
def test_a_malformed_success_is_a_response_validation_error(body: object) -> None:
    client, _ = make(Recorder(ok(body)))
    with pytest.raises(APIResponseValidationError, match="Unexpected response from GET"):
        client.retrieve_token(TOKEN_ID)


def test_a_non_json_success_is_a_response_validation_error() -> None:
    client, _ = make(Recorder(httpx.Response(200, text="<html>proxy</html>")))
    with pytest.raises(APIResponseValidationError) as caught:
        client.retrieve_token(TOKEN_ID)
    assert caught.value.status_code == 200


# --- complete -------------------------------------------------------------------------------------


def test_complete_wraps_the_data_and_returns_true() -> None:
    recorder = Recorder(ok({"success": True}))
    client, _ = make(recorder)
    assert client.complete_token(TOKEN_ID, {"status": "approved"}) is True
    assert (recorder.last.method, recorder.last.url.path) == ("POST", f"/api/v1/waitpoints/tokens/{TOKEN_ID}/complete")
    assert recorder.body() == {"data": {"status": "approved"}}


@pytest.mark.parametrize(("header", "completed"), [("true", True), ("false", False), (None, True)])
def test_complete_says_whether_this_call_completed_the_token(header: str | None, completed: bool) -> None:
    """X-Waitpoints-Completed: false when the token was already final; a server without it (Trigger.dev) gives True."""
    headers = {"X-Waitpoints-Completed": header} if header else None
    client, _ = make(Recorder(ok({"success": True}, headers=headers)))
    assert client.complete_token(TOKEN_ID) is completed


def test_complete_without_data_sends_an_empty_object_and_none_sends_null() -> None:
    recorder = Recorder(ok({"success": True}))
    client, _ = make(recorder)
    client.complete_token(TOKEN_ID)
    client.complete_token(TOKEN_ID, None)
    client.complete_token(TOKEN_ID, "text")
    assert [recorder.body(i) for i in range(3)] == [{}, {"data": None}, {"data": "text"}]


def test_complete_sends_unicode_as_utf8_json() -> None:
    recorder = Recorder(ok({"success": True}))
    client, _ = make(recorder)
    client.complete_token(TOKEN_ID, {"name": "Zoë ✓"})
    assert "Zoë ✓".encode() in recorder.last.content


def test_complete_with_success_false_is_a_response_validation_error() -> None:
    client, _ = make(Recorder(ok({"success": False})))
    with pytest.raises(APIResponseValidationError):
        client.complete_token(TOKEN_ID, 1)


def test_complete_with_a_public_access_token_sends_it_as_the_bearer() -> None:
    recorder = Recorder(ok({"success": True}))
    client, _ = make(recorder)
    client.with_options(secret_key="eyJ.pat.sig").complete_token(TOKEN_ID, 1)
    assert recorder.last.headers["Authorization"] == "Bearer eyJ.pat.sig"
    client.complete_token(TOKEN_ID, 1)
    assert recorder.last.headers["Authorization"] == f"Bearer {KEY}"


# --- errors ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (400, BadRequestError),
        (401, AuthenticationError),
        (403, PermissionDeniedError),
        (404, NotFoundError),
        (413, PayloadTooLargeError),
        (422, UnprocessableEntityError),
        (405, APIStatusError),
        (415, APIStatusError),
    ],
)
def test_error_statuses_map_to_exceptions_with_the_servers_message_and_are_not_retried(
    status: int, kind: type[APIStatusError]
) -> None:
    recorder = Recorder(error(status, "timeout: '5x' is not a duration"))
    client, delays = make(recorder)
    with pytest.raises(kind) as caught:
        client.create_token(timeout="5x")
    assert type(caught.value) is kind
    assert caught.value.message == "timeout: '5x' is not a duration"
    assert caught.value.status_code == status and caught.value.body == {"error": "timeout: '5x' is not a duration"}
    assert str(caught.value) == f"timeout: '5x' is not a duration (HTTP {status})"
    assert len(recorder.requests) == 1 and delays == []


def test_an_error_without_json_uses_the_text() -> None:
    client, _ = make(Recorder(httpx.Response(404, text="Not Found")))
    with pytest.raises(NotFoundError, match="Not Found"):
        client.retrieve_token(TOKEN_ID)


def test_a_problem_json_error_uses_its_error_field() -> None:
    body = {
        "title": "Unauthorized",
        "status": 401,
        "detail": "No authorization header provided",
        "error": "No authorization header provided",
    }
    client, _ = make(Recorder(ok(body, status=401)))
    with pytest.raises(AuthenticationError, match="No authorization header provided"):
        client.retrieve_token(TOKEN_ID)


# --- retries --------------------------------------------------------------------------------------


def test_5xx_is_retried_with_growing_backoff_then_raised() -> None:
    recorder = Recorder(error(503, "Service Unavailable"))
    client, delays = make(recorder, retry_policy=RetryPolicy(max_retries=3, initial_delay=0.5, max_delay=1.5))
    with pytest.raises(InternalServerError, match="Service Unavailable") as caught:
        client.retrieve_token(TOKEN_ID)
    assert caught.value.status_code == 503
    assert len(recorder.requests) == 4 and len(delays) == 3
    assert 0.375 <= delays[0] <= 0.5 and 0.75 <= delays[1] <= 1.0 and 1.125 <= delays[2] <= 1.5


def test_5xx_then_success_returns_the_success() -> None:
    recorder = Recorder(error(500), error(502), ok(token()))
    client, delays = make(recorder)
    assert client.retrieve_token(TOKEN_ID).id == TOKEN_ID
    assert len(recorder.requests) == 3 and len(delays) == 2


def test_retries_resend_the_same_body() -> None:
    recorder = Recorder(error(500), ok(created()))
    client, _ = make(recorder)
    client.create_token(idempotency_key="k")
    assert recorder.requests[0].content == recorder.requests[1].content == b'{"idempotencyKey":"k"}'


def test_429_honours_retry_after_seconds() -> None:
    recorder = Recorder(error(429, "Rate limit", {"Retry-After": "2"}), ok(token()))
    client, delays = make(recorder)
    client.retrieve_token(TOKEN_ID)
    assert delays == [2.0]


def test_429_honours_a_retry_after_date() -> None:
    at = datetime.now(UTC) + timedelta(seconds=30)
    recorder = Recorder(error(429, headers={"Retry-After": at.strftime("%a, %d %b %Y %H:%M:%S GMT")}), ok(token()))
    client, delays = make(recorder)
    client.retrieve_token(TOKEN_ID)
    assert 25 <= delays[0] <= 30


def test_429_honours_triggers_ratelimit_reset() -> None:
    reset = int((datetime.now(UTC) + timedelta(seconds=3)).timestamp() * 1000)
    recorder = Recorder(error(429, headers={"x-ratelimit-reset": str(reset)}), ok(token()))
    client, delays = make(recorder)
    client.retrieve_token(TOKEN_ID)
    assert 1 <= delays[0] <= 3


def test_an_unreasonable_retry_after_falls_back_to_backoff() -> None:
    recorder = Recorder(error(429, headers={"Retry-After": "3600"}), ok(token()))
    client, delays = make(recorder)
    client.retrieve_token(TOKEN_ID)
    assert delays[0] <= 0.5


def test_429_past_the_retries_is_a_rate_limit_error() -> None:
    recorder = Recorder(error(429, "slow down", {"Retry-After": "0"}))
    client, delays = make(recorder, max_retries=2)
    with pytest.raises(RateLimitError, match="slow down"):
        client.retrieve_token(TOKEN_ID)
    assert len(recorder.requests) == 3 and delays == [0.0, 0.0]


def test_network_errors_are_retried_then_raised_as_connection_errors() -> None:
    recorder = Recorder(httpx.ConnectError("connection refused"))
    client, delays = make(recorder, max_retries=2)
    with pytest.raises(APIConnectionError, match="Could not reach the API") as caught:
        client.retrieve_token(TOKEN_ID)
    assert not isinstance(caught.value, APITimeoutError) and caught.value.request is not None
    assert len(recorder.requests) == 3 and len(delays) == 2


def test_a_timeout_is_an_api_timeout_error() -> None:
    recorder = Recorder(httpx.ReadTimeout("read timed out"))
    client, _ = make(recorder, max_retries=1)
    with pytest.raises(APITimeoutError, match="timed out"):
        client.retrieve_token(TOKEN_ID)
    assert len(recorder.requests) == 2


def test_a_network_error_then_success_returns_the_success() -> None:
    recorder = Recorder(httpx.RemoteProtocolError("reset"), ok({"success": True}))
    client, _ = make(recorder)
    assert client.complete_token(TOKEN_ID, 1) is True


def test_max_retries_zero_sends_once() -> None:
    recorder = Recorder(error(503))
    client, delays = make(recorder, max_retries=0)
    with pytest.raises(InternalServerError):
        client.retrieve_token(TOKEN_ID)
    assert len(recorder.requests) == 1 and delays == []


# --- list -----------------------------------------------------------------------------------------


def test_list_sends_triggers_filter_and_page_parameters() -> None:
    recorder = Recorder(ok(page([token()])))
    client, _ = make(recorder)
    since = datetime(2026, 11, 1, tzinfo=UTC)
    list(
        client.list_tokens(
            status=["WAITING", TokenStatus.COMPLETED],
            tags=["a", "b"],
            idempotency_key="k",
            period="7d",
            from_=since,
            to=1795000000000,
            limit=2,
        )
    )
    request = recorder.last
    assert (request.method, request.url.path) == ("GET", "/api/v1/waitpoints/tokens")
    assert dict(request.url.params) == {
        "filter[status]": "WAITING,COMPLETED",
        "filter[tags]": "a,b",
        "filter[idempotencyKey]": "k",
        "filter[createdAt][period]": "7d",
        "filter[createdAt][from]": str(int(since.timestamp() * 1000)),
        "filter[createdAt][to]": "1795000000000",
        "page[size]": "2",
    }
    assert b"filter%5Bstatus%5D=WAITING%2CCOMPLETED" in request.url.query


def test_list_with_no_filters_sends_no_parameters() -> None:
    recorder = Recorder(ok(page([])))
    client, _ = make(recorder)
    assert list(client.list_tokens()) == []
    assert recorder.last.url.query == b""


def test_list_is_lazy_and_follows_next_cursors_keeping_the_filters() -> None:
    first = [token(id=f"waitpoint_{i:025d}") for i in (1, 2)]
    second = [token(id=f"waitpoint_{i:025d}") for i in (3,)]
    recorder = Recorder(ok(page(first, next="c1")), ok(page(second, previous="c0")))
    client, _ = make(recorder)
    tokens = client.list_tokens(status="WAITING", limit=2)
    assert recorder.requests == []
    assert [t.id for t in tokens] == [t["id"] for t in first + second]
    assert len(recorder.requests) == 2
    assert dict(recorder.requests[1].url.params) == {
        "filter[status]": "WAITING",
        "page[size]": "2",
        "page[after]": "c1",
    }


def test_list_items_are_tokens_without_output() -> None:
    client, _ = make(Recorder(ok(page([token(status="COMPLETED", completedAt="2026-11-23T21:11:00.000Z")]))))
    (listed,) = list(client.list_tokens())
    assert listed.status is TokenStatus.COMPLETED and listed.output is None
    assert listed.completed_at == datetime(2026, 11, 23, 21, 11, tzinfo=UTC)


def test_list_pages_gives_each_page_with_its_cursors() -> None:
    recorder = Recorder(ok(page([token()], next="c1")), ok(page([token()], previous="c1")))
    client, _ = make(recorder)
    pages = list(client.list_tokens().pages())
    assert [(p.next_cursor, p.previous_cursor, len(p)) for p in pages] == [("c1", None, 1), (None, "c1", 1)]
    assert pages[0].has_next_page and not pages[1].has_next_page and pages[1].has_previous_page


def test_list_tokens_page_reads_one_page_by_cursor() -> None:
    body = page([token()], next="c2", previous="c0")
    recorder = Recorder(ok(body))
    client, _ = make(recorder)
    result = client.list_tokens_page(tags="t", after="c1")
    assert dict(recorder.last.url.params) == {"filter[tags]": "t", "page[after]": "c1"}
    assert (result.next_cursor, result.previous_cursor) == ("c2", "c0") and result.to_dict() == body
    client.list_tokens_page(before="c0")
    assert dict(recorder.last.url.params) == {"page[before]": "c0"}


@pytest.mark.parametrize("arguments", [{"limit": 0}, {"limit": 101}, {"status": "DONE"}])
def test_list_rejects_bad_arguments_before_sending(arguments: dict[str, object]) -> None:
    recorder = Recorder(ok(page([])))
    client, _ = make(recorder)
    with pytest.raises(ValueError):
        client.list_tokens(**arguments)  # type: ignore[arg-type]
    assert recorder.requests == []


# --- for_token ------------------------------------------------------------------------------------


def test_for_token_polls_with_growing_waits_capped_at_the_poll_interval() -> None:
    far = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    recorder = Recorder(*[ok(token(timeoutAt=far))] * 5, ok(completed({"ok": 1})))
    client, delays = make(recorder)
    result = client.for_token(TOKEN_ID, poll_interval=1.0)
    assert result.ok and result.output == {"ok": 1} and result.error is None and result.unwrap() == {"ok": 1}
    assert result.token.status is TokenStatus.COMPLETED
    assert delays == [0.25, 0.5, 1.0, 1.0, 1.0]
    assert all(r.method == "GET" for r in recorder.requests)


def test_for_token_of_a_completed_token_returns_at_once() -> None:
    recorder = Recorder(ok(completed("yes", "text/plain")))
    client, delays = make(recorder)
    assert client.for_token(TOKEN_ID).unwrap() == "yes"
    assert len(recorder.requests) == 1 and delays == []


def test_for_token_of_a_timed_out_token_is_not_ok_and_unwrap_raises() -> None:
    client, _ = make(Recorder(ok(token()), ok(timed_out())))
    result = client.for_token(TOKEN_ID, poll_interval=0.1)
    assert not result.ok and result.output is None and result.timed_out
    assert isinstance(result.error, WaitpointTimeoutError) and not isinstance(result.error, WaitTimeoutError)
    with pytest.raises(WaitpointTimeoutError, match=r"timed out at 2026-11-23T21:20:58\.480Z"):
        result.unwrap()


def test_for_token_wakes_just_after_the_tokens_own_timeout() -> None:
    soon = (datetime.now(UTC) + timedelta(seconds=0.5)).isoformat()
    client, delays = make(Recorder(ok(token(timeoutAt=soon)), ok(timed_out())))
    client.for_token(TOKEN_ID, poll_interval=60)
    assert delays[0] <= 0.25


def test_for_token_gives_up_when_its_own_timeout_runs_out() -> None:
    recorder = Recorder(ok(token()))
    client, _ = make(recorder)
    result = client.for_token(TOKEN_ID, timeout=0)
    assert not result.ok and not result.timed_out and result.token.status is TokenStatus.WAITING
    assert isinstance(result.error, WaitTimeoutError)
    with pytest.raises(WaitpointTimeoutError, match="still WAITING"):
        result.unwrap()


def test_for_token_propagates_api_errors() -> None:
    client, _ = make(Recorder(error(404, "Waitpoint not found")))
    with pytest.raises(NotFoundError):
        client.for_token(TOKEN_ID)


# --- configuration and lifecycle ------------------------------------------------------------------


def test_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WAITPOINTS_API_URL", "http://127.0.0.1:3000/")
    monkeypatch.setenv("WAITPOINTS_SECRET_KEY", KEY)
    with Client() as client:
        assert client.api_url == "http://127.0.0.1:3000"
        assert KEY not in repr(client)


@pytest.mark.parametrize(
    ("variable", "message"), [("WAITPOINTS_API_URL", "No API URL"), ("WAITPOINTS_SECRET_KEY", "No secret key")]
)
def test_missing_settings_are_a_configuration_error(
    monkeypatch: pytest.MonkeyPatch, variable: str, message: str
) -> None:
    monkeypatch.setenv("WAITPOINTS_API_URL", API)
    monkeypatch.setenv("WAITPOINTS_SECRET_KEY", KEY)
    monkeypatch.delenv(variable)
    with pytest.raises(waitpoints.ConfigurationError, match=message):
        Client()


def test_one_connection_pool_serves_every_call_and_close_closes_it() -> None:
    client = Client(API, KEY)
    pool = client._http
    client.with_options(secret_key="other")  # shares, does not own
    client.close()
    assert pool.is_closed


def test_an_injected_http_client_is_not_closed() -> None:
    http = httpx.Client(transport=httpx.MockTransport(Recorder(ok(token()))))
    with Client(API, KEY, http_client=http):
        pass
    assert not http.is_closed


def test_extra_headers_are_sent() -> None:
    recorder = Recorder(ok(token()))
    client, _ = make(recorder, headers={"x-trace": "1"})
    client.retrieve_token(TOKEN_ID)
    assert recorder.last.headers["x-trace"] == "1"


def test_the_request_carries_the_client_timeout() -> None:
    recorder = Recorder(ok(token()))
    client, _ = make(recorder, timeout=7.0)
    client.retrieve_token(TOKEN_ID)
    assert recorder.last.extensions["timeout"] == {"connect": 7.0, "read": 7.0, "write": 7.0, "pool": 7.0}


def test_the_tokens_json_round_trips() -> None:
    client, _ = make(Recorder(ok(created())))
    assert json.loads(json.dumps(client.create_token().to_dict())) == created()

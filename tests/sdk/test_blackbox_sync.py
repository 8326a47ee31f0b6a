"""The sync SDK against a running stack (the session's local stack): every call, and for_token for real.

test_blackbox_async.py mirrors the parts where async differs.
"""

from __future__ import annotations

import threading
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import islice
from typing import TYPE_CHECKING

import httpx
import pytest
from waitpoints import (
    AuthenticationError,
    BadRequestError,
    Client,
    NotFoundError,
    PayloadTooLargeError,
    PermissionDeniedError,
    Token,
    TokenStatus,
    UnprocessableEntityError,
    WaitpointTimeoutError,
    WaitTimeoutError,
)

if TYPE_CHECKING:
    from collections.abc import Iterator

    from .conftest import SdkStack


@pytest.fixture(scope="module")
def client(sdk_stack: SdkStack) -> Iterator[Client]:
    with Client(sdk_stack.url, sdk_stack.key, max_retries=1) as client:
        yield client


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


# --- create, retrieve, complete -------------------------------------------------------------------


def test_create_with_every_option_is_stored_as_sent(client: Client) -> None:
    key, tags = unique("order"), [unique("order"), "python-sdk"]
    created = client.create_token(
        timeout=timedelta(seconds=90), idempotency_key=key, idempotency_key_ttl=timedelta(minutes=10), tags=tags
    )
    assert created.id.startswith("waitpoint_") and not created.is_cached
    assert created.url.startswith(client.api_url) and "/callback/" in created.url
    assert created.public_access_token.count(".") == 2
    token = client.retrieve_token(created)
    assert (token.id, token.url, token.status, token.tags) == (
        created.id,
        created.url,
        TokenStatus.WAITING,
        tuple(tags),
    )
    assert token.idempotency_key == key
    assert token.timeout_at is not None and token.created_at.tzinfo is not None
    assert token.timeout_at - token.created_at == timedelta(seconds=90)
    assert token.idempotency_key_expires_at is not None
    assert token.idempotency_key_expires_at - token.created_at == timedelta(minutes=10)
    assert token.output is None and token.error is None and token.completed_at is None


def test_a_second_create_with_the_key_is_cached(client: Client) -> None:
    key = unique("idem")
    first = client.create_token(timeout="1h", idempotency_key=key)
    again = client.create_token(timeout="2h", idempotency_key=key, tags=["ignored"])
    assert again.is_cached and again.id == first.id and again.url == first.url


def test_a_datetime_timeout_is_kept_to_the_millisecond(client: Client) -> None:
    at = datetime.now(UTC).replace(microsecond=123000) + timedelta(hours=2)
    created = client.create_token(timeout=at)
    assert client.retrieve_token(created.id).timeout_at == at


def test_complete_then_retrieve_gives_the_parsed_output(client: Client) -> None:
    data = {"status": "approved", "by": "Zoë", "n": [1, 2.5, None, True]}
    created = client.create_token()
    assert client.complete_token(created, data) is True
    token = client.retrieve_token(created)
    assert token.status is TokenStatus.COMPLETED and token.is_final and token.output == data
    assert token.completed_at is not None and token.output_type == "application/json"


@pytest.mark.parametrize(
    ("data", "expected", "output_type"),
    [
        ("approved", "approved", "text/plain"),
        (42, 42, "application/json"),
        (None, None, "application/json"),
        ([{"a": 1}], [{"a": 1}], "application/json"),
    ],
)
def test_outputs_of_every_json_kind_come_back_as_sent(
    client: Client, data: object, expected: object, output_type: str
) -> None:
    created = client.create_token()
    client.complete_token(created, data)
    token = client.retrieve_token(created)
    assert token.output == expected and token.output_type == output_type


def test_complete_without_data_has_no_output(client: Client) -> None:
    created = client.create_token()
    client.complete_token(created)
    token = client.retrieve_token(created)
    assert token.status is TokenStatus.COMPLETED and token.output is None and "output" not in token.to_dict()


def test_the_first_completion_wins(client: Client) -> None:
    created = client.create_token()
    assert client.complete_token(created, "first") is True
    assert client.complete_token(created, "second") is False  # already completed: this call changed nothing
    assert client.retrieve_token(created).output == "first"


def test_the_public_access_token_completes_its_token(client: Client, sdk_stack: SdkStack) -> None:
    created = client.create_token()
    with Client(sdk_stack.url, created.public_access_token) as browser:
        assert browser.complete_token(created.id, {"from": "browser"}) is True
    assert client.retrieve_token(created).output == {"from": "browser"}


def test_with_options_completes_with_the_public_access_token(client: Client) -> None:
    created = client.create_token()
    assert client.with_options(secret_key=created.public_access_token).complete_token(created, 1) is True
    assert client.retrieve_token(created).output == 1


def test_the_callback_url_completes_without_a_key(client: Client) -> None:
    created = client.create_token()
    response = httpx.post(created.url, json={"id": "pred_1", "status": "succeeded", "output": ["img.png"]})
    assert response.json() == {"success": True}
    assert client.for_token(created).unwrap() == {"id": "pred_1", "status": "succeeded", "output": ["img.png"]}


# --- errors ---------------------------------------------------------------------------------------


def test_unknown_token_is_not_found(client: Client) -> None:
    with pytest.raises(NotFoundError) as caught:
        client.retrieve_token("waitpoint_" + "0" * 25)
    assert caught.value.message == "Waitpoint not found" and caught.value.status_code == 404
    with pytest.raises(NotFoundError):
        client.complete_token("waitpoint_" + "0" * 25, 1)


def test_a_bad_key_is_an_authentication_error(sdk_stack: SdkStack) -> None:
    with (
        Client(sdk_stack.url, "wp_dev_" + "x" * 43, max_retries=0) as stranger,
        pytest.raises(AuthenticationError) as caught,
    ):
        stranger.create_token()
    assert caught.value.status_code == 401 and caught.value.message


def test_a_public_access_token_cannot_read_or_complete_another_token(client: Client, sdk_stack: SdkStack) -> None:
    mine, other = client.create_token(), client.create_token()
    with Client(sdk_stack.url, mine.public_access_token, max_retries=0) as browser:
        with pytest.raises(PermissionDeniedError):
            browser.complete_token(other, 1)
        with pytest.raises(AuthenticationError):
            browser.retrieve_token(mine)


def test_a_bad_timeout_is_a_bad_request_naming_the_field(client: Client) -> None:
    with pytest.raises(BadRequestError, match="timeout") as caught:
        client.create_token(timeout="5 minutes")
    assert caught.value.status_code == 400


def test_eleven_tags_are_unprocessable(client: Client) -> None:
    with pytest.raises(UnprocessableEntityError, match="10 tags"):
        client.create_token(tags=[f"t{i}" for i in range(11)])


def test_an_oversized_completion_is_payload_too_large(client: Client) -> None:
    created = client.create_token()
    with pytest.raises(PayloadTooLargeError) as caught:
        client.complete_token(created, "x" * (3 * 1024 * 1024))  # the 3 MB body limit
    assert caught.value.status_code == 413


# --- for_token ------------------------------------------------------------------------------------


class CountingClient(Client):
    """Counts reads and signals the first one, so a test can complete the token while for_token waits."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.reads = 0
        self.first_read = threading.Event()

    def retrieve_token(self, token_or_id: object) -> Token:  # type: ignore[override]
        token = super().retrieve_token(token_or_id)  # type: ignore[arg-type]
        self.reads += 1
        self.first_read.set()
        return token


def test_for_token_resolves_when_another_thread_completes_the_token(client: Client, sdk_stack: SdkStack) -> None:
    created = client.create_token(timeout="1h")
    waiter = CountingClient(sdk_stack.url, sdk_stack.key)

    def approve() -> None:
        assert waiter.first_read.wait(30)
        with Client(sdk_stack.url, sdk_stack.key) as other:
            other.complete_token(created, {"status": "approved"})

    thread = threading.Thread(target=approve)
    thread.start()
    try:
        result = waiter.for_token(created, poll_interval=0.2, timeout=60)
    finally:
        thread.join()
        waiter.close()
    assert result.ok and result.unwrap() == {"status": "approved"} and result.error is None
    assert result.token.status is TokenStatus.COMPLETED
    assert waiter.reads >= 2  # it saw the token waiting, then completed


def test_for_token_ends_when_the_token_times_out(client: Client) -> None:
    created = client.create_token(timeout="1s")
    result = client.for_token(created, poll_interval=5, timeout=30)
    assert not result.ok and result.timed_out and result.token.status is TokenStatus.TIMED_OUT
    assert result.token.timeout_at is not None
    with pytest.raises(WaitpointTimeoutError) as caught:
        result.unwrap()
    assert not isinstance(caught.value, WaitTimeoutError)
    stamp = result.token.timeout_at.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    assert caught.value.message == f"Waitpoint timed out at {stamp}" and caught.value.token_id == created.id


def test_for_token_gives_up_at_its_own_timeout(client: Client) -> None:
    created = client.create_token(timeout="1h")
    result = client.for_token(created, poll_interval=0.1, timeout=0.3)
    assert not result.ok and not result.timed_out and result.token.status is TokenStatus.WAITING
    with pytest.raises(WaitTimeoutError, match="still WAITING"):
        result.unwrap()


def test_for_token_of_a_completed_token_returns_its_output(client: Client) -> None:
    created = client.create_token()
    client.complete_token(created, ["done"])
    assert client.for_token(created.id).unwrap() == ["done"]


# --- list (runs once the stack serves GET /api/v1/waitpoints/tokens) ---------------------------------


@dataclass(frozen=True)
class Listed:
    """Three tokens with one unique tag, the oldest completed; ids oldest first; the creation window."""

    tag: str
    ids: list[str]
    first: datetime
    last: datetime


@pytest.fixture(scope="module")
def listed(client: Client) -> Listed:
    tag = unique("list")
    ids = [client.create_token(timeout="1h", tags=[tag, f"n:{i}"], idempotency_key=f"{tag}-{i}").id for i in range(3)]
    client.complete_token(ids[0], {"done": True})
    first, last = client.retrieve_token(ids[0]), client.retrieve_token(ids[2])
    return Listed(tag, ids, first.created_at, last.created_at)


def test_list_iterates_every_page_newest_first(client: Client, listed: Listed) -> None:
    found = list(client.list_tokens(tags=[listed.tag], limit=2))
    assert sorted(t.id for t in found) == sorted(listed.ids)
    assert [t.created_at for t in found] == sorted((t.created_at for t in found), reverse=True)
    assert all(t.output is None and listed.tag in t.tags for t in found)


def test_list_filters_by_status(client: Client, listed: Listed) -> None:
    # By creation window rather than tag: a tag listing may show a status the stream has not synced yet.
    window = {"from_": listed.first, "to": listed.last}
    assert {t.id for t in client.list_tokens(status="WAITING", **window)} == set(listed.ids[1:])
    assert {t.id for t in client.list_tokens(status=[TokenStatus.COMPLETED], **window)} == {listed.ids[0]}
    assert {t.id for t in client.list_tokens(status=["COMPLETED", "TIMED_OUT"], **window)} == {listed.ids[0]}


def test_list_filters_by_idempotency_key_and_creation_time(client: Client, listed: Listed) -> None:
    assert [t.id for t in client.list_tokens(idempotency_key=f"{listed.tag}-1")] == [listed.ids[1]]
    assert {t.id for t in client.list_tokens(tags=listed.tag, period="1h")} == set(listed.ids)
    assert {t.id for t in client.list_tokens(from_=listed.first, to=listed.last)} == set(listed.ids)
    assert list(client.list_tokens(tags=listed.tag, from_=listed.last + timedelta(minutes=10))) == []


def test_list_pages_and_cursors(client: Client, listed: Listed) -> None:
    first = client.list_tokens_page(tags=[listed.tag], limit=2)
    assert len(first.data) == 2 and first.next_cursor is not None
    second = client.list_tokens_page(tags=[listed.tag], limit=2, after=first.next_cursor)
    assert [t.id for t in second.data] and second.next_cursor is None
    assert {t.id for t in first.data + second.data} == set(listed.ids)
    assert second.previous_cursor is not None
    back = client.list_tokens_page(tags=[listed.tag], limit=2, before=second.previous_cursor)
    assert [t.id for t in back.data] == [t.id for t in first.data]
    pages = list(client.list_tokens(tags=[listed.tag], limit=2).pages())
    assert [len(p.data) for p in pages] == [2, 1]


def test_list_is_lazy(client: Client, listed: Listed) -> None:
    assert len(list(islice(client.list_tokens(tags=[listed.tag], limit=1), 2))) == 2


# --- reject (issue 15) ----------------------------------------------------------------------------------


def test_reject_token_then_for_token_is_not_ok_with_the_rejection(client: Client, sdk_stack: SdkStack) -> None:
    from waitpoints import WaitpointRejectedError, wait

    token = client.create_token(timeout="1h")
    assert client.reject_token(token, reason="Not this quarter", data={"by": "ana"}) is True
    result = client.for_token(token, timeout=5)
    assert not result.ok and result.rejected and not result.timed_out
    assert isinstance(result.error, WaitpointRejectedError)
    assert (result.error.reason, result.error.data, result.error.token_id) == (
        "Not this quarter",
        {"by": "ana"},
        token.id,
    )
    with pytest.raises(WaitpointRejectedError) as raised:
        result.unwrap()
    assert raised.value.reason == "Not this quarter"
    read = client.retrieve_token(token)
    assert read.rejected and read.reject_reason == "Not this quarter" and read.output is None
    assert client.complete_token(token, {"late": True}) is False  # the first writer won: no change
    assert client.retrieve_token(token).rejected
    assert token.id in {t.id for t in client.list_tokens(status="REJECTED", period="1h")}
    other = client.create_token(timeout="1h")
    wait.configure(api_url=sdk_stack.url, secret_key=sdk_stack.key)
    assert wait.reject_token(other.id) is True
    assert wait.for_token(other.id, timeout=5).error.reason is None  # type: ignore[union-attr]


def test_schema_and_approval_through_the_sdk(client: Client) -> None:
    from waitpoints import UnprocessableEntityError

    schema = {"type": "object", "properties": {"ok": {"type": "boolean"}}, "required": ["ok"]}
    token = client.create_token(schema=schema, approval={"title": "Ship it?"})
    assert token.approval_url is not None and "/approval/" in token.approval_url
    with pytest.raises(UnprocessableEntityError) as raised:
        client.complete_token(token, {"ok": "yes"})
    assert raised.value.body["path"] == "$.ok" and raised.value.body["rule"] == "type"
    assert client.complete_token(token, {"ok": True})
    assert client.for_token(token, timeout=5).unwrap() == {"ok": True}

"""Real-time subscriptions: who may watch which tokens, and what a watcher is told when one changes.

The domain only: no botocore, no API Gateway event shapes. Storage is a `SubscriptionStore`
(`dynamodb.subscriptions.DynamoDBSubscriptions` in production); delivery is a `post(ConnectionId=..., Data=...)`
callable, which is exactly `apigatewaymanagementapi`'s `post_to_connection`. The protocol is in docs/realtime.md.

A connection authenticates with its first message (`{"action": "auth", "token": ...}`) within AUTH_WINDOW_MS of
connecting, then subscribes to token ids or tags. A subscription is not a replay log: it delivers the transitions
that happen while it exists. Subscribing to a token answers with the token's state as retrieve shows it, so a
watcher that subscribes after the completion still learns the final state.
"""

from __future__ import annotations

import hashlib
import json
import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING, Any, Protocol

from . import ids
from .bodies import parse_json
from .durations import now_ms
from .errors import Forbidden, InvalidInput, NotFound, PayloadTooLarge, Unauthenticated, Unavailable, WaitpointError
from .models import Principal, TokenStatus, Waitpoint

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping

logger = logging.getLogger(__name__)

AUTH_WINDOW_MS = 10_000  # the first message must authenticate within this long after connecting
MAX_SUBSCRIPTIONS = 25  # per connection
CONNECTION_LIFETIME_S = 2 * 3600  # API Gateway closes every WebSocket connection after 2 hours
TTL_SLACK_S = 10 * 60  # items outlive their connection a little: $disconnect deletes them, TTL is the safety net
MESSAGE_LIMIT = 32 * 1024  # bytes: one API Gateway WebSocket frame (messages may be 128 KB, frames 32 KB)
INBOUND_LIMIT = 4 * 1024  # bytes: the largest message a client may send (an auth message with a JWT is ~400)
MAX_TAG_LENGTH = 128  # as on create
MAX_CLIENT_ID = 64  # the optional "id" a client puts on a request, echoed in the answer
FAN_OUT_WORKERS = 8


class Transition(str, Enum):  # noqa: UP042 - as models.TokenStatus: str-valued, Python 3.11's StrEnum aside
    CREATED = "created"
    COMPLETED = "completed"
    REJECTED = "rejected"
    TIMED_OUT = "timed_out"
    EXTENDED = "extended"


@dataclass(frozen=True)
class Subscription:
    """One token id, or one tag (of the connection's environment)."""

    token_id: str | None = None
    tag: str | None = None

    def wire(self) -> dict[str, str]:
        return {"tokenId": self.token_id} if self.token_id is not None else {"tag": self.tag or ""}

    @property
    def tag_digest(self) -> str:
        return hashlib.sha256((self.tag or "").encode()).hexdigest()


@dataclass(frozen=True)
class Connection:
    """An authenticated WebSocket connection: whose it is, until when, and what it watches."""

    id: str
    env: str
    scopes: tuple[str, ...] | None  # None: a secret key (the whole environment); else an access token's scopes
    connected_at: int  # epoch ms
    expires_at: int  # epoch s: the items' TTL
    subscriptions: frozenset[Subscription] = field(default_factory=frozenset)

    @property
    def principal(self) -> Principal:
        return Principal(env=self.env, scopes=self.scopes)

    @classmethod
    def opened(cls, connection_id: str, principal: Principal, connected_at: int) -> Connection:
        return cls(
            connection_id,
            principal.env,
            principal.scopes,
            connected_at,
            connected_at // 1000 + CONNECTION_LIFETIME_S + TTL_SLACK_S,
        )


@dataclass(frozen=True)
class Request:
    action: str  # auth | subscribe | unsubscribe | ping
    client_id: str | None = None
    credential: str | None = None
    subscription: Subscription | None = None


@dataclass(frozen=True)
class Reply:
    """What to send back on the connection, and whether to close it afterwards."""

    message: dict[str, Any]
    close: bool = False

    def data(self) -> bytes:
        return _encode(self.message)


class SubscriberStore(Protocol):
    """What fan_out needs from storage."""

    def subscribers(self, env: str, token_id: str, tags: Iterable[str], now_s: int) -> list[str]: ...
    def drop_connection(self, connection_id: str) -> None: ...


class SubscriptionStore(SubscriberStore, Protocol):
    """Connections and their subscriptions (subscription_store.DynamoDBSubscriptions in production)."""

    def put_connection(self, connection: Connection) -> None: ...
    def get_connection(self, connection_id: str, now_s: int) -> Connection | None: ...
    def add_subscription(self, connection: Connection, subscription: Subscription, limit: int) -> bool: ...
    def remove_subscription(self, connection: Connection, subscription: Subscription) -> None: ...
    def get_token(self, token_id: str) -> Waitpoint | None: ...


# --- requests -------------------------------------------------------------------------------------------------


def parse_request(body: str | None) -> Request:
    """A client message → Request; InvalidInput (or PayloadTooLarge) names what is wrong."""
    text = body or ""
    if len(text.encode()) > INBOUND_LIMIT:
        raise PayloadTooLarge(f"Messages are at most {INBOUND_LIMIT} bytes")
    try:
        value = parse_json(text)
    except ValueError as exc:
        raise InvalidInput('A message must be a JSON object such as {"action": "subscribe", ...}') from exc
    if not isinstance(value, dict):
        raise InvalidInput('A message must be a JSON object such as {"action": "subscribe", ...}')
    client_id = value.get("id")
    if client_id is not None and (not isinstance(client_id, str) or not 0 < len(client_id) <= MAX_CLIENT_ID):
        raise InvalidInput(f"id: a string of 1 to {MAX_CLIENT_ID} characters")
    action = value.get("action")
    allowed = _FIELDS.get(action) if isinstance(action, str) else None
    if allowed is None or not isinstance(action, str):
        raise InvalidInput("action: one of auth, subscribe, unsubscribe, ping")
    unknown = sorted(set(value) - allowed - {"action", "id"})
    if unknown:
        raise InvalidInput(f"{unknown[0]}: unknown field")
    if action == "auth":
        token = value.get("token")
        if not isinstance(token, str) or not token:
            raise InvalidInput("token: the environment's secret key or a token's public access token")
        return Request(action, client_id, credential=token)
    if action in ("subscribe", "unsubscribe"):
        return Request(action, client_id, subscription=_subscription(value))
    return Request(action, client_id)


_FIELDS: dict[str, set[str]] = {
    "auth": {"token"},
    "subscribe": {"tokenId", "tag"},
    "unsubscribe": {"tokenId", "tag"},
    "ping": set(),
}


def _subscription(value: dict[str, Any]) -> Subscription:
    token_id, tag = value.get("tokenId"), value.get("tag")
    if (token_id is None) == (tag is None):
        raise InvalidInput("Give exactly one of tokenId and tag")
    if token_id is not None:
        normalized = ids.normalize_token_id(token_id) if isinstance(token_id, str) else None
        if normalized is None:
            raise InvalidInput("tokenId: a waitpoint id such as waitpoint_<25 characters>")
        return Subscription(token_id=normalized)
    if not isinstance(tag, str) or not 0 < len(tag) <= MAX_TAG_LENGTH:
        raise InvalidInput(f"tag: a string of 1 to {MAX_TAG_LENGTH} characters")
    return Subscription(tag=tag)


def authorize(principal: Principal, subscription: Subscription) -> None:
    """A secret key may watch anything of its environment; a public access token only its own token."""
    if principal.scopes is None:
        return
    if subscription.token_id is None:
        raise Forbidden("A public access token can watch only its own token, not a tag")
    if not principal.can_complete(subscription.token_id):
        raise Forbidden("This public access token is not allowed to watch this waitpoint")


# --- transitions ----------------------------------------------------------------------------------------------


def transition_between(old: Waitpoint | None, new: Waitpoint | None) -> Transition | None:
    """Which transition a change of a token item is, if any (a stream record's old and new images)."""
    if new is None:
        return None
    if old is None:
        return Transition.CREATED if new.status is TokenStatus.WAITING else None
    if old.status is not TokenStatus.WAITING:
        return None
    if new.status is TokenStatus.TIMED_OUT:
        return Transition.TIMED_OUT
    if new.status is TokenStatus.COMPLETED:
        return Transition.REJECTED if is_rejected(new) else Transition.COMPLETED
    if new.timeout_at != old.timeout_at:
        return Transition.EXTENDED
    return None


def is_rejected(token: Waitpoint) -> bool:
    """A rejected token is COMPLETED with an error output whose code is WAITPOINT_REJECTED (issue 13's contract)."""
    if token.status is not TokenStatus.COMPLETED or not token.output_is_error or not token.output:
        return False
    try:
        value = json.loads(token.output)
    except ValueError:
        return False
    return isinstance(value, dict) and value.get("code") == "WAITPOINT_REJECTED"


@dataclass(frozen=True)
class Change:
    """A token's transition, with its fields as retrieve renders them (`fields`, from the HTTP edge's wire)."""

    transition: Transition
    token: Waitpoint
    fields: Mapping[str, Any]

    def message(self) -> bytes:
        return _encode(
            token_message({"type": "transition", "transition": self.transition.value}, self.token, self.fields)
        )


def change_between(
    old: Waitpoint | None, new: Waitpoint | None, render: Callable[[Waitpoint], Mapping[str, Any]]
) -> Change | None:
    kind = transition_between(old, new)
    return Change(kind, new, render(new)) if kind is not None and new is not None else None


def token_message(head: dict[str, Any], token: Waitpoint, fields: Mapping[str, Any]) -> dict[str, Any]:
    """`head` plus the token; its output only when the message stays within one frame (MESSAGE_LIMIT), else
    `outputOmitted: true` and the retrieve path to read it from."""
    body = dict(fields)
    message = {**head, "token": body}
    if token.output_ref is None and len(_encode(message)) <= MESSAGE_LIMIT:
        return message
    body.pop("output", None)
    message["outputOmitted"] = True
    message["retrieve"] = f"/api/v1/waitpoints/tokens/{token.id}"
    return message


def _encode(message: Mapping[str, Any]) -> bytes:
    return json.dumps(message, separators=(",", ":"), ensure_ascii=False).encode()


# --- fan-out --------------------------------------------------------------------------------------------------


@dataclass
class FanOut:
    sent: int = 0
    gone: int = 0  # connections that no longer exist: dropped from the store
    failed: int = 0  # other errors (throttled past retries, 5xx): kept, not retried


def fan_out(change: Change, store: SubscriberStore, post: Callable[..., Any], *, now_s: int | None = None) -> FanOut:
    """Send `change` once to every connection subscribed to its token or to one of its tags (a connection that
    matches several subscriptions gets one message). Connections that are gone (GoneException) are dropped.

    Never raises for a delivery: a stream batch retried because of one bad connection would send every other
    subscriber the message twice. Deliveries run concurrently, so a slow connection does not hold the others.
    """
    token = change.token
    now = now_s if now_s is not None else now_ms() // 1000
    targets = store.subscribers(token.env, token.id, dict.fromkeys(token.tags), now)
    result = FanOut()
    if not targets:
        return result
    data = change.message()

    def deliver(connection_id: str) -> str:
        try:
            post(ConnectionId=connection_id, Data=data)
        except Exception as exc:
            if _is_gone(exc):
                store.drop_connection(connection_id)
                return "gone"
            logger.warning("post_to_connection failed", extra={"connection": connection_id, "error": _code(exc)})
            return "failed"
        return "sent"

    if len(targets) == 1:
        outcomes = [deliver(targets[0])]
    else:
        with ThreadPoolExecutor(max_workers=min(FAN_OUT_WORKERS, len(targets))) as pool:
            outcomes = list(pool.map(deliver, targets))
    for outcome in outcomes:
        setattr(result, outcome, getattr(result, outcome) + 1)
    return result


class ConnectionGone(Exception):
    """A `post` that is not botocore's may raise this for a connection that no longer exists."""


_GONE_CODES = {"GoneException"}  # never ForbiddenException: that is IAM, and dropping on it would drop everyone


def _code(exc: Exception) -> str:
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        return str(response.get("Error", {}).get("Code", type(exc).__name__))
    return type(exc).__name__


def _is_gone(exc: Exception) -> bool:
    return isinstance(exc, ConnectionGone) or _code(exc) in _GONE_CODES


# --- the use cases behind the WebSocket routes ------------------------------------------------------------------

_ERROR_CODES: dict[type[WaitpointError], str] = {
    InvalidInput: "invalid_request",
    PayloadTooLarge: "too_large",
    Unauthenticated: "unauthenticated",
    Forbidden: "forbidden",
    NotFound: "not_found",
    Unavailable: "unavailable",
}


class TooManySubscriptions(InvalidInput):
    """Raised when a connection already has MAX_SUBSCRIPTIONS subscriptions."""


def error_reply(error: WaitpointError, client_id: str | None = None) -> Reply:
    code = "too_many_subscriptions" if isinstance(error, TooManySubscriptions) else None
    if code is None:
        code = next((c for kind, c in _ERROR_CODES.items() if isinstance(error, kind)), "error")
    message: dict[str, Any] = {"type": "error", "code": code, "message": error.message}
    if client_id is not None:
        message["id"] = client_id
    return Reply(message, close=isinstance(error, Unauthenticated))


class Realtime:
    """$default's messages: auth, subscribe, unsubscribe, ping; and $disconnect."""

    def __init__(
        self,
        store: SubscriptionStore,
        authenticate: Callable[[str], Principal],
        render: Callable[[Waitpoint], Mapping[str, Any]],
        clock: Callable[[], int] = now_ms,
    ) -> None:
        self._store = store
        self._authenticate = authenticate
        self._render = render
        self._clock = clock

    def handle(self, connection_id: str, connected_at: int, body: str | None) -> Reply:
        """One client message → the reply (an `error` reply for anything wrong; Unauthenticated closes)."""
        client_id = None
        try:
            request = parse_request(body)
            client_id = request.client_id
            if request.action == "auth":
                return self._auth(connection_id, connected_at, request)
            connection = self._store.get_connection(connection_id, self._clock() // 1000)
            if connection is None:
                raise Unauthenticated('Authenticate first: {"action": "auth", "token": ...}')
            if request.action == "ping":
                return self._reply({"type": "pong"}, client_id)
            assert request.subscription is not None
            if request.action == "subscribe":
                return self._subscribe(connection, request.subscription, client_id)
            self._store.remove_subscription(connection, request.subscription)
            return self._reply({"type": "unsubscribed", "subscription": request.subscription.wire()}, client_id)
        except WaitpointError as error:
            return error_reply(error, client_id)

    def disconnect(self, connection_id: str) -> None:
        self._store.drop_connection(connection_id)

    def _auth(self, connection_id: str, connected_at: int, request: Request) -> Reply:
        now = self._clock()
        if now - connected_at > AUTH_WINDOW_MS:
            raise Unauthenticated(f"Authenticate within {AUTH_WINDOW_MS // 1000} s of connecting")
        if self._store.get_connection(connection_id, now // 1000) is not None:
            raise InvalidInput("This connection is already authenticated")
        principal = self._authenticate(request.credential or "")
        self._store.put_connection(Connection.opened(connection_id, principal, connected_at))
        message: dict[str, Any] = {"type": "authenticated", "env": principal.env}
        message["scope"] = "environment" if principal.scopes is None else "token"
        return self._reply(message, request.client_id)

    def _subscribe(self, connection: Connection, subscription: Subscription, client_id: str | None) -> Reply:
        authorize(connection.principal, subscription)
        token = None
        if subscription.token_id is not None:  # only an existing token of this environment can be watched
            token = self._visible(connection.env, subscription.token_id)
        if not self._store.add_subscription(connection, subscription, MAX_SUBSCRIPTIONS):
            raise TooManySubscriptions(f"A connection may have at most {MAX_SUBSCRIPTIONS} subscriptions")
        head = {"type": "subscribed", "subscription": subscription.wire(), **({"id": client_id} if client_id else {})}
        if subscription.token_id is None:
            return Reply(head)
        # Read again after the subscription is stored: whatever happens from here on is delivered, and this
        # answer shows what happened before (so a final token is reported here, never missed).
        token = self._visible(connection.env, subscription.token_id) or token
        assert token is not None
        return Reply(token_message(head, token, self._render(token)))

    def _visible(self, env: str, token_id: str) -> Waitpoint:
        now = self._clock()
        token = self._store.get_token(token_id)
        if token is None or token.env != env or not token.exists_at(now):
            raise NotFound()
        return token.seen_at(now)

    @staticmethod
    def _reply(message: dict[str, Any], client_id: str | None) -> Reply:
        return Reply({**message, "id": client_id} if client_id is not None else message)

"""Workflows: a Step Functions execution or a Lambda durable function creates a token, waits on it, and is
resumed when it stops waiting; the timeout sweep persists TIMED_OUT, which is what resumes workflows waiting on
a token that timed out. Each waiter is resumed through the target of its kind (a task token through Step
Functions, a callback id through Lambda's durable execution callbacks)."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from .. import ids
from ..bodies import OFFLOAD_BYTES, TEXT_TYPE
from ..durations import DAY_MS, format_iso, now_ms
from ..errors import InvalidInput
from ..models import TokenStatus
from ..ports import Attachment, Completion, Delivery, Waiter, WaiterKind

T = TypeVar("T")

if TYPE_CHECKING:
    from ..config import Settings
    from ..models import CreatedToken, Waitpoint
    from ..ports import ApiKeyStore, DueIndex, ListingStore, ResumeTarget, TokenChange, TokenStore, WaiterStore
    from ..request_models import WaitForTokenRequest, WorkflowCreateTokenRequest
    from .auth import Authenticator
    from .tokens import TokenService

    class WorkflowStore(TokenStore, WaiterStore, ListingStore, DueIndex, ApiKeyStore, Protocol):
        """What the workflow slice needs from storage."""


_log = logging.getLogger(__name__)


class WorkflowService:
    def __init__(
        self,
        store: WorkflowStore,
        tokens: TokenService,
        auth: Authenticator,
        settings: Settings,
        resume_target: Callable[[], ResumeTarget],
        durable_target: Callable[[], ResumeTarget] | None = None,
    ) -> None:
        self._store = store
        self._tokens = tokens
        self._auth = auth
        self._settings = settings
        self._resume_factory = resume_target
        self._resume_target: ResumeTarget | None = None
        self._durable_factory = durable_target
        self._durable_target: ResumeTarget | None = None
        self._retention_ms = settings.retention_days * DAY_MS

    @property
    def resume_target(self) -> ResumeTarget:
        if self._resume_target is None:  # created on first use: only the workflow functions need it
            self._resume_target = self._resume_factory()
        return self._resume_target

    @property
    def durable_target(self) -> ResumeTarget:
        if self._durable_target is None:
            if self._durable_factory is None:
                raise InvalidInput("this deployment resumes no durable functions")
            self._durable_target = self._durable_factory()
        return self._durable_target

    def target(self, kind: WaiterKind) -> ResumeTarget:
        """The resume target of a kind of waiter."""
        return self.durable_target if kind is WaiterKind.DURABLE else self.resume_target

    def create_for_workflow(self, request: WorkflowCreateTokenRequest) -> CreatedToken:
        """Create a token without an API key (the caller is IAM-authorised to invoke the function)."""
        if not (self._settings.public_url or self._settings.api_url):
            raise InvalidInput("the deployment has no WAITPOINTS_API_URL to build callback URLs with")
        if not self._auth.environment_exists(request.environment):
            raise InvalidInput(
                f"environment: '{request.environment}' does not exist; an environment is created "
                "by minting its first secret key (make key ENV=<name>)"
            )
        return self._tokens.create(request.environment, request)

    def wait_for_token(self, request: WaitForTokenRequest) -> Attachment:
        """Make a workflow wait on a waitpoint (a Step Functions task token, or a durable function's callback
        id); resume it at once if the token is already final. Idempotent on the handle: attaching the same one
        again (a replayed submitter) is ALREADY_ATTACHED and resumes nothing (once resumed, a durable waiter
        is kept, marked resumed, for exactly this)."""
        now = now_ms()
        waiter = Waiter("", request.handle, WaiterKind.DURABLE if request.is_durable else WaiterKind.STEP_FUNCTIONS)
        token_id = ids.normalize_token_id(request.waitpoint_id)
        attachment, token = (
            self._store.attach_waiter(token_id, request.environment, waiter.handle, now, waiter.kind)
            if token_id
            else (Attachment.NOT_FOUND, None)
        )
        if attachment is Attachment.NOT_FOUND:
            self.target(waiter.kind).fail(
                waiter.handle,
                "Waitpoint.NotFound",
                f"Waitpoint {request.waitpoint_id} does not exist, has expired, or belongs to another environment",
                {"waitpointId": request.waitpoint_id},
            )
        elif token is not None:
            self._resume(token.seen_at(now), waiter)
            if waiter.kind is WaiterKind.DURABLE:  # after the delivery: a failed one is retried by the SDK
                self._store.mark_resumed(Waiter(token.id, waiter.handle, waiter.kind), now_ms())
        return attachment

    def resume_waiters(self, token: Waitpoint, waiters: list[Waiter] | None = None) -> dict[Delivery, int]:
        """Resume every execution waiting on a token that stopped waiting (`waiters`: already read). Each waiter
        is deleted (a durable one marked resumed) once its execution has the outcome (or is gone), so a retry
        after a failure resumes only the rest. One waiter that fails does not stop the others (`isolated`): the
        first failure is raised after all were tried."""
        counts = {Delivery.SENT: 0, Delivery.GONE: 0}
        failures: list[Exception] = []
        for waiter in self._store.waiters(token.id) if waiters is None else waiters:
            delivery = isolated(token.id, _collect(failures), self._resume, token, waiter)
            if delivery is None:
                continue
            counts[delivery] += 1
            if waiter.kind is WaiterKind.DURABLE:
                self._store.mark_resumed(waiter, now_ms())
            else:
                self._store.delete_waiter(waiter)
        _raise_first(failures)
        return counts

    def resume_inline(self, token_id: str) -> bool:
        """Resume a token's waiters from the request whose write just ended its wait: one hop instead of the
        stream's poll. Runs in a thread for at most `settings.inline_resume_ms`; whatever it has not finished by
        then (or failed at) the stream consumer does, as before. Each waiter is deleted (a durable one marked
        resumed) once resumed, so the stream skips it; one both resume is refused the second time by its target
        (GONE). Returns whether it finished in time."""
        budget = self._settings.inline_resume_ms / 1000

        def run() -> None:
            try:
                token, waiters = self._store.token_with_waiters(token_id)
                if token is None or token.status is TokenStatus.WAITING or not waiters:
                    return
                self.resume_waiters(token.seen_at(now_ms()), waiters)
            except Exception:
                _log.warning("inline resume of %s left to the stream", token_id, exc_info=True)

        worker = threading.Thread(target=run, name=f"resume-{token_id[-6:]}", daemon=True)
        worker.start()
        worker.join(budget)
        return not worker.is_alive()

    def on_token_changed(self, change: TokenChange) -> dict[Delivery, int]:
        """A token changed (the table's stream says how): when it stops waiting, resume the executions waiting on
        it and bring its tag items (what tag-filtered listings read) up to date. Neither step waits on the
        other's failure; the first failure is raised once both were tried (the record is then retried)."""
        old, new = change.old, change.new
        if old is None or new is None or old.status is not TokenStatus.WAITING or new.status is TokenStatus.WAITING:
            return {}
        failures: list[Exception] = []
        isolated(new.id, _collect(failures), self.sync_tag_items, new)
        counts = self.resume_waiters(new)
        _raise_first(failures)
        return counts

    def sync_tag_items(self, token: Waitpoint) -> None:
        """Bring a token's tag items up to date after it completed or timed out. Idempotent; a WAITING
        token changes nothing."""
        self._store.sync_tag_items(token)

    def _resume(self, token: Waitpoint, waiter: Waiter) -> Delivery:
        target, handle = self.target(waiter.kind), waiter.handle
        limit = target.output_limit
        if token.status is TokenStatus.TIMED_OUT:
            return target.fail(
                handle,
                "Waitpoint.TimedOut",
                f"Waitpoint {token.id} timed out at {format_iso(token.timeout_at)}",
                {"waitpointId": token.id, "timeoutAt": format_iso(token.timeout_at)},
            )
        if token.status is TokenStatus.REJECTED:
            if waiter.kind is WaiterKind.DURABLE:  # ErrorData carries the reason and the data themselves
                return target.fail(handle, "Waitpoint.Rejected", *rejection_details(token))
            return target.fail(handle, "Waitpoint.Rejected", rejection_cause(token))
        if token.output_ref is not None:  # only outputs over OFFLOAD_BYTES (over any limit) live in S3
            output, size = "", token.output_size or OFFLOAD_BYTES + 1
        else:
            output = step_functions_output(token)
            size = len(output.encode())
        if size > limit:
            what = "a durable callback result's" if waiter.kind is WaiterKind.DURABLE else "Step Functions'"
            return target.fail(
                handle,
                "Waitpoint.OutputTooLarge",
                f"The output of waitpoint {token.id} is {size} bytes, over {what} {limit}-byte limit for resuming a "
                f"workflow. Fetch it with GET /api/v1/waitpoints/tokens/{token.id} instead.",
                {"waitpointId": token.id, "size": size, "limit": limit},
            )
        return target.succeed(handle, output)

    def sweep_timeouts(self, budget_ms: int = 50_000, batch: int = 100, on_failure: TokenFailure | None = None) -> int:
        """Persist TIMED_OUT for waiting tokens past their timeout (their stream records then resume the
        waiting workflows). Reads only the due index of each environment. Returns how many it timed out.

        Each token is isolated (`isolated`): one whose write fails is reported to `on_failure` and skipped, and
        the sweep pages past it (the due index keeps returning it first), so every other token still times out;
        the next sweep retries it."""
        started = now_ms()
        timed_out = 0
        failed: set[str] = set()  # skipped from here on: queried past, never retried in this run
        for env in self._store.environments():
            for shard in range(self._store.due_shards(env)):  # every due partition of the environment
                while now_ms() - started < budget_ms:
                    now = now_ms()
                    due = self._store.due_tokens(env, now, batch + len(failed), shard)
                    for token_id, timeout_at in due:
                        if token_id in failed:
                            continue
                        expires_at = (timeout_at + self._retention_ms) // 1000
                        done = isolated(
                            token_id, on_failure, self._store.time_out_token, token_id, timeout_at, now, expires_at
                        )
                        if done is None:
                            failed.add(token_id)
                        elif done.won:
                            timed_out += 1
                            if done is Completion.WON_WAITED_ON and self._settings.inline_resume_ms > 0:
                                self.resume_inline(token_id)
                    if len(due) < batch + len(failed):
                        break
        return timed_out


# Per-token isolation (issue 14, #1): what a sweep or a stream batch does for one token must never stop it for
# the others. A failure is reported (the edge turns it into a metric and a log line) and the caller moves on.
TokenFailure = Callable[[str, Exception], None]
_logger = logging.getLogger(__name__)


def isolated(token_id: str, on_failure: TokenFailure | None, work: Callable[..., T], *args: Any) -> T | None:
    """`work(*args)` for one token; None when it raised (reported to `on_failure`, or logged)."""
    try:
        return work(*args)
    except Exception as exc:  # any failure is this token's alone
        if on_failure is not None:
            on_failure(token_id, exc)
        else:
            _logger.warning("token skipped", extra={"waitpoint_id": token_id, "error": type(exc).__name__})
        return None


def _collect(failures: list[Exception]) -> TokenFailure:
    return lambda _token_id, exc: failures.append(exc)


def _raise_first(failures: list[Exception]) -> None:
    if failures:
        raise failures[0]


REJECTION_CAUSE_LIMIT = 32_768  # Step Functions' cause limit, in characters


def rejection_cause(token: Waitpoint) -> str:
    """The cause a rejected token fails its workflows with: JSON with the message, the reason and the data. When
    the data does not fit a cause, it is left out (`dataOmitted`) and the workflow can retrieve the token."""
    rejection = token.rejection or {}
    reason = rejection.get("reason")
    cause: dict[str, Any] = {"message": f"Waitpoint {token.id} was rejected" + (f": {reason}" if reason else "")}
    if reason is not None:
        cause["reason"] = reason
    if "data" in rejection:
        cause["data"] = rejection["data"]
    text = json.dumps(cause, separators=(",", ":"), ensure_ascii=False)
    if len(text) > REJECTION_CAUSE_LIMIT or token.output_ref is not None:
        cause.pop("data", None)
        cause["dataOmitted"] = True
        text = json.dumps(cause, separators=(",", ":"), ensure_ascii=False)[:REJECTION_CAUSE_LIMIT]
    return text


def rejection_details(token: Waitpoint) -> tuple[str, dict[str, Any]]:
    """A rejection as a durable callback's failure: the message, and ErrorData's reason and data (the durable
    adapter keeps them within its limit, dropping the data when it does not fit)."""
    rejection = token.rejection or {}
    reason = rejection.get("reason")
    message = f"Waitpoint {token.id} was rejected" + (f": {reason}" if reason else "")
    details: dict[str, Any] = {"waitpointId": token.id, "reason": reason}
    if "data" in rejection and token.output_ref is None:
        details["data"] = rejection["data"]
    elif "data" in rejection:
        details["dataOmitted"] = True
    return message, details


def step_functions_output(token: Waitpoint) -> str:
    """A completed token's output as the JSON a workflow receives: JSON as it is, text as a JSON string."""
    if token.output is None:
        return "null"
    if token.output_type == TEXT_TYPE:
        return json.dumps(token.output, ensure_ascii=False)
    return token.output

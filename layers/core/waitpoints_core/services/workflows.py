"""Workflows: a Step Functions execution creates a token, waits on it, and is resumed when it stops waiting;
the timeout sweep persists TIMED_OUT, which is what resumes workflows waiting on a token that timed out."""

from __future__ import annotations

import json
import logging
import threading
from typing import TYPE_CHECKING, Any, Protocol

from .. import ids
from ..bodies import OFFLOAD_BYTES, TEXT_TYPE
from ..durations import DAY_MS, format_iso, now_ms
from ..errors import InvalidInput
from ..models import TokenStatus
from ..ports import Attachment, Delivery

if TYPE_CHECKING:
    from collections.abc import Callable

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
    ) -> None:
        self._store = store
        self._tokens = tokens
        self._auth = auth
        self._settings = settings
        self._resume_factory = resume_target
        self._resume_target: ResumeTarget | None = None
        self._retention_ms = settings.retention_days * DAY_MS

    @property
    def resume_target(self) -> ResumeTarget:
        if self._resume_target is None:  # created on first use: only the workflow functions need it
            self._resume_target = self._resume_factory()
        return self._resume_target

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
        """Make a workflow's task token wait on a waitpoint; resume it at once if the token is already final."""
        now = now_ms()
        token_id = ids.normalize_token_id(request.waitpoint_id)
        attachment, token = (
            self._store.attach_waiter(token_id, request.environment, request.task_token, now)
            if token_id
            else (Attachment.NOT_FOUND, None)
        )
        if attachment is Attachment.NOT_FOUND:
            self.resume_target.fail(
                request.task_token,
                "Waitpoint.NotFound",
                f"Waitpoint {request.waitpoint_id} does not exist, has expired, or belongs to another environment",
            )
        elif token is not None:
            self._resume(token.seen_at(now), request.task_token)
        return attachment

    def resume_waiters(self, token: Waitpoint) -> dict[Delivery, int]:
        """Resume every execution waiting on a token that stopped waiting. Each waiter is deleted once its
        execution has the outcome (or is gone), so a retry after a failure resumes only the rest."""
        counts = {Delivery.SENT: 0, Delivery.GONE: 0}
        for waiter in self._store.waiters(token.id):
            counts[self._resume(token, waiter.task_token)] += 1
            self._store.delete_waiter(waiter)
        return counts

    def resume_inline(self, token_id: str) -> bool:
        """Resume a token's waiters from the request whose write just ended its wait: one hop instead of the
        stream's poll. Runs in a thread for at most `settings.inline_resume_ms`; whatever it has not finished by
        then (or failed at) the stream consumer does, as before. Each waiter is deleted once resumed, so the stream
        skips it; one both resume is refused the second time by Step Functions (GONE). Returns whether it finished
        in time."""
        budget = self._settings.inline_resume_ms / 1000

        def run() -> None:
            try:
                waiters = self._store.waiters(token_id)
                token = self._store.get_token(token_id) if waiters else None
                if token is None or token.status is TokenStatus.WAITING:
                    return
                seen = token.seen_at(now_ms())
                for waiter in waiters:
                    self._resume(seen, waiter.task_token)
                    self._store.delete_waiter(waiter)
            except Exception:
                _log.warning("inline resume of %s left to the stream", token_id, exc_info=True)

        worker = threading.Thread(target=run, name=f"resume-{token_id[-6:]}", daemon=True)
        worker.start()
        worker.join(budget)
        return not worker.is_alive()

    def on_token_changed(self, change: TokenChange) -> dict[Delivery, int]:
        """A token changed (the table's stream says how): when it stops waiting, resume the executions waiting on
        it and bring its tag items (what tag-filtered listings read) up to date."""
        old, new = change.old, change.new
        if old is None or new is None or old.status is not TokenStatus.WAITING or new.status is TokenStatus.WAITING:
            return {}
        self.sync_tag_items(new)
        return self.resume_waiters(new)

    def sync_tag_items(self, token: Waitpoint) -> None:
        """Bring a token's tag items up to date after it completed or timed out. Idempotent; a WAITING
        token changes nothing."""
        self._store.sync_tag_items(token)

    def _resume(self, token: Waitpoint, task_token: str) -> Delivery:
        limit = self.resume_target.output_limit
        if token.status is TokenStatus.TIMED_OUT:
            return self.resume_target.fail(
                task_token, "Waitpoint.TimedOut", f"Waitpoint {token.id} timed out at {format_iso(token.timeout_at)}"
            )
        if token.status is TokenStatus.REJECTED:
            return self.resume_target.fail(task_token, "Waitpoint.Rejected", rejection_cause(token))
        if token.output_ref is not None:  # only outputs over OFFLOAD_BYTES (over any limit) live in S3
            output, size = "", token.output_size or OFFLOAD_BYTES + 1
        else:
            output = step_functions_output(token)
            size = len(output.encode())
        if size > limit:
            return self.resume_target.fail(
                task_token,
                "Waitpoint.OutputTooLarge",
                f"The output of waitpoint {token.id} is {size} bytes, over Step Functions' {limit}-byte limit. "
                f"Fetch it with GET /api/v1/waitpoints/tokens/{token.id} instead.",
            )
        return self.resume_target.succeed(task_token, output)

    def sweep_timeouts(self, budget_ms: int = 50_000, batch: int = 100) -> int:
        """Persist TIMED_OUT for waiting tokens past their timeout (their stream records then resume the
        waiting workflows). Reads only the due index of each environment. Returns how many it timed out."""
        started = now_ms()
        timed_out = 0
        for env in self._store.environments():
            for shard in range(self._store.due_shards(env)):  # every due partition of the environment
                while now_ms() - started < budget_ms:
                    now = now_ms()
                    due = self._store.due_tokens(env, now, batch, shard)
                    for token_id, timeout_at in due:
                        expires_at = (timeout_at + self._retention_ms) // 1000
                        if self._store.time_out_token(token_id, timeout_at, now, expires_at):
                            timed_out += 1
                            if self._settings.inline_resume_ms > 0:
                                self.resume_inline(token_id)
                    if len(due) < batch:
                        break
        return timed_out


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


def step_functions_output(token: Waitpoint) -> str:
    """A completed token's output as the JSON a workflow receives: JSON as it is, text as a JSON string."""
    if token.output is None:
        return "null"
    if token.output_type == TEXT_TYPE:
        return json.dumps(token.output, ensure_ascii=False)
    return token.output

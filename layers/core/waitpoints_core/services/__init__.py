"""The services, one per job: `auth` (keys, access tokens, environments), `tokens` (create, retrieve, complete,
reject, callback, force-timeout, extend), `listing` (pages and cursors), `approvals` (the approval page),
`workflows` (create-for-workflow, attach, resume, the sweep) and `lifecycle` (the lifecycle events the stream
consumer publishes).

`WaitpointService` holds one of each, wired to the same store, signing keys and settings; each is built on first
use, so a handler loads only the modules of the slices it touches.
"""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable

    from ..config import Settings
    from ..keyring import KeyRing
    from ..ports import Blobs, EventPublisher, ResumeTarget, Store
    from .approvals import ApprovalService
    from .auth import Authenticator
    from .lifecycle import LifecycleEvents
    from .listing import ListingService
    from .tokens import TokenService
    from .workflows import WorkflowService


class WaitpointService:
    def __init__(
        self,
        store: Store,
        signing_keys: KeyRing,
        settings: Settings,
        resume_target: Callable[[], ResumeTarget],
        blobs: Callable[[], Blobs] | None = None,
        durable_target: Callable[[], ResumeTarget] | None = None,
        events: Callable[[], EventPublisher] | None = None,
    ) -> None:
        self.store = store
        self.signing_keys = signing_keys
        self.settings = settings
        self._resume_target = resume_target
        self._blobs = blobs
        self._durable_target = durable_target
        self._events = events

    @cached_property
    def auth(self) -> Authenticator:
        from .auth import Authenticator

        return Authenticator(self.store, self.signing_keys, self.settings)

    @cached_property
    def tokens(self) -> TokenService:
        from .tokens import TokenService

        tokens = TokenService(self.store, self.signing_keys, self.settings, self._blobs)
        if self.settings.inline_resume_ms > 0:
            tokens.after_win = lambda token_id: self.workflows.resume_inline(token_id)  # noqa: PLW0108 - late: workflows needs tokens
        return tokens

    @cached_property
    def listing(self) -> ListingService:
        from .listing import ListingService

        return ListingService(self.store, self.signing_keys)

    @cached_property
    def workflows(self) -> WorkflowService:
        from .workflows import WorkflowService

        return WorkflowService(
            self.store, self.tokens, self.auth, self.settings, self._resume_target, self._durable_target
        )

    @cached_property
    def lifecycle(self) -> LifecycleEvents:
        from .lifecycle import LifecycleEvents

        return LifecycleEvents(self.settings, self._events)

    @cached_property
    def approvals(self) -> ApprovalService:
        from .approvals import ApprovalService

        return ApprovalService(self.store, self.signing_keys, self.tokens)

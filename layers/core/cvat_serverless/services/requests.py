"""Background requests: what ``GET /api/requests[/{id}]`` shows, and how the workflows report on
the requests they run (started, progress, finished, failed).

The SDK polls a request until it is ``finished`` or ``failed`` and never gives up, so an execution
that ends without reporting (a crash the state machine could not catch, an execution the embedded
runtime lost in a restart) must not leave its request ``started`` forever: reading a request asks
the workflow engine about its execution and fails the request when the execution is gone or ended
without saying so (read repair); ``resume_interrupted`` restarts the embedded runtime's executions.
"""

from __future__ import annotations

import builtins
import logging
from collections.abc import Callable, Mapping
from typing import Any

from ..domain.context import RequestContext
from ..domain.errors import ConflictError, NotFoundError, ValidationError
from ..domain.query import ListSpec, Page, apply_list_query, parse_list_query
from ..domain.requests import BackgroundRequest
from ..domain.users import User
from ..ports import Clock, RequestRepository, UserRepository, WorkflowStarter
from .views import Related, Shown

log = logging.getLogger(__name__)

REQUEST_SPEC = ListSpec(
    filter_fields=("status", "action", "target", "subresource", "format", "project_id", "task_id", "job_id", "id"),
    search_fields=(),
    ordering_fields=("created_date",),
    simple_filters=("status", "action", "target", "subresource", "format", "project_id", "task_id", "job_id"),
    default_ordering=("-created_date",),
)
_ENDED_WITHOUT_REPORT = {"FAILED", "TIMED_OUT", "ABORTED"}
MAX_RESUMES = 3  # a request whose processing takes the runtime down each time must end, not loop


class RequestService:
    def __init__(self, requests: RequestRepository, users: UserRepository, workflows: WorkflowStarter,
                 clock: Clock) -> None:
        self.requests = requests
        self.users = users
        self.workflows = workflows
        self.clock = clock

    # --- what the API shows --------------------------------------------------------------------

    def _visible(self, ctx: RequestContext, request: BackgroundRequest) -> bool:
        return ctx.actor.is_admin or request.owner_id == ctx.user_id

    def get(self, ctx: RequestContext, request_id: str) -> Shown[BackgroundRequest]:
        """One of the caller's requests (another user's does not exist for them, as in CVAT)."""
        request = self.requests.get(request_id)
        if not self._visible(ctx, request):
            raise NotFoundError(f"Request {request_id} not found.")
        request = self._repair(request)
        return Shown(request, self._related([request], ctx.user))

    def list(self, ctx: RequestContext, params: Mapping[str, str]) -> Shown[Page[BackgroundRequest]]:
        """The caller's requests (every request for admins), newest first, with CVAT's filters."""
        items = self.requests.list_all() if ctx.actor.is_admin else self.requests.list_by_owner(ctx.user_id)
        if ctx.org_id is not None:
            items = [r for r in items if r.organization_id == ctx.org_id]
        rows = ((r, _row(r)) for r in items)
        page = apply_list_query(rows, REQUEST_SPEC, parse_list_query(params, REQUEST_SPEC))
        page = Page(page.count, [self._repair(r) for r in page.results], page.page, page.page_size)
        return Shown(page, self._related(page.results, ctx.user))

    def cancel(self, ctx: RequestContext, request_id: str) -> None:
        """Stop a request that has not ended (its owner or an admin): it fails as canceled."""
        ctx.require_write()
        request = self.requests.get(request_id)
        if not self._visible(ctx, request):
            raise NotFoundError(f"Request {request_id} not found.")
        if request.status.ended:
            raise ValidationError(f"The request has already {request.status.value}.")
        self.fail(request_id, "Canceled by the user.")

    def _related(self, requests: builtins.list[BackgroundRequest], caller: User) -> Related:
        ids = {r.owner_id for r in requests} - {caller.id}
        users = self.users.get_many(sorted(ids)) if ids else {}
        return Related(users={caller.id: caller, **users})

    def _repair(self, request: BackgroundRequest) -> BackgroundRequest:
        """A request whose execution ended without reporting, or is gone, fails (see module doc)."""
        if request.status.ended or not request.execution_name or not request.workflow:
            return request
        run = self.workflows.describe(request.workflow, request.execution_name)
        if run is not None and run.status not in _ENDED_WITHOUT_REPORT and run.status != "SUCCEEDED":
            return request  # running
        if run is not None and run.status == "SUCCEEDED":
            latest = self.requests.get(request.id)  # the last step may have just reported
            if latest.status.ended:
                return latest
        reason = (f"The processing stopped ({run.status.lower()}: {run.error or 'no error'}). Upload the data again."
                  if run is not None else "The processing was lost (the server restarted). Upload the data again.")
        return self.fail(request.id, reason)

    # --- what the workflows report ---------------------------------------------------------------

    def _update(self, request_id: str, change: Callable[[BackgroundRequest], None]) -> BackgroundRequest:
        for _ in range(10):
            request = self.requests.get(request_id)
            try:
                change(request)
            except ConflictError:
                return request  # already ended the other way: the first word stands
            try:
                return self.requests.save(request)
            except ConflictError:
                continue
        raise ConflictError(f"Request {request_id} keeps changing; try again.")

    def update(self, request_id: str, change: Callable[[BackgroundRequest], None]) -> BackgroundRequest:
        """Apply ``change`` to the request and save it (retried on a concurrent save; a change
        that raises ConflictError leaves the request as it is)."""
        return self._update(request_id, change)

    def started(self, request_id: str, message: str = "", *, execution_name: str | None = None) -> BackgroundRequest:
        def change(r: BackgroundRequest) -> None:
            if r.status.ended:
                raise ConflictError("ended")
            r.start(self.clock.now(), message)
            if execution_name:
                r.execution_name = execution_name
        return self._update(request_id, change)

    def advance(self, request_id: str, progress: float, message: str = "") -> BackgroundRequest:
        return self._update(request_id, lambda r: r.advance(progress, message))

    def finish(self, request_id: str, *, result_id: int | None = None, result_url: str | None = None
               ) -> BackgroundRequest:
        return self._update(request_id, lambda r: r.finish(self.clock.now(), result_id=result_id,
                                                             result_url=result_url))

    def fail(self, request_id: str, message: str) -> BackgroundRequest:
        return self._update(request_id, lambda r: r.fail(self.clock.now(), message))

    def resume_interrupted(self) -> builtins.list[str]:
        """Start again every request whose execution is not running (call it where nothing can be
        running: the embedded runtime at start, whose engine forgot its executions). The steps are
        idempotent, so a request resumes where it was, in a new execution. The request ids."""
        resumed = []
        for request in self.requests.list_all():
            if request.status.ended or not request.workflow:
                continue
            attempt = request.resumes + 1
            if attempt > MAX_RESUMES:
                self.fail(request.id, f"The processing was interrupted {request.resumes + 1} times by a restart; "
                                      "it is not resumed again. Upload the data again.")
                continue
            name = f"{request.execution_base or request.execution_name}-r{attempt}"[:80]
            try:
                self.workflows.start(request.workflow, name, request.workflow_input)
            except Exception:
                log.exception("could not resume request %s", request.id)
                self.fail(request.id, "The processing could not be resumed after a restart. Upload the data again.")
                continue

            def change(r: BackgroundRequest, name: str = name, attempt: int = attempt) -> None:
                r.execution_base = r.execution_base or r.execution_name
                r.execution_name = name
                r.resumes = attempt
            self._update(request.id, change)
            resumed.append(request.id)
        return resumed


def _row(r: BackgroundRequest) -> dict[str, Any]:
    return {
        "id": r.id, "status": r.status.value, "action": r.action.value, "target": r.target,
        "subresource": r.subresource, "format": r.format, "project_id": r.project_id, "task_id": r.task_id,
        "job_id": r.job_id, "created_date": r.created_date,
    }


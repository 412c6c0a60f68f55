"""Agent-based ("native") functions: the use cases behind ``/api/functions*`` (cvat-cli 2.80's
``function create-native``, ``function delete``, ``function run-agent``).

A user registers a function; its model runs wherever the user starts ``cvat-cli function
run-agent``. Work reaches agents as annotation requests (ARs) on the function's queue:

- batch: ``POST /api/functions/requests/`` queues an ``annotate_task`` AR; an agent acquires it,
  reports progress, and completes it with the task's annotations, which are saved here as the
  user who submitted the AR (``source: "auto"``);
- interactive: ``POST /api/functions/{id}/run`` queues an ``annotate_frame``, ``interact``,
  ``init_tracking`` or ``track`` AR and holds the caller's request until an agent answers (up to
  ``wait_seconds``, inside API Gateway's 29 s), then answers the agent's result.

``watch`` is the agents' event stream made a long poll: it answers as soon as there is queued
work (or after ``watch_seconds``) with one buffered ``text/event-stream`` body whose ``retry:``
line makes cvat-cli reconnect a second later.

Agents must be run by a user who may manage the function (its owner, an admin, or a maintainer
of its organization).
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

from ..domain import permissions as perm
from ..domain.agent_functions import (
    INTERACTIVE_TYPES,
    AnnotationRequest,
    ArStatus,
    ArType,
    NativeFunction,
    NativeFunctionKind,
    RequestCategory,
    Visibility,
    check_agent_id,
    function_from_body,
)
from ..domain.context import RequestContext
from ..domain.errors import (
    ConflictError,
    DependencyUnavailableError,
    NotFoundError,
    PermissionDeniedError,
    UpstreamTimeoutError,
    ValidationError,
)
from ..domain.organizations import OrgRole, role_at_least
from ..domain.permissions import Actor
from ..domain.query import ListSpec, Page, apply_list_query, parse_list_query
from ..domain.tasks import Task
from ..domain.users import User
from ..ports import AgentFunctionRepositories, Clock, IdGenerator, Repositories
from .annotations import AnnotationService
from .common import task_ref
from .views import Related, RelatedLoader, Shown

T = TypeVar("T")

FUNCTION_LIST = ListSpec(("id", "name", "kind", "owner", "visibility"), ("name", "owner", "kind"),
                         ("id", "name", "kind", "owner", "created_date", "updated_date"),
                         ("name", "kind", "owner", "visibility", "provider"))
REQUEST_LIST = ListSpec(("status", "function_id", "category", "task_id"), (),
                        ("created_date", "status", "progress"), ("status", "function_id", "category", "task_id"),
                        default_ordering=("-created_date",))
POLL_SECONDS = 0.5
"""How often ``run`` re-reads its AR while it waits for the agent."""
WATCH_POLL_SECONDS = 1.0
"""How often ``watch`` looks at the queue while it holds an agent's long poll."""
SAVE_ATTEMPTS = 3


@dataclass(frozen=True, slots=True)
class BatchSubmit:
    """``POST /api/functions/requests/``: what to annotate, with which function."""

    function_id: int
    task_id: int
    job_id: int | None = None
    threshold: float | None = None
    cleanup: bool = False
    conv_mask_to_poly: bool = False
    mapping: Mapping[str, Any] | None = None
    roi: list[float] | None = None


def _visible(actor: Actor, fn: NativeFunction) -> bool:
    """Admins, its owner and its organization's maintainers see a function; public ones are
    seen by everyone in its organization (by everyone when outside any organization)."""
    if _manages(actor, fn):
        return True
    if fn.visibility is not Visibility.PUBLIC:
        return False
    return fn.organization_id is None or actor.role_in(fn.organization_id) is not None


def _manages(actor: Actor, fn: NativeFunction) -> bool:
    return (actor.is_admin or (fn.owner_id is not None and fn.owner_id == actor.user_id)
            or role_at_least(actor.role_in(fn.organization_id), OrgRole.MAINTAINER))


def sse_body(categories: list[RequestCategory], retry_ms: int = 1000) -> str:
    """The long-poll answer of ``watch``: a ``newrequest`` event per category with queued work,
    then the reconnection delay (cvat-cli's parser: ``event:``, ``data:``, blank line)."""
    events = "".join(f"event: newrequest\ndata: {json.dumps({'request_category': c.value})}\n\n"
                     for c in categories)
    return f"{events}retry: {retry_ms}\n\n"


class AgentFunctionService:
    def __init__(self, repos: Repositories, agents: AgentFunctionRepositories, ids: IdGenerator, clock: Clock, *,
                 annotations: AnnotationService, actor_for: Callable[[User], Actor], wait_seconds: float = 25,
                 watch_seconds: float = 20, sleep: Callable[[float], None] = time.sleep,
                 new_id: Callable[[], str] = lambda: str(uuid.uuid4())) -> None:
        self.repos = repos
        self.agents = agents
        self.ids = ids
        self.clock = clock
        self.annotations = annotations
        self.actor_for = actor_for
        self.wait_seconds = wait_seconds
        self.watch_seconds = watch_seconds
        self.sleep = sleep
        self.new_id = new_id
        self.related = RelatedLoader(repos, clock)

    # --- functions ---------------------------------------------------------------------------------

    def _function(self, ctx: RequestContext, function_id: int) -> NativeFunction:
        """The function, or CVAT's 404 when the caller may not see it."""
        try:
            fn = self.agents.functions.get(function_id)
        except NotFoundError:
            raise NotFoundError(f"Function {function_id} not found.") from None
        if not _visible(ctx.actor, fn):
            raise NotFoundError(f"Function {function_id} not found.")
        return fn

    def _managed(self, ctx: RequestContext, function_id: int) -> NativeFunction:
        fn = self._function(ctx, function_id)
        if not _manages(ctx.actor, fn):
            raise PermissionDeniedError("Only the function's owner, an admin or a maintainer of its organization "
                                        "may do this.")
        return fn

    def _shown(self, value: T, owner_ids: list[int | None]) -> Shown[T]:
        return Shown(value, Related(users=self.related.users(owner_ids)))

    def create(self, ctx: RequestContext, body: Mapping[str, Any]) -> Shown[NativeFunction]:
        """A new native function in the request's organization, owned by the caller."""
        ctx.require_write()
        if ctx.org_id is not None and ctx.actor.role_in(ctx.org_id) is None and not ctx.actor.is_admin:
            raise PermissionDeniedError()
        fn = function_from_body(body, owner_id=ctx.user_id, organization_id=ctx.org_id)
        fn.id = self.ids.next_id("native_function")
        fn.created_date = fn.updated_date = self.clock.now()
        fn = self.agents.functions.add(fn)
        return self._shown(fn, [fn.owner_id])

    def get(self, ctx: RequestContext, function_id: int) -> Shown[NativeFunction]:
        fn = self._function(ctx, function_id)
        return self._shown(fn, [fn.owner_id])

    def list_functions(self, ctx: RequestContext, params: Mapping[str, str]) -> Shown[Page[NativeFunction]]:
        """The functions the caller sees in the request's scope (no organization named: the
        personal workspace's and those of the caller's organizations; everything for admins)."""
        repo = self.agents.functions
        if ctx.org_id is not None:
            items = repo.list_by_organization(ctx.org_id)
        elif ctx.org.explicit:
            items = repo.list_by_organization(None)
        elif ctx.actor.is_admin:
            items = repo.list_all()
        else:
            items = repo.list_by_organization(None)
            for org_id in sorted(ctx.actor.roles):
                items += repo.list_by_organization(org_id)
        items = [f for f in items if _visible(ctx.actor, f)]
        users = self.related.users(f.owner_id for f in items)

        def row(f: NativeFunction) -> dict[str, object]:
            owner = users.get(f.owner_id) if f.owner_id is not None else None
            return {"id": f.id, "name": f.name, "kind": f.kind.value, "owner": owner.username if owner else None,
                    "visibility": f.visibility.value, "provider": f.provider, "created_date": f.created_date,
                    "updated_date": f.updated_date}

        page = apply_list_query(((f, row(f)) for f in items), FUNCTION_LIST, parse_list_query(params, FUNCTION_LIST))
        return Shown(page, Related(users=users))

    def delete(self, ctx: RequestContext, function_id: int) -> None:
        """Delete the function; its queued and assigned ARs are canceled (their agents' later
        reports get 409, and a running agent's next acquire 404)."""
        ctx.require_write()
        fn = self._managed(ctx, function_id)
        now = self.clock.now()
        for ar in self.agents.requests.list_by_function(fn.id):
            if not ar.status.ended:
                try:
                    self._change(ar.id, lambda r: r.cancel(now), function_id=fn.id)
                except ConflictError:  # it ended meanwhile
                    continue
        self.agents.functions.delete(fn.id)

    # --- submitting work ---------------------------------------------------------------------------

    def _task(self, ctx: RequestContext, task_id: int, scope: str) -> Task:
        task = self.repos.tasks.get(task_id)
        project = self.repos.projects.get(task.project_id) if task.project_id else None
        perm.check(ctx.actor, scope, task_ref(task, project))
        return task

    def _task_label_names(self, task: Task) -> set[str]:
        labels = (self.repos.labels.list_by_project(task.project_id) if task.project_id
                  else self.repos.labels.list_by_task(task.id))
        return {lb.name for lb in labels if not lb.has_parent}

    def _mapping(self, fn: NativeFunction, task: Task, given: Mapping[str, Any] | None) -> dict[str, Any]:
        """CVAT's label mapping (function label name -> ``{"name": task label name, ...}``);
        by default the labels of the same name."""
        task_names = self._task_label_names(task)
        fn_names = {str(lb["name"]) for lb in fn.labels_v2}
        if given is None:
            mapping: dict[str, Any] = {n: {"name": n} for n in sorted(fn_names & task_names)}
            if not mapping and fn.kind is NativeFunctionKind.DETECTOR:
                raise ValidationError(fields={"mapping": ["None of the function's labels is a label of the task; "
                                                          "give a mapping."]})
            return mapping
        if not isinstance(given, Mapping):
            raise ValidationError(fields={"mapping": ["Expected an object: function label -> {\"name\": ...}."]})
        mapping = {}
        for fn_label, raw in given.items():
            entry = {"name": raw} if isinstance(raw, str) else raw
            if not isinstance(entry, Mapping) or not isinstance(entry.get("name"), str):
                raise ValidationError(fields={"mapping": [f'The entry of "{fn_label}" needs a "name".']})
            if fn_label not in fn_names:
                raise ValidationError(fields={"mapping": [f'The function has no label "{fn_label}".']})
            if entry["name"] not in task_names:
                raise ValidationError(fields={"mapping": [f'The task has no label "{entry["name"]}".']})
            mapping[str(fn_label)] = dict(entry)
        return mapping

    @staticmethod
    def _threshold(value: Any) -> float | None:
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
            raise ValidationError(fields={"threshold": ["Ensure this value is a number from 0 to 1."]})
        return float(value)

    @staticmethod
    def _roi(value: Any) -> list[float] | None:
        if value is None:
            return None
        if (not isinstance(value, list) or len(value) != 4
                or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in value)
                or value[0] >= value[2] or value[1] >= value[3] or min(value) < 0):
            raise ValidationError(fields={"roi": ["Expected [x1, y1, x2, y2] with x1 < x2 and y1 < y2."]})
        return [float(v) for v in value]

    def _new_request(self, ctx: RequestContext, fn: NativeFunction, params: dict[str, Any]) -> AnnotationRequest:
        ar_type = ArType(params["type"])
        ar = AnnotationRequest(id=self.new_id(), function_id=fn.id, category=ar_type.category, owner_id=ctx.user_id,
                               ar_params=params, organization_id=fn.organization_id, created_date=self.clock.now())
        return self.agents.requests.add(ar)

    def submit(self, ctx: RequestContext, data: BatchSubmit) -> Shown[AnnotationRequest]:
        """Queue an ``annotate_task`` AR: the function's agents annotate the whole task (or one of
        its jobs); the caller must be allowed to change the task's annotations."""
        ctx.require_write()
        fn = self._function(ctx, data.function_id)
        if fn.kind is not NativeFunctionKind.DETECTOR:
            raise ValidationError(fields={"function": [f"A {fn.kind.value} cannot annotate a whole task; "
                                                       "only detectors can."]})
        task = self._task(ctx, data.task_id, "update:annotations")
        if data.job_id is not None:
            try:
                job = self.repos.jobs.get(data.job_id)
            except NotFoundError:
                job = None
            if job is None or job.task_id != task.id:
                raise ValidationError(fields={"job": [f"Job {data.job_id} is not a job of task {task.id}."]})
        params: dict[str, Any] = {
            "type": ArType.ANNOTATE_TASK.value, "task": task.id, "threshold": self._threshold(data.threshold),
            "cleanup": bool(data.cleanup), "conv_mask_to_poly": bool(data.conv_mask_to_poly),
            "mapping": self._mapping(fn, task, data.mapping),
        }
        if data.job_id is not None:
            params["job"] = data.job_id
        roi = self._roi(data.roi)
        if roi is not None:
            params["roi"] = roi
        ar = self._new_request(ctx, fn, params)
        return self._shown(ar, [ar.owner_id])

    def _interactive_params(self, fn: NativeFunction, task: Task, body: Mapping[str, Any]) -> dict[str, Any]:
        types = INTERACTIVE_TYPES[fn.kind]
        if not types:
            raise ValidationError(f"A {fn.kind.value} function cannot be run interactively.")
        frame = body.get("frame")
        if isinstance(frame, bool) or not isinstance(frame, int) or not 0 <= frame < max(task.size, 1):
            raise ValidationError(fields={"frame": [f"Expected a frame number of the task (0 to {task.size - 1})."]})
        params: dict[str, Any] = {"task": task.id, "frame": frame}
        if fn.kind is NativeFunctionKind.DETECTOR:
            params.update(type=ArType.ANNOTATE_FRAME.value, threshold=self._threshold(body.get("threshold")),
                          conv_mask_to_poly=bool(body.get("conv_mask_to_poly", False)),
                          mapping=self._mapping(fn, task, body.get("mapping")))
        elif fn.kind is NativeFunctionKind.INTERACTOR:
            params.update(type=ArType.INTERACT.value, pos_points=_points(body, "pos_points"),
                          neg_points=_points(body, "neg_points"), obj_bbox=_points(body, "obj_bbox"))
            if len(params["obj_bbox"]) not in (0, 2):
                raise ValidationError(fields={"obj_bbox": ["Expected [] or [[x1, y1], [x2, y2]]."]})
        elif "states" in body:
            states = body["states"]
            if not isinstance(states, list) or not all(isinstance(s, str) for s in states):
                raise ValidationError(fields={"states": ["Expected a list of tracking states (strings)."]})
            params.update(type=ArType.TRACK.value, states=list(states))
        else:
            shapes = body.get("shapes")
            if (not isinstance(shapes, list) or not shapes
                    or not all(isinstance(s, Mapping) and s.get("type") in fn.supported_shape_types
                               and isinstance(s.get("points"), list) for s in shapes)):
                raise ValidationError(fields={"shapes": [
                    "Expected shapes ({\"type\", \"points\"}) of the types the tracker supports: "
                    + ", ".join(fn.supported_shape_types) + "."]})
            params.update(type=ArType.INIT_TRACKING.value,
                          shapes=[{"type": s["type"], "points": list(s["points"])} for s in shapes])
        roi = self._roi(body.get("roi"))
        if roi is not None and fn.kind is not NativeFunctionKind.TRACKER:
            params["roi"] = roi
        return params

    def run(self, ctx: RequestContext, function_id: int, body: Mapping[str, Any]) -> dict[str, Any]:
        """An interactive call: queue the AR, wait for an agent's result (at most
        ``wait_seconds``) and answer it. No answer in time: the AR is canceled and the call is an
        UpstreamTimeoutError; an agent's failure a DependencyUnavailableError with its message."""
        fn = self._function(ctx, function_id)
        task_id = body.get("task")
        if isinstance(task_id, bool) or not isinstance(task_id, int):
            raise ValidationError(fields={"task": ["This field is required: the task's id."]})
        task = self._task(ctx, task_id, "view")
        ar = self._new_request(ctx, fn, self._interactive_params(fn, task, body))
        deadline = self.clock.now() + timedelta(seconds=self.wait_seconds)
        while True:
            current = self.agents.requests.get(ar.id)
            if current.status is ArStatus.COMPLETED:
                return dict(current.result or {})
            if current.status is ArStatus.FAILED:
                raise DependencyUnavailableError(f"The function's agent failed: {current.exc_info}")
            if current.status is ArStatus.CANCELED:
                raise ConflictError(f"Annotation request {ar.id} was canceled.")
            if self.clock.now() >= deadline:
                break
            self.sleep(POLL_SECONDS)
        try:
            self._change(ar.id, lambda r: r.cancel(self.clock.now()))
        except ConflictError:  # it ended meanwhile: answer that instead
            return self._ended_answer(self.agents.requests.get(ar.id))
        raise UpstreamTimeoutError(f"No agent of function {fn.id} answered within {self.wait_seconds:g} s; "
                                   f"is `cvat-cli function run-agent {fn.id}` running?")

    @staticmethod
    def _ended_answer(ar: AnnotationRequest) -> dict[str, Any]:
        if ar.status is ArStatus.COMPLETED:
            return dict(ar.result or {})
        raise DependencyUnavailableError(f"The function's agent failed: {ar.exc_info or ar.status.value}")

    # --- annotation requests -----------------------------------------------------------------------

    def _request(self, ctx: RequestContext, request_id: str) -> AnnotationRequest:
        try:
            ar = self.agents.requests.get(request_id)
        except NotFoundError:
            raise NotFoundError(f"Annotation request {request_id} not found.") from None
        if ctx.actor.is_admin or ar.owner_id == ctx.user_id:
            return ar
        try:
            fn = self.agents.functions.get(ar.function_id)
        except NotFoundError:
            fn = None
        if fn is None or not _manages(ctx.actor, fn):
            raise NotFoundError(f"Annotation request {request_id} not found.")
        return ar

    def get_request(self, ctx: RequestContext, request_id: str) -> Shown[AnnotationRequest]:
        ar = self._request(ctx, request_id)
        return self._shown(ar, [ar.owner_id])

    def list_requests(self, ctx: RequestContext, params: Mapping[str, str]) -> Shown[Page[AnnotationRequest]]:
        """The caller's ARs; with ``function_id=``, every AR of a function the caller manages."""
        function_id = params.get("function_id") or params.get("function")
        if function_id:
            if not function_id.isdecimal():
                raise ValidationError(fields={"function_id": ["A valid integer is required."]})
            fn = self._managed(ctx, int(function_id))
            items = self.agents.requests.list_by_function(fn.id)
        else:
            items = self.agents.requests.list_by_owner(ctx.user_id)
        query = {k: v for k, v in params.items() if k not in ("function_id", "function")}

        def row(r: AnnotationRequest) -> dict[str, object]:
            return {"id": r.id, "status": r.status.value, "function_id": r.function_id,
                    "category": r.category.value, "task_id": r.task_id, "created_date": r.created_date,
                    "progress": r.progress}

        page = apply_list_query(((r, row(r)) for r in items), REQUEST_LIST, parse_list_query(query, REQUEST_LIST))
        return Shown(page, Related(users=self.related.users(r.owner_id for r in page.results)))

    def cancel(self, ctx: RequestContext, request_id: str) -> None:
        """Cancel a queued or assigned AR (its submitter, the function's managers, admins)."""
        ctx.require_write()
        ar = self._request(ctx, request_id)
        self._change(ar.id, lambda r: r.cancel(self.clock.now()))

    def _change(self, request_id: str, mutate: Callable[[AnnotationRequest], bool], *,
                function_id: int | None = None) -> tuple[AnnotationRequest, bool]:
        """Apply a state transition and save it, re-reading on a concurrent change. The
        transition's own errors (wrong agent, wrong state) are not retried. ``False``: the
        transition was a no-op (a repeated report)."""
        for attempt in range(SAVE_ATTEMPTS):
            ar = self.agents.requests.get(request_id)
            if function_id is not None and ar.function_id != function_id:
                raise NotFoundError(f"Annotation request {request_id} not found.")
            if not mutate(ar):
                return ar, False
            try:
                return self.agents.requests.save(ar), True
            except ConflictError:
                if attempt == SAVE_ATTEMPTS - 1:
                    raise
        raise AssertionError("unreachable")

    # --- the agent's side --------------------------------------------------------------------------

    def _queue(self, ctx: RequestContext, function_id: int) -> NativeFunction:
        return self._managed(ctx, function_id)

    def _reclaim_expired(self, function_id: int, category: RequestCategory, now: datetime) -> bool:
        """Take back the ARs whose agents went silent; whether any went back to the queue."""
        requeued = False
        for ar in self.agents.requests.list_assigned(function_id, category):
            if ar.expired(now):
                try:
                    saved, changed = self._change(ar.id, lambda r: r.reclaim(now))
                except ConflictError:
                    continue
                requeued |= changed and saved.status is ArStatus.QUEUED
        return requeued

    def acquire(self, ctx: RequestContext, function_id: int, agent_id: Any, category: Any) -> AnnotationRequest | None:
        """Assign the oldest queued AR of ``category`` to the agent, or None: nothing to do. An
        agent may take interactive ARs while it holds a batch one (cvat-cli pre-empts its batch
        work for them)."""
        agent = check_agent_id(agent_id)
        try:
            wanted = RequestCategory(category)
        except ValueError:
            raise ValidationError(fields={"request_category": [f'"{category}" is not a valid choice.']}) from None
        fn = self._queue(ctx, function_id)
        now = self.clock.now()
        self._reclaim_expired(fn.id, wanted, now)
        for ar in self.agents.requests.list_queued(fn.id, wanted):
            ar.acquire(agent, now)
            try:
                return self.agents.requests.save(ar)
            except ConflictError:
                continue  # another agent took it (or it was canceled) first
        return None

    def update(self, ctx: RequestContext, function_id: int, request_id: str, agent_id: Any, progress: Any) -> None:
        agent = check_agent_id(agent_id)
        if isinstance(progress, bool) or not isinstance(progress, int | float) or not 0 <= progress <= 1:
            raise ValidationError(fields={"progress": ["Ensure this value is a number from 0 to 1."]})
        self._queue(ctx, function_id)
        def report(ar: AnnotationRequest) -> bool:
            ar.update(agent, progress, self.clock.now())
            return True

        self._change(request_id, report, function_id=function_id)

    def fail(self, ctx: RequestContext, function_id: int, request_id: str, agent_id: Any, exc_info: Any) -> None:
        agent = check_agent_id(agent_id)
        self._queue(ctx, function_id)
        message = exc_info if isinstance(exc_info, str) else "Unknown error"
        self._change(request_id, lambda r: r.fail(agent, message, self.clock.now()), function_id=function_id)

    def complete(self, ctx: RequestContext, function_id: int, request_id: str, agent_id: Any,
                 body: Mapping[str, Any]) -> None:
        """The agent's result. For ``annotate_task`` the annotations are saved to the task (or
        its job) as the user who submitted the AR, with ``source: "auto"``; the other types keep
        the result on the AR for the interactive call waiting on it. Repeating it is a no-op, so
        the annotations are saved once. The AR is claimed (``begin_saving``) before the
        annotations are saved and completed after, so whoever reads it completed finds them: a
        retry racing a slow first attempt is told to come back (429, which the agent honours); if
        saving fails, the AR is the agent's again (to retry or fail it). The window left: a call
        that dies between the save and the completion has its annotations saved again by a retry
        after ``SAVING_HOLD``."""
        agent = check_agent_id(agent_id)
        self._queue(ctx, function_id)
        ar = self.agents.requests.get(request_id)
        if ar.function_id != function_id:
            raise NotFoundError(f"Annotation request {request_id} not found.")
        if ar.status is ArStatus.COMPLETED and ar.agent_id == agent:
            return
        result = _result_of(ar.type, body)
        if ar.type is not ArType.ANNOTATE_TASK:
            self._change(ar.id, lambda r: r.complete(agent, self.clock.now(), result), function_id=function_id)
            return
        claimed, changed = self._change(ar.id, lambda r: r.begin_saving(agent, self.clock.now()),
                                        function_id=function_id)
        if not changed:
            return
        try:
            self._save_annotations(claimed, result["annotations"])
        except Exception:
            def reopen(r: AnnotationRequest) -> bool:
                r.reopen(agent, self.clock.now())
                return True

            self._change(ar.id, reopen)
            raise
        self._change(ar.id, lambda r: r.complete(agent, self.clock.now()), function_id=function_id)

    def _save_annotations(self, ar: AnnotationRequest, annotations: Mapping[str, Any]) -> None:
        user = self.repos.users.get(ar.owner_id)
        ctx = RequestContext(user=user, actor=self.actor_for(user), request_id=f"agent-{ar.id}")
        body = {"tags": [_auto(t) for t in annotations.get("tags") or []],
                "shapes": [_auto(s) for s in annotations.get("shapes") or []],
                "tracks": []}
        job_id = ar.ar_params.get("job")
        if job_id is not None:
            job = self.repos.jobs.get(int(job_id))
            in_job = range(job.start_frame, job.stop_frame + 1)
            body["tags"] = [t for t in body["tags"] if t.get("frame") in in_job]
            body["shapes"] = [s for s in body["shapes"] if s.get("frame") in in_job]
            if ar.ar_params.get("cleanup"):
                self.annotations.put_job(ctx, job.id, body)
            else:
                self.annotations.patch_job(ctx, job.id, "create", body)
        elif ar.ar_params.get("cleanup"):
            self.annotations.put_task(ctx, ar.task_id, body)
        else:
            self.annotations.patch_task(ctx, ar.task_id, "create", body)

    def watch(self, ctx: RequestContext, function_id: int) -> str:
        """The agents' event stream as a long poll: waits (at most ``watch_seconds``) until the
        function has queued work, then answers one ``newrequest`` event per category with work
        and ``retry: 1000`` (cvat-cli reconnects a second after the body ends)."""
        fn = self._queue(ctx, function_id)
        deadline = self.clock.now() + timedelta(seconds=self.watch_seconds)
        while True:
            now = self.clock.now()
            ready = [c for c in (RequestCategory.INTERACTIVE, RequestCategory.BATCH)
                     if self.agents.requests.list_queued(fn.id, c)
                     or any(r.expired(now) for r in self.agents.requests.list_assigned(fn.id, c))]
            if ready or now >= deadline:
                return sse_body(ready)
            self.sleep(WATCH_POLL_SECONDS)


def _points(body: Mapping[str, Any], name: str) -> list[list[float]]:
    value = body.get(name, [])
    if value is None:
        return []
    if not isinstance(value, list) or not all(
            isinstance(p, list) and len(p) == 2 and all(isinstance(v, int | float) and not isinstance(v, bool)
                                                        for v in p) for p in value):
        raise ValidationError(fields={name: ["Expected a list of [x, y] points."]})
    return [[float(x), float(y)] for x, y in value]


def _auto(obj: Any) -> dict[str, Any]:
    if not isinstance(obj, Mapping):
        raise ValidationError(fields={"annotations": ["Each tag and shape must be an object."]})
    out = dict(obj)
    out["source"] = "auto"
    out.pop("id", None)
    if isinstance(out.get("elements"), list):
        out["elements"] = [_auto(e) for e in out["elements"]]
    return out


def _result_of(ar_type: ArType, body: Mapping[str, Any]) -> dict[str, Any]:
    """The result part of a ``complete`` body, checked for its type (cvat-cli's drivers)."""
    if ar_type in (ArType.ANNOTATE_TASK, ArType.ANNOTATE_FRAME):
        annotations = body.get("annotations")
        if (not isinstance(annotations, Mapping) or not isinstance(annotations.get("shapes", []), list)
                or not isinstance(annotations.get("tags", []), list)):
            raise ValidationError(fields={"annotations": ['Expected {"tags": [...], "shapes": [...]}.']})
        return {"annotations": {"tags": list(annotations.get("tags") or []),
                                "shapes": list(annotations.get("shapes") or [])}}
    if ar_type is ArType.INTERACT:
        shapes = body.get("shapes")
        if not isinstance(shapes, list):
            raise ValidationError(fields={"shapes": ["Expected a list of shapes."]})
        return {"shapes": shapes}
    states = body.get("states")
    if not isinstance(states, list):
        raise ValidationError(fields={"states": ["Expected a list of tracking states."]})
    if ar_type is ArType.INIT_TRACKING:
        return {"states": states}
    shapes = body.get("shapes")
    if not isinstance(shapes, list) or len(shapes) != len(states):
        raise ValidationError(fields={"shapes": ["Expected one shape (or null) per state."]})
    return {"states": states, "shapes": shapes}

"""CVAT's lambda API (``/api/lambda/*``): the model registry, auto-annotation requests over a task
or a job, and interactive calls of a model on one frame.

- Functions: the registry (``ports.FunctionRepository``) in CVAT's shape, for any signed-in user;
  admins add and remove entries with ``cvat-serverless function`` (CVAT has no route for it).
- Requests: ``start_request`` checks the call (``domain.function_calls``), resolves the label mapping
  against the task's labels and starts the auto-annotate workflow with a background request
  (``autoannotate:task-<id>-<hex>``), one running request per task (CVAT's 409). Reads repair a
  request whose execution ended without reporting, as ``services.requests`` does; cancelling fails
  the request and stops its execution (the worker also checks the request before each chunk).
- Calls: the frame at original quality goes to the function's endpoint through
  ``ports.InferenceClient``; a detector's answer is mapped onto the task's label names, a
  tracker's states are signed on the way out and checked on the way back (CVAT signs them with a
  TimestampSigner: the client must not be able to hand the model a state it did not make).
"""

from __future__ import annotations

import base64
import builtins
import json
import logging
import uuid
from collections.abc import Mapping
from typing import Any

from ..domain import permissions as perm
from ..domain.context import RequestContext
from ..domain.errors import (
    ConflictError,
    DependencyUnavailableError,
    NotFoundError,
    PayloadTooLargeError,
    ValidationError,
)
from ..domain.function_calls import (
    DEFAULT_THRESHOLD,
    FunctionCallParams,
    label_names,
    parse_function_call,
    parse_online_call,
    resolve_mapping,
    sign_state,
    unsign_state,
)
from ..domain.functions import FunctionKind, FunctionSpec
from ..domain.jobs import Job
from ..domain.labels import Label
from ..domain.requests import BackgroundRequest, RequestAction, RequestStatus
from ..domain.tasks import Task
from ..ports import Clock, FunctionRepository, InferenceClient, Repositories, WorkflowStarter
from .common import job_ref, task_ref
from .requests import RequestService
from .task_media import TaskMediaService

log = logging.getLogger(__name__)

WORKFLOW = "auto-annotate"
CANCELED = "Canceled by the user."
CALL_TIMEOUT_S = 25.0  # inside API Gateway's 29 s
_ENDED_WITHOUT_REPORT = {"FAILED", "TIMED_OUT", "ABORTED"}


class LambdaFunctionService:
    def __init__(self, repos: Repositories, functions: FunctionRepository, workflows: WorkflowStarter, clock: Clock,
                 *, requests: RequestService, media: TaskMediaService, inference: InferenceClient,
                 state_key: bytes) -> None:
        self.repos = repos
        self.functions = functions
        self.workflows = workflows
        self.clock = clock
        self.requests = requests
        self.media = media
        self.inference = inference
        self._state_key = state_key

    # --- the registry --------------------------------------------------------------------------

    def list(self) -> builtins.list[FunctionSpec]:
        """Every registered function (``GET /api/lambda/functions``; any signed-in user)."""
        return self.functions.list_all()

    def get(self, function_id: str) -> FunctionSpec:
        """One function; NotFoundError with CVAT's text."""
        try:
            return self.functions.get(function_id)
        except NotFoundError:
            raise NotFoundError(f"The '{function_id}' function is not found.") from None

    def register(self, doc: Mapping[str, Any], *, replace: bool = False) -> FunctionSpec:
        """Add a registry entry (``cvat-serverless function add``); ConflictError when the id
        exists and ``replace`` is false."""
        return register_function(self.functions, self.clock, doc, replace=replace)

    def remove(self, function_id: str) -> None:
        """Remove a registry entry (``cvat-serverless function rm``)."""
        self.functions.delete(function_id)

    # --- who may do what -------------------------------------------------------------------------

    def _project_of(self, task: Task) -> Any:
        return self.repos.projects.get(task.project_id) if task.project_id else None

    def _writable(self, ctx: RequestContext, task_id: int | None, job_id: int | None) -> tuple[Task, Job | None]:
        """The task (and job): the caller may read it and change its annotations."""
        ctx.require_write()
        if job_id is not None:
            job = self.repos.jobs.get(job_id)
            task = self.repos.tasks.get(job.task_id)
            if task_id is not None and task_id != task.id:
                raise ValidationError(fields={"job": [f"Job {job_id} is not a job of task {task_id}."]})
            ref = job_ref(job, task, self._project_of(task))
            perm.check(ctx.actor, "view", ref)
            perm.check(ctx.actor, "update:annotations", ref)
            return task, job
        assert task_id is not None
        task = self.repos.tasks.get(task_id)
        ref = task_ref(task, self._project_of(task))
        perm.check(ctx.actor, "view", ref)
        perm.check(ctx.actor, "update:annotations", ref)
        return task, None

    def _labels(self, task: Task) -> builtins.list[Label]:
        return (self.repos.labels.list_by_project(task.project_id) if task.project_id
                else self.repos.labels.list_by_task(task.id))

    # --- requests ----------------------------------------------------------------------------------

    def start_request(self, ctx: RequestContext, body: Any) -> BackgroundRequest:
        """``POST /api/lambda/requests``: annotate a task (or one of its jobs) with a detector in
        the background."""
        params = parse_function_call(body)
        spec = self.get(params.function_id)
        if spec.kind is not FunctionKind.DETECTOR:
            raise ValidationError(f"The function '{spec.id}' is a {spec.kind.value}: only detectors annotate a "
                                  "whole task or job.")
        task, job = self._writable(ctx, params.task_id, params.job_id)
        if not task.size:
            raise ValidationError(f"Task #{task.id} has no data yet: it can be annotated once its data is processed.")
        mapping = resolve_mapping(spec.labels_v2, self._labels(task), params.mapping)
        running = [r for r in self.repos.requests.list_by_task(task.id)
                   if r.action is RequestAction.AUTOANNOTATE and not self._repair(r).status.ended]
        if running:
            raise ConflictError(f"Only one running request is allowed for the same task #{task.id}")
        return self._start(ctx, spec, task, job, params=params, mapping=mapping)

    def _start(self, ctx: RequestContext, spec: FunctionSpec, task: Task, job: Job | None, *,
               params: FunctionCallParams, mapping: dict[str, Any]) -> BackgroundRequest:
        attempt = uuid.uuid4().hex[:12]
        rq = BackgroundRequest(
            id=f"autoannotate:task-{task.id}-{attempt}", action=RequestAction.AUTOANNOTATE,
            target="job" if job is not None else "task", subresource="annotations", owner_id=ctx.user_id,
            organization_id=task.organization_id, project_id=task.project_id, task_id=task.id,
            job_id=job.id if job is not None else None, function_id=spec.id, created_date=self.clock.now(),
            workflow=WORKFLOW,
        )
        rq.execution_name = f"autoannotate-task-{task.id}-{attempt}"
        rq.workflow_input = {
            "request_id": rq.id, "function_id": spec.id, "task_id": task.id,
            "job_id": job.id if job is not None else None, "threshold": params.effective_threshold,
            "cleanup": params.cleanup, "conv_mask_to_poly": params.conv_mask_to_poly,
            "roi": list(params.roi) if params.roi is not None else None, "mapping": mapping,
        }
        if params.max_distance is not None:
            rq.workflow_input["max_distance"] = params.max_distance
        rq = self.repos.requests.add(rq)
        try:
            self.workflows.start(WORKFLOW, rq.execution_name, rq.workflow_input)
        except Exception:
            rq.status = RequestStatus.FAILED  # never a request nobody will end
            rq.message = "The auto-annotation could not be started; try again."
            rq.finished_date = self.clock.now()
            self.repos.requests.save(rq)
            raise
        return rq

    def _visible(self, ctx: RequestContext, request: BackgroundRequest) -> bool:
        if request.action is not RequestAction.AUTOANNOTATE:
            return False
        if ctx.org_id is not None and request.organization_id != ctx.org_id:
            return False
        return ctx.actor.is_admin or request.owner_id == ctx.user_id

    def _repair(self, request: BackgroundRequest) -> BackgroundRequest:
        """A request whose execution ended without reporting, or is gone, fails."""
        if request.status.ended or not request.execution_name or not request.workflow:
            return request
        run = self.workflows.describe(request.workflow, request.execution_name)
        if run is not None and run.status not in _ENDED_WITHOUT_REPORT and run.status != "SUCCEEDED":
            return request
        latest = self.repos.requests.get(request.id)  # the last step may have just reported
        if latest.status.ended:
            return latest
        reason = (f"The auto-annotation stopped ({run.status.lower()}: {run.error or 'no error'})."
                  if run is not None else "The auto-annotation was lost (the server restarted); start it again.")
        return self.requests.fail(request.id, reason)

    def list_requests(self, ctx: RequestContext) -> builtins.list[BackgroundRequest]:
        """``GET /api/lambda/requests``: the caller's auto-annotation requests (every one for
        admins), failed ones left out as CVAT does, oldest first."""
        items = (self.repos.requests.list_all() if ctx.actor.is_admin
                 else self.repos.requests.list_by_owner(ctx.user_id))
        shown = [self._repair(r) for r in items if self._visible(ctx, r)]
        return sorted((r for r in shown if r.status is not RequestStatus.FAILED),
                      key=lambda r: (r.created_date is None, r.created_date, r.id))

    def get_request(self, ctx: RequestContext, request_id: str) -> BackgroundRequest:
        """``GET /api/lambda/requests/{id}``; 404 with CVAT's text for another user's request."""
        try:
            request = self.repos.requests.get(request_id)
        except NotFoundError:
            request = None
        if request is None or not self._visible(ctx, request):
            raise NotFoundError(f"{request_id} lambda job is not found")
        return self._repair(request)

    def cancel_request(self, ctx: RequestContext, request_id: str) -> None:
        """``DELETE /api/lambda/requests/{id}``: a request that has not ended fails as canceled
        and its execution stops; an ended one stays as it is."""
        request = self.get_request(ctx, request_id)
        ctx.require_write()
        if request.status.ended:
            return
        self.requests.fail(request.id, CANCELED)
        try:
            self.workflows.stop(request.workflow, request.execution_name, cause=CANCELED)
        except Exception:  # the worker sees the failed request before its next chunk
            log.warning("could not stop execution %s of request %s", request.execution_name, request.id,
                        exc_info=True)

    # --- interactive calls --------------------------------------------------------------------------

    def call(self, ctx: RequestContext, function_id: str, body: Any) -> Any:
        """``POST /api/lambda/functions/{id}``: run the function on one frame and answer what it
        found (detector: CVAT's list of shapes with the task's label names; interactor: the
        model's answer; tracker: ``{"shapes", "states"}`` with signed states)."""
        spec = self.get(function_id)
        if not spec.mode.interactive:
            raise ValidationError(f"The function '{spec.id}' runs on an asynchronous endpoint: it annotates whole "
                                  "tasks (POST /api/lambda/requests) and cannot be called interactively.")
        if spec.kind is FunctionKind.REID:
            raise ValidationError(f"The function '{spec.id}' is a reid function: it cannot be called interactively "
                                  "here; run it over a task instead.")
        params = parse_online_call(spec.kind.value, body)
        task, job = self._writable(ctx, params.task_id, params.job_id)
        if job is not None and not job.start_frame <= params.frame <= job.stop_frame:
            raise ValidationError("The frame is outside the job range")
        image = base64.b64encode(self.media.original_frame(task, params.frame)).decode()
        if spec.kind is FunctionKind.DETECTOR:
            labels = self._labels(task)
            try:
                resolved = resolve_mapping(spec.labels_v2, labels, params.mapping)
            except ValidationError:
                if params.mapping is not None:
                    raise
                return []  # nothing of the model fits the task: nothing to show
            threshold = params.threshold if params.threshold is not None else DEFAULT_THRESHOLD
            answer = self._invoke(spec, {"image": image, "threshold": threshold})
            if not isinstance(answer, list):
                raise DependencyUnavailableError(f"The function '{spec.id}' answered something that is not a list "
                                                 "of shapes.", retry_after=5)
            return _map_detections(answer, label_names(resolved, labels))
        if spec.kind is FunctionKind.INTERACTOR:
            return self._invoke(spec, {"image": image, "pos_points": params.pos_points,
                                       "neg_points": params.neg_points, "obj_bbox": params.obj_bbox})
        now = self.clock.now()
        states = [unsign_state(self._state_key, s, now) for s in params.states]
        answer = self._invoke(spec, {"image": image, "shapes": params.shapes, "states": states})
        if not isinstance(answer, Mapping) or not isinstance(answer.get("states"), builtins.list):
            raise DependencyUnavailableError(f"The tracker '{spec.id}' answered without states.", retry_after=5)
        return {**answer, "states": [sign_state(self._state_key, s, now) for s in answer["states"]]}

    def _invoke(self, spec: FunctionSpec, payload: Mapping[str, Any]) -> Any:
        body = json.dumps(payload, separators=(",", ":")).encode()
        if len(body) > spec.payload_limit:
            raise PayloadTooLargeError(f"The frame is too large for the function '{spec.id}' "
                                       f"({len(body)} bytes; its endpoint takes {spec.payload_limit}).")
        answer = self.inference.invoke(spec.endpoint, body, content_type="application/json",
                                       timeout_s=CALL_TIMEOUT_S)
        try:
            return json.loads(answer)
        except ValueError:
            raise DependencyUnavailableError(f"The function '{spec.id}' answered something that is not JSON.",
                                             retry_after=5) from None


def register_function(functions: FunctionRepository, clock: Clock, doc: Mapping[str, Any], *,
                      replace: bool = False) -> FunctionSpec:
    """Check a registry document and store it (a replaced entry keeps its creation date)."""
    spec = FunctionSpec.from_dict(doc)
    now = clock.now()
    spec.updated_date = now
    try:
        spec.created_date = functions.get(spec.id).created_date or now
    except NotFoundError:
        spec.created_date = now
    return functions.put(spec, replace=replace)


def _map_detections(found: builtins.list[Any], names: Mapping[str, Mapping[str, Any]]) -> builtins.list[Any]:
    """The model's shapes with the task's label and attribute names; shapes of labels the
    mapping leaves out are dropped."""
    out = []
    for shape in found:
        if not isinstance(shape, Mapping):
            continue
        entry = names.get(str(shape.get("label")))
        if entry is None:
            continue
        mapped = dict(shape)
        mapped["label"] = entry["name"]
        mapped["attributes"] = [{"name": entry["attributes"][a["name"]], "value": a.get("value")}
                                for a in shape.get("attributes") or []
                                if isinstance(a, Mapping) and a.get("name") in entry["attributes"]]
        if isinstance(shape.get("elements"), builtins.list):
            mapped["elements"] = _map_detections(shape["elements"], entry.get("sublabels") or {})
        mapped.setdefault("confidence", None)
        out.append(mapped)
    return out

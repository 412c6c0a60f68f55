"""The auto-annotate workflow's steps (statemachines/auto_annotate.asl.json): run a registered
detector (``domain.functions.FunctionSpec``) on a task's or a job's frames and save its shapes
as the requesting user, CVAT's ``lambda_manager`` batch worker in Step Functions' terms.

Steps (``functions/auto_annotate``), each given the workflow input (``domain.auto_annotation.
AutoAnnotateInput``):

- ``prepare``: the request started; the function read; ``cleanup`` (the target's annotations
  deleted first, as CVAT does); the task chunks the request covers, the Map's concurrency and
  the mode (``sync``; ``async`` for asynchronous endpoints that scale to zero).
- ``run_chunk`` (sync): the chunk's original frames, encoded for the model (the uploaded file
  when it is JPEG/PNG under the budget; else a JPEG), sent in batches of ``batch_size`` images
  under the function's payload limit; the detections converted and saved with one
  ``patch(..., "create")`` per chunk.
- ``submit_chunk`` / ``collect_chunk`` (async): the chunk's request JSON stored in S3 and an
  asynchronous invocation queued; the state machine waits on a task token that the results
  function (``AsyncResultRouter``) returns when the endpoint writes its output or failure
  object; then the output is converted and saved as in ``run_chunk``, or the failure object's
  text fails the request.
- ``finish`` / ``fail``: the request finished, or failed with a message naming the function.
  A chunk that fails for good fails the request in its own child execution (the Distributed
  Map's failure hides the child's error); the parent's ``fail`` then keeps that first message.

Idempotency and progress. A chunk is recorded in the ledger (``ports.AutoAnnotationLedger``,
a conditional write) right after its save; a step finds its chunk recorded and does nothing, so
a retried step (a Lambda error after the save, a Step Functions retry) does not save twice, and
the request's progress is the count of recorded chunks over the total: safe under the Map's
concurrency and retries, and never above 0.99 before ``finish``. The window left: a process
that dies between the save and the record (a Lambda killed by its timeout in those
milliseconds; the DynamoDB write failing after its own SDK retries) has its chunk saved again
by the retry. Recording first would lose the chunk instead, silently; a duplicate is visible
and the rarer of the two (the record is one small write right after the save).

A request that ended (canceled by the user, or failed) is checked at the start of each chunk
and again before its save: nothing more is saved.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..domain.annotations import LabeledData, LabeledShape, ShapeType
from ..domain.auto_annotation import (
    AutoAnnotateInput,
    Conversion,
    batches,
    chunk_progress,
    covered_frames,
    frames_by_chunk,
    image_budget,
    parse_results,
    to_shapes,
)
from ..domain.context import RequestContext
from ..domain.errors import CvatServerlessError, DependencyUnavailableError, UpstreamTimeoutError, ValidationError
from ..domain.functions import FunctionMode, FunctionSpec
from ..domain.jobs import SegmentType
from ..domain.permissions import Actor
from ..domain.requests import BackgroundRequest, failure_message
from ..domain.tasks import Task
from ..domain.users import User
from ..ports import (
    AutoAnnotationLedger,
    BlobStore,
    Clock,
    EventPublisher,
    FunctionRepository,
    IdGenerator,
    InferenceClient,
    Repositories,
    TaskCallbacks,
)
from .annotations import AnnotationService
from .common import ServiceBase
from .requests import RequestService
from .task_media import TaskMediaService

log = logging.getLogger(__name__)

PREFIX = "auto-annotation/"
INPUT_PREFIX = PREFIX + "async-input/"
RESULTS_PREFIX = PREFIX + "async-results/"
FAILURES_PREFIX = PREFIX + "async-failures/"
MESSAGE = "Annotating the frames"

# (image bytes, name, budget, allow_downscale) -> (encoded bytes, scale)
ImageEncoder = Callable[[bytes, str, int, bool], tuple[bytes, float]]


def _default_encoder(data: bytes, name: str, budget: int, allow_downscale: bool) -> tuple[bytes, float]:
    from ..media.model_input import model_image  # Pillow: the media layer, on first use

    return model_image(data, name, budget, allow_downscale=allow_downscale)


def _safe(request_id: str) -> str:
    """A request id as a path segment and an inference id (``autoannotate:task-7-ab`` -> ``autoannotate-task-7-ab``)."""
    return "".join(c if c.isalnum() or c in "-_." else "-" for c in request_id)


@dataclass(frozen=True, slots=True)
class _Plan:
    """What a request covers: its task, the function and the covered frames by chunk."""

    request: BackgroundRequest
    task: Task
    spec: FunctionSpec
    chunk_size: int
    chunks: dict[int, list[int]]


class AutoAnnotationWorker(ServiceBase):
    def __init__(self, repos: Repositories, ids: IdGenerator, clock: Clock, events: EventPublisher, *,
                 blobs: BlobStore, media: TaskMediaService, annotations: AnnotationService,
                 requests: RequestService, functions: FunctionRepository, inference: InferenceClient,
                 ledger: AutoAnnotationLedger, callbacks: TaskCallbacks, actor_for: Callable[[User], Actor],
                 bucket: str, concurrency: int = 4, timeout_s: float = 75.0,
                 encode: ImageEncoder | None = None) -> None:
        super().__init__(repos, ids, clock, events)
        self.blobs = blobs
        self.media = media
        self.annotations = annotations
        self.requests = requests
        self.functions = functions
        self.inference = inference
        self.ledger = ledger
        self.callbacks = callbacks
        self.actor_for = actor_for
        self.bucket = bucket
        self.concurrency = max(1, concurrency)
        self.timeout_s = timeout_s
        self.encode = encode or _default_encoder

    # --- 1. prepare ------------------------------------------------------------------------------

    def prepare(self, doc: Mapping[str, Any], execution_name: str = "") -> dict[str, Any]:
        inp = AutoAnnotateInput.from_dict(doc)
        request = self.requests.requests.get(inp.request_id)
        if request.status.ended:
            return {"chunks": [], "concurrency": 1, "mode": "sync"}
        self.requests.started(inp.request_id, MESSAGE, execution_name=execution_name or None)
        plan = self._plan(inp)
        # A resumed or retried request whose chunks were saved already must not lose them.
        if inp.cleanup and self.ledger.saved_count(inp.request_id) == 0:
            ctx = self._context(plan.request)
            empty = LabeledData().to_dict()
            if inp.job_id is not None:
                self.annotations.put_job(ctx, inp.job_id, empty)
            else:
                self.annotations.put_task(ctx, inp.task_id, empty)
        chunks = sorted(plan.chunks)
        self.requests.advance(inp.request_id, chunk_progress(self.ledger.saved_count(inp.request_id), len(chunks)),
                              MESSAGE)
        return {"chunks": chunks, "concurrency": min(self.concurrency, max(1, len(chunks))),
                "mode": "async" if plan.spec.mode is FunctionMode.ASYNC else "sync"}

    def _plan(self, inp: AutoAnnotateInput) -> _Plan:
        request = self.requests.requests.get(inp.request_id)
        spec = self.functions.get(inp.function_id)
        task = self.repos.tasks.get(inp.task_id)
        data = self.repos.task_data.find_by_task(task.id)
        if data is None or not task.size:
            raise ValidationError(f"Task {task.id} has no data yet: it can be annotated once its data is processed.")
        if inp.job_id is not None:
            job = self.repos.jobs.get(inp.job_id)
            segment = self.repos.segments.get(job.segment_id)
            specific = segment.frames if segment.type == SegmentType.SPECIFIC_FRAMES else None
            frames = covered_frames(task.size, start=job.start_frame, stop=job.stop_frame, specific=specific,
                                    deleted=data.deleted_frames)
        else:
            frames = covered_frames(task.size, deleted=data.deleted_frames)
        return _Plan(request, task, spec, data.chunk_size, frames_by_chunk(frames, data.chunk_size))

    def _context(self, request: BackgroundRequest) -> RequestContext:
        user = self.repos.users.get(request.owner_id)
        return RequestContext(user=user, actor=self.actor_for(user), request_id=request.id)

    # --- 2. one chunk, synchronously -------------------------------------------------------------

    def run_chunk(self, doc: Mapping[str, Any], chunk: int) -> dict[str, Any]:
        inp = AutoAnnotateInput.from_dict(doc)
        if self._done(inp, chunk):
            return {"chunk": chunk, "saved": False}
        plan = self._plan(inp)
        frames = plan.chunks.get(chunk, [])
        images = self._images(plan, chunk, frames)
        sizes = self._sizes(plan.task)
        shapes: list[LabeledShape] = []
        limit = plan.spec.payload_limit
        for group in batches([len(images[i][0]) for i in range(len(images))], batch_size=plan.spec.batch_size,
                             payload_limit=limit):
            body = self._request_body(inp, [images[i][0] for i in group])
            try:
                answer = self.inference.invoke(plan.spec.endpoint, body, timeout_s=self.timeout_s)
                results = parse_results(_json(answer), len(group))
            except (ValidationError, DependencyUnavailableError, UpstreamTimeoutError) as exc:
                raise _naming(exc, plan.spec, chunk) from exc
            for i, detections in zip(group, results, strict=True):
                shapes += self._convert(inp, frames[i], sizes(frames[i]), detections, images[i][1])
        return self._save(inp, plan, chunk, shapes)

    def _done(self, inp: AutoAnnotateInput, chunk: int) -> bool:
        """The request ended (canceled, failed) or the chunk is saved already: nothing to do."""
        return self.requests.requests.get(inp.request_id).status.ended or self.ledger.is_saved(inp.request_id, chunk)

    def _images(self, plan: _Plan, chunk: int, frames: Sequence[int]) -> list[tuple[bytes, float]]:
        """The covered frames of the chunk as model inputs ``(bytes, scale)``, in frame order."""
        if not frames:
            return []
        originals = self.media.original_images(plan.task, chunk)
        budget = image_budget(plan.spec.payload_limit)
        masks = any(str(label.get("type")) == "mask" for label in plan.spec.labels_v2)
        out = []
        for frame in frames:
            position = frame - chunk * plan.chunk_size
            if not 0 <= position < len(originals):
                raise ValidationError(f"Chunk {chunk} of task {plan.task.id} has no frame at {position}.")
            name, data = originals[position]
            out.append(self.encode(data, name, budget, not masks))
        return out

    @staticmethod
    def _request_body(inp: AutoAnnotateInput, images: Sequence[bytes]) -> bytes:
        return json.dumps({"images": [base64.b64encode(i).decode("ascii") for i in images],
                           "threshold": inp.threshold}, separators=(",", ":")).encode()

    def _sizes(self, task: Task) -> Callable[[int], tuple[int, int]]:
        infos = self.media.frame_names(task)
        if len(infos) == 1 and task.size > 1:  # a video: one entry
            size = (int(infos[0].width), int(infos[0].height))
            return lambda frame: size
        return lambda frame: (int(infos[frame].width), int(infos[frame].height))

    @staticmethod
    def _convert(inp: AutoAnnotateInput, frame: int, size: tuple[int, int], detections: Sequence[Mapping[str, Any]],
                 scale: float) -> list[LabeledShape]:
        """One frame's detections as shapes; masks as polygons where asked (``conv_mask_to_poly``)
        or where the task label is a polygon label (CVAT: mask and polygon are compatible)."""
        width, height = size
        shapes = to_shapes(detections, frame, width, height, Conversion(inp.mapping, inp.threshold, inp.roi),
                           scale=scale)
        polygon_labels = {t.label_id for t in inp.mapping.values() if t.type == ShapeType.POLYGON.value}
        if any(s.type is ShapeType.MASK and (inp.conv_mask_to_poly or s.label_id in polygon_labels) for s in shapes):
            from ..formats._polygons import masks_to_polygons  # numpy: the media layer

            keep = [s for s in shapes if s.type is ShapeType.MASK and not inp.conv_mask_to_poly
                    and s.label_id not in polygon_labels]
            convert = [s for s in shapes if s not in keep]
            shapes = keep + masks_to_polygons(LabeledData(shapes=convert), {frame: (width, height)}).shapes
        return shapes

    def _save(self, inp: AutoAnnotateInput, plan: _Plan, chunk: int, shapes: list[LabeledShape]) -> dict[str, Any]:
        """Save the chunk's shapes as the request's owner, unless the request ended or the
        chunk was saved meanwhile; record it; report the progress (see the module doc)."""
        if self._done(inp, chunk):
            return {"chunk": chunk, "saved": False}
        if shapes:
            ctx = self._context(plan.request)
            body = LabeledData(shapes=shapes).to_dict()
            if inp.job_id is not None:
                self.annotations.patch_job(ctx, inp.job_id, "create", body)
            else:
                self.annotations.patch_task(ctx, inp.task_id, "create", body)
        self.ledger.mark_saved(inp.request_id, chunk)
        done = self.ledger.saved_count(inp.request_id)
        self.requests.advance(inp.request_id, chunk_progress(done, len(plan.chunks)), MESSAGE)
        return {"chunk": chunk, "saved": True, "shapes": len(shapes)}

    # --- 2'. one chunk, through an asynchronous endpoint -----------------------------------------

    def submit_chunk(self, doc: Mapping[str, Any], chunk: int, task_token: str) -> dict[str, Any]:
        """Store the chunk's request and queue it; the state machine waits for the callback."""
        inp = AutoAnnotateInput.from_dict(doc)
        if self._done(inp, chunk):
            self.callbacks.task_succeeded(task_token, {"output_key": "", "failure_key": ""})
            return {"chunk": chunk, "submitted": False}
        plan = self._plan(inp)
        frames = plan.chunks.get(chunk, [])
        images = self._images(plan, chunk, frames)
        if not images:
            self.callbacks.task_succeeded(task_token, {"output_key": "", "failure_key": ""})
            return {"chunk": chunk, "submitted": False}
        body = self._request_body(inp, [data for data, _ in images])
        if len(body) > plan.spec.payload_limit:
            raise ValidationError(f"The function {plan.spec.id} failed on chunk {chunk}: its frames take "
                                  f"{len(body)} bytes, over the endpoint's limit of {plan.spec.payload_limit}.")
        base = f"{INPUT_PREFIX}{_safe(inp.request_id)}/{chunk}"
        attempt = hashlib.sha256(task_token.encode()).hexdigest()[:8]  # a retried step: a new token
        self.blobs.put(f"{base}.json", body, content_type="application/json")
        self.blobs.put(f"{base}.meta.json", json.dumps({"frames": frames, "scales": [s for _, s in images]}).encode(),
                       content_type="application/json")
        try:
            invocation = self.inference.invoke_async(plan.spec.endpoint, f"s3://{self.bucket}/{base}.json",
                                                     inference_id=f"{_safe(inp.request_id)}-{chunk}-{attempt}"[-64:])
        except (ValidationError, DependencyUnavailableError, UpstreamTimeoutError) as exc:
            raise _naming(exc, plan.spec, chunk) from exc
        keys = [_key(loc) for loc in (invocation.output_location, invocation.failure_location) if loc]
        self.ledger.put_callback(keys, task_token)
        return {"chunk": chunk, "submitted": True, "inference_id": invocation.inference_id}

    def collect_chunk(self, doc: Mapping[str, Any], chunk: int, output_key: str,
                      failure_key: str = "") -> dict[str, Any]:
        """The endpoint's output for the chunk, converted and saved as ``run_chunk`` does; or its
        failure object's text as the request's failure (a ValidationError: not retried)."""
        inp = AutoAnnotateInput.from_dict(doc)
        if failure_key:
            text = self.blobs.get(failure_key).decode("utf-8", errors="replace").strip()[:4000]
            raise ValidationError(f"The function {inp.function_id} failed on chunk {chunk}: "
                                  f"{text or 'the endpoint gave no reason.'}")
        if not output_key or self._done(inp, chunk):
            return {"chunk": chunk, "saved": False}
        plan = self._plan(inp)
        meta = json.loads(self.blobs.get(f"{INPUT_PREFIX}{_safe(inp.request_id)}/{chunk}.meta.json"))
        frames, scales = [int(f) for f in meta["frames"]], [float(s) for s in meta["scales"]]
        try:
            results = parse_results(_json(self.blobs.get(output_key)), len(frames))
        except ValidationError as exc:
            raise ValidationError(f"The function {plan.spec.id} failed on chunk {chunk}: {exc.message}") from exc
        shapes: list[LabeledShape] = []
        sizes = self._sizes(plan.task)
        for frame, scale, detections in zip(frames, scales, results, strict=True):
            shapes += self._convert(inp, frame, sizes(frame), detections, scale)
        return self._save(inp, plan, chunk, shapes)

    # --- 3. the end ---------------------------------------------------------------------------------

    def finish(self, doc: Mapping[str, Any]) -> dict[str, Any]:
        inp = AutoAnnotateInput.from_dict(doc)
        request = self.requests.finish(inp.request_id)  # an ended request keeps its first word
        return {"request_id": inp.request_id, "status": request.status.value}

    def fail(self, doc: Mapping[str, Any], error: str, cause: str) -> dict[str, Any]:
        request_id = str(doc.get("request_id", ""))
        function_id = str(doc.get("function_id", ""))
        message = self.failure(function_id, error, cause)
        if self.requests.requests.get(request_id).status.ended:  # canceled meanwhile: the user's word stands
            return {"request_id": request_id, "message": message, "changed": False}
        self.requests.fail(request_id, message)
        return {"request_id": request_id, "message": message}

    @staticmethod
    def failure(function_id: str, error: str, cause: str) -> str:
        """The message of a failed request: the step's own message when it names the function
        (a model's refusal, an endpoint that stayed unavailable), else the engine's."""
        try:
            detail = json.loads(cause)
        except (TypeError, ValueError):
            detail = None
        if isinstance(detail, dict) and detail.get("errorMessage") and detail.get("errorType") in (
                "DependencyUnavailableError", "UpstreamTimeoutError") and function_id in str(detail["errorMessage"]):
            return str(detail["errorMessage"])
        return failure_message(error, cause, "auto-annotation")


def _naming(exc: CvatServerlessError, spec: FunctionSpec, chunk: int) -> CvatServerlessError:
    """The same error (the state machine retries on its class name), with a message that names
    the function and the chunk."""
    message = f"The function {spec.id} failed on chunk {chunk}: {exc.message}"
    if isinstance(exc, DependencyUnavailableError):
        return DependencyUnavailableError(message)
    if isinstance(exc, UpstreamTimeoutError):
        return UpstreamTimeoutError(message)
    return ValidationError(message)


def _json(answer: bytes) -> Any:
    try:
        return json.loads(answer)
    except ValueError as exc:
        raise ValidationError(f"The model answered something else than JSON ({exc}).") from exc


def _key(location: str) -> str:
    """``s3://bucket/key`` -> ``key``."""
    return location.split("/", 3)[3] if location.startswith("s3://") else location


class AsyncResultRouter:
    """The results function: an async endpoint's output or failure object (an S3 notification)
    to the task token waiting for it. A key without a token is an error (SQS delivers it again:
    the object can appear before the submit step stored the token).

    Both answers are a SendTaskSuccess (``{"output_key", "failure_key"}``, one of them empty):
    the collect step reads a failure object and fails with the endpoint's words, naming the
    function and the chunk. (A SendTaskFailure would carry the text as its ``cause``, which moto
    5.2.5's server drops: its SendTaskFailure handler passes only ``error`` on.)"""

    def __init__(self, blobs: BlobStore, ledger: AutoAnnotationLedger, callbacks: TaskCallbacks) -> None:
        self.blobs = blobs
        self.ledger = ledger
        self.callbacks = callbacks

    def deliver(self, key: str) -> str:
        """Resume the chunk waiting for ``key``; answers what was done."""
        if not key.startswith((RESULTS_PREFIX, FAILURES_PREFIX)):
            return "ignored"
        token = self.ledger.get_callback(key)
        if token is None:
            raise LookupError(f"No auto-annotate chunk waits for {key} (yet).")
        failed = key.startswith(FAILURES_PREFIX)
        output = {"output_key": "", "failure_key": key} if failed else {"output_key": key, "failure_key": ""}
        self.callbacks.task_succeeded(token, output)
        self.ledger.delete_callback([key])
        return "failed" if failed else "succeeded"

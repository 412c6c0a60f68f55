"""The drop folder (domain.drops): objects written under the media bucket's upload prefix become
tasks in their project, processed by the task-data workflow.

One S3 notification, ``accept``:

1. where the key sits (domain.drops.parse_drop_key): a file of a folder that is not closed yet,
   or a folder placeholder, asks for nothing;
2. the drop's marker is claimed (a conditional put): a redelivery finds it and does nothing;
3. the drop is checked before anything is made: the project and its owner, the folder's files,
   ``task.json``;
4. a task id is reserved in the marker, then the task is made with that id in the project, as the
   project's owner, with the project's labels;
5. its data starts processing from where the files are (TaskDataService.start_in_place);
6. the marker ends DONE with the request's id.

A drop that cannot make a task gets a failure record (domain.drops.failure_key) and its marker
ends FAILED; the notification is consumed: a user's mistake is neither retried nor dead-lettered.
Errors of the platform (DynamoDB, S3, Step Functions) propagate, the notification is delivered
again, and the marker lets that delivery go on where the first one stopped (DropMarker).
"""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass
from enum import StrEnum

from ..domain.context import RequestContext
from ..domain.drops import (
    DONE_MARKER,
    TASK_JSON,
    DropKind,
    DropLayoutError,
    DropMarker,
    DropSpec,
    DropState,
    DropTarget,
    check_folder_files,
    check_single_file,
    drop_marker_id,
    drop_spec,
    failure_key,
    parse_drop_key,
)
from ..domain.errors import (
    ConflictError,
    CvatServerlessError,
    NotFoundError,
    PermissionDeniedError,
    ValidationError,
)
from ..domain.requests import MESSAGE_MAX, RequestAction
from ..domain.task_data import safe_upload_name
from ..domain.tasks import Task
from ..ports import BlobStore, Clock, DropMarkerRepository, IdGenerator, Repositories
from .organizations import OrganizationService
from .task_data import TaskDataService
from .tasks import TaskCreate, TaskService

# What a drop's owner can fix; anything else is the platform's and is retried.
USER_ERRORS = (ValidationError, NotFoundError, PermissionDeniedError)


@dataclass(frozen=True, slots=True)
class DroppedObject:
    """One object of an S3 ObjectCreated notification (the key decoded)."""

    bucket: str
    key: str
    size: int
    etag: str


class DropOutcome(StrEnum):
    IGNORED = "ignored"  # asks for nothing (a file of a folder not closed yet, a placeholder)
    DUPLICATE = "duplicate"  # a redelivery of a drop already made or refused
    STARTED = "started"  # a task made, its data being processed
    FAILED = "failed"  # refused: the failure record says why


@dataclass(frozen=True, slots=True)
class DropResult:
    outcome: DropOutcome
    key: str
    task_id: int | None = None
    request_id: str = ""
    message: str = ""
    failure_key: str = ""


class DropBusyError(CvatServerlessError):
    """Another delivery of this drop's notification is making it: this one is tried again later."""


@dataclass(frozen=True, slots=True)
class _Drop:
    """A checked drop: everything the task and its data need."""

    ctx: RequestContext  # the project's owner
    project_id: int
    spec: DropSpec
    prefix: str  # where the files are
    files: list[str]


class IngestService:
    def __init__(self, repos: Repositories, markers: DropMarkerRepository, blobs: BlobStore, ids: IdGenerator,
                 clock: Clock, *, organizations: OrganizationService, tasks: TaskService,
                 task_data: TaskDataService, upload_prefix: str) -> None:
        self.repos = repos
        self.markers = markers
        self.blobs = blobs
        self.ids = ids
        self.clock = clock
        self.organizations = organizations
        self.tasks = tasks
        self.task_data = task_data
        self.prefix = upload_prefix

    def accept(self, obj: DroppedObject) -> DropResult:
        """Make the task ``obj`` asks for, at most once per object version; refuse a drop that
        cannot make one with a failure record. DropBusyError while another delivery makes it."""
        try:
            target = parse_drop_key(obj.key, self.prefix)
        except DropLayoutError as exc:
            return self._refuse(obj, None, exc.message)
        if target is None or target.kind is DropKind.CONTENT:
            return DropResult(DropOutcome.IGNORED, obj.key)
        if target.trigger == DONE_MARKER and self._exists(target.folder + TASK_JSON):
            return DropResult(DropOutcome.IGNORED, obj.key, message=f"{TASK_JSON} closes {target.folder}")
        marker = self._claim(obj, target)
        if marker is None:
            return DropResult(DropOutcome.DUPLICATE, obj.key)
        try:
            drop = self._check(obj, target)
        except USER_ERRORS as exc:
            return self._refuse(obj, marker, describe(exc))
        return self._make(obj, marker, drop)

    # --- the marker ------------------------------------------------------------------------------

    def _claim(self, obj: DroppedObject, target: DropTarget) -> DropMarker | None:
        """The marker this delivery works under; None when the drop was made or refused."""
        now = self.clock.now()
        marker = DropMarker(id=drop_marker_id(obj.bucket, obj.key, obj.etag), bucket=obj.bucket, key=obj.key,
                            etag=obj.etag, claimed_at=now, project_id=target.project_id)
        try:
            return self.markers.add(marker)
        except ConflictError:
            pass
        found = self.markers.get(marker.id)
        if found.state is not DropState.CLAIMED:
            return None
        if found.claim_is_live(now):
            raise DropBusyError(f"{obj.key} is being made into a task by another delivery.")
        found.claimed_at = now  # the delivery before this one stopped half-way: go on from its marker
        return self._save(found)

    def _save(self, marker: DropMarker) -> DropMarker:
        try:
            return self.markers.save(marker)
        except ConflictError:
            raise DropBusyError(f"{marker.key} was taken over by another delivery.") from None

    # --- checks ----------------------------------------------------------------------------------

    def _exists(self, key: str) -> bool:
        try:
            self.blobs.head(key)
        except NotFoundError:
            return False
        return True

    def _check(self, obj: DroppedObject, target: DropTarget) -> _Drop:
        ctx = self._owner_context(target.project_id)
        if target.kind is DropKind.FILE:
            check_single_file(target.name)
            name = safe_upload_name(target.name)
            return _Drop(ctx, target.project_id, drop_spec(name, [name]), obj.key[: -len(target.name)], [name])
        listed = [key[len(target.folder):] for key, _size in self.blobs.list_keys(target.folder)]
        files = check_folder_files(listed)
        task_json = self.blobs.get(target.folder + TASK_JSON) if target.trigger == TASK_JSON else None
        return _Drop(ctx, target.project_id, drop_spec(target.name, files, task_json), target.folder, files)

    def _owner_context(self, project_id: int) -> RequestContext:
        """The project's owner, who owns the drop's task (the project decides its organization)."""
        try:
            project = self.repos.projects.get(project_id)
        except NotFoundError:
            raise ValidationError(f"Project {project_id} does not exist: drop media into the folder of an "
                                  "existing project (its id is in the project's URL).") from None
        owner = None
        if project.owner_id is not None:
            try:
                owner = self.repos.users.get(project.owner_id)
            except NotFoundError:
                owner = None
        if owner is None or not owner.is_active:
            raise ValidationError(f"Project {project_id} has no active owner to own its tasks: "
                                  "give the project an owner first.")
        return self.organizations.resolve_context(owner, request_id=f"drop-{project_id}")

    # --- making the task -------------------------------------------------------------------------

    def _make(self, obj: DroppedObject, marker: DropMarker, drop: _Drop) -> DropResult:
        if marker.task_id is None:  # reserved before the task exists, so a retry finds that task
            marker.task_id = self.ids.next_id("task")
            marker = self._save(marker)
        task_id = marker.task_id
        assert task_id is not None
        task = self._task(task_id)
        if task is None:
            spec = drop.spec
            try:
                task = self.tasks.create(drop.ctx, TaskCreate(
                    name=spec.name, project_id=drop.project_id, segment_size=spec.segment_size, overlap=spec.overlap,
                    subset=spec.subset, bug_tracker=spec.bug_tracker), task_id=task_id).value
            except USER_ERRORS as exc:
                return self._refuse(obj, marker, f"The task could not be made as the project's owner: "
                                                 f"{describe(exc)}")
        request_id = self._data_request(task)
        if request_id is None:
            try:
                request_id = self.task_data.start_in_place(drop.ctx, task.id, drop.spec.data, prefix=drop.prefix,
                                                           names=drop.files).id
            except USER_ERRORS as exc:
                with contextlib.suppress(CvatServerlessError):  # one drop: a task with data, or a failure record
                    self.tasks.delete(drop.ctx, task.id)
                return self._refuse(obj, marker, describe(exc))
        marker.state, marker.request_id, marker.message = DropState.DONE, request_id, ""
        self._save(marker)
        self.blobs.delete(failure_key(obj.key, self.prefix))  # an earlier attempt's record is stale now
        return DropResult(DropOutcome.STARTED, obj.key, task_id=task.id, request_id=request_id)

    def _task(self, task_id: int) -> Task | None:
        try:
            return self.repos.tasks.get(task_id)
        except NotFoundError:
            return None

    def _data_request(self, task: Task) -> str | None:
        """The request processing the task's data, when an earlier delivery started one."""
        started = [r for r in self.repos.requests.list_by_task(task.id) if r.action is RequestAction.CREATE]
        if started:
            return started[0].id
        return "" if task.has_data else None

    # --- refusing --------------------------------------------------------------------------------

    def _refuse(self, obj: DroppedObject, marker: DropMarker | None, message: str) -> DropResult:
        """The failure record first, then the marker: a crash in between writes the record again."""
        key = failure_key(obj.key, self.prefix)
        record = {
            "bucket": obj.bucket, "key": obj.key, "etag": obj.etag, "size": obj.size,
            "project_id": marker.project_id if marker is not None else None,
            "failed_date": self.clock.now().isoformat(), "message": message,
            "help": (f"Fix what the message says and upload again: a video or an archive as "
                     f"{self.prefix}projects/<project id>/<name>, or a folder of media files "
                     f"{self.prefix}projects/<project id>/<folder>/ closed by <folder>/{DONE_MARKER} or "
                     f"<folder>/{TASK_JSON}. The same content under the same key makes nothing twice."),
        }
        self.blobs.put(key, json.dumps(record, indent=2).encode(), content_type="application/json")
        if marker is not None:
            marker.state, marker.message = DropState.FAILED, message[:MESSAGE_MAX]
            self._save(marker)
        return DropResult(DropOutcome.FAILED, obj.key, message=message, failure_key=key)


def describe(exc: CvatServerlessError) -> str:
    """An error as one line of text, with REST framework's field messages."""
    fields = getattr(exc, "fields", None) or {}
    details = "; ".join(f"{name}: {' '.join(messages)}" for name, messages in fields.items())
    if not details:
        return exc.message
    return details if exc.message in ("Invalid input.", details) else f"{exc.message} {details}"

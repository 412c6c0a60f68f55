"""Restoring backups (CVAT's ``POST /api/tasks/backup`` and ``POST /api/projects/backup``): the
upload, the request, and the workflow that makes a new task (or a project and its tasks) from a
backup in CVAT's layout (formats.backup), whoever made it: this server or CVAT 2.x.

The workflow (statemachines/restore_backup.asl.json):

1. ``restore``: the archive is read and every task's annotations are checked against the
   backup's labels before anything is created (a damaged backup creates nothing). Then the
   project (for a project backup), each task with its labels, segment size and overlap as the
   backup's jobs say, and each task's media extracted next to the upload; each task's data
   starts processing as any upload does (services.task_data: the task-data workflow, media read
   where they are, in the backup's order).
2. ``check`` (again and again, with waits in between): whether every task's data is processed;
   a task whose processing failed fails the restore with that task's message.
3. ``annotate``: each job's annotations (labels and attributes bound by name to the new ids),
   its stage and state, and the deleted frames; the request finishes with ``result_id``, the new
   task's or project's id, which cvat-sdk reads.

A restore that fails removes what it created (the project, its tasks) and the extracted media.
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import json
import logging
import shutil
import uuid
from collections.abc import Mapping, Sequence
from typing import Any, BinaryIO

from ..domain import permissions as perm
from ..domain.annotations import LabeledData, LabelSpec
from ..domain.context import RequestContext
from ..domain.errors import CvatServerlessError, NotFoundError, ValidationError
from ..domain.jobs import JobStage, JobState, JobType, job_status
from ..domain.requests import BackgroundRequest, RequestAction, RequestStatus, failure_message
from ..domain.segments import parse_frame_filter
from ..domain.uploads import Upload, UploadScope
from ..ports import BlobStore, Clock, EventPublisher, IdGenerator, Repositories, WorkflowStarter
from .annotations import AnnotationService
from .common import ServiceBase, scratch_file
from .organizations import OrganizationService
from .projects import ProjectService
from .requests import RequestService
from .task_data import TaskDataService
from .tasks import TaskService
from .uploads import StartedDirectUpload, UploadService

log = logging.getLogger(__name__)

WORKFLOW = "backup-restore"
TARGETS = ("task", "project")
MAX_WAIT_SECONDS = 30


def _scope(target: str) -> UploadScope:
    if target not in TARGETS:
        raise ValidationError(f"Backups restore tasks and projects, not {target}s.")
    return UploadScope("backup", target)


class RestoreService(ServiceBase):
    def __init__(self, repos: Repositories, ids: IdGenerator, clock: Clock, events: EventPublisher, *,
                 blobs: BlobStore, uploads: UploadService, workflows: WorkflowStarter, requests: RequestService,
                 organizations: OrganizationService, projects: ProjectService, tasks: TaskService,
                 task_data: TaskDataService, annotations: AnnotationService) -> None:
        """The workflow acts through the project, task, task-data and annotation services, as the
        backup's owner in the request's organization."""
        super().__init__(repos, ids, clock, events)
        self.blobs = blobs
        self.uploads = uploads
        self.workflows = workflows
        self.requests = requests
        self.organizations = organizations
        self.projects = projects
        self.tasks = tasks
        self.task_data = task_data
        self.annotations = annotations

    # --- the upload -------------------------------------------------------------------------------

    def check(self, ctx: RequestContext, target: str) -> UploadScope:
        """The caller may restore a backup of ``target`` in the request's organization."""
        ctx.require_write()
        scope = _scope(target)
        kind = perm.Resource.TASK if target == "task" else perm.Resource.PROJECT
        perm.check(ctx.actor, "import:backup", perm.ResourceRef(kind, organization_id=ctx.org_id),
                   request_org_id=ctx.org_id)
        return scope

    def create_upload(self, ctx: RequestContext, target: str, filename: str, length: int) -> Upload:
        return self.uploads.create(self.check(ctx, target), ctx.user_id, filename, length)

    def append(self, ctx: RequestContext, target: str, upload_id: str, offset: int, data: bytes) -> Upload:
        ctx.require_write()
        return self.uploads.append(_scope(target), ctx.user_id, upload_id, offset, data)

    def offset(self, ctx: RequestContext, target: str, upload_id: str) -> Upload:
        return self.uploads.get(_scope(target), ctx.user_id, upload_id)

    def start_direct_upload(self, ctx: RequestContext, target: str, filename: str, length: int
                            ) -> StartedDirectUpload:
        """A direct upload of the backup (presigned S3 parts, services.uploads): who may create
        the TUS upload may start it. ``Upload-Finish`` with its id restores it."""
        return self.uploads.start_direct(self.check(ctx, target), ctx.user_id, filename or "backup.zip", length)

    def complete_direct_upload(self, ctx: RequestContext, target: str, upload_id: str,
                               parts: Sequence[tuple[int, str]]) -> Upload:
        """Join the parts (number, ETag) of one of the caller's direct uploads."""
        return self.uploads.complete_direct(self.check(ctx, target), ctx.user_id, upload_id, parts)

    def abort_direct_upload(self, ctx: RequestContext, target: str, upload_id: str) -> None:
        """Drop one of the caller's direct uploads."""
        ctx.require_write()
        self.uploads.abort_direct(_scope(target), ctx.user_id, upload_id)

    def finish(self, ctx: RequestContext, target: str, query: Mapping[str, str]) -> BackgroundRequest:
        """``Upload-Finish`` (``filename`` = the ``Upload-Filename`` the upload was given)."""
        scope = self.check(ctx, target)
        upload = self.uploads.finished(scope, ctx.user_id, query.get("filename") or "")
        return self._start(ctx, target, upload)

    def restore_file(self, ctx: RequestContext, target: str, filename: str, body: bytes | BinaryIO
                     ) -> BackgroundRequest:
        """CVAT's one-request form (multipart ``task_file`` / ``project_file``)."""
        scope = self.check(ctx, target)
        return self._start(ctx, target, self.uploads.store(scope, ctx.user_id, filename or "backup.zip", body))

    def _start(self, ctx: RequestContext, target: str, upload: Upload) -> BackgroundRequest:
        attempt = uuid.uuid4().hex[:12]
        rq = BackgroundRequest(
            id=f"import:{target}-backup-{attempt}", action=RequestAction.IMPORT, target=target,
            subresource="backup", owner_id=ctx.user_id, organization_id=ctx.org_id,
            created_date=self.clock.now(), workflow=WORKFLOW,
        )
        rq.execution_name = f"restore-{target}-{attempt}"
        rq.workflow_input = {"request_id": rq.id, "target": target, "upload_id": upload.id}
        rq = self.repos.requests.add(rq)
        try:
            self.workflows.start(WORKFLOW, rq.execution_name, rq.workflow_input)
        except Exception:
            rq.status = RequestStatus.FAILED  # never a request nobody will end
            rq.message = "The restore could not be started; try again."
            rq.finished_date = self.clock.now()
            self.repos.requests.save(rq)
            raise
        return rq

    # --- the workflow ----------------------------------------------------------------------------

    def _ctx(self, rq: BackgroundRequest) -> RequestContext:
        user = self.repos.users.get(rq.owner_id)
        return self.organizations.resolve_context(
            user, org_id=rq.organization_id if rq.organization_id is not None else "", request_id=rq.id)

    def _work(self, request_id: str) -> str:
        return f"staging/restores/{hashlib.sha256(request_id.encode()).hexdigest()[:32]}/"

    def _state(self, request_id: str) -> dict[str, Any]:
        try:
            return dict(json.loads(self.blobs.get(self._work(request_id) + "state.json")))
        except NotFoundError:
            return {"project_id": None, "tasks": []}

    def _save_state(self, request_id: str, state: Mapping[str, Any]) -> None:
        self.blobs.put(self._work(request_id) + "state.json", json.dumps(state).encode(),
                       content_type="application/json")

    def restore(self, request_id: str, execution_name: str = "") -> dict[str, Any]:
        """Step 1 (see the module doc); answers the first wait."""
        from ..formats.backup import bind_annotations, read_project_backup, read_task_backup

        rq = self.requests.started(request_id, "Reading the backup", execution_name=execution_name or None)
        if rq.status.ended:
            return {"done": True, "wait": 1, "round": 0}
        state = self._state(request_id)
        if state["tasks"] or state["project_id"]:  # a retried step: undo the first try, then start over
            self._undo(rq, state)
            state = {"project_id": None, "tasks": []}
        target = str(rq.workflow_input["target"])
        upload = self.uploads.finished(_scope(target), rq.owner_id, str(rq.workflow_input["upload_id"]))
        ctx = self._ctx(rq)
        with scratch_file("restore-") as path:
            self.uploads.download(upload, path)
            with open(path, "rb") as f:
                backup: Any
                if target == "project":
                    backup = read_project_backup(f, upload.filename)
                    tasks = list(backup.tasks)
                else:
                    backup = read_task_backup(f, upload.filename)
                    tasks = [backup]
                with contextlib.closing(backup):
                    labels = backup.labels
                    for task in tasks:  # every task's annotations are checked before anything is made
                        bind_annotations(task, _provisional(task.labels or labels))
                    self._create(rq, ctx, backup if target == "project" else None, tasks, state)
        return {"done": False, "wait": 1, "round": 0}

    def _create(self, rq: BackgroundRequest, ctx: RequestContext, project_backup: Any, tasks: Sequence[Any],
                state: dict[str, Any]) -> None:
        from ..formats.backup import to_label_inputs
        from .projects import ProjectCreate
        from .tasks import TaskCreate

        project_id = None
        if project_backup is not None:
            project = self.projects.create(ctx, ProjectCreate(
                name=project_backup.name, labels=to_label_inputs(project_backup.labels),
                bug_tracker=project_backup.bug_tracker)).value
            project_id = state["project_id"] = project.id
            self._save_state(rq.id, state)
        for number, contents in enumerate(tasks):
            self.requests.advance(rq.id, 0.05 + 0.1 * number / max(1, len(tasks)), f"Restoring task {contents.name}")
            segment_size, overlap = _segmentation(contents.jobs)
            task = self.tasks.create(ctx, TaskCreate(
                name=contents.name, project_id=project_id,
                labels=[] if project_id is not None else to_label_inputs(contents.labels),
                bug_tracker=contents.bug_tracker, overlap=overlap, segment_size=segment_size,
                subset=contents.subset)).value
            entry: dict[str, Any] = {"task_id": task.id, "name": contents.name}
            state["tasks"].append(entry)
            self._save_state(rq.id, state)
            prefix = f"{self._work(rq.id)}task_{number}/"
            for name in contents.media:
                with contents.open_media(name) as src, scratch_file("restore-") as media_path:
                    with open(media_path, "wb") as out:
                        shutil.copyfileobj(src, out, 8 * 1024 * 1024)
                    self.blobs.upload(media_path, prefix + name)
            annotations_key = f"{self._work(rq.id)}task_{number}.annotations.json"
            self.blobs.put(annotations_key, json.dumps(contents.annotations).encode(), content_type="application/json")
            d = contents.data
            params: dict[str, Any] = {"image_quality": d.image_quality, "sorting_method": "predefined",
                                      "use_zip_chunks": d.chunk_type != "video"}
            if d.chunk_size:
                params["chunk_size"] = d.chunk_size
            # the backup's frame range over its media (CVAT keeps every uploaded file; ours list the frames)
            params["start_frame"] = d.start_frame
            if d.frame_filter:
                params["frame_filter"] = d.frame_filter
            step = parse_frame_filter(d.frame_filter)
            needed = max((j.stop_frame for j in contents.jobs), default=0) + 1  # task frames the jobs cover
            if (d.stop_frame - d.start_frame) // step + 1 >= needed:  # else absent (old backups): to the end
                params["stop_frame"] = d.stop_frame
            child = self.task_data.start_in_place(ctx, task.id, params, prefix=prefix, names=list(contents.media))
            entry |= {"request_id": child.id, "annotations": annotations_key,
                      "jobs": [[str(j.type), str(j.stage), str(j.state)] for j in contents.jobs],
                      "deleted_frames": list(d.deleted_frames)}
            self._save_state(rq.id, state)
        self.requests.advance(rq.id, 0.2, "Processing the media")

    def check_progress(self, request_id: str, round_: int) -> dict[str, Any]:
        """Step 2: ``done`` once every task's data is processed; ``wait``: seconds until the next look."""
        rq = self.repos.requests.get(request_id)
        if rq.status.ended:
            return {"done": True, "wait": 1, "round": round_ + 1}
        ctx = self._ctx(rq)
        state = self._state(request_id)
        pending = 0
        for entry in state["tasks"]:
            child = self.requests.get(ctx, entry["request_id"]).value
            if child.status is RequestStatus.FAILED:
                raise ValidationError(f"Task {entry['name']}: {child.message}")
            pending += child.status is not RequestStatus.FINISHED
        total = max(1, len(state["tasks"]))
        self.requests.advance(request_id, 0.2 + 0.7 * (total - pending) / total, "Processing the media")
        return {"done": pending == 0, "wait": min(MAX_WAIT_SECONDS, 1 + round_), "round": round_ + 1}

    def annotate(self, request_id: str) -> dict[str, Any]:
        """Step 3: annotations, job stages and states, deleted frames; the request finished."""
        from ..formats.backup import BackupData, TaskBackupContents, bind_annotations
        from .annotations import label_specs

        rq = self.repos.requests.get(request_id)
        if rq.status.ended:
            return {"request_id": request_id}
        ctx = self._ctx(rq)
        state = self._state(request_id)
        for entry in state["tasks"]:
            task = self.repos.tasks.get(int(entry["task_id"]))
            labels = label_specs(self.repos.labels.list_by_project(task.project_id) if task.project_id
                                 else self.repos.labels.list_by_task(task.id))
            raw = json.loads(self.blobs.get(entry["annotations"]))
            contents = TaskBackupContents(name=task.name, labels=[], jobs=[], data=BackupData(), media=[],
                                          annotations=raw, source=f"{entry['name']}: ")
            per_job = bind_annotations(contents, labels)
            jobs = sorted((j for j in self.repos.jobs.list_by_task(task.id) if j.type is JobType.ANNOTATION),
                          key=lambda j: j.start_frame)
            described = [j for j in entry["jobs"] if j[0] == JobType.ANNOTATION.value]
            annotated = [a for a, j in zip(per_job, entry["jobs"], strict=False) if j[0] == JobType.ANNOTATION.value]
            merged = LabeledData()
            for data in annotated:  # saved as the task's: a track belongs to the job of its first frame
                merged.tags += data.tags
                merged.shapes += data.shapes
                merged.tracks += data.tracks
            if len(merged):
                self.annotations.put_task(ctx, task.id, merged.to_dict())
            for job, (_type, stage, job_state) in zip(jobs, described, strict=False):
                fresh = self.repos.jobs.get(job.id)
                fresh.stage, fresh.state = JobStage(stage), JobState(job_state)
                fresh.status = job_status(fresh.stage, fresh.state)
                self.repos.jobs.save(fresh)
            if entry["deleted_frames"]:
                data_record = self.repos.task_data.find_by_task(task.id)
                if data_record is not None:
                    data_record.set_deleted_frames(entry["deleted_frames"])
                    self.repos.task_data.save(data_record)
        result = state["project_id"] if state["project_id"] is not None else state["tasks"][0]["task_id"]
        self.requests.finish(request_id, result_id=int(result))
        target = str(rq.workflow_input["target"])
        self._publish(ctx, "import:backup", {"target": target, "id": int(result), "request_id": request_id},
                      resource_id=int(result), organization_id=rq.organization_id,
                      project_id=state["project_id"], task_id=int(result) if target == "task" else None)
        self._clean(rq)
        return {"request_id": request_id, "result_id": result}

    def fail(self, request_id: str, error: str, cause: str) -> dict[str, Any]:
        """A step failed for good: the request fails with the reason; what was made is removed."""
        rq = self.repos.requests.get(request_id)
        failed = self.requests.fail(request_id, failure_message(error, cause, "restore"))
        if failed.status is RequestStatus.FAILED:
            with contextlib.suppress(CvatServerlessError):
                self._undo(rq, self._state(request_id))
            self._clean(rq)
        return {"request_id": request_id}

    def _undo(self, rq: BackgroundRequest, state: Mapping[str, Any]) -> None:
        ctx = self._ctx(rq)
        if state.get("project_id") is not None:
            with contextlib.suppress(NotFoundError):
                self.projects.delete(ctx, int(state["project_id"]))
            return
        for entry in state.get("tasks", []):
            with contextlib.suppress(NotFoundError):
                self.tasks.delete(ctx, int(entry["task_id"]))

    def _clean(self, rq: BackgroundRequest) -> None:
        with contextlib.suppress(CvatServerlessError):  # the staging/ lifecycle rule removes what this misses
            self.blobs.delete_prefix(self._work(rq.id))
            target = str(rq.workflow_input["target"])
            with contextlib.suppress(ValidationError):
                self.uploads.discard(self.uploads.finished(_scope(target), rq.owner_id,
                                                           str(rq.workflow_input["upload_id"])))


def _segmentation(jobs: Sequence[Any]) -> tuple[int, int | None]:
    """CVAT's segment size and overlap from a backup's jobs (its ``_calculate_segment_size``)."""
    annotation = [j for j in jobs if j.type == JobType.ANNOTATION]
    if not annotation:
        return 0, None
    first = annotation[0]
    size = first.stop_frame - first.start_frame + 1
    overlap = 0 if len(annotation) == 1 else max(0, first.stop_frame - annotation[1].start_frame + 1)
    return size, overlap


def _provisional(labels: Sequence[LabelSpec]) -> list[LabelSpec]:
    """The backup's labels with ids of their own (a backup names labels; ids come with the
    restore), so the annotations can be checked before anything is created."""
    out = copy.deepcopy(list(labels))
    counter = iter(range(1, 1 << 30))

    def number(label: LabelSpec, parent: int | None) -> None:
        label.id = next(counter)
        label.parent_id = parent
        for attribute in label.attributes:
            attribute.id = next(counter)
        for sub in label.sublabels:
            number(sub, label.id)

    for label in out:
        number(label, None)
    return out

"""Annotations of jobs and tasks (CVAT's ``/annotations`` of both): read, replace (PUT), change
(PATCH ``action=create|update|delete``), clear (DELETE), and a job's save history with restore.

Each job's annotations are one snapshot with a versioned head (``ports.AnnotationStore``). A
change is read-modify-write on condition of the version read; when another save came first the
change is applied again to the newer snapshot (a few times): creates, updates and deletes of
distinct objects merge, so two clients saving one job never lose each other's work. Updating an
object that is no longer there (deleted concurrently, or never existed) is a ConflictError.

Ids: every object a PUT or ``action=create`` stores gets a new id (also its track shapes and
skeleton elements), as CVAT's create does; ``action=update`` keeps the object's id. Ids are
unique across all jobs and never reused.

Task annotations are the union of the task's jobs. A write is split by frame: shapes and tags go
to the first job (in frame order) whose segment holds their frame, a track to the job of its
first keyframe; an update or delete goes to the job that holds the id. Approximation (documented
in the API): CVAT copies objects of overlap frames into both jobs and splits tracks that cross a
segment boundary; here each object lives in exactly one job and a read of the task lists every
object once. Task-level writes are atomic per job, not across jobs.

Every stored save publishes CVAT's annotation events for its job (``annotation_events``:
``create|update|delete:tags|shapes|tracks``, chunked to fit the event bus) and ``update:job``.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any, Final, Protocol, runtime_checkable

from ..domain import permissions as perm
from ..domain.annotations import (
    LabeledData,
    LabeledImage,
    LabeledShape,
    LabeledTrack,
    LabelSpec,
    validate_annotations,
)
from ..domain.context import RequestContext
from ..domain.errors import ConflictError, ValidationError
from ..domain.jobs import Job
from ..domain.labels import Label
from ..domain.projects import Project
from ..domain.task_data import DataKeys
from ..domain.tasks import Task
from ..ports import AnnotationHead, AnnotationStore, BlobStore, Clock, EventPublisher, IdGenerator, Repositories
from .annotation_events import annotation_events, removed_objects
from .common import ServiceBase, job_ref, task_ref

SAVE_ATTEMPTS: Final = 5
"""How often a change is applied again to a newer snapshot before the save answers 409."""


_SIZES_KEPT = 64  # tasks whose frame sizes a warm function remembers


@runtime_checkable
class EncodedAnnotationReader(Protocol):
    """A store that can answer a job's annotations already encoded (DynamoS3AnnotationStore:
    the stored snapshot's bytes), sparing the parse and the encoding of every object."""

    def read_encoded(self, job_id: int) -> tuple[bytes, AnnotationHead]:
        """CVAT's ``LabeledData`` JSON of the job, gzip-compressed, and its head."""
        ...


class Action(StrEnum):
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"


def parse_action(value: str | None) -> Action:
    try:
        return Action(value or "")
    except ValueError:
        raise ValidationError(
            fields={"action": [f'"{value}" is not a valid choice; use create, update or delete.']}) from None


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    head: AnnotationHead
    username: str | None


def label_specs(labels: Iterable[Label]) -> list[LabelSpec]:
    """The task's labels as the annotation model checks them (skeleton points as sublabels)."""
    labels = list(labels)
    specs = {lb.id: LabelSpec(id=lb.id, name=lb.name, type=lb.type, color=lb.color,
                                attributes=list(lb.attributes), parent_id=lb.parent_id, svg=lb.svg)
             for lb in labels}
    for lb in labels:
        if lb.parent_id is not None and lb.parent_id in specs:
            specs[lb.parent_id].sublabels.append(specs[lb.id])
    return [s for s in specs.values() if s.parent_id is None]


# --- pure helpers over LabeledData -----------------------------------------------------------------


def _normalize(data: LabeledData) -> None:
    """A track starts at its first keyframe (FiftyOne sends the last visible frame); keyframes
    in frame order."""
    def track(t: LabeledTrack) -> None:
        t.shapes.sort(key=lambda s: s.frame)
        if t.shapes:
            t.frame = t.shapes[0].frame
        for e in t.elements:
            track(e)

    for t in data.tracks:
        track(t)


def _assign_ids(data: LabeledData, next_id: Iterable[int], *, keep_top: bool) -> None:
    ids = iter(next_id)

    def fresh(current: int | None, keep: bool) -> int:
        return current if keep and current is not None else next(ids)

    for tag in data.tags:
        tag.id = fresh(tag.id, keep_top)
    for shape in data.shapes:
        shape.id = fresh(shape.id, keep_top)
        for el in shape.elements:
            el.id = fresh(el.id, keep_top)

    def track(t: LabeledTrack, keep: bool) -> None:
        t.id = fresh(t.id, keep)
        for s in t.shapes:
            s.id = fresh(s.id, keep)
        for e in t.elements:
            track(e, keep)

    for t in data.tracks:
        track(t, keep_top)


def _id_count(data: LabeledData) -> int:
    def track(t: LabeledTrack) -> int:
        return 1 + len(t.shapes) + sum(track(e) for e in t.elements)

    return (len(data.tags) + sum(1 + len(s.elements) for s in data.shapes)
            + sum(track(t) for t in data.tracks))


def _missing_ids(data: LabeledData) -> int:
    """Ids an update must still hand out (new nested objects of kept objects)."""
    def track(t: LabeledTrack) -> int:
        return (t.id is None) + sum(s.id is None for s in t.shapes) + sum(track(e) for e in t.elements)

    return (sum(t.id is None for t in data.tags)
            + sum((s.id is None) + sum(e.id is None for e in s.elements) for s in data.shapes)
            + sum(track(t) for t in data.tracks))


AnnotationObject = LabeledImage | LabeledShape | LabeledTrack


def _kinds(data: LabeledData) -> list[tuple[str, Sequence[AnnotationObject]]]:
    return [("tags", data.tags), ("shapes", data.shapes), ("tracks", data.tracks)]


def _require_ids(data: LabeledData) -> None:
    fields: dict[str, list[str]] = {}
    for kind, items in _kinds(data):
        for i, obj in enumerate(items):
            if obj.id is None:
                fields[f"{kind}[{i}].id"] = ["This field is required to update or delete an object."]
    if fields:
        raise ValidationError(fields=fields)


def apply_change(current: LabeledData, action: Action, change: LabeledData) -> LabeledData:
    """``current`` with ``change`` applied (a new object; neither input changes)."""
    def merged(old: Sequence[Any], new: Sequence[Any], kind: str) -> list[Any]:
        if action == Action.CREATE:
            return [*old, *new]
        by_id = {o.id: o for o in new}
        if action == Action.DELETE:
            return [o for o in old if o.id not in by_id]
        missing = sorted(set(by_id) - {o.id for o in old})
        if missing:
            raise ConflictError(f"Cannot update {kind} {missing}: they do not exist (deleted meanwhile?).")
        return [by_id.get(o.id, o) for o in old]

    return LabeledData(
        version=current.version,
        tags=merged(current.tags, change.tags, "tags"),
        shapes=merged(current.shapes, change.shapes, "shapes"),
        tracks=merged(current.tracks, change.tracks, "tracks"),
        intervals=list(current.intervals),
    )


def _frames_of(obj: AnnotationObject) -> list[int]:
    if isinstance(obj, LabeledTrack):
        frames = [s.frame for s in obj.shapes]
        for e in obj.elements:
            frames += [s.frame for s in e.shapes]
        return frames or [obj.frame]
    return [obj.frame]


def _check_job_frames(job: Job, data: LabeledData) -> None:
    fields: dict[str, list[str]] = {}
    for kind, items in _kinds(data):
        for i, obj in enumerate(items):
            outside = [f for f in _frames_of(obj) if not job.start_frame <= f <= job.stop_frame]
            if outside:
                fields[f"{kind}[{i}].frame"] = [
                    f"Frame {outside[0]} is outside the job's frames {job.start_frame}-{job.stop_frame}."]
    if fields:
        raise ValidationError(fields=fields)


class AnnotationService(ServiceBase):
    def __init__(self, repos: Repositories, ids: IdGenerator, clock: Clock, events: EventPublisher,
                 store: AnnotationStore, *, blobs: BlobStore | None = None) -> None:
        super().__init__(repos, ids, clock, events)
        self.store = store
        self.blobs = blobs
        # (task, data) -> frame sizes: a task's frames never change once its data is processed
        self._sizes: OrderedDict[tuple[int, int], list[tuple[int, int]]] = OrderedDict()
        self._sizes_lock = threading.Lock()
        # job id -> [lock, users]: saves of one job in this process queue instead of racing
        self._saving: dict[int, list[Any]] = {}
        self._saving_lock = threading.Lock()

    @contextmanager
    def _saving_job(self, job_id: int) -> Iterator[None]:
        """Hold the job's save lock of this process. Concurrent saves of one job in one process
        (the embedded runtime runs every request as a thread of one process) would otherwise
        each read, change and write the whole snapshot, and all but one fail the version check
        and start again; queued, each save succeeds at its first attempt. Saves from other
        processes (other Lambda instances) are still serialized by the conditional write."""
        with self._saving_lock:
            entry = self._saving.setdefault(job_id, [threading.Lock(), 0])
            entry[1] += 1
        try:
            with entry[0]:
                yield
        finally:
            with self._saving_lock:
                entry[1] -= 1
                if not entry[1]:
                    del self._saving[job_id]

    def _frame_sizes(self, task: Task) -> list[tuple[int, int]] | None:
        """Each task frame's (width, height), from the task's frames.json (a video lists one
        entry for all its frames), so shapes and masks are bounded by their frame; None while the
        task has no data."""
        if self.blobs is None or not task.data_id or not task.size:
            return None
        key = (task.id, task.data_id)
        with self._sizes_lock:
            if key in self._sizes:
                self._sizes.move_to_end(key)
                return self._sizes[key]
        frames = json.loads(self.blobs.get(DataKeys(task.id, task.data_id).frames_meta))
        sizes = [(int(f["width"]), int(f["height"])) for f in frames]
        if len(sizes) == 1 and task.size > 1:
            sizes = sizes * task.size  # a video: one entry for every frame
        with self._sizes_lock:
            self._sizes[key] = sizes
            while len(self._sizes) > _SIZES_KEPT:
                self._sizes.popitem(last=False)
        return sizes

    # --- access ------------------------------------------------------------------------------------
    def _project(self, task: Task) -> Project | None:
        return self.repos.projects.get(task.project_id) if task.project_id else None

    def _job(self, ctx: RequestContext, job_id: int, scope: str) -> tuple[Job, Task]:
        job = self.repos.jobs.get(job_id)
        task = self.repos.tasks.get(job.task_id)
        if scope != "view:annotations":
            ctx.require_write()
        perm.check(ctx.actor, scope, job_ref(job, task, self._project(task)))
        return job, task

    def _task(self, ctx: RequestContext, task_id: int, scope: str) -> Task:
        task = self.repos.tasks.get(task_id)
        if scope != "view:annotations":
            ctx.require_write()
        perm.check(ctx.actor, scope, task_ref(task, self._project(task)))
        return task

    def _specs(self, task: Task) -> list[LabelSpec]:
        labels = (self.repos.labels.list_by_project(task.project_id) if task.project_id
                  else self.repos.labels.list_by_task(task.id))
        return label_specs(labels)

    def _jobs(self, task: Task) -> list[Job]:
        return sorted(self.repos.jobs.list_by_task(task.id), key=lambda j: (j.start_frame, j.id))

    def _parse(self, task: Task, body: Mapping[str, Any], *, validate: bool = True) -> LabeledData:
        data = LabeledData.from_dict(body)
        _normalize(data)
        if validate:
            validate_annotations(data, self._specs(task), frame_count=task.size, frame_sizes=self._frame_sizes(task))
        return data

    # --- saving one job ------------------------------------------------------------------------------
    def _save(self, ctx: RequestContext, task: Task, job: Job, change: LabeledData,
              action: Action | None) -> LabeledData:
        """Apply ``change`` (``action`` None: replace everything) on the newest snapshot; retried
        on a concurrent save. Publishes the change's events once it is stored."""
        job_id = job.id
        with self._saving_job(job_id):
            for attempt in range(SAVE_ATTEMPTS):
                current, head = self.store.read(job_id)
                new = change if action is None else apply_change(current, action, change)
                try:
                    saved = self.store.write(job_id, new, expected_version=head.version, actor_id=ctx.user_id,
                                             when=self.clock.now())
                except ConflictError:
                    if attempt == SAVE_ATTEMPTS - 1:
                        raise
                    continue
                break
        # published once the lock is free: the next save of the job need not wait for the bus
        self._publish_change(ctx, task, job, current, change, action=action)
        return replace(change, version=saved.version)

    def _publish_change(self, ctx: RequestContext, task: Task, job: Job, current: LabeledData,
                        change: LabeledData, *, action: Action | None) -> None:
        """CVAT's events of a save (see ``annotation_events``), then ``update:job`` (CVAT touches
        the job on every save that changed something, which its webhooks report)."""
        if action is None:  # PUT, DELETE, restore: what was there goes, the new data comes
            parts = [(Action.DELETE, current), (Action.CREATE, change)]
        elif action == Action.DELETE:
            parts = [(Action.DELETE, removed_objects(current, change))]
        else:
            parts = [(action, change)]
        def publish(scope: str, obj: Any, obj_name: str | None = None, count: int | None = None) -> None:
            self._publish(ctx, scope, obj, resource_id=job.id, organization_id=task.organization_id,
                          project_id=task.project_id, task_id=task.id, job_id=job.id, obj_name=obj_name,
                          count=count)

        changed = False
        for act, data in parts:
            for event in annotation_events(act.value, data):
                changed = True
                publish(event.scope, event.objects, event.obj_name, len(event.objects))
        if changed:
            publish("update:job", job)

    def _with_new_ids(self, data: LabeledData) -> LabeledData:
        count = _id_count(data)
        first = self.store.allocate_ids(count) if count else 1
        _assign_ids(data, range(first, first + count), keep_top=False)
        return data

    def _with_kept_ids(self, data: LabeledData) -> LabeledData:
        count = _missing_ids(data)
        first = self.store.allocate_ids(count) if count else 1
        _assign_ids(data, range(first, first + count), keep_top=True)
        return data

    # --- jobs ----------------------------------------------------------------------------------------
    def get_job(self, ctx: RequestContext, job_id: int) -> LabeledData:
        """The job's annotations (``version``: its save count)."""
        self._job(ctx, job_id, "view:annotations")
        return self.store.read(job_id)[0]

    def get_job_encoded(self, ctx: RequestContext, job_id: int) -> bytes | None:
        """As :meth:`get_job`, as CVAT's JSON gzip-compressed, when the store keeps it so (None
        otherwise: call :meth:`get_job`)."""
        if not isinstance(self.store, EncodedAnnotationReader):
            return None
        self._job(ctx, job_id, "view:annotations")
        return self.store.read_encoded(job_id)[0]

    def put_job(self, ctx: RequestContext, job_id: int, body: Mapping[str, Any]) -> LabeledData:
        """Replace the job's annotations; answers them with their new ids."""
        job, task = self._job(ctx, job_id, "update:annotations")
        data = self._parse(task, body)
        _check_job_frames(job, data)
        return self._save(ctx, task, job, self._with_new_ids(data), None)

    def patch_job(self, ctx: RequestContext, job_id: int, action: str | None, body: Mapping[str, Any]) -> LabeledData:
        """``create`` adds objects (new ids), ``update`` replaces objects by id, ``delete`` removes
        objects by id; answers the objects of the request as stored."""
        act = parse_action(action)
        job, task = self._job(ctx, job_id, "update:annotations")
        data = self._parse(task, body, validate=act != Action.DELETE)
        if act == Action.CREATE:
            _check_job_frames(job, data)
            data = self._with_new_ids(data)
        else:
            _require_ids(data)
            if act == Action.UPDATE:
                _check_job_frames(job, data)
                data = self._with_kept_ids(data)
        return self._save(ctx, task, job, data, act)

    def delete_job(self, ctx: RequestContext, job_id: int) -> None:
        """Remove every annotation of the job."""
        job, task = self._job(ctx, job_id, "delete:annotations")
        self._save(ctx, task, job, LabeledData(), None)

    def history(self, ctx: RequestContext, job_id: int) -> list[HistoryEntry]:
        """Every save of the job, newest first, with who saved it."""
        self._job(ctx, job_id, "view:annotations")
        heads = self.store.history(job_id)
        users = self.repos.users.get_many({h.updated_by for h in heads if h.updated_by is not None})
        return [HistoryEntry(h, users[h.updated_by].username if h.updated_by in users else None) for h in heads]

    def restore(self, ctx: RequestContext, job_id: int, version: int) -> LabeledData:
        """Save an earlier version again as the newest one (objects keep that version's ids)."""
        job, task = self._job(ctx, job_id, "update:annotations")
        old, _ = self.store.read_version(job_id, version)
        return self._save(ctx, task, job, old, None)

    # --- tasks ---------------------------------------------------------------------------------------
    def get_task(self, ctx: RequestContext, task_id: int) -> LabeledData:
        """Every job's annotations, each object once."""
        task = self._task(ctx, task_id, "view:annotations")
        return self._read_task(task)

    def _read_task(self, task: Task) -> LabeledData:
        out = LabeledData()
        seen: set[tuple[str, int | None]] = set()
        for job in self._jobs(task):
            data = self.store.read(job.id)[0]
            out.version = max(out.version, data.version)
            for kind, items in _kinds(data):
                target = getattr(out, kind)
                for obj in items:
                    if (kind, obj.id) not in seen:
                        seen.add((kind, obj.id))
                        target.append(obj)
        return out

    def _split(self, jobs: Sequence[Job], data: LabeledData) -> dict[int, LabeledData]:
        parts = {job.id: LabeledData() for job in jobs}

        def home(frame: int) -> int:
            for job in jobs:
                if job.start_frame <= frame <= job.stop_frame:
                    return job.id
            raise ValidationError(fields={"frame": [f"Frame {frame} belongs to no job of the task."]})

        for tag in data.tags:
            parts[home(tag.frame)].tags.append(tag)
        for shape in data.shapes:
            parts[home(shape.frame)].shapes.append(shape)
        for track in data.tracks:
            parts[home(min(_frames_of(track)))].tracks.append(track)
        return parts

    def _merge_answers(self, answers: Iterable[LabeledData]) -> LabeledData:
        out = LabeledData()
        for a in answers:
            out.version = max(out.version, a.version)
            out.tags += a.tags
            out.shapes += a.shapes
            out.tracks += a.tracks
        return out

    def put_task(self, ctx: RequestContext, task_id: int, body: Mapping[str, Any]) -> LabeledData:
        """Replace the task's annotations (split into its jobs by frame); answers them as stored."""
        task = self._task(ctx, task_id, "update:annotations")
        data = self._with_new_ids(self._parse(task, body))
        jobs = self._jobs(task)
        by_id = {job.id: job for job in jobs}
        parts = self._split(jobs, data)
        return self._merge_answers(self._save(ctx, task, by_id[job_id], part, None) for job_id, part in parts.items())

    def patch_task(self, ctx: RequestContext, task_id: int, action: str | None,
                   body: Mapping[str, Any]) -> LabeledData:
        """As :meth:`patch_job`, over the task's jobs."""
        act = parse_action(action)
        task = self._task(ctx, task_id, "update:annotations")
        data = self._parse(task, body, validate=act != Action.DELETE)
        jobs = self._jobs(task)
        if act == Action.CREATE:
            parts = self._split(jobs, self._with_new_ids(data))
        else:
            _require_ids(data)
            if act == Action.UPDATE:
                data = self._with_kept_ids(data)
            parts = self._by_holder(jobs, data, act)
        by_id = {job.id: job for job in jobs}
        answers = [self._save(ctx, task, by_id[job_id], part, act) for job_id, part in parts.items() if len(part)]
        answer = self._merge_answers(answers)
        if not answers:
            answer.version = self._read_task(task).version
        return answer

    def _by_holder(self, jobs: Sequence[Job], data: LabeledData, act: Action) -> dict[int, LabeledData]:
        """The objects of an update or delete, by the job that holds their id."""
        holder: dict[tuple[str, int | None], int] = {}
        for job in jobs:
            current = self.store.read(job.id)[0]
            for kind in ("tags", "shapes", "tracks"):
                holder.update(((kind, o.id), job.id) for o in getattr(current, kind))
        parts = {job.id: LabeledData() for job in jobs}
        for kind in ("tags", "shapes", "tracks"):
            for obj in getattr(data, kind):
                job_id = holder.get((kind, obj.id))
                if job_id is None:
                    if act == Action.UPDATE:
                        raise ConflictError(f"Cannot update {kind} [{obj.id}]: it does not exist (deleted meanwhile?).")
                    continue
                getattr(parts[job_id], kind).append(obj)
        return parts

    def delete_task(self, ctx: RequestContext, task_id: int) -> None:
        """Remove every annotation of the task's jobs."""
        task = self._task(ctx, task_id, "delete:annotations")
        for job in self._jobs(task):
            self._save(ctx, task, job, LabeledData(), None)

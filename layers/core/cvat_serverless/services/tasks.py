"""Tasks: create/list/get/update/delete, and attaching data (segments and jobs)."""

from __future__ import annotations

import builtins
import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from ..domain import permissions as perm
from ..domain.context import RequestContext
from ..domain.errors import ConflictError, ValidationError
from ..domain.events import diff_fields
from ..domain.jobs import Job, JobsSummary, JobStage, JobState, Segment, job_status, summarize_jobs
from ..domain.labels import LabelInput, inherit_check
from ..domain.projects import Project, validate_bug_tracker, validate_name
from ..domain.query import Page
from ..domain.segments import FrameRange, SegmentPlan, format_frame_filter, split_by_job_sizes, split_frames
from ..domain.tasks import (
    ChunkType,
    DimensionType,
    MediaType,
    SortingMethod,
    StorageMethod,
    StorageType,
    Task,
    TaskMode,
    validate_segmentation,
    validate_subset,
)
from ..ports import AnnotationStore, Clock, EventPublisher, IdGenerator, Repositories
from .common import UNSET, ServiceBase, StorageInput, Unset, check_version, list_page, task_ref, username_of
from .labels import LabelService
from .views import Shown


@dataclass(slots=True)
class TaskCreate:
    name: str
    project_id: int | None = None
    labels: Sequence[LabelInput] = field(default_factory=list)
    owner_id: int | None = None
    assignee_id: int | None = None
    bug_tracker: str = ""
    overlap: int | None = None
    segment_size: int = 0
    subset: str = ""
    source_storage: StorageInput | None = None
    target_storage: StorageInput | None = None
    consensus_replicas: int = 0


@dataclass(slots=True)
class TaskPatch:
    name: str | Unset = UNSET
    project_id: int | Unset | None = UNSET
    owner_id: int | Unset | None = UNSET
    assignee_id: int | Unset | None = UNSET
    bug_tracker: str | Unset = UNSET
    labels: Sequence[LabelInput] = field(default_factory=list)
    subset: str | Unset = UNSET
    source_storage: StorageInput | Unset | None = UNSET
    target_storage: StorageInput | Unset | None = UNSET
    organization_id: int | Unset | None = UNSET


@dataclass(frozen=True, slots=True)
class DataInfo:
    """What the media pipeline learned about the task's data (CVAT's ``Data``)."""

    frames: FrameRange  # which source frames the task uses; ``frames.size`` task frames
    mode: TaskMode  # annotation (images) or interpolation (video)
    chunk_size: int
    image_quality: int
    compressed_chunk_type: ChunkType
    original_chunk_type: ChunkType
    dimension: DimensionType = DimensionType.DIM_2D
    media_type: MediaType = MediaType.IMAGE
    storage_method: StorageMethod = StorageMethod.CACHE
    storage: StorageType = StorageType.LOCAL
    sorting_method: SortingMethod = SortingMethod.LEXICOGRAPHICAL
    cloud_storage_id: int | None = None
    job_sizes: Sequence[int] | None = None  # CVAT's job_file_mapping: one job per group of files
    data_id: int | None = None  # the data's id when the pipeline allocated it (its S3 keys use it)


class TaskService(ServiceBase):
    def __init__(
        self,
        repos: Repositories,
        ids: IdGenerator,
        clock: Clock,
        events: EventPublisher,
        labels: LabelService,
        *,
        annotations: AnnotationStore,
    ) -> None:
        super().__init__(repos, ids, clock, events)
        self.labels = labels
        self.annotations = annotations

    def _project(self, project_id: int | None) -> Project | None:
        return self.repos.projects.get(project_id) if project_id is not None else None

    def _ref(self, task: Task, project: Project | None = None) -> perm.ResourceRef:
        return task_ref(task, project if project is not None else self._project(task.project_id))

    def _shown(self, task: Task, project: Project | None = None) -> Shown[Task]:
        projects = {project.id: project} if project is not None else None
        return Shown(task, self.related.for_tasks([task], projects=projects))

    # --- create / read -----------------------------------------------------------------------

    def create(self, ctx: RequestContext, data: TaskCreate, *, task_id: int | None = None) -> Shown[Task]:
        """Create a task without data. With ``project_id`` the task uses the project's labels and
        organization; ``labels`` and ``project_id`` together are refused, as in CVAT.
        ``task_id``: an id the caller reserved (``ids.next_id("task")``) so that it can find the
        task again after a crash (the drop folder); a ConflictError when that task exists."""
        ctx.require_write()
        validate_segmentation(data.segment_size, data.overlap)
        if data.project_id is not None and data.labels:
            raise ValidationError("Project must have only one of Label set or project_id")
        project = None
        org_id = ctx.org_id
        if data.project_id is not None:
            project = self._existing("project_id", self.repos.projects.get, data.project_id)
            if not ctx.org.explicit and ctx.org_id is None:
                org_id = project.organization_id  # no context sent: the project's decides
            if project.organization_id != org_id:
                raise ValidationError("The task and its project should be in the same organization")
            scope, ref = (
                "create@project",
                perm.ResourceRef(
                    perm.Resource.TASK,
                    organization_id=org_id,
                    project_owner_id=project.owner_id,
                    project_assignee_id=project.assignee_id,
                ),
            )
        else:
            scope, ref = "create", perm.ResourceRef(perm.Resource.TASK, organization_id=org_id)
        perm.check(ctx.actor, scope, ref, request_org_id=org_id)
        self._check_user_exists("owner_id", data.owner_id)
        self._check_user_exists("assignee_id", data.assignee_id)
        now = self.clock.now()
        task = Task(
            id=task_id if task_id is not None else self.ids.next_id("task"),
            name=validate_name(data.name),
            owner_id=data.owner_id if data.owner_id is not None else ctx.user_id,
            organization_id=org_id,
            project_id=data.project_id,
            assignee_id=data.assignee_id,
            assignee_updated_date=now if data.assignee_id is not None else None,
            bug_tracker=validate_bug_tracker(data.bug_tracker),
            subset=validate_subset(data.subset),
            segment_size=data.segment_size,
            overlap=data.overlap,
            consensus_replicas=data.consensus_replicas,
            source_storage=self._storage("source_storage", data.source_storage or StorageInput()),
            target_storage=self._storage("target_storage", data.target_storage or StorageInput()),
            created_date=now,
            updated_date=now,
        )
        task = self.repos.tasks.add(task)
        try:
            self.labels.apply_patches(data.labels, task_id=task.id)
        except Exception:
            self.repos.tasks.delete(task.id)
            raise
        if project is not None and data.subset and data.subset not in project.task_subsets:
            self._add_subset(project.id, data.subset)
        self._publish_task(ctx, "create", task)
        return self._shown(task, project)

    def _add_subset(self, project_id: int, subset: str) -> None:
        for _ in range(5):
            project = self.repos.projects.get(project_id)
            if subset in project.task_subsets:
                return
            project.task_subsets = sorted({*project.task_subsets, subset})
            try:
                self.repos.projects.save(project)
                return
            except ConflictError:
                continue

    def get(self, ctx: RequestContext, task_id: int) -> Shown[Task]:
        """One task the caller may view."""
        task = self.repos.tasks.get(task_id)
        project = self._project(task.project_id)
        perm.check(ctx.actor, "view", self._ref(task, project))
        return self._shown(task, project)

    def check(self, ctx: RequestContext, task_id: int, scope: str) -> Task:
        """Check any task scope (``upload:data``, ``view:data``, ``export:dataset``...) for routes
        whose work happens elsewhere; returns the task."""
        if not scope.startswith(("view", "export")):
            ctx.require_write()
        task = self.repos.tasks.get(task_id)
        perm.check(ctx.actor, scope, self._ref(task))
        return task

    def jobs_summary(self, task_id: int) -> JobsSummary:
        """CVAT's ``jobs`` field of TaskRead, as kept on the task."""
        return self.repos.tasks.get(task_id).jobs_summary

    def list(self, ctx: RequestContext, params: Mapping[str, str]) -> Shown[Page[Task]]:
        """Tasks visible to the caller in the request's context, with CVAT's list parameters."""
        window = self._window_page(ctx, perm.Resource.TASK, params, self.repos.tasks.window)
        if window is not None:
            return Shown(window, self.related.for_tasks(window.results))
        items = self._visible_tasks(ctx)
        projects = self.related.projects(t.project_id for t in items)
        users = self._users_of((u for t in items for u in (t.owner_id, t.assignee_id)), {})
        username = username_of(users)

        def project_of(task: Task) -> Project | None:
            return projects.get(task.project_id) if task.project_id is not None else None

        def row(t: Task) -> dict[str, object]:
            p = project_of(t)
            return {
                "id": t.id,
                "name": t.name,
                "project_id": t.project_id,
                "project_name": p.name if p else None,
                "owner": username(t.owner_id),
                "assignee": username(t.assignee_id),
                "status": t.status.value,
                "subset": t.subset,
                "mode": t.mode.value,
                "dimension": t.dimension.value,
                "media_type": t.media_type.value if t.media_type else None,
                "tracker_link": t.bug_tracker,
                "validation_mode": t.validation_mode,
                "updated_date": t.updated_date,
            }

        page = list_page(
            ctx, perm.Resource.TASK, items, ref=lambda t: task_ref(t, project_of(t)), row=row, params=params
        )
        return Shown(page, self.related.for_tasks(page.results, projects=projects, users=users))

    # --- update / delete ---------------------------------------------------------------------

    def update(
        self, ctx: RequestContext, task_id: int, patch: TaskPatch, *, version: int | None = None
    ) -> Shown[Task]:
        """PATCH a task; each changed field is checked with its CVAT scope (update:desc,
        update:owner, update:assignee, update:project, update:associated_storage,
        update:organization). Stale ``version`` -> ConflictError."""
        ctx.require_write()
        task = self.repos.tasks.get(task_id)
        check_version(task, version)
        ref = self._ref(task)
        before = copy.deepcopy(task)
        now = self.clock.now()
        desc_fields = (patch.name, patch.bug_tracker, patch.subset)
        if any(not isinstance(v, Unset) for v in desc_fields) or patch.labels:
            perm.check(ctx.actor, "update:desc", ref)
        if not isinstance(patch.name, Unset):
            task.name = validate_name(patch.name)
        if not isinstance(patch.bug_tracker, Unset):
            task.bug_tracker = validate_bug_tracker(patch.bug_tracker)
        if not isinstance(patch.subset, Unset):
            task.subset = validate_subset(patch.subset)
        self._patch_owner_assignee_storage(ctx, ref, task, patch, now)
        if patch.labels and task.project_id is not None:
            raise ValidationError(fields={"labels": ["The labels of a task in a project are the project's."]})
        if not isinstance(patch.organization_id, Unset) and patch.organization_id != task.organization_id:
            perm.check(ctx.actor, "update:organization", ref)
            if task.project_id is not None:
                raise ValidationError("Cannot change the organization of a task in a project")
            if patch.organization_id is not None:
                perm.check(
                    ctx.actor,
                    "create",
                    perm.ResourceRef(perm.Resource.TASK, organization_id=patch.organization_id),
                    request_org_id=patch.organization_id,
                )
            task.organization_id = patch.organization_id
        moved_labels: dict[str, int] | None = None
        if not isinstance(patch.project_id, Unset) and patch.project_id != task.project_id:
            perm.check(ctx.actor, "update:project", ref)
            moved_labels = self._move_to_project(ctx, task, patch.project_id)
        changed = diff_fields(before, task)
        if patch.labels:
            label_changes = self.labels.apply_patches(patch.labels, task_id=task.id)
            if not label_changes.empty:
                changed["labels"] = sorted(set(label_changes.before_update) | {lb.id for lb in label_changes.deleted})
        task.updated_date = now
        task = self.repos.tasks.save(task)
        if moved_labels is not None:
            # the task's own labels are replaced by the project's (same names)
            self.labels.delete_all(task_id=task.id)
        self._sync_jobs(task)
        if not isinstance(patch.subset, Unset) and task.project_id is not None and task.subset:
            self._add_subset(task.project_id, task.subset)
        self._publish_task(ctx, "update", task, changed)
        return self._shown(task)

    def _move_to_project(self, ctx: RequestContext, task: Task, project_id: int | None) -> dict[str, int]:
        if project_id is None:
            raise ValidationError(fields={"project_id": ["A task cannot be moved out of its project."]})
        project = self._existing("project_id", self.repos.projects.get, project_id)
        perm.check(
            ctx.actor,
            "update:desc",
            perm.ResourceRef(
                perm.Resource.PROJECT,
                organization_id=project.organization_id,
                owner_id=project.owner_id,
                assignee_id=project.assignee_id,
            ),
        )
        if project.organization_id != task.organization_id:
            raise ValidationError("The task and its project should be in the same organization")
        current = (
            self.repos.labels.list_by_project(task.project_id)
            if task.project_id
            else self.repos.labels.list_by_task(task.id)
        )
        mapping = inherit_check(
            [lb.name for lb in current if lb.parent_id is None], self.repos.labels.list_by_project(project.id)
        )
        task.project_id = project.id
        return mapping

    def _sync_jobs(self, task: Task) -> None:
        # jobs carry their task's project and organization for list filtering
        for job in self.repos.jobs.list_by_task(task.id):
            if (job.project_id, job.organization_id) != (task.project_id, task.organization_id):
                job.project_id, job.organization_id = task.project_id, task.organization_id
                self.repos.jobs.save(job)

    def delete(self, ctx: RequestContext, task_id: int) -> None:
        """Delete a task with its segments, jobs (and their annotations) and labels."""
        ctx.require_write()
        task = self.repos.tasks.get(task_id)
        perm.check(ctx.actor, "delete", self._ref(task))
        # review issues go first: a list skips an issue whose job is gone, never the reverse
        self.repos.comments.delete_by_task(task_id)
        self.repos.issues.delete_by_task(task_id)
        # annotations before their jobs: a failure leaves the jobs, so deleting again finishes
        for job in self.repos.jobs.list_by_task(task_id):
            self.annotations.delete(job.id)
        self.repos.jobs.delete_by_task(task_id)
        self.repos.segments.delete_by_task(task_id)
        self.labels.delete_all(task_id=task_id)
        self.repos.tasks.delete(task_id)
        self._publish_task(ctx, "delete", task)

    # --- data ----------------------------------------------------------------------------------

    def plan_segments(self, task: Task, info: DataInfo) -> SegmentPlan:
        """How the task's frames will be split into jobs."""
        if info.job_sizes is not None:
            if task.segment_size:
                raise ValidationError("job_file_mapping cannot be used with segment_size")
            if sum(info.job_sizes) != info.frames.size:
                raise ValidationError("job_file_mapping does not match the number of files")
            return split_by_job_sizes(info.job_sizes)
        return split_frames(info.frames.size, segment_size=task.segment_size, overlap=task.overlap, mode=info.mode)

    def attach_data(self, task_id: int, info: DataInfo, *, ctx: RequestContext | None = None) -> Task:
        """Called by the media pipeline once the data is processed: create the segments and jobs
        and set the task's data fields as CVAT reports them (size, mode, effective segment_size and
        overlap, chunk size/types, image quality...). Permission (``upload:data``) was checked when
        the upload started. Running it twice for the same task is harmless."""
        task = self.repos.tasks.get(task_id)
        if task.has_data:
            if task.size != info.frames.size:
                raise ConflictError("The task already has data; adding more data is not supported.")
            return task
        if info.frames.size <= 0:
            raise ValidationError("No media data found")
        plan = self.plan_segments(task, info)
        now = self.clock.now()
        jobs = self.repos.jobs.list_by_task(task_id)
        if not jobs:
            segments = [
                Segment(
                    id=self.ids.next_id("segment"),
                    task_id=task_id,
                    start_frame=s.start_frame,
                    stop_frame=s.stop_frame,
                )
                for s in plan.segments
            ]
            self.repos.segments.add_many(segments)
            jobs = [
                Job(
                    id=self.ids.next_id("job"),
                    task_id=task_id,
                    segment_id=seg.id,
                    start_frame=seg.start_frame,
                    stop_frame=seg.stop_frame,
                    frame_count=seg.frame_count,
                    project_id=task.project_id,
                    organization_id=task.organization_id,
                    status=job_status(JobStage.ANNOTATION, JobState.NEW),
                    created_date=now,
                    updated_date=now,
                )
                for seg in segments
            ]
            self.repos.jobs.add_many(jobs)
        data_id = info.data_id if info.data_id is not None else self.ids.next_id("data")
        for _ in range(5):  # another client may edit the task's name meanwhile: reload and reapply
            before = copy.deepcopy(task)
            task.data_id = data_id
            task.size = info.frames.size
            task.mode = info.mode
            task.segment_size = plan.segment_size
            task.overlap = plan.overlap
            task.dimension = info.dimension
            task.media_type = info.media_type
            task.image_quality = info.image_quality
            task.data_chunk_size = info.chunk_size
            task.data_compressed_chunk_type = info.compressed_chunk_type
            task.data_original_chunk_type = info.original_chunk_type
            task.data_cloud_storage_id = info.cloud_storage_id
            task.start_frame = info.frames.start_frame
            task.stop_frame = info.frames.last_frame
            task.frame_filter = format_frame_filter(info.frames.step)
            task.storage_method = info.storage_method
            task.storage = info.storage
            task.sorting_method = info.sorting_method
            task.set_jobs_summary(summarize_jobs(jobs))
            task.updated_date = now
            try:
                task = self.repos.tasks.save(task)
                break
            except ConflictError:
                task = self.repos.tasks.get(task_id)
                if task.has_data:
                    return task
        else:
            raise ConflictError("The task is being edited too often; try again.")
        if task.project_id is not None:
            project = self.repos.projects.get(task.project_id)
            if project.dimension is None:
                project.dimension = task.dimension.value
                self.repos.projects.save(project)
        self._publish_task(ctx, "update", task, diff_fields(before, task))
        return task

    def segments(self, task_id: int) -> builtins.list[Segment]:
        """The task's segments in frame order."""
        return sorted(self.repos.segments.list_by_task(task_id), key=lambda s: (s.start_frame, s.id))

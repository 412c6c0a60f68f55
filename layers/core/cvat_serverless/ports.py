"""Interfaces the services depend on. Adapters implement them (adapters/aws for AWS, in-memory
fakes for unit tests); one contract suite runs against both so the fakes cannot drift."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, BinaryIO, Final, Generic, Protocol, TypeVar

from .domain.agent_functions import AnnotationRequest, NativeFunction, RequestCategory
from .domain.annotations import LabeledData
from .domain.auth import AccessToken, Session
from .domain.drops import DropMarker
from .domain.functions import FunctionSpec
from .domain.issues import Comment, Issue
from .domain.jobs import Job, Segment
from .domain.labels import Label
from .domain.organizations import Invitation, Membership, Organization
from .domain.projects import Project
from .domain.requests import BackgroundRequest
from .domain.task_data import TaskData, TusUpload
from .domain.tasks import Task
from .domain.users import User
from .domain.webhooks import Webhook, WebhookDelivery

E = TypeVar("E")


class AllOrganizations:
    """The scope of an admin's list outside any organization: every object in the system."""

    def __repr__(self) -> str:
        return "ALL_ORGANIZATIONS"


ALL_ORGANIZATIONS: Final = AllOrganizations()
Scope = int | None | AllOrganizations
"""Whose objects a window reads: one organization's, the personal workspace's (None), or all."""


@dataclass(frozen=True, slots=True)
class Window(Generic[E]):
    """``limit`` objects from ``offset`` in id order, and how many the scope holds in all."""

    items: list[E]
    total: int


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware (UTC)."""
        ...


class IdGenerator(Protocol):
    def next_id(self, kind: str) -> int:
        """A new integer id for ``kind`` (CVAT uses integer ids): atomic, never reused."""
        ...


class PasswordHasher(Protocol):
    def hash(self, password: str) -> str: ...

    def verify(self, password_hash: str, password: str) -> bool: ...

    def needs_rehash(self, password_hash: str) -> bool: ...


class UserRepository(Protocol):
    def add(self, user: User) -> User:
        """Store a new user; ConflictError when the username or email is taken."""
        ...

    def get(self, user_id: int) -> User:
        """NotFoundError when there is no such user."""
        ...

    def get_many(self, user_ids: Iterable[int]) -> dict[int, User]:
        """The users among ``user_ids`` that exist, by id (one batch read, not one per user)."""
        ...

    def find_by_username(self, username: str) -> User | None: ...

    def find_by_email(self, email: str) -> User | None: ...

    def save(self, user: User) -> User:
        """Update a user; ConflictError when ``user.version`` is stale or when a new username or
        email is taken."""
        ...

    def delete(self, user_id: int) -> None:
        """Remove a user (its username and email become free); NotFoundError when there is none."""
        ...

    def list_all(self) -> list[User]: ...


class BlobStore(Protocol):
    """The media bucket. Keys are the bucket's keys (domain.task_data.DataKeys lays them out)."""

    def put(self, key: str, body: bytes | BinaryIO, *, content_type: str = "") -> None: ...

    def create(self, key: str, body: bytes, *, content_type: str = "") -> None:
        """Write an object that must not exist yet (S3's ``If-None-Match: *``): of concurrent
        writers of one key exactly one succeeds; ConflictError for the others."""
        ...

    def get(self, key: str) -> bytes:
        """NotFoundError when the object does not exist."""
        ...

    def head(self, key: str) -> Mapping[str, Any]:
        """size, content_type, etag (and last_modified, an aware datetime, where the store keeps
        it); NotFoundError when the object does not exist."""
        ...

    def get_range(self, key: str, start: int, end: int) -> bytes:
        """Bytes ``start``..``end`` inclusive (HTTP Range semantics)."""
        ...

    def list_dir(self, prefix: str) -> tuple[list[str], list[str]]:
        """One level under ``prefix`` (which ends with "/"): sub-folder names and file names."""
        ...

    def list_keys(self, prefix: str) -> Iterator[tuple[str, int]]:
        """Every object under ``prefix`` (recursively), as (key, size), in key order."""
        ...

    def delete(self, key: str) -> None:
        """Delete one object (no error when it does not exist)."""
        ...

    def delete_prefix(self, prefix: str) -> int:
        """Delete every object under ``prefix``; how many there were."""
        ...

    def delete_many(self, keys: Sequence[str]) -> None:
        """Delete these objects, a thousand a request (no error for one that does not exist)."""
        ...

    def download(self, key: str, path: str) -> None:
        """The object into a local file (streamed; NotFoundError when there is none)."""
        ...

    def upload(self, path: str, key: str, *, content_type: str = "") -> None:
        """A local file as an object (multipart for big files)."""
        ...

    def copy(self, source_key: str, key: str) -> None:
        """A server-side copy (no bytes through the caller)."""
        ...

    def presigned_get(self, key: str, *, expires: int = 3600, filename: str | None = None,
                      content_type: str | None = None) -> str:
        """A URL that reads the object without credentials, on the storage's own origin (never the
        API's: clients keep their Authorization header on same-origin redirects). ``filename``
        sets ``Content-Disposition: attachment``."""
        ...

    def presigned_put(self, key: str, *, content_type: str, expires: int = 3600) -> str:
        """A URL that writes the object with one PUT carrying ``Content-Type: content_type``."""
        ...

    def start_multipart(self, key: str, *, content_type: str = "") -> str:
        """Begin a multipart upload; its upload id."""
        ...

    def presigned_part(self, key: str, upload_id: str, part_number: int, *, expires: int = 3600) -> str:
        """A URL that PUTs part ``part_number`` (1-based) of a multipart upload."""
        ...

    def upload_part(self, key: str, upload_id: str, part_number: int, body: bytes) -> str:
        """Write part ``part_number`` of a multipart upload; its ETag."""
        ...

    def copy_part(self, key: str, upload_id: str, part_number: int, source_key: str, *, start: int, end: int) -> str:
        """Part ``part_number`` as bytes ``start``..``end`` (inclusive) of another object, copied
        by the store (no bytes through the caller); its ETag."""
        ...

    def complete_multipart(self, key: str, upload_id: str, parts: Sequence[tuple[int, str]]) -> None:
        """Join the parts, given as (part number, ETag) in order."""
        ...

    def abort_multipart(self, key: str, upload_id: str) -> None: ...


class FrameDecoder(Protocol):
    """Frames out of chunks that are not image sets: the original MP4 chunks of a video task, read
    as frames and as image-set chunks (the media layer decodes them; the API's import path never
    loads it)."""

    def video_frame_png(self, chunk: bytes, position: int, *, width: int | None = None,
                        height: int | None = None, name: str = "chunk.mp4") -> bytes:
        """Frame ``position`` (0-based) of an MP4 chunk as PNG, cropped to ``width`` x ``height``;
        a MediaError when the chunk has no such frame or cannot be decoded."""
        ...

    def video_frames_png(self, chunk: bytes, *, width: int | None = None, height: int | None = None,
                         name: str = "chunk.mp4") -> Iterator[bytes]:
        """Every frame of an MP4 chunk, in order, as PNG cropped to ``width`` x ``height``; a
        MediaError when the chunk cannot be decoded."""
        ...


class WorkflowRun(Protocol):
    """What the workflow engine knows of one execution."""

    status: str  # RUNNING | SUCCEEDED | FAILED | TIMED_OUT | ABORTED
    error: str
    cause: str


class WorkflowStarter(Protocol):
    def start(self, workflow: str, name: str, payload: Mapping[str, Any]) -> str:
        """Start a workflow execution with an idempotent ``name``; returns its id. Starting the same
        name twice is not an error: the id of the existing execution is returned."""
        ...

    def describe(self, workflow: str, name: str) -> WorkflowRun | None:
        """The execution's state; None when the engine has no such execution (it was never
        started, or it was lost: the embedded runtime forgets running executions on a restart)."""
        ...

    def stop(self, workflow: str, name: str, *, cause: str = "") -> None:
        """Stop the execution if it is running; an execution that ended or never started is
        not an error."""
        ...


class RemoteFetcher(Protocol):
    def fetch(self, url: str, dest: BinaryIO, *, max_bytes: int, timeout: float) -> RemoteFile:
        """Download ``url`` into ``dest`` through the SSRF guard: ValidationError for a URL that is
        refused (scheme, private or metadata address, a redirect into one), too big or too slow."""
        ...


class RemoteFile(Protocol):
    name: str  # the file name the URL names (its path's last part, or Content-Disposition's)
    size: int
    content_type: str


class EventPublisher(Protocol):
    def publish(self, detail_type: str, detail: Mapping[str, Any]) -> None:
        """Publish one domain event (e.g. ``create:task``) to the event bus."""
        ...


# --- core resources (organizations, projects, tasks, segments, jobs, labels) ----------------------
# Every repository stores copies: what a caller changes after ``add``/``get`` is not stored until
# ``save``. ``add`` stores version 1; ``save`` succeeds only when the entity's ``version`` equals the
# stored one and returns the entity with the version bumped (ConflictError otherwise). ``get`` and
# ``delete`` raise NotFoundError for unknown ids.


class OrganizationRepository(Protocol):
    def add(self, org: Organization) -> Organization:
        """ConflictError when the slug is taken (slugs are unique, case-sensitive as in CVAT)."""
        ...

    def get(self, org_id: int) -> Organization: ...

    def get_many(self, org_ids: Iterable[int]) -> dict[int, Organization]: ...

    def find_by_slug(self, slug: str) -> Organization | None: ...

    def save(self, org: Organization) -> Organization:
        """ConflictError when stale or when a new slug is taken."""
        ...

    def delete(self, org_id: int) -> None: ...

    def list_all(self) -> list[Organization]: ...


class MembershipRepository(Protocol):
    def add(self, membership: Membership) -> Membership:
        """ConflictError when the user already has a membership in that organization."""
        ...

    def get(self, membership_id: int) -> Membership: ...

    def find(self, organization_id: int, user_id: int) -> Membership | None: ...

    def save(self, membership: Membership) -> Membership: ...

    def delete(self, membership_id: int) -> None: ...

    def list_by_organization(self, organization_id: int) -> list[Membership]: ...

    def list_by_user(self, user_id: int) -> list[Membership]: ...


class InvitationRepository(Protocol):
    def add(self, invitation: Invitation) -> Invitation:
        """ConflictError when the key exists."""
        ...

    def get(self, key: str) -> Invitation: ...

    def save(self, invitation: Invitation) -> Invitation: ...

    def delete(self, key: str) -> None: ...

    def list_by_organization(self, organization_id: int) -> list[Invitation]: ...

    def list_by_user(self, user_id: int) -> list[Invitation]:
        """Invitations where ``user_id`` is the invitee or the one who invited."""
        ...


class ProjectRepository(Protocol):
    def add(self, project: Project) -> Project: ...

    def get(self, project_id: int) -> Project: ...

    def get_many(self, project_ids: Iterable[int]) -> dict[int, Project]: ...

    def save(self, project: Project) -> Project: ...

    def delete(self, project_id: int) -> None: ...

    def list_all(self) -> list[Project]: ...

    def list_by_organization(self, organization_id: int | None) -> list[Project]: ...

    def window(self, scope: Scope, offset: int, limit: int, *, newest_first: bool) -> Window[Project]:
        """A page of the scope in id order, read without reading the rest (a list's first page
        costs a page, not the whole scope)."""
        ...

    def list_by_user(self, user_id: int) -> list[Project]:
        """Projects the user owns or is assigned to, in every organization."""
        ...


class TaskRepository(Protocol):
    def add(self, task: Task) -> Task: ...

    def get(self, task_id: int) -> Task: ...

    def get_many(self, task_ids: Iterable[int]) -> dict[int, Task]: ...

    def save(self, task: Task) -> Task: ...

    def delete(self, task_id: int) -> None: ...

    def list_all(self) -> list[Task]: ...

    def list_by_organization(self, organization_id: int | None) -> list[Task]: ...

    def window(self, scope: Scope, offset: int, limit: int, *, newest_first: bool) -> Window[Task]:
        """A page of the scope in id order, read without reading the rest (a list's first page
        costs a page, not the whole scope)."""
        ...

    def list_by_project(self, project_id: int) -> list[Task]: ...

    def list_by_projects(self, project_ids: Iterable[int]) -> list[Task]:
        """The tasks of several projects (one partition read each, run concurrently where the
        store allows)."""
        ...

    def list_by_user(self, user_id: int) -> list[Task]:
        """Tasks the user owns or is assigned to, in every organization."""
        ...

    def count_by_projects(self, project_ids: Iterable[int]) -> dict[int, int]:
        """How many tasks each project has (every given id is a key)."""
        ...


class SegmentRepository(Protocol):
    def add_many(self, segments: Sequence[Segment]) -> list[Segment]:
        """Store new segments all or nothing."""
        ...

    def get(self, segment_id: int) -> Segment: ...

    def list_by_task(self, task_id: int) -> list[Segment]: ...

    def delete_by_task(self, task_id: int) -> None: ...


class JobRepository(Protocol):
    def add_many(self, jobs: Sequence[Job]) -> list[Job]:
        """Store new jobs all or nothing."""
        ...

    def get(self, job_id: int) -> Job: ...

    def save(self, job: Job) -> Job: ...

    def delete(self, job_id: int) -> None: ...

    def list_all(self) -> list[Job]: ...

    def list_by_task(self, task_id: int) -> list[Job]: ...

    def list_by_tasks(self, task_ids: Iterable[int]) -> list[Job]:
        """The jobs of several tasks (one partition read each, concurrently where possible)."""
        ...

    def list_by_organization(self, organization_id: int | None) -> list[Job]: ...

    def window(self, scope: Scope, offset: int, limit: int, *, newest_first: bool) -> Window[Job]:
        """A page of the scope in id order, read without reading the rest (a list's first page
        costs a page, not the whole scope)."""
        ...

    def list_by_assignee(self, user_id: int) -> list[Job]:
        """Jobs assigned to the user, in every organization."""
        ...

    def delete_by_task(self, task_id: int) -> None: ...


class LabelRepository(Protocol):
    def add_many(self, labels: Sequence[Label]) -> list[Label]:
        """Store new labels all or nothing; ConflictError when a name is taken in the same task
        or project (and parent)."""
        ...

    def get(self, label_id: int) -> Label: ...

    def save(self, label: Label) -> Label: ...

    def delete(self, label_id: int) -> None: ...

    def list_by_task(self, task_id: int) -> list[Label]:
        """The task's own labels (with sublabels); not its project's."""
        ...

    def list_by_project(self, project_id: int) -> list[Label]: ...

    def list_by_tasks(self, task_ids: Iterable[int]) -> list[Label]:
        """The own labels of several tasks (concurrently where possible)."""
        ...

    def list_by_projects(self, project_ids: Iterable[int]) -> list[Label]: ...

    def list_all(self) -> list[Label]:
        """Every label of every task and project (for admins)."""
        ...


class IssueRepository(Protocol):
    """Review issues. Each list is a read of the named partitions, sorted by id."""

    def add(self, issue: Issue) -> Issue: ...

    def get(self, issue_id: int) -> Issue: ...

    def save(self, issue: Issue) -> Issue: ...

    def delete(self, issue_id: int) -> None: ...

    def list_all(self) -> list[Issue]:
        """Every issue (for admins)."""
        ...

    def list_by_job(self, job_id: int) -> list[Issue]: ...

    def list_by_jobs(self, job_ids: Iterable[int]) -> list[Issue]: ...

    def list_by_tasks(self, task_ids: Iterable[int]) -> list[Issue]:
        """The issues of several tasks' jobs (one partition read each, concurrently)."""
        ...

    def list_by_user(self, user_id: int) -> list[Issue]:
        """Issues the user owns or is assigned to."""
        ...

    def count_by_jobs(self, job_ids: Iterable[int]) -> dict[int, int]:
        """How many issues each job has (every given id is a key)."""
        ...

    def delete_by_task(self, task_id: int) -> None:
        """Remove every issue of the task's jobs (no error when there is none)."""
        ...


class CommentRepository(Protocol):
    """Comments of review issues. Each list is a read of the named partitions, sorted by id."""

    def add(self, comment: Comment) -> Comment: ...

    def get(self, comment_id: int) -> Comment: ...

    def save(self, comment: Comment) -> Comment: ...

    def delete(self, comment_id: int) -> None: ...

    def list_all(self) -> list[Comment]: ...

    def list_by_issue(self, issue_id: int) -> list[Comment]: ...

    def list_by_issues(self, issue_ids: Iterable[int]) -> list[Comment]: ...

    def list_by_tasks(self, task_ids: Iterable[int]) -> list[Comment]: ...

    def list_by_owner(self, user_id: int) -> list[Comment]: ...

    def count_by_issues(self, issue_ids: Iterable[int]) -> dict[int, int]:
        """How many comments each issue has (every given id is a key)."""
        ...

    def delete_by_issue(self, issue_id: int) -> None: ...

    def delete_by_task(self, task_id: int) -> None: ...


class RequestRepository(Protocol):
    """Background requests (ids are strings: CVAT's rq_id)."""

    def add(self, request: BackgroundRequest) -> BackgroundRequest:
        """ConflictError when the id exists."""
        ...

    def get(self, request_id: str) -> BackgroundRequest: ...

    def save(self, request: BackgroundRequest) -> BackgroundRequest: ...

    def delete(self, request_id: str) -> None: ...

    def list_by_owner(self, user_id: int) -> list[BackgroundRequest]: ...

    def list_by_task(self, task_id: int) -> list[BackgroundRequest]: ...

    def list_all(self) -> list[BackgroundRequest]: ...


class TaskDataRepository(Protocol):
    def add(self, data: TaskData) -> TaskData:
        """ConflictError when the data id exists, or when the task has data already."""
        ...

    def get(self, data_id: int) -> TaskData: ...

    def find_by_task(self, task_id: int) -> TaskData | None: ...

    def save(self, data: TaskData) -> TaskData: ...

    def delete(self, data_id: int) -> None: ...


class TusUploadRepository(Protocol):
    def add(self, upload: TusUpload) -> TusUpload: ...

    def get(self, upload_id: str) -> TusUpload: ...

    def save(self, upload: TusUpload) -> TusUpload:
        """ConflictError when stale: two PATCHes of the same offset cannot both land."""
        ...

    def delete(self, upload_id: str) -> None: ...

    def list_by_task(self, task_id: int) -> list[TusUpload]: ...


class DropMarkerRepository(Protocol):
    """One marker per object dropped in the drop folder (services.ingest): the first delivery of
    its S3 notification claims it, redeliveries find it. Markers expire on their own
    (domain.drops.MARKER_RETENTION)."""

    def add(self, marker: DropMarker) -> DropMarker:
        """Claim: ConflictError when a marker with this id exists."""
        ...

    def get(self, marker_id: str) -> DropMarker: ...

    def save(self, marker: DropMarker) -> DropMarker:
        """ConflictError when stale: of two deliveries taking over one marker, one wins."""
        ...


# --- auth -----------------------------------------------------------------------------------------


class AccessTokenRepository(Protocol):
    def add(self, token: AccessToken) -> AccessToken: ...

    def get(self, token_id: int) -> AccessToken: ...

    def find_by_digest(self, digest: str) -> AccessToken | None:
        """The token whose secret hashes to ``digest``."""
        ...

    def save(self, token: AccessToken) -> AccessToken: ...

    def delete(self, token_id: int) -> None: ...

    def list_by_owner(self, owner_id: int) -> list[AccessToken]: ...


class SessionRepository(Protocol):
    def add(self, session: Session) -> Session: ...

    def find_by_digest(self, digest: str) -> Session | None: ...

    def delete(self, digest: str) -> None: ...

    def delete_by_user(self, user_id: int) -> None: ...


class LoginAttemptRepository(Protocol):
    def add_failure(self, key: str, at: datetime) -> None:
        """Record one failed login for ``key`` (e.g. ``user:<name>`` or ``ip:<addr>``); also one
        event of a per-address rate limit (``login:ip:<addr>``, ``register:ip:<addr>``)."""
        ...

    def failures_since(self, key: str, since: datetime) -> list[datetime]: ...

    def clear(self, key: str) -> None: ...


@dataclass(frozen=True, slots=True)
class AnnotationHead:
    """One saved state of a job's annotations: its ``version`` (0: never saved), object counts,
    the storage's id of that snapshot (``snapshot_id``: an S3 object version id), who saved it
    and when."""

    job_id: int
    version: int = 0
    shapes: int = 0
    tracks: int = 0
    tags: int = 0
    snapshot_id: str = ""
    updated_by: int | None = None
    updated_date: datetime | None = None


class AnnotationStore(Protocol):
    """Each job's annotations as one snapshot, with a head that versions it (optimistic lock)."""

    def read(self, job_id: int) -> tuple[LabeledData, AnnotationHead]:
        """The current snapshot and its head (empty data and version 0 when never saved)."""
        ...

    def write(self, job_id: int, data: LabeledData, *, expected_version: int, actor_id: int | None,
              when: datetime) -> AnnotationHead:
        """Store ``data`` as version ``expected_version + 1``; ConflictError when the stored
        version is not ``expected_version`` (nothing is changed then)."""
        ...

    def history(self, job_id: int) -> list[AnnotationHead]:
        """Every save of the job, newest first."""
        ...

    def read_version(self, job_id: int, version: int) -> tuple[LabeledData, AnnotationHead]:
        """The snapshot of one earlier save; NotFoundError when there is none."""
        ...

    def allocate_ids(self, count: int) -> int:
        """Reserve ``count`` consecutive annotation object ids; answer the first (atomic, never
        reused)."""
        ...

    def delete(self, job_id: int) -> None:
        """Forget the job's annotations and their history (the job is being deleted); the job
        then reads empty at version 0. Deleting an unsaved job does nothing."""
        ...


# --- bundles: what the composition root hands to the services -----------------------------------


@dataclass(frozen=True, slots=True)
class Repositories:
    """The core repositories of one store."""

    users: UserRepository
    organizations: OrganizationRepository
    memberships: MembershipRepository
    invitations: InvitationRepository
    projects: ProjectRepository
    tasks: TaskRepository
    segments: SegmentRepository
    jobs: JobRepository
    labels: LabelRepository
    requests: RequestRepository
    task_data: TaskDataRepository
    tus_uploads: TusUploadRepository
    issues: IssueRepository
    comments: CommentRepository


@dataclass(frozen=True, slots=True)
class AuthRepositories:
    """Access tokens, sessions and failed logins of one store."""

    access_tokens: AccessTokenRepository
    sessions: SessionRepository
    login_attempts: LoginAttemptRepository


# --- agent functions ----------------------------------------------------------------------------


class NativeFunctionRepository(Protocol):
    """Agent-based ("native") functions (copies, optimistic locking on ``version``)."""

    def add(self, function: NativeFunction) -> NativeFunction: ...

    def get(self, function_id: int) -> NativeFunction:
        """NotFoundError when there is none."""
        ...

    def save(self, function: NativeFunction) -> NativeFunction: ...

    def delete(self, function_id: int) -> None: ...

    def list_all(self) -> list[NativeFunction]:
        """Sorted by id."""
        ...

    def list_by_organization(self, organization_id: int | None) -> list[NativeFunction]:
        """The functions of an organization (None: of the personal workspace), sorted by id."""
        ...


class AnnotationRequestRepository(Protocol):
    """Annotation requests (ARs) of native functions (optimistic locking on ``version``: two
    agents acquiring the same AR cannot both win)."""

    def add(self, request: AnnotationRequest) -> AnnotationRequest: ...

    def get(self, request_id: str) -> AnnotationRequest:
        """NotFoundError when there is none."""
        ...

    def save(self, request: AnnotationRequest) -> AnnotationRequest:
        """ConflictError when the stored version is not the caller's."""
        ...

    def list_queued(self, function_id: int, category: RequestCategory) -> list[AnnotationRequest]:
        """The function's queued ARs of that category, oldest first."""
        ...

    def list_assigned(self, function_id: int, category: RequestCategory) -> list[AnnotationRequest]:
        """The function's assigned ARs of that category, oldest first (to reclaim expired ones)."""
        ...

    def list_by_function(self, function_id: int) -> list[AnnotationRequest]:
        """Every AR of the function still stored, oldest first."""
        ...

    def list_by_owner(self, user_id: int) -> list[AnnotationRequest]:
        """The ARs the user submitted, oldest first."""
        ...


@dataclass(frozen=True, slots=True)
class AgentFunctionRepositories:
    functions: NativeFunctionRepository
    requests: AnnotationRequestRepository


# --- webhooks ------------------------------------------------------------------------------------


class WebhookRepository(Protocol):
    """Webhooks (copies, optimistic locking on ``version`` as the core repositories)."""

    def add(self, webhook: Webhook) -> Webhook: ...

    def get(self, webhook_id: int) -> Webhook:
        """NotFoundError when there is none."""
        ...

    def save(self, webhook: Webhook) -> Webhook: ...

    def delete(self, webhook_id: int) -> None: ...

    def note_delivery(self, webhook_id: int, status: int, at: datetime) -> None:
        """Set ``last_status``/``last_delivery_date`` unless a later delivery was noted (no
        read, never a conflict with an edit of the webhook; nothing for a webhook that is gone)."""
        ...

    def list_all(self) -> list[Webhook]: ...

    def list_by_organization(self, organization_id: int) -> list[Webhook]:
        """The organization's webhooks, of both types."""
        ...

    def list_by_project(self, project_id: int) -> list[Webhook]: ...

    def list_by_owner(self, user_id: int) -> list[Webhook]: ...

    def list_server(self) -> list[Webhook]:
        """The ``server`` webhooks."""
        ...


class WebhookDeliveryRepository(Protocol):
    def add(self, delivery: WebhookDelivery) -> WebhookDelivery: ...

    def get(self, webhook_id: int, delivery_id: int) -> WebhookDelivery:
        """NotFoundError when the webhook has no such delivery."""
        ...

    def list_by_webhook(self, webhook_id: int) -> list[WebhookDelivery]:
        """Sorted by id."""
        ...

    def delete_by_webhook(self, webhook_id: int) -> None: ...


@dataclass(frozen=True, slots=True)
class WebhookRepositories:
    webhooks: WebhookRepository
    deliveries: WebhookDeliveryRepository


@dataclass(frozen=True, slots=True)
class HttpAnswer:
    """What a webhook's receiver answered: CVAT's status codes, 502 for a connection failure and
    504 for a timeout (``body`` then says what happened)."""

    status_code: int
    body: str
    duration_ms: int


class WebhookSender(Protocol):
    def check(self, url: str) -> None:
        """A ValidationError when ``url`` may not be a webhook target: not http(s), or a host that
        resolves to an address the SSRF guard refuses (domain.egress)."""
        ...

    def post(self, url: str, body: bytes, headers: Mapping[str, str], *, verify_tls: bool) -> HttpAnswer:
        """POST ``body`` to ``url`` through the SSRF guard (no redirects followed). A refused URL
        is a ValidationError; every transport failure is an answer (502/504)."""
        ...


class WebhookPayloadRenderer(Protocol):
    def render(self, resource: str, obj: Mapping[str, Any], origin: str) -> dict[str, Any] | None:
        """A domain event's object (``resource``: "task", "job"...; ``obj``: its plain JSON, as
        ``domain.events.to_plain`` made it) as the API's GET shows it, with URLs under ``origin``
        (``scheme://host``; empty: relative URLs). None for a resource it does not show. Reads
        what the representation names (users, the task of a job...) once per call."""
        ...


class WebhookQueue(Protocol):
    def send(self, jobs: Sequence[Mapping[str, Any]], *, delay_s: int = 0) -> None:
        """Queue delivery jobs (one message each), visible after ``delay_s`` seconds (at most 900)."""
        ...


# --- auto-annotation -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AsyncInvocation:
    """An accepted asynchronous inference: where its output (or its error) will appear."""

    inference_id: str
    output_location: str  # s3://bucket/key
    failure_location: str


class InferenceClient(Protocol):
    """SageMaker's runtime API (the embedded runtime answers the same calls locally)."""

    def invoke(self, endpoint: str, body: bytes, *, content_type: str = "application/json",
               timeout_s: float = 60.0) -> bytes:
        """One synchronous invocation; the response body. An endpoint that is missing, cold or
        failing is a DependencyUnavailableError; one that did not answer in time an
        UpstreamTimeoutError; the model refusing the input a ValidationError with its message."""
        ...

    def invoke_async(self, endpoint: str, input_location: str, *, inference_id: str,
                     content_type: str = "application/json") -> AsyncInvocation:
        """Queue an asynchronous invocation whose input is already stored at ``input_location``."""
        ...


class FunctionRepository(Protocol):
    """The model registry (``domain.functions.FunctionSpec``), keyed by the function's id."""

    def put(self, spec: FunctionSpec, *, replace: bool = False) -> FunctionSpec:
        """Store the entry; ConflictError when the id exists and ``replace`` is false."""
        ...

    def get(self, function_id: str) -> FunctionSpec:
        """NotFoundError when there is no such entry."""
        ...

    def delete(self, function_id: str) -> None:
        """NotFoundError when there is no such entry."""
        ...

    def list_all(self) -> list[FunctionSpec]:
        """Every entry, by id."""
        ...


class AutoAnnotationLedger(Protocol):
    """What the auto-annotate workflow records beside its request: the chunks saved (a chunk
    step that is retried after its save does not save again; progress is their count), and the
    async chunks' Step Functions task tokens, keyed by the S3 keys their result or failure will
    have."""

    def mark_saved(self, request_id: str, chunk: int) -> bool:
        """Record that the chunk's shapes are saved; False when it was recorded already."""
        ...

    def is_saved(self, request_id: str, chunk: int) -> bool: ...

    def saved_count(self, request_id: str) -> int:
        """How many distinct chunks of the request are recorded as saved."""
        ...

    def put_callback(self, keys: Sequence[str], token: str) -> None:
        """Remember ``token`` under each of ``keys`` (the output and the failure object keys)."""
        ...

    def get_callback(self, key: str) -> str | None:
        """The token stored under ``key``; None when there is none."""
        ...

    def delete_callback(self, keys: Sequence[str]) -> None: ...


class TaskCallbacks(Protocol):
    """Step Functions' callback API (``.waitForTaskToken`` tasks)."""

    def task_succeeded(self, token: str, output: Mapping[str, Any]) -> None:
        """SendTaskSuccess; a token whose task ended (timed out, stopped) is not an error."""
        ...

"""In-memory fakes of every repository port, for unit tests and the contract suite.

They behave like the DynamoDB adapters: they store copies, ``add`` stores version 1, ``save``
checks the version (ConflictError when stale) and bumps it, uniqueness rules raise
ConflictError, unknown ids raise NotFoundError. One lock per repository makes them safe to use
from threads.
"""

from __future__ import annotations

import copy
import hashlib
import threading
import uuid
from collections import defaultdict
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Generic, TypeVar
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit

from ..domain.annotations import LabeledData
from ..domain.auth import AccessToken, Session
from ..domain.drops import DropMarker
from ..domain.errors import ConflictError, NotFoundError, PermissionDeniedError, ValidationError
from ..domain.issues import Comment, Issue
from ..domain.jobs import Job, Segment
from ..domain.labels import Label
from ..domain.organizations import Invitation, Membership, Organization
from ..domain.projects import Project
from ..domain.requests import BackgroundRequest
from ..domain.task_data import TaskData, TusUpload
from ..domain.tasks import Task
from ..domain.users import User
from ..ports import ALL_ORGANIZATIONS, AnnotationHead, AuthRepositories, Repositories, Scope, Window
from .content_disposition import attachment_disposition

E = TypeVar("E")
K = TypeVar("K", bound=Hashable)

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class _Store(Generic[K, E]):
    """A versioned, thread-safe map of copies with optional unique keys."""

    def __init__(
        self,
        name: str,
        key: Callable[[E], K],
        unique: Mapping[str, Callable[[E], Hashable | None]] | None = None,
    ) -> None:
        self._name = name
        self._key = key
        self._unique = dict(unique or {})
        self._items: dict[K, E] = {}
        self._lock = threading.RLock()

    def _check_unique(self, entity: E, ignore: K | None) -> None:
        for label, fn in self._unique.items():
            value = fn(entity)
            if value is None:
                continue
            for k, other in self._items.items():
                if k != ignore and fn(other) == value:
                    raise ConflictError(f"A {self._name} with this {label} already exists.")

    def add(self, entity: E) -> E:
        with self._lock:
            key = self._key(entity)
            if key in self._items:
                raise ConflictError(f"{self._name} {key} already exists.")
            self._check_unique(entity, None)
            stored = copy.deepcopy(entity)
            stored.version = 1  # type: ignore[attr-defined]
            self._items[key] = stored
            return copy.deepcopy(stored)

    def add_many(self, entities: Sequence[E]) -> list[E]:
        with self._lock:
            snapshot = dict(self._items)
            try:
                return [self.add(e) for e in entities]
            except Exception:
                self._items = snapshot
                raise

    def get(self, key: K) -> E:
        with self._lock:
            try:
                return copy.deepcopy(self._items[key])
            except KeyError:
                raise NotFoundError(f"{self._name} {key} not found.") from None

    def get_many(self, keys: Iterable[K]) -> dict[K, E]:
        with self._lock:
            return {k: copy.deepcopy(self._items[k]) for k in dict.fromkeys(keys) if k in self._items}

    def save(self, entity: E) -> E:
        with self._lock:
            key = self._key(entity)
            current = self._items.get(key)
            if current is None:
                raise NotFoundError(f"{self._name} {key} not found.")
            if current.version != entity.version:  # type: ignore[attr-defined]
                raise ConflictError(f"The {self._name} was changed by someone else; reload and retry.")
            self._check_unique(entity, key)
            stored = copy.deepcopy(entity)
            stored.version = entity.version + 1  # type: ignore[attr-defined]
            self._items[key] = stored
            return copy.deepcopy(stored)

    def delete(self, key: K) -> None:
        with self._lock:
            if key not in self._items:
                raise NotFoundError(f"{self._name} {key} not found.")
            del self._items[key]

    def delete_where(self, pred: Callable[[E], bool]) -> None:
        with self._lock:
            for k in [k for k, v in self._items.items() if pred(v)]:
                del self._items[k]

    def window(self, pred: Callable[[E], bool], offset: int, limit: int, *, newest_first: bool) -> Window[E]:
        found = self.find(pred)  # in key order: ids ascending
        if newest_first:
            found.reverse()
        return Window(found[offset:offset + limit], len(found))

    def find(self, pred: Callable[[E], bool]) -> list[E]:
        with self._lock:
            return [
                copy.deepcopy(v)
                for _, v in sorted(self._items.items(), key=lambda kv: str(kv[0]).zfill(20))
                if pred(v)
            ]

    def first(self, pred: Callable[[E], bool]) -> E | None:
        found = self.find(pred)
        return found[0] if found else None


class InMemoryIdGenerator:
    """Atomic per-kind counters starting at 1."""

    def __init__(self) -> None:
        self._counters: dict[str, int] = defaultdict(int)
        self._lock = threading.Lock()

    def next_id(self, kind: str) -> int:
        with self._lock:
            self._counters[kind] += 1
            return self._counters[kind]


class FixedClock:
    """A clock that only moves when told to."""

    def __init__(self, now: datetime | None = None) -> None:
        self._now = now or datetime(2026, 1, 1, tzinfo=UTC)

    def now(self) -> datetime:
        return self._now

    def advance(self, delta: timedelta) -> None:
        self._now += delta


class InMemoryEventPublisher:
    def __init__(self) -> None:
        self.events: list[tuple[str, dict[str, Any]]] = []
        self._lock = threading.Lock()

    def publish(self, detail_type: str, detail: Mapping[str, Any]) -> None:
        with self._lock:
            self.events.append((detail_type, copy.deepcopy(dict(detail))))

    def of(self, detail_type: str) -> list[dict[str, Any]]:
        return [d for t, d in self.events if t == detail_type]


class InMemoryPasswordHasher:
    """A salted SHA-256 hasher: fast, for tests only (production uses argon2)."""

    def hash(self, password: str) -> str:
        salt = hashlib.sha256(password.encode()).hexdigest()[:8]
        return f"test${salt}${hashlib.sha256((salt + password).encode()).hexdigest()}"

    def verify(self, password_hash: str, password: str) -> bool:
        return self.hash(password) == password_hash

    def needs_rehash(self, password_hash: str) -> bool:
        return not password_hash.startswith("test$")


class InMemoryUserRepository:
    def __init__(self) -> None:
        self._s: _Store[int, User] = _Store(
            "user",
            lambda u: u.id,
            {"username": lambda u: u.username.lower(), "email": lambda u: u.email.lower() or None},
        )

    def add(self, user: User) -> User:
        return self._s.add(user)

    def get(self, user_id: int) -> User:
        return self._s.get(user_id)

    def get_many(self, user_ids: Iterable[int]) -> dict[int, User]:
        return self._s.get_many(user_ids)

    def find_by_username(self, username: str) -> User | None:
        return self._s.first(lambda u: u.username.lower() == username.lower())

    def find_by_email(self, email: str) -> User | None:
        return self._s.first(lambda u: bool(email) and u.email.lower() == email.lower())

    def save(self, user: User) -> User:
        return self._s.save(user)

    def delete(self, user_id: int) -> None:
        self._s.delete(user_id)

    def list_all(self) -> list[User]:
        return self._s.find(lambda _: True)


class InMemoryOrganizationRepository:
    def __init__(self) -> None:
        self._s: _Store[int, Organization] = _Store(
            "organization", lambda o: o.id, {"slug": lambda o: o.slug}
        )

    def add(self, org: Organization) -> Organization:
        return self._s.add(org)

    def get(self, org_id: int) -> Organization:
        return self._s.get(org_id)

    def get_many(self, org_ids: Iterable[int]) -> dict[int, Organization]:
        return self._s.get_many(org_ids)

    def find_by_slug(self, slug: str) -> Organization | None:
        return self._s.first(lambda o: o.slug == slug)

    def save(self, org: Organization) -> Organization:
        return self._s.save(org)

    def delete(self, org_id: int) -> None:
        self._s.delete(org_id)

    def list_all(self) -> list[Organization]:
        return self._s.find(lambda _: True)


class InMemoryMembershipRepository:
    def __init__(self) -> None:
        self._s: _Store[int, Membership] = _Store(
            "membership", lambda m: m.id, {"user": lambda m: (m.organization_id, m.user_id)}
        )

    def add(self, membership: Membership) -> Membership:
        return self._s.add(membership)

    def get(self, membership_id: int) -> Membership:
        return self._s.get(membership_id)

    def find(self, organization_id: int, user_id: int) -> Membership | None:
        return self._s.first(lambda m: m.organization_id == organization_id and m.user_id == user_id)

    def save(self, membership: Membership) -> Membership:
        return self._s.save(membership)

    def delete(self, membership_id: int) -> None:
        self._s.delete(membership_id)

    def list_by_organization(self, organization_id: int) -> list[Membership]:
        return self._s.find(lambda m: m.organization_id == organization_id)

    def list_by_user(self, user_id: int) -> list[Membership]:
        return self._s.find(lambda m: m.user_id == user_id)


class InMemoryInvitationRepository:
    def __init__(self) -> None:
        self._s: _Store[str, Invitation] = _Store("invitation", lambda i: i.key)

    def add(self, invitation: Invitation) -> Invitation:
        return self._s.add(invitation)

    def get(self, key: str) -> Invitation:
        return self._s.get(key)

    def save(self, invitation: Invitation) -> Invitation:
        return self._s.save(invitation)

    def delete(self, key: str) -> None:
        self._s.delete(key)

    def list_by_organization(self, organization_id: int) -> list[Invitation]:
        return self._s.find(lambda i: i.organization_id == organization_id)

    def list_by_user(self, user_id: int) -> list[Invitation]:
        return self._s.find(lambda i: user_id in (i.user_id, i.owner_id))


class InMemoryProjectRepository:
    def __init__(self) -> None:
        self._s: _Store[int, Project] = _Store("project", lambda p: p.id)

    def add(self, project: Project) -> Project:
        return self._s.add(project)

    def get(self, project_id: int) -> Project:
        return self._s.get(project_id)

    def get_many(self, project_ids: Iterable[int]) -> dict[int, Project]:
        return self._s.get_many(project_ids)

    def save(self, project: Project) -> Project:
        return self._s.save(project)

    def delete(self, project_id: int) -> None:
        self._s.delete(project_id)

    def list_all(self) -> list[Project]:
        return self._s.find(lambda _: True)

    def list_by_organization(self, organization_id: int | None) -> list[Project]:
        return self._s.find(lambda p: p.organization_id == organization_id)

    def window(self, scope: Scope, offset: int, limit: int, *, newest_first: bool) -> Window[Project]:
        return self._s.window(lambda p: scope is ALL_ORGANIZATIONS or p.organization_id == scope,
                              offset, limit, newest_first=newest_first)

    def list_by_user(self, user_id: int) -> list[Project]:
        return self._s.find(lambda p: user_id in (p.owner_id, p.assignee_id))


class InMemoryTaskRepository:
    def __init__(self) -> None:
        self._s: _Store[int, Task] = _Store("task", lambda t: t.id)

    def add(self, task: Task) -> Task:
        return self._s.add(task)

    def get(self, task_id: int) -> Task:
        return self._s.get(task_id)

    def get_many(self, task_ids: Iterable[int]) -> dict[int, Task]:
        return self._s.get_many(task_ids)

    def save(self, task: Task) -> Task:
        return self._s.save(task)

    def delete(self, task_id: int) -> None:
        self._s.delete(task_id)

    def list_all(self) -> list[Task]:
        return self._s.find(lambda _: True)

    def list_by_organization(self, organization_id: int | None) -> list[Task]:
        return self._s.find(lambda t: t.organization_id == organization_id)

    def window(self, scope: Scope, offset: int, limit: int, *, newest_first: bool) -> Window[Task]:
        return self._s.window(lambda t: scope is ALL_ORGANIZATIONS or t.organization_id == scope,
                              offset, limit, newest_first=newest_first)

    def list_by_project(self, project_id: int) -> list[Task]:
        return self._s.find(lambda t: t.project_id == project_id)

    def list_by_projects(self, project_ids: Iterable[int]) -> list[Task]:
        wanted = set(project_ids)
        return self._s.find(lambda t: t.project_id in wanted)

    def list_by_user(self, user_id: int) -> list[Task]:
        return self._s.find(lambda t: user_id in (t.owner_id, t.assignee_id))

    def count_by_projects(self, project_ids: Iterable[int]) -> dict[int, int]:
        counts = dict.fromkeys(project_ids, 0)
        for task in self._s.find(lambda t: t.project_id in counts):
            counts[task.project_id] += 1  # type: ignore[index]  # found by project_id in counts
        return counts


class InMemorySegmentRepository:
    def __init__(self) -> None:
        self._s: _Store[int, Segment] = _Store("segment", lambda s: s.id)

    def add_many(self, segments: Sequence[Segment]) -> list[Segment]:
        return self._s.add_many(segments)

    def get(self, segment_id: int) -> Segment:
        return self._s.get(segment_id)

    def list_by_task(self, task_id: int) -> list[Segment]:
        return self._s.find(lambda s: s.task_id == task_id)

    def delete_by_task(self, task_id: int) -> None:
        self._s.delete_where(lambda s: s.task_id == task_id)


class InMemoryJobRepository:
    def __init__(self) -> None:
        self._s: _Store[int, Job] = _Store("job", lambda j: j.id)

    def add_many(self, jobs: Sequence[Job]) -> list[Job]:
        return self._s.add_many(jobs)

    def get(self, job_id: int) -> Job:
        return self._s.get(job_id)

    def save(self, job: Job) -> Job:
        return self._s.save(job)

    def delete(self, job_id: int) -> None:
        self._s.delete(job_id)

    def list_all(self) -> list[Job]:
        return self._s.find(lambda _: True)

    def list_by_task(self, task_id: int) -> list[Job]:
        return self._s.find(lambda j: j.task_id == task_id)

    def list_by_tasks(self, task_ids: Iterable[int]) -> list[Job]:
        wanted = set(task_ids)
        return self._s.find(lambda j: j.task_id in wanted)

    def list_by_assignee(self, user_id: int) -> list[Job]:
        return self._s.find(lambda j: j.assignee_id == user_id)

    def list_by_organization(self, organization_id: int | None) -> list[Job]:
        return self._s.find(lambda j: j.organization_id == organization_id)

    def window(self, scope: Scope, offset: int, limit: int, *, newest_first: bool) -> Window[Job]:
        return self._s.window(lambda j: scope is ALL_ORGANIZATIONS or j.organization_id == scope,
                              offset, limit, newest_first=newest_first)

    def delete_by_task(self, task_id: int) -> None:
        self._s.delete_where(lambda j: j.task_id == task_id)


class InMemoryLabelRepository:
    def __init__(self) -> None:
        self._s: _Store[int, Label] = _Store(
            "label", lambda lb: lb.id, {"name": lambda lb: (lb.task_id, lb.project_id, lb.parent_id, lb.name)}
        )

    def add_many(self, labels: Sequence[Label]) -> list[Label]:
        return self._s.add_many(labels)

    def get(self, label_id: int) -> Label:
        return self._s.get(label_id)

    def save(self, label: Label) -> Label:
        return self._s.save(label)

    def delete(self, label_id: int) -> None:
        self._s.delete(label_id)

    def list_by_task(self, task_id: int) -> list[Label]:
        return self._s.find(lambda lb: lb.task_id == task_id)

    def list_by_project(self, project_id: int) -> list[Label]:
        return self._s.find(lambda lb: lb.project_id == project_id)

    def list_by_tasks(self, task_ids: Iterable[int]) -> list[Label]:
        wanted = set(task_ids)
        return self._s.find(lambda lb: lb.task_id in wanted)

    def list_by_projects(self, project_ids: Iterable[int]) -> list[Label]:
        wanted = set(project_ids)
        return self._s.find(lambda lb: lb.project_id in wanted)

    def list_all(self) -> list[Label]:
        return self._s.find(lambda _: True)


class InMemoryIssueRepository:
    def __init__(self) -> None:
        self._s: _Store[int, Issue] = _Store("issue", lambda i: i.id)

    def add(self, issue: Issue) -> Issue:
        return self._s.add(issue)

    def get(self, issue_id: int) -> Issue:
        return self._s.get(issue_id)

    def save(self, issue: Issue) -> Issue:
        return self._s.save(issue)

    def delete(self, issue_id: int) -> None:
        self._s.delete(issue_id)

    def list_all(self) -> list[Issue]:
        return self._s.find(lambda _: True)

    def list_by_job(self, job_id: int) -> list[Issue]:
        return self._s.find(lambda i: i.job_id == job_id)

    def list_by_jobs(self, job_ids: Iterable[int]) -> list[Issue]:
        wanted = set(job_ids)
        return self._s.find(lambda i: i.job_id in wanted)

    def list_by_tasks(self, task_ids: Iterable[int]) -> list[Issue]:
        wanted = set(task_ids)
        return self._s.find(lambda i: i.task_id in wanted)

    def list_by_user(self, user_id: int) -> list[Issue]:
        return self._s.find(lambda i: user_id in (i.owner_id, i.assignee_id))

    def count_by_jobs(self, job_ids: Iterable[int]) -> dict[int, int]:
        ids = list(dict.fromkeys(job_ids))
        counts = dict.fromkeys(ids, 0)
        for issue in self.list_by_jobs(ids):
            counts[issue.job_id] += 1
        return counts

    def delete_by_task(self, task_id: int) -> None:
        self._s.delete_where(lambda i: i.task_id == task_id)


class InMemoryCommentRepository:
    def __init__(self) -> None:
        self._s: _Store[int, Comment] = _Store("comment", lambda c: c.id)

    def add(self, comment: Comment) -> Comment:
        return self._s.add(comment)

    def get(self, comment_id: int) -> Comment:
        return self._s.get(comment_id)

    def save(self, comment: Comment) -> Comment:
        return self._s.save(comment)

    def delete(self, comment_id: int) -> None:
        self._s.delete(comment_id)

    def list_all(self) -> list[Comment]:
        return self._s.find(lambda _: True)

    def list_by_issue(self, issue_id: int) -> list[Comment]:
        return self._s.find(lambda c: c.issue_id == issue_id)

    def list_by_issues(self, issue_ids: Iterable[int]) -> list[Comment]:
        wanted = set(issue_ids)
        return self._s.find(lambda c: c.issue_id in wanted)

    def list_by_tasks(self, task_ids: Iterable[int]) -> list[Comment]:
        wanted = set(task_ids)
        return self._s.find(lambda c: c.task_id in wanted)

    def list_by_owner(self, user_id: int) -> list[Comment]:
        return self._s.find(lambda c: c.owner_id == user_id)

    def count_by_issues(self, issue_ids: Iterable[int]) -> dict[int, int]:
        ids = list(dict.fromkeys(issue_ids))
        counts = dict.fromkeys(ids, 0)
        for comment in self.list_by_issues(ids):
            counts[comment.issue_id] += 1
        return counts

    def delete_by_issue(self, issue_id: int) -> None:
        self._s.delete_where(lambda c: c.issue_id == issue_id)

    def delete_by_task(self, task_id: int) -> None:
        self._s.delete_where(lambda c: c.task_id == task_id)


def _creation_order(r: BackgroundRequest) -> tuple[datetime, str]:
    created = r.created_date or _EPOCH
    return (created if created.tzinfo else created.replace(tzinfo=UTC)), r.id


class InMemoryRequestRepository:
    """Lists in creation order (then id), as the DynamoDB partitions are sorted."""

    def __init__(self) -> None:
        self._s: _Store[str, BackgroundRequest] = _Store("request", lambda r: r.id)

    def add(self, request: BackgroundRequest) -> BackgroundRequest:
        return self._s.add(request)

    def get(self, request_id: str) -> BackgroundRequest:
        return self._s.get(request_id)

    def save(self, request: BackgroundRequest) -> BackgroundRequest:
        return self._s.save(request)

    def delete(self, request_id: str) -> None:
        self._s.delete(request_id)

    def list_by_owner(self, user_id: int) -> list[BackgroundRequest]:
        return sorted(self._s.find(lambda r: r.owner_id == user_id), key=_creation_order)

    def list_by_task(self, task_id: int) -> list[BackgroundRequest]:
        return sorted(self._s.find(lambda r: r.task_id == task_id), key=_creation_order)

    def list_all(self) -> list[BackgroundRequest]:
        return sorted(self._s.find(lambda _: True), key=_creation_order)


class InMemoryTaskDataRepository:
    def __init__(self) -> None:
        self._s: _Store[int, TaskData] = _Store("task data", lambda d: d.id, {"task": lambda d: d.task_id})

    def add(self, data: TaskData) -> TaskData:
        return self._s.add(data)

    def get(self, data_id: int) -> TaskData:
        return self._s.get(data_id)

    def find_by_task(self, task_id: int) -> TaskData | None:
        return self._s.first(lambda d: d.task_id == task_id)

    def save(self, data: TaskData) -> TaskData:
        return self._s.save(data)

    def delete(self, data_id: int) -> None:
        self._s.delete(data_id)


class InMemoryTusUploadRepository:
    def __init__(self) -> None:
        self._s: _Store[str, TusUpload] = _Store("upload", lambda u: u.id)

    def add(self, upload: TusUpload) -> TusUpload:
        return self._s.add(upload)

    def get(self, upload_id: str) -> TusUpload:
        return self._s.get(upload_id)

    def save(self, upload: TusUpload) -> TusUpload:
        return self._s.save(upload)

    def delete(self, upload_id: str) -> None:
        self._s.delete(upload_id)

    def list_by_task(self, task_id: int) -> list[TusUpload]:
        return sorted(self._s.find(lambda u: u.task_id == task_id), key=lambda u: u.id)


class InMemoryAccessTokenRepository:
    def __init__(self) -> None:
        self._s: _Store[int, AccessToken] = _Store(
            "access token", lambda t: t.id, {"digest": lambda t: t.digest}
        )

    def add(self, token: AccessToken) -> AccessToken:
        return self._s.add(token)

    def get(self, token_id: int) -> AccessToken:
        return self._s.get(token_id)

    def find_by_digest(self, digest: str) -> AccessToken | None:
        return self._s.first(lambda t: t.digest == digest)

    def save(self, token: AccessToken) -> AccessToken:
        return self._s.save(token)

    def delete(self, token_id: int) -> None:
        self._s.delete(token_id)

    def list_by_owner(self, owner_id: int) -> list[AccessToken]:
        return self._s.find(lambda t: t.owner_id == owner_id)


class InMemorySessionRepository:
    def __init__(self) -> None:
        self._items: dict[str, Session] = {}
        self._lock = threading.Lock()

    def add(self, session: Session) -> Session:
        with self._lock:
            if session.digest in self._items:
                raise ConflictError("Session exists.")
            self._items[session.digest] = copy.deepcopy(session)
            return copy.deepcopy(session)

    def find_by_digest(self, digest: str) -> Session | None:
        with self._lock:
            found = self._items.get(digest)
            return copy.deepcopy(found) if found else None

    def delete(self, digest: str) -> None:
        with self._lock:
            self._items.pop(digest, None)

    def delete_by_user(self, user_id: int) -> None:
        with self._lock:
            for k in [k for k, s in self._items.items() if s.user_id == user_id]:
                del self._items[k]


class InMemoryLoginAttemptRepository:
    def __init__(self) -> None:
        self._items: dict[str, list[datetime]] = defaultdict(list)
        self._lock = threading.Lock()

    def add_failure(self, key: str, at: datetime) -> None:
        with self._lock:
            self._items[key].append(at)

    def failures_since(self, key: str, since: datetime) -> list[datetime]:
        with self._lock:
            return [t for t in self._items.get(key, []) if t >= since]

    def clear(self, key: str) -> None:
        with self._lock:
            self._items.pop(key, None)


def seed(store: Any, entities: Iterable[Any]) -> None:
    """Add several entities to a fake (test helper)."""
    for e in entities:
        store.add(e)


MIN_PART_SIZE = 5 * 1024 * 1024
"""S3's smallest multipart part (all but the last); the fake enforces it as S3 (and moto) do."""


@dataclass(frozen=True, slots=True)
class _Presigned:
    method: str  # "GET" | "PUT"
    key: str
    expires: int
    headers: Mapping[str, str]  # GET: the response headers it overrides; PUT: the Content-Type it signs
    upload_id: str = ""
    part_number: int = 0


@dataclass(slots=True)
class _Multipart:
    key: str
    content_type: str
    parts: dict[int, bytes] = field(default_factory=dict)


def _etag(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()  # noqa: S324 - S3's ETag is an MD5


class InMemoryBlobStore:
    """Objects in a dict, with S3's folder semantics for list_dir, real copies and multipart
    uploads. Presigned URLs are ``memory://<bucket>/<key>?...`` strings that only this store
    understands: a test plays the client with ``http_get`` and ``http_put``."""

    def __init__(self, bucket: str = "memory-bucket", *, min_part_size: int = MIN_PART_SIZE) -> None:
        self.bucket = bucket
        self.min_part_size = min_part_size
        self.objects: dict[str, tuple[bytes, str]] = {}
        self.presigned: dict[str, _Presigned] = {}  # by the URL's token: every URL handed out
        self.multipart: dict[str, _Multipart] = {}  # by upload id: the uploads not completed or aborted
        self._lock = threading.RLock()

    def put(self, key: str, body: Any, *, content_type: str = "") -> None:
        data = body if isinstance(body, bytes) else body.read()
        with self._lock:
            self.objects[key] = (bytes(data), content_type)

    def create(self, key: str, body: bytes, *, content_type: str = "") -> None:
        with self._lock:
            if key in self.objects:
                raise ConflictError(f"{key}: the object already exists.")
            self.objects[key] = (bytes(body), content_type)

    def get(self, key: str) -> bytes:
        with self._lock:
            if key not in self.objects:
                raise NotFoundError(f"{key}: not found.")
            return self.objects[key][0]

    def head(self, key: str) -> Mapping[str, Any]:
        with self._lock:
            data = self.get(key)
            return {"size": len(data), "content_type": self.objects[key][1], "etag": _etag(data)}

    def get_range(self, key: str, start: int, end: int) -> bytes:
        return self.get(key)[start:end + 1]

    def list_dir(self, prefix: str) -> tuple[list[str], list[str]]:
        folders: set[str] = set()
        files: list[str] = []
        for key, _ in self.list_keys(prefix):
            if key == prefix:
                continue
            rest = key[len(prefix):]
            if "/" in rest:
                folders.add(rest.split("/", 1)[0])
            else:
                files.append(rest)
        return sorted(folders), files

    def list_keys(self, prefix: str) -> Iterator[tuple[str, int]]:
        with self._lock:  # S3 lists in UTF-8 byte order, which is code point order
            found = [(k, len(v[0])) for k, v in sorted(self.objects.items()) if k.startswith(prefix)]
        yield from found

    def delete(self, key: str) -> None:
        with self._lock:
            self.objects.pop(key, None)

    def delete_many(self, keys: Sequence[str]) -> None:
        with self._lock:
            for key in keys:
                self.objects.pop(key, None)

    def delete_prefix(self, prefix: str) -> int:
        with self._lock:
            keys = [k for k in self.objects if k.startswith(prefix)]
            for key in keys:
                del self.objects[key]
            return len(keys)

    def download(self, key: str, path: str) -> None:
        data = self.get(key)
        with open(path, "wb") as f:
            f.write(data)

    def upload(self, path: str, key: str, *, content_type: str = "") -> None:
        with open(path, "rb") as f:
            self.put(key, f.read(), content_type=content_type)

    def copy(self, source_key: str, key: str) -> None:
        with self._lock:
            if source_key not in self.objects:
                raise NotFoundError(f"{source_key}: not found.")
            self.objects[key] = self.objects[source_key]

    # ------------------------------------------------------------------ presigned URLs
    def _presign(self, grant: _Presigned) -> str:
        token = uuid.uuid4().hex
        with self._lock:
            self.presigned[token] = grant
        query = {"X-Memory-Token": token, "X-Memory-Expires": str(grant.expires), **grant.headers}
        if grant.upload_id:
            query |= {"uploadId": grant.upload_id, "partNumber": str(grant.part_number)}
        return f"memory://{self.bucket}/{quote(grant.key)}?{urlencode(query)}"

    def presigned_get(self, key: str, *, expires: int = 3600, filename: str | None = None,
                      content_type: str | None = None) -> str:
        headers = {}
        if filename is not None:
            headers["response-content-disposition"] = attachment_disposition(filename)
        if content_type:
            headers["response-content-type"] = content_type
        return self._presign(_Presigned("GET", key, expires, headers))

    def presigned_put(self, key: str, *, content_type: str, expires: int = 3600) -> str:
        return self._presign(_Presigned("PUT", key, expires, {"content-type": content_type}))

    def start_multipart(self, key: str, *, content_type: str = "") -> str:
        upload_id = uuid.uuid4().hex
        with self._lock:
            self.multipart[upload_id] = _Multipart(key, content_type)
        return upload_id

    def presigned_part(self, key: str, upload_id: str, part_number: int, *, expires: int = 3600) -> str:
        if not 1 <= part_number <= 10_000:
            raise ValidationError(f"Part numbers are 1 to 10000, not {part_number}.")
        return self._presign(_Presigned("PUT", key, expires, {}, upload_id, part_number))

    def upload_part(self, key: str, upload_id: str, part_number: int, body: bytes) -> str:
        with self._lock:
            upload = self.multipart.get(upload_id)
            if upload is None or upload.key != key:
                raise NotFoundError(f"Upload {upload_id} of {key}: not found.")
            upload.parts[part_number] = bytes(body)
            return _etag(body)

    def copy_part(self, key: str, upload_id: str, part_number: int, source_key: str, *, start: int, end: int) -> str:
        return self.upload_part(key, upload_id, part_number, self.get_range(source_key, start, end))

    def complete_multipart(self, key: str, upload_id: str, parts: Sequence[tuple[int, str]]) -> None:
        with self._lock:
            upload = self.multipart.get(upload_id)
            if upload is None or upload.key != key:
                raise NotFoundError(f"Upload {upload_id} of {key}: not found.")
            numbers = [n for n, _ in parts]
            if not numbers or numbers != sorted(set(numbers)):
                raise ValidationError("The parts must be listed once each, in ascending order.")
            chunks = []
            for i, (number, etag) in enumerate(parts):
                data = upload.parts.get(number)
                if data is None or _etag(data) != etag.strip('"'):
                    raise ValidationError(f"Part {number} was not uploaded, or its ETag differs.")
                if i < len(parts) - 1 and len(data) < self.min_part_size:
                    raise ValidationError(f"Part {number} is smaller than {self.min_part_size} bytes.")
                chunks.append(data)
            self.objects[key] = (b"".join(chunks), upload.content_type)
            del self.multipart[upload_id]

    def abort_multipart(self, key: str, upload_id: str) -> None:
        with self._lock:
            upload = self.multipart.get(upload_id)
            if upload is not None and upload.key == key:
                del self.multipart[upload_id]

    # ------------------------------------------------------------------ a client of the URLs (tests)
    def _grant(self, url: str, method: str) -> _Presigned:
        parsed = urlsplit(url)
        query = dict(parse_qsl(parsed.query))
        grant = self.presigned.get(query.get("X-Memory-Token", ""))
        if (parsed.scheme != "memory" or parsed.netloc != self.bucket or grant is None or grant.method != method
                or unquote(parsed.path[1:]) != grant.key):
            raise PermissionDeniedError(f"{method} {url}: not a URL this store signed.")
        return grant

    def http_get(self, url: str) -> tuple[bytes, dict[str, str]]:
        """GET a presigned URL: the body and the response headers S3 would send."""
        grant = self._grant(url, "GET")
        with self._lock:
            if grant.key not in self.objects:
                raise NotFoundError(f"{grant.key}: not found.")
            data, content_type = self.objects[grant.key]
        headers = {"Content-Type": content_type or "binary/octet-stream", "Content-Length": str(len(data)),
                   "ETag": f'"{_etag(data)}"'}
        if "response-content-type" in grant.headers:
            headers["Content-Type"] = grant.headers["response-content-type"]
        if "response-content-disposition" in grant.headers:
            headers["Content-Disposition"] = grant.headers["response-content-disposition"]
        return data, headers

    def http_put(self, url: str, body: bytes, *, content_type: str = "") -> str:
        """PUT a presigned URL (an object or a multipart part); the ETag header S3 answers."""
        grant = self._grant(url, "PUT")
        if grant.headers.get("content-type", content_type) != content_type:
            raise PermissionDeniedError("The Content-Type differs from the one the URL was signed for.")
        with self._lock:
            if grant.upload_id:
                upload = self.multipart.get(grant.upload_id)
                if upload is None:
                    raise NotFoundError(f"Upload {grant.upload_id}: not found.")
                upload.parts[grant.part_number] = bytes(body)
            else:
                self.objects[grant.key] = (bytes(body), content_type)
        return f'"{_etag(body)}"'


@dataclass(slots=True)
class WorkflowRunState:
    """What InMemoryWorkflowStarter.describe answers (ports.WorkflowRun)."""

    status: str = "RUNNING"
    error: str = ""
    cause: str = ""


class InMemoryWorkflowStarter:
    """Records every start; a start of a name already started returns the first execution's id
    and records nothing. ``describe`` answers from ``runs``, which a test may set or clear (a
    cleared run is an execution the engine lost)."""

    def __init__(self) -> None:
        self.started: list[tuple[str, str, dict[str, Any]]] = []
        self.runs: dict[tuple[str, str], WorkflowRunState] = {}
        self._names: set[tuple[str, str]] = set()
        self._lock = threading.Lock()

    @staticmethod
    def execution_id(workflow: str, name: str) -> str:
        return f"memory:execution:{workflow}:{name}"

    def start(self, workflow: str, name: str, payload: Mapping[str, Any]) -> str:
        with self._lock:
            if (workflow, name) not in self._names:
                self._names.add((workflow, name))
                self.started.append((workflow, name, copy.deepcopy(dict(payload))))
                self.runs.setdefault((workflow, name), WorkflowRunState())
        return self.execution_id(workflow, name)

    def describe(self, workflow: str, name: str) -> WorkflowRunState | None:
        with self._lock:
            run = self.runs.get((workflow, name))
            return copy.copy(run) if run is not None else None

    def stop(self, workflow: str, name: str, *, cause: str = "") -> None:
        with self._lock:
            run = self.runs.get((workflow, name))
            if run is not None and run.status == "RUNNING":
                self.runs[(workflow, name)] = WorkflowRunState("ABORTED", "", cause)

    def end(self, workflow: str, name: str, status: str = "SUCCEEDED", *, error: str = "", cause: str = "") -> None:
        """Make a started execution end (a test's stand-in for the engine)."""
        with self._lock:
            self.runs[(workflow, name)] = WorkflowRunState(status, error, cause)

    def payloads(self, workflow: str) -> list[dict[str, Any]]:
        return [p for w, _, p in self.started if w == workflow]


def memory_repositories() -> Repositories:
    """Every core repository as an empty fake (the in-memory twin of adapters.aws.repositories)."""
    return Repositories(
        users=InMemoryUserRepository(),
        organizations=InMemoryOrganizationRepository(),
        memberships=InMemoryMembershipRepository(),
        invitations=InMemoryInvitationRepository(),
        projects=InMemoryProjectRepository(),
        tasks=InMemoryTaskRepository(),
        segments=InMemorySegmentRepository(),
        jobs=InMemoryJobRepository(),
        labels=InMemoryLabelRepository(),
        requests=InMemoryRequestRepository(),
        task_data=InMemoryTaskDataRepository(),
        tus_uploads=InMemoryTusUploadRepository(),
        issues=InMemoryIssueRepository(),
        comments=InMemoryCommentRepository(),
    )


def memory_auth_repositories() -> AuthRepositories:
    return AuthRepositories(
        access_tokens=InMemoryAccessTokenRepository(),
        sessions=InMemorySessionRepository(),
        login_attempts=InMemoryLoginAttemptRepository(),
    )


class InMemoryDropMarkerRepository:
    """Drop-folder markers (not part of the Repositories bundle: only the ingest uses them)."""

    def __init__(self) -> None:
        self._s: _Store[str, DropMarker] = _Store("drop marker", lambda m: m.id)

    def add(self, marker: DropMarker) -> DropMarker:
        return self._s.add(marker)

    def get(self, marker_id: str) -> DropMarker:
        return self._s.get(marker_id)

    def save(self, marker: DropMarker) -> DropMarker:
        return self._s.save(marker)


class InMemoryAnnotationStore:
    """Each job's saves as (head, snapshot) pairs; the snapshot is kept as CVAT's JSON, so a
    caller's later change to its objects cannot reach the stored ones (as with S3)."""

    def __init__(self) -> None:
        self._saves: dict[int, list[tuple[AnnotationHead, dict[str, Any]]]] = defaultdict(list)
        self._lock = threading.Lock()
        self._next_id = 1

    def read(self, job_id: int) -> tuple[LabeledData, AnnotationHead]:
        with self._lock:
            saves = self._saves.get(job_id)
            if not saves:
                return LabeledData(), AnnotationHead(job_id)
            head, snapshot = saves[-1]
        return LabeledData.from_dict(snapshot), head

    def write(self, job_id: int, data: LabeledData, *, expected_version: int, actor_id: int | None,
              when: datetime) -> AnnotationHead:
        snapshot = data.to_dict()
        with self._lock:
            saves = self._saves[job_id]
            current = saves[-1][0].version if saves else 0
            if current != expected_version:
                raise ConflictError("The annotations were saved by someone else meanwhile.")
            head = AnnotationHead(job_id, version=current + 1, shapes=len(data.shapes), tracks=len(data.tracks),
                                  tags=len(data.tags), snapshot_id=uuid.uuid4().hex, updated_by=actor_id,
                                  updated_date=when)
            snapshot["version"] = head.version
            saves.append((head, snapshot))
            return head

    def history(self, job_id: int) -> list[AnnotationHead]:
        with self._lock:
            return [head for head, _ in reversed(self._saves.get(job_id, []))]

    def read_version(self, job_id: int, version: int) -> tuple[LabeledData, AnnotationHead]:
        with self._lock:
            for head, snapshot in self._saves.get(job_id, []):
                if head.version == version:
                    return LabeledData.from_dict(snapshot), head
        raise NotFoundError(f"Annotations version {version} of job {job_id} not found.")

    def allocate_ids(self, count: int) -> int:
        with self._lock:
            first = self._next_id
            self._next_id += max(count, 0)
            return first

    def delete(self, job_id: int) -> None:
        with self._lock:
            self._saves.pop(job_id, None)

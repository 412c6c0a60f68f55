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
from collections import defaultdict
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Generic, TypeVar

from ..domain.auth import AccessToken, Session
from ..domain.errors import ConflictError, NotFoundError
from ..domain.jobs import Job, Segment
from ..domain.labels import Label
from ..domain.organizations import Invitation, Membership, Organization
from ..domain.projects import Project
from ..domain.tasks import Task
from ..domain.users import User
from ..ports import ALL_ORGANIZATIONS, AuthRepositories, Repositories, Scope, Window

E = TypeVar("E")
K = TypeVar("K", bound=Hashable)


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


class InMemoryBlobStore:
    """Objects in a dict, with S3's folder semantics for list_dir."""

    def __init__(self) -> None:
        self.objects: dict[str, tuple[bytes, str]] = {}

    def put(self, key: str, body: Any, *, content_type: str = "") -> None:
        data = body if isinstance(body, bytes) else body.read()
        self.objects[key] = (bytes(data), content_type)

    def get(self, key: str) -> bytes:
        if key not in self.objects:
            raise NotFoundError(f"{key}: not found.")
        return self.objects[key][0]

    def head(self, key: str) -> Mapping[str, Any]:
        data = self.get(key)
        return {"size": len(data), "content_type": self.objects[key][1],
                "etag": hashlib.md5(data).hexdigest()}  # noqa: S324 - S3's ETag is an MD5

    def get_range(self, key: str, start: int, end: int) -> bytes:
        return self.get(key)[start:end + 1]

    def list_dir(self, prefix: str) -> tuple[list[str], list[str]]:
        folders: set[str] = set()
        files: list[str] = []
        for key in sorted(self.objects):
            if not key.startswith(prefix) or key == prefix:
                continue
            rest = key[len(prefix):]
            if "/" in rest:
                folders.add(rest.split("/", 1)[0])
            else:
                files.append(rest)
        return sorted(folders), files


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
    )


def memory_auth_repositories() -> AuthRepositories:
    return AuthRepositories(
        access_tokens=InMemoryAccessTokenRepository(),
        sessions=InMemorySessionRepository(),
        login_attempts=InMemoryLoginAttemptRepository(),
    )

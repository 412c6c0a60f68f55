"""Interfaces the services depend on. Adapters implement them (adapters/aws for AWS, in-memory
fakes for unit tests); one contract suite runs against both so the fakes cannot drift."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, BinaryIO, Protocol

from .domain.users import User


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

    def find_by_username(self, username: str) -> User | None: ...

    def find_by_email(self, email: str) -> User | None: ...

    def save(self, user: User) -> User:
        """Update a user; ConflictError when ``user.version`` is stale."""
        ...

    def list_all(self) -> list[User]: ...


class BlobStore(Protocol):
    def put(self, key: str, body: bytes | BinaryIO, *, content_type: str = "") -> None: ...

    def get(self, key: str) -> bytes:
        """NotFoundError when the object does not exist."""
        ...

    def head(self, key: str) -> Mapping[str, Any]:
        """size, content_type, etag; NotFoundError when the object does not exist."""
        ...


class WorkflowStarter(Protocol):
    def start(self, workflow: str, name: str, payload: Mapping[str, Any]) -> str:
        """Start a workflow execution with an idempotent ``name``; returns its id. Starting the same
        name twice is not an error: the id of the existing execution is returned."""
        ...


class EventPublisher(Protocol):
    def publish(self, detail_type: str, detail: Mapping[str, Any]) -> None:
        """Publish one domain event (e.g. ``create:task``) to the event bus."""
        ...

"""Background requests, task data and TUS uploads on the single table.

Items (pk / sk), <order> being ``<created date, UTC microseconds, 20 digits>#<request id>``:
- request        ``REQUEST#<id>`` / ``REQUEST``                  -> get
  all copy       ``ALL#REQUESTS`` / <order>                      -> list_all (admins)
  owner copy     ``USER#<owner>#REQUESTS`` / <order>             -> list_by_owner
  task copy      ``TASK#<task>#REQUESTS`` / <order>              -> list_by_task (requests about a task)
- task data      ``DATA#<id>`` / ``DATA``                        -> get
  task guard     ``TASK#<task>#DATA`` / ``DATA``                 -> find_by_task; one data per task
- TUS upload     ``TUS#<id>`` / ``TUS``                          -> get, save (versioned: of two PATCHes
                                                                    at the same offset one conflicts)
  task copy      ``TASK#<task>#TUS`` / <id>                      -> list_by_task
Request ids are strings (CVAT's rq_id, ``create:task-7-ab12cd34``), so the lists are ordered by
the creation date, then the id, the order the in-memory fake gives. Every item of a request that
has ended carries ``expires_at`` (the table's TTL attribute) at its expiry date plus
REQUEST_RETENTION, so DynamoDB removes ended requests on its own; TTL deletion is lazy (up to days
late, each item on its own), so readers compare ``expiry_date`` with the clock themselves.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from ...domain.requests import BackgroundRequest
from ...domain.task_data import TaskData, TusUpload
from .dynamo_store import VersionedStore, View, user_views

REQUEST_RETENTION = timedelta(days=7)
"""How long an ended request's items stay after its result expired (then TTL removes them)."""

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def request_order(r: BackgroundRequest) -> str:
    """A sort key that orders requests by creation date, then id (no date: first)."""
    created = r.created_date or _EPOCH
    if created.tzinfo is None:  # domain dates are UTC; a naive one is read as such
        created = created.replace(tzinfo=UTC)
    micros = max(0, (created - _EPOCH) // timedelta(microseconds=1))
    return f"{micros:020d}#{r.id}"


def request_expiry(r: BackgroundRequest) -> datetime | None:
    if r.expiry_date is None:
        return None
    expiry = r.expiry_date if r.expiry_date.tzinfo else r.expiry_date.replace(tzinfo=UTC)
    return expiry + REQUEST_RETENTION


def request_views(r: BackgroundRequest) -> list[View]:
    order, expires = request_order(r), request_expiry(r)
    views = [
        View(f"REQUEST#{r.id}", "REQUEST"),
        View("ALL#REQUESTS", order),
        *user_views("REQUESTS", order, r.owner_id),
    ]
    if r.task_id is not None:
        views.append(View(f"TASK#{r.task_id}#REQUESTS", order))
    return [replace(v, expires_at=expires) for v in views]


def task_data_views(d: TaskData) -> list[View]:
    return [View(f"DATA#{d.id}", "DATA"), View(f"TASK#{d.task_id}#DATA", "DATA", unique="task")]


def tus_views(u: TusUpload) -> list[View]:
    return [View(f"TUS#{u.id}", "TUS"), View(f"TASK#{u.task_id}#TUS", u.id)]


class DynamoRequestRepository:
    def __init__(self, table_name: str) -> None:
        self._s = VersionedStore(table_name, BackgroundRequest, "request", request_views)

    def add(self, request: BackgroundRequest) -> BackgroundRequest:
        return self._s.add(request)

    def get(self, request_id: str) -> BackgroundRequest:
        return self._s.get(f"REQUEST#{request_id}", "REQUEST")

    def save(self, request: BackgroundRequest) -> BackgroundRequest:
        return self._s.save(request)

    def delete(self, request_id: str) -> None:
        self._s.delete(f"REQUEST#{request_id}", "REQUEST")

    def list_by_owner(self, user_id: int) -> list[BackgroundRequest]:
        return self._s.query(f"USER#{user_id}#REQUESTS")

    def list_by_task(self, task_id: int) -> list[BackgroundRequest]:
        return self._s.query(f"TASK#{task_id}#REQUESTS")

    def list_all(self) -> list[BackgroundRequest]:
        return self._s.query("ALL#REQUESTS")


class DynamoTaskDataRepository:
    def __init__(self, table_name: str) -> None:
        self._s = VersionedStore(table_name, TaskData, "task data", task_data_views)

    def add(self, data: TaskData) -> TaskData:
        return self._s.add(data)

    def get(self, data_id: int) -> TaskData:
        return self._s.get(f"DATA#{data_id}", "DATA")

    def find_by_task(self, task_id: int) -> TaskData | None:
        return self._s.find(f"TASK#{task_id}#DATA", "DATA")

    def save(self, data: TaskData) -> TaskData:
        return self._s.save(data)

    def delete(self, data_id: int) -> None:
        self._s.delete(f"DATA#{data_id}", "DATA")


class DynamoTusUploadRepository:
    def __init__(self, table_name: str) -> None:
        self._s = VersionedStore(table_name, TusUpload, "upload", tus_views)

    def add(self, upload: TusUpload) -> TusUpload:
        return self._s.add(upload)

    def get(self, upload_id: str) -> TusUpload:
        return self._s.get(f"TUS#{upload_id}", "TUS")

    def save(self, upload: TusUpload) -> TusUpload:
        return self._s.save(upload)

    def delete(self, upload_id: str) -> None:
        self._s.delete(f"TUS#{upload_id}", "TUS")

    def list_by_task(self, task_id: int) -> list[TusUpload]:
        return self._s.query(f"TASK#{task_id}#TUS")

"""Segments and jobs on the single table.

Items (pk / sk), ``-`` standing for "no organization":
- segment        ``SEGMENT#<id>`` / ``SEGMENT``
  task copy      ``TASK#<task>#SEGMENTS`` / <id>                 -> list_by_task, delete_by_task
- job            ``JOB#<id>`` / ``JOB``                          -> get
  all copy       ``ALL#JOBS`` / <id>                             -> list_all, window (admins)
  task copy      ``TASK#<task>#JOBS`` / <id>                     -> list_by_task(s), delete_by_task
  org copy       ``ORG#<org|->#JOBS`` / <id>                     -> list_by_organization, window
  assignee copy  ``USER#<assignee>#JOBS`` / <id>                 -> list_by_assignee
A task's segments and jobs are written with ``add_many`` (all or nothing, see dynamo_store; a job
is 5 items, so 20 jobs a transaction) and every list is a strongly consistent Query of one
base-table partition, sorted by id: the task status is recomputed from its jobs right after a
save. ``list_by_tasks`` queries the tasks' partitions concurrently (see dynamo_store).
``delete_by_task`` deletes in batches of 25 without a transaction: it is idempotent, and a job
saved concurrently fails its version condition once its main item is gone instead of coming back.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from ...domain.jobs import Job, Segment
from ...ports import Scope, Window
from .dynamo_store import VersionedStore, View, id_key, opt_key, scope_partition, user_views


def segment_views(s: Segment) -> list[View]:
    return [View(f"SEGMENT#{s.id}", "SEGMENT"), View(f"TASK#{s.task_id}#SEGMENTS", id_key(s.id))]


def job_views(j: Job) -> list[View]:
    return [
        View(f"JOB#{j.id}", "JOB"),
        View("ALL#JOBS", id_key(j.id)),
        View(f"TASK#{j.task_id}#JOBS", id_key(j.id)),
        View(f"ORG#{opt_key(j.organization_id)}#JOBS", id_key(j.id)),
        *user_views("JOBS", id_key(j.id), j.assignee_id),
    ]


class DynamoSegmentRepository:
    def __init__(self, table_name: str) -> None:
        self._s = VersionedStore(table_name, Segment, "segment", segment_views)

    def add_many(self, segments: Sequence[Segment]) -> list[Segment]:
        return self._s.add_many(segments)

    def get(self, segment_id: int) -> Segment:
        return self._s.get(f"SEGMENT#{segment_id}", "SEGMENT")

    def list_by_task(self, task_id: int) -> list[Segment]:
        return self._s.query(f"TASK#{task_id}#SEGMENTS")

    def delete_by_task(self, task_id: int) -> None:
        self._s.delete_entities(self.list_by_task(task_id))


class DynamoJobRepository:
    def __init__(self, table_name: str) -> None:
        self._s = VersionedStore(table_name, Job, "job", job_views)

    def add_many(self, jobs: Sequence[Job]) -> list[Job]:
        return self._s.add_many(jobs)

    def get(self, job_id: int) -> Job:
        return self._s.get(f"JOB#{job_id}", "JOB")

    def save(self, job: Job) -> Job:
        return self._s.save(job)

    def delete(self, job_id: int) -> None:
        self._s.delete(f"JOB#{job_id}", "JOB")

    def list_all(self) -> list[Job]:
        return self._s.query("ALL#JOBS")

    def list_by_task(self, task_id: int) -> list[Job]:
        return self._s.query(f"TASK#{task_id}#JOBS")

    def list_by_tasks(self, task_ids: Iterable[int]) -> list[Job]:
        return sorted(self._s.query_many(f"TASK#{t}#JOBS" for t in task_ids), key=lambda j: j.id)

    def list_by_organization(self, organization_id: int | None) -> list[Job]:
        return self._s.query(f"ORG#{opt_key(organization_id)}#JOBS")

    def window(self, scope: Scope, offset: int, limit: int, *, newest_first: bool) -> Window[Job]:
        return Window(*self._s.query_window(scope_partition(scope, "JOBS"), offset, limit,
                                            newest_first=newest_first))

    def list_by_assignee(self, user_id: int) -> list[Job]:
        return self._s.query(f"USER#{user_id}#JOBS")

    def delete_by_task(self, task_id: int) -> None:
        self._s.delete_entities(self.list_by_task(task_id))

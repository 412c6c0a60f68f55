"""Segments and jobs on the single table.

Items (pk / sk; gsi1pk / gsi1sk):
- segment     ``SEGMENT#<id>`` / ``SEGMENT``
  task copy   ``TASK#<task>#SEGMENTS`` / <id>                          -> list_by_task, delete_by_task
- job         ``JOB#<id>`` / ``JOB``; ``JOBS`` / <id>                   -> get, list_all (index)
  task copy   ``TASK#<task>#JOBS`` / <id>; ``ORG#<org|->#JOBS`` / <id>  -> list_by_task (table),
                                                                          list_by_organization (index)
A task's segments and jobs are written with ``add_many`` (all or nothing, see dynamo_store) and
read back strongly consistent: the task status is recomputed from its jobs right after a save.
``delete_by_task`` deletes in batches of 25 without a transaction: it is idempotent, and a job
saved concurrently fails its version condition once its main item is gone instead of coming back.
"""

from __future__ import annotations

from collections.abc import Sequence

from ...domain.jobs import Job, Segment
from .dynamo_store import VersionedStore, View, id_key, opt_key


def _segment_views(s: Segment) -> list[View]:
    return [View(f"SEGMENT#{s.id}", "SEGMENT"), View(f"TASK#{s.task_id}#SEGMENTS", id_key(s.id))]


def _job_views(j: Job) -> list[View]:
    return [
        View(f"JOB#{j.id}", "JOB", "JOBS", id_key(j.id)),
        View(f"TASK#{j.task_id}#JOBS", id_key(j.id), f"ORG#{opt_key(j.organization_id)}#JOBS", id_key(j.id)),
    ]


class DynamoSegmentRepository:
    def __init__(self, table_name: str) -> None:
        self._s = VersionedStore(table_name, Segment, "segment", _segment_views)

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
        self._s = VersionedStore(table_name, Job, "job", _job_views)

    def add_many(self, jobs: Sequence[Job]) -> list[Job]:
        return self._s.add_many(jobs)

    def get(self, job_id: int) -> Job:
        return self._s.get(f"JOB#{job_id}", "JOB")

    def save(self, job: Job) -> Job:
        return self._s.save(job)

    def delete(self, job_id: int) -> None:
        self._s.delete(f"JOB#{job_id}", "JOB")

    def list_all(self) -> list[Job]:
        return sorted(self._s.query_gsi1("JOBS"), key=lambda j: j.id)

    def list_by_task(self, task_id: int) -> list[Job]:
        return self._s.query(f"TASK#{task_id}#JOBS")

    def list_by_organization(self, organization_id: int | None) -> list[Job]:
        return sorted(self._s.query_gsi1(f"ORG#{opt_key(organization_id)}#JOBS"), key=lambda j: j.id)

    def delete_by_task(self, task_id: int) -> None:
        self._s.delete_entities(self.list_by_task(task_id))

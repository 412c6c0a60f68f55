"""Review issues and their comments on the single table.

Items (pk / sk):
- issue          ``ISSUE#<id>`` / ``ISSUE``                      -> get
  all copy       ``ALL#ISSUES`` / <id>                           -> list_all (admins)
  job copy       ``JOB#<job>#ISSUES`` / <id>                     -> list_by_job(s), count_by_jobs
  task copy      ``TASK#<task>#ISSUES`` / <id>                   -> list_by_tasks, delete_by_task
  user copies    ``USER#<user>#ISSUES`` / <id>, owner and assignee -> list_by_user
- comment        ``COMMENT#<id>`` / ``COMMENT``                  -> get
  all copy       ``ALL#COMMENTS`` / <id>                         -> list_all (admins)
  issue copy     ``ISSUE#<issue>#COMMENTS`` / <id>               -> list_by_issue(s), count_by_issues
  task copy      ``TASK#<task>#COMMENTS`` / <id>                 -> list_by_tasks, delete_by_task
  owner copy     ``USER#<owner>#COMMENTS`` / <id>                -> list_by_owner
An issue's job and task never change (CVAT's write-once fields), so only the user copies move on a
save. Lists are strongly consistent Queries of one partition each, sorted by id (several
partitions: concurrently, see dynamo_store). The cascades (``delete_by_task``, ``delete_by_issue``)
delete in batches without a transaction: they are idempotent.
"""

from __future__ import annotations

from collections.abc import Iterable

from ...domain.issues import Comment, Issue
from .dynamo_store import VersionedStore, View, id_key, user_views


def issue_views(i: Issue) -> list[View]:
    return [
        View(f"ISSUE#{i.id}", "ISSUE"),
        View("ALL#ISSUES", id_key(i.id)),
        View(f"JOB#{i.job_id}#ISSUES", id_key(i.id)),
        View(f"TASK#{i.task_id}#ISSUES", id_key(i.id)),
        *user_views("ISSUES", id_key(i.id), i.owner_id, i.assignee_id),
    ]


def comment_views(c: Comment) -> list[View]:
    return [
        View(f"COMMENT#{c.id}", "COMMENT"),
        View("ALL#COMMENTS", id_key(c.id)),
        View(f"ISSUE#{c.issue_id}#COMMENTS", id_key(c.id)),
        View(f"TASK#{c.task_id}#COMMENTS", id_key(c.id)),
        *user_views("COMMENTS", id_key(c.id), c.owner_id),
    ]


class DynamoIssueRepository:
    def __init__(self, table_name: str) -> None:
        self._s = VersionedStore(table_name, Issue, "issue", issue_views)

    def add(self, issue: Issue) -> Issue:
        return self._s.add(issue)

    def get(self, issue_id: int) -> Issue:
        return self._s.get(f"ISSUE#{issue_id}", "ISSUE")

    def save(self, issue: Issue) -> Issue:
        return self._s.save(issue)

    def delete(self, issue_id: int) -> None:
        self._s.delete(f"ISSUE#{issue_id}", "ISSUE")

    def list_all(self) -> list[Issue]:
        return self._s.query("ALL#ISSUES")

    def list_by_job(self, job_id: int) -> list[Issue]:
        return self._s.query(f"JOB#{job_id}#ISSUES")

    def list_by_jobs(self, job_ids: Iterable[int]) -> list[Issue]:
        return sorted(self._s.query_many(f"JOB#{j}#ISSUES" for j in job_ids), key=lambda i: i.id)

    def list_by_tasks(self, task_ids: Iterable[int]) -> list[Issue]:
        return sorted(self._s.query_many(f"TASK#{t}#ISSUES" for t in task_ids), key=lambda i: i.id)

    def list_by_user(self, user_id: int) -> list[Issue]:
        return self._s.query(f"USER#{user_id}#ISSUES")

    def count_by_jobs(self, job_ids: Iterable[int]) -> dict[int, int]:
        ids = list(dict.fromkeys(job_ids))
        counts = self._s.count_many(f"JOB#{j}#ISSUES" for j in ids)
        return {j: counts[f"JOB#{j}#ISSUES"] for j in ids}

    def delete_by_task(self, task_id: int) -> None:
        self._s.delete_entities(self._s.query(f"TASK#{task_id}#ISSUES"))


class DynamoCommentRepository:
    def __init__(self, table_name: str) -> None:
        self._s = VersionedStore(table_name, Comment, "comment", comment_views)

    def add(self, comment: Comment) -> Comment:
        return self._s.add(comment)

    def get(self, comment_id: int) -> Comment:
        return self._s.get(f"COMMENT#{comment_id}", "COMMENT")

    def save(self, comment: Comment) -> Comment:
        return self._s.save(comment)

    def delete(self, comment_id: int) -> None:
        self._s.delete(f"COMMENT#{comment_id}", "COMMENT")

    def list_all(self) -> list[Comment]:
        return self._s.query("ALL#COMMENTS")

    def list_by_issue(self, issue_id: int) -> list[Comment]:
        return self._s.query(f"ISSUE#{issue_id}#COMMENTS")

    def list_by_issues(self, issue_ids: Iterable[int]) -> list[Comment]:
        return sorted(self._s.query_many(f"ISSUE#{i}#COMMENTS" for i in issue_ids), key=lambda c: c.id)

    def list_by_tasks(self, task_ids: Iterable[int]) -> list[Comment]:
        return sorted(self._s.query_many(f"TASK#{t}#COMMENTS" for t in task_ids), key=lambda c: c.id)

    def list_by_owner(self, user_id: int) -> list[Comment]:
        return self._s.query(f"USER#{user_id}#COMMENTS")

    def count_by_issues(self, issue_ids: Iterable[int]) -> dict[int, int]:
        ids = list(dict.fromkeys(issue_ids))
        counts = self._s.count_many(f"ISSUE#{i}#COMMENTS" for i in ids)
        return {i: counts[f"ISSUE#{i}#COMMENTS"] for i in ids}

    def delete_by_issue(self, issue_id: int) -> None:
        self._s.delete_entities(self.list_by_issue(issue_id))

    def delete_by_task(self, task_id: int) -> None:
        self._s.delete_entities(self._s.query(f"TASK#{task_id}#COMMENTS"))

"""Projects, tasks and labels on the single table.

Items (pk / sk), ``-`` standing for "no organization" (the personal workspace):
- project         ``PROJECT#<id>`` / ``PROJECT``                          -> get, get_many
  all copy        ``ALL#PROJECTS`` / <id>                                 -> list_all, window (admins)
  org copy        ``ORG#<org|->#PROJECTS`` / <id>                         -> list_by_organization, window
  user copies     ``USER#<user>#PROJECTS`` / <id>, for the owner and the assignee -> list_by_user
- task            ``TASK#<id>`` / ``TASK``                                -> get, get_many
  all copy        ``ALL#TASKS`` / <id>                                    -> list_all, window (admins)
  org copy        ``ORG#<org|->#TASKS`` / <id>                            -> list_by_organization, window
  project copy    ``PROJECT#<project>#TASKS`` / <id> (tasks in a project) -> list_by_project(s),
                                                                             count_by_projects
  user copies     ``USER#<user>#TASKS`` / <id>, for the owner and the assignee -> list_by_user
- label           ``LABEL#<id>`` / ``LABEL``                              -> get
  all copy        ``ALL#LABELS`` / <id>                                   -> list_all
  task copy       ``TASK#<task>#LABELS`` / <id> (labels of a task)        -> list_by_task(s)
  project copy    ``PROJECT#<project>#LABELS`` / <id>                     -> list_by_project(s)
  name guard      ``LABELNAME#T<task|->#P<project|->#<parent|->#<name>`` / ``UNIQUE``
Every list is a strongly consistent Query of one base-table partition, sorted by id: services read
them right after writing (task status from its jobs, label name checks, cascades on delete). The
lists over several projects or tasks query one partition each, concurrently (see dynamo_store).
A user listed as owner and assignee has one copy. A save that changes the organization, project,
owner or assignee moves the copies in the same transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from ...domain.labels import Label
from ...domain.projects import Project
from ...domain.tasks import Task
from ...ports import Scope, Window
from .dynamo_store import VersionedStore, View, id_key, opt_key, scope_partition, user_views


def project_views(p: Project) -> list[View]:
    return [
        View(f"PROJECT#{p.id}", "PROJECT"),
        View("ALL#PROJECTS", id_key(p.id)),
        View(f"ORG#{opt_key(p.organization_id)}#PROJECTS", id_key(p.id)),
        *user_views("PROJECTS", id_key(p.id), p.owner_id, p.assignee_id),
    ]


def task_views(t: Task) -> list[View]:
    views = [
        View(f"TASK#{t.id}", "TASK"),
        View("ALL#TASKS", id_key(t.id)),
        View(f"ORG#{opt_key(t.organization_id)}#TASKS", id_key(t.id)),
        *user_views("TASKS", id_key(t.id), t.owner_id, t.assignee_id),
    ]
    if t.project_id is not None:
        views.append(View(f"PROJECT#{t.project_id}#TASKS", id_key(t.id)))
    return views


def label_views(lb: Label) -> list[View]:
    views = [View(f"LABEL#{lb.id}", "LABEL"), View("ALL#LABELS", id_key(lb.id))]
    if lb.task_id is not None:
        views.append(View(f"TASK#{lb.task_id}#LABELS", id_key(lb.id)))
    if lb.project_id is not None:
        views.append(View(f"PROJECT#{lb.project_id}#LABELS", id_key(lb.id)))
    owner = f"T{opt_key(lb.task_id)}#P{opt_key(lb.project_id)}#{opt_key(lb.parent_id)}"
    views.append(View(f"LABELNAME#{owner}#{lb.name}", "UNIQUE", unique="name"))
    return views


def _project_key(project_id: int) -> tuple[str, str]:
    return f"PROJECT#{project_id}", "PROJECT"


def _task_key(task_id: int) -> tuple[str, str]:
    return f"TASK#{task_id}", "TASK"


class DynamoProjectRepository:
    def __init__(self, table_name: str) -> None:
        self._s = VersionedStore(table_name, Project, "project", project_views)

    def add(self, project: Project) -> Project:
        return self._s.add(project)

    def get(self, project_id: int) -> Project:
        return self._s.get(*_project_key(project_id))

    def get_many(self, project_ids: Iterable[int]) -> dict[int, Project]:
        return self._s.get_many(project_ids, _project_key)

    def save(self, project: Project) -> Project:
        return self._s.save(project)

    def delete(self, project_id: int) -> None:
        self._s.delete(*_project_key(project_id))

    def list_all(self) -> list[Project]:
        return self._s.query("ALL#PROJECTS")

    def list_by_organization(self, organization_id: int | None) -> list[Project]:
        return self._s.query(f"ORG#{opt_key(organization_id)}#PROJECTS")

    def window(self, scope: Scope, offset: int, limit: int, *, newest_first: bool) -> Window[Project]:
        return Window(*self._s.query_window(scope_partition(scope, "PROJECTS"), offset, limit,
                                            newest_first=newest_first))

    def list_by_user(self, user_id: int) -> list[Project]:
        return self._s.query(f"USER#{user_id}#PROJECTS")


class DynamoTaskRepository:
    def __init__(self, table_name: str) -> None:
        self._s = VersionedStore(table_name, Task, "task", task_views)

    def add(self, task: Task) -> Task:
        return self._s.add(task)

    def get(self, task_id: int) -> Task:
        return self._s.get(*_task_key(task_id))

    def get_many(self, task_ids: Iterable[int]) -> dict[int, Task]:
        return self._s.get_many(task_ids, _task_key)

    def save(self, task: Task) -> Task:
        return self._s.save(task)

    def delete(self, task_id: int) -> None:
        self._s.delete(*_task_key(task_id))

    def list_all(self) -> list[Task]:
        return self._s.query("ALL#TASKS")

    def list_by_organization(self, organization_id: int | None) -> list[Task]:
        return self._s.query(f"ORG#{opt_key(organization_id)}#TASKS")

    def window(self, scope: Scope, offset: int, limit: int, *, newest_first: bool) -> Window[Task]:
        return Window(*self._s.query_window(scope_partition(scope, "TASKS"), offset, limit,
                                            newest_first=newest_first))

    def list_by_project(self, project_id: int) -> list[Task]:
        return self._s.query(f"PROJECT#{project_id}#TASKS")

    def list_by_projects(self, project_ids: Iterable[int]) -> list[Task]:
        found = self._s.query_many(f"PROJECT#{p}#TASKS" for p in project_ids)
        return sorted(found, key=lambda t: t.id)

    def list_by_user(self, user_id: int) -> list[Task]:
        return self._s.query(f"USER#{user_id}#TASKS")

    def count_by_projects(self, project_ids: Iterable[int]) -> dict[int, int]:
        ids = list(dict.fromkeys(project_ids))
        counts = self._s.count_many(f"PROJECT#{p}#TASKS" for p in ids)
        return {p: counts[f"PROJECT#{p}#TASKS"] for p in ids}


class DynamoLabelRepository:
    def __init__(self, table_name: str) -> None:
        self._s = VersionedStore(table_name, Label, "label", label_views)

    def add_many(self, labels: Sequence[Label]) -> list[Label]:
        return self._s.add_many(labels)

    def get(self, label_id: int) -> Label:
        return self._s.get(f"LABEL#{label_id}", "LABEL")

    def save(self, label: Label) -> Label:
        return self._s.save(label)

    def delete(self, label_id: int) -> None:
        self._s.delete(f"LABEL#{label_id}", "LABEL")

    def list_by_task(self, task_id: int) -> list[Label]:
        return self._s.query(f"TASK#{task_id}#LABELS")

    def list_by_project(self, project_id: int) -> list[Label]:
        return self._s.query(f"PROJECT#{project_id}#LABELS")

    def list_by_tasks(self, task_ids: Iterable[int]) -> list[Label]:
        return sorted(self._s.query_many(f"TASK#{t}#LABELS" for t in task_ids), key=lambda lb: lb.id)

    def list_by_projects(self, project_ids: Iterable[int]) -> list[Label]:
        return sorted(self._s.query_many(f"PROJECT#{p}#LABELS" for p in project_ids), key=lambda lb: lb.id)

    def list_all(self) -> list[Label]:
        return self._s.query("ALL#LABELS")

"""Projects, tasks and labels on the single table.

Items (pk / sk; gsi1pk / gsi1sk), ``-`` standing for "no organization" (the personal workspace):
- project       ``PROJECT#<id>`` / ``PROJECT``; ``PROJECTS`` / <id>     -> get, list_all (index)
  org copy      ``ORG#<org|->#PROJECTS`` / <id>                         -> list_by_organization
- task          ``TASK#<id>`` / ``TASK``; ``TASKS`` / <id>              -> get, list_all (index)
  org copy      ``ORG#<org|->#TASKS`` / <id>                            -> list_by_organization
  project copy  ``PROJECT#<project>#TASKS`` / <id> (tasks in a project)  -> list_by_project
- label         ``LABEL#<id>`` / ``LABEL``
  task copy     ``TASK#<task>#LABELS`` / <id> (labels of a task)         -> list_by_task
  project copy  ``PROJECT#<project>#LABELS`` / <id>                     -> list_by_project
  name guard    ``LABELNAME#T<task|->#P<project|->#<parent|->#<name>`` / ``UNIQUE``
The "all" lists (used for a user's lists outside any organization, then filtered by the
permission table) come from gsi1, one partition per kind, eventually consistent. The per-owner
lists are strongly consistent Queries: services read them right after writing (task status from
its jobs, label name checks, cascades on delete).
"""

from __future__ import annotations

from collections.abc import Sequence

from ...domain.labels import Label
from ...domain.projects import Project
from ...domain.tasks import Task
from .dynamo_store import VersionedStore, View, id_key, opt_key


def _project_views(p: Project) -> list[View]:
    return [
        View(f"PROJECT#{p.id}", "PROJECT", "PROJECTS", id_key(p.id)),
        View(f"ORG#{opt_key(p.organization_id)}#PROJECTS", id_key(p.id)),
    ]


def _task_views(t: Task) -> list[View]:
    views = [
        View(f"TASK#{t.id}", "TASK", "TASKS", id_key(t.id)),
        View(f"ORG#{opt_key(t.organization_id)}#TASKS", id_key(t.id)),
    ]
    if t.project_id is not None:
        views.append(View(f"PROJECT#{t.project_id}#TASKS", id_key(t.id)))
    return views


def _label_views(lb: Label) -> list[View]:
    views = [View(f"LABEL#{lb.id}", "LABEL")]
    if lb.task_id is not None:
        views.append(View(f"TASK#{lb.task_id}#LABELS", id_key(lb.id)))
    if lb.project_id is not None:
        views.append(View(f"PROJECT#{lb.project_id}#LABELS", id_key(lb.id)))
    owner = f"T{opt_key(lb.task_id)}#P{opt_key(lb.project_id)}#{opt_key(lb.parent_id)}"
    views.append(View(f"LABELNAME#{owner}#{lb.name}", "UNIQUE", unique="name"))
    return views


class DynamoProjectRepository:
    def __init__(self, table_name: str) -> None:
        self._s = VersionedStore(table_name, Project, "project", _project_views)

    def add(self, project: Project) -> Project:
        return self._s.add(project)

    def get(self, project_id: int) -> Project:
        return self._s.get(f"PROJECT#{project_id}", "PROJECT")

    def save(self, project: Project) -> Project:
        return self._s.save(project)

    def delete(self, project_id: int) -> None:
        self._s.delete(f"PROJECT#{project_id}", "PROJECT")

    def list_all(self) -> list[Project]:
        return sorted(self._s.query_gsi1("PROJECTS"), key=lambda p: p.id)

    def list_by_organization(self, organization_id: int | None) -> list[Project]:
        return self._s.query(f"ORG#{opt_key(organization_id)}#PROJECTS")


class DynamoTaskRepository:
    def __init__(self, table_name: str) -> None:
        self._s = VersionedStore(table_name, Task, "task", _task_views)

    def add(self, task: Task) -> Task:
        return self._s.add(task)

    def get(self, task_id: int) -> Task:
        return self._s.get(f"TASK#{task_id}", "TASK")

    def save(self, task: Task) -> Task:
        return self._s.save(task)

    def delete(self, task_id: int) -> None:
        self._s.delete(f"TASK#{task_id}", "TASK")

    def list_all(self) -> list[Task]:
        return sorted(self._s.query_gsi1("TASKS"), key=lambda t: t.id)

    def list_by_organization(self, organization_id: int | None) -> list[Task]:
        return self._s.query(f"ORG#{opt_key(organization_id)}#TASKS")

    def list_by_project(self, project_id: int) -> list[Task]:
        return self._s.query(f"PROJECT#{project_id}#TASKS")


class DynamoLabelRepository:
    def __init__(self, table_name: str) -> None:
        self._s = VersionedStore(table_name, Label, "label", _label_views)

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

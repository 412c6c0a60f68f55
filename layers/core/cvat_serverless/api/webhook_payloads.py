"""Webhook payloads' objects as the API's GET shows them (``ports.WebhookPayloadRenderer``).

CVAT sends a task as ``GET /api/tasks/{id}`` returns it, a job as ``GET /api/jobs/{id}``, and so
on: the same ``Presenter`` and response schemas make both, so they cannot drift. The object
comes from the domain event (its state right after the change, before it for deletes); what its
representation names besides (owner and assignee, a job's task and project, counts) is read
when the event is fanned out, once per event.

What may differ from a GET made at the same moment, and why:
- counts (a project's ``tasks.count``, a job's ``issues.count``, an issue's ``comments.count``)
  and names of related objects are read at fan-out, a moment after the change;
- a deleted object is shown as it was: what it names that went with it is null or "deleted" (a
  job whose task is gone is sent as the event's own JSON, as nothing else can show it);
- ``url`` and every other link are made under the origin of the request that made the event, or
  ``CVAT_PUBLIC_URL`` for events made without one (the workers); relative with neither.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from pydantic import BaseModel

from ..domain.events import from_plain
from ..domain.issues import Comment, Issue
from ..domain.jobs import Job
from ..domain.organizations import Invitation, Membership, Organization
from ..domain.projects import Project
from ..domain.tasks import Task
from ..ports import Clock, Repositories
from ..services.views import Related, RelatedLoader
from .present import Presenter

_Shows = tuple[type, Callable[[RelatedLoader, Any], Related], Callable[[Presenter, Any], BaseModel]]

_SHOWN: dict[str, _Shows] = {
    "project": (Project, lambda load, p: load.for_projects([p]), Presenter.project),
    "task": (Task, lambda load, t: load.for_tasks([t]), Presenter.task),
    "job": (Job, lambda load, j: load.for_jobs([j]), Presenter.job),
    "issue": (Issue, lambda load, i: load.for_issues([i]), Presenter.issue),
    "comment": (Comment, lambda load, c: load.for_comments([c]), Presenter.comment),
    "organization": (Organization, lambda load, o: load.for_organizations([o]), Presenter.organization),
    "membership": (Membership, lambda load, m: load.for_memberships([m]), Presenter.membership),
    "invitation": (Invitation, lambda load, i: load.for_invitations([i]), Presenter.invitation),
}
"""Each resource a webhook may get: its entity, what its representation reads, the presenter."""


class PresenterWebhookPayloadRenderer:
    def __init__(self, repos: Repositories, clock: Clock) -> None:
        self.load = RelatedLoader(repos, clock)

    def render(self, resource: str, obj: Mapping[str, Any], origin: str) -> dict[str, Any] | None:
        shows = _SHOWN.get(resource)
        if shows is None:
            return None
        kind, related, convert = shows
        value: Any = from_plain(kind, obj)
        presenter = Presenter(None, related(self.load, value), origin=origin)
        try:
            shown = convert(presenter, value)
        except KeyError:  # a job whose task went with it: nothing left to show it by
            return None
        return shown.model_dump(mode="json", by_alias=True)

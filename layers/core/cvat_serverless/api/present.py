"""Domain objects as CVAT's response bodies: absolute URLs, nested users, summaries.

A ``Presenter`` formats; it reads nothing. What a body names besides the object (users,
projects, tasks, counts, sublabels) comes with the service's result as ``Related``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, TypeVar

from ..services.views import Related
from . import http
from .schemas import auth as sa
from .schemas import issues as si
from .schemas import jobs as sj
from .schemas import labels as sl
from .schemas import organizations as so
from .schemas import projects as sp
from .schemas import requests as sr
from .schemas import tasks as st
from .schemas import users as su
from .schemas.common import BasicUser, LabelsSummary, LocationEnum, Storage

if TYPE_CHECKING:
    # Only for typing: the routes stay importable without the domain model (cold start).
    from ..domain import auth as dauth
    from ..domain import issues as dissues
    from ..domain import labels as dlabels
    from ..domain import organizations as dorgs
    from ..domain.jobs import Job
    from ..domain.projects import Project
    from ..domain.query import Page
    from ..domain.requests import BackgroundRequest
    from ..domain.storage import Storage as DStorage
    from ..domain.tasks import Task
    from ..domain.users import User as DUser
    from ..services.views import Shown

T = TypeVar("T")
R = TypeVar("R")


class Presenter:
    def __init__(self, event: http.Event | None, related: Related | None = None, *, origin: str | None = None
                 ) -> None:
        """``event``: the request answered. Without one (a webhook's payload), URLs go under
        ``origin`` (``scheme://host``; empty: relative URLs)."""
        self._request = event
        self.related = related or Related()
        if origin is None:
            assert event is not None, "a presenter needs the request or an origin"
            origin = http.base_url(event)
        self._base = origin  # a page of 100 tasks makes 400 URLs

    @property
    def event(self) -> http.Event:
        assert self._request is not None, "a webhook payload's presenter has no request"
        return self._request

    def url(self, path: str, **params: object) -> str:
        return http.absolute(self._request, path, params or None, base=self._base)

    # --- users -----------------------------------------------------------------------------

    def basic_user(self, user_id: int | None) -> BasicUser | None:
        """A user named by id (null for none, or for one that is gone)."""
        user = self.related.users.get(user_id) if user_id is not None else None
        return self.basic_user_of(user) if user is not None else None

    def basic_user_of(self, user: DUser) -> BasicUser:
        return BasicUser(
            url=self.url(f"/api/users/{user.id}"),
            id=user.id,
            username=user.username,
            first_name=user.first_name,
            last_name=user.last_name,
        )

    def user(self, user: DUser) -> su.User:
        return su.User(
            url=self.url(f"/api/users/{user.id}"),
            id=user.id,
            username=user.username,
            first_name=user.first_name,
            last_name=user.last_name,
            email=user.email,
            groups=[str(g) for g in user.groups],
            is_staff=user.is_staff,
            is_superuser=user.is_superuser,
            is_active=user.is_active,
            last_login=user.last_login,
            date_joined=user.date_joined,
            has_analytics_access=False,
        )

    # --- projects, tasks, jobs -------------------------------------------------------------

    @staticmethod
    def storage(value: DStorage | None) -> Storage | None:
        if value is None:
            return None
        return Storage(id=value.id, location=LocationEnum(sl_location(value)), cloud_storage_id=value.cloud_storage_id)

    def _project(self, project_id: int | None) -> Project | None:
        return self.related.projects.get(project_id) if project_id is not None else None

    def project(self, p: Project) -> sp.ProjectRead:
        return sp.ProjectRead(
            url=self.url(f"/api/projects/{p.id}"),
            id=p.id,
            name=p.name,
            owner=self.basic_user(p.owner_id),
            assignee=self.basic_user(p.assignee_id),
            guide_id=p.guide_id,
            bug_tracker=p.bug_tracker,
            task_subsets=list(p.task_subsets),
            created_date=p.created_date,
            updated_date=p.updated_date,
            status=p.status.value,
            dimension=p.dimension,
            organization=p.organization_id,
            organization_id=p.organization_id,
            target_storage=self.storage(p.target_storage),
            source_storage=self.storage(p.source_storage),
            tasks=sp.TasksSummary(
                count=self.related.task_counts.get(p.id, 0),
                url=self.url("/api/tasks", project_id=p.id),
            ),
            labels=LabelsSummary(url=self.url("/api/labels", project_id=p.id)),
            assignee_updated_date=p.assignee_updated_date,
        )

    def task(self, t: Task) -> st.TaskRead:
        project = self._project(t.project_id)
        jobs = t.jobs_summary
        return st.TaskRead(
            url=self.url(f"/api/tasks/{t.id}"),
            id=t.id,
            name=t.name,
            project_id=t.project_id,
            project_name=project.name if project else None,
            mode=t.mode.value,
            owner=self.basic_user(t.owner_id),
            assignee=self.basic_user(t.assignee_id),
            bug_tracker=t.bug_tracker,
            created_date=t.created_date,
            updated_date=t.updated_date,
            overlap=t.overlap,
            segment_size=t.segment_size,
            status=t.status.value,
            data_chunk_size=t.data_chunk_size,
            data_compressed_chunk_type=_value(t.data_compressed_chunk_type),
            data_original_chunk_type=_value(t.data_original_chunk_type),
            data_cloud_storage_id=t.data_cloud_storage_id,
            guide_id=t.guide_id,
            size=t.size,
            image_quality=t.image_quality,
            data=t.data_id,
            dimension=t.dimension.value,
            media_type=_value(t.media_type),
            subset=t.subset,
            organization=t.organization_id,
            organization_id=t.organization_id,
            target_storage=self.storage(t.target_storage),
            source_storage=self.storage(t.source_storage),
            jobs=st.JobsSummary(
                count=jobs.count,
                completed=jobs.completed,
                validation=jobs.validation,
                url=self.url("/api/jobs", task_id=t.id),
            ),
            labels=LabelsSummary(url=self.url("/api/labels", task_id=t.id)),
            assignee_updated_date=t.assignee_updated_date,
            validation_mode=t.validation_mode,
            initial_replicas=0,
            consensus_replicas=t.consensus_replicas,
        )

    def job(self, j: Job) -> sj.JobRead:
        t = self.related.tasks[j.task_id]
        project = self._project(t.project_id)
        return sj.JobRead(
            url=self.url(f"/api/jobs/{j.id}"),
            id=j.id,
            task_id=j.task_id,
            task_name=t.name,
            project_id=t.project_id,
            project_name=project.name if project else None,
            assignee=self.basic_user(j.assignee_id),
            guide_id=project.guide_id if project else t.guide_id,
            dimension=t.dimension.value,
            mode=t.mode.value,
            media_type=_value(t.media_type),
            bug_tracker=(project.bug_tracker if project else t.bug_tracker) or None,
            status=j.status.value,
            stage=j.stage.value,
            state=j.state.value,
            frame_count=j.frame_count,
            start_frame=j.start_frame,
            stop_frame=j.stop_frame,
            data_chunk_size=t.data_chunk_size,
            data_compressed_chunk_type=_value(t.data_compressed_chunk_type),
            data_original_chunk_type=_value(t.data_original_chunk_type),
            created_date=j.created_date,
            updated_date=j.updated_date,
            issues=sj.IssuesSummary(url=self.url("/api/issues", job_id=j.id),
                                    count=self.related.issue_counts.get(j.id, 0)),
            labels=LabelsSummary(url=self.url("/api/labels", job_id=j.id)),
            type=j.type.value,
            organization=t.organization_id,
            target_storage=self.storage(t.target_storage),
            source_storage=self.storage(t.source_storage),
            assignee_updated_date=j.assignee_updated_date,
            parent_job_id=j.parent_job_id,
        )

    # --- issues and comments -------------------------------------------------------------

    def issue(self, i: dissues.Issue) -> si.IssueRead:
        return si.IssueRead(
            id=i.id,
            frame=i.frame,
            position=list(i.position),
            job=i.job_id,
            owner=self.basic_user(i.owner_id),
            assignee=self.basic_user(i.assignee_id),
            created_date=i.created_date,
            updated_date=i.updated_date,
            resolved=i.resolved,
            comments=si.CommentsSummary(count=self.related.comment_counts.get(i.id, 0),
                                        url=self.url("/api/comments", issue_id=i.id)),
        )

    def comment(self, c: dissues.Comment) -> si.CommentRead:
        return si.CommentRead(
            id=c.id,
            issue=c.issue_id,
            owner=self.basic_user(c.owner_id),
            message=c.message,
            created_date=c.created_date,
            updated_date=c.updated_date,
        )

    # --- labels ----------------------------------------------------------------------------

    @staticmethod
    def attribute(a: dlabels.AttributeSpec) -> sl.Attribute:
        return sl.Attribute(
            id=a.id,
            name=a.name,
            mutable=a.mutable,
            input_type=sl.InputTypeEnum(a.input_type.value),
            default_value=a.default_value,
            values=list(a.values),
        )

    def label(self, label: dlabels.Label) -> sl.Label:
        """A label with its sublabels (a skeleton's points)."""
        subs = self.related.sublabels.get(label.id, ())
        return sl.Label(
            id=label.id,
            name=label.name,
            color=label.color,
            attributes=[self.attribute(a) for a in label.attributes],
            type=label.type.value,
            svg=label.svg,
            sublabels=[
                sl.Sublabel(
                    id=s.id,
                    name=s.name,
                    color=s.color,
                    attributes=[self.attribute(a) for a in s.attributes],
                    type=s.type.value,
                    has_parent=True,
                )
                for s in subs
            ],
            project_id=label.project_id,
            task_id=label.task_id,
            parent_id=label.parent_id,
            has_parent=label.parent_id is not None,
        )

    # --- organizations -----------------------------------------------------------------------

    def organization(self, o: dorgs.Organization) -> so.OrganizationRead:
        return so.OrganizationRead(
            id=o.id,
            slug=o.slug,
            name=o.name,
            description=o.description,
            created_date=o.created_date,
            updated_date=o.updated_date,
            contact=dict(o.contact),
            owner=self.basic_user(o.owner_id),
        )

    def membership(self, m: dorgs.Membership) -> so.MembershipRead:
        user = self.basic_user(m.user_id)
        if user is None:  # a member whose account is gone: keep the row readable
            user = BasicUser(url=self.url(f"/api/users/{m.user_id}"), id=m.user_id, username="deleted")
        return so.MembershipRead(
            id=m.id,
            user=user,
            organization=m.organization_id,
            is_active=m.is_active,
            joined_date=m.joined_date,
            role=m.role.value,
            invitation=m.invitation_key,
        )

    def invitation(self, inv: dorgs.Invitation) -> so.InvitationRead:
        org = self.related.organizations.get(inv.organization_id)
        slug = org.slug if org is not None else "deleted"
        now = self.related.now
        assert now is not None, "an invitation's representation needs the time (it expires)"
        user = self.basic_user(inv.user_id) or BasicUser(
            url=self.url(f"/api/users/{inv.user_id}"), id=inv.user_id, username="deleted"
        )
        return so.InvitationRead(
            key=inv.key,
            created_date=inv.created_date,
            owner=self.basic_user(inv.owner_id),
            role=so.RoleEnum(inv.role.value),
            user=user,
            organization=inv.organization_id,
            organization_info=so.BasicOrganization(id=inv.organization_id, slug=slug),
            expired=inv.is_expired(now),
            accepted=inv.accepted,
        )

    # --- access tokens -----------------------------------------------------------------------

    def access_token(self, t: dauth.AccessToken, secret: str | None = None) -> sa.AccessTokenRead:
        return sa.AccessTokenRead(
            id=t.id,
            name=t.name,
            created_date=t.created_date,
            updated_date=t.updated_date,
            expiry_date=t.expiry_date,
            last_used_date=t.last_used_date,
            read_only=t.read_only,
            owner=self.basic_user(t.owner_id),
            value=secret,
        )

    # --- background requests -----------------------------------------------------------------

    def request(self, r: BackgroundRequest) -> sr.RequestRead:
        owner = self.related.users.get(r.owner_id)
        return sr.RequestRead(
            status=r.status.value,
            message=r.message,
            id=r.id,
            operation=sr.RequestOperation(type=r.operation_type, target=r.target, project_id=r.project_id,
                                          task_id=r.task_id, job_id=r.job_id, format=r.format,
                                          function_id=r.function_id),
            progress=r.progress,
            created_date=r.created_date or self._epoch,
            started_date=r.started_date,
            finished_date=r.finished_date,
            expiry_date=r.expiry_date,
            owner=sr.RequestOwner(id=owner.id, username=owner.username) if owner is not None else None,
            # exports keep the download's path: the URL is made on the host the client asked
            result_url=self.url(r.result_url) if r.result_url and r.result_url.startswith("/") else r.result_url,
            result_id=r.result_id,
        )

    _epoch = datetime(1970, 1, 1, tzinfo=UTC)

    # --- pages ---------------------------------------------------------------------------------

    @classmethod
    def show(cls, event: http.Event, shown: Shown[T], convert: Callable[[Presenter, T], R]) -> R:
        """A service's result as its body: ``Presenter.show(event, shown, Presenter.task)``."""
        return convert(cls(event, shown.related), shown.value)

    @classmethod
    def show_page(cls, event: http.Event, shown: Shown[Page[T]], convert: Callable[[Presenter, T], R]
                  ) -> dict[str, object]:
        presenter = cls(event, shown.related)
        return presenter.page(shown.value, lambda item: convert(presenter, item))

    def page(self, page: Page[T], convert: Callable[[T], R]) -> dict[str, object]:
        """CVAT's page: count, absolute next/previous links (null at the ends), results."""
        params = http.query(self.event)
        path = self.event.path

        def link(number: int) -> str:
            linked = {**params, "page": str(number)}
            if number == 1:
                linked.pop("page")
            return self.url(path, **linked)

        return {
            "count": page.count,
            "next": link(page.page + 1) if page.has_next else None,
            "previous": link(page.page - 1) if page.has_previous else None,
            "results": [convert(item) for item in page.results],
        }


def _value(member: object) -> str | None:
    if member is None:
        return None
    return str(getattr(member, "value", member))


def sl_location(storage: DStorage) -> str:
    return str(storage.location.value if hasattr(storage.location, "value") else storage.location)

"""Lists read what the caller may see, and nothing of the rest of the system; a page in id order is
read as a window of one partition and is the same page the full pipeline (filter, sort, page in
Python over every candidate) gives. Runs on both backends (see conftest)."""

from __future__ import annotations

from typing import Any

import pytest

from cvat_serverless.domain.errors import NotFoundError
from cvat_serverless.domain.organizations import Membership, OrgRole
from cvat_serverless.domain.users import SystemRole
from cvat_serverless.services.projects import ProjectCreate
from cvat_serverless.services.tasks import TaskCreate
from tests.unit.services.test_svc_tasks_jobs import CAR, data

# a filter every object passes: it sends a list down the full pipeline (every candidate read)
EVERYTHING = '{">=": [{"var": "id"}, 0]}'
PAGINGS = [{}, {"page_size": "3"}, {"page": "2", "page_size": "3"}, {"page": "last", "page_size": "2"},
           {"sort": "id", "page_size": "5"}, {"sort": "-id", "page": "3", "page_size": "2"}, {"page_size": "all"}]


def _ids(shown: Any) -> tuple[int, list[int], int]:
    page = shown.value
    return page.count, [obj.id for obj in page.results], page.page


@pytest.fixture
def populated(world):
    """Admin, an org owner, a worker member, and an outsider; projects, tasks and jobs in the org
    and in personal workspaces."""
    admin = world.user("root", SystemRole.ADMIN)
    owner, worker, outsider = world.user("olga"), world.user("walt"), world.user("otto")
    org = world.orgs.create(world.ctx(owner), slug="acme").value
    world.repos.memberships.add(Membership(id=world.ids.next_id("membership"), user_id=worker.id,
                                           organization_id=org.id, role=OrgRole.WORKER, is_active=True))
    in_org, personal = world.ctx(owner, "acme"), world.ctx(outsider)
    project = world.projects.create(in_org, ProjectCreate(name="P", labels=[CAR])).value
    for n in range(5):
        task = world.tasks.create(in_org, TaskCreate(name=f"org-{n}", project_id=project.id if n % 2 else None,
                                                     labels=[] if n % 2 else [CAR], segment_size=5,
                                                     assignee_id=worker.id if n == 3 else None)).value
        world.tasks.attach_data(task.id, data(10))
    for n in range(2):
        task = world.tasks.create(personal, TaskCreate(name=f"mine-{n}", labels=[CAR])).value
        if n == 0:
            world.tasks.attach_data(task.id, data(10))
    world.projects.create(personal, ProjectCreate(name="mine"))
    return world, {"admin": admin, "owner": owner, "worker": worker, "outsider": outsider}


def test_a_window_of_the_scope_is_the_page_the_full_pipeline_gives(populated):
    world, users = populated
    for who, where in [("admin", None), ("admin", "acme"), ("admin", ""), ("owner", "acme")]:
        ctx = world.ctx(users[who], where)
        for kind in ("tasks", "projects", "jobs"):
            for paging in PAGINGS:
                _same_page(getattr(world, kind), ctx, paging, kind)


def _same_page(service: Any, ctx: Any, paging: dict[str, str], kind: str) -> None:
    try:
        full = service.list(ctx, {**paging, "filter": EVERYTHING})
    except NotFoundError:  # a page past the end
        with pytest.raises(NotFoundError, match=r"Invalid page\."):
            service.list(ctx, paging)
        return
    windowed = service.list(ctx, paging)
    assert _ids(windowed) == _ids(full), (kind, ctx.user.username, ctx.org, paging)
    assert _ids(windowed)[0] > 0
    # what the page shows comes with it: the users it names, its tasks (jobs), the task counts
    named = {u for obj in windowed.value.results for u in (getattr(obj, "owner_id", None), obj.assignee_id)}
    assert named - {None} <= set(windowed.related.users)
    if kind == "jobs":
        assert {j.task_id for j in windowed.value.results} <= set(windowed.related.tasks)
    if kind == "projects":
        assert {p.id for p in windowed.value.results} <= set(windowed.related.task_counts)


def test_a_page_past_the_end_is_invalid_in_both_pipelines(populated):
    world, users = populated
    ctx = world.ctx(users["admin"])
    with pytest.raises(NotFoundError):
        world.tasks.list(ctx, {"page": "99"})
    with pytest.raises(NotFoundError):
        world.tasks.list(ctx, {"page": "99", "filter": EVERYTHING})


class Reads:
    """Which listing methods of the repositories a call used."""

    def __init__(self, world, monkeypatch) -> None:
        self.calls: list[str] = []
        for name in ("projects", "tasks", "jobs", "labels", "users", "organizations", "memberships"):
            repo = getattr(world.repos, name)
            for method in ("list_all", "window", "list_by_organization", "list_by_user", "list_by_projects",
                           "list_by_tasks", "list_by_assignee"):
                if hasattr(repo, method):
                    monkeypatch.setattr(repo, method, self._spy(f"{name}.{method}", getattr(repo, method)))

    def _spy(self, name: str, method: Any) -> Any:
        def spy(*args: Any, **kwargs: Any) -> Any:
            self.calls.append(name)
            return method(*args, **kwargs)
        return spy


def test_a_user_outside_organizations_reads_only_their_own_partitions(populated, monkeypatch):
    world, users = populated
    ctx = world.ctx(users["outsider"])
    reads = Reads(world, monkeypatch)
    assert world.tasks.list(ctx, {}).value.count == 2
    assert world.projects.list(ctx, {}).value.count == 1
    assert world.jobs.list(ctx, {}).value.count == 1
    assert world.labels.list(ctx, {}).value.count == 2  # one "car" per own task
    assert world.users.list(ctx, {}).count == 1  # only himself
    assert not any(c.endswith(("list_all", "window", "list_by_organization")) for c in reads.calls), reads.calls


def test_an_org_worker_reads_their_partitions_and_sees_only_their_work(populated, monkeypatch):
    world, users = populated
    ctx = world.ctx(users["worker"], "acme")
    reads = Reads(world, monkeypatch)
    tasks = world.tasks.list(ctx, {}).value
    assert [t.name for t in tasks.results] == ["org-3"]  # assigned to him
    assert world.jobs.list(ctx, {}).value.count == 2  # that task's jobs
    assert not any(c.endswith(("list_all", "window", "list_by_organization")) for c in reads.calls), reads.calls


def test_an_org_owner_pages_the_organization_partition_without_reading_it_all(populated, monkeypatch):
    world, users = populated
    ctx = world.ctx(users["owner"], "acme")
    reads = Reads(world, monkeypatch)
    page = world.tasks.list(ctx, {"page_size": "2"}).value
    assert (page.count, [t.name for t in page.results]) == (5, ["org-4", "org-3"])
    assert reads.calls == ["tasks.window"]


def test_an_admin_list_with_a_filter_reads_the_scope_not_more(populated, monkeypatch):
    world, users = populated
    ctx = world.ctx(users["admin"], "acme")
    reads = Reads(world, monkeypatch)
    page = world.tasks.list(ctx, {"search": "org-1"}).value
    assert [t.name for t in page.results] == ["org-1"]
    assert reads.calls == ["tasks.list_by_organization"]


def test_labels_without_a_parent_read_the_visible_owners_only(populated, monkeypatch):
    world, users = populated
    owner, admin = world.ctx(users["owner"], "acme"), world.ctx(users["admin"])
    reads = Reads(world, monkeypatch)
    page = world.labels.list(owner, {"page_size": "all"}).value
    # the project's "car" and the own "car" of each task outside the project (org-0, 2, 4)
    assert page.count == 4
    assert "labels.list_all" not in reads.calls
    reads.calls.clear()
    assert world.labels.list(admin, {"page_size": "all"}).value.count == 4 + 2
    assert reads.calls == ["labels.list_all"]

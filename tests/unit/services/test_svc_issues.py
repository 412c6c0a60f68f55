"""Review issues and comments over both backends: CVAT's fields, validation, rules and cascades."""

from __future__ import annotations

import pytest

from cvat_serverless.domain.errors import NotFoundError, PermissionDeniedError, ValidationError
from cvat_serverless.domain.labels import LabelInput
from cvat_serverless.domain.organizations import Membership, OrgRole
from cvat_serverless.domain.segments import FrameRange
from cvat_serverless.domain.tasks import ChunkType, TaskMode
from cvat_serverless.domain.users import SystemRole
from cvat_serverless.services.issues import CommentService, IssueCreate, IssueService
from cvat_serverless.services.tasks import DataInfo, TaskCreate

BOX = [1.0, 2.0, 30.5, 40.0]


def _jobs(world, ctx, frames: int = 10, segment_size: int = 5) -> list:
    task = world.tasks.create(ctx, TaskCreate(name="T", labels=[LabelInput(name="car")],
                                              segment_size=segment_size)).value
    world.tasks.attach_data(task.id, DataInfo(
        frames=FrameRange(0, frames - 1, 1), mode=TaskMode.ANNOTATION, chunk_size=10, image_quality=70,
        compressed_chunk_type=ChunkType.IMAGESET, original_chunk_type=ChunkType.IMAGESET,
    ))
    return sorted(world.repos.jobs.list_by_task(task.id), key=lambda j: j.start_frame)


def _services(world) -> tuple[IssueService, CommentService]:
    return world.container.issues, world.container.comments


def test_an_issue_opens_with_its_first_comment_and_events(world):
    issues, comments = _services(world)
    alice = world.user("alice")
    ctx = world.ctx(alice)
    job = _jobs(world, ctx)[1]
    shown = issues.create(ctx, IssueCreate(job_id=job.id, frame=6, position=BOX, message="a missed car"))
    issue = shown.value
    assert (issue.job_id, issue.task_id, issue.frame, issue.position) == (job.id, job.task_id, 6, BOX)
    assert issue.owner_id == alice.id and issue.assignee_id is None and not issue.resolved
    assert shown.related.comment_counts == {issue.id: 1}
    page = comments.list_comments(ctx, {}, issue_id=issue.id).value
    assert [(c.message, c.owner_id, c.frame) for c in page.results] == [("a missed car", alice.id, 6)]
    created = world.events.of("create:issue")[-1]
    assert created["issue"]["id"] == issue.id and created["job_id"] == job.id and created["task_id"] == job.task_id
    assert world.events.of("create:comment")[-1]["comment"]["issue_id"] == issue.id
    assert issues.get(ctx, issue.id).value == issue


def test_bad_issues_are_refused_with_field_errors(world):
    issues, comments = _services(world)
    ctx = world.ctx(world.user("alice"))
    job = _jobs(world, ctx)[0]  # frames 0..4

    def refused(field: str, **kw) -> None:
        data = {"job_id": job.id, "frame": 0, "position": BOX, "message": "m", **kw}
        with pytest.raises(ValidationError) as err:
            issues.create(ctx, IssueCreate(**data))
        assert field in err.value.fields

    refused("frame", frame=5)
    refused("position", position=[1.0, 2.0, 3.0])
    refused("position", position=[])
    refused("message", message="")
    refused("job", job_id=999)
    refused("assignee", assignee_id=999)
    assert world.repos.issues.list_all() == [] and world.repos.comments.list_all() == []
    issue = issues.create(ctx, IssueCreate(job_id=job.id, frame=4, position=BOX, message="m")).value
    with pytest.raises(ValidationError):
        issues.update(ctx, issue.id, position=[1.0])
    with pytest.raises(ValidationError):
        comments.create_comment(ctx, 999, "x")
    with pytest.raises(NotFoundError):
        issues.get(ctx, 999)


def test_patch_resolves_moves_and_assigns_with_before_update(world):
    issues, _ = _services(world)
    alice, bob = world.user("alice"), world.user("bob")
    ctx = world.ctx(alice)
    job = _jobs(world, ctx)[0]
    issue = issues.create(ctx, IssueCreate(job_id=job.id, frame=0, position=BOX, message="m")).value
    updated = issues.update(ctx, issue.id, resolved=True, assignee_id=bob.id, position=[0, 0, 5, 5]).value
    assert updated.resolved and updated.assignee_id == bob.id and updated.position == [0.0, 0.0, 5.0, 5.0]
    event = world.events.of("update:issue")[-1]
    assert event["before_update"] == {"resolved": False, "assignee_id": None, "position": BOX}
    assert issues.update(ctx, issue.id, resolved=True).value.version == updated.version  # no change, no write
    assert issues.get(world.ctx(bob), issue.id).value.assignee_id == bob.id  # the assignee sees it


def test_rules_for_job_assignees_and_strangers(world):
    issues, comments = _services(world)
    alice, bob = world.user("alice"), world.user("bob", SystemRole.WORKER)
    eve = world.user("eve")
    owner = world.ctx(alice)
    job = _jobs(world, owner)[0]
    world.jobs.update(owner, job.id, assignee_id=bob.id)
    as_bob, as_eve = world.ctx(bob), world.ctx(eve)
    theirs = issues.create(owner, IssueCreate(job_id=job.id, frame=1, position=BOX, message="by alice")).value
    mine = issues.create(as_bob, IssueCreate(job_id=job.id, frame=2, position=BOX, message="by bob")).value
    # the job's assignee sees and updates every issue of the job, deletes only their own
    assert issues.update(as_bob, theirs.id, resolved=True).value.resolved
    with pytest.raises(PermissionDeniedError):
        issues.delete(as_bob, theirs.id)
    issues.delete(as_bob, mine.id)
    # a stranger neither sees nor comments nor opens issues
    with pytest.raises(PermissionDeniedError):
        issues.get(as_eve, theirs.id)
    with pytest.raises(PermissionDeniedError):
        comments.create_comment(as_eve, theirs.id, "hi")
    with pytest.raises(PermissionDeniedError):
        issues.create(as_eve, IssueCreate(job_id=job.id, frame=1, position=BOX, message="m"))
    assert issues.list(as_eve, {}).value.count == 0
    assert comments.list_comments(as_eve, {}).value.count == 0
    # comments: the issue's staff comments; the task owner may edit any comment of the issue
    reply = comments.create_comment(as_bob, theirs.id, "fixed").value
    assert comments.update_comment(owner, reply.id, "fixed, thanks").value.message == "fixed, thanks"
    assert world.events.of("update:comment")[-1]["before_update"] == {"message": "fixed"}
    with pytest.raises(PermissionDeniedError):
        comments.update_comment(as_eve, reply.id, "x")
    assert [c.message for c in comments.list_comments(as_bob, {"sort": "id"}).value.results] == [
        "by alice", "fixed, thanks"]
    comments.delete_comment(as_bob, reply.id)
    with pytest.raises(NotFoundError):
        comments.get_comment(owner, reply.id)
    with pytest.raises(PermissionDeniedError):
        comments.create_comment(world.ctx(bob, read_only=True), theirs.id, "x")


def test_lists_filter_sort_and_scope_by_organization(world):
    issues, comments = _services(world)
    alice, bob, carol = world.user("alice"), world.user("bob"), world.user("carol")
    org = world.orgs.create(world.ctx(alice), slug="acme").value
    for user, role in ((bob, OrgRole.MAINTAINER), (carol, OrgRole.WORKER)):
        world.repos.memberships.add(Membership(id=world.ids.next_id("membership"), user_id=user.id,
                                               organization_id=org.id, role=role, is_active=True))
    in_org = world.ctx(alice, "acme")
    first, second = _jobs(world, in_org)
    personal = _jobs(world, world.ctx(alice))[0]
    for job, frame in ((first, 0), (first, 3), (second, 7)):
        issues.create(in_org, IssueCreate(job_id=job.id, frame=frame, position=BOX, message=f"f{frame}"))
    issues.create(world.ctx(alice), IssueCreate(job_id=personal.id, frame=0, position=BOX, message="p"))
    issues.update(in_org, issues.list(in_org, {"frame_id": "3"}).value.results[0].id, resolved=True)

    assert issues.list(world.ctx(alice), {}).value.count == 4  # no context: everything visible
    assert issues.list(in_org, {}).value.count == 3
    assert issues.list(world.ctx(alice, ""), {}).value.count == 1  # the personal workspace
    assert [i.frame for i in issues.list(in_org, {}, job_id=first.id).value.results] == [3, 0]  # newest first
    assert [i.frame for i in issues.list(in_org, {"resolved": "false", "sort": "frame_id"}).value.results] == [0, 7]
    assert issues.list(in_org, {"owner": "alice", "page_size": "2"}).value.results[1].frame == 3
    assert issues.list(in_org, {}, task_id=second.task_id).value.count == 3
    assert issues.list(world.ctx(alice), {}, task_id=personal.task_id).value.count == 1
    assert issues.list(in_org, {}, task_id=personal.task_id).value.count == 0  # another scope
    # a maintainer sees the organization's issues; a plain member sees none of them
    assert issues.list(world.ctx(bob, "acme"), {}).value.count == 3
    assert issues.list(world.ctx(carol, "acme"), {}).value.count == 0
    with pytest.raises(PermissionDeniedError):
        issues.list(world.ctx(world.user("dave"), "acme"), {})
    assert comments.list_comments(world.ctx(bob, "acme"), {"job_id": str(first.id)}).value.count == 2
    assert comments.list_comments(in_org, {}, job_id=first.id).value.count == 2
    assert comments.list_comments(world.ctx(alice), {"frame_id": "7"}).value.count == 1


def test_deleting_an_issue_or_its_task_leaves_no_orphans(world):
    issues, comments = _services(world)
    ctx = world.ctx(world.user("alice"))
    job = _jobs(world, ctx)[0]
    issue = issues.create(ctx, IssueCreate(job_id=job.id, frame=0, position=BOX, message="m")).value
    comments.create_comment(ctx, issue.id, "second")
    issues.delete(ctx, issue.id)
    assert world.repos.comments.list_all() == [] and world.events.of("delete:issue")[-1]["id"] == issue.id
    kept = issues.create(ctx, IssueCreate(job_id=job.id, frame=1, position=BOX, message="m")).value
    comments.create_comment(ctx, kept.id, "another")
    world.tasks.delete(ctx, job.task_id)
    assert world.repos.issues.list_all() == [] and world.repos.comments.list_all() == []
    assert issues.list(ctx, {}).value.count == 0

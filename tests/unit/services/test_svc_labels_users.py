from __future__ import annotations

import pytest

from cvat_serverless.domain.errors import NotFoundError, PermissionDeniedError, ValidationError
from cvat_serverless.domain.labels import AttributeInput, LabelInput
from cvat_serverless.domain.users import SystemRole
from cvat_serverless.services.projects import ProjectCreate
from cvat_serverless.services.tasks import TaskCreate
from cvat_serverless.services.users import UserPatch

SVG = '<circle data-label-name="a"></circle><circle data-label-name="b"></circle>'


def test_label_endpoints(world):
    alice, bob = world.user("alice"), world.user("bob")
    ctx = world.ctx(alice)
    task = world.tasks.create(
        ctx,
        TaskCreate(
            name="T",
            labels=[
                LabelInput(
                    name="car",
                    attributes=[AttributeInput(name="n", input_type="number", mutable=True, values=["0", "9", "1"])],
                ),
                LabelInput(
                    name="pose", type="skeleton", svg=SVG, sublabels=[LabelInput(name="a"), LabelInput(name="b")]
                ),
            ],
        ),
    ).value
    shown = world.labels.list(ctx, {"page_size": "all"}, task_id=task.id)
    page = shown.value
    assert sorted(lb.name for lb in page.results) == ["car", "pose"]  # sublabels come inside their skeleton
    pose = next(lb for lb in page.results if lb.name == "pose")
    assert [lb.name for lb in shown.related.sublabels[pose.id]] == ["a", "b"]
    # naming the parent lists the sublabels themselves, as in CVAT
    assert world.labels.list(ctx, {"parent": "pose"}, task_id=task.id).value.count == 2
    assert world.labels.list(ctx, {"filter": '{"==":[{"var":"parent"},"pose"]}'}, task_id=task.id).value.count == 0
    car = next(lb for lb in page.results if lb.name == "car")
    with pytest.raises(PermissionDeniedError):
        world.labels.get(world.ctx(bob), car.id)
    with pytest.raises(PermissionDeniedError):
        world.labels.list(world.ctx(bob), {}, task_id=task.id)
    assert world.labels.list(world.ctx(bob), {}).value.count == 0
    updated = world.labels.update(ctx, car.id, LabelInput(name="vehicle", color="#00ff00")).value
    assert (updated.name, updated.color, updated.version) == ("vehicle", "#00ff00", 2)
    assert world.events.of("update:task")[-1]["before_update"] == {"labels": [car.id]}
    with pytest.raises(ValidationError):
        world.labels.update(
            ctx,
            car.id,
            LabelInput(
                attributes=[AttributeInput(name="n", input_type="number", mutable=True, values=["5", "1", "1"])]
            ),
        )
    sub = shown.related.sublabels[pose.id][0]
    with pytest.raises(ValidationError):
        world.labels.delete(ctx, sub.id)
    world.labels.delete(ctx, pose.id)
    assert [lb.name for lb in world.labels.list(ctx, {}, task_id=task.id).value.results] == ["vehicle"]
    with pytest.raises(NotFoundError):
        world.labels.get(ctx, sub.id)


def test_project_labels_listed_for_project(world):
    ctx = world.ctx(world.user("alice"))
    labels = [LabelInput(name="x"), LabelInput(name="y")]
    project = world.projects.create(ctx, ProjectCreate(name="P", labels=labels)).value
    names = [lb.name for lb in world.labels.list(ctx, {"sort": "name"}, project_id=project.id).value.results]
    assert names == ["x", "y"]
    labels = world.labels.list(ctx, {}, project_id=project.id).value.results
    assert labels[0].color != labels[1].color


def test_users_service(world):
    admin = world.user("root", SystemRole.ADMIN)
    alice, bob = world.user("alice"), world.user("bob")
    world.orgs.create(world.ctx(alice), slug="acme")
    inv = world.orgs.invite(world.ctx(alice, "acme"), email="bob@example.com", role="worker").value
    world.orgs.accept(world.ctx(bob), inv.key)
    assert [u.username for u in world.users.list(world.ctx(alice), {}).results] == ["alice"]
    assert sorted(u.username for u in world.users.list(world.ctx(alice, "acme"), {}).results) == ["alice", "bob"]
    assert world.users.list(world.ctx(admin), {"search": "b"}).count == 1
    assert world.users.get(world.ctx(alice, "acme"), bob.id).username == "bob"
    with pytest.raises(PermissionDeniedError):
        world.users.get(world.ctx(alice), bob.id)
    assert world.users.update(world.ctx(alice), alice.id, UserPatch(first_name="Alice")).first_name == "Alice"
    with pytest.raises(PermissionDeniedError):
        world.users.update(world.ctx(alice), alice.id, UserPatch(email="new@example.com"))
    with pytest.raises(PermissionDeniedError):
        world.users.update(world.ctx(alice), alice.id, UserPatch(groups=["admin"]))
    with pytest.raises(PermissionDeniedError):
        world.users.update(world.ctx(alice), bob.id, UserPatch(first_name="B"))
    assert world.users.update(world.ctx(admin), bob.id, UserPatch(is_active=False)).is_active is False
    event = world.events.of("update:user")[-1]
    assert event["before_update"] == {"is_active": True} and event["user"]["password_hash"] == ""
    with pytest.raises(ValidationError):
        world.users.update(world.ctx(admin), bob.id, UserPatch(username="alice"))
    with pytest.raises(PermissionDeniedError):
        world.users.delete(world.ctx(alice), bob.id)
    world.users.delete(world.ctx(admin), bob.id)
    assert world.repos.memberships.list_by_user(bob.id) == []

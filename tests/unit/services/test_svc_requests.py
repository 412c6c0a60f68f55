"""Background requests: who sees them, read repair of executions that ended without reporting,
and resuming the executions the embedded runtime lost in a restart (both backends)."""

from __future__ import annotations

import pytest

from cvat_serverless.domain.errors import NotFoundError
from cvat_serverless.domain.requests import BackgroundRequest, RequestAction
from cvat_serverless.domain.users import SystemRole


def _request(world, owner, rid="create:task-1-a", *, name="task-1-data-1-a") -> BackgroundRequest:
    request = BackgroundRequest(id=rid, action=RequestAction.CREATE, target="task", owner_id=owner.id, task_id=1,
                                created_date=world.clock.now(), workflow="task-data", execution_name=name,
                                workflow_input={"request_id": rid, "task_id": 1, "data_id": 1})
    world.repos.requests.add(request)
    world.container.workflows.start("task-data", name, request.workflow_input)
    return request


def test_owners_and_admins_see_a_request_others_do_not(world):
    alice, bob, root = world.user("alice"), world.user("bob"), world.user("root", SystemRole.ADMIN)
    _request(world, alice)
    requests = world.container.requests
    shown = requests.get(world.ctx(alice), "create:task-1-a")
    assert shown.value.status.value == "queued" and shown.related.users[alice.id].username == "alice"
    assert requests.get(world.ctx(root), "create:task-1-a").value.owner_id == alice.id
    with pytest.raises(NotFoundError):
        requests.get(world.ctx(bob), "create:task-1-a")
    assert requests.list(world.ctx(bob), {}).value.count == 0
    assert requests.list(world.ctx(alice), {"status": "queued"}).value.count == 1
    assert requests.list(world.ctx(alice), {"status": "finished"}).value.count == 0


def test_an_execution_that_failed_without_reporting_fails_its_request_on_read(world):
    alice = world.user("alice")
    _request(world, alice)
    requests, workflows = world.container.requests, world.container.workflows
    assert requests.get(world.ctx(alice), "create:task-1-a").value.status.value == "queued"  # still running
    workflows.end("task-data", "task-1-data-1-a", "TIMED_OUT", error="States.Timeout")
    failed = requests.get(world.ctx(alice), "create:task-1-a").value
    assert failed.status.value == "failed" and "timed_out" in failed.message
    workflows.runs.clear()  # the engine forgot it (a restarted embedded runtime)
    _request(world, alice, "create:task-1-b", name="task-1-data-1-b")
    workflows.runs.clear()
    assert requests.get(world.ctx(alice), "create:task-1-b").value.status.value == "failed"


def test_a_succeeded_execution_leaves_the_request_as_its_last_step_said(world):
    alice = world.user("alice")
    _request(world, alice)
    requests, workflows = world.container.requests, world.container.workflows
    requests.finish("create:task-1-a", result_id=1)
    workflows.end("task-data", "task-1-data-1-a", "SUCCEEDED")
    assert requests.get(world.ctx(alice), "create:task-1-a").value.status.value == "finished"


def test_interrupted_requests_resume_in_a_new_execution_and_ended_ones_stay(world):
    alice = world.user("alice")
    _request(world, alice)
    _request(world, alice, "create:task-2-a", name="task-2-data-2-a")
    world.container.requests.finish("create:task-2-a", result_id=2)
    workflows = world.container.workflows
    before = len(workflows.started)
    assert world.container.requests.resume_interrupted() == ["create:task-1-a"]
    workflow, name, payload = workflows.started[before]
    assert (workflow, name) == ("task-data", "task-1-data-1-a-r1")
    assert payload == {"request_id": "create:task-1-a", "task_id": 1, "data_id": 1}
    resumed = world.repos.requests.get("create:task-1-a")
    assert (resumed.execution_name, resumed.resumes, resumed.execution_base) == (
        "task-1-data-1-a-r1", 1, "task-1-data-1-a")
    world.container.requests.resume_interrupted()
    assert world.repos.requests.get("create:task-1-a").execution_name == "task-1-data-1-a-r2"


def test_a_request_interrupted_by_every_restart_fails_after_max_resumes(world):
    from cvat_serverless.services.requests import MAX_RESUMES

    alice = world.user("alice")
    _request(world, alice)
    requests = world.container.requests
    for _ in range(MAX_RESUMES):
        assert requests.resume_interrupted() == ["create:task-1-a"]
    assert requests.resume_interrupted() == []
    failed = requests.get(world.ctx(alice), "create:task-1-a").value
    assert failed.status.value == "failed"
    assert "interrupted" in failed.message and "Upload the data again" in failed.message

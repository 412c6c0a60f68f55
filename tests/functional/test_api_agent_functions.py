"""/api/functions* (native functions and their agents' queue) through an app built as the
functions API function builds it, over in-memory adapters, with real API Gateway REST events:
the bodies cvat-cli 2.80 sends, the answers its agent parses, and the failure cases."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from cvat_serverless import bootstrap
from cvat_serverless.adapters.memory_agent_functions import memory_agent_function_repositories
from cvat_serverless.api.cvat_api import CvatApi
from cvat_serverless.domain.agent_functions import ArStatus, RequestCategory
from cvat_serverless.services.agent_functions import AgentFunctionService
from tests.functional._api_world import Api
from tests.functional.conftest import load_handler
from tests.functional.test_api_annotations import task_with_data
from tests.memory_world import TEST_SETTINGS, memory_container

AGENT, OTHER_AGENT = "a" * 32, "b" * 32
DETECTOR = {"provider": "native", "name": "Cars", "visibility": "private", "kind": "detector",
            "labels_v2": [{"name": "car", "attributes": []}]}


class World:
    def __init__(self, core: Api, fns: Api) -> None:
        self.core, self.fns = core, fns
        self.on_sleep: list[Any] = []  # what happens "while" the service waits (an agent's work)

    @property
    def service(self) -> AgentFunctionService:
        return self.core.container.agent_functions

    def queue(self, fid: int, tail: str, *, encoded: bool = True) -> str:
        return f"/api/functions/queues/function{'%3A' if encoded else ':'}{fid}/{tail}"


@pytest.fixture(name="world")
def world_fixture(monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    for key, value in TEST_SETTINGS.items():
        monkeypatch.setenv(key, value)
    bootstrap.reset()
    container = memory_container()
    clock = container.clock
    world: World

    def sleep(seconds: float) -> None:  # no real waiting: the fixed clock moves, an "agent" may act
        clock.advance(timedelta(seconds=seconds))
        while world.on_sleep:
            world.on_sleep.pop(0)()

    container.agent_function_repos = memory_agent_function_repositories()
    container.agent_functions = AgentFunctionService(
        container.repos, container.agent_function_repos, container.ids, clock, annotations=container.annotations,
        actor_for=container.organizations.actor_for, wait_seconds=3, watch_seconds=2, sleep=sleep)
    monkeypatch.setattr(bootstrap, "container", lambda: container)
    app = CvatApi(container, lazy_routers={"/api/functions": "cvat_serverless.api.routers.agent_functions"})
    core = Api(container, load_handler("core_api"))
    world = World(core, Api(container, app.handle, keys=core.keys))
    core.user("alice")
    core.user("bob")
    yield world
    bootstrap.reset()


def _detector(world: World, user: str = "alice", **extra: Any) -> int:
    created = world.fns.post("/api/functions", {**DETECTOR, **extra}, user)
    assert created.status == 201, created.body
    return int(created.body["id"])


def _submit(world: World, fid: int, task: int, **extra: Any) -> str:
    answer = world.fns.post("/api/functions/requests/", {"function": fid, "task": task, **extra}, "alice")
    assert answer.status == 201, answer.body
    return str(answer.body["id"])


def _acquire(world: World, fid: int, category: str = "batch", agent: str = AGENT, **kw: Any) -> Any:
    return world.fns.post(world.queue(fid, "requests/acquire", **kw),
                          {"agent_id": agent, "request_category": category}, "alice")


def test_create_get_list_delete_as_cvat_cli_reads_them(world):
    api = world.fns
    body = _detector(world)
    got = api.get(f"/api/functions/{body}", "alice")
    assert got.status == 200
    fn = got.body
    assert (fn["id"], fn["provider"], fn["kind"], fn["name"]) == (body, "native", "detector", "Cars")
    assert fn["labels_v2"] == [{"name": "car", "type": "any", "attributes": []}]  # `type` or the agent crashes
    assert fn["min_neg_points"] == -1 and fn["startswith_box"] is False and fn["owner"]["username"] == "alice"
    assert fn["url"].endswith(f"/api/functions/{body}")
    listed = api.get("/api/functions", "alice")
    assert listed.status == 200 and [f["id"] for f in listed.body["results"]] == [body]
    # private: bob does not see it (404 as CVAT), nor may he delete it
    assert api.get(f"/api/functions/{body}", "bob").status == 404
    assert api.get("/api/functions", "bob").body["count"] == 0
    assert api.delete(f"/api/functions/{body}", "bob").status == 404
    public = _detector(world, visibility="public")
    assert api.get(f"/api/functions/{public}", "bob").status == 200
    assert api.delete(f"/api/functions/{public}", "bob").status == 403
    assert api.delete(f"/api/functions/{body}", "alice").status == 204
    assert api.get(f"/api/functions/{body}", "alice").status == 404
    assert api.delete(f"/api/functions/{body}", "alice").status == 404  # cvat-cli: "not found"
    assert api.get("/api/functions/999", "alice").status == 404
    assert api.get("/api/functions", None).status == 401


@pytest.mark.parametrize(("body", "field"), [
    ({**DETECTOR, "kind": "segmenter"}, "kind"),
    ({**DETECTOR, "labels_v2": [{"name": "car", "type": "blob"}]}, "labels_v2"),
    ({**DETECTOR, "name": ""}, "name"),
    ({"name": "SAM", "kind": "interactor"}, "min_pos_points"),
])
def test_bad_function_bodies_are_400_naming_the_field(world, body, field):
    answer = world.fns.post("/api/functions", body, "alice")
    assert answer.status == 400 and field in answer.body


def test_a_batch_request_through_the_agent_protocol_saves_auto_shapes_once(world):
    task, _jobs, labels = task_with_data(world.core, frames=3)
    fid = _detector(world)
    ar_id = _submit(world, fid, task, threshold=0.4)
    shown = world.fns.get(f"/api/functions/requests/{ar_id}", "alice").body
    assert shown["status"] == "queued" and shown["params"]["mapping"] == {"car": {"name": "car"}}
    assert world.fns.get(f"/api/functions/requests/{ar_id}", "bob").status == 404
    assert _acquire(world, fid, "interactive").body == {"ar_assignment": None}
    got = _acquire(world, fid)
    assert got.status == 200
    assignment = got.body["ar_assignment"]
    assert assignment["ar_id"] == ar_id and assignment["function_id"] == fid
    params = assignment["ar_params"]
    assert params["type"] == "annotate_task" and params["task"] == task and params["threshold"] == 0.4
    assert params["conv_mask_to_poly"] is False and params["cleanup"] is False
    assert _acquire(world, fid, agent=OTHER_AGENT).body == {"ar_assignment": None}  # nothing left
    # only the holder reports
    progress = world.fns.post(world.queue(fid, f"requests/{ar_id}/update"), {"agent_id": AGENT, "progress": 0.5},
                              "alice")
    assert progress.status == 204
    assert world.fns.get(f"/api/functions/requests/{ar_id}", "alice").body["progress"] == 0.5
    wrong = world.fns.post(world.queue(fid, f"requests/{ar_id}/update"), {"agent_id": OTHER_AGENT, "progress": 0.6},
                           "alice")
    assert wrong.status == 409
    result = {"annotations": {"tags": [], "shapes": [
        {"type": "rectangle", "frame": f, "label_id": labels["car"], "points": [1.0, 2.0, 10.0, 12.0],
         "source": "manual", "attributes": []} for f in range(3)]}}
    assert world.fns.post(world.queue(fid, f"requests/{ar_id}/complete"), {"agent_id": OTHER_AGENT, **result},
                          "alice").status == 409
    for _ in range(2):  # the agent retries when an answer is lost: the second is a no-op
        done = world.fns.post(world.queue(fid, f"requests/{ar_id}/complete", encoded=False),
                              {"agent_id": AGENT, **result}, "alice")
        assert done.status == 204, done.body
    shapes = world.core.get(f"/api/tasks/{task}/annotations", "alice").body["shapes"]
    assert len(shapes) == 3 and {s["source"] for s in shapes} == {"auto"}
    final = world.fns.get(f"/api/functions/requests/{ar_id}", "alice").body
    assert final["status"] == "completed" and final["progress"] == 1.0
    assert world.fns.post(world.queue(fid, f"requests/{ar_id}/fail"), {"agent_id": AGENT, "exc_info": "x"},
                          "alice").status == 409
    listed = world.fns.get("/api/functions/requests", "alice").body
    assert [r["id"] for r in listed["results"]] == [ar_id]


def test_bad_results_leave_the_request_to_the_agent_which_may_fail_it(world):
    task, _jobs, _labels = task_with_data(world.core, frames=2)
    fid = _detector(world)
    ar_id = _submit(world, fid, task)
    _acquire(world, fid)
    bad = {"annotations": {"shapes": [{"type": "rectangle", "frame": 0, "label_id": 99999, "points": [1, 2, 3, 4]}]}}
    assert world.fns.post(world.queue(fid, f"requests/{ar_id}/complete"), {"agent_id": AGENT, **bad},
                          "alice").status == 400
    assert world.fns.post(world.queue(fid, f"requests/{ar_id}/complete"), {"agent_id": AGENT, "annotations": 5},
                          "alice").status == 400
    assert world.fns.get(f"/api/functions/requests/{ar_id}", "alice").body["status"] == "assigned"
    failed = world.fns.post(world.queue(fid, f"requests/{ar_id}/fail"),
                            {"agent_id": AGENT, "exc_info": "Received HTTP status 400"}, "alice")
    assert failed.status == 204
    shown = world.fns.get(f"/api/functions/requests/{ar_id}", "alice").body
    assert shown["status"] == "failed" and shown["message"] == "Received HTTP status 400"
    assert world.core.get(f"/api/tasks/{task}/annotations", "alice").body["shapes"] == []


def test_submission_failures(world):
    task, _jobs, _labels = task_with_data(world.core, frames=2)
    fid = _detector(world)
    api = world.fns
    assert api.post("/api/functions/requests/", {"function": 999, "task": task}, "alice").status == 404
    assert api.post("/api/functions/requests/", {"function": fid, "task": 999}, "alice").status == 404
    assert api.post("/api/functions/requests/", {"function": fid}, "alice").status == 400
    assert api.post("/api/functions/requests/", {"function": fid, "task": task, "threshold": 2}, "alice").status == 400
    assert api.post("/api/functions/requests/", {"function": fid, "task": task, "mapping": {"car": {"name": "bus"}}},
                    "alice").status == 400
    other = _detector(world, labels_v2=[{"name": "zebra", "attributes": []}])
    assert api.post("/api/functions/requests/", {"function": other, "task": task}, "alice").status == 400
    # bob sees a public function but may not annotate alice's task
    public = _detector(world, visibility="public")
    assert api.post("/api/functions/requests/", {"function": public, "task": task}, "bob").status in (403, 404)


def test_the_queue_is_for_the_functions_managers_and_knows_its_ids(world):
    fid = _detector(world, visibility="public")
    assert world.fns.post(world.queue(fid, "requests/acquire"), {"agent_id": AGENT, "request_category": "batch"},
                          "bob").status == 403
    assert world.fns.post("/api/functions/queues/task%3A1/requests/acquire",
                          {"agent_id": AGENT, "request_category": "batch"}, "alice").status == 404
    assert world.fns.post(world.queue(999, "requests/acquire"), {"agent_id": AGENT, "request_category": "batch"},
                          "alice").status == 404
    assert _acquire(world, fid, "urgent").status == 400
    assert world.fns.post(world.queue(fid, "requests/acquire"), {"request_category": "batch"}, "alice").status == 400
    assert world.fns.post(world.queue(fid, "requests/nope/update"), {"agent_id": AGENT, "progress": 0.1},
                          "alice").status == 404


def test_a_silent_agent_loses_its_request_to_another(world):
    task, _jobs, _labels = task_with_data(world.core, frames=2)
    fid = _detector(world)
    ar_id = _submit(world, fid, task)
    assert _acquire(world, fid).body["ar_assignment"]["ar_id"] == ar_id
    world.core.container.clock.advance(timedelta(minutes=6))
    again = _acquire(world, fid, agent=OTHER_AGENT).body["ar_assignment"]
    assert again["ar_id"] == ar_id
    late = world.fns.post(world.queue(fid, f"requests/{ar_id}/complete"),
                          {"agent_id": AGENT, "annotations": {"tags": [], "shapes": []}}, "alice")
    assert late.status == 409


def test_cancel_a_request(world):
    task, _jobs, _labels = task_with_data(world.core, frames=2)
    fid = _detector(world)
    ar_id = _submit(world, fid, task)
    assert world.fns.delete(f"/api/functions/requests/{ar_id}", "bob").status == 404
    assert world.fns.delete(f"/api/functions/requests/{ar_id}", "alice").status == 204
    assert world.fns.get(f"/api/functions/requests/{ar_id}", "alice").body["status"] == "canceled"
    assert _acquire(world, fid).body == {"ar_assignment": None}


def test_watch_answers_events_for_queued_work_and_retry_alone_otherwise(world):
    fid = _detector(world)
    idle = world.fns.get(world.queue(fid, "watch"), "alice")
    assert idle.status == 200 and idle.header("Content-Type").startswith("text/event-stream")
    assert idle.body == "retry: 1000\n\n"
    task, _jobs, _labels = task_with_data(world.core, frames=2)
    _submit(world, fid, task)
    busy = world.fns.get(world.queue(fid, "watch", encoded=False), "alice")
    assert busy.body == 'event: newrequest\ndata: {"request_category": "batch"}\n\nretry: 1000\n\n'
    assert world.fns.get(world.queue(fid, "watch"), "bob").status == 404


def test_watch_returns_as_soon_as_work_arrives(world):
    task, _jobs, _labels = task_with_data(world.core, frames=2)
    fid = _detector(world)
    world.on_sleep.append(lambda: _submit(world, fid, task))
    answer = world.fns.get(world.queue(fid, "watch"), "alice")
    assert "event: newrequest" in answer.body


def test_run_waits_for_the_agents_answer(world):
    task, _jobs, labels = task_with_data(world.core, frames=2)
    fid = _detector(world)
    shapes = [{"type": "rectangle", "frame": 1, "label_id": labels["car"], "points": [1.0, 2.0, 3.0, 4.0]}]

    def agent() -> None:
        ar = world.service.agents.requests.list_queued(fid, RequestCategory.INTERACTIVE)[0]
        assert ar.ar_params["type"] == "annotate_frame" and ar.ar_params["frame"] == 1
        got = _acquire(world, fid, "interactive").body["ar_assignment"]
        done = world.fns.post(world.queue(fid, f"requests/{got['ar_id']}/complete"),
                              {"agent_id": AGENT, "annotations": {"tags": [], "shapes": shapes}}, "alice")
        assert done.status == 204

    world.on_sleep.append(agent)
    answer = world.fns.post(f"/api/functions/{fid}/run", {"task": task, "frame": 1, "threshold": 0.5}, "alice")
    assert answer.status == 200, answer.body
    assert answer.body == {"annotations": {"tags": [], "shapes": shapes}}
    assert world.core.get(f"/api/tasks/{task}/annotations", "alice").body["shapes"] == []  # the UI saves them


def test_run_without_an_agent_times_out_with_504_and_cancels(world):
    task, _jobs, _labels = task_with_data(world.core, frames=2)
    fid = _detector(world)
    answer = world.fns.post(f"/api/functions/{fid}/run", {"task": task, "frame": 0}, "alice")
    assert answer.status == 504 and "run-agent" in answer.body["detail"]
    ars = world.service.agents.requests.list_by_function(fid)
    assert [a.status for a in ars] == [ArStatus.CANCELED]
    assert world.fns.post(f"/api/functions/{fid}/run", {"task": task, "frame": 5}, "alice").status == 400
    assert world.fns.post(f"/api/functions/{fid}/run", {"frame": 0}, "alice").status == 400


def test_interactive_work_can_be_taken_while_holding_a_batch_request(world):
    task, _jobs, _labels = task_with_data(world.core, frames=2)
    fid = _detector(world)
    _submit(world, fid, task)
    assert _acquire(world, fid).body["ar_assignment"] is not None

    def agent() -> None:
        got = _acquire(world, fid, "interactive").body["ar_assignment"]
        assert got is not None and got["ar_params"]["type"] == "annotate_frame"
        failed = world.fns.post(world.queue(fid, f"requests/{got['ar_id']}/fail"),
                                {"agent_id": AGENT, "exc_info": "Worker process crashed"}, "alice")
        assert failed.status == 204

    world.on_sleep.append(agent)
    answer = world.fns.post(f"/api/functions/{fid}/run", {"task": task, "frame": 0}, "alice")
    assert answer.status == 503 and "Worker process crashed" in answer.body["detail"]


def test_the_functions_api_function_serves_the_protocol(world):
    """The real handler (functions/functions_api) over the same container, with the same paths."""
    handler = Api(world.core.container, load_handler("functions_api"), keys=world.core.keys)
    created = handler.post("/api/functions", DETECTOR, "alice")
    assert created.status == 201, created.body
    fid = created.body["id"]
    assert handler.get(f"/api/functions/{fid}", "alice").body["labels_v2"][0]["type"] == "any"
    assert handler.post(world.queue(fid, "requests/acquire"), {"agent_id": AGENT, "request_category": "batch"},
                        "alice").body == {"ar_assignment": None}

"""Jobs through the core API: list with CVAT's filters, retrieve, stage/state/assignee updates."""

from __future__ import annotations

from cvat_serverless.domain.users import SystemRole
from tests.functional._api_world import api_fixture, sdk_parse  # noqa: F401 - fixture
from tests.functional.test_api_tasks import attach


def _task_with_jobs(api, owner="alice", frames=10, segment_size=4) -> int:
    tid = api.post("/api/tasks", {"name": "T", "labels": [{"name": "car"}], "segment_size": segment_size},
                   owner).body["id"]
    attach(api, tid, frames=frames)
    return tid


def test_jobs_of_a_task_as_the_sdk_lists_them(api):
    api.user("alice")
    tid = _task_with_jobs(api)
    other = _task_with_jobs(api)
    answer = api.get("/api/jobs", "alice", query={"task_id": str(tid), "org": "", "page": "1"})
    assert answer.status == 200
    page = sdk_parse("PaginatedJobReadList", answer.body)
    assert page["count"] == 3 and answer.body["next"] is None
    jobs = sorted(answer.body["results"], key=lambda j: j["start_frame"])
    assert [(j["start_frame"], j["stop_frame"], j["frame_count"]) for j in jobs] == [(0, 3, 4), (4, 7, 4), (8, 9, 2)]
    job = jobs[0]
    assert job["task_id"] == tid and job["stage"] == "annotation" and job["state"] == "new"
    assert job["type"] == "annotation" and job["data_chunk_size"] == 4 and job["organization"] is None
    assert job["labels"]["url"].endswith(f"/api/labels?job_id={job['id']}")
    assert api.get("/api/jobs", "alice").body["count"] == 6
    others = api.get("/api/jobs", "alice", query={"task_id": str(other)}).body["results"]
    assert len(others) == 3 and all(j["task_id"] == other for j in others)
    got = api.get(f"/api/jobs/{job['id']}", "alice")
    assert got.status == 200
    sdk_parse("JobRead", got.body)
    labels = api.get("/api/labels", "alice", query={"job_id": str(job["id"])})
    assert [lb["name"] for lb in labels.body["results"]] == ["car"]


def test_stage_state_and_assignee_updates(api):
    api.user("alice")
    api.user("bob")
    tid = _task_with_jobs(api, frames=4)
    job_id = api.get("/api/jobs", "alice", query={"task_id": str(tid)}).body["results"][0]["id"]
    bob = api.repos.users.find_by_username("bob").id
    assigned = api.patch(f"/api/jobs/{job_id}", {"assignee": bob}, "alice")
    assert assigned.status == 200 and assigned.body["assignee"]["username"] == "bob"
    moved = api.patch(f"/api/jobs/{job_id}", {"stage": "acceptance", "state": "completed"}, "alice")
    assert moved.status == 200
    assert (moved.body["stage"], moved.body["state"], moved.body["status"]) == ("acceptance", "completed", "completed")
    assert api.get(f"/api/tasks/{tid}", "alice").body["status"] == "completed"
    # a stage change alone resets the state, as in CVAT
    back = api.patch(f"/api/jobs/{job_id}", {"stage": "validation"}, "alice")
    assert (back.body["stage"], back.body["state"]) == ("validation", "new")
    # the assignee sees the job; filters find it
    assert api.get(f"/api/jobs/{job_id}", "bob").status == 200
    assert api.get("/api/jobs", "bob").body["count"] == 1
    assert api.get("/api/jobs", "alice", query={"stage": "validation"}).body["count"] == 1
    assert api.get("/api/jobs", "alice", query={"assignee": "bob"}).body["count"] == 1
    assert api.get("/api/jobs", "alice", query={"state": "in progress"}).body["count"] == 0
    # unassign
    assert api.patch(f"/api/jobs/{job_id}", {"assignee": None}, "alice").body["assignee"] is None


def test_bad_job_updates_and_permissions(api):
    api.user("alice")
    api.user("eve", SystemRole.WORKER)
    tid = _task_with_jobs(api, frames=4)
    job_id = api.get("/api/jobs", "alice", query={"task_id": str(tid)}).body["results"][0]["id"]
    bad = api.patch(f"/api/jobs/{job_id}", {"stage": "done"}, "alice")
    assert bad.status == 400 and "stage" in bad.body
    assert api.patch(f"/api/jobs/{job_id}", {"state": None}, "alice").status == 400
    assert api.patch(f"/api/jobs/{job_id}", {"assignee": 999}, "alice").status == 400
    assert api.get(f"/api/jobs/{job_id}", "eve").status == 403
    assert api.patch(f"/api/jobs/{job_id}", {"state": "completed"}, "eve").status == 403
    assert api.get("/api/jobs/999", "alice").status == 404
    assert api.get("/api/jobs", "alice", query={"task_id": "x"}).status == 400

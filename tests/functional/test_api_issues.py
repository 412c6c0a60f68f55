"""Review issues and comments through the core API: CVAT's shapes as cvat-sdk parses them, the
SDK's list calls, PATCH/DELETE, CVAT's 400 bodies and the rules."""

from __future__ import annotations

from cvat_serverless.domain.users import SystemRole
from tests.functional._api_world import api_fixture, sdk_parse  # noqa: F401 - fixture
from tests.functional.test_api_jobs import _task_with_jobs

BOX = [10.0, 20.5, 30.0, 40.0]


def _job(api, owner: str = "alice") -> dict:
    tid = _task_with_jobs(api, owner, frames=8, segment_size=4)
    jobs = api.get("/api/jobs", owner, query={"task_id": str(tid)}).body["results"]
    return min(jobs, key=lambda j: j["start_frame"])  # frames 0..3


def test_issue_and_comments_as_the_sdk_reads_them(api):
    api.user("alice")
    job = _job(api)
    created = api.post("/api/issues", {"job": job["id"], "frame": 2, "position": BOX, "message": "a car is missing"},
                       "alice")
    assert created.status == 201
    issue = sdk_parse("IssueRead", created.body)
    body = created.body
    assert (body["job"], body["frame"], body["position"], body["resolved"]) == (job["id"], 2, BOX, False)
    assert body["owner"]["username"] == "alice" and body["assignee"] is None
    assert body["comments"]["count"] == 1 and body["comments"]["url"].endswith(f"/api/comments?issue_id={issue['id']}")
    assert "message" not in body
    # Job.get_issues() and Issue.get_comments(), as the SDK sends them
    listed = api.get("/api/issues", "alice", query={"job_id": str(job["id"]), "org": "", "page": "1"})
    assert listed.status == 200 and listed.body["count"] == 1 and listed.body["next"] is None
    sdk_parse("PaginatedIssueReadList", listed.body)
    assert api.get(f"/api/jobs/{job['id']}", "alice").body["issues"]["count"] == 1
    comments = api.get("/api/comments", "alice", query={"issue_id": str(issue["id"]), "org": "", "page": "1"})
    assert comments.status == 200
    sdk_parse("PaginatedCommentReadList", comments.body)
    (first,) = comments.body["results"]
    assert (first["issue"], first["message"], first["owner"]["username"]) == (issue["id"], "a car is missing", "alice")
    reply = api.post("/api/comments", {"issue": issue["id"], "message": "fixed"}, "alice")
    assert reply.status == 201
    sdk_parse("CommentRead", reply.body)
    edited = api.patch(f"/api/comments/{reply.body['id']}", {"message": "fixed now"}, "alice")
    assert edited.status == 200 and edited.body["message"] == "fixed now"
    assert api.get(f"/api/comments/{reply.body['id']}", "alice").body["message"] == "fixed now"
    assert api.get(f"/api/issues/{issue['id']}", "alice").body["comments"]["count"] == 2
    assert api.delete(f"/api/comments/{reply.body['id']}", "alice").status == 204
    assert api.get(f"/api/comments/{reply.body['id']}", "alice").status == 404


def test_patch_filters_and_delete(api):
    api.user("alice")
    bob = api.user("bob")
    job = _job(api)
    ids = [api.post("/api/issues", {"job": job["id"], "frame": f, "position": BOX, "message": "m"}, "alice").body["id"]
           for f in (0, 1, 3)]
    patched = api.patch(f"/api/issues/{ids[1]}", {"resolved": True, "assignee": bob.id, "position": [1, 2, 3, 4]},
                        "alice")
    assert patched.status == 200
    sdk_parse("IssueRead", patched.body)
    assert patched.body["resolved"] is True and patched.body["assignee"]["username"] == "bob"
    assert patched.body["position"] == [1.0, 2.0, 3.0, 4.0]
    assert api.get("/api/issues", "alice", query={"resolved": "true"}).body["count"] == 1
    by_frame = api.get("/api/issues", "alice", query={"sort": "frame_id"}).body["results"]
    assert [i["frame"] for i in by_frame] == [0, 1, 3]
    assert api.get("/api/issues", "alice", query={"assignee": "bob"}).body["results"][0]["id"] == ids[1]
    assert api.get("/api/issues", "alice", query={"frame_id": "3"}).body["count"] == 1
    assert api.get("/api/issues", "bob").body["count"] == 1  # the assignee sees that one only
    unassigned = api.patch(f"/api/issues/{ids[1]}", {"assignee": None}, "alice")
    assert unassigned.body["assignee"] is None
    assert api.delete(f"/api/issues/{ids[0]}", "alice").status == 204
    assert api.get(f"/api/issues/{ids[0]}", "alice").status == 404
    assert api.get("/api/comments", "alice", query={"job_id": str(job["id"])}).body["count"] == 2


def test_bad_input_answers_cvat_400s_and_rules_answer_403(api):
    api.user("alice")
    api.user("eve", SystemRole.WORKER)
    job = _job(api)

    def create(**kw):
        return api.post("/api/issues", {"job": job["id"], "frame": 0, "position": BOX, "message": "m", **kw}, "alice")

    outside = create(frame=4)
    assert outside.status == 400 and "frame" in outside.body
    odd = create(position=[1.0, 2.0, 3.0])
    assert odd.status == 400 and "position" in odd.body
    assert create(position=["x"]).status == 400
    assert create(message="").status == 400
    assert create(job=999).status == 400 and "job" in create(job=999).body
    assert create(assignee=999).status == 400
    assert api.post("/api/issues", {"job": job["id"], "frame": 0}, "alice").status == 400
    assert api.post("/api/comments", {"issue": 999, "message": "x"}, "alice").status == 400
    assert api.get("/api/issues", "alice", query={"job_id": "x"}).status == 400
    issue_id = create().body["id"]
    assert api.patch(f"/api/issues/{issue_id}", {"resolved": None}, "alice").status == 400
    assert api.patch(f"/api/issues/{issue_id}", {"position": [1.0]}, "alice").status == 400
    assert api.get(f"/api/issues/{issue_id}", "eve").status == 403
    assert api.patch(f"/api/issues/{issue_id}", {"resolved": True}, "eve").status == 403
    assert api.delete(f"/api/issues/{issue_id}", "eve").status == 403
    assert api.post("/api/comments", {"issue": issue_id, "message": "x"}, "eve").status == 403
    assert create().status == 201 and api.post(
        "/api/issues", {"job": job["id"], "frame": 0, "position": BOX, "message": "m"}, "eve").status == 403
    assert api.get("/api/issues", "eve").body["count"] == 0
    assert api.get("/api/issues").status == 401
    assert api.get("/api/issues/999", "alice").status == 404


def test_deleting_the_task_removes_its_issues(api):
    api.user("alice")
    job = _job(api)
    issue = api.post("/api/issues", {"job": job["id"], "frame": 1, "position": BOX, "message": "m"}, "alice").body
    assert api.delete(f"/api/tasks/{job['task_id']}", "alice").status == 204
    assert api.get(f"/api/issues/{issue['id']}", "alice").status == 404
    assert api.get("/api/issues", "alice").body["count"] == 0
    assert api.get("/api/comments", "alice").body["count"] == 0

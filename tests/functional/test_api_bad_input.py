"""Every bad input is a 4xx in CVAT's error shapes, never a 500 (property-tested)."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.events import rest_event
from tests.functional._api_world import Api, api_fixture, build_container, serve  # noqa: F401 - fixture
from tests.functional.conftest import Context

JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**40), 2**40) | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=12,
)
FIELDS = ["name", "labels", "project_id", "owner_id", "assignee_id", "segment_size", "overlap", "subset",
          "bug_tracker", "target_storage", "stage", "state", "assignee", "slug", "role", "email", "attributes",
          "type", "color", "sublabels", "expiry_date", "read_only", "groups", "username"]
BODIES = st.one_of(JSON, st.dictionaries(st.sampled_from(FIELDS), JSON, max_size=5))
WRITES = st.sampled_from([
    ("POST", "/api/projects"), ("PATCH", "/api/projects/1"), ("POST", "/api/tasks"), ("PATCH", "/api/tasks/1"),
    ("PATCH", "/api/jobs/1"), ("PATCH", "/api/labels/1"), ("POST", "/api/organizations"),
    ("PATCH", "/api/organizations/1"), ("POST", "/api/invitations"), ("PATCH", "/api/memberships/1"),
    ("POST", "/api/auth/access_tokens"), ("PATCH", "/api/auth/access_tokens/1"), ("PATCH", "/api/users/1"),
    ("POST", "/api/auth/login"), ("POST", "/api/auth/register"), ("POST", "/api/auth/password/change"),
])
QUERY_KEYS = st.sampled_from(["page", "page_size", "sort", "search", "filter", "org", "org_id", "task_id",
                              "project_id", "job_id", "name", "owner", "stage", "parent_id", "is_active"])
LISTS = st.sampled_from(["/api/projects", "/api/tasks", "/api/jobs", "/api/labels", "/api/users",
                         "/api/organizations", "/api/memberships", "/api/invitations", "/api/auth/access_tokens"])


def _world(monkeypatch) -> Api:
    api = Api(*serve(monkeypatch, build_container()))
    api.user("alice")
    api.post("/api/organizations", {"slug": "acme"}, "alice")
    api.post("/api/projects", {"name": "P", "labels": [{"name": "cat"}]}, "alice")
    api.post("/api/tasks", {"name": "T", "labels": [{"name": "car"}]}, "alice")
    return api


def _check(answer) -> None:
    assert 200 <= answer.status < 500, (answer.status, answer.body)
    if answer.status == 400:
        body = answer.body
        assert isinstance(body, (dict, list)), body
        if isinstance(body, dict):
            assert all(isinstance(k, str) and isinstance(v, list) for k, v in body.items()), body


def test_random_bodies_never_break_the_api(monkeypatch, settings_env):
    api = _world(monkeypatch)

    @settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(WRITES, BODIES)
    def run(route, body):
        method, path = route
        _check(api.call(method, path, raw_body=json.dumps(body).encode(), as_user="alice"))

    run()


def test_random_list_queries_never_break_the_api(monkeypatch, settings_env):
    api = _world(monkeypatch)

    @settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(LISTS, st.dictionaries(QUERY_KEYS, st.text(max_size=30), max_size=4))
    def run(path, query):
        _check(api.get(path, "alice", query=query))

    run()


def test_malformed_json_and_wrong_content_is_400(monkeypatch, settings_env):
    api = _world(monkeypatch)
    for raw in (b"{", b"[1, 2", b"\xff\xfe", b"null", b'"text"'):
        answer = api.call("POST", "/api/projects", raw_body=raw, as_user="alice", binary=True)
        _check(answer)
        assert answer.status == 400, (raw, answer.body)


def test_a_body_in_an_unsupported_media_type_is_415(monkeypatch, settings_env):
    api = _world(monkeypatch)
    for path, method in (("/api/projects", "POST"), ("/api/tasks/1", "PATCH"), ("/api/auth/login", "POST")):
        answer = api.call(method, path, {"name": "P"}, as_user="alice", headers={"Content-Type": "text/plain"})
        assert answer.status == 415, answer.body
        assert answer.body == {"detail": 'Unsupported media type "text/plain" in request.'}


def test_multipart_without_a_boundary_is_400(monkeypatch, settings_env):
    api = _world(monkeypatch)
    answer = api.call("POST", "/api/projects", {"name": "P"}, as_user="alice",
                      headers={"Content-Type": "multipart/form-data"})
    assert answer.status == 400 and "boundary" in answer.body[0]


def test_a_repeated_query_parameter_counts_with_its_last_value(api):
    """As Django's QueryDict.get in CVAT; API Gateway hands both values over."""
    api.user("alice")
    for name in ("A", "B", "C"):
        api.post("/api/projects", {"name": name}, "alice")
    event = rest_event("GET", "/api/projects", headers={"Authorization": f"Token {api.keys['alice']}"},
                       query={"page_size": ["2", "1"], "sort": ["name", "-name"]})
    answer = api.handler(event, Context("core_api"))
    assert answer["statusCode"] == 200, answer["body"]
    body = json.loads(answer["body"])
    assert [p["name"] for p in body["results"]] == ["C"]
    assert body["count"] == 3

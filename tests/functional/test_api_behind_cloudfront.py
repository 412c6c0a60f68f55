"""The API behind the UI's CloudFront distribution (template.yaml, UiDistribution): the origin
request policy replaces Host with the execute-api host and ApiForwardedHostFunction sets
X-Forwarded-Host to the host the browser addressed, so a session write from the UI's origin
passes CVAT's Origin check and the answer's links name that origin."""

from __future__ import annotations

from tests.functional._api_world import PASSWORD, api_fixture  # noqa: F401 - fixture

EXECUTE_API = "abcdef1234.execute-api.us-east-1.amazonaws.com"
UI_HOST = "d111111abcdef8.cloudfront.net"


def _behind_cloudfront(cookies, origin):
    return {"Cookie": f"csrftoken={cookies['csrftoken']}; sessionid={cookies['sessionid']}",
            "X-CSRFToken": cookies["csrftoken"], "Origin": origin, "Host": EXECUTE_API,
            "X-Forwarded-Host": UI_HOST, "X-Forwarded-Proto": "https"}


def test_a_session_write_from_the_ui_origin_passes_and_links_name_it(api):
    api.user("alice")
    cookies = api.call("POST", "/api/auth/login", {"username": "alice", "password": PASSWORD}).cookies()
    created = api.call("POST", "/api/projects", {"name": "P"}, headers=_behind_cloudfront(cookies, f"https://{UI_HOST}"))
    assert created.status == 201, created.body
    assert created.body["url"].startswith(f"https://{UI_HOST}/api/projects/")


def test_another_origin_is_still_refused_behind_cloudfront(api):
    api.user("alice")
    cookies = api.call("POST", "/api/auth/login", {"username": "alice", "password": PASSWORD}).cookies()
    evil = api.call("POST", "/api/projects", {"name": "P"}, headers=_behind_cloudfront(cookies, "https://evil.example"))
    assert evil.status == 403 and "Origin" in evil.body["detail"]
    assert api.repos.projects.list_all() == []

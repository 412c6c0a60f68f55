"""The API behind the UI's CloudFront distribution (template.yaml, UiDistribution): the origin
request policy replaces Host with the execute-api host and ApiForwardedHostFunction sets
X-Forwarded-Host to the host the browser addressed, so a session write from the UI's origin
passes CVAT's Origin check and the answer's links name that origin."""

from __future__ import annotations

import dataclasses

import pytest

from tests.functional._api_world import PASSWORD, Api, api_fixture, serve  # noqa: F401 - fixture
from tests.memory_world import memory_container

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


# ---------------------------------------------------------------- the viewer's address
EDGE_IP = "130.176.0.10"  # a CloudFront origin-facing address: what API Gateway reports behind it
SECRET = "edge-secret-of-this-stack"


def _through(api, *, viewer: str, secret: str | None):
    """``api`` reached through CloudFront: API Gateway sees the edge; the viewer-request function
    names the viewer, and the origin custom header carries ``secret``."""
    handler = api.handler

    def via_edge(event, context):
        event["requestContext"]["identity"]["sourceIp"] = EDGE_IP
        event["headers"]["X-Cvat-Viewer-Ip"] = viewer
        event["multiValueHeaders"]["X-Cvat-Viewer-Ip"] = [viewer]
        if secret is not None:
            event["headers"]["X-Cvat-Edge-Secret"] = secret
            event["multiValueHeaders"]["X-Cvat-Edge-Secret"] = [secret]
        return handler(event, context)

    return dataclasses.replace(api, handler=via_edge)


@pytest.fixture
def edge(monkeypatch):
    container = memory_container()
    container.settings = dataclasses.replace(container.settings, edge_secret=SECRET)
    return Api(*serve(monkeypatch, container))


def _flood(api, times):
    """``times`` logins with the right password: the per-address limit counts every login (30 a
    minute), and no failed-password throttle gets in the way."""
    if "alice" not in api.keys:
        api.user("alice")
    return [api.call("POST", "/api/auth/login", {"username": "alice", "password": PASSWORD}).status
            for _ in range(times)]


def test_viewers_behind_one_edge_are_limited_each_by_their_own_address(edge):
    statuses = _flood(_through(edge, viewer="203.0.113.7", secret=SECRET), 31)
    assert statuses[-1] == 429 and 429 not in statuses[:30]
    # another viewer behind the same edge is not held up by the first one's flood
    assert _flood(_through(edge, viewer="198.51.100.9", secret=SECRET), 1) != [429]


def test_a_viewer_address_without_the_edge_secret_is_ignored(edge):
    # the execute-api URL called directly with a forged header: counted by API Gateway's address
    for n in range(31):
        statuses = _flood(_through(edge, viewer=f"192.0.2.{n}", secret="guessed"), 1)
    assert statuses == [429]
    assert _flood(_through(edge, viewer="192.0.2.200", secret=None), 1) == [429]


def test_the_edge_headers_never_reach_the_routes():
    from cvat_serverless.api.http import from_edge

    event = {"headers": {"X-Cvat-Edge-Secret": SECRET, "X-Cvat-Viewer-Ip": "203.0.113.7", "Host": "h"},
             "multiValueHeaders": {"x-cvat-edge-secret": [SECRET], "x-cvat-viewer-ip": ["203.0.113.7"]},
             "requestContext": {"identity": {"sourceIp": EDGE_IP}}}
    seen = from_edge(event, SECRET)
    assert seen["requestContext"]["identity"]["sourceIp"] == "203.0.113.7"
    assert seen["headers"] == {"Host": "h"} and seen["multiValueHeaders"] == {}
    assert event["requestContext"]["identity"]["sourceIp"] == EDGE_IP  # the caller's event is left alone
    assert from_edge(event, "")["requestContext"]["identity"]["sourceIp"] == EDGE_IP  # no CloudFront here
    bad = {**event, "headers": {**event["headers"], "X-Cvat-Viewer-Ip": "not-an-address"},
           "multiValueHeaders": {}}
    assert from_edge(bad, SECRET)["requestContext"]["identity"]["sourceIp"] == EDGE_IP

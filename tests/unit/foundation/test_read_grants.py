"""The few-seconds memory of read decisions (api.read_grants): kept per credential, organization
selectors and object; forgotten after its time and beyond its size."""

from __future__ import annotations

from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent

from cvat_serverless.api.read_grants import ReadGrants, grant_key
from tests.events import rest_event


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_decision_lasts_its_ttl():
    clock = Clock()
    grants: ReadGrants[str] = ReadGrants(ttl=10, clock=clock)
    grants.put("k", "task 1")
    clock.now += 9.9
    assert grants.get("k") == "task 1"
    clock.now += 0.2
    assert grants.get("k") is None
    assert grants.get(None) is None
    grants.put(None, "nothing is kept without a key")
    assert len(grants._grants) == 0


def test_the_oldest_decisions_go_first():
    grants: ReadGrants[int] = ReadGrants(kept=2)
    for n in range(3):
        grants.put(str(n), n)
    assert [grants.get(str(n)) for n in range(3)] == [None, 1, 2]


def test_keys_follow_the_credential_the_organization_and_the_object():
    def key(headers: dict[str, str], query: dict[str, list[str]] | None = None,
            scope: tuple[object, ...] = ("task", 1)) -> str | None:
        event = APIGatewayProxyEvent(rest_event("GET", "/api/tasks/1/data", headers=headers, query=query))
        return grant_key(event, *scope)

    token = {"Authorization": "Token abc"}
    assert key({}) is None  # anonymous: nothing kept
    assert key(token) == key(token)
    assert key(token) != key({"Authorization": "Token abd"})
    assert key(token) != key(token, scope=("task", 2))
    assert key(token) != key({**token, "X-Organization": "org"})
    assert key(token) != key(token, {"org_id": ["3"]})
    assert key({"Cookie": "sessionid=s1; csrftoken=c"}) != key({"Cookie": "sessionid=s2; csrftoken=c"})

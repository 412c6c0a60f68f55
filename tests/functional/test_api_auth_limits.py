"""A locked-down public edge through the API: closed self-registration answers as CVAT without its
register route, and one client address can neither flood logins nor mass-register."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from typing import Any

import pytest

from tests.functional._api_world import PASSWORD, Api, api_fixture, sdk_parse, serve  # noqa: F401 - fixture
from tests.memory_world import memory_container


def _from(api: Api, address: str) -> Api:
    """The same API, reached from another address (as API Gateway reports it)."""
    handler = api.handler

    def from_address(event: dict[str, Any], context: Any) -> Any:
        event["requestContext"]["identity"]["sourceIp"] = address
        return handler(event, context)

    return dataclasses.replace(api, handler=from_address)


def _account(name: str) -> dict[str, str]:
    return {"username": name, "email": f"{name}@example.com", "password1": "Long-enough-pw-1",
            "password2": "Long-enough-pw-1"}


@pytest.fixture
def closed(api: Api, monkeypatch: pytest.MonkeyPatch) -> Api:
    """A deployment with CVAT_SELF_REGISTRATION=false."""
    container = memory_container()
    container.settings = dataclasses.replace(container.settings, self_registration="false")
    return Api(*serve(monkeypatch, container))


def test_closed_registration_answers_like_cvat_without_its_register_route(closed: Api):
    answer = closed.call("POST", "/api/auth/register", _account("newbie"))
    assert (answer.status, answer.body) == (404, {"detail": "Not found."})
    assert answer.body == closed.call("POST", "/api/auth/no-such-route", {}).body  # indistinguishable
    assert closed.repos.users.find_by_username("newbie") is None
    # CVAT's UI offers "Create an account" only when the schema has the path
    schema = closed.call("GET", "/api/schema")
    assert schema.status == 200
    assert "/api/auth/register" not in schema.body["paths"] and "/api/auth/login" in schema.body["paths"]
    # users an admin made still log in
    closed.user("alice")
    assert closed.call("POST", "/api/auth/login", {"username": "alice", "password": PASSWORD}).status == 200


def test_open_registration_still_works_and_is_in_the_schema(api: Api):
    answer = api.call("POST", "/api/auth/register", _account("newbie"))
    assert answer.status == 201
    sdk_parse("RegisterSerializerEx", answer.body)
    assert "/api/auth/register" in api.call("GET", "/api/schema").body["paths"]


def test_the_sixth_registration_from_one_address_within_an_hour_is_throttled(api: Api):
    for n in range(5):
        assert api.call("POST", "/api/auth/register", _account(f"user{n}")).status == 201
    # a forwarding header the client wrote changes nothing: API Gateway's source IP counts
    sixth = api.call("POST", "/api/auth/register", _account("user5"), headers={"X-Forwarded-For": "192.0.2.1"})
    assert sixth.status == 429
    assert sixth.header("Retry-After") == "3600"
    assert sixth.body == {"detail": "Request was throttled. Expected available in 3600 seconds."}
    assert api.repos.users.find_by_username("user5") is None
    # another address is not affected
    assert _from(api, "198.51.100.9").call("POST", "/api/auth/register", _account("user5")).status == 201
    api.container.clock.advance(timedelta(hours=1))
    assert api.call("POST", "/api/auth/register", _account("user6")).status == 201


def test_a_login_flood_from_one_address_is_throttled_right_password_or_not(api: Api):
    api.user("alice")
    api.user("bob")
    for n in range(30):  # wrong ones spread over many accounts stay under the failure throttle
        login = {"username": "alice", "password": PASSWORD} if n % 2 else {"username": f"ghost{n}", "password": "x"}
        assert api.call("POST", "/api/auth/login", login).status in (200, 401)
    flood = api.call("POST", "/api/auth/login", {"username": "bob", "password": PASSWORD})
    assert flood.status == 429
    assert flood.header("Retry-After") == "60"
    assert flood.body == {"detail": "Request was throttled. Expected available in 60 seconds."}
    elsewhere = _from(api, "198.51.100.9")
    assert elsewhere.call("POST", "/api/auth/login", {"username": "bob", "password": PASSWORD}).status == 200
    api.container.clock.advance(timedelta(minutes=1))
    assert api.call("POST", "/api/auth/login", {"username": "bob", "password": PASSWORD}).status == 200

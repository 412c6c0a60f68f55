"""A dependency that fails is a 503 with Retry-After, never a 4xx that blames the client: the core
API on DynamoDB (moto, the table template.yaml declares), with DynamoDB throttling injected."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from botocore.client import BaseClient
from botocore.exceptions import ClientError

from cvat_serverless import bootstrap
from cvat_serverless.adapters.memory import InMemoryPasswordHasher
from tests.functional._api_world import PASSWORD, Api, load_handler

Rule = Callable[[str, dict[str, Any]], bool]


@pytest.fixture
def aws_api(stack) -> Api:
    """The production wiring (DynamoDB, S3, EventBridge on moto), with a fast password hasher."""
    container = bootstrap.container()
    container.passwords = InMemoryPasswordHasher()  # type: ignore[misc]
    api = Api(container, load_handler("core_api"))
    api.user("alice")
    return api


@contextmanager
def dynamodb_throttled(monkeypatch: pytest.MonkeyPatch, rule: Rule) -> Iterator[list[str]]:
    """Every DynamoDB call that ``rule(operation, params)`` picks fails as DynamoDB fails under
    load (after botocore's own retries): ProvisionedThroughputExceededException."""
    original = BaseClient._make_api_call
    throttled: list[str] = []

    def call(self: BaseClient, operation: str, params: dict[str, Any]) -> Any:
        if self.meta.service_model.service_name == "dynamodb" and rule(operation, params):
            throttled.append(operation)
            raise ClientError({"Error": {"Code": "ProvisionedThroughputExceededException",
                                         "Message": "The level of configured provisioned throughput was exceeded."},
                               "ResponseMetadata": {"HTTPStatusCode": 400}}, operation)
        return original(self, operation, params)

    with monkeypatch.context() as patch:
        patch.setattr(BaseClient, "_make_api_call", call)
        yield throttled


def _reads(pk_prefix: str) -> Rule:
    def rule(operation: str, params: dict[str, Any]) -> bool:
        if operation == "GetItem":
            return str(params["Key"]["pk"]["S"]).startswith(pk_prefix)
        if operation == "BatchGetItem":
            keys = [k["pk"]["S"] for table in params["RequestItems"].values() for k in table["Keys"]]
            return any(str(k).startswith(pk_prefix) for k in keys)
        return False
    return rule


def _assert_unavailable(answer: Any) -> None:
    assert answer.status == 503, answer.body
    assert int(answer.header("Retry-After")) > 0
    assert "try again" in answer.body["detail"]


def test_a_throttled_read_of_a_named_project_is_a_503_not_a_400(aws_api, monkeypatch):
    project = aws_api.post("/api/projects", {"name": "P", "labels": [{"name": "cat"}]}, "alice")
    assert project.status == 201
    with dynamodb_throttled(monkeypatch, _reads("PROJECT#")) as throttled:
        # the named bug: a throttled lookup of the project read as "object does not exist" (400)
        answer = aws_api.post("/api/tasks", {"name": "T", "project_id": project.body["id"]}, "alice")
    assert throttled
    _assert_unavailable(answer)
    # nothing was stored, and the same request works once DynamoDB answers again
    assert aws_api.get("/api/tasks", "alice").body["count"] == 0
    assert aws_api.post("/api/tasks", {"name": "T", "project_id": project.body["id"]}, "alice").status == 201


def test_a_throttled_read_of_an_owner_is_a_503_not_a_400(aws_api, monkeypatch):
    bob = aws_api.user("bob")
    with dynamodb_throttled(monkeypatch, lambda op, params: op == "GetItem"
                            and params["Key"]["pk"]["S"] == f"USER#{bob.id}"):
        answer = aws_api.post("/api/projects", {"name": "P", "owner_id": bob.id}, "alice")
    _assert_unavailable(answer)
    assert aws_api.get("/api/projects", "alice").body["count"] == 0


def test_a_throttled_get_is_a_503_not_a_404(aws_api, monkeypatch):
    task = aws_api.post("/api/tasks", {"name": "T", "labels": [{"name": "car"}]}, "alice")
    with dynamodb_throttled(monkeypatch, _reads("TASK#")):
        _assert_unavailable(aws_api.get(f"/api/tasks/{task.body['id']}", "alice"))
    assert aws_api.get(f"/api/tasks/{task.body['id']}", "alice").status == 200


def test_a_throttled_list_and_a_throttled_write_are_503s(aws_api, monkeypatch):
    aws_api.post("/api/projects", {"name": "P"}, "alice")
    with dynamodb_throttled(monkeypatch, lambda op, _: op == "Query"):
        _assert_unavailable(aws_api.get("/api/projects", "alice"))
    with dynamodb_throttled(monkeypatch, lambda op, _: op == "TransactWriteItems"):
        _assert_unavailable(aws_api.post("/api/projects", {"name": "Q"}, "alice"))
    assert [p["name"] for p in aws_api.get("/api/projects", "alice").body["results"]] == ["P"]


def test_a_throttled_login_check_is_a_503_not_a_401(aws_api, monkeypatch):
    with dynamodb_throttled(monkeypatch, lambda op, params: op == "Query"
                            and "LOGINFAIL" in json.dumps(params)):
        answer = aws_api.call("POST", "/api/auth/login", {"username": "alice", "password": PASSWORD})
    _assert_unavailable(answer)

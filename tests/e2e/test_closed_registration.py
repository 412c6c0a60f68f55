"""`cvat-serverless up --no-self-registration`: nobody signs up, the schema (which CVAT's UI reads)
has no register path, and the admin the CLI makes still logs in."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest

from tests.e2e.conftest import Runtime, cli

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


@pytest.fixture(scope="module")
def closed_runtime(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runtime]:
    rt = Runtime(tmp_path_factory.mktemp("rt") / "data", up_args=("--no-self-registration", "--no-persist")).start()
    yield rt
    if rt.process is not None:
        rt.stop()


def _post(runtime: Runtime, path: str, body: dict[str, str]) -> tuple[int, object]:
    request = urllib.request.Request(runtime.url + path, data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_no_self_registration_closes_the_door_but_not_to_admins(closed_runtime: Runtime):
    account = {"username": "walk-in", "password1": "correct horse 42", "password2": "correct horse 42"}
    assert _post(closed_runtime, "/api/auth/register", account) == (404, {"detail": "Not found."})
    status, _, body = closed_runtime.get("/api/schema")
    assert status == 200
    paths = json.loads(body)["paths"]
    assert "/api/auth/register" not in paths and "/api/auth/login" in paths
    made = cli("createsuperuser", "--username", "boss", "--email", "boss@example.com",
               "--password", "Boss-pass-123", data_dir=closed_runtime.data_dir)
    assert made.returncode == 0, made.stderr
    status, body = _post(closed_runtime, "/api/auth/login", {"username": "boss", "password": "Boss-pass-123"})
    assert status == 200 and isinstance(body, dict) and body["key"]

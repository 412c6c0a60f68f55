"""CVAT's lambda API on the embedded runtime (template.yaml routes /api/lambda/* to the functions
API function), driven through cvat-sdk 2.80's generated ``lambda_api``: a function registered with
``cvat-serverless function add`` is listed and read, a bad request is a 400, unknown ids 404s.
The full auto-annotation run is tests/e2e of the auto-annotate workflow."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("cvat_sdk")
conftest = pytest.importorskip("tests.e2e.conftest")  # the embedded-runtime fixtures

from cvat_sdk import Client, Config, models  # noqa: E402
from cvat_sdk.api_client.exceptions import ApiException  # noqa: E402

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
USER, PASSWORD = "e2e-lambda", "e2e-lambda-pass-1"
ENTRY = {"id": "e2e-detector", "name": "E2E detector", "kind": "detector", "mode": "local",
         "endpoint": "e2e-detector", "description": "registered by the e2e test",
         "labels_v2": [{"name": "person", "type": "rectangle", "attributes": []}]}


@pytest.fixture(scope="module")
def client(runtime, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Client]:
    made = conftest.cli("createsuperuser", "--username", USER, "--email", "lambda@example.com",
                        "--password", PASSWORD, data_dir=runtime.data_dir)
    assert made.returncode == 0, made.stderr
    entry = Path(tmp_path_factory.mktemp("lambda")) / "entry.json"
    entry.write_text(json.dumps(ENTRY))
    added = conftest.cli("function", "add", str(entry), "--replace", data_dir=runtime.data_dir)
    assert added.returncode == 0, added.stderr
    with Client(runtime.url, config=Config(status_check_period=0.2)) as c:
        c.login((USER, PASSWORD))
        yield c


def test_functions_are_listed_and_read_through_the_sdk(client: Client, runtime):
    api = client.api_client.lambda_api
    _, response = api.list_functions(_parse_response=False)
    listed = {f["id"]: f for f in json.loads(response.data)}
    assert listed["e2e-detector"] == {"id": "e2e-detector", "kind": "detector", "name": "E2E detector",
                                      "description": "registered by the e2e test", "version": 1,
                                      "labels_v2": ENTRY["labels_v2"]}
    _, response = api.retrieve_functions("e2e-detector", _parse_response=False)
    assert json.loads(response.data) == listed["e2e-detector"]
    shown = conftest.cli("function", "ls", data_dir=runtime.data_dir)
    assert shown.returncode == 0 and any(line.split()[:3] == ["e2e-detector", "detector", "local"]
                                         for line in shown.stdout.splitlines())


def test_bad_requests_and_unknown_ids(client: Client):
    api = client.api_client.lambda_api
    task = client.tasks.create(models.TaskWriteRequest(name="lambda", labels=[models.PatchedLabelRequest(
        name="person")]))
    with pytest.raises(ApiException) as caught:
        api.create_requests(models.FunctionCallRequest(function="e2e-detector", task=task.id, threshold=0.5))
    assert caught.value.status == 400 and "no data" in caught.value.body  # the task has no data yet
    with pytest.raises(ApiException) as caught:
        api.retrieve_functions("no-such-function")
    assert caught.value.status == 404
    with pytest.raises(ApiException) as caught:
        api.retrieve_requests("autoannotate:task-1-000000000000")
    assert caught.value.status == 404 and "lambda job is not found" in caught.value.body
    with pytest.raises(ApiException) as caught:
        api.create_requests(models.FunctionCallRequest(function="no-such-function", task=task.id))
    assert caught.value.status == 404
    requests, _ = api.list_requests()
    assert requests == []

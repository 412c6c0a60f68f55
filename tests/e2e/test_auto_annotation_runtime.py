"""Auto-annotation end to end on the embedded runtime (issue 15): the built-in ``yolox-nano`` function
(the offline YOLOX-nano behind the runtime's SageMaker endpoint) through CVAT's lambda API with the
real cvat-sdk 2.80; the SDK's own client-side driver with our function module; cancel; a function
whose endpoint does not exist."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests._detector_scenes import EXPECTED_LABELS, scene_jpeg
from tests._requirements import require_offline_detector

conftest = pytest.importorskip("tests.e2e.conftest")  # the embedded-runtime fixtures
Runtime, cli, wait_for = conftest.Runtime, conftest.cli, conftest.wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


@pytest.fixture(autouse=True, scope="module")
def _offline_detector() -> None:
    require_offline_detector()  # fails, saying what to install, where a skip would test nothing

SIZE = (640, 480)


@pytest.fixture(scope="module")
def client(runtime: Runtime, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    yield from conftest.sdk_client(runtime, tmp_path_factory.mktemp("sdk-cache"), "aa-admin", "aa-admin-password")


def _zip(folder: Path, frames: int, first: int = 0) -> Path:
    path = folder / f"frames-{first}-{frames}.zip"
    with zipfile.ZipFile(path, "w") as z:
        for i in range(first, first + frames):
            z.writestr(f"frame_{i:04d}.jpg", scene_jpeg(i, SIZE))
    return path


def _task(client: Any, folder: Path, name: str, labels: list[str], frames: int, chunk_size: int) -> Any:
    from cvat_sdk.core.proxies.tasks import ResourceType

    return client.tasks.create_from_data(
        {"name": name, "labels": [{"name": n} for n in labels]},
        resources=[str(_zip(folder, frames))], resource_type=ResourceType.LOCAL,
        data_params={"image_quality": 80, "chunk_size": chunk_size})


def _request(client: Any, **body: Any) -> dict[str, Any]:
    from cvat_sdk.api_client import models

    answer, _ = client.api_client.lambda_api.create_requests(models.FunctionCallRequest(**body))
    return answer.to_dict() if hasattr(answer, "to_dict") else dict(answer)


def _get(client: Any, request_id: str) -> dict[str, Any]:
    _, response = client.api_client.lambda_api.retrieve_requests(request_id, _parse_response=False)
    return dict(json.loads(response.data))


def _ended(client: Any, request_id: str, timeout: float = 240) -> dict[str, Any]:
    return wait_for(lambda: (r := _get(client, request_id))["status"] in ("finished", "failed") and r,
                    what=f"lambda request {request_id} to end", timeout=timeout, interval=0.3)


def _shapes(client: Any, task_id: int) -> list[dict[str, Any]]:
    _, response = client.api_client.tasks_api.retrieve_annotations(task_id, _parse_response=False)
    return list(json.loads(response.data)["shapes"])


def _label_ids(client: Any, task_id: int) -> dict[str, int]:
    _, response = client.api_client.labels_api.list(task_id=task_id, _parse_response=False)
    return {label["name"]: label["id"] for label in json.loads(response.data)["results"]}


def test_the_builtin_detector_is_listed(client: Any) -> None:
    _, response = client.api_client.lambda_api.list_functions(_parse_response=False)
    functions = {f["id"]: f for f in json.loads(response.data)}
    yolox = functions["yolox-nano"]
    assert yolox["kind"] == "detector"
    names = {label["name"] for label in yolox["labels_v2"]}
    assert names >= EXPECTED_LABELS and len(names) == 80


def test_a_task_is_annotated_through_the_lambda_api(client: Any, tmp_path: Path) -> None:
    # "sign" takes the model's "stop sign" through the mapping; "clock" by its own name; "person"
    # is in the task but found in no frame; the model's other labels are not in the task
    task = _task(client, tmp_path, "aa-lambda", ["sign", "clock", "person"], frames=9, chunk_size=4)
    ids = _label_ids(client, task.id)
    request = _request(client, function="yolox-nano", task=task.id, threshold=0.5, cleanup=True,
                       mapping={"stop sign": {"name": "sign"}, "clock": {"name": "clock"}})
    assert request["status"] in ("queued", "started")
    ended = _ended(client, request["id"])
    assert ended["status"] == "finished", ended
    assert ended["progress"] == 100
    assert ended["function"]["id"] == "yolox-nano" and ended["function"]["task"] == task.id

    shapes = _shapes(client, task.id)
    assert {s["source"] for s in shapes} == {"auto"}
    assert {s["label_id"] for s in shapes} == {ids["sign"], ids["clock"]}
    assert {s["frame"] for s in shapes} == set(range(9))  # every scene has a sign and a clock
    for s in shapes:
        x1, y1, x2, y2 = s["points"]
        assert s["type"] == "rectangle" and 0 <= x1 < x2 <= SIZE[0] and 0 <= y1 < y2 <= SIZE[1]

    # a second request on the same task, while none runs, with cleanup: the same shapes, not twice as many
    again = _ended(client, _request(client, function="yolox-nano", task=task.id, threshold=0.5, cleanup=True,
                                    mapping={"stop sign": {"name": "sign"}, "clock": {"name": "clock"}})["id"])
    assert again["status"] == "finished"
    assert len(_shapes(client, task.id)) == len(shapes)


def test_one_running_request_per_task_and_cancel(client: Any, runtime: Runtime, tmp_path: Path) -> None:
    from cvat_sdk.api_client.exceptions import ApiException

    # 40 chunks: more than the request can get through between the POST and the DELETE
    task = _task(client, tmp_path, "aa-cancel", ["clock", "stop sign"], frames=80, chunk_size=2)
    first = _request(client, function="yolox-nano", task=task.id)
    with pytest.raises(ApiException) as refused:
        _request(client, function="yolox-nano", task=task.id)
    assert refused.value.status == 409
    assert f"task #{task.id}" in str(refused.value.body)

    client.api_client.lambda_api.delete_requests(first["id"])
    ended = _ended(client, first["id"], timeout=60)
    assert ended["status"] == "failed"
    assert "cancel" in (ended.get("exc_info") or "").lower()
    # the workflow stops; the request stays canceled (a chunk that was running does not finish it)
    sfn = runtime.boto3("stepfunctions")
    machine = next(m["stateMachineArn"] for m in sfn.list_state_machines()["stateMachines"]
                   if m["name"].endswith("auto-annotate"))
    wait_for(lambda: all(e["status"] != "RUNNING" for e in sfn.list_executions(stateMachineArn=machine)["executions"]),
             what="the auto-annotate executions to stop", timeout=60)
    assert _get(client, first["id"])["status"] == "failed"
    stored = len(_shapes(client, task.id))
    assert stored < 80 * 2  # canceled before every chunk was saved (2 objects or more per frame otherwise)

    # the task takes a new request once the canceled one has ended
    assert _ended(client, _request(client, function="yolox-nano", task=task.id, cleanup=True)["id"])["status"] \
        == "finished"


def test_a_function_whose_endpoint_is_missing_fails_the_request(client: Any, runtime: Runtime,
                                                                 tmp_path: Path) -> None:
    from cvat_serverless_tools.models import offline

    spec = offline.yolox_nano_function() | {"id": "broken", "name": "Broken", "endpoint": "no-such-endpoint"}
    spec_file = tmp_path / "broken.json"
    spec_file.write_text(json.dumps(spec))
    added = cli("function", "add", str(spec_file), data_dir=runtime.data_dir)
    assert added.returncode == 0, added.stderr
    listed = cli("function", "ls", data_dir=runtime.data_dir)
    assert "broken" in listed.stdout and "no-such-endpoint" in listed.stdout

    task = _task(client, tmp_path, "aa-broken", ["clock"], frames=2, chunk_size=2)
    ended = _ended(client, _request(client, function="broken", task=task.id)["id"], timeout=180)
    assert ended["status"] == "failed"
    assert "no-such-endpoint" in ended["exc_info"]
    assert _shapes(client, task.id) == []

    removed = cli("function", "rm", "broken", data_dir=runtime.data_dir)
    assert removed.returncode == 0, removed.stderr
    from cvat_sdk.api_client.exceptions import ApiException

    with pytest.raises(ApiException) as gone:
        client.api_client.lambda_api.retrieve_functions("broken")
    assert gone.value.status == 404


def test_the_sdk_driver_runs_our_function_module(client: Any, tmp_path: Path) -> None:
    import cvat_sdk.auto_annotation as cvataa

    from cvat_serverless_tools.models import sdk_function

    task = _task(client, tmp_path, "aa-sdk", ["stop sign", "clock", "person"], frames=4, chunk_size=2)
    ids = _label_ids(client, task.id)
    cvataa.annotate_task(client, task.id, sdk_function, allow_unmatched_labels=True, clear_existing=True,
                         conf_threshold=0.5)
    shapes = _shapes(client, task.id)
    assert shapes and {s["source"] for s in shapes} == {"auto"}
    assert {s["label_id"] for s in shapes} == {ids["stop sign"], ids["clock"]}
    assert {s["frame"] for s in shapes} == set(range(4))



def _cvat_cli(runtime: Runtime, home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    # its own HOME: cvat-cli keeps profiles and caches there
    return subprocess.run([str(Path(sys.executable).with_name("cvat-cli")), "--server-host", runtime.url,
                           "--auth", "aa-admin:aa-admin-password", *args],
                          capture_output=True, text=True, timeout=300, check=False,
                          env={**os.environ, "HOME": str(home), "XDG_CACHE_HOME": str(home / ".cache")})


def test_cvat_cli_runs_yolox_nano_client_side_and_as_an_agent(client: Any, runtime: Runtime, tmp_path: Path) -> None:
    module = "cvat_serverless_tools.models.sdk_function"
    home = tmp_path / "home"
    home.mkdir()
    task = _task(client, tmp_path, "aa-cli", ["stop sign", "clock"], frames=3, chunk_size=2)
    ids = _label_ids(client, task.id)

    ran = _cvat_cli(runtime, home, "task", "auto-annotate", str(task.id), "--function-module", module,
                    "--allow-unmatched-labels", "--clear-existing")
    assert ran.returncode == 0, ran.stdout + ran.stderr
    client_side = _shapes(client, task.id)
    assert {s["label_id"] for s in client_side} == {ids["stop sign"], ids["clock"]}
    assert {s["source"] for s in client_side} == {"auto"}

    # the same module served by an agent: a native function, a batch request, run-agent --burst
    created = _cvat_cli(runtime, home, "function", "create-native", "YOLOX-nano (agent)", "--function-module", module)
    assert created.returncode == 0, created.stdout + created.stderr
    function_id = int(created.stdout.strip().splitlines()[-1])
    _, answer = client.api_client.call_api("/api/functions/requests/", "POST",
                                           body={"function": function_id, "task": task.id, "cleanup": True})
    request = json.loads(answer.data)
    burst = _cvat_cli(runtime, home, "function", "run-agent", str(function_id), "--function-module", module, "--burst")
    assert burst.returncode == 0, burst.stdout + burst.stderr
    _, answer = client.api_client.call_api(f"/api/functions/requests/{request['id']}", "GET")
    assert json.loads(answer.data)["status"] == "completed"
    by_agent = _shapes(client, task.id)
    # the agent ran the same model on the same frames: the same boxes (cleanup replaced the first run's)
    assert sorted((s["frame"], s["label_id"]) for s in by_agent) == sorted(
        (s["frame"], s["label_id"]) for s in client_side)

"""cvat-cli 2.80's agent protocol against `cvat-serverless up`: `function create-native` registers a
tiny detector, a batch annotation request is queued with POST /api/functions/requests/, and
`function run-agent --burst` (the unchanged CLI, its worker process and its dataset download)
annotates the task: the task then holds the detector's shapes with source "auto". Then
`function delete` removes the function."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("cvat_sdk")
pytest.importorskip("cvat_cli")
conftest = pytest.importorskip("tests.e2e.conftest")  # the embedded-runtime fixtures

from cvat_sdk import Client  # noqa: E402
from cvat_sdk.core.proxies.tasks import ResourceType  # noqa: E402
from PIL import Image  # noqa: E402

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
USER, PASSWORD = "e2e-agent", "e2e-agent-pass-1"
CVAT_CLI = Path(sys.executable).with_name("cvat-cli")

DETECTOR = '''\
import cvat_sdk.auto_annotation as cvataa

spec = cvataa.DetectionFunctionSpec(labels=[cvataa.label_spec("car", 0)])


def detect(context, image):
    width, height = image.size
    return [cvataa.rectangle(0, [1.0, 2.0, width - 1.0, height - 2.0])]
'''


@pytest.fixture(scope="module")
def client(runtime, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Client]:
    yield from conftest.sdk_client(runtime, tmp_path_factory.mktemp("sdk-cache"), USER, PASSWORD)


def cvat_cli(runtime: conftest.Runtime, home: Path, *args: str, timeout: int = 300) -> subprocess.CompletedProcess[str]:
    # its own HOME: cvat-cli keeps profiles and caches there
    return subprocess.run([str(CVAT_CLI), "--server-host", runtime.url, "--auth", f"{USER}:{PASSWORD}", *args],
                          capture_output=True, text=True, timeout=timeout, check=False,
                          env={**os.environ, "HOME": str(home), "XDG_CACHE_HOME": str(home / ".cache")})


def test_run_agent_annotates_a_task_with_a_native_function(client: Client, runtime, tmp_path: Path):
    images = []
    for i in range(3):
        Image.new("RGB", (40 + i, 30), (i * 60, 10, 10)).save(tmp_path / f"img{i}.png")
        images.append(str(tmp_path / f"img{i}.png"))
    task = client.tasks.create_from_data({"name": "agent", "labels": [{"name": "car"}, {"name": "sky"}],
                                          "segment_size": 2}, resources=images, resource_type=ResourceType.LOCAL)
    function_file = tmp_path / "detector.py"
    function_file.write_text(DETECTOR)
    home = tmp_path / "home"
    home.mkdir()

    created = cvat_cli(runtime, home, "function", "create-native", "Tiny cars", "--function-file", str(function_file))
    assert created.returncode == 0, created.stdout + created.stderr
    function_id = int(created.stdout.strip().splitlines()[-1])

    _, answer = client.api_client.call_api("/api/functions/requests/", "POST",
                                           body={"function": function_id, "task": task.id})
    request = json.loads(answer.data)
    assert request["status"] == "queued"

    ran = cvat_cli(runtime, home, "function", "run-agent", str(function_id), "--function-file", str(function_file),
                   "--burst")
    assert ran.returncode == 0, ran.stdout + ran.stderr + runtime.output()[-4000:]

    _, answer = client.api_client.call_api(f"/api/functions/requests/{request['id']}", "GET")
    done = json.loads(answer.data)
    assert done["status"] == "completed", done
    labels = {lb.id: lb.name for lb in task.get_labels()}
    shapes = task.get_annotations().shapes
    assert sorted(s.frame for s in shapes) == [0, 1, 2]
    assert {(s.type.value, labels[s.label_id], s.source) for s in shapes} == {("rectangle", "car", "auto")}
    assert [s.points for s in sorted(shapes, key=lambda s: s.frame)][2] == [1.0, 2.0, 41.0, 28.0]

    deleted = cvat_cli(runtime, home, "function", "delete", str(function_id))
    assert deleted.returncode == 0, deleted.stderr
    _, answer = client.api_client.call_api(f"/api/functions/{function_id}", "GET", _check_status=False)
    assert answer.status == 404


def test_a_waiting_agent_is_woken_by_the_watch_stream(client: Client, runtime, tmp_path: Path):
    """Without --burst the agent long-polls GET .../queues/function%3A<id>/watch; a request
    queued while it waits wakes it (it would otherwise poll again only after ~10 minutes)."""
    import signal

    Image.new("RGB", (20, 20)).save(tmp_path / "one.png")
    task = client.tasks.create_from_data({"name": "watched", "labels": [{"name": "car"}]},
                                         resources=[str(tmp_path / "one.png")], resource_type=ResourceType.LOCAL)
    function_file = tmp_path / "detector.py"
    function_file.write_text(DETECTOR)
    home = tmp_path / "home"
    home.mkdir()
    created = cvat_cli(runtime, home, "function", "create-native", "Watched", "--function-file", str(function_file))
    assert created.returncode == 0, created.stderr
    function_id = int(created.stdout.strip().splitlines()[-1])
    log = tmp_path / "agent.log"
    with log.open("w") as out:
        agent = subprocess.Popen(
            [str(CVAT_CLI), "--server-host", runtime.url, "--auth", f"{USER}:{PASSWORD}", "function", "run-agent",
             str(function_id), "--function-file", str(function_file)],
            stdout=out, stderr=subprocess.STDOUT, text=True, start_new_session=True,
            env={**os.environ, "HOME": str(home), "XDG_CACHE_HOME": str(home / ".cache")})
    watching = "Attempting to watch the function's queue"
    notified = "Received notification about a new request of category 'batch'"
    try:
        # The agent opens GET .../watch ("Attempting to watch"), which answers when a request is
        # queued or after CVAT_AGENT_WATCH_SECONDS (20 s, "Connected" then); the agent then polls
        # and watches again. A request queued just as a watch ends is taken by that poll, not by a
        # notification, so queue it right after a watch opens, and on such a race (a loaded
        # machine) try again on the next watch.
        made = 0
        for _ in range(3):
            before = log.read_text()
            conftest.wait_for(lambda b=before: log.read_text().count(watching) > b.count(watching), timeout=60,
                              what="the agent to watch its queue", details=log.read_text)
            _, answer = client.api_client.call_api("/api/functions/requests/", "POST",
                                                   body={"function": function_id, "task": task.id})
            request_id = json.loads(answer.data)["id"]
            made += 1

            def completed(request_id: str = request_id) -> bool:
                _, got = client.api_client.call_api(f"/api/functions/requests/{request_id}", "GET")
                return json.loads(got.data)["status"] == "completed"

            conftest.wait_for(completed, timeout=90, interval=0.5, what="the woken agent to complete the request",
                              details=lambda: log.read_text()[-4000:])
            if log.read_text().count(notified) > before.count(notified):
                break
        else:
            raise AssertionError(f"3 requests were taken by polls, none by a notification:\n{log.read_text()[-4000:]}")
    finally:
        os.killpg(agent.pid, signal.SIGTERM)
        agent.wait(timeout=60)
    sources = [s.source for s in task.get_annotations().shapes]
    assert sources == ["auto"] * made  # one shape per request the agent completed

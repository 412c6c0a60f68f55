"""Webhooks against the embedded runtime, with a real receiver on 127.0.0.1: a task change
reaches the receiver signed; ping; a receiver that answers 500 gets the event again after it
recovers; redelivery. Driven through cvat-sdk 2.80's generated webhooks client."""

from __future__ import annotations

import http.server
import json
import threading
from collections.abc import Iterator
from typing import Any

import pytest

pytest.importorskip("cvat_sdk")
conftest = pytest.importorskip("tests.e2e.conftest")  # the embedded-runtime fixtures

from cvat_sdk import Client, Config, models  # noqa: E402

from cvat_serverless.domain.webhooks import signature  # noqa: E402

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
USER, PASSWORD = "e2e-hooks", "e2e-hooks-pass-1"
SECRET = "s3cr3t"


class _Receiver(http.server.BaseHTTPRequestHandler):
    got: list[tuple[dict[str, str], bytes, int]] = []
    statuses: list[int] = []  # answers to give, in order; then 200
    lock = threading.Lock()

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        with self.lock:
            status = self.statuses.pop(0) if self.statuses else 200
            self.got.append((dict(self.headers), body, status))
        self.send_response(status)
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *_: Any) -> None:
        pass


@pytest.fixture(name="receiver", scope="module")
def receiver_fixture() -> Iterator[str]:
    yield from conftest.serve_receiver(_Receiver)


@pytest.fixture(scope="module")
def client(runtime) -> Iterator[Client]:
    made = conftest.cli("createsuperuser", "--username", USER, "--email", "hooks@example.com",
                        "--password", PASSWORD, data_dir=runtime.data_dir)
    assert made.returncode == 0, made.stderr
    with Client(runtime.url, config=Config(status_check_period=0.2)) as c:
        c.login((USER, PASSWORD))
        yield c


def _events(name: str) -> list[tuple[dict[str, str], dict[str, Any], int]]:
    with _Receiver.lock:
        return [(h, json.loads(b), s) for h, b, s in _Receiver.got if json.loads(b)["event"] == name]


def test_webhook_delivery_end_to_end(client: Client, receiver: str):
    api = client.api_client.webhooks_api
    project = client.projects.create(models.ProjectWriteRequest(name="hooked"))
    hook, _ = api.create(models.WebhookWriteRequest(
        target_url=receiver, type=models.WebhookType("project"), events=[models.EventsEnum("update:task")],
        project_id=project.id, secret=SECRET, content_type=models.WebhookContentType("application/json")))
    # ping: synchronous, signed
    delivery, _ = api.create_ping(hook.id)
    assert delivery.status_code == 200 and delivery.event == "ping"
    [(headers, payload, _)] = _events("ping")
    assert payload["webhook"]["id"] == hook.id
    # a task change: the receiver fails first, gets it again after it recovers
    _Receiver.statuses = [500]
    task = client.tasks.create(models.TaskWriteRequest(name="t1", project_id=project.id))
    task.update(models.PatchedTaskWriteRequest(name="t2"))
    got = conftest.wait_for(lambda: [e for e in _events("update:task") if e[2] == 200] or None,
                            what="the update:task delivery after a retry", timeout=60)
    headers, payload, _ = got[0]
    attempts = _events("update:task")
    assert [s for *_, s in attempts][:2] == [500, 200]
    with _Receiver.lock:
        raw = next(b for h, b, s in _Receiver.got if s == 200 and json.loads(b)["event"] == "update:task")
    assert headers["X-Signature-256"] == signature(SECRET, raw)
    assert headers["Content-Type"] == "application/json" and headers["User-Agent"].startswith("CVAT/")
    assert payload["task"]["id"] == task.id and payload["before_update"]["name"] == "t1"
    assert payload["webhook_id"] == hook.id and payload["sender"]["username"] == USER
    # the task as GET /api/tasks/{id} shows it, links absolute; the sender a BasicUser
    assert payload["task"]["url"].startswith("http") and payload["task"]["url"].endswith(f"/api/tasks/{task.id}")
    assert payload["task"]["owner"] == payload["sender"] and payload["sender"]["url"].startswith("http")
    assert payload["task"]["jobs"]["count"] == 0 and payload["task"]["labels"]["url"].startswith("http")
    # the deliveries are recorded, and one can be sent again
    page, _ = api.list_deliveries(hook.id)
    recorded = [d for d in page.results if d.event == "update:task"]
    assert sorted(d.status_code for d in recorded) == [200, 500]
    assert api.retrieve(hook.id)[0].last_status in (200, 500)
    before = len(_events("update:task"))
    api.create_deliveries_redelivery(str(recorded[0].id), hook.id)
    conftest.wait_for(lambda: len(_events("update:task")) > before or None, what="the redelivery", timeout=30)


def test_dead_letter_queue_command(runtime):
    listed = conftest.cli("webhooks", "dlq", data_dir=runtime.data_dir)
    assert listed.returncode == 0, listed.stderr
    assert "0 webhook delivery job(s) waiting in the dead-letter queue" in listed.stdout
    redriven = conftest.cli("webhooks", "dlq", "--redrive", data_dir=runtime.data_dir)
    assert redriven.returncode == 0 and "moved back" in redriven.stdout, redriven.stderr

"""Analytics events with the official cvat-sdk 2.80 against the embedded runtime: client events
logged (POST /api/events), task changes published to the event bus and written by the analytics
writer through its SQS queue, and the CSV export (POST /api/events/export -> request ->
result_url) compared with the generated events column by column."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

pytest.importorskip("cvat_sdk")
conftest = pytest.importorskip("tests.e2e.conftest")  # the embedded-runtime fixtures

from cvat_sdk import Client, models  # noqa: E402
from cvat_sdk.core.downloading import Downloader  # noqa: E402

from cvat_serverless.domain import analytics as an  # noqa: E402

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
USER, PASSWORD = "e2e-events", "e2e-events-pass-1"


@pytest.fixture(scope="module")
def client(runtime, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Client]:
    yield from conftest.sdk_client(runtime, tmp_path_factory.mktemp("sdk-cache"), USER, PASSWORD)


def export_rows(client: Client, runtime: conftest.Runtime, folder: Path, **filters: int
                ) -> tuple[list[str], list[dict[str, str]]]:
    rq, _ = client.api_client.events_api.create_export(**filters)

    def finished() -> models.Request | None:
        request, _ = client.api_client.requests_api.retrieve(rq.rq_id)
        assert request.status.value != "failed", request.message
        return request if request.status.value == "finished" else None

    request = conftest.wait_for(finished, what="the events export to finish",
                                details=runtime.output)
    path = Downloader(client).download_file(request.result_url, folder / f"{rq.rq_id.replace(':', '_')}.csv")
    text = path.read_text()
    return next(csv.reader(io.StringIO(text))), list(csv.DictReader(io.StringIO(text)))


def test_client_and_server_events_export_as_cvat_csv(client: Client, runtime, tmp_path: Path) -> None:
    task = client.tasks.create(models.TaskWriteRequest(name="events", labels=[models.PatchedLabelRequest(name="car")]))
    now = datetime.now(UTC)
    sent, _ = client.api_client.events_api.create(models.ClientEventsRequest(timestamp=now, events=[
        models.EventRequest(scope="load:job", timestamp=now, task_id=task.id, payload='{"origin": "e2e"}'),
        models.EventRequest(scope="change:frame", timestamp=now, task_id=task.id, duration=1200, obj_val="3"),
    ]))
    task.update(models.PatchedTaskWriteRequest(name="events renamed"))

    def with_server_events() -> tuple[list[str], list[dict[str, str]]] | None:
        header, rows = export_rows(client, runtime, tmp_path, task_id=task.id)
        scopes = {r["scope"] for r in rows}
        return (header, rows) if {"create:task", "update:task"} <= scopes else None

    header, rows = conftest.wait_for(with_server_events, what="the task's events in the export", timeout=60,
                                     details=runtime.output)
    assert tuple(header) == an.COLUMNS
    client_rows = [r for r in rows if r["source"] == "client"]
    assert len(client_rows) == len(sent.events) == 2
    for event, row in zip(sorted(sent.events, key=lambda e: e.scope), sorted(client_rows, key=lambda r: r["scope"]),
                          strict=True):
        for column in an.COLUMNS:
            value = getattr(event, column, None)
            if column == "timestamp":
                assert datetime.fromisoformat(row[column].replace("Z", "+00:00")) == value
            else:
                assert row[column] == ("" if value is None else str(value)), column
    update = next(r for r in rows if r["scope"] == "update:task")
    assert (update["obj_id"], update["task_id"], update["source"], update["user_name"]) == \
        (str(task.id), str(task.id), "server", USER)
    assert any(r["scope"] == "send:working_time" for r in rows)


def test_the_admin_summary_shows_working_time(client: Client, runtime) -> None:
    now = datetime.now(UTC)
    task = client.tasks.create(models.TaskWriteRequest(name="worked", labels=[models.PatchedLabelRequest(name="car")]))
    client.api_client.events_api.create(models.ClientEventsRequest(timestamp=now, events=[
        models.EventRequest(scope="load:job", timestamp=now - timedelta(seconds=90), task_id=task.id, job_id=77),
        models.EventRequest(scope="draw:object", timestamp=now, task_id=task.id, job_id=77),
    ]))
    day = now.date().isoformat()
    summary = conftest.cli("events", "summary", "--from", day, "--to", day, data_dir=runtime.data_dir)
    assert summary.returncode == 0, summary.stderr
    line = next(x for x in summary.stdout.splitlines() if x.startswith(USER) and " 77 " in f"{x} ")
    assert line.split()[-2:] == ["0.03", "h"]  # 90 s

"""Automatic annotation from the task page in Chromium against the embedded runtime and its built-in
``yolox-nano`` detector: the user picks the model, maps its "stop sign" to the task's "sign" ("clock"
is mapped by name), runs it and sees it finish; the shapes are checked through the API. A second
request while one runs shows the server's 409 in the dialog; the running one is then followed on
the page and canceled from it."""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import expect

from tests._detector_scenes import scene_jpeg
from tests._requirements import require_offline_detector
from tests.e2e.ui.conftest import sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


@pytest.fixture(autouse=True, scope="module")
def _offline_detector() -> None:
    require_offline_detector()  # fails, saying what to install, where a skip would test nothing

SIZE = (640, 480)


def _csrf(page) -> str:
    return next(c["value"] for c in page.context.cookies() if c["name"] == "csrftoken")


def _api(page, method: str, path: str, **kwargs):
    response = page.request.fetch(path, method=method, headers={"X-CSRFToken": _csrf(page)}, **kwargs)
    assert response.ok, f"{method} {path}: {response.status} {response.text()}"
    return response.json() if response.text() else None


def _poll(read, done, what: str, timeout: float = 120):
    deadline = time.monotonic() + timeout
    while True:
        value = read()
        if done(value):
            return value
        assert time.monotonic() < deadline, f"{what}: still {value}"
        time.sleep(0.2)  # a poll interval with a deadline, not a synchronisation sleep


def _task(page, name: str, frames: int, chunk_size: int) -> int:
    task = _api(page, "POST", "/api/tasks", data={"name": name, "labels": [{"name": "sign"}, {"name": "clock"}]})
    files: dict[str, object] = {"image_quality": "80", "chunk_size": str(chunk_size)}
    for i in range(frames):
        files[f"client_files[{i}]"] = {"name": f"frame_{i:04d}.jpg", "mimeType": "image/jpeg",
                                       "buffer": scene_jpeg(i, SIZE)}
    rq = _api(page, "POST", f"/api/tasks/{task['id']}/data", multipart=files)
    ended = _poll(lambda: _api(page, "GET", f"/api/requests/{rq['rq_id']}"),
                  lambda r: r["status"] in ("finished", "failed"), "the task's data")
    assert ended["status"] == "finished", ended
    return int(task["id"])


def _open_dialog(page):
    page.get_by_role("button", name="Automatic annotation", exact=True).click()
    dialog = page.get_by_role("dialog", name=re.compile("^Automatic annotation"))
    expect(dialog).to_be_visible()
    dialog.get_by_label("Model", exact=True).select_option("yolox-nano")
    return dialog


def test_a_task_is_annotated_from_the_task_page(page, admin):
    sign_in(page, *admin)
    task_id = _task(page, "ui-aa", frames=4, chunk_size=2)
    labels = {lb["name"]: lb["id"] for lb in _api(page, "GET", "/api/labels", params={"task_id": task_id})["results"]}

    page.goto(f"/tasks/{task_id}")
    dialog = _open_dialog(page)
    expect(dialog.get_by_role("listitem").filter(has_text="yolox-nano")).to_be_visible()
    mapping = dialog.get_by_role("table", name="Label mapping")
    # "clock" is pre-mapped by its name; no other COCO label matches "sign" or "clock"
    expect(mapping.get_by_role("row")).to_have_count(2)
    expect(dialog.get_by_label("Task label for clock")).to_have_value("clock")
    expect(dialog.get_by_label("Threshold")).to_have_value("0.5")
    dialog.get_by_label("Model label to map").select_option("stop sign")
    dialog.get_by_label("Task label to map it to").select_option("sign")
    dialog.get_by_role("button", name="Add mapping").click()
    expect(dialog.get_by_label("Task label for stop sign")).to_have_value("sign")
    expect(mapping.get_by_role("row")).to_have_count(3)
    dialog.get_by_label("Clean old annotations").check()
    page.shots("auto-annotation-dialog")
    dialog.get_by_role("button", name="Annotate", exact=True).click()
    expect(page.get_by_role("dialog")).to_have_count(0)

    expect(page.get_by_text("Automatic annotation finished.")).to_be_visible(timeout=180_000)
    page.shots("auto-annotation-finished")
    shapes = _api(page, "GET", f"/api/tasks/{task_id}/annotations")["shapes"]
    assert shapes and {s["source"] for s in shapes} == {"auto"}
    assert {s["label_id"] for s in shapes} == {labels["sign"], labels["clock"]}
    # the button is free again, and the Requests page names the request
    expect(page.get_by_role("button", name="Automatic annotation", exact=True)).to_be_enabled()
    page.goto("/requests")
    row = page.get_by_role("row").filter(has_text="Automatic annotation").filter(has_text=f"task #{task_id}")
    expect(row).to_contain_text("Finished")
    expect(row).to_contain_text("yolox-nano")
    page.shots("requests")


def test_a_second_request_is_refused_and_the_running_one_is_canceled(page, admin):
    sign_in(page, *admin)
    task_id = _task(page, "ui-aa-cancel", frames=60, chunk_size=2)  # about 7 s of work here

    page.goto(f"/tasks/{task_id}")
    dialog = _open_dialog(page)
    expect(dialog.get_by_label("Task label for clock")).to_have_value("clock")
    # another request of the task starts (another tab, the SDK...) while the dialog is open
    first = _api(page, "POST", "/api/lambda/requests", data={"function": "yolox-nano", "task": task_id})
    dialog.get_by_role("button", name="Annotate", exact=True).click()
    refused = f"Only one running request is allowed for the same task #{task_id}"
    expect(dialog.get_by_role("alert")).to_contain_text(refused)
    page.shots("auto-annotation-conflict")
    dialog.get_by_role("button", name="Cancel", exact=True).click()
    expect(page.get_by_role("dialog")).to_have_count(0)

    # the page found the running request: its progress, and Cancel
    cancel = page.get_by_role("button", name="Cancel automatic annotation")
    expect(cancel).to_be_visible()
    expect(page.get_by_role("progressbar", name="Automatic annotation progress")).to_be_visible()
    expect(page.get_by_role("button", name="Automatic annotation", exact=True)).to_be_disabled()
    page.shots("auto-annotation-running")
    cancel.click()
    expect(page.get_by_text("Automatic annotation canceled.")).to_be_visible()
    page.shots("auto-annotation-canceled")
    ended = _api(page, "GET", f"/api/lambda/requests/{first['id']}")
    assert (ended["status"], ended["exc_info"]) == ("failed", "Canceled by the user.")
    expect(page.get_by_role("button", name="Automatic annotation", exact=True)).to_be_enabled()

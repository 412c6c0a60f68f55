"""Export, import and backups in Chromium against the embedded runtime: a task made through the API
is exported as COCO with its images and as a backup (both downloaded and opened), the backup is
restored from the tasks page (a new task of the same size opens), the COCO file is imported back
through the presigned direct upload, and the Requests page lists all of it as finished."""

from __future__ import annotations

import io
import json
import re
import time
import zipfile
from pathlib import Path

from PIL import Image
from playwright.sync_api import expect

from tests.e2e.ui.conftest import sign_in

IMAGES = [f"img{i}.jpg" for i in range(3)]


def _csrf(page) -> str:
    return next(c["value"] for c in page.context.cookies() if c["name"] == "csrftoken")


def _api(page, method: str, path: str, **kwargs):
    response = page.request.fetch(path, method=method, headers={"X-CSRFToken": _csrf(page)}, **kwargs)
    assert response.ok, f"{method} {path}: {response.status} {response.text()}"
    return response.json() if response.text() else None


def _wait_request(page, rq_id: str, timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        rq = _api(page, "GET", f"/api/requests/{rq_id}")
        if rq["status"] in ("finished", "failed") or time.monotonic() > deadline:
            assert rq["status"] == "finished", rq
            return rq
        page.wait_for_timeout(200)  # a poll interval with a deadline, not a synchronisation sleep


def _annotated_task(page, name: str) -> int:
    task = _api(page, "POST", "/api/tasks", data={"name": name, "labels": [{"name": "car"}, {"name": "person"}]})
    files: dict[str, object] = {"image_quality": "80"}
    for i, filename in enumerate(IMAGES):
        buffer = io.BytesIO()
        Image.new("RGB", (64 + i, 48), (i * 60, 20, 20)).save(buffer, "JPEG", quality=90)
        files[f"client_files[{i}]"] = {"name": filename, "mimeType": "image/jpeg", "buffer": buffer.getvalue()}
    rq = _api(page, "POST", f"/api/tasks/{task['id']}/data", multipart=files)
    _wait_request(page, rq["rq_id"])
    listed = _api(page, "GET", "/api/labels", params={"task_id": task["id"]})["results"]
    labels = {lb["name"]: lb["id"] for lb in listed}
    _api(page, "PUT", f"/api/tasks/{task['id']}/annotations", data={
        "version": 0, "tags": [], "tracks": [],
        "shapes": [{"type": "rectangle", "frame": 0, "label_id": labels["car"], "points": [2.0, 3.0, 20.0, 30.0],
                    "attributes": [], "occluded": False, "z_order": 0}]})
    return int(task["id"])


def _shape_count(page, task_id: int) -> int:
    return len(_api(page, "GET", f"/api/tasks/{task_id}/annotations")["shapes"])


def test_export_backup_restore_import_and_the_requests_page(page, admin, runtime, tmp_path: Path):
    sign_in(page, *admin)
    task_id = _annotated_task(page, "ui dataset task")

    # Export COCO 1.0 with images, then download the archive.
    page.goto(f"/tasks/{task_id}")
    page.get_by_role("button", name="Export dataset").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible()
    dialog.get_by_label("Export format").select_option("COCO 1.0")
    dialog.get_by_label("Save images").check()
    page.shots("export-dialog")
    dialog.get_by_role("button", name="Export", exact=True).click()
    download_link = dialog.get_by_role("link", name="Download")
    expect(download_link).to_be_visible(timeout=60_000)
    expect(dialog.get_by_role("progressbar")).to_have_attribute("aria-valuenow", "100")
    page.shots("export-finished")
    with page.expect_download(timeout=60_000) as exported:
        download_link.click()
    coco_zip = tmp_path / "coco.zip"
    exported.value.save_as(coco_zip)
    assert exported.value.suggested_filename.endswith(".zip")
    with zipfile.ZipFile(coco_zip) as z:
        names = set(z.namelist())
        assert "annotations/instances_default.json" in names, names
        assert {f"images/default/{f}" for f in IMAGES} <= names, names
        coco = json.loads(z.read("annotations/instances_default.json"))
    assert len(coco["images"]) == len(IMAGES) and len(coco["annotations"]) == 1
    dialog.get_by_role("button", name="Close", exact=True).last.click()
    expect(page.get_by_role("dialog")).to_have_count(0)

    # Export a backup and restore it from the tasks page: a new task of the same size opens.
    page.get_by_role("button", name="Export backup").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_role("button", name="Export", exact=True).click()
    expect(dialog.get_by_role("link", name="Download")).to_be_visible(timeout=60_000)
    with page.expect_download(timeout=60_000) as backup:
        dialog.get_by_role("link", name="Download").click()
    backup_zip = tmp_path / "backup.zip"
    backup.value.save_as(backup_zip)
    with zipfile.ZipFile(backup_zip) as z:
        assert {"task.json", "annotations.json"} <= set(z.namelist())
    dialog.get_by_role("button", name="Close", exact=True).last.click()

    page.goto("/tasks")
    page.get_by_role("button", name="Restore task from backup").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Backup file").set_input_files(backup_zip)
    page.shots("restore-dialog")
    dialog.get_by_role("button", name="Restore", exact=True).click()
    expect(page).to_have_url(re.compile(rf"/tasks/(?!{task_id}$)\d+$"), timeout=90_000)
    restored_id = int(page.url.rstrip("/").rsplit("/", 1)[1])
    restored = _api(page, "GET", f"/api/tasks/{restored_id}")
    assert restored["size"] == len(IMAGES) and restored["name"] == "ui dataset task"
    assert _shape_count(page, restored_id) == 1
    page.shots("restored-task")

    # Import the COCO file back as annotations (replacing what the task has).
    _api(page, "DELETE", f"/api/tasks/{task_id}/annotations")
    assert _shape_count(page, task_id) == 0
    page.goto(f"/tasks/{task_id}")
    page.get_by_role("button", name="Import annotations").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Import format").select_option("COCO 1.0")
    dialog.get_by_label("Annotation file").set_input_files(coco_zip)
    dialog.get_by_role("button", name="Import", exact=True).click()
    expect(dialog.get_by_text("The annotations were imported.")).to_be_visible(timeout=60_000)
    page.shots("import-finished")
    assert _shape_count(page, task_id) == 1

    # A damaged file fails with the importer's message, and the annotations stay.
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    dialog.get_by_label("Annotation file").set_input_files(broken)
    dialog.get_by_role("button", name="Import", exact=True).click()
    expect(dialog.get_by_role("alert")).to_be_visible(timeout=60_000)
    page.shots("import-failed")
    assert _shape_count(page, task_id) == 1
    dialog.get_by_role("button", name="Cancel", exact=True).click()

    # The Requests page lists them, newest first, with their downloads.
    page.goto("/requests")
    table = page.get_by_role("table")
    for action in ("Export dataset", "Export backup", "Restore backup", "Import annotations"):
        expect(table.get_by_role("row").filter(has_text=action).filter(has_text="Finished").first).to_be_visible()
    expect(table.get_by_role("row").filter(has_text="Import annotations").filter(has_text="Failed")).to_have_count(1)
    expect(table.get_by_role("link", name=re.compile("^Download the result of Export dataset"))).to_have_count(1)
    page.shots("requests")
    page.get_by_label("Status").select_option("failed")
    expect(page).to_have_url(re.compile(r"status=failed"))
    expect(table.get_by_role("row")).to_have_count(2)  # the header and the failed import
    page.reload()
    expect(page.get_by_label("Status")).to_have_value("failed")
    page.shots("requests-failed")

"""The tasks and jobs pages in Chromium against the embedded runtime: a task with images made
through cvat-sdk, then the tasks list (preview, filter), the task page (rename, jobs table, a
job's stage and assignee), the job's details page (details, frames' metadata), the jobs list filtered by
task, and deleting the task. Every change is checked through the API."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import cli
from tests.e2e.ui.conftest import sign_in

pytest.importorskip("cvat_sdk")
from cvat_sdk import Client, Config
from cvat_sdk.core.proxies.tasks import ResourceType
from PIL import Image

WORKER, WORKER_PASSWORD = "ui-tj-worker", "ui-tj-worker-pass-1"
EN_DASH, TIMES = "\u2013", "\u00d7"  # as the UI writes frame ranges and sizes
SIZES = [(48, 32), (48, 32), (50, 30), (50, 30), (64, 40)]


@pytest.fixture(scope="module")
def images(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    folder = tmp_path_factory.mktemp("tj-images")
    files = []
    for i, size in enumerate(SIZES):
        path = folder / f"frame{i}.png"
        Image.new("RGB", size, (40 * i, 120, 200 - 30 * i)).save(path)
        files.append(path)
    return files


@pytest.fixture(scope="module")
def worker(runtime) -> str:
    made = cli("createsuperuser", "--username", WORKER, "--email", f"{WORKER}@example.com", "--password",
               WORKER_PASSWORD, data_dir=runtime.data_dir)
    assert made.returncode == 0, made.stderr
    return WORKER


@pytest.fixture(scope="module")
def sdk(runtime, admin, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Client]:
    with Client(runtime.url, config=Config(status_check_period=0.2, cache_dir=tmp_path_factory.mktemp("tj-sdk"))) as c:
        c.login(admin)
        yield c


def test_tasks_and_jobs_pages(page, admin, worker, sdk, images, runtime):
    labels = [{"name": "car", "attributes": [{"name": "color", "mutable": False, "input_type": "select",
                                              "default_value": "red", "values": ["red", "blue"]}]},
              {"name": "person", "attributes": []}]
    task = sdk.tasks.create_from_data({"name": "ui-tj-alpha", "labels": labels, "segment_size": 2},
                                      resources=[str(p) for p in images], resource_type=ResourceType.LOCAL)
    sign_in(page, *admin)
    other = page.request.post("/api/tasks", data={"name": "ui-tj-beta", "labels": [{"name": "dog"}]},
                              headers={"X-CSRFToken": _csrf(page)})
    assert other.status == 201, other.text()
    other_id = other.json()["id"]

    # the tasks list: both tasks, the preview of the one with data
    page.goto("/tasks")
    expect(page.get_by_role("heading", name="Tasks")).to_be_visible()
    card = page.locator("li.task-card").filter(has=page.get_by_role("link", name="ui-tj-alpha"))
    expect(card).to_contain_text(f"#{task.id}")
    expect(card).to_contain_text("5 frames")
    expect(card).to_contain_text("0 of 3 jobs completed")
    preview = card.get_by_role("img", name="Preview of task ui-tj-alpha")
    expect(preview).to_be_visible()
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=preview.element_handle())
    expect(page.locator("li.task-card").filter(has=page.get_by_role("link", name="ui-tj-beta"))
           .get_by_text("No preview")).to_be_visible()
    page.shots("tasks-list")

    # filter by name (CVAT's filter language, kept in the URL)
    page.get_by_role("button", name="Filter").click()
    page.get_by_role("button", name="Add condition").click()
    page.get_by_label("Field").select_option("name")
    page.get_by_label("Operator").select_option("in")
    page.get_by_label("Value").fill("alpha")
    page.get_by_role("button", name="Apply").click()
    expect(page).to_have_url(re.compile(r"filter="))
    expect(page.get_by_role("link", name=re.compile(r"^ui-tj-"))).to_have_count(1)
    expect(page.get_by_role("link", name="ui-tj-alpha")).to_be_visible()
    page.shots("tasks-filtered")
    page.reload()  # the filter is in the URL
    expect(page.get_by_role("link", name=re.compile(r"^ui-tj-"))).to_have_count(1)
    page.goto("/tasks?search=no-such-task-here")
    expect(page.get_by_text("No tasks match the search or filter.")).to_be_visible()

    # a task without data says so and links to the create page
    page.goto(f"/tasks/{other_id}")
    expect(page.get_by_text("This task has no data yet.")).to_be_visible()
    expect(page.get_by_role("link", name="Add data to this task")).to_have_attribute(
        "href", f"/tasks/create?task_id={other_id}")

    # the task page: rename it
    page.goto("/tasks?filter=" + json.dumps({"and": [{"in": ["alpha", {"var": "name"}]}]}))
    page.get_by_role("link", name="ui-tj-alpha").click()
    expect(page).to_have_url(re.compile(rf"/tasks/{task.id}$"))
    expect(page.get_by_role("heading", name=re.compile("ui-tj-alpha"))).to_be_visible()
    expect(page.get_by_role("cell", name="car")).to_be_visible()
    expect(page.get_by_role("row").filter(has_text="car")).to_contain_text("color (1)")
    page.get_by_label("Name", exact=True).fill("ui-tj-renamed")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", name=re.compile("ui-tj-renamed"))).to_be_visible()
    assert _get(page, f"/api/tasks/{task.id}")["name"] == "ui-tj-renamed"

    # the jobs table matches the API
    jobs = _get(page, f"/api/jobs?task_id={task.id}&sort=id")["results"]
    assert [(j["start_frame"], j["stop_frame"]) for j in jobs] == [(0, 1), (2, 3), (4, 4)]
    for job in jobs:
        row = page.get_by_role("row").filter(has=page.get_by_role("link", name=f"Job #{job['id']}", exact=True))
        frames = f"{job['start_frame']}{EN_DASH}{job['stop_frame']}" if job["start_frame"] != job["stop_frame"] \
            else str(job["start_frame"])
        expect(row.get_by_role("cell").nth(1)).to_have_text(frames)
        expect(row.get_by_role("cell").nth(2)).to_have_text(str(job["frame_count"]))
    first = jobs[0]["id"]

    # a job's stage and assignee
    page.get_by_label(f"Stage of job {first}").select_option("validation")
    expect(page.get_by_label(f"Stage of job {first}")).to_have_value("validation")
    assert _get(page, f"/api/jobs/{first}")["stage"] == "validation"
    page.get_by_role("button", name=f"Change assignee of job {first}").click()
    page.get_by_label(f"Search users for assignee of job {first}").fill(worker)
    page.get_by_role("button", name=worker, exact=True).click()
    row = page.get_by_role("row").filter(has=page.get_by_role("link", name=f"Job #{first}", exact=True))
    expect(row.get_by_role("button", name=f"Change assignee of job {first}")).to_be_visible()  # saved, closed
    expect(row).to_contain_text(worker)
    assert _get(page, f"/api/jobs/{first}")["assignee"]["username"] == worker
    page.get_by_label(f"State of job {first}").select_option("completed")
    expect(page.get_by_label(f"State of job {first}")).to_have_value("completed")
    assert _get(page, f"/api/jobs/{first}")["state"] == "completed"
    expect(page.get_by_text("1 of 3 jobs completed")).to_be_visible()  # the task follows its jobs
    page.get_by_role("button", name="Change task assignee").click()
    page.get_by_label("Search users for task assignee").fill(worker)
    page.get_by_role("button", name=worker, exact=True).click()
    expect(page.get_by_role("button", name="Change task assignee")).to_be_visible()
    assert _get(page, f"/api/tasks/{task.id}")["assignee"]["username"] == worker
    page.shots("task-page")

    # a job's link opens the annotation workspace (as in CVAT); its details page is beside it
    page.get_by_role("link", name=f"Job #{first}", exact=True).click()
    expect(page).to_have_url(re.compile(rf"/tasks/{task.id}/jobs/{first}$"))
    expect(page.get_by_test_id("annotation-workspace")).to_be_visible()
    page.goto(f"/tasks/{task.id}/jobs/{first}/details")
    expect(page.get_by_role("heading", name=f"Job #{first}")).to_be_visible()
    expect(page.get_by_role("link", name="Annotate")).to_have_attribute("href", f"/tasks/{task.id}/jobs/{first}")
    expect(page.get_by_label(f"Stage of job {first}")).to_have_value("validation")
    expect(page.get_by_role("link", name=re.compile("ui-tj-renamed")).first).to_be_visible()
    frames_table = page.get_by_role("table", name="First frames")
    expect(frames_table.get_by_role("row")).to_have_count(3)  # header + frames 0 and 1
    expect(frames_table).to_contain_text("frame0.png")
    expect(frames_table).to_contain_text(f"48{TIMES}32")
    job_preview = page.get_by_role("img", name=f"Preview of job {first}")
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=job_preview.element_handle())
    page.get_by_label(f"State of job {first}").select_option("in progress")
    expect(page.get_by_label(f"State of job {first}")).to_have_value("in progress")
    assert _get(page, f"/api/jobs/{first}")["state"] == "in progress"
    page.shots("job-page")

    # the jobs list filtered by task
    page.goto("/jobs")
    expect(page.get_by_role("heading", name="Jobs")).to_be_visible()
    page.get_by_role("button", name="Filter").click()
    page.get_by_role("button", name="Add condition").click()
    page.get_by_label("Field").select_option("task_id")
    page.get_by_label("Value").fill(str(task.id))
    page.get_by_role("button", name="Apply").click()
    expect(page).to_have_url(re.compile(r"filter="))
    expect(page.get_by_role("link", name=re.compile(r"^Job #\d+$"))).to_have_count(3)
    expect(page.get_by_role("row").filter(has=page.get_by_role("link", name=f"Job #{first}", exact=True))) \
        .to_contain_text(worker)
    page.shots("jobs-filtered")
    page.get_by_role("link", name=f"Job #{jobs[2]['id']}", exact=True).click()
    expect(page).to_have_url(re.compile(rf"/tasks/{task.id}/jobs/{jobs[2]['id']}$"))
    expect(page.get_by_test_id("annotation-workspace")).to_be_visible()

    # delete the task, with confirmation
    page.goto(f"/tasks/{task.id}")
    page.get_by_role("button", name="Delete task").click()
    dialog = page.get_by_role("dialog", name="Delete the task")
    expect(dialog).to_be_visible()
    page.shots("delete-task")
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_have_count(0)
    page.get_by_role("button", name="Delete task").click()
    page.get_by_role("dialog", name="Delete the task").get_by_role("button", name="Delete").click()
    expect(page).to_have_url(re.compile(r"/tasks$"))
    expect(page.get_by_role("link", name="ui-tj-beta")).to_be_visible()
    expect(page.get_by_role("link", name="ui-tj-renamed")).to_have_count(0)
    assert page.request.get(f"/api/tasks/{task.id}").status == 404
    page.goto(f"/tasks/{task.id}")
    expect(page.get_by_role("alert")).to_be_visible()  # CVAT's message, not a blank page
    page.shots("deleted-task")


def _get(page, path: str) -> dict:
    response = page.request.get(path)
    assert response.ok, response.text()
    return response.json()


def _csrf(page) -> str:
    return next(c["value"] for c in page.context.cookies() if c["name"] == "csrftoken")

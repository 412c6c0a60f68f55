"""Creating a task with data in Chromium (/tasks/create): local files go straight to the embedded
S3 through presigned multipart uploads (the bucket's CORS rule answers the browser's preflight),
then Upload-Finish and the background request until the task page opens; a failure keeps the form
and shows the server's message."""

from __future__ import annotations

import base64
import io
import re
from pathlib import Path

from PIL import Image
from playwright.sync_api import expect

from tests.e2e.ui.conftest import sign_in

READY = 90_000  # ms: the task-data workflow on a busy two-core machine


def _pngs(folder: Path, count: int) -> list[Path]:
    paths = []
    for i in range(count):
        path = folder / f"frame_{i:02d}.png"
        Image.new("RGB", (64, 48), (i * 60 % 255, 40, 200)).save(path)
        paths.append(path)
    return paths


def _mp4(frames: int) -> bytes:
    import av

    out = io.BytesIO()
    with av.open(out, "w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=10)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        for i in range(frames):
            frame = av.VideoFrame.from_image(Image.new("RGB", (64, 48), (i * 20 % 255, 0, 0)))
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return out.getvalue()


def _csrf(page) -> str:
    return next(c["value"] for c in page.context.cookies() if c["name"] == "csrftoken")


def _task(page, task_id: int) -> dict:
    response = page.request.get(f"/api/tasks/{task_id}")
    assert response.ok, response.text()
    return response.json()


def _task_id(page) -> int:
    expect(page).to_have_url(re.compile(r"/tasks/\d+$"), timeout=READY)
    match = re.search(r"/tasks/(\d+)$", page.url)
    assert match is not None
    return int(match.group(1))


def test_three_images_from_the_file_input_into_a_preselected_project(page, admin, tmp_path):
    sign_in(page, *admin)
    made = page.request.post("/api/projects", data={"name": "ui-create-project", "labels": [{"name": "car"}]},
                             headers={"X-CSRFToken": _csrf(page)})
    assert made.status == 201, made.text()
    project = made.json()["id"]

    page.goto(f"/tasks/create?project_id={project}")
    expect(page.get_by_role("heading", name="Create a new task")).to_be_visible()
    expect(page.get_by_label("Project")).to_have_value(str(project))
    expect(page.get_by_text("The task takes the labels of the project")).to_be_visible()
    page.get_by_label("Name").fill("ui-three-images")
    page.get_by_label("Choose files").set_input_files([str(p) for p in _pngs(tmp_path, 3)])
    files = page.get_by_role("table", name="Chosen files")
    expect(files.get_by_role("row")).to_have_count(4)  # a header and three files
    expect(page.get_by_text("3 files,")).to_be_visible()
    page.get_by_role("button", name="Remove frame_01.png").click()
    expect(files.get_by_role("row")).to_have_count(3)
    page.get_by_label("Choose files").set_input_files([str(tmp_path / "frame_01.png")])
    expect(files.get_by_role("row")).to_have_count(4)
    page.get_by_text("Advanced configuration").click()
    page.get_by_label("Image quality").fill("80")
    page.get_by_label("Segment size").fill("2")
    page.shots("form")

    page.get_by_role("button", name="Submit & Open").click()
    task_id = _task_id(page)
    page.shots("task-page")
    task = _task(page, task_id)
    assert task["size"] == 3
    assert task["project_id"] == project
    assert task["image_quality"] == 80
    assert task["segment_size"] == 2
    assert task["jobs"]["count"] == 2


def test_a_video_dropped_on_the_drop_zone(page, admin):
    sign_in(page, *admin)
    page.goto("/tasks/create")
    page.get_by_label("Name").fill("ui-dropped-video")
    video = base64.b64encode(_mp4(12)).decode()
    data = page.evaluate_handle(
        """([name, b64]) => {
            const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
            const data = new DataTransfer();
            data.items.add(new File([bytes], name, { type: "video/mp4" }));
            return data;
        }""",
        ["clip.mp4", video],
    )
    page.get_by_test_id("dropzone").dispatch_event("drop", {"dataTransfer": data})
    chosen = page.get_by_role("table", name="Chosen files")
    expect(chosen.get_by_role("cell", name="clip.mp4", exact=True)).to_be_visible()
    page.shots("dropped")
    page.get_by_role("button", name="Submit & Open").click()
    task_id = _task_id(page)
    page.shots("task-page")
    task = _task(page, task_id)
    assert task["size"] == 12
    assert task["mode"] == "interpolation"


def test_a_corrupt_file_then_a_refused_url_show_the_server_message_and_cancel_deletes_the_task(page, admin):
    sign_in(page, *admin)
    page.goto("/tasks/create")
    page.get_by_label("Name").fill("ui-broken")
    page.get_by_label("Choose files").set_input_files(
        [{"name": "broken.png", "mimeType": "image/png", "buffer": b"\x89PNG not really an image" * 10}])
    page.get_by_role("button", name="Submit & Open").click()
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("broken.png: not a readable image", timeout=READY)
    expect(page).to_have_url(re.compile(r"/tasks/create"))
    status = page.get_by_text(re.compile(r"Task #\d+ was created without data"))
    expect(status).to_be_visible()
    task_id = int(re.search(r"#(\d+)", status.inner_text()).group(1))  # type: ignore[union-attr]
    page.shots("corrupt-file")

    # the same task takes the next try: a URL the SSRF guard refuses
    page.get_by_role("tab", name="Remote sources").click()
    expect(page).to_have_url(re.compile(r"source=remote"))
    page.get_by_label("Remote URLs (one per line)").fill("http://169.254.169.254/latest/meta-data/a.jpg")
    page.get_by_role("button", name="Send data").click()
    expect(alert).to_contain_text("metadata address", timeout=READY)
    page.shots("refused-url")

    page.get_by_role("button", name="Cancel", exact=True).click()
    page.get_by_role("dialog").get_by_role("button", name="Cancel the upload").click()
    expect(page.get_by_text(re.compile(r"was created without data"))).to_have_count(0)
    assert page.request.get(f"/api/tasks/{task_id}").status == 404


def test_a_folder_ticked_in_the_share_browser(page, admin, runtime, tmp_path):
    sign_in(page, *admin)
    page.goto("/tasks/create?source=share")
    expect(page.get_by_role("tab", name="Connected file share")).to_have_attribute("aria-selected", "true")
    expect(page.get_by_text("This folder of the share is empty.")).to_be_visible()
    s3 = runtime.boto3("s3")
    bucket = runtime.facts()["outputs"]["MediaBucketName"]
    for path in _pngs(tmp_path, 2):
        s3.upload_file(str(path), bucket, f"share/pics/{path.name}")
    page.reload()
    page.get_by_role("button", name="Open folder pics").click()
    listing = page.get_by_role("table", name="Share contents")
    expect(listing.get_by_role("cell", name="frame_01.png", exact=True)).to_be_visible()
    page.get_by_role("navigation", name="Share folders").get_by_role("button", name="share").click()
    page.get_by_label("Select pics/").check()
    expect(page.get_by_text("Selected: pics/")).to_be_visible()
    page.get_by_label("Name").fill("ui-from-share")
    page.shots("share")
    page.get_by_role("button", name="Submit & Open").click()
    task_id = _task_id(page)
    assert _task(page, task_id)["size"] == 2

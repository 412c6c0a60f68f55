"""Reading task data through the media API function's handler (in-memory adapters, real API
Gateway proxy events): chunks, frames, data/meta and previews of tasks, jobs and projects, who may
read them, CVAT's answers to bad queries, deleted frames, and pixels checked against the media
made here (PNG originals come back byte for byte)."""

from __future__ import annotations

import base64
import io
import zipfile
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from PIL import Image, ImageChops, ImageStat

from tests.events import rest_event
from tests.functional._api_world import Api, api_fixture, sdk_parse  # noqa: F401 - fixture
from tests.functional.conftest import Context, load_handler
from tests.functional.test_api_task_data import multipart, run_workflow

COLORS = [(200, 30, 30), (30, 200, 30), (30, 30, 200), (200, 200, 30), (30, 200, 200), (200, 30, 200)]
_HANDLER: Any = None


def image(color: tuple[int, int, int], size: tuple[int, int] = (64, 48), fmt: str = "PNG") -> bytes:
    """A smooth picture (a colour and a gradient): JPEG keeps it close, so pixels can be compared."""
    width, height = size
    picture = Image.new("RGB", size)
    picture.putdata([(min(255, color[0] + x * 48 // width), color[1], min(255, color[2] + y * 48 // height))
                     for y in range(height) for x in range(width)])
    out = io.BytesIO()
    picture.save(out, format=fmt)
    return out.getvalue()


def close(a: bytes | Image.Image, b: bytes | Image.Image, tolerance: float = 8.0) -> bool:
    first = a if isinstance(a, Image.Image) else Image.open(io.BytesIO(a))
    second = b if isinstance(b, Image.Image) else Image.open(io.BytesIO(b))
    if first.size != second.size:
        return False
    diff = ImageChops.difference(first.convert("RGB"), second.convert("RGB"))
    return max(ImageStat.Stat(diff).mean) <= tolerance


@dataclass
class Raw:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        import json

        return json.loads(self.body)


def media(api: Api, path: str, user: str | None = "alice", *, query: dict[str, str] | None = None,
          method: str = "GET", body: Any = None, headers: dict[str, str] | None = None) -> Raw:
    """A request to the media API function (MediaApiFunction), as API Gateway sends it."""
    global _HANDLER  # noqa: PLW0603 - load the function module once per session
    if _HANDLER is None:
        _HANDLER = load_handler("media_api")
    all_headers = dict(headers or {})
    if user is not None:
        all_headers["Authorization"] = f"Token {api.keys[user]}"
    if body is not None:
        all_headers["Content-Type"] = "application/json"
    event = rest_event(method, path, body=body, headers=all_headers,
                       query={k: [v] for k, v in (query or {}).items()} or None)
    answer = _HANDLER(event, Context("media_api"))
    raw = answer.get("body") or ""
    data = base64.b64decode(raw) if answer.get("isBase64Encoded") else raw.encode()
    out_headers = {k: v[-1] for k, v in (answer.get("multiValueHeaders") or {}).items()}
    out_headers.update(answer.get("headers") or {})
    return Raw(answer["statusCode"], out_headers, data)


def fetched(api: Api, answer: Raw) -> bytes:
    """The body, following a redirect to the storage as cvat-sdk does."""
    if answer.status == 302:
        return api.container.blobs.http_get(answer.headers["Location"])[0]
    assert answer.status == 200, (answer.status, answer.body[:300])
    return answer.body


def members(archive: bytes) -> list[bytes]:
    with zipfile.ZipFile(io.BytesIO(archive)) as z:
        return [z.read(i) for i in z.infolist()]


def new_task(api: Api, user: str = "alice", **extra: Any) -> int:
    labels = {} if "project_id" in extra else {"labels": [{"name": "car"}]}
    answer = api.post("/api/tasks", {"name": "T", **labels, **extra}, user)
    assert answer.status == 201, answer.body
    return int(answer.body["id"])


def attach(api: Api, task: int, files: list[tuple[str, bytes]], user: str = "alice", **params: str) -> None:
    fields = {"image_quality": "95", "sorting_method": "predefined", **params}
    ctype, body = multipart(fields, [(f"client_files[{i}]", name, data) for i, (name, data) in enumerate(files)])
    answer = api.call("POST", f"/api/tasks/{task}/data", None, as_user=user, raw_body=body, binary=True,
                      headers={"Content-Type": ctype})
    assert answer.status == 202, answer.body
    (done,) = run_workflow(api)
    assert "message" not in done, done


VIDEO_FPS = 10


def video(frames: int, size: tuple[int, int] = (64, 48)) -> bytes:
    import av

    out = io.BytesIO()
    with av.open(out, "w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=VIDEO_FPS)
        stream.width, stream.height, stream.pix_fmt = size[0], size[1], "yuv420p"
        stream.options = {"crf": "1"}
        for i in range(frames):
            frame = av.VideoFrame.from_image(Image.new("RGB", size, COLORS[i % len(COLORS)]))
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return out.getvalue()


@pytest.fixture
def alice(api: Api) -> Api:
    api.user("alice")
    return api


@pytest.fixture
def images_task(alice: Api) -> tuple[Api, int, list[bytes]]:
    """5 PNG frames, chunks of 2, jobs of 3 frames (which do not line up with the chunks)."""
    pictures = [image(c) for c in COLORS[:5]]
    task = new_task(alice, segment_size=3)
    attach(alice, task, [(f"img{i}.png", p) for i, p in enumerate(pictures)], chunk_size="2")
    return alice, task, pictures


def test_chunks_of_an_image_task_redirect_to_the_storage_and_hold_the_frames_in_order(images_task):
    api, task, pictures = images_task
    original = media(api, f"/api/tasks/{task}/data/", query={"number": "1", "quality": "original", "type": "chunk"})
    assert original.status == 302 and original.headers["Cache-Control"] == "no-store"
    assert original.headers["Location"].startswith("memory://")  # the storage's origin, never the API's
    assert members(fetched(api, original)) == pictures[2:4]  # PNG originals, byte for byte
    compressed = media(api, f"/api/tasks/{task}/data/", query={"number": "2", "quality": "compressed", "type": "chunk"})
    (last,) = members(fetched(api, compressed))
    assert Image.open(io.BytesIO(last)).format == "JPEG" and close(last, pictures[4])
    default = media(api, f"/api/tasks/{task}/data/", query={"number": "0", "type": "chunk"})  # CVAT: compressed
    assert [Image.open(io.BytesIO(m)).format for m in members(fetched(api, default))] == ["JPEG", "JPEG"]


def test_frames_come_inline_originals_untouched(images_task):
    api, task, pictures = images_task
    for number, picture in enumerate(pictures):
        frame = media(api, f"/api/tasks/{task}/data/", query={"number": str(number), "quality": "original",
                                                               "type": "frame"})
        assert frame.status == 200 and frame.headers["Content-Type"] == "image/png"
        assert frame.body == picture
    compressed = media(api, f"/api/tasks/{task}/data/", query={"number": "3", "type": "frame"})
    assert compressed.headers["Content-Type"] == "image/jpeg" and close(compressed.body, pictures[3])
    # FiftyOne's form: no trailing slash, parameters in its order
    fiftyone = media(api, f"/api/tasks/{task}/data", query={"type": "frame", "quality": "original", "number": "4"})
    assert fiftyone.status == 200 and fiftyone.body == pictures[4]


def test_a_frame_too_big_to_answer_inline_is_kept_once_and_redirected_to(images_task):
    api, task, pictures = images_task
    api.container.task_media.inline_max_bytes = 16
    first = media(api, f"/api/tasks/{task}/data/", query={"number": "1", "quality": "original", "type": "frame"})
    assert first.status == 302 and fetched(api, first) == pictures[1]
    kept = [k for k in api.container.blobs.objects if "/frames/original/1.png" in k]
    assert len(kept) == 1
    again = media(api, f"/api/tasks/{task}/data/", query={"number": "1", "quality": "original", "type": "frame"})
    assert again.status == 302 and fetched(api, again) == pictures[1]


def test_meta_is_cvats_data_meta_read(images_task):
    api, task, _ = images_task
    meta = media(api, f"/api/tasks/{task}/data/meta")
    assert meta.status == 200
    body = meta.json()
    sdk_parse("DataMetaRead", body)
    assert (body["chunk_size"], body["size"], body["image_quality"], body["start_frame"], body["stop_frame"],
            body["frame_filter"], body["deleted_frames"], body["included_frames"]) == (2, 5, 95, 0, 4, "", [], None)
    assert [(f["name"], f["width"], f["height"], f["related_files"], f["has_related_context"])
            for f in body["frames"]] == [(f"img{i}.png", 64, 48, 0, False) for i in range(5)]
    assert body["storage"] == "local" and body["chunks_updated_date"]


def test_bad_queries_answer_cvats_400(images_task):
    api, task, _ = images_task
    path = f"/api/tasks/{task}/data/"
    cases = [
        ({}, ["Data type not specified or has wrong value"]),
        ({"type": "preview", "number": "0"}, ["Data type not specified or has wrong value"]),
        ({"type": "chunk"}, ["Number is not specified"]),
        ({"type": "frame", "number": "0", "quality": "best"}, ["Wrong quality value"]),
        ({"type": "frame", "number": "x"}, {"number": ["A valid integer is required."]}),
        ({"type": "frame", "number": "5"}, ["Invalid frame '5'. The frame number should be in the [0, 4] range"]),
        ({"type": "chunk", "number": "3"},
         ["Invalid chunk number '3'. The chunk number should be in the [0, 2] range"]),
    ]
    for query, body in cases:
        answer = media(api, path, query=query)
        assert (answer.status, answer.json()) == (400, body), query
    no_context = media(api, path, query={"type": "context_image", "number": "0"})
    assert no_context.status == 404


def test_before_the_task_has_data(alice: Api):
    api = alice
    task = new_task(api)
    assert media(api, f"/api/tasks/{task}/data/meta").status == 404
    assert media(api, f"/api/tasks/{task}/data/", query={"type": "chunk", "number": "0"}).status == 404
    preview = media(api, f"/api/tasks/{task}/preview")
    assert (preview.status, preview.json()) == (404, {"detail": "Task image preview not found"})
    assert media(api, f"/api/tasks/{task}/preview", headers={"Prefer": "handling=empty"}).status == 204
    assert media(api, "/api/tasks/999/data/meta").status == 404
    # the same caller reads the data as soon as it is there (a task without data is not remembered)
    attach(api, task, [("a.png", image(COLORS[0]))])
    assert media(api, f"/api/tasks/{task}/data/", query={"type": "frame", "number": "0"}).status == 200
    assert media(api, f"/api/tasks/{task}/preview").status == 200


def test_who_may_read_and_change_a_tasks_data(images_task):
    api, task, _ = images_task
    api.user("bob")
    api.user("root", superuser=True)
    for path, query in ((f"/api/tasks/{task}/data/", {"type": "frame", "number": "0"}),
                        (f"/api/tasks/{task}/data/meta", None), (f"/api/tasks/{task}/preview", None)):
        assert media(api, path, "bob", query=query).status in (403, 404), path
        assert media(api, path, None, query=query).status == 401, path
        assert media(api, path, "root", query=query).status == 200, path
    assert media(api, f"/api/tasks/{task}/data/meta", "bob", method="PATCH",
                 body={"deleted_frames": [1]}).status in (403, 404)
    # the assignee of the task may view its data
    assert api.patch(f"/api/tasks/{task}", {"assignee_id": api.repos.users.find_by_username("bob").id},
                     "alice").status == 200
    assert media(api, f"/api/tasks/{task}/data/", "bob", query={"type": "frame", "number": "0"}).status == 200


def test_deleted_frames_of_a_task_and_of_its_jobs(images_task):
    api, task, _ = images_task
    before = api.get(f"/api/tasks/{task}", "alice").body["updated_date"]
    api.container.clock.advance(timedelta(seconds=5))
    patched = media(api, f"/api/tasks/{task}/data/meta", method="PATCH", body={"deleted_frames": [3, 1, 3]})
    assert patched.status == 200 and patched.json()["deleted_frames"] == [1, 3]
    assert media(api, f"/api/tasks/{task}/data/meta").json()["deleted_frames"] == [1, 3]
    after = api.get(f"/api/tasks/{task}", "alice").body["updated_date"]
    assert after > before  # cvat-sdk's dataset cache knows the task changed
    for body, field in (({"deleted_frames": [5]}, "deleted_frames"), ({"deleted_frames": [-1]}, "deleted_frames.0"),
                        ({}, "deleted_frames"), ({"deleted_frames": "1"}, "deleted_frames")):
        answer = media(api, f"/api/tasks/{task}/data/meta", method="PATCH", body=body)
        assert answer.status == 400 and field in answer.json(), (body, answer.json())
    first, second = sorted(j["id"] for j in api.get("/api/jobs", "alice", query={"task_id": str(task)}).body["results"])
    # a job changes only its own frames' deletions
    job = media(api, f"/api/jobs/{second}/data/meta", method="PATCH", body={"deleted_frames": [4]})
    assert job.status == 200 and job.json()["deleted_frames"] == [4]
    assert media(api, f"/api/tasks/{task}/data/meta").json()["deleted_frames"] == [1, 4]
    outside = media(api, f"/api/jobs/{second}/data/meta", method="PATCH", body={"deleted_frames": [0]})
    assert outside.status == 400 and "do not belong to the job" in outside.json()["deleted_frames"][0]
    assert media(api, f"/api/jobs/{first}/data/meta").json()["deleted_frames"] == [1]


def test_jobs_read_their_own_frames_and_chunks(images_task):
    api, task, pictures = images_task
    first, second = sorted(j["id"] for j in api.get("/api/jobs", "alice", query={"task_id": str(task)}).body["results"])
    meta = media(api, f"/api/jobs/{first}/data/meta").json()
    sdk_parse("DataMetaRead", meta)
    assert (meta["size"], meta["start_frame"], meta["stop_frame"]) == (3, 0, 2)
    assert [f["name"] for f in meta["frames"]] == ["img0.png", "img1.png", "img2.png"]
    meta2 = media(api, f"/api/jobs/{second}/data/meta").json()
    assert (meta2["size"], meta2["start_frame"], meta2["stop_frame"], [f["name"] for f in meta2["frames"]]) == (
        2, 3, 4, ["img3.png", "img4.png"])
    # jobs of 3 frames and chunks of 2 do not line up: a job's chunks are its own, numbered from 0
    chunk = lambda job, **q: media(api, f"/api/jobs/{job}/data", query={"type": "chunk", "quality": "original", **q})  # noqa: E731
    assert members(fetched(api, chunk(first, index="0"))) == pictures[0:2]
    assert members(fetched(api, chunk(first, index="1"))) == pictures[2:3]
    assert members(fetched(api, chunk(second, index="0"))) == pictures[3:5]
    assert chunk(first, index="2").status == 400
    # the deprecated task chunk number: the job's frames of that task chunk only
    assert members(fetched(api, chunk(first, number="1"))) == pictures[2:3]
    assert members(fetched(api, chunk(second, number="1"))) == pictures[3:4]
    assert chunk(second, number="0").status == 400
    both = media(api, f"/api/jobs/{first}/data", query={"type": "chunk", "index": "0", "number": "0"})
    assert (both.status, both.json()) == (400, ["Number and Index cannot be used together"])
    frame = media(api, f"/api/jobs/{second}/data", query={"type": "frame", "number": "4", "quality": "original"})
    assert frame.status == 200 and frame.body == pictures[4]
    outside = media(api, f"/api/jobs/{second}/data", query={"type": "frame", "number": "1", "quality": "original"})
    assert (outside.status, outside.json()) == (400, ["Incorrect requested frame number: 1"])


def test_jobs_that_line_up_with_the_chunks_read_the_task_chunks(alice: Api):
    api = alice
    pictures = [image(c) for c in COLORS[:5]]
    task = new_task(api, segment_size=2)
    attach(api, task, [(f"img{i}.png", p) for i, p in enumerate(pictures)], chunk_size="2")
    jobs = sorted(j["id"] for j in api.get("/api/jobs", "alice", query={"task_id": str(task)}).body["results"])
    answer = media(api, f"/api/jobs/{jobs[1]}/data", query={"type": "chunk", "index": "0", "quality": "original"})
    assert "chunks/original/1.zip" in answer.headers["Location"]
    assert members(fetched(api, answer)) == pictures[2:4]
    assert members(fetched(api, media(api, f"/api/jobs/{jobs[2]}/data", query={
        "type": "chunk", "index": "0", "quality": "original"}))) == pictures[4:5]


def test_previews_of_tasks_jobs_and_projects(alice: Api):
    api = alice
    project = api.post("/api/projects", {"name": "P", "labels": [{"name": "car"}]}, "alice").body["id"]
    empty = media(api, f"/api/projects/{project}/preview")
    assert (empty.status, empty.json()) == (404, {"detail": "Project image preview not found"})
    pictures = [image(c, (300, 200)) for c in COLORS[:4]]
    task = new_task(api, segment_size=2, project_id=project)
    attach(api, task, [(f"img{i}.png", p) for i, p in enumerate(pictures)])
    preview = media(api, f"/api/tasks/{task}/preview")
    assert preview.status == 200 and preview.headers["Content-Type"] == "image/jpeg"
    shown = Image.open(io.BytesIO(preview.body))
    assert max(shown.size) <= 256 and close(shown, Image.open(io.BytesIO(pictures[0])).resize(shown.size), 12)
    jobs = sorted(j["id"] for j in api.get("/api/jobs", "alice", query={"task_id": str(task)}).body["results"])
    second = Image.open(io.BytesIO(media(api, f"/api/jobs/{jobs[1]}/preview").body))
    assert close(second, Image.open(io.BytesIO(pictures[2])).resize(second.size), 12)
    assert media(api, f"/api/projects/{project}/preview").body == preview.body
    api.user("bob")
    assert media(api, f"/api/projects/{project}/preview", "bob").status in (403, 404)
    assert media(api, f"/api/jobs/{jobs[0]}/preview", "bob").status in (403, 404)


def test_a_video_task_decodes_original_frames_once(alice: Api):
    api = alice
    clip = video(12)
    task = new_task(api)
    attach(api, task, [("clip.mp4", clip)], chunk_size="5")
    read = api.get(f"/api/tasks/{task}", "alice").body
    assert (read["data_original_chunk_type"], read["data_compressed_chunk_type"]) == ("imageset", "imageset")
    # cvat-sdk's TaskDataset names sample k frames[k] for image-set originals: one entry per frame
    meta = media(api, f"/api/tasks/{task}/data/meta").json()
    assert [f["name"] for f in meta["frames"]] == ["clip.mp4"] * 12 and meta["size"] == 12
    assert meta["frame_rate"] == pytest.approx(VIDEO_FPS)  # the player's speed (an extension)
    job = api.get("/api/jobs", "alice", query={"task_id": str(task)}).body["results"][0]["id"]
    assert media(api, f"/api/jobs/{job}/data/meta").json()["frame_rate"] == pytest.approx(VIDEO_FPS)
    frame = media(api, f"/api/tasks/{task}/data/", query={"number": "7", "quality": "original", "type": "frame"})
    assert frame.status == 200 and frame.headers["Content-Type"] == "image/png"
    decoded = Image.open(io.BytesIO(frame.body))
    assert decoded.size == (64, 48) and close(decoded, Image.new("RGB", (64, 48), COLORS[7 % len(COLORS)]), 6)
    assert [k for k in api.container.blobs.objects if k.endswith("/frames/original/7.png")]
    again = media(api, f"/api/tasks/{task}/data/", query={"number": "7", "quality": "original", "type": "frame"})
    assert again.body == frame.body
    compressed = media(api, f"/api/tasks/{task}/data/", query={"number": "11", "type": "frame"})
    assert close(compressed.body, Image.new("RGB", (64, 48), COLORS[11 % len(COLORS)]), 6)
    chunk = media(api, f"/api/tasks/{task}/data/", query={"number": "2", "type": "chunk"})
    assert chunk.headers["Content-Type"] == "application/zip"
    assert [i.filename for i in zipfile.ZipFile(io.BytesIO(fetched(api, chunk))).infolist()] == [
        "000000.jpeg", "000001.jpeg"]


def mp4_frames(api: Api, suffix: str) -> list[Image.Image]:
    """The frames of the stored MP4 original chunk whose key ends with ``suffix``."""
    import av

    (key,) = [k for k in api.container.blobs.objects if k.endswith(suffix)]
    with av.open(io.BytesIO(api.container.blobs.get(key))) as container:
        return [f.to_image() for f in container.decode(video=0)]


def test_original_chunks_of_a_video_task_are_image_sets_made_once_from_the_stored_mp4(alice: Api):
    api = alice
    task = new_task(api, segment_size=4, overlap=0)  # jobs 0-3, 4-7, 8-11 over chunks 0-4, 5-9, 10-11
    attach(api, task, [("clip.mp4", video(12))], chunk_size="5")
    assert not [k for k in api.container.blobs.objects if "/chunks/original/" in k and k.endswith(".zip")]
    query = {"number": "1", "quality": "original", "type": "chunk"}
    chunk = media(api, f"/api/tasks/{task}/data/", query=query)
    assert chunk.status == 302 and chunk.headers["Content-Type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(fetched(api, chunk)))
    assert [i.filename for i in archive.infolist()] == [f"{p:06d}.png" for p in range(5)]
    pngs = [Image.open(io.BytesIO(archive.read(i))) for i in archive.infolist()]
    source = mp4_frames(api, "/chunks/original/1.mp4")
    assert len(source) == 5
    for offset, (png, frame) in enumerate(zip(pngs, source, strict=True)):
        assert png.format == "PNG" and png.size == (64, 48)
        assert png.convert("RGB").tobytes() == frame.crop((0, 0, 64, 48)).tobytes()
        assert close(png, Image.new("RGB", (64, 48), COLORS[(5 + offset) % len(COLORS)]), 6)
    # made once: kept, and the next read is only a redirect to it
    (kept,) = [k for k in api.container.blobs.objects if k.endswith("/chunks/images/original/1.zip")]
    stored = api.container.blobs.get(kept)
    assert fetched(api, media(api, f"/api/tasks/{task}/data/", query=query)) == stored
    # the frame read still agrees with the chunk
    frame = media(api, f"/api/tasks/{task}/data/", query={"number": "6", "quality": "original", "type": "frame"})
    assert frame.body == archive.read("000001.png")
    last = members(fetched(api, media(api, f"/api/tasks/{task}/data/", query={**query, "number": "2"})))
    assert len(last) == 2
    # jobs: their own chunks (segments that do not line up with the task chunks have MP4s of their
    # own) and their share of a task chunk
    jobs = sorted(api.get("/api/jobs", "alice", query={"task_id": str(task)}).body["results"],
                  key=lambda j: j["start_frame"])
    own = members(fetched(api, media(api, f"/api/jobs/{jobs[1]['id']}/data", query={
        "index": "0", "quality": "original", "type": "chunk"})))
    assert len(own) == 4
    for offset, data in enumerate(own):
        assert close(data, Image.new("RGB", (64, 48), COLORS[(4 + offset) % len(COLORS)]), 6)
    share = members(fetched(api, media(api, f"/api/jobs/{jobs[1]['id']}/data", query={
        "number": "1", "quality": "original", "type": "chunk"})))
    assert share == [archive.read(f"{p:06d}.png") for p in range(3)]  # frames 5-7 of chunk 1 (5-9)
    assert len(media(api, f"/api/jobs/{jobs[2]['id']}/data/meta").json()["frames"]) == 4


def test_a_video_task_with_zip_chunks_has_image_set_originals(alice: Api):
    api = alice
    task = new_task(api)
    attach(api, task, [("clip.mp4", video(6))], chunk_size="4", use_zip_chunks="True")
    assert api.get(f"/api/tasks/{task}", "alice").body["data_original_chunk_type"] == "imageset"
    # cvat-sdk's TaskDataset names sample k frames[k] for image-set originals: one entry per frame
    meta = media(api, f"/api/tasks/{task}/data/meta").json()
    assert [f["name"] for f in meta["frames"]] == ["clip.mp4"] * 6
    job = api.get("/api/jobs", "alice", query={"task_id": str(task)}).body["results"][0]["id"]
    assert len(media(api, f"/api/jobs/{job}/data/meta").json()["frames"]) == 6
    frames = members(fetched(api, media(api, f"/api/tasks/{task}/data/", query={
        "number": "1", "quality": "original", "type": "chunk"})))
    assert len(frames) == 2
    for offset, data in enumerate(frames):
        assert close(data, Image.new("RGB", (64, 48), COLORS[4 + offset]), 6)


def test_the_core_api_serves_the_reads_too_without_its_upload_routes_taking_them(images_task):
    """The core function documents these routes (its OpenAPI document) and answers them alike;
    PATCH data/meta must not reach the TUS route PATCH /data/{upload id}."""
    api, task, _ = images_task
    meta = api.patch(f"/api/tasks/{task}/data/meta", {"deleted_frames": [2]}, "alice")
    assert meta.status == 200 and meta.body["deleted_frames"] == [2]
    assert api.get(f"/api/tasks/{task}/data/meta", "alice").body["deleted_frames"] == [2]
    doc = api.get("/api/schema/").body
    for path in ("/api/tasks/{id}/data", "/api/tasks/{id}/data/meta", "/api/jobs/{id}/data",
                 "/api/jobs/{id}/data/meta", "/api/tasks/{id}/preview", "/api/jobs/{id}/preview",
                 "/api/projects/{id}/preview"):
        assert path in doc["paths"], path
    assert {p["name"] for p in doc["paths"]["/api/tasks/{id}/data"]["get"]["parameters"]} >= {"type", "number",
                                                                                               "quality"}

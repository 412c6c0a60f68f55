"""Task data through the core API handler (in-memory adapters): CVAT's upload protocol (Upload-Start,
Upload-Multiple, TUS, Upload-Finish, the one-request multipart form, share and remote files), the
background request, and the task-data workflow's steps run as the state machine would run them,
on real media made here with Pillow and PyAV."""

from __future__ import annotations

import base64
import io
import json
import zipfile
from typing import Any
from urllib.parse import urlsplit

import pytest
from PIL import Image

from cvat_serverless.domain.task_data import DataKeys
from tests.functional._api_world import Api, api_fixture  # noqa: F401 - fixture


def png(color: tuple[int, int, int], size: tuple[int, int] = (64, 48)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, format="PNG")
    return out.getvalue()


def multipart(fields: dict[str, str], files: list[tuple[str, str, bytes]]) -> tuple[str, bytes]:
    boundary = "----cvat-test-boundary"
    out = io.BytesIO()
    for name, value in fields.items():
        out.write(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
    for name, filename, body in files:
        out.write(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
                  "Content-Type: application/octet-stream\r\n\r\n".encode())
        out.write(body + b"\r\n")
    out.write(f"--{boundary}--\r\n".encode())
    return f"multipart/form-data; boundary={boundary}", out.getvalue()


def run_workflow(api: Api) -> list[dict[str, Any]]:
    """Run every started task-data execution's steps, as the state machine does (Fail on error)."""
    c = api.container
    done = []
    for workflow, _name, payload in list(c.workflows.started):
        if payload.get("_ran") or workflow != "task-data":
            continue
        payload["_ran"] = True
        ids = (payload["request_id"], payload["task_id"], payload["data_id"])
        try:
            prepared = c.pipeline.prepare(*ids)
            for unit in prepared["units"]:
                c.pipeline.run_unit(*ids, unit)
            done.append(c.pipeline.finalize(*ids))
        except Exception as exc:
            cause = json.dumps({"errorType": type(exc).__name__, "errorMessage": str(exc)})
            done.append(c.pipeline.fail(*ids, type(exc).__name__, cause))
    return done


def new_task(api: Api, **extra: Any) -> int:
    answer = api.post("/api/tasks", {"name": "T", "labels": [{"name": "car"}], **extra}, "alice")
    assert answer.status == 201, answer.body
    return int(answer.body["id"])


@pytest.fixture
def alice(api: Api) -> Api:
    api.user("alice")
    return api


def test_the_sdk_protocol_start_multiple_finish_then_the_request_finishes(alice: Api):
    api = alice
    task = new_task(api, segment_size=2)
    url = f"/api/tasks/{task}/data/"
    assert api.call("POST", url, None, as_user="alice", headers={"Upload-Start": ""}).status == 202
    images = [png((i * 40, 0, 0)) for i in range(5)]
    ctype, body = multipart({"image_quality": "70"},
                            [(f"client_files[{i}]", f"/home/me/pics/img{i}.png", b) for i, b in enumerate(images)])
    answer = api.call("POST", url, None, as_user="alice", raw_body=body, binary=True,
                      headers={"Upload-Multiple": "", "Content-Type": ctype})
    assert answer.status == 200, answer.body
    finish = api.call("POST", url, {"image_quality": 70}, as_user="alice", headers={"Upload-Finish": ""})
    assert finish.status == 202, finish.body
    rq_id = finish.body["rq_id"]
    queued = api.get(f"/api/requests/{rq_id}", "alice")
    assert queued.status == 200 and queued.body["status"] == "queued"
    assert queued.body["operation"] == {"type": "create:task", "target": "task", "project_id": None, "task_id": task,
                                        "job_id": None, "format": None, "function_id": None}
    # jobs appear when the data is ready
    assert api.get("/api/jobs", "alice", query={"task_id": str(task)}).body["count"] == 0
    run_workflow(api)
    finished = api.get(f"/api/requests/{rq_id}", "alice").body
    assert finished["status"] == "finished", finished
    read = api.get(f"/api/tasks/{task}", "alice").body
    assert (read["size"], read["mode"], read["data_chunk_size"], read["data_original_chunk_type"]) == (
        5, "annotation", 72, "imageset")
    assert read["jobs"]["count"] == 3  # segment_size 2
    blobs = api.container.blobs
    chunk = [k for k in blobs.objects if k.endswith("chunks/original/0.zip")]
    assert len(chunk) == 1
    with zipfile.ZipFile(io.BytesIO(blobs.get(chunk[0]))) as z:
        assert [z.read(i) for i in z.infolist()] == images  # PNG originals, untouched, in order
    # the task took its data: another upload is refused, as in CVAT
    again = api.call("POST", url, None, as_user="alice", headers={"Upload-Start": ""})
    assert again.status == 400


def test_tus_upload_resumes_and_refuses_a_wrong_offset(alice: Api):
    api = alice
    task = new_task(api)
    url = f"/api/tasks/{task}/data/"
    video = _video_bytes(frames=12)
    meta = "filename " + base64.b64encode(b"clip.mp4").decode()
    created = api.call("POST", url, None, as_user="alice", headers={
        "Upload-Length": str(len(video)), "Upload-Metadata": meta, "Tus-Resumable": "1.0.0"})
    assert created.status == 201, created.body
    location = created.header("Location")
    assert location.startswith("http") and created.header("Upload-Filename") == "clip.mp4"
    path = urlsplit(location).path.removeprefix("/v1/")  # the execute-api URL carries the stage
    half = len(video) // 2
    first = api.call("PATCH", "/" + path, None, as_user="alice", raw_body=video[:half], binary=True,
                     headers={"Upload-Offset": "0", "Tus-Resumable": "1.0.0",
                              "Content-Type": "application/offset+octet-stream"})
    assert first.status == 204 and first.header("Upload-Offset") == str(half)
    stale = api.call("PATCH", "/" + path, None, as_user="alice", raw_body=video[:half], binary=True,
                     headers={"Upload-Offset": "0", "Content-Type": "application/offset+octet-stream"})
    assert stale.status == 409 and stale.header("Upload-Offset") == str(half)
    assert api.call("HEAD", "/" + path, None, as_user="alice").header("Upload-Offset") == str(half)
    api.user("bob")
    assert api.call("HEAD", "/" + path, None, as_user="bob").status == 404  # another user's upload
    assert api.call("PATCH", "/" + path, None, as_user="bob", raw_body=video[half:], binary=True,
                    headers={"Upload-Offset": str(half), "Content-Type": "application/offset+octet-stream"}
                    ).status == 404
    rest = api.call("PATCH", "/" + path, None, as_user="alice", raw_body=video[half:], binary=True,
                    headers={"Upload-Offset": str(half), "Content-Type": "application/offset+octet-stream"})
    assert rest.header("Upload-Offset") == str(len(video))
    finish = api.call("POST", url, {"image_quality": 50, "chunk_size": 5}, as_user="alice",
                      headers={"Upload-Finish": ""})
    assert finish.status == 202
    run_workflow(api)
    assert api.get(f"/api/requests/{finish.body['rq_id']}", "alice").body["status"] == "finished"
    read = api.get(f"/api/tasks/{task}", "alice").body
    assert (read["size"], read["mode"], read["data_chunk_size"]) == (12, "interpolation", 5)
    assert read["data_original_chunk_type"] == "imageset"  # MP4s stored, read as image sets


def test_the_one_request_form_of_fiftyone_orders_files_numerically(alice: Api):
    api = alice
    task = new_task(api)
    images = {i: png((0, i * 20, 0)) for i in range(12)}
    files = [(f"client_files[{i}]", f"frame{i:02d}.png", images[i]) for i in (10, 2, 11, 0, 1, 3, 4, 5, 6, 7, 8, 9)]
    ctype, body = multipart({"image_quality": "75", "use_cache": "True", "use_zip_chunks": "True",
                             "sorting_method": "predefined"}, files)
    answer = api.call("POST", f"/api/tasks/{task}/data", None, as_user="alice", raw_body=body, binary=True,
                      headers={"Content-Type": ctype})
    assert answer.status == 202, answer.body
    run_workflow(api)
    blobs = api.container.blobs
    manifest = next(k for k in blobs.objects if k.endswith("manifest.jsonl"))
    names = [json.loads(line)["name"] for line in blobs.get(manifest).decode().splitlines()[1:]]
    assert names == [f"frame{i:02d}.png" for i in range(12)]  # client_files[10] after [9]


def test_bad_media_fails_the_request_with_the_file_name_and_the_task_takes_a_new_upload(alice: Api):
    api = alice
    task = new_task(api)
    url = f"/api/tasks/{task}/data"
    ctype, body = multipart({"image_quality": "70"}, [("client_files[0]", "broken.jpg", b"\xff\xd8\xff not a jpeg")])
    answer = api.call("POST", url, None, as_user="alice", raw_body=body, binary=True, headers={"Content-Type": ctype})
    assert answer.status == 202
    run_workflow(api)
    failed = api.get(f"/api/requests/{answer.body['rq_id']}", "alice").body
    assert failed["status"] == "failed" and "broken.jpg" in failed["message"], failed
    ctype, body = multipart({"image_quality": "70"}, [("client_files[0]", "good.png", png((1, 2, 3)))])
    again = api.call("POST", url, None, as_user="alice", raw_body=body, binary=True, headers={"Content-Type": ctype})
    assert again.status == 202, again.body
    run_workflow(api)
    assert api.get(f"/api/tasks/{task}", "alice").body["size"] == 1


def test_share_files_with_folders_expanded(alice: Api):
    api = alice
    blobs = api.container.blobs
    for i in range(3):
        blobs.put(f"share/set/a/{i}.png", png((i, i, i)))
    blobs.put("share/set/b/x.png", png((9, 9, 9)))
    task = new_task(api)
    answer = api.post(f"/api/tasks/{task}/data/", {"image_quality": 70, "server_files": ["set/"],
                                                     "server_files_exclude": ["set/b/"]}, "alice")
    assert answer.status == 202, answer.body
    run_workflow(api)
    assert api.get(f"/api/tasks/{task}", "alice").body["size"] == 3


def test_data_parameters_are_validated_like_cvat(alice: Api):
    api = alice
    task = new_task(api)
    bad = api.post(f"/api/tasks/{task}/data/", {"image_quality": 170, "server_files": ["x"]}, "alice")
    assert bad.status == 400 and "image_quality" in bad.body
    step = api.post(f"/api/tasks/{task}/data/", {"image_quality": 70, "frame_filter": "every=2",
                                                  "server_files": ["x"]}, "alice")
    assert step.status == 400 and "frame_filter" in step.body
    api.user("mallory")
    assert api.call("POST", f"/api/tasks/{task}/data/", None, as_user="mallory",
                    headers={"Upload-Start": ""}).status == 403


def _video_bytes(frames: int, *, gop: int = 250, noisy: bool = False) -> bytes:
    import av
    import numpy as np

    rng = np.random.default_rng(1)

    out = io.BytesIO()
    with av.open(out, "w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=10)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        stream.options = {"g": str(gop), "keyint_min": str(gop)}
        for i in range(frames):
            frame = (av.VideoFrame.from_ndarray(rng.integers(0, 256, (48, 64, 3), dtype=np.uint8), format="rgb24")
                     if noisy else av.VideoFrame.from_image(Image.new("RGB", (64, 48), (i * 20 % 255, 0, 0))))
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return out.getvalue()


def test_a_failed_work_unit_fails_the_request_with_what_the_unit_said(alice: Api):
    """A Distributed Map reports only States.ExceedToleratedFailureThreshold: the Fail step tells
    the user what the failed unit recorded."""
    api = alice
    task = new_task(api)
    url = f"/api/tasks/{task}/data"
    ctype, body = multipart({"image_quality": "70"}, [("client_files[0]", "a.png", png((1, 2, 3))),
                                                      ("client_files[1]", "b.png", png((4, 5, 6)))])
    answer = api.call("POST", url, None, as_user="alice", raw_body=body, binary=True, headers={"Content-Type": ctype})
    assert answer.status == 202
    c = api.container
    _workflow, _name, payload = c.workflows.started[-1]
    payload["_ran"] = True
    ids = (payload["request_id"], payload["task_id"], payload["data_id"])
    prepared = c.pipeline.prepare(*ids)
    keys = DataKeys(task, payload["data_id"])
    plan = json.loads(c.blobs.get(keys.plan))
    for key, _ in list(c.blobs.list_keys(plan["source_prefix"])):
        c.blobs.delete(key)  # the unit's media is gone: it fails
    with pytest.raises(Exception, match="not found"):
        c.pipeline.run_unit(*ids, prepared["units"][0])
    c.pipeline.fail(*ids, "States.ExceedToleratedFailureThreshold",
                    "The specified tolerated failure threshold was exceeded: 1 of 1 items failed.")
    failed = api.get(f"/api/requests/{answer.body['rq_id']}", "alice").body
    assert failed["status"] == "failed" and "not found" in failed["message"], failed
    assert "Threshold" not in failed["message"]
    assert list(c.blobs.list_keys(keys.root)) == []  # the partial data is removed; the task takes a new upload


def test_a_large_video_is_read_in_ranges_by_each_unit_with_the_same_chunks(alice: Api, monkeypatch):
    """Above RANGED_VIDEO_BYTES a unit reads its span of the stored video (and the index), not
    the whole file; the chunks are the same bytes as from a downloaded copy."""
    from cvat_serverless.services import pipeline

    api = alice
    c = api.container
    video = _video_bytes(frames=1200, gop=30, noisy=True)  # units of ~360 frames: 3 or more
    chunks: dict[str, dict[str, bytes]] = {}
    for mode in ("download", "ranged"):
        if mode == "ranged":
            monkeypatch.setattr(pipeline, "RANGED_VIDEO_BYTES", 0)
            monkeypatch.setattr(pipeline, "RANGED_VIDEO_READ_AHEAD", 4096)
        task = new_task(api)
        ctype, body = multipart({"image_quality": "70", "chunk_size": "60"}, [("client_files[0]", "v.mp4", video)])
        answer = api.call("POST", f"/api/tasks/{task}/data", None, as_user="alice", raw_body=body, binary=True,
                          headers={"Content-Type": ctype})
        assert answer.status == 202
        _workflow, _name, payload = c.workflows.started[-1]
        payload["_ran"] = True
        ids = (payload["request_id"], payload["task_id"], payload["data_id"])
        units = c.pipeline.prepare(*ids)["units"]
        assert len(units) >= 2
        read: list[int] = []
        get_range = c.blobs.get_range

        def counted(key: str, start: int, end: int, read: list[int] = read, get_range: Any = get_range) -> bytes:
            read.append(end - start + 1)
            return get_range(key, start, end)

        monkeypatch.setattr(c.blobs, "get_range", counted)
        c.pipeline.run_unit(*ids, units[-1])
        monkeypatch.setattr(c.blobs, "get_range", get_range)
        if mode == "ranged":
            assert 0 < sum(read) < len(video) * 0.9, (sum(read), len(video))  # not the whole file
        else:
            assert read == []
        for unit in units[:-1]:
            c.pipeline.run_unit(*ids, unit)
        c.pipeline.finalize(*ids)
        root = DataKeys(task, payload["data_id"]).root
        chunks[mode] = {key[len(root):]: c.blobs.get(key) for key, _ in c.blobs.list_keys(root + "chunks/")}
    assert chunks["download"] and chunks["ranged"] == chunks["download"]

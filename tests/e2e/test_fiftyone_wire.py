"""FiftyOne 1.22.1's CVAT backend, replayed request by request against the embedded runtime.

FiftyOne itself is not installed: each flow sends the requests and bodies that
``fiftyone/utils/cvat.py`` sends to a CVAT >= 2.5 server (see the reference
``cvat-api/fiftyone-client-facts.md``) with plain ``requests``, and reads the answers the way
FiftyOne reads them: one session with cookie + ``X-CSRFToken`` + ``Referer``, URLs without
trailing slashes, ``labels.url`` and ``next`` followed verbatim, the one-request multipart upload,
readiness = jobs appear, the task-level ``PUT .../annotations`` with FiftyOne's extra keys whose
answer must echo every object with its id, annotations read back job by job, and ``PATCH
/api/projects/{id}`` with full label dicts that add the ``label_id`` attribute."""

from __future__ import annotations

import io
import time
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest

conftest = pytest.importorskip("tests.e2e.conftest")  # the embedded-runtime fixtures

import av  # noqa: E402
import requests  # noqa: E402
import urllib3  # noqa: E402
from PIL import Image  # noqa: E402

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
USER, PASSWORD = "e2e-fiftyone", "e2e-fiftyone-pass-1"
READY_TIMEOUT = 120
FO_IDS = [f"65a1b2c3d4e5f6a7b8c9d0{i:02x}" for i in range(64)]  # FiftyOne's 24-hex label ids
LABEL_ID_ATTR = {"name": "label_id", "input_type": "text", "mutable": True, "values": []}


class FiftyOneApi:
    """What ``CVATAnnotationAPI`` does on the wire: one ``requests.Session``, every call with
    ``verify=False`` and ``raise_for_status`` (any 2xx is success)."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.session = requests.Session()
        urllib3.disable_warnings()
        login = self._request("POST", f"{base}/api/auth/login", json={"username": USER, "password": PASSWORD})
        self.session.headers["X-CSRFToken"] = login.cookies["csrftoken"]
        self.session.headers["Referer"] = f"{base}/api/auth/login"
        self.version = self.get("/api/server/about").json()["version"]

    def _request(self, method: str, url: str, **kwargs: Any) -> requests.Response:
        answer = self.session.request(method, url, verify=False, timeout=60, **kwargs)
        assert answer.ok, f"{answer.status_code} error for request {method} {url}: {answer.text}"
        return answer

    def get(self, path: str) -> requests.Response:
        return self._request("GET", path if path.startswith("http") else self.base + path)

    def post(self, path: str, **kwargs: Any) -> requests.Response:
        return self._request("POST", self.base + path, **kwargs)

    def put(self, path: str, **kwargs: Any) -> requests.Response:
        return self._request("PUT", self.base + path, **kwargs)

    def patch(self, path: str, **kwargs: Any) -> requests.Response:
        return self._request("PATCH", self.base + path, **kwargs)

    def delete(self, path: str) -> requests.Response:
        return self._request("DELETE", self.base + path)

    def paginated(self, url: str) -> list[dict[str, Any]]:
        """``_get_paginated_results``: ``results`` of every page, ``next`` followed verbatim."""
        out: list[dict[str, Any]] = []
        next_url: str | None = url
        while next_url:
            page = self.get(next_url).json()
            out += page["results"]
            next_url = page["next"]
        return out

    def user_id(self, username: str) -> int:
        users = self.paginated(f"/api/users?search={username}")
        return next(u["id"] for u in users if u["username"] == username)

    def labels(self, owner: dict[str, Any]) -> tuple[dict[str, int], dict[int, dict[str, int]]]:
        """``_get_attr_class_maps``: class name -> label id, label id -> {attr name: spec id}."""
        labels = self.paginated(owner["labels"]["url"])
        return ({lb["name"]: lb["id"] for lb in labels},
                {lb["id"]: {a["name"]: a["id"] for a in lb["attributes"]} for lb in labels})

    def upload(self, task_id: int, files: list[tuple[str, Any]]) -> None:
        """``upload_data``: one multipart request, files in dataset order, no Upload-* headers."""
        data = {"image_quality": 75, "use_cache": True, "use_zip_chunks": True, "sorting_method": "predefined"}
        self.post(f"/api/tasks/{task_id}/data", data=data,
                  files={f"client_files[{i}]": item for i, item in enumerate(files)})

    def wait_for_jobs(self, task_id: int) -> list[dict[str, Any]]:
        """FiftyOne polls the job list every second until it is non-empty (here with a deadline)."""
        return conftest.wait_for(lambda: self.paginated(f"/api/jobs?task_id={task_id}"), timeout=READY_TIMEOUT,
                                 interval=1.0, what=f"jobs of task {task_id}")

    def download(self, task_id: int) -> tuple[dict[str, Any], list[tuple[dict[str, Any], dict[str, Any]]]]:
        """``download_annotations`` of one task: task, meta, labels, jobs, each job's annotations."""
        task = self.get(f"/api/tasks/{task_id}").json()
        meta = self.get(f"/api/tasks/{task_id}/data/meta").json()
        self.labels(task)
        jobs = self.paginated(f"/api/jobs?task_id={task_id}")
        return meta, [(job, self.get(f"/api/jobs/{job['id']}/annotations").json()) for job in jobs]


@pytest.fixture(scope="module")
def fo(runtime) -> FiftyOneApi:
    made = conftest.cli("createsuperuser", "--username", USER, "--email", "fo@example.com",
                        "--password", PASSWORD, data_dir=runtime.data_dir)
    assert made.returncode == 0, made.stderr
    api = FiftyOneApi(runtime.url)
    assert api.version == "2.80.0"  # PEP 440, so FiftyOne takes its >= 2.5 paths
    return api


def png(width: int, height: int, shade: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (shade, 40, 90)).save(out, format="PNG")
    return out.getvalue()


def mp4(frames: int, size: tuple[int, int] = (64, 48)) -> bytes:
    out = io.BytesIO()
    with av.open(out, "w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=Fraction(10))
        stream.width, stream.height, stream.pix_fmt = size[0], size[1], "yuv420p"
        for i in range(frames):
            frame = av.VideoFrame.from_image(Image.new("RGB", size, (i * 10, 0, 0)))
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return out.getvalue()


def rectangle(frame: int, label: int, box: list[float], attrs: list[dict[str, Any]]) -> dict[str, Any]:
    """``_create_detection_shapes``: pixels rounded, no z_order, plus group and source."""
    return {"type": "rectangle", "occluded": False, "points": [float(round(v)) for v in box], "label_id": label,
            "group": 0, "frame": frame, "source": "manual", "attributes": attrs}


def attr_values(obj: dict[str, Any], specs: dict[str, int]) -> dict[str, str]:
    names = {spec_id: name for name, spec_id in specs.items()}
    return {names[a["spec_id"]]: a["value"] for a in obj["attributes"]}  # KeyError, as cvat.py:7163


def visible_frames(track: dict[str, Any], last_frame: int) -> set[int]:
    """FiftyOne's reading of a track: stored shapes are keyframes, sorted by frame; a shape at a
    frame <= the previous one is skipped; an ``outside`` shape ends a run; a track whose last shape
    is not outside runs to the end of the task."""
    frames: set[int] = set()
    previous = None
    for shape, following in zip(track["shapes"], [*track["shapes"][1:], None], strict=True):
        assert previous is None or shape["frame"] > previous, "track shapes out of order"
        previous = shape["frame"]
        if shape["outside"]:
            continue
        end = following["frame"] - 1 if following is not None else last_frame
        frames.update(range(shape["frame"], end + 1))
    return frames


# --- images, labels sent at task creation, existing detections and classifications ----------------


@pytest.fixture(scope="module")
def image_task(fo: FiftyOneApi) -> Iterator[dict[str, Any]]:
    uid = fo.user_id(USER)
    labels = [
        {"name": "car", "attributes": [
            {"name": "color", "mutable": True, "input_type": "select", "values": ["red", "blue"]},
            {"name": "make", "mutable": True, "input_type": "text", "values": []},
            LABEL_ID_ATTR]},
        {"name": "weather", "attributes": [LABEL_ID_ATTR]},
    ]
    task = fo.post("/api/tasks", json={"name": "FiftyOne_images", "image_quality": 75, "labels": labels,
                                       "segment_size": 4, "bug_tracker": "https://issues.example.com/7"}).json()
    fo.patch(f"/api/tasks/{task['id']}", json={"assignee_id": uid})
    # 11 images of distinct sizes: client_files[10] must come after [9], meta is read by position
    fo.upload(task["id"], [(f"img{i}.png", png(40 + i, 30 + i, i * 20)) for i in range(11)])
    jobs = fo.wait_for_jobs(task["id"])
    for job in jobs:
        fo.patch(f"/api/jobs/{job['id']}", json={"assignee": uid})
    yield {"task": task, "jobs": jobs, "uid": uid}
    fo.get(f"/api/tasks/{task['id']}")  # cleanup(): GET (must not 404), then DELETE
    fo.delete(f"/api/tasks/{task['id']}")


def test_images_with_existing_labels_round_trip(fo: FiftyOneApi, image_task: dict[str, Any]):
    task_id = image_task["task"]["id"]
    classes, attrs = fo.labels(image_task["task"])
    assert set(classes) == {"car", "weather"}
    assert set(attrs[classes["car"]]) == {"color", "make", "label_id"}
    meta = fo.get(f"/api/tasks/{task_id}/data/meta").json()
    assert meta["size"] == 11  # FiftyOne warns when size < number of samples
    assert [(f["name"], f["width"], f["height"]) for f in meta["frames"]] == [
        (f"img{i}.png", 40 + i, 30 + i) for i in range(11)]

    car, weather = classes["car"], classes["weather"]
    car_attrs = attrs[car]
    shapes = [rectangle(f, car, [1.4, 2.6, 20.2, 15.7 + f], [
        {"spec_id": car_attrs["color"], "value": "blue" if f % 2 else "red"},
        {"spec_id": car_attrs["make"], "value": "" if f == 3 else f"make {f}"},
        {"spec_id": car_attrs["label_id"], "value": FO_IDS[f]}]) for f in range(0, 11, 1)]
    shapes.append({**rectangle(5, car, [3, 3, 9, 9], [{"spec_id": car_attrs["label_id"], "value": FO_IDS[20]}]),
                   "occluded": True, "group": 2, "rotation": 30.0})
    # polylines, instance masks and keypoints carry z_order 0 and unrounded points
    others = {
        21: {"type": "polygon", "points": [1.5, 1.25, 10.75, 2.0, 5.125, 9.5]},
        22: {"type": "polyline", "points": [0.5, 0.5, 30.25, 20.75]},
        23: {"type": "mask", "points": [5.0, 6.0, 5.0, 2.0, 3.0, 5.0, 6.0]},  # CVAT RLE + [l, t, r-1, b-1]
        24: {"type": "points", "points": [4.5, 4.5, 8.25, 9.0]},
    }
    for n, extra_shape in others.items():
        shapes.append({**rectangle(4, car, [0, 0, 1, 1], [{"spec_id": car_attrs["label_id"], "value": FO_IDS[n]}]),
                       **extra_shape, "z_order": 0})
    tags = [{"label_id": weather, "group": 0, "frame": f, "source": "manual",
             "attributes": [{"spec_id": attrs[weather]["label_id"], "value": FO_IDS[30 + f]}]} for f in (0, 6, 10)]
    body = {"version": 0, "shapes": shapes, "tags": tags, "tracks": []}

    answer = fo.put(f"/api/tasks/{task_id}/annotations", json=body)
    assert answer.status_code == 200
    echoed = answer.json()
    # FiftyOne re-PUTs until these counts match what it sent
    assert (len(echoed["shapes"]), len(echoed["tags"]), len(echoed["tracks"])) == (16, 3, 0)
    server_ids: dict[int, str] = {}
    for obj in echoed["shapes"] + echoed["tags"]:
        assert isinstance(obj["id"], int) and obj["label_id"] in (car, weather)
        server_ids[obj["id"]] = attr_values(obj, attrs[obj["label_id"]])["label_id"]
    assert sorted(server_ids.values()) == sorted([*FO_IDS[:11], *FO_IDS[20:25], FO_IDS[30], FO_IDS[36], FO_IDS[40]])

    # load_annotations(): task, meta, labels, jobs, then every job's annotations
    status = fo.get(f"/api/tasks/{task_id}").json()
    assert status["name"] == "FiftyOne_images" and status["status"] == "annotation"
    assert status["assignee"]["id"] == image_task["uid"] and status["updated_date"]
    for job in image_task["jobs"]:
        got = fo.get(f"/api/jobs/{job['id']}").json()
        assert got["status"] == "annotation" and got["assignee"]["id"] == image_task["uid"]
    meta, per_job = fo.download(task_id)
    read: dict[str, dict[str, Any]] = {}
    for job, data in per_job:
        for obj in data["shapes"] + data["tags"]:
            assert job["start_frame"] <= obj["frame"] <= job["stop_frame"], "a job answers only its own frames"
            assert obj["label_id"] in (car, weather)
            fo_id = attr_values(obj, attrs[obj["label_id"]])["label_id"]
            assert fo_id not in read, "an object listed by two jobs"
            read[fo_id] = obj
            assert server_ids[obj["id"]] == fo_id  # the ids the PUT answered
    assert len(read) == 19
    for f in range(11):
        shape = read[FO_IDS[f]]
        assert shape["type"] == "rectangle" and shape["frame"] == f and not shape["occluded"]
        assert shape["points"] == [1.0, 3.0, 20.0, float(round(15.7 + f))]
        w, h = meta["frames"][shape["frame"]]["width"], meta["frames"][shape["frame"]]["height"]
        assert (w, h) == (40 + f, 30 + f)  # FiftyOne normalises by the shape's own frame
        values = attr_values(shape, car_attrs)
        assert values["color"] == ("blue" if f % 2 else "red")
        assert values.get("make", "") == ("" if f == 3 else f"make {f}")
    extra = read[FO_IDS[20]]
    assert (extra["occluded"], extra["group"], int(extra["rotation"])) == (True, 2, 30)
    assert [read[FO_IDS[30 + f]]["frame"] for f in (0, 6, 10)] == [0, 6, 10]
    for n, extra_shape in others.items():
        assert (read[FO_IDS[n]]["type"], read[FO_IDS[n]]["points"], read[FO_IDS[n]]["frame"]) == (
            extra_shape["type"], extra_shape["points"], 4)

    # the whole task, as other clients read it (no format parameter)
    whole = fo.get(f"/api/tasks/{task_id}/annotations").json()
    assert (len(whole["shapes"]), len(whole["tags"])) == (16, 3)

    # FiftyOne's second annotate() of the same task replaces everything (a new PUT, new ids)
    again = fo.put(f"/api/tasks/{task_id}/annotations", json=body).json()
    assert (len(again["shapes"]), len(again["tags"])) == (16, 3)
    assert not {o["id"] for o in again["shapes"]} & set(server_ids)
    assert len(fo.get(f"/api/tasks/{task_id}/annotations").json()["shapes"]) == 16


# --- a video with tracks ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def video_task(fo: FiftyOneApi, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    labels = [{"name": "vehicle", "attributes": [
        {"name": "kind", "mutable": False, "input_type": "select", "values": ["suv", "van"]},
        {"name": "moving", "mutable": True, "input_type": "checkbox", "values": ["true", "false"],
         "default_value": "false"},
        LABEL_ID_ATTR]}]
    task = fo.post("/api/tasks", json={"name": "FiftyOne_video", "image_quality": 75, "labels": labels,
                                       "segment_size": 10}).json()
    path: Path = tmp_path_factory.mktemp("fo-video") / "street.mp4"
    path.write_bytes(mp4(20))
    with path.open("rb") as handle:  # a video goes as an open file handle
        fo.upload(task["id"], [handle])
    jobs = fo.wait_for_jobs(task["id"])
    yield {"task": task, "jobs": jobs}
    fo.get(f"/api/tasks/{task['id']}")
    fo.delete(f"/api/tasks/{task['id']}")


def fiftyone_track(label: int, specs: dict[str, int], frames: list[int], kind: str, fo_ids: list[str],
                   last_frame: int) -> dict[str, Any]:
    """``_add_shapes_to_tracks`` + ``_merge_tracks`` + ``_finalize_track``: tracked shapes are
    rectangle dicts minus label_id plus outside/keyframe (group and source stay), an outside copy
    closes each run, ``frame`` is the last visible frame."""
    shapes: list[dict[str, Any]] = []
    for n, frame in enumerate(frames):
        shape = rectangle(frame, label, [2 + frame, 4, 20 + frame, 30], [
            {"spec_id": specs["moving"], "value": "true" if n % 2 else "false"},
            {"spec_id": specs["label_id"], "value": fo_ids[n]}])
        del shape["label_id"]
        shapes.append({**shape, "outside": False, "keyframe": n == 0})
    closed: list[dict[str, Any]] = []
    for shape, following in zip(shapes, [*shapes[1:], None], strict=True):
        closed.append(shape)
        if (following is None and shape["frame"] < last_frame) or (
                following is not None and following["frame"] > shape["frame"] + 1):
            closed.append({**shape, "frame": shape["frame"] + 1, "outside": True})
    return {"label_id": label, "shapes": closed, "frame": max(frames), "group": 0,
            "attributes": [{"spec_id": specs["kind"], "value": kind}]}


def test_video_tracks_round_trip(fo: FiftyOneApi, video_task: dict[str, Any]):
    task_id = video_task["task"]["id"]
    classes, attrs = fo.labels(video_task["task"])
    vehicle, specs = classes["vehicle"], attrs[classes["vehicle"]]
    meta = fo.get(f"/api/tasks/{task_id}/data/meta").json()
    assert meta["size"] == 20 and meta["start_frame"] == 0 and meta["stop_frame"] == 19
    assert (meta["frames"][0]["width"], meta["frames"][0]["height"]) == (64, 48)
    last = meta["size"] - 1
    runs = [[2, 3, 4, 5, 8, 9, 10, 11, 12], [15, 16, 17, 18, 19], [7]]
    tracks = [fiftyone_track(vehicle, specs, frames, kind, FO_IDS[10 * i:10 * i + len(frames)], last)
              for i, (frames, kind) in enumerate(zip(runs, ["suv", "van", "suv"], strict=True))]
    assert tracks[0]["frame"] == 12 and tracks[1]["shapes"][-1]["frame"] == 19  # last visible frame; no closing
    sent = [[(s["frame"], s["outside"]) for s in t["shapes"]] for t in tracks]

    answer = fo.put(f"/api/tasks/{task_id}/annotations", json={"version": 0, "shapes": [], "tags": [],
                                                                "tracks": tracks})
    assert answer.status_code == 200
    echoed = answer.json()
    assert (len(echoed["shapes"]), len(echoed["tags"]), len(echoed["tracks"])) == (0, 0, 3)
    # stored per job, answered job by job (as CVAT): FiftyOne counts them and maps ids by attributes
    assert sorted([(s["frame"], s["outside"]) for s in t["shapes"]] for t in echoed["tracks"]) == sorted(sent)
    for track in echoed["tracks"]:
        assert isinstance(track["id"], int) and track["label_id"] == vehicle
        assert all(isinstance(s["id"], int) for s in track["shapes"])
        assert attr_values(track, specs)["kind"] in ("suv", "van")

    _, per_job = fo.download(task_id)
    read = [track for _, data in per_job for track in data["tracks"]]
    assert len(read) == 3, "each track is read once over the task's jobs"
    by_first = {t["shapes"][0]["frame"]: t for t in read}
    expected_visible = {2: {2, 3, 4, 5, 8, 9, 10, 11, 12}, 15: set(range(15, 20)), 7: {7}}
    for first, visible in expected_visible.items():
        track = by_first[first]
        assert track["label_id"] == vehicle and track["frame"] == first
        assert visible_frames(track, last) == visible
        keyframes = [s for s in track["shapes"] if not s["outside"]]
        assert [attr_values(s, specs)["label_id"] for s in keyframes] == FO_IDS[
            10 * [2, 15, 7].index(first):10 * [2, 15, 7].index(first) + len(keyframes)]
        assert [attr_values(s, specs)["moving"] for s in keyframes] == [
            "true" if n % 2 else "false" for n in range(len(keyframes))]
        assert attr_values(track, specs)["kind"] == ("van" if first == 15 else "suv")
        assert all(s["type"] == "rectangle" and len(s["points"]) == 4 for s in track["shapes"])
    assert by_first[2]["shapes"][0]["points"] == [4.0, 4.0, 22.0, 30.0]


# --- a project: labels from the project, PATCHed with the label_id attribute ------------------------


def test_project_labels_patched_with_label_id(fo: FiftyOneApi):
    name = f"FiftyOne project {time.monotonic_ns()}"
    assert [p for p in fo.paginated(f"/api/projects?search={name}") if p["name"] == name] == []
    created = fo.post("/api/projects", json={"name": name, "labels": [
        {"name": "car", "attributes": [
            {"name": "color", "mutable": True, "input_type": "select", "values": ["red", "blue"],
             "default_value": "red"}]},
        {"name": "person", "attributes": []}]}).json()
    project_id = created["id"]
    found = [p for p in fo.paginated(f"/api/projects?search={name}") if p["name"] == name]
    assert [p["id"] for p in found] == [project_id]
    assert project_id in {p["id"] for p in fo.paginated(f"/api/projects?id={project_id}")}  # scanned

    project = fo.get(f"/api/projects/{project_id}").json()
    before = fo.paginated(project["labels"]["url"])
    assert {lb["name"] for lb in before} == {"car", "person"}
    # _add_label_id_attributes: the label dicts as listed, plus an id-less label_id attribute
    patched = [{**lb, "attributes": [*lb["attributes"], dict(LABEL_ID_ATTR)]} for lb in before]
    fo.patch(f"/api/projects/{project_id}", json={"labels": patched})
    after = {lb["name"]: lb for lb in fo.paginated(project["labels"]["url"])}
    for old in before:
        new = after[old["name"]]
        assert new["id"] == old["id"] and new["color"] == old["color"]  # existing labels keep their ids
        kept = {a["name"]: a for a in new["attributes"]}
        for attr in old["attributes"]:
            assert kept[attr["name"]] == attr  # existing attributes kept as they were
        assert kept["label_id"]["input_type"] == "text" and isinstance(kept["label_id"]["id"], int)
        assert len(new["attributes"]) == len(old["attributes"]) + 1

    task = fo.post("/api/tasks", json={"name": "FiftyOne_project_task", "image_quality": 75, "labels": [],
                                       "project_id": project_id}).json()
    try:
        classes, attrs = fo.labels(task)  # a project's task lists the project's labels
        assert classes == {name: lb["id"] for name, lb in after.items()}
        fo.upload(task["id"], [(f"p{i}.png", png(32, 24, i)) for i in range(3)])
        jobs = fo.wait_for_jobs(task["id"])
        assert jobs
        car = classes["car"]
        shapes = [rectangle(f, car, [1, 1, 10, 10], [{"spec_id": attrs[car]["color"], "value": "blue"},
                                                      {"spec_id": attrs[car]["label_id"], "value": FO_IDS[f]}])
                  for f in range(3)]
        echoed = fo.put(f"/api/tasks/{task['id']}/annotations",
                        json={"version": 0, "shapes": shapes, "tags": [], "tracks": []}).json()
        assert sorted(attr_values(s, attrs[car])["label_id"] for s in echoed["shapes"]) == FO_IDS[:3]
        _, per_job = fo.download(task["id"])
        read = [s for _, data in per_job for s in data["shapes"]]
        assert sorted((s["frame"], attr_values(s, attrs[car])["color"]) for s in read) == [
            (0, "blue"), (1, "blue"), (2, "blue")]
        # cleanup(): the project is "empty" only if `tasks` is falsy: a {"count", "url"} summary never is
        summary = fo.get(f"/api/projects/{project_id}").json()["tasks"]
        assert summary["count"] == 1
        assert [t["id"] for t in fo.paginated(summary["url"])] == [task["id"]]
    finally:
        fo.get(f"/api/tasks/{task['id']}")
        fo.delete(f"/api/tasks/{task['id']}")
        fo.delete(f"/api/projects/{project_id}")
    gone = fo.session.get(f"{fo.base}/api/projects/{project_id}", timeout=30)
    assert gone.status_code == 404

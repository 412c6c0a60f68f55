"""The annotation workspace in Chromium against the embedded runtime (issue 14): draw one shape of
every type and a tag with the mouse, edit one, undo and redo, save, reload and find everything
unchanged through the API; a track interpolated across 10 frames that equals the server's own
interpolation (the Python engine the exports use); a review issue raised on a region and
resolved; a box drawn with the keyboard alone. Every result is checked through the API."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.e2e.ui.conftest import sign_in

pytest.importorskip("cvat_sdk")
from cvat_sdk import Client, Config
from cvat_sdk.core.proxies.tasks import ResourceType
from PIL import Image

from cvat_serverless.domain.annotations import LabeledData
from cvat_serverless.domain.interpolation import interpolate_track

FRAMES, WIDTH, HEIGHT = 12, 640, 480
FACE_SVG = (
    '<line x1="20" y1="20" x2="80" y2="20" data-type="edge" data-node-from="1" data-node-to="2"></line>'
    '<line x1="80" y1="20" x2="50" y2="80" data-type="edge" data-node-from="2" data-node-to="3"></line>'
    '<circle r="1.5" cx="20" cy="20" data-type="element-node" data-element-id="1" data-node-id="1" '
    'data-label-name="left_eye"></circle>'
    '<circle r="1.5" cx="80" cy="20" data-type="element-node" data-element-id="2" data-node-id="2" '
    'data-label-name="right_eye"></circle>'
    '<circle r="1.5" cx="50" cy="80" data-type="element-node" data-element-id="3" data-node-id="3" '
    'data-label-name="nose"></circle>'
)
LABELS = [
    {"name": "car", "type": "any", "attributes": [
        {"name": "color", "mutable": True, "input_type": "select", "default_value": "red", "values": ["red", "blue"]}]},
    {"name": "face", "type": "skeleton", "svg": FACE_SVG,
     "sublabels": [{"name": "left_eye", "type": "points"}, {"name": "right_eye", "type": "points"},
                   {"name": "nose", "type": "points"}]},
]


@pytest.fixture(scope="module")
def sdk(runtime, admin, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Client]:
    with Client(runtime.url, config=Config(status_check_period=0.2, cache_dir=tmp_path_factory.mktemp("ws-sdk"))) as c:
        c.login(admin)
        yield c


@pytest.fixture(scope="module")
def images(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    folder = tmp_path_factory.mktemp("ws-images")
    files = []
    for i in range(FRAMES):
        path = folder / f"frame{i:02d}.png"
        Image.new("RGB", (WIDTH, HEIGHT), (20 * i, 90, 160)).save(path)
        files.append(path)
    return files


def new_job(sdk: Client, images: list[Path], name: str) -> tuple[int, int]:
    task = sdk.tasks.create_from_data({"name": name, "labels": LABELS, "segment_size": FRAMES},
                                      resources=[str(p) for p in images], resource_type=ResourceType.LOCAL)
    return task.id, task.get_jobs()[0].id


def api_json(page: Any, path: str) -> Any:
    answer = page.request.get(path)
    assert answer.ok, answer.text()
    return answer.json()


def open_workspace(page: Any, tid: int, jid: int) -> None:
    page.goto(f"/tasks/{tid}/jobs/{jid}")
    page.wait_for_function("() => window.__cvatWorkspace && window.__cvatWorkspace.ready", timeout=30_000)


def at(page: Any, x: float, y: float) -> tuple[float, float]:
    """The page coordinates of image pixel (x, y) on the canvas as the engine shows it now."""
    box = page.get_by_label("Canvas").bounding_box()
    t = page.evaluate("() => window.__cvatWorkspace.engine.transform()")
    return box["x"] + x * t["scale"] + t["x"], box["y"] + y * t["scale"] + t["y"]


def click(page: Any, x: float, y: float) -> None:
    page.mouse.click(*at(page, x, y))


def drag(page: Any, a: tuple[float, float], b: tuple[float, float]) -> None:
    page.mouse.move(*at(page, *a))
    page.mouse.down()
    page.mouse.move(*at(page, *b), steps=6)
    page.mouse.up()


def choose_tool(page: Any, tool: str, kind: str = "Shape", label: str | None = None) -> None:
    page.get_by_role("navigation", name="Tools").get_by_role("button", name=tool, exact=True).click()
    options = page.get_by_role("dialog", name=f"{tool} options")
    if label is not None:
        options.get_by_label("Label").select_option(label=label)
    options.get_by_role("button", name=kind, exact=True).click()
    page.wait_for_function("() => window.__cvatWorkspace.engine.mode() === 'draw'")


def objects(page: Any) -> list[dict[str, Any]]:
    return page.evaluate("""() => window.__cvatWorkspace.store.objects().map((o) => ({
        kind: o.kind, type: o.type ?? null, serverId: o.serverId ?? null, clientId: o.clientId,
        points: o.points ? [...o.points] : null, frame: o.frame ?? null, labelId: o.labelId,
        elements: (o.elements ?? []).map((e) => e.points ? [...e.points] : null) }))""")


def save(page: Any) -> None:
    page.keyboard.press("Control+s")
    expect(page.get_by_text(re.compile(r"^Saved"))).to_be_visible()


def test_draw_every_shape_edit_undo_redo_save_and_reload(page, admin, sdk, images):
    tid, jid = new_job(sdk, images, "ws-every-shape")
    sign_in(page, *admin)
    open_workspace(page, tid, jid)
    page.shots("opened")

    choose_tool(page, "Rectangle")
    drag(page, (40, 40), (140, 110))
    choose_tool(page, "Polygon")
    for x, y in ((200, 40), (300, 50), (260, 140)):
        click(page, x, y)
    page.keyboard.press("n")
    choose_tool(page, "Polyline")
    for x, y in ((340, 40), (400, 90), (460, 40)):
        click(page, x, y)
    page.keyboard.press("n")
    choose_tool(page, "Points")
    for x, y in ((500, 60), (540, 80)):
        click(page, x, y)
    page.keyboard.press("n")
    choose_tool(page, "Ellipse")
    drag(page, (100, 250), (150, 280))
    choose_tool(page, "Cuboid")
    drag(page, (220, 220), (320, 320))
    choose_tool(page, "Mask", kind="Draw")
    drag(page, (400, 250), (470, 300))
    page.keyboard.press("n")
    choose_tool(page, "Skeleton", label="face")
    drag(page, (500, 300), (600, 400))
    page.get_by_role("navigation", name="Tools").get_by_role("button", name="Tag", exact=True).click()
    page.get_by_role("dialog", name="Tag options").get_by_role("button", name="Add tag").click()
    page.shots("drawn")

    drawn = objects(page)
    shapes = [o for o in drawn if o["kind"] == "shape"]
    assert sorted(o["type"] for o in shapes) == sorted(
        ["rectangle", "polygon", "polyline", "points", "ellipse", "cuboid", "mask", "skeleton"])
    assert [o["kind"] for o in drawn].count("tag") == 1
    by_type = {o["type"]: o for o in shapes}
    rectangle = by_type["rectangle"]["points"]
    assert rectangle == pytest.approx([40, 40, 140, 110], abs=1.5)
    assert len(by_type["polygon"]["points"]) == 6 and len(by_type["polyline"]["points"]) == 6
    assert len(by_type["points"]["points"]) == 4 and len(by_type["cuboid"]["points"]) == 16
    assert len(by_type["skeleton"]["elements"]) == 3

    # edit: move the rectangle by dragging its body, then undo and redo the move
    page.get_by_role("navigation", name="Tools").get_by_role("button", name="Fit", exact=True).click()
    click(page, 90, 75)
    page.wait_for_function(f"() => window.__cvatWorkspace.engine.selected() === {by_type['rectangle']['clientId']}")
    drag(page, (90, 75), (110, 95))
    moved = next(o for o in objects(page) if o["type"] == "rectangle")["points"]
    assert moved == pytest.approx([r + 20 for r in rectangle], abs=1.5)
    page.get_by_role("button", name="Undo").click()
    assert next(o for o in objects(page) if o["type"] == "rectangle")["points"] == pytest.approx(rectangle)
    page.keyboard.press("Control+Shift+z")
    assert next(o for o in objects(page) if o["type"] == "rectangle")["points"] == pytest.approx(moved)
    save(page)
    page.shots("saved")

    stored = api_json(page, f"/api/jobs/{jid}/annotations")
    assert sorted(s["type"] for s in stored["shapes"]) == sorted(by_type)
    assert len(stored["tags"]) == 1
    saved_rect = next(s for s in stored["shapes"] if s["type"] == "rectangle")
    assert saved_rect["points"] == pytest.approx(moved)
    skeleton = next(s for s in stored["shapes"] if s["type"] == "skeleton")
    assert len(skeleton["elements"]) == 3

    # reload: what the workspace shows is what the server stored
    page.reload()
    page.wait_for_function("() => window.__cvatWorkspace && window.__cvatWorkspace.ready", timeout=30_000)
    reloaded = {o["serverId"]: o for o in objects(page)}
    for shape in stored["shapes"]:
        assert reloaded[shape["id"]]["points"] == shape["points"]
        assert reloaded[shape["id"]]["type"] == shape["type"]
    assert stored["tags"][0]["id"] in reloaded
    expect(page.get_by_text("Unsaved changes")).to_have_count(0)
    page.shots("reloaded")

    # paint on the saved mask: the eraser (Shift) cuts a stripe out of it, N finishes
    mask = next(s for s in stored["shapes"] if s["type"] == "mask")
    page.get_by_role("list", name="Objects").get_by_text(f"id {mask['id']}", exact=True).click()
    page.get_by_role("toolbar", name="Object actions").get_by_role("button", name="Edit mask").click()
    page.wait_for_function("() => window.__cvatWorkspace.engine.mode() === 'draw'")
    page.keyboard.down("Shift")
    drag(page, (435, 240), (435, 310))
    page.keyboard.up("Shift")
    page.keyboard.press("n")
    page.wait_for_function("() => window.__cvatWorkspace.engine.mode() === 'idle'")
    save(page)
    edited = next(s for s in api_json(page, f"/api/jobs/{jid}/annotations")["shapes"] if s["id"] == mask["id"])
    assert 0 < set_pixels(edited["points"]) < set_pixels(mask["points"])
    page.shots("mask-edited")

    # Shift+N draws the selected box again: the same object (id, label, attributes), a new box
    page.get_by_role("list", name="Objects").get_by_text(f"id {saved_rect['id']}", exact=True).click()
    page.get_by_label("Canvas").focus()
    page.keyboard.press("Shift+N")
    page.wait_for_function("() => window.__cvatWorkspace.engine.mode() === 'draw'")
    drag(page, (20, 300), (80, 380))
    save(page)
    redrawn = next(s for s in api_json(page, f"/api/jobs/{jid}/annotations")["shapes"] if s["id"] == saved_rect["id"])
    assert redrawn["points"] == pytest.approx([20, 300, 80, 380], abs=1.5)
    assert redrawn["label_id"] == saved_rect["label_id"] and redrawn["attributes"] == saved_rect["attributes"]

    # Ctrl+click on the canvas adds to the selection; G groups the polygon and the polyline
    click(page, 253, 77)
    page.keyboard.down("Control")
    click(page, 400, 90)
    page.keyboard.up("Control")
    page.keyboard.press("g")
    save(page)
    groups = {s["type"]: s["group"] for s in api_json(page, f"/api/jobs/{jid}/annotations")["shapes"]}
    assert groups["polygon"] and groups["polygon"] == groups["polyline"]
    assert groups["rectangle"] != groups["polygon"]


def set_pixels(points: list[float]) -> int:
    """A CVAT mask's set pixels: the odd runs of its RLE (the last 4 numbers are its box)."""
    return int(sum(points[1:-4:2]))


def test_a_track_interpolated_across_ten_frames_equals_the_servers(page, admin, sdk, images):
    tid, jid = new_job(sdk, images, "ws-track")
    sign_in(page, *admin)
    open_workspace(page, tid, jid)
    choose_tool(page, "Rectangle", kind="Track")
    drag(page, (50, 60), (150, 140))
    track = next(o for o in objects(page) if o["kind"] == "track")
    page.get_by_label("Frame number").fill("10")
    page.get_by_label("Frame number").press("Enter")
    page.wait_for_function("() => window.__cvatWorkspace.frame() === 10")
    click(page, 100, 100)
    page.wait_for_function(f"() => window.__cvatWorkspace.engine.selected() === {track['clientId']}")
    drag(page, (100, 100), (400, 300))
    save(page)
    page.shots("track-saved")

    stored = api_json(page, f"/api/jobs/{jid}/annotations")
    (api_track,) = stored["tracks"]
    assert [s["frame"] for s in api_track["shapes"] if not s["outside"]] == [0, 10]
    server = LabeledData.from_dict(stored).tracks[0]
    expected = {s.frame: s.points for s in interpolate_track(server, stop_frame=FRAMES - 1)}
    shown = page.evaluate("""(id) => {
        const ws = window.__cvatWorkspace, out = {};
        for (let f = 0; f <= 10; f++) {
          const o = ws.store.frameObjects(f).find((x) => x.clientId === id);
          out[f] = o ? [...o.points] : null;
        }
        return out;
    }""", track["clientId"])
    for frame in range(11):
        assert shown[str(frame)] == expected[frame], frame  # the same numbers, not merely close
    assert expected[5] != expected[0] and expected[5] != expected[10]  # really interpolated


def test_raise_and_resolve_an_issue(page, admin, sdk, images):
    tid, jid = new_job(sdk, images, "ws-review")
    sign_in(page, *admin)
    open_workspace(page, tid, jid)
    page.get_by_role("button", name="Review", exact=True).click()
    page.wait_for_function("() => window.__cvatWorkspace.engine.mode() === 'region'")
    drag(page, (100, 100), (200, 180))
    page.get_by_label("Issue message").fill("The car's box is too loose")
    page.get_by_role("button", name="Open issue").click()
    expect(page.get_by_role("list", name="Issues of the job")).to_contain_text("The car's box is too loose")
    (issue,) = api_json(page, f"/api/issues?job_id={jid}")["results"]
    assert issue["frame"] == 0 and not issue["resolved"]
    assert issue["position"] == pytest.approx([100, 100, 200, 180], abs=1.5)
    page.shots("issue-opened")
    page.get_by_role("list", name="Issues of the job").get_by_text("The car's box is too loose").click()
    page.get_by_role("button", name="Resolve").click()
    expect(page.get_by_role("button", name="Reopen")).to_be_visible()
    assert api_json(page, f"/api/issues/{issue['id']}")["resolved"] is True
    page.shots("issue-resolved")


def test_draw_a_box_with_the_keyboard_alone(page, admin, sdk, images):
    tid, jid = new_job(sdk, images, "ws-keyboard")
    sign_in(page, *admin)
    page.goto(f"/tasks/{tid}")
    page.get_by_role("link", name=f"Job #{jid}", exact=True).click()  # in the app: Back stays in it
    page.wait_for_function("() => window.__cvatWorkspace && window.__cvatWorkspace.ready", timeout=30_000)
    rectangle = page.get_by_role("navigation", name="Tools").get_by_role("button", name="Rectangle", exact=True)
    rectangle.focus()
    page.keyboard.press("Enter")
    options = page.get_by_role("dialog", name="Rectangle options")
    options.get_by_role("button", name="Shape", exact=True).focus()
    page.keyboard.press("Enter")
    page.wait_for_function("() => window.__cvatWorkspace.engine.mode() === 'draw'")
    # the canvas takes the focus while drawing; arrows move the crosshair, Enter sets a corner
    page.keyboard.press("Enter")
    for _ in range(5):
        page.keyboard.press("Shift+ArrowRight")
    for _ in range(3):
        page.keyboard.press("Shift+ArrowDown")
    page.keyboard.press("Enter")
    page.wait_for_function("() => window.__cvatWorkspace.engine.mode() === 'idle'")
    # unsaved work: the browser's Back asks first, and Cancel stays; leaving the page (a reload)
    # meets the browser's own beforeunload question, dismissed here
    url = page.url
    page.go_back()
    leave = page.get_by_role("dialog", name="Leave the workspace?")
    expect(leave).to_be_visible()
    page.shots("leave-guard")
    leave.get_by_role("button", name="Cancel").click()
    expect(leave).to_have_count(0)
    assert page.url == url
    asked: list[str] = []
    page.once("dialog", lambda dialog: (asked.append(dialog.type), dialog.dismiss()))
    page.evaluate("() => { window.__stillHere = true; }")
    page.evaluate("() => location.reload()")
    page.wait_for_timeout(500)
    assert asked == ["beforeunload"] and page.evaluate("() => window.__stillHere === true")
    page.keyboard.press("Control+s")
    expect(page.get_by_text(re.compile(r"^Saved"))).to_be_visible()
    (box,) = api_json(page, f"/api/jobs/{jid}/annotations")["shapes"]
    x1, y1, x2, y2 = box["points"]
    assert box["type"] == "rectangle" and x2 - x1 > 10 and y2 - y1 > 5
    page.shots("keyboard-box")


def test_a_concurrent_delete_is_merged_and_nothing_is_lost(page, admin, sdk, images):
    """Someone deletes the box being edited and adds another while the edit is unsaved: the
    save's 409 is merged (the edited box comes back as a new object, theirs is taken in)."""
    tid, jid = new_job(sdk, images, "ws-conflict")
    label = sdk.tasks.retrieve(tid).get_labels()[0].id
    box = {"type": "rectangle", "frame": 0, "label_id": label, "group": 0, "source": "manual", "occluded": False,
           "z_order": 0, "rotation": 0, "points": [100, 100, 200, 180], "attributes": []}
    sign_in(page, *admin)
    put = page.request.put(f"/api/jobs/{jid}/annotations", headers={"X-CSRFToken": csrf(page)},
                           data={"version": 0, "tags": [], "tracks": [], "shapes": [box]})
    assert put.ok, put.text()
    (stored,) = put.json()["shapes"]
    open_workspace(page, tid, jid)
    click(page, 150, 140)
    drag(page, (150, 140), (170, 160))
    expect(page.get_by_text("Unsaved changes")).to_be_visible()

    # another client, meanwhile: deletes the box and draws one of its own
    theirs = {**box, "points": [300, 300, 360, 350]}
    for action, body in (("delete", {"shapes": [stored]}), ("create", {"shapes": [theirs]})):
        answer = page.request.patch(f"/api/jobs/{jid}/annotations?action={action}",
                                    data={"version": 0, "tags": [], "tracks": [], **body},
                                    headers={"X-CSRFToken": csrf(page)})
        assert answer.ok, answer.text()

    save(page)
    shapes = api_json(page, f"/api/jobs/{jid}/annotations")["shapes"]
    assert len(shapes) == 2
    mine = next(s for s in shapes if s["points"] != theirs["points"])
    assert mine["points"] == pytest.approx([120, 120, 220, 200], abs=1.5)  # the move, kept
    assert stored["id"] not in {s["id"] for s in shapes}  # the edit came back as a new object
    shown = sorted(o["points"] for o in objects(page))
    assert shown == sorted(s["points"] for s in shapes)  # and the workspace shows both
    page.shots("conflict-merged")


def csrf(page: Any) -> str:
    return next(c["value"] for c in page.context.cookies() if c["name"] == "csrftoken")


def go_to(page: Any, frame: int) -> None:
    page.get_by_label("Frame number").fill(str(frame))
    page.get_by_label("Frame number").press("Enter")
    page.wait_for_function(f"() => window.__cvatWorkspace.frame() === {frame}")


def test_merge_split_and_propagate(page, admin, sdk, images):
    """Two boxes on frames 0 and 5 merged into a track (Ctrl+click across frames, M), the track
    split at frame 3 (Alt+M), and a box propagated 3 frames (Ctrl+B): checked through the API."""
    tid, jid = new_job(sdk, images, "ws-tracks")
    label = sdk.tasks.retrieve(tid).get_labels()[0].id

    def box(frame: int, points: list[float]) -> dict[str, Any]:
        return {"type": "rectangle", "frame": frame, "label_id": label, "group": 0, "source": "manual",
                "occluded": False, "z_order": 0, "rotation": 0, "points": points, "attributes": []}

    sign_in(page, *admin)
    boxes = [box(0, [10, 10, 60, 60]), box(5, [110, 110, 160, 160]), box(8, [300, 300, 360, 360])]
    put = page.request.put(f"/api/jobs/{jid}/annotations", headers={"X-CSRFToken": csrf(page)},
                           data={"version": 0, "tags": [], "tracks": [], "shapes": boxes})
    assert put.ok, put.text()
    open_workspace(page, tid, jid)

    click(page, 35, 35)
    go_to(page, 5)
    page.keyboard.down("Control")
    click(page, 135, 135)
    page.keyboard.up("Control")
    page.get_by_label("Canvas").focus()
    page.keyboard.press("m")
    save(page)
    stored = api_json(page, f"/api/jobs/{jid}/annotations")
    (track,) = stored["tracks"]
    assert [(s["frame"], s["outside"]) for s in track["shapes"]] == [(0, False), (5, False), (6, True)]
    assert [s["frame"] for s in stored["shapes"]] == [8]

    go_to(page, 3)
    click(page, 35 + 60, 35 + 60)  # the track's box on frame 3 is interpolated 3/5 of the way
    page.get_by_label("Canvas").focus()
    page.keyboard.press("Alt+m")
    save(page)
    tracks = api_json(page, f"/api/jobs/{jid}/annotations")["tracks"]
    assert len(tracks) == 2
    visible = sorted([s["frame"] for s in t["shapes"] if not s["outside"]] for t in tracks)
    assert visible[0][0] == 0 and visible[1][0] == 3 and 5 in visible[1]
    page.shots("split")

    go_to(page, 8)
    click(page, 330, 330)
    page.get_by_label("Canvas").focus()
    page.keyboard.press("Control+b")
    dialog = page.get_by_role("dialog", name="Propagate")
    dialog.get_by_label("Frames").fill("3")
    dialog.get_by_role("button", name="Propagate").click()
    save(page)
    shapes = api_json(page, f"/api/jobs/{jid}/annotations")["shapes"]
    assert sorted(s["frame"] for s in shapes) == [8, 9, 10, 11]
    assert all(s["points"] == [300, 300, 360, 360] for s in shapes)

"""The annotation workspace's panels in Chromium against the embedded runtime (issue 14): a track's
attributes of every input type edited on a later frame (a keyframe there, earlier frames keep the
old values, immutable ones on the track), outside and keyframe switches, the objects filter, the
player with deleted frames, the job menu, and the shortcuts dialog. Every result is checked through
the API or the workspace's store."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.e2e.ui import test_annotation as base
from tests.e2e.ui.conftest import sign_in
from tests.e2e.ui.test_annotation import api_json, csrf, go_to, objects, open_workspace, save

pytest.importorskip("cvat_sdk")
from cvat_sdk import Client
from cvat_sdk.core.proxies.tasks import ResourceType

FRAMES = 12
sdk, images = base.sdk, base.images  # the module's fixtures: a signed-in SDK client, 12 frames
ATTR_LABELS = [
    {
        "name": "car",
        "type": "any",
        "attributes": [
            {
                "name": "color",
                "mutable": True,
                "input_type": "select",
                "default_value": "red",
                "values": ["red", "blue"],
            },
            {
                "name": "pose",
                "mutable": True,
                "input_type": "radio",
                "default_value": "front",
                "values": ["front", "side"],
            },
            {
                "name": "parked",
                "mutable": True,
                "input_type": "checkbox",
                "default_value": "false",
                "values": ["false"],
            },
            {
                "name": "speed",
                "mutable": True,
                "input_type": "number",
                "default_value": "0",
                "values": ["0", "100", "5"],
            },
            {"name": "note", "mutable": True, "input_type": "text", "default_value": "", "values": [""]},
            {"name": "model", "mutable": False, "input_type": "text", "default_value": "none", "values": ["none"]},
        ],
    },
    {
        "name": "person",
        "type": "any",
        "attributes": [
            {
                "name": "age",
                "mutable": False,
                "input_type": "select",
                "default_value": "adult",
                "values": ["adult", "child"],
            },
        ],
    },
]


def new_attr_job(sdk: Client, images: list[Path], name: str) -> tuple[int, int, dict[str, Any]]:
    task = sdk.tasks.create_from_data(
        {"name": name, "labels": ATTR_LABELS, "segment_size": FRAMES},
        resources=[str(p) for p in images],
        resource_type=ResourceType.LOCAL,
    )
    labels = {lab.name: lab for lab in task.get_labels()}
    specs = {lab.name: {a.name: a.id for a in lab.attributes} for lab in labels.values()}
    return task.id, task.get_jobs()[0].id, {"labels": {n: lab.id for n, lab in labels.items()}, "specs": specs}


def put(page: Any, jid: int, body: dict[str, Any]) -> None:
    answer = page.request.put(
        f"/api/jobs/{jid}/annotations",
        headers={"X-CSRFToken": csrf(page)},
        data={"version": 0, "tags": [], "tracks": [], "shapes": [], **body},
    )
    assert answer.ok, answer.text()


def manual_track(label: int, shapes: list[dict[str, Any]],
                 attributes: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """A manual track from frame 0 with its keyframes (CVAT's LabeledTrack)."""
    return {"frame": 0, "label_id": label, "group": 0, "source": "manual", "attributes": attributes or [],
            "shapes": shapes}


def rect(frame: int, points: list[float], **extra: Any) -> dict[str, Any]:
    return {
        "type": "rectangle",
        "frame": frame,
        "group": 0,
        "source": "manual",
        "occluded": False,
        "z_order": 0,
        "rotation": 0,
        "points": points,
        "attributes": [],
        "outside": False,
        **extra,
    }


def select_row(page: Any, client_id: int) -> None:
    page.locator(f'[data-client-id="{client_id}"]').click(position={"x": 8, "y": 8})
    expect(page.get_by_role("region", name="Selected object")).to_contain_text(f"Object #{client_id}")


def attrs_of(shape: dict[str, Any]) -> dict[int, str]:
    return {a["spec_id"]: a["value"] for a in shape["attributes"]}


def test_track_attributes_of_every_type_make_a_keyframe(page, admin, sdk, images):
    tid, jid, ids = new_attr_job(sdk, images, "panels-attrs")
    car, spec = ids["labels"]["car"], ids["specs"]["car"]
    sign_in(page, *admin)
    keys = [rect(0, [10, 10, 100, 100]), rect(10, [110, 110, 200, 200])]
    put(page, jid, {"tracks": [manual_track(car, keys, [{"spec_id": spec["model"], "value": "none"}])]})
    open_workspace(page, tid, jid)
    go_to(page, 5)
    (track,) = objects(page)
    select_row(page, track["clientId"])
    attrs = page.get_by_role("group", name=f"Attributes of object #{track['clientId']}")
    attrs.get_by_label("color").select_option("blue")
    attrs.get_by_label("side").check()
    attrs.get_by_label("parked").check()
    attrs.get_by_label("speed").fill("42")
    attrs.get_by_label("speed").press("Enter")
    attrs.get_by_label("note").fill("dented")
    attrs.get_by_label("note").press("Enter")
    attrs.get_by_label("model").fill("sedan")
    attrs.get_by_label("model").press("Tab")
    page.shots("attributes")
    save(page)

    (stored,) = api_json(page, f"/api/jobs/{jid}/annotations")["tracks"]
    assert attrs_of(stored)[spec["model"]] == "sedan"
    by_frame = {s["frame"]: s for s in stored["shapes"]}
    assert sorted(by_frame) == [0, 5, 10]
    assert attrs_of(by_frame[5]) == {
        spec["color"]: "blue",
        spec["pose"]: "side",
        spec["parked"]: "true",
        spec["speed"]: "40",
        spec["note"]: "dented",
    }
    first = attrs_of(by_frame[0])
    assert first.get(spec["color"], "red") == "red" and first.get(spec["pose"], "front") == "front"
    assert first.get(spec["speed"], "0") == "0" and first.get(spec["parked"], "false") == "false"
    assert by_frame[5]["points"] == pytest.approx([60, 60, 150, 150])

    # frame 2 still shows the old values; frame 7 the new ones
    go_to(page, 2)
    select_row(page, track["clientId"])
    expect(attrs.get_by_label("color")).to_have_value("red")
    expect(attrs.get_by_label("model")).to_have_value("sedan")
    go_to(page, 7)
    select_row(page, track["clientId"])
    expect(attrs.get_by_label("color")).to_have_value("blue")
    expect(attrs.get_by_label("speed")).to_have_value("40")


def test_outside_keyframe_and_keyframe_navigation(page, admin, sdk, images):
    tid, jid, ids = new_attr_job(sdk, images, "panels-outside")
    car = ids["labels"]["car"]
    sign_in(page, *admin)
    put(page, jid, {"tracks": [manual_track(car, [rect(0, [10, 10, 100, 100]), rect(8, [90, 90, 180, 180])])]})
    open_workspace(page, tid, jid)
    (track,) = objects(page)
    cid = track["clientId"]
    name = f"#{cid}"
    # next keyframe from 0 is 8, previous from 8 is 0
    page.get_by_role("button", name=f"Next keyframe of object {name}").click()
    page.wait_for_function("() => window.__cvatWorkspace.frame() === 8")
    page.get_by_role("button", name=f"Previous keyframe of object {name}").click()
    page.wait_for_function("() => window.__cvatWorkspace.frame() === 0")
    # outside on frame 3: frames 3..7 hide it, frame 8 (a keyframe) shows it again
    go_to(page, 3)
    page.get_by_role("button", name=f"Outside object {name}", exact=True).click()
    expect(page.locator(f'[data-client-id="{cid}"]')).to_have_count(0)
    go_to(page, 5)
    expect(page.locator(f'[data-client-id="{cid}"]')).to_have_count(0)
    go_to(page, 8)
    expect(page.locator(f'[data-client-id="{cid}"]')).to_have_count(1)
    # a keyframe on frame 6 (interpolated there), then removed again
    go_to(page, 6)
    page.get_by_label("Show outside").check()
    expect(page.locator(f'[data-client-id="{cid}"]')).to_have_count(1)
    page.get_by_label("Show outside").uncheck()
    go_to(page, 2)
    page.get_by_role("button", name=f"Keyframe of object {name}", exact=True).click()
    expect(page.get_by_role("button", name=f"Keyframe of object {name}", exact=True)).to_have_attribute(
        "aria-pressed", "true"
    )
    save(page)
    (stored,) = api_json(page, f"/api/jobs/{jid}/annotations")["tracks"]
    assert [(s["frame"], s["outside"]) for s in stored["shapes"]] == [(0, False), (2, False), (3, True), (8, False)]
    page.get_by_role("button", name=f"Keyframe of object {name}", exact=True).click()
    expect(page.get_by_role("button", name=f"Keyframe of object {name}", exact=True)).to_have_attribute(
        "aria-pressed", "false"
    )
    save(page)
    (stored,) = api_json(page, f"/api/jobs/{jid}/annotations")["tracks"]
    assert [(s["frame"], s["outside"]) for s in stored["shapes"]] == [(0, False), (3, True), (8, False)]


def test_label_change_resets_attributes(page, admin, sdk, images):
    tid, jid, ids = new_attr_job(sdk, images, "panels-label")
    car, person = ids["labels"]["car"], ids["labels"]["person"]
    spec = ids["specs"]
    sign_in(page, *admin)
    put(
        page,
        jid,
        {
            "shapes": [
                rect(
                    0, [10, 10, 100, 100], label_id=car, attributes=[{"spec_id": spec["car"]["color"], "value": "blue"}]
                )
            ]
        },
    )
    open_workspace(page, tid, jid)
    (shape,) = objects(page)
    page.get_by_label(f"Label of object #{shape['clientId']}").select_option(label="person")
    select_row(page, shape["clientId"])
    expect(
        page.get_by_role("group", name=f"Attributes of object #{shape['clientId']}").get_by_label("age")
    ).to_have_value("adult")
    save(page)
    (stored,) = api_json(page, f"/api/jobs/{jid}/annotations")["shapes"]
    assert stored["label_id"] == person
    assert attrs_of(stored) == {spec["person"]["age"]: "adult"}


def test_filter_text(page, admin, sdk, images):
    tid, jid, ids = new_attr_job(sdk, images, "panels-filter")
    car, person = ids["labels"]["car"], ids["labels"]["person"]
    sign_in(page, *admin)
    put(
        page,
        jid,
        {
            "shapes": [
                rect(0, [10, 10, 40, 40], label_id=car),
                rect(0, [10, 10, 100, 100], label_id=car),
                rect(0, [10, 10, 200, 200], label_id=person),
            ]
        },
    )
    open_workspace(page, tid, jid)
    rows = page.locator("[data-client-id]")
    expect(rows).to_have_count(3)
    box = page.get_by_label("Filter objects")
    box.fill('label == "car"')
    expect(rows).to_have_count(2)
    box.fill('label == "car" && width > 50')
    expect(rows).to_have_count(1)
    expect(box).to_have_attribute("placeholder", re.compile("&&"))  # the syntax the parser takes
    box.fill('label == "car" && (width >')
    expect(page.locator("#ws-filter-error")).to_be_visible()
    expect(box).to_have_attribute("aria-invalid", "true")
    page.shots("filter-error")
    box.fill("")
    expect(rows).to_have_count(3)


def test_bad_filter_keeps_the_previous_list(page, admin, sdk, images):
    tid, jid, ids = new_attr_job(sdk, images, "panels-filter-keep")
    car, person = ids["labels"]["car"], ids["labels"]["person"]
    sign_in(page, *admin)
    put(
        page, jid, {"shapes": [rect(0, [10, 10, 100, 100], label_id=car), rect(0, [10, 10, 200, 200], label_id=person)]}
    )
    open_workspace(page, tid, jid)
    rows = page.locator("[data-client-id]")
    box = page.get_by_label("Filter objects")
    box.fill('label == "car"')
    expect(rows).to_have_count(1)
    box.fill('label == "car" && (')
    expect(page.locator("#ws-filter-error")).to_be_visible()
    expect(rows).to_have_count(1, timeout=1500)


def test_player_skips_deleted_frames(page, admin, sdk, images):
    tid, jid, _ = new_attr_job(sdk, images, "panels-deleted")
    sign_in(page, *admin)
    answer = page.request.patch(
        f"/api/jobs/{jid}/data/meta", headers={"X-CSRFToken": csrf(page)}, data={"deleted_frames": [1, 2, 5]}
    )
    assert answer.ok, answer.text()
    open_workspace(page, tid, jid)
    page.keyboard.press("f")
    page.wait_for_function("() => window.__cvatWorkspace.frame() === 3")
    page.keyboard.press("d")
    page.wait_for_function("() => window.__cvatWorkspace.frame() === 0")
    frame_input = page.get_by_label("Frame number")
    frame_input.fill("2")
    frame_input.press("Enter")
    expect(page.locator("#ws-frame-error")).to_contain_text("deleted")
    assert page.evaluate("() => window.__cvatWorkspace.frame()") == 0
    page.shots("deleted-refused")
    go_to(page, 4)
    page.evaluate("() => document.activeElement && document.activeElement.blur()")
    page.keyboard.press("f")
    page.wait_for_function("() => window.__cvatWorkspace.frame() === 6")
    # Space plays (skipping deleted frames) and pauses
    go_to(page, 0)
    page.evaluate("() => document.activeElement && document.activeElement.blur()")
    page.keyboard.press("Space")
    expect(page.get_by_role("button", name="Pause")).to_be_visible()
    page.wait_for_function("() => window.__cvatWorkspace.frame() >= 4")
    page.keyboard.press("Space")
    expect(page.get_by_role("button", name="Play")).to_be_visible()
    stopped = page.evaluate("() => window.__cvatWorkspace.frame()")
    page.wait_for_timeout(500)
    assert page.evaluate("() => window.__cvatWorkspace.frame()") == stopped

    # the frame step typed digit by digit ("12" once became "22": each keystroke was clamped to 2..1000)
    go_to(page, 0)
    page.get_by_role("button", name="Settings").click()
    step = page.get_by_label("Frame step")
    step.select_text()
    step.press_sequentially("3")
    step.press("Backspace")
    step.press_sequentially("4")
    step.press("Tab")
    page.get_by_role("button", name="Settings").click()
    expect(page.get_by_role("dialog", name="Settings options")).to_have_count(0)
    assert page.evaluate("() => JSON.parse(localStorage.getItem('cvat.workspace.settings')).step") == 4
    page.evaluate("() => document.activeElement && document.activeElement.blur()")
    page.keyboard.press("v")
    page.wait_for_function("() => window.__cvatWorkspace.frame() >= 4")
    assert page.evaluate("() => window.__cvatWorkspace.frame()") not in (1, 2, 5)
    page.get_by_role("button", name="Settings").click()
    step.select_text()
    step.press_sequentially("12")
    page.keyboard.press("Escape")
    page.keyboard.press("Escape")
    expect(page.get_by_role("dialog", name="Settings options")).to_have_count(0)
    assert page.evaluate("() => JSON.parse(localStorage.getItem('cvat.workspace.settings')).step") == 12


def test_text_field_keys_shortcut_rebinding_and_tags(page, admin, sdk, images):
    tid, jid, ids = new_attr_job(sdk, images, "panels-keys")
    car, spec = ids["labels"]["car"], ids["specs"]["car"]
    sign_in(page, *admin)
    put(
        page,
        jid,
        {
            "shapes": [rect(0, [10, 10, 100, 100], label_id=car)],
            "tags": [{"frame": 0, "label_id": car, "group": 0, "source": "manual", "attributes": []}],
        },
    )
    open_workspace(page, tid, jid)
    shape = next(o for o in objects(page) if o["kind"] == "shape")
    select_row(page, shape["clientId"])
    note = page.get_by_role("group", name=f"Attributes of object #{shape['clientId']}").get_by_label("note")
    note.click()
    note.type("ffa")
    assert page.evaluate("() => window.__cvatWorkspace.frame()") == 0
    expect(note).to_have_value("ffa")
    page.keyboard.press("Control+s")
    expect(page.get_by_text(re.compile(r"^Saved"))).to_be_visible()
    (stored,) = api_json(page, f"/api/jobs/{jid}/annotations")["shapes"]
    assert attrs_of(stored)[spec["note"]] == "ffa"

    # rebind "next frame" to "j"
    page.evaluate("() => document.activeElement && document.activeElement.blur()")
    page.get_by_role("button", name="Shortcuts").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_role("button", name="Change keys of Next frame").click()
    page.keyboard.press("j")
    dialog.get_by_role("button", name=re.compile("^Close|^Done")).first.click()
    expect(dialog).to_have_count(0)
    page.keyboard.press("f")
    page.wait_for_timeout(300)
    assert page.evaluate("() => window.__cvatWorkspace.frame()") == 0
    page.keyboard.press("j")
    page.wait_for_function("() => window.__cvatWorkspace.frame() === 1")
    page.reload()
    page.wait_for_function("() => window.__cvatWorkspace && window.__cvatWorkspace.ready", timeout=30_000)
    go_to(page, 0)
    page.evaluate("() => document.activeElement && document.activeElement.blur()")
    page.keyboard.press("j")
    page.wait_for_function("() => window.__cvatWorkspace.frame() === 1")
    page.keyboard.press("f")
    page.wait_for_timeout(300)
    assert page.evaluate("() => window.__cvatWorkspace.frame()") == 1

    # the tag is listed on frame 0 and deleted from the list
    go_to(page, 0)
    tag = next(o for o in objects(page) if o["kind"] == "tag")
    tag_id = tag["clientId"]
    row = page.locator(f'[data-client-id="{tag_id}"]')
    expect(row).to_contain_text("tag")
    page.shots("tag-row")
    page.get_by_role("button", name=f"Delete #{tag_id}", exact=True).click()
    expect(row).to_have_count(0)
    save(page)
    assert api_json(page, f"/api/jobs/{jid}/annotations")["tags"] == []


def test_finish_the_job_saves_first(page, admin, sdk, images):
    tid, jid, ids = new_attr_job(sdk, images, "panels-finish")
    car = ids["labels"]["car"]
    sign_in(page, *admin)
    put(page, jid, {"shapes": [rect(0, [10, 10, 100, 100], label_id=car)]})
    open_workspace(page, tid, jid)
    (shape,) = objects(page)
    page.get_by_role("button", name=f"Occluded object #{shape['clientId']}", exact=True).click()
    page.get_by_role("button", name="Menu").click()
    page.get_by_label("Stage").select_option("validation")
    expect(page.get_by_label("Stage")).to_have_value("validation")
    page.get_by_label("State").select_option("in progress")
    expect(page.get_by_label("State")).to_have_value("in progress")
    job = api_json(page, f"/api/jobs/{jid}")
    assert (job["stage"], job["state"]) == ("validation", "in progress")
    sent: list[str] = []
    page.on("request", lambda r: sent.append(f"{r.method} {r.url.split('?')[0]}") if r.method == "PATCH" else None)
    page.get_by_role("button", name="Finish the job").click()
    page.get_by_role("dialog").get_by_role("button", name="Finish the job").click()
    expect(page.get_by_role("dialog")).to_have_count(0)
    job = api_json(page, f"/api/jobs/{jid}")
    assert (job["stage"], job["state"]) == ("acceptance", "completed")
    paths = [r.split("/api/", 1)[1] for r in sent]
    assert paths.index(f"jobs/{jid}/annotations") < paths.index(f"jobs/{jid}"), paths
    (stored,) = api_json(page, f"/api/jobs/{jid}/annotations")["shapes"]
    assert stored["occluded"] is True


def test_three_thousand_objects_in_the_list(page, admin, sdk, images):
    """The list of 3,000 objects keeps fewer than 100 rows in the page, filters them, scrolls to
    the end and selects there (its speed is in benchmarks, not here)."""
    tid, jid, ids = new_attr_job(sdk, images, "panels-many")
    car, person = ids["labels"]["car"], ids["labels"]["person"]
    sign_in(page, *admin)
    shapes = [
        rect(
            0,
            [(i % 60) * 10, (i // 60) * 9, (i % 60) * 10 + 8 + i % 50, (i // 60) * 9 + 8],
            label_id=car if i % 2 else person,
        )
        for i in range(3000)
    ]
    put(page, jid, {"shapes": shapes})
    open_workspace(page, tid, jid)
    rows = page.locator("[data-client-id]")
    expect(page.get_by_text("3000 objects")).to_be_visible()
    assert rows.count() < 100
    box = page.get_by_label("Filter objects")
    box.fill('label == "car"')
    expect(page.get_by_text("1500 of 3000 objects")).to_be_visible()
    box.press_sequentially(" && width > 30", delay=0)
    expected = sum(1 for i in range(3000) if i % 2 and 8 + i % 50 > 30)
    expect(page.get_by_text(f"{expected} of 3000 objects")).to_be_visible()
    box.fill("")
    scroller = page.get_by_label("Objects on this frame")
    for _ in range(5):
        scroller.hover()
        page.mouse.wheel(0, 3000)
    scroller.evaluate("(el) => { el.scrollTop = el.scrollHeight; }")  # then straight to the end
    page.wait_for_timeout(100)
    ids_shown = sorted(int(i) for i in rows.evaluate_all("rows => rows.map((r) => r.dataset.clientId)"))
    all_ids = sorted(o["clientId"] for o in objects(page))
    assert rows.count() < 100 and ids_shown[-1] == all_ids[-1]  # the end of the list, still virtual
    cid = int(rows.last.get_attribute("data-client-id"))
    select_row(page, cid)
    page.wait_for_function(f"() => window.__cvatWorkspace.engine.selected() === {cid}")
    page.shots("many")


def test_review_issue_reply_reopen_jump_and_delete(page, admin, sdk, images):
    tid, jid, _ = new_attr_job(sdk, images, "panels-review")
    sign_in(page, *admin)
    made = page.request.post(
        "/api/issues",
        headers={"X-CSRFToken": csrf(page)},
        data={"job": jid, "frame": 7, "position": [10, 10, 90, 90], "message": "Box is loose"},
    )
    assert made.ok, made.text()
    issue = made.json()
    open_workspace(page, tid, jid)
    page.get_by_role("tab", name=re.compile("Issues")).click()
    page.get_by_role("list", name="Issues of the job").get_by_text("Box is loose").click()
    page.wait_for_function("() => window.__cvatWorkspace.frame() === 7")
    thread = page.get_by_role("region", name=f"Issue #{issue['id']}")
    thread.get_by_label("Reply").fill("fixed it")
    assert page.evaluate("() => window.__cvatWorkspace.frame()") == 7
    thread.get_by_role("button", name="Comment").click()
    expect(thread.locator("ol")).to_contain_text("fixed it")
    comments = api_json(page, f"/api/comments?issue_id={issue['id']}")["results"]
    assert sorted(c["message"] for c in comments) == ["Box is loose", "fixed it"]
    thread.get_by_role("button", name="Resolve").click()
    expect(thread.get_by_role("button", name="Reopen")).to_be_visible()
    assert api_json(page, f"/api/issues/{issue['id']}")["resolved"] is True
    thread.get_by_role("button", name="Reopen").click()
    expect(thread.get_by_role("button", name="Resolve")).to_be_visible()
    assert api_json(page, f"/api/issues/{issue['id']}")["resolved"] is False
    page.shots("issue-thread")
    thread.get_by_role("button", name="Delete issue").click()
    page.get_by_role("dialog").get_by_role("button", name=re.compile("Delete")).click()
    expect(page.get_by_role("list", name="Issues of the job")).to_have_count(0)
    assert api_json(page, f"/api/issues?job_id={jid}")["results"] == []


def test_autosave_saves_without_a_click(page, admin, sdk, images):
    tid, jid, ids = new_attr_job(sdk, images, "panels-autosave")
    car = ids["labels"]["car"]
    sign_in(page, *admin)
    put(page, jid, {"shapes": [rect(0, [10, 10, 100, 100], label_id=car)]})
    page.clock.install()
    open_workspace(page, tid, jid)
    page.get_by_role("button", name="Settings").click()
    page.get_by_label("Autosave").select_option("1")
    page.keyboard.press("Escape")  # the focus is on the Settings button: Escape closes its popover
    expect(page.get_by_role("dialog", name="Settings options")).to_have_count(0)
    (shape,) = objects(page)
    page.get_by_role("button", name=f"Occluded object #{shape['clientId']}", exact=True).click()
    page.clock.fast_forward("01:05")
    expect(page.get_by_text(re.compile(r"^Saved"))).to_be_visible()
    (stored,) = api_json(page, f"/api/jobs/{jid}/annotations")["shapes"]
    assert stored["occluded"] is True


def test_track_label_change_resets_every_keyframes_attributes(page, admin, sdk, images):
    tid, jid, ids = new_attr_job(sdk, images, "panels-track-label")
    car, person = ids["labels"]["car"], ids["labels"]["person"]
    spec = ids["specs"]
    sign_in(page, *admin)
    blue = [{"spec_id": spec["car"]["color"], "value": "blue"}]
    keys = [rect(0, [10, 10, 100, 100], attributes=blue), rect(6, [50, 50, 140, 140], attributes=blue)]
    put(page, jid, {"tracks": [manual_track(car, keys, [{"spec_id": spec["car"]["model"], "value": "van"}])]})
    open_workspace(page, tid, jid)
    go_to(page, 3)
    (track,) = objects(page)
    page.get_by_label(f"Label of object #{track['clientId']}").select_option(label="person")
    select_row(page, track["clientId"])
    expect(
        page.get_by_role("group", name=f"Attributes of object #{track['clientId']}").get_by_label("age")
    ).to_have_value("adult")
    save(page)
    (stored,) = api_json(page, f"/api/jobs/{jid}/annotations")["tracks"]
    assert stored["label_id"] == person
    assert attrs_of(stored) == {spec["person"]["age"]: "adult"}
    car_specs = set(spec["car"].values())
    for shape in stored["shapes"]:
        assert not car_specs & set(attrs_of(shape)), shape


def test_a_locked_objects_attributes_cannot_change(page, admin, sdk, images):
    tid, jid, ids = new_attr_job(sdk, images, "panels-locked")
    car = ids["labels"]["car"]
    sign_in(page, *admin)
    put(page, jid, {"shapes": [rect(0, [10, 10, 100, 100], label_id=car)]})
    open_workspace(page, tid, jid)
    (shape,) = objects(page)
    name = f"#{shape['clientId']}"
    select_row(page, shape["clientId"])
    page.get_by_role("button", name=f"Lock object {name}", exact=True).click()
    attrs = page.get_by_role("group", name=f"Attributes of object {name}")
    for field in ("color", "parked", "speed", "note"):
        expect(attrs.get_by_label(field)).to_be_disabled()
    expect(attrs.get_by_label("side")).to_be_disabled()
    expect(page.get_by_label(f"Label of object {name}")).to_be_disabled()


def test_editing_keys_in_text_fields_leave_the_objects_alone(page, admin, sdk, images):
    tid, jid, ids = new_attr_job(sdk, images, "panels-field-keys")
    car = ids["labels"]["car"]
    sign_in(page, *admin)
    put(page, jid, {"shapes": [rect(0, [10, 10, 100, 100], label_id=car), rect(0, [200, 200, 300, 300], label_id=car)]})
    open_workspace(page, tid, jid)
    first = objects(page)[0]
    select_row(page, first["clientId"])
    note = page.get_by_role("group", name=f"Attributes of object #{first['clientId']}").get_by_label("note")
    note.click()
    note.press_sequentially("abc")
    for key in ("Backspace", "Delete", "ArrowLeft", "Delete", "Control+a", "Control+c", "Control+z", "n", "1", "Tab"):
        page.keyboard.press(key)
    page.get_by_label("Filter objects").click()
    for key in ("x", "Backspace", "Delete", "Control+a", "Delete", "f", "d", "Backspace"):
        page.keyboard.press(key)
    assert len(objects(page)) == 2
    assert page.evaluate("() => window.__cvatWorkspace.frame()") == 0
    assert page.evaluate("() => window.__cvatWorkspace.engine.mode()") == "idle"


def test_a_tags_attributes_edit_and_save(page, admin, sdk, images):
    tid, jid, ids = new_attr_job(sdk, images, "panels-tag-attrs")
    car, spec = ids["labels"]["car"], ids["specs"]["car"]
    sign_in(page, *admin)
    put(page, jid, {"tags": [{"frame": 0, "label_id": car, "group": 0, "source": "manual", "attributes": []}]})
    open_workspace(page, tid, jid)
    (tag,) = objects(page)
    select_row(page, tag["clientId"])
    attrs = page.get_by_role("group", name=f"Attributes of object #{tag['clientId']}")
    attrs.get_by_label("color").select_option("blue")
    attrs.get_by_label("model").fill("suv")
    attrs.get_by_label("model").press("Enter")
    save(page)
    (stored,) = api_json(page, f"/api/jobs/{jid}/annotations")["tags"]
    assert attrs_of(stored)[spec["color"]] == "blue" and attrs_of(stored)[spec["model"]] == "suv"
    # another frame: the tag is no longer selected; back on its frame, "Delete object" deletes it
    go_to(page, 1)
    expect(page.get_by_role("region", name="Selected object")).to_contain_text("No object selected")
    go_to(page, 0)
    select_row(page, tag["clientId"])
    page.get_by_role("button", name="Delete object").click()
    expect(page.locator(f'[data-client-id="{tag["clientId"]}"]')).to_have_count(0)
    save(page)
    assert api_json(page, f"/api/jobs/{jid}/annotations")["tags"] == []


def test_clipboard_and_undo_keys_in_a_text_field_edit_the_text(page, admin, sdk, images):
    """Ctrl+C / Ctrl+V / Ctrl+Z in a text field are the field's: they once also copied and pasted
    the selected object (a duplicate box) and undid the last change on the canvas."""
    tid, jid, ids = new_attr_job(sdk, images, "panels-clipboard")
    car, spec = ids["labels"]["car"], ids["specs"]["car"]
    sign_in(page, *admin)
    put(page, jid, {"shapes": [rect(0, [10, 10, 100, 100], label_id=car)]})
    open_workspace(page, tid, jid)
    (shape,) = objects(page)
    page.get_by_role("button", name=f"Occluded object #{shape['clientId']}", exact=True).click()
    select_row(page, shape["clientId"])
    note = page.get_by_role("group", name=f"Attributes of object #{shape['clientId']}").get_by_label("note")
    note.click()
    note.press_sequentially("ab")
    page.keyboard.press("Control+a")
    page.keyboard.press("Control+c")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("Control+v")
    page.keyboard.press("Control+z")
    page.keyboard.press("Enter")
    assert len(objects(page)) == 1
    assert page.evaluate(f"() => window.__cvatWorkspace.store.get({shape['clientId']}).occluded") is True
    filter_box = page.get_by_label("Filter objects")
    filter_box.click()
    page.keyboard.press("Control+v")
    assert len(objects(page)) == 1
    save(page)
    (stored,) = api_json(page, f"/api/jobs/{jid}/annotations")["shapes"]
    assert stored["occluded"] is True
    assert attrs_of(stored)[spec["note"]] in ("ab", "abab")

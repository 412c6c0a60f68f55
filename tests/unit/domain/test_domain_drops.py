"""The drop folder's layout, task.json, failure record keys and markers (domain.drops)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from cvat_serverless.domain.drops import (
    CLAIM_LEASE,
    DropKind,
    DropLayoutError,
    DropMarker,
    DropState,
    check_folder_files,
    check_single_file,
    drop_marker_id,
    drop_spec,
    failure_key,
    parse_drop_key,
)
from cvat_serverless.domain.errors import ValidationError

P = "uploads/"
NOW = datetime(2026, 1, 1, tzinfo=UTC)


def test_a_file_in_a_project_folder_is_a_task_of_its_own():
    target = parse_drop_key("uploads/projects/7/street cam.mp4", P)
    assert (target.kind, target.project_id, target.name) == (DropKind.FILE, 7, "street cam.mp4")


@pytest.mark.parametrize("trigger", [".done", "task.json"])
def test_a_folder_is_closed_by_done_or_task_json(trigger):
    target = parse_drop_key(f"uploads/projects/7/day 1/{trigger}", P)
    assert (target.kind, target.name, target.folder, target.trigger) == (
        DropKind.FOLDER, "day 1", "uploads/projects/7/day 1/", trigger)


def test_files_of_an_open_folder_and_placeholders_ask_for_nothing():
    assert parse_drop_key("uploads/projects/7/day 1/", P) is None
    assert parse_drop_key("uploads/projects/7/day 1/img.png", P).kind is DropKind.CONTENT


@pytest.mark.parametrize("key", [
    "uploads/clip.mp4", "uploads/project/7/clip.mp4", "uploads/projects/seven/clip.mp4",
    "uploads/projects/7", "uploads/projects/99999999999/clip.mp4", "uploads/projects/7/a/b/.done", "other/clip.mp4",
])
def test_other_places_are_layout_errors_that_say_where_media_goes(key):
    with pytest.raises(DropLayoutError, match="project"):
        parse_drop_key(key, P)


def test_single_files_must_be_videos_or_archives():
    check_single_file("clip.MOV")
    check_single_file("frames.tar.gz")
    with pytest.raises(ValidationError, match="single images do not make tasks"):
        check_single_file("a.jpg")
    with pytest.raises(ValidationError, match="not a video or an archive"):
        check_single_file("notes.txt")


def test_a_folder_lists_its_media_without_markers_and_hidden_files():
    assert check_folder_files([".done", "a.png", ".DS_Store", "b.JPG", "task.json"]) == ["a.png", "b.JPG"]
    with pytest.raises(ValidationError, match="no sub-folders"):
        check_folder_files(["a.png", "sub/b.png"])
    with pytest.raises(ValidationError, match="not a media file"):
        check_folder_files(["a.png", "labels.csv"])
    with pytest.raises(ValidationError, match="no media files"):
        check_folder_files([".done"])


def test_task_json_sets_the_task_and_the_data_parameters():
    spec = drop_spec("day 1", ["a.png"], b'{"name": "Day one", "segment_size": 10, "image_quality": 90, '
                                          b'"subset": "train", "sorting_method": "natural"}')
    assert (spec.name, spec.segment_size, spec.subset) == ("Day one", 10, "train")
    assert spec.data == {"image_quality": 90, "sorting_method": "natural"}
    assert drop_spec("clip.mp4", ["clip.mp4"]).data == {"image_quality": 70}


@pytest.mark.parametrize(("body", "message"), [
    (b"{not json", "not valid JSON"),
    (b"[1]", "JSON object"),
    (b'{"labels": []}', "unknown fields labels"),
    (b'{"segment_size": "ten"}', "A valid integer"),
    (b'{"image_quality": 101}', "less than or equal to 100"),
    (b'{"name": 5}', "strings"),
    (b" " * (64 * 1024 + 1), "larger than"),
])
def test_a_bad_task_json_says_what_is_wrong(body, message):
    with pytest.raises(ValidationError) as caught:
        drop_spec("f", ["a.png"], body)
    assert message in caught.value.message + " ".join(m for ms in caught.value.fields.values() for m in ms)


def test_failure_records_live_outside_the_upload_prefix():
    assert failure_key("uploads/projects/7/clip.mp4", P) == "drop-failures/projects/7/clip.mp4.json"
    assert not failure_key("uploads/x", P).startswith(P)


def test_a_marker_is_one_object_version_and_its_claim_lapses():
    assert drop_marker_id("b", "k", '"abc"') == drop_marker_id("b", "k", "abc") != drop_marker_id("b", "k", "abd")
    marker = DropMarker(id="m", bucket="b", key="k", etag="e", claimed_at=NOW)
    assert marker.claim_is_live(NOW + CLAIM_LEASE - timedelta(seconds=1))
    assert not marker.claim_is_live(NOW + CLAIM_LEASE)
    marker.state = DropState.DONE
    assert not marker.claim_is_live(NOW)
    assert marker.expires_at() > NOW + timedelta(days=14)  # outlives every redelivery of the queue and its DLQ

"""CVAT's data parameters (JSON and multipart forms), upload names, background request states."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cvat_serverless.domain.errors import ConflictError, ValidationError
from cvat_serverless.domain.requests import BackgroundRequest, RequestAction, RequestStatus
from cvat_serverless.domain.task_data import (
    DataKeys,
    DataRequest,
    ResourceType,
    TaskData,
    ordered_by_upload,
    parse_data_request,
    safe_upload_name,
)
from cvat_serverless.domain.tasks import ChunkType, SortingMethod

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def test_the_cli_defaults_and_a_form_with_strings_parse_alike():
    cli = parse_data_request({"image_quality": 70, "copy_data": False, "sorting_method": "lexicographical",
                              "use_cache": False, "use_zip_chunks": False}, client_files=["a.png"])
    form = parse_data_request({"image_quality": "70", "copy_data": "False", "use_cache": "False",
                               "use_zip_chunks": "False"}, client_files=["a.png"])
    assert cli == form
    assert cli.resource_type is ResourceType.LOCAL and cli.frame_filter == ""
    fiftyone = parse_data_request({"image_quality": "75", "use_cache": "True", "use_zip_chunks": "True",
                                   "sorting_method": "predefined", "chunk_size": "36"})
    assert (fiftyone.use_zip_chunks, fiftyone.chunk_size, fiftyone.sorting_method) == (
        True, 36, SortingMethod.PREDEFINED)


@pytest.mark.parametrize(("values", "field"), [
    ({}, "image_quality"),
    ({"image_quality": 101}, "image_quality"),
    ({"image_quality": "high"}, "image_quality"),
    ({"image_quality": True}, "image_quality"),
    ({"image_quality": 70, "chunk_size": -1}, "chunk_size"),
    ({"image_quality": 70, "start_frame": 5, "stop_frame": 4}, "stop_frame"),
    ({"image_quality": 70, "frame_filter": "step=0"}, "frame_filter"),
    ({"image_quality": 70, "frame_filter": "every 2"}, "frame_filter"),
    ({"image_quality": 70, "sorting_method": "by date"}, "sorting_method"),
    ({"image_quality": 70, "use_zip_chunks": "maybe"}, "use_zip_chunks"),
    ({"image_quality": 70, "cloud_storage_id": 3}, "cloud_storage_id"),
    ({"image_quality": 70, "job_file_mapping": [["a"], []]}, "job_file_mapping"),
    ({"image_quality": 70, "server_files": "x"}, None),  # a string is one file, as a form sends it
])
def test_bad_parameters_name_their_field(values, field):
    if field is None:
        assert parse_data_request(values).server_files == ("x",)
        return
    with pytest.raises(ValidationError) as error:
        parse_data_request(values)
    assert field in error.value.fields


def test_sources_and_options_that_exclude_each_other_are_refused():
    with pytest.raises(ValidationError, match="Only one of"):
        parse_data_request({"image_quality": 70, "server_files": ["a"], "remote_files": ["http://x/a"]})
    with pytest.raises(ValidationError, match="filename_pattern"):
        parse_data_request({"image_quality": 70, "server_files": ["a"], "server_files_exclude": ["b"],
                            "filename_pattern": "*.jpg"})
    with pytest.raises(ValidationError, match="job_file_mapping"):
        parse_data_request({"image_quality": 70, "job_file_mapping": [["a"]], "frame_filter": "step=2"})


@given(st.builds(
    DataRequest, image_quality=st.integers(0, 100), chunk_size=st.none() | st.integers(1, 500),
    start_frame=st.integers(0, 100), frame_step=st.integers(1, 9),
    sorting_method=st.sampled_from(list(SortingMethod)), use_zip_chunks=st.booleans(),
    client_files=st.lists(st.text("abc.", min_size=1, max_size=5), max_size=3).map(tuple),
    seed=st.none() | st.integers(0, 99)))
def test_a_request_round_trips_through_its_document(request):
    assert DataRequest.from_dict(request.to_dict()) == request


def test_the_predefined_order_follows_upload_file_order_then_the_rest():
    assert ordered_by_upload(["b", "a", "c"], ["c", "a"]) == ["c", "a", "b"]
    assert ordered_by_upload(["b", "a"], []) == ["b", "a"]
    with pytest.raises(ValidationError):
        ordered_by_upload(["a"], ["z"])


@pytest.mark.parametrize(("sent", "kept"), [
    ("/home/me/data/img 1.jpg", "img 1.jpg"), ("C:\\Users\\me\\a.png", "a.png"), ("plain.mp4", "plain.mp4"),
])
def test_upload_names_keep_the_basename(sent, kept):
    assert safe_upload_name(sent) == kept


@pytest.mark.parametrize("bad", ["", "/", "..", "dir/", "a\x00b", "x\ny"])
def test_unsafe_upload_names_are_refused(bad):
    with pytest.raises(ValidationError):
        safe_upload_name(bad)


def test_deleted_frames_must_be_frames_of_the_task():
    data = TaskData(id=1, task_id=2, media_type="images", size=10, chunk_size=4, image_quality=70,
                    compressed_chunk_type=ChunkType.IMAGESET, original_chunk_type=ChunkType.IMAGESET,
                    original_ext="zip")
    data.set_deleted_frames([3, 1, 3])
    assert data.deleted_frames == (1, 3)
    assert data.chunk_of(9) == (2, 1) and data.chunk_count() == 3
    with pytest.raises(ValidationError):
        data.set_deleted_frames([10])


def test_keys_keep_a_task_under_one_prefix():
    keys = DataKeys(7, 3)
    assert keys.chunk("compressed", 2, "zip") == "tasks/7/data/3/chunks/compressed/2.zip"
    assert keys.chunk("original", 0, "mp4", segment=4) == "tasks/7/data/3/chunks/segment_4/original/0.mp4"
    assert keys.staged_file("a.png") == "staging/tasks/7/files/a.png"
    assert keys.tus_part("u", 10) < keys.tus_part("u", 9 * 10**6)  # parts list in offset order
    assert not keys.staging.startswith("uploads/")  # uploads/ starts the drop-folder processing


def _request() -> BackgroundRequest:
    return BackgroundRequest(id="create:task-1-x", action=RequestAction.CREATE, target="task", owner_id=1,
                             task_id=1, created_date=NOW)


def test_a_request_moves_forward_only_and_ends_once():
    r = _request()
    assert r.operation_type == "create:task" and r.status is RequestStatus.QUEUED
    r.start(NOW + timedelta(seconds=1), "working")
    r.advance(0.5)
    r.advance(0.2)  # progress never goes back
    assert (r.status, r.progress, r.started_date) == (RequestStatus.STARTED, 0.5, NOW + timedelta(seconds=1))
    r.finish(NOW + timedelta(seconds=2), result_id=1)
    assert (r.progress, r.message, r.result_id) == (1.0, "", 1)
    assert r.expiry_date == NOW + timedelta(days=1, seconds=2)
    with pytest.raises(ConflictError):
        r.fail(NOW, "too late")
    failed = _request()
    failed.fail(NOW, "x" * 5000)
    assert failed.status is RequestStatus.FAILED and len(failed.message) == 4096
    with pytest.raises(ConflictError):
        failed.finish(NOW)

"""domain/auto_annotation.py: the frames a request covers, batching under the payload limit, and a
detector's answer as CVAT shapes (mapping, threshold, roi, clipping, masks, skeletons)."""

from __future__ import annotations

import base64
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cvat_serverless.domain.annotations import ShapeType, validate_annotations
from cvat_serverless.domain.auto_annotation import (
    REQUEST_OVERHEAD_BYTES,
    AutoAnnotateInput,
    Conversion,
    LabelTarget,
    batches,
    chunk_progress,
    covered_frames,
    encoded_size,
    frames_by_chunk,
    image_budget,
    parse_results,
    to_shapes,
)
from cvat_serverless.domain.errors import ValidationError

PERSON = LabelTarget(label_id=12, type="rectangle", attributes={"pose": 34})
CONV = Conversion({"person": PERSON, "blob": LabelTarget(13, "mask")}, threshold=0.5)


def det(**kw):
    return {"label": "person", "points": [10, 10, 20, 30], "type": "rectangle", "confidence": 0.9, **kw}


# --- frames -------------------------------------------------------------------------------------


def test_covered_frames_task_job_range_specific_and_deleted():
    assert covered_frames(5) == [0, 1, 2, 3, 4]
    assert covered_frames(5, deleted=[1, 3]) == [0, 2, 4]
    assert covered_frames(10, start=3, stop=6, deleted=[4]) == [3, 5, 6]
    assert covered_frames(10, start=2, stop=8, specific=[8, 2, 5, 5], deleted=[5]) == [2, 8]
    assert covered_frames(4, start=2, stop=99) == [2, 3]


def test_frames_by_chunk():
    assert frames_by_chunk([0, 1, 5, 2, 3], 2) == {0: [0, 1], 1: [2, 3], 2: [5]}
    with pytest.raises(ValidationError):
        frames_by_chunk([0], 0)


@given(st.integers(1, 200), st.integers(1, 40), st.sets(st.integers(0, 199)))
def test_chunks_partition_the_covered_frames(size, chunk_size, deleted):
    frames = covered_frames(size, deleted=deleted)
    chunks = frames_by_chunk(frames, chunk_size)
    assert sorted(f for fs in chunks.values() for f in fs) == frames
    assert all(f // chunk_size == c for c, fs in chunks.items() for f in fs)


# --- batching -----------------------------------------------------------------------------------


def test_batches_by_count_and_payload():
    assert batches([10] * 5, batch_size=2, payload_limit=10_000) == [[0, 1], [2, 3], [4]]
    limit = REQUEST_OVERHEAD_BYTES + 2 * encoded_size(300)
    assert batches([300, 300, 300], batch_size=8, payload_limit=limit) == [[0, 1], [2]]
    with pytest.raises(ValidationError, match="does not fit"):
        batches([10_000], batch_size=8, payload_limit=1000)


@given(st.lists(st.integers(0, 5000), max_size=40), st.integers(1, 10), st.integers(8000, 40_000))
def test_every_batch_fits_the_limit_as_real_json(sizes, batch_size, limit):
    groups = batches(sizes, batch_size=batch_size, payload_limit=limit)
    assert [i for g in groups for i in g] == list(range(len(sizes)))
    for group in groups:
        assert 1 <= len(group) <= batch_size
        body = json.dumps({"images": [base64.b64encode(b"x" * sizes[i]).decode() for i in group],
                           "threshold": 0.123456789}, separators=(",", ":"))
        assert len(body) <= limit


def test_image_budget_fits_alone():
    for limit in (1000, 4_000_000, 6_000_000):
        assert len(batches([image_budget(limit)], batch_size=1, payload_limit=limit)) == 1


# --- the model's answer ---------------------------------------------------------------------------


def test_parse_results_both_shapes():
    assert parse_results({"results": [[det()], []]}, 2) == [[det()], []]
    assert parse_results([det()], 1) == [[det()]]  # CVAT's Nuclio single-image answer
    with pytest.raises(ValidationError, match="3 result lists for 2"):
        parse_results({"results": [[], [], []]}, 2)
    with pytest.raises(ValidationError):
        parse_results({"error": "x"}, 1)


# --- conversion -----------------------------------------------------------------------------------


def test_a_box_becomes_an_auto_rectangle_with_mapped_attributes():
    [shape] = to_shapes([det(attributes=[{"name": "pose", "value": "sitting"}, {"name": "other", "value": 1},
                                         {"name": "pose", "value": True}])], 3, 64, 48, CONV)
    assert shape.type is ShapeType.RECTANGLE and shape.frame == 3 and shape.label_id == 12
    assert shape.source == "auto" and shape.points == [10, 10, 20, 30] and shape.score == 0.9
    assert [(a.spec_id, a.value) for a in shape.attributes] == [(34, "sitting"), (34, "true")]


def test_threshold_unmapped_labels_and_garbage_are_dropped():
    kept = to_shapes([det(confidence=0.49), det(confidence="0.5"), det(label="dog"), det(points=["x"]),
                      det(type="hexagon"), det(points=[1, 2, 3]), det(confidence=None)],
                     0, 64, 48, CONV)
    assert [s.score for s in kept] == [0.5, 1.0]


def test_boxes_are_clipped_to_the_frame_and_outside_ones_dropped():
    shapes = to_shapes([det(points=[-5, 40, 70, 60]), det(points=[30, 20, 10, 5]), det(points=[70, 0, 80, 10])],
                       0, 64, 48, CONV)
    assert [s.points for s in shapes] == [[0, 40, 64, 48], [10, 5, 30, 20]]


def test_scale_maps_a_downscaled_input_back():
    [shape] = to_shapes([det(points=[5, 5, 10, 15])], 0, 64, 48, CONV, scale=0.5)
    assert shape.points == [10, 10, 20, 30]


def test_roi_keeps_intersecting_shapes_and_clips_rectangles():
    conv = Conversion(CONV.mapping, 0.5, roi=(15, 0, 40, 40))
    shapes = to_shapes([det(), det(points=[41, 0, 50, 10]), det(type="points", points=[16, 5, 50, 6]),
                        det(points=[0, 0, 15, 10])], 0, 64, 48, conv)
    assert [(s.type.value, s.points) for s in shapes] == [("rectangle", [15, 10, 20, 30]),
                                                            ("points", [16, 5, 50, 6])]


def test_polygons_and_points_are_clipped():
    shapes = to_shapes([det(type="polygon", points=[-1, -1, 70, 0, 30, 60]), det(type="points", points=[1, 2, 100, 2]),
                        det(type="polyline", points=[1, 1])], 0, 64, 48, CONV)
    assert [s.points for s in shapes] == [[0, 0, 64, 0, 30, 48], [1, 2, 64, 2]]


def test_masks_are_cvat_rle_with_the_box_appended():
    # a 3x2 box at (4, 5): runs 0, 2, 1, 3 over 6 pixels
    rle = [0, 2, 1, 3, 4, 5, 6, 6]
    from_points = to_shapes([{"label": "blob", "type": "mask", "points": rle, "confidence": 0.8}], 0, 64, 48, CONV)
    from_mask = to_shapes([{"label": "blob", "type": "mask", "mask": rle, "points": [4, 5, 6, 6]}], 0, 64, 48, CONV)
    assert [s.points for s in from_points + from_mask] == [rle, rle]
    assert all(s.type is ShapeType.MASK and s.label_id == 13 for s in from_points + from_mask)
    bad = to_shapes([{"label": "blob", "type": "mask", "points": [0, 5, 4, 5, 6, 6]},  # 5 pixels for 6
                     {"label": "blob", "type": "mask", "points": [0, 6, 60, 45, 62, 46]},  # 3x2 fits
                     {"label": "blob", "type": "mask", "points": [0, 6, 63, 47, 65, 48]}],  # past the frame
                    0, 64, 48, CONV)
    assert len(bad) == 1


def test_skeleton_elements_map_to_sublabels():
    skeleton = LabelTarget(20, "skeleton", sublabels={"nose": LabelTarget(21, "points"),
                                                      "eye": LabelTarget(22, "points")})
    conv = Conversion({"body": skeleton}, 0.5)
    [shape] = to_shapes([{"label": "body", "type": "skeleton", "confidence": 0.7, "points": [], "elements": [
        {"label": "nose", "type": "points", "points": [5, 5]},
        {"label": "tail", "type": "points", "points": [6, 6]},
        {"label": "eye", "type": "points", "points": [7, 100], "outside": True}]}], 0, 64, 48, conv)
    assert shape.type is ShapeType.SKELETON and shape.points == []
    assert [(e.label_id, e.points, e.outside) for e in shape.elements] == [(21, [5, 5], False), (22, [7, 48], True)]


coords = st.floats(-100, 200, allow_nan=False)


@given(st.lists(st.tuples(coords, coords, coords, coords, st.floats(0, 1)), max_size=20))
def test_converted_rectangles_always_pass_the_annotation_checks(boxes):
    from cvat_serverless.domain.annotations import LabeledData, LabelSpec, LabelType

    shapes = to_shapes([det(points=[a, b, c, d], confidence=p) for a, b, c, d, p in boxes], 0, 64, 48, CONV)
    assert all(s.score >= 0.5 for s in shapes)
    assert all(0 <= s.points[0] < s.points[2] <= 64 and 0 <= s.points[1] < s.points[3] <= 48 for s in shapes)
    validate_annotations(LabeledData(shapes=shapes), [LabelSpec(id=12, name="person", type=LabelType.RECTANGLE)],
                         frame_count=1, frame_sizes={0: (64, 48)})


def test_workflow_input_and_progress():
    inp = AutoAnnotateInput.from_dict({
        "request_id": "autoannotate:task-7-0a1b2c3d4e5f", "function_id": "yolox-nano", "task_id": 7, "job_id": None,
        "threshold": None, "cleanup": True, "conv_mask_to_poly": False, "roi": [1, 2, 3, 4],
        "mapping": {"person": {"label_id": 12, "type": "rectangle", "attributes": {"pose": 34},
                               "sublabels": {"nose": {"label_id": 13, "type": "points", "attributes": {}}}}}})
    assert inp.threshold == 0.5 and inp.roi == (1, 2, 3, 4) and inp.mapping["person"].sublabels["nose"].label_id == 13
    with pytest.raises(ValidationError):
        AutoAnnotateInput.from_dict({"request_id": "r", "function_id": "f", "task_id": 1, "roi": [1, 2]})
    assert [chunk_progress(d, 3) for d in (0, 1, 3, 4)] == [0.0, 1 / 3, 0.99, 0.99]
    assert chunk_progress(0, 0) == 0.0


@pytest.mark.parametrize("doc", [{}, {"request_id": "r", "function_id": "f", "task_id": "seven"},
                                 {"request_id": "r", "function_id": "f", "task_id": 1, "threshold": "high"},
                                 {"request_id": "r", "function_id": "f", "task_id": 1, "mapping": {"a": {}}}])
def test_a_malformed_input_is_a_validation_error(doc):
    with pytest.raises(ValidationError):
        AutoAnnotateInput.from_dict(doc)

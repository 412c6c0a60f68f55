from __future__ import annotations

import math

from hypothesis import given, settings
from hypothesis import strategies as st

from cvat_serverless.domain.annotations import (
    AttributeVal,
    LabeledShape,
    LabeledTrack,
    LabelSpec,
    ShapeType,
    TrackedShape,
)
from cvat_serverless.domain.interpolation import (
    interpolate_points,
    interpolate_track,
    shapes_to_tracks,
    track_to_shapes,
)


def _box_track(keys: list[tuple[int, list[float], bool]], rotation: list[float] | None = None) -> LabeledTrack:
    shapes = [
        TrackedShape(ShapeType.RECTANGLE, f, p, outside=o, rotation=(rotation[i] if rotation else 0.0))
        for i, (f, p, o) in enumerate(keys)
    ]
    return LabeledTrack(frame=keys[0][0], label_id=1, shapes=shapes)


def test_box_interpolates_linearly_and_holds_after_the_last_keyframe() -> None:
    track = _box_track([(0, [0, 0, 10, 10], False), (10, [10, 20, 30, 40], False)])
    out = {s.frame: s for s in interpolate_track(track, stop_frame=12)}
    assert sorted(out) == list(range(13))
    assert out[5].points == [5, 10, 20, 25]
    assert out[5].keyframe is False and out[0].keyframe and out[10].keyframe
    assert out[12].points == [10, 20, 30, 40]


def test_outside_semantics() -> None:
    track = _box_track(
        [
            (2, [0, 0, 10, 10], False),
            (4, [4, 4, 14, 14], True),
            (8, [8, 8, 18, 18], False),
        ]
    )
    visible = [s.frame for s in interpolate_track(track, stop_frame=9)]
    assert visible == [2, 3, 8, 9]  # nothing before the first keyframe, nothing while outside
    with_outside = [(s.frame, s.outside) for s in interpolate_track(track, stop_frame=9, include_outside=True)]
    assert with_outside == [(2, False), (3, False), (4, True), (8, False), (9, False)]
    # towards an outside keyframe the box still moves (CVAT's behaviour)
    assert next(s for s in interpolate_track(track, stop_frame=9) if s.frame == 3).points == [2, 2, 12, 12]


def test_track_stops_at_stop_frame_even_mid_interpolation() -> None:
    track = _box_track([(0, [0, 0, 10, 10], False), (10, [10, 10, 20, 20], False)])
    frames = [s.frame for s in interpolate_track(track, stop_frame=4)]
    assert frames == [0, 1, 2, 3, 4]


def test_rotation_takes_the_short_way_round() -> None:
    track = _box_track([(0, [0, 0, 10, 10], False), (4, [0, 0, 10, 10], False)], rotation=[350.0, 10.0])
    rot = {s.frame: s.rotation for s in interpolate_track(track, stop_frame=4)}
    assert math.isclose(rot[2], 0.0, abs_tol=1e-9)
    assert math.isclose(rot[1], 355.0) and math.isclose(rot[3], 5.0)


def test_mutable_attributes_carry_over_between_keyframes() -> None:
    shapes = [
        TrackedShape(ShapeType.RECTANGLE, 0, [0, 0, 1, 1], attributes=[AttributeVal(11, "true")]),
        TrackedShape(ShapeType.RECTANGLE, 2, [0, 0, 1, 1], attributes=[AttributeVal(12, "5")]),
    ]
    track = LabeledTrack(frame=0, label_id=1, shapes=shapes, attributes=[AttributeVal(10, "red")])
    out = list(track_to_shapes(track, stop_frame=3))
    attrs = {s.frame: {(a.spec_id, a.value) for a in s.attributes} for s, _ in out}
    assert attrs[1] == {(10, "red"), (11, "true")}
    assert attrs[3] == {(10, "red"), (11, "true"), (12, "5")}


def test_polygons_with_different_point_counts_interpolate() -> None:
    square = [0.0, 0, 10, 0, 10, 10, 0, 10]
    pentagon = [0.0, 0, 10, 0, 10, 5, 10, 10, 0, 10]
    mid = interpolate_points(ShapeType.POLYGON, square, pentagon, 0.5)
    assert len(mid) % 2 == 0 and len(mid) >= 8
    # the same outline sampled twice stays the same outline
    xs, ys = mid[0::2], mid[1::2]
    assert min(xs) == 0 and max(xs) == 10 and min(ys) == 0 and max(ys) == 10
    moved = interpolate_points(ShapeType.POLYLINE, [0.0, 0, 10, 0], [0.0, 10, 5, 10, 10, 10], 0.5)
    assert moved[1] == 5 and moved[-1] == 5 and moved[0] == 0 and moved[-2] == 10


def test_skeleton_tracks_interpolate_elements_and_mark_missing_ones_outside() -> None:
    track = LabeledTrack(
        frame=0,
        label_id=3,
        shapes=[TrackedShape(ShapeType.SKELETON, 0, []), TrackedShape(ShapeType.SKELETON, 4, [])],
        elements=[
            LabeledTrack(
                frame=0,
                label_id=31,
                shapes=[TrackedShape(ShapeType.POINTS, 0, [0, 0]), TrackedShape(ShapeType.POINTS, 4, [4, 8])],
            ),
            LabeledTrack(frame=2, label_id=32, shapes=[TrackedShape(ShapeType.POINTS, 2, [1, 1])]),
        ],
    )
    out = {s.frame: s for s, _ in track_to_shapes(track, stop_frame=4)}
    assert [e.label_id for e in out[1].elements] == [31, 32]
    assert out[1].elements[0].points == [1, 2]
    assert out[1].elements[1].outside is True
    assert out[3].elements[1].outside is False and out[3].elements[1].points == [1, 1]


def test_shapes_to_tracks_closes_gaps_and_ends() -> None:
    shapes = [
        LabeledShape(ShapeType.RECTANGLE, f, 1, [f, 0, f + 1, 1], attributes=[AttributeVal(10, "red")])
        for f in (0, 1, 2, 5, 6)
    ]
    plain = LabeledShape(ShapeType.RECTANGLE, 0, 1, [0, 0, 1, 1])
    tracks, rest = shapes_to_tracks(
        [*shapes, plain],
        key=lambda s: 7 if s is not plain else None,
        labels={1: _car()},
        stop_frame=9,
    )
    assert rest == [plain]
    (track,) = tracks
    assert [(k.frame, k.outside) for k in track.shapes] == [
        (0, False),
        (1, False),
        (2, False),
        (3, True),
        (5, False),
        (6, False),
        (7, True),
    ]
    assert track.attributes == [AttributeVal(10, "red")]  # immutable -> the track
    visible = [s.frame for s, _ in track_to_shapes(track, stop_frame=9)]
    assert visible == [0, 1, 2, 5, 6]


def _car() -> LabelSpec:
    from annotation_helpers import make_labels

    return make_labels()[0]


# --------------------------------------------------------------------------- properties

coord = st.floats(min_value=-1000, max_value=1000, allow_nan=False, allow_infinity=False)


@st.composite
def box_tracks(draw: st.DrawFn) -> LabeledTrack:
    n = draw(st.integers(min_value=1, max_value=6))
    frames = sorted(draw(st.sets(st.integers(min_value=0, max_value=60), min_size=n, max_size=n)))
    shapes = []
    for f in frames:
        x, y = draw(coord), draw(coord)
        w, h = draw(st.floats(0, 300)), draw(st.floats(0, 300))
        shapes.append(
            TrackedShape(
                ShapeType.RECTANGLE,
                f,
                [x, y, x + w, y + h],
                outside=draw(st.booleans()),
                rotation=draw(st.floats(0, 359.9)),
            )
        )
    return LabeledTrack(frame=frames[0], label_id=1, shapes=shapes)


@settings(max_examples=150, deadline=None)
@given(box_tracks())
def test_keyframes_are_reproduced_exactly(track: LabeledTrack) -> None:
    out = {s.frame: s for s in interpolate_track(track, stop_frame=70, include_outside=True)}
    for key in track.shapes:
        got = out[key.frame]
        assert got.keyframe
        assert got.points == key.points and got.rotation == key.rotation and got.outside == key.outside


@settings(max_examples=150, deadline=None)
@given(box_tracks())
def test_interpolated_boxes_stay_within_the_keyframes_hull(track: LabeledTrack) -> None:
    keys = track.shapes
    for shape in interpolate_track(track, stop_frame=70):
        before = [k for k in keys if k.frame <= shape.frame][-1]
        after = next((k for k in keys if k.frame >= shape.frame), before)
        for i, v in enumerate(shape.points):
            lo, hi = min(before.points[i], after.points[i]), max(before.points[i], after.points[i])
            assert lo - 1e-6 <= v <= hi + 1e-6
        assert 0.0 <= shape.rotation <= 360.0


@settings(max_examples=150, deadline=None)
@given(box_tracks())
def test_outside_frames_produce_no_shapes(track: LabeledTrack) -> None:
    keys = track.shapes
    produced = {s.frame for s, _ in track_to_shapes(track, stop_frame=70)}
    for frame in range(71):
        before = [k for k in keys if k.frame <= frame]
        hidden = not before or before[-1].outside
        assert (frame in produced) == (not hidden), frame


@settings(max_examples=100, deadline=None)
@given(
    st.lists(st.tuples(coord, coord), min_size=3, max_size=12),
    st.lists(st.tuples(coord, coord), min_size=3, max_size=12),
)
def test_polygon_track_keyframes_are_exact_and_midframes_have_points(
    a: list[tuple[float, float]], b: list[tuple[float, float]]
) -> None:
    pa = [v for p in a for v in p]
    pb = [v for p in b for v in p]
    track = LabeledTrack(
        frame=0,
        label_id=1,
        shapes=[TrackedShape(ShapeType.POLYGON, 0, pa), TrackedShape(ShapeType.POLYGON, 4, pb)],
    )
    out = {s.frame: s for s in interpolate_track(track, stop_frame=4)}
    assert out[0].points == pa and out[4].points == pb
    for f in (1, 2, 3):
        assert len(out[f].points) >= 6 and len(out[f].points) % 2 == 0
        assert all(math.isfinite(v) for v in out[f].points)

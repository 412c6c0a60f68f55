"""Writes tests/vectors/interpolation.json: tracks (in CVAT's API JSON) and what the server's
interpolation engine makes of them, frame by frame, so that the web UI's port
(frontend/src/annotation/interpolation.ts, tested by Vitest) and the engine (tested by
tests/unit/annotations/test_interpolation_vectors.py) are held to the same numbers.

``expected`` is every frame ``_walk`` yields from the first keyframe to ``stop_frame`` (outside
frames too); skeleton frames carry their elements as ``interpolate_track`` builds them. Floats
are written with ``repr`` and read back bit for bit by both languages.

Run: ``.venv/bin/python tests/vectors/make_interpolation_vectors.py`` (after an intended change
to the engine; the pytest test fails until the file is regenerated).
"""

from __future__ import annotations

import json
import random
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from cvat_serverless.domain.annotations import LabeledData, LabeledTrack, ShapeType
from cvat_serverless.domain.interpolation import FrameShape, _walk, interpolate_points

VECTORS = Path(__file__).with_name("interpolation.json")

Json = dict[str, Any]


# --------------------------------------------------------------------------- building tracks


def key(
    type_: str,
    frame: int,
    points: Sequence[float],
    *,
    outside: bool = False,
    occluded: bool = False,
    z_order: int = 0,
    rotation: float = 0.0,
    attributes: dict[int, str] | None = None,
) -> Json:
    return {
        "type": type_,
        "frame": frame,
        "occluded": occluded,
        "outside": outside,
        "z_order": z_order,
        "rotation": rotation,
        "points": list(points),
        "attributes": [{"spec_id": k, "value": v} for k, v in (attributes or {}).items()],
    }


def track(
    shapes: list[Json],
    *,
    label_id: int = 1,
    attributes: dict[int, str] | None = None,
    elements: list[Json] | None = None,
) -> Json:
    return {
        "frame": min((s["frame"] for s in shapes), default=0),
        "label_id": label_id,
        "group": 0,
        "source": "manual",
        "attributes": [{"spec_id": k, "value": v} for k, v in (attributes or {}).items()],
        "shapes": shapes,
        "elements": elements or [],
    }


def element(label_id: int, keys: list[tuple[int, float, float, bool]], occluded_on: tuple[int, ...] = ()) -> Json:
    shapes = [key("points", f, [x, y], outside=o, occluded=f in occluded_on) for f, x, y, o in keys]
    return track(shapes, label_id=label_id)


def _rect_cases() -> list[tuple[str, Json, int]]:
    r = "rectangle"
    return [
        ("rectangle moves linearly and holds", track([key(r, 0, [0, 0, 10, 10]), key(r, 10, [10, 20, 30, 40])]), 13),
        ("rectangle with thirds", track([key(r, 3, [1.5, 2.25, 7.1, 9.3]), key(r, 6, [2.7, 0.1, 9.9, 12.4])]), 7),
        (
            "rotation the short way over 0",
            track([key(r, 0, [0, 0, 4, 4], rotation=350.0), key(r, 4, [0, 0, 4, 4], rotation=10.0)]),
            5,
        ),
        (
            "rotation backwards over 0",
            track([key(r, 0, [0, 0, 4, 4], rotation=10.0), key(r, 6, [2, 2, 6, 6], rotation=330.5)]),
            6,
        ),
        (
            "rotation fractional",
            track([key(r, 0, [0, 0, 4, 4], rotation=33.3), key(r, 7, [5, 5, 9, 9], rotation=271.7)]),
            8,
        ),
        (
            "rotation next to 360 becomes 0",
            track(
                [key(r, 0, [0, 0, 1, 1], rotation=359.99999999995), key(r, 2, [0, 0, 1, 1], rotation=359.99999999995)]
            ),
            2,
        ),
        (
            "rotation from 0 to 180",
            track([key(r, 0, [0, 0, 1, 1], rotation=0.0), key(r, 4, [0, 0, 1, 1], rotation=180.0)]),
            4,
        ),
        ("adjacent keyframes", track([key(r, 5, [0, 0, 1, 1]), key(r, 6, [1, 1, 2, 2]), key(r, 7, [3, 3, 4, 4])]), 8),
        ("stop frame mid interpolation", track([key(r, 0, [0, 0, 10, 10]), key(r, 10, [10, 10, 20, 20])]), 4),
        ("stop frame before the first keyframe", track([key(r, 5, [0, 0, 10, 10])]), 3),
        ("single keyframe held", track([key(r, 2, [1.25, 2.5, 3.75, 5.0], rotation=12.5)]), 6),
        ("single keyframe on the stop frame", track([key(r, 4, [1, 2, 3, 4])]), 4),
        (
            "keyframes not sorted in the JSON",
            track([key(r, 8, [8, 8, 9, 9]), key(r, 0, [0, 0, 1, 1]), key(r, 4, [4, 4, 5, 5])]),
            9,
        ),
        (
            "two keyframes on one frame",
            track(
                [
                    key(r, 0, [0, 0, 1, 1]),
                    key(r, 3, [3, 3, 4, 4]),
                    key(r, 3, [6, 6, 7, 7], attributes={5: "x"}),
                    key(r, 6, [0, 0, 1, 1]),
                ]
            ),
            7,
        ),
        (
            "outside and re-entry",
            track(
                [
                    key(r, 2, [0, 0, 10, 10]),
                    key(r, 5, [4, 4, 14, 14], outside=True),
                    key(r, 9, [8, 8, 18, 18]),
                    key(r, 11, [9, 9, 19, 19]),
                ]
            ),
            13,
        ),
        ("outside first keyframe", track([key(r, 0, [0, 0, 2, 2], outside=True), key(r, 3, [1, 1, 3, 3])]), 5),
        ("outside last keyframe", track([key(r, 0, [0, 0, 2, 2]), key(r, 3, [1, 1, 3, 3], outside=True)]), 6),
        (
            "occluded and z_order are the earlier keyframe's",
            track(
                [
                    key(r, 0, [0, 0, 2, 2], occluded=True, z_order=2),
                    key(r, 2, [2, 2, 4, 4], z_order=-1),
                    key(r, 4, [4, 4, 6, 6], occluded=True, z_order=5),
                ]
            ),
            6,
        ),
        (
            "mutable attributes carry over",
            track(
                [
                    key(r, 0, [0, 0, 1, 1], attributes={11: "true", 12: "5"}),
                    key(r, 2, [0, 0, 1, 1], attributes={12: "6"}),
                    key(r, 4, [0, 0, 1, 1], attributes={13: "a"}),
                    key(r, 5, [0, 0, 1, 1], outside=True, attributes={11: "false"}),
                    key(r, 7, [0, 0, 1, 1]),
                ],
                attributes={10: "red"},
            ),
            8,
        ),
        ("long gap", track([key(r, 0, [0.1, 0.2, 0.3, 0.4]), key(r, 997, [997.3, 12.0, 1001.7, 99.9])]), 40),
    ]


def _shape_cases() -> list[tuple[str, Json, int]]:
    pg, pl, pt = "polygon", "polyline", "points"
    ellipse = "ellipse"
    cube = [10, 10, 10, 30, 30, 10, 30, 30, 40, 5, 40, 25, 20, 5, 20, 25]
    cube2 = [12.5, 11, 12.5, 33, 35, 11, 35, 33, 45.25, 6, 45.25, 28, 22, 6, 22, 28]
    return [
        (
            "ellipse with rotation",
            track(
                [key(ellipse, 0, [50, 50, 70, 40], rotation=20.0), key(ellipse, 5, [60, 55, 90, 35], rotation=300.0)]
            ),
            6,
        ),
        ("cuboid", track([key("cuboid", 0, cube), key("cuboid", 3, cube2)]), 4),
        (
            "polygon same count",
            track([key(pg, 0, [0, 0, 10, 0, 10, 10, 0, 10]), key(pg, 4, [2, 1, 13, 2, 12, 14, 1, 11])]),
            4,
        ),
        (
            "polygon 3 to 6 vertices",
            track([key(pg, 0, [0, 0, 10, 0, 5, 8]), key(pg, 5, [0, 0, 4, 0, 8, 0, 10, 5, 6, 9, 1, 4])]),
            5,
        ),
        (
            "polygon 7 to 4 vertices",
            track(
                [key(pg, 1, [3, 1, 7, 2, 9, 5, 8, 9, 4, 10, 1, 7, 1, 3]), key(pg, 4, [20, 20, 30, 20, 30, 30, 20, 30])]
            ),
            4,
        ),
        (
            "polygon reversed orientation",
            track([key(pg, 0, [0, 0, 10, 0, 10, 10, 0, 10]), key(pg, 3, [0, 0, 0, 10, 10, 10, 10, 0])]),
            3,
        ),
        (
            "polygon repeated vertices",
            track([key(pg, 0, [0, 0, 0, 0, 10, 0, 10, 0, 10, 10, 0, 10]), key(pg, 2, [1, 1, 11, 1, 11, 11, 1, 11])]),
            2,
        ),
        (
            "polygon collapsed to one point",
            track([key(pg, 0, [5, 5, 5, 5, 5, 5]), key(pg, 4, [0, 0, 10, 0, 10, 10, 0, 10])]),
            4,
        ),
        ("polyline same count", track([key(pl, 0, [0, 0, 10, 0, 20, 5]), key(pl, 4, [0, 10, 10, 12, 25, 8])]), 4),
        (
            "polyline 2 to 5 vertices",
            track([key(pl, 0, [0, 0, 30, 0]), key(pl, 6, [0, 0, 5, 5, 10, 0, 15, 5, 20, 0])]),
            6,
        ),
        ("polyline repeated vertices", track([key(pl, 0, [0, 0, 0, 0, 0, 0]), key(pl, 3, [0, 0, 3, 0, 6, 0])]), 3),
        ("points equal count", track([key(pt, 0, [1, 1, 5, 5, 9, 9]), key(pt, 4, [2, 3, 7, 4, 10.5, 12])]), 4),
        ("points 1 to 3", track([key(pt, 0, [4, 4]), key(pt, 3, [0, 0, 4, 8, 8, 0])]), 3),
        ("points 4 to 2", track([key(pt, 0, [0, 0, 1, 0, 2, 0, 3, 0]), key(pt, 2, [0, 5, 9, 5])]), 2),
        (
            "mask does not move",
            track([key("mask", 0, [2, 3, 1, 5, 10, 7, 11]), key("mask", 3, [1, 1, 2, 14, 15, 15, 16])]),
            5,
        ),
    ]


def _skeleton_cases() -> list[tuple[str, Json, int]]:
    sk = "skeleton"
    full = track(
        [key(sk, 0, []), key(sk, 4, [])],
        label_id=50,
        elements=[
            element(51, [(0, 1.0, 1.0, False), (4, 5.0, 9.0, False)]),
            element(52, [(0, 10.0, 10.0, False), (4, 2.0, 3.5, False)], occluded_on=(0,)),
        ],
    )
    missing = track(
        [key(sk, 0, []), key(sk, 3, [], occluded=True), key(sk, 6, [], outside=True), key(sk, 8, [])],
        label_id=50,
        elements=[
            element(51, [(0, 1.0, 1.0, False), (6, 7.0, 1.0, False)]),
            element(52, [(2, 4.0, 4.0, False), (5, 1.0, 8.0, False)], occluded_on=(2,)),  # starts late
            element(53, [(0, 3.0, 3.0, False), (2, 5.0, 5.0, True), (7, 6.0, 6.0, False)]),  # leaves, comes back
            element(54, []),  # never annotated
            element(55, [(20, 9.0, 9.0, False)]),  # first keyframe after stop_frame
        ],
    )
    return [("skeleton all elements keyed", full, 5), ("skeleton with missing element keyframes", missing, 10)]


def _random_cases(seed: int) -> list[tuple[str, Json, int]]:
    rnd = random.Random(seed)

    def coords(n: int) -> list[float]:
        return [round(rnd.uniform(-50, 1950), rnd.choice([0, 1, 2, 3, 7])) for _ in range(2 * n)]

    out: list[tuple[str, Json, int]] = []
    for i in range(10):
        type_ = ("polygon", "polyline", "points")[i % 3]
        minimum = 3 if type_ == "polygon" else (2 if type_ == "polyline" else 1)
        frames = sorted(rnd.sample(range(0, 30), 3))
        keys = [key(type_, f, coords(rnd.randint(minimum, 12))) for f in frames]
        out.append((f"random {type_} {i}", track(keys), frames[-1] + 1))
    for i in range(3):
        frames = sorted(rnd.sample(range(0, 25), 3))
        keys = []
        for f in frames:
            x, y = coords(1)
            box = [x, y, x + rnd.uniform(1, 300), y + rnd.uniform(1, 300)]
            keys.append(key("rectangle", f, box, rotation=round(rnd.uniform(0, 360), rnd.choice([0, 2, 9]))))
        out.append((f"random rotated rectangle {i}", track(keys), frames[-1] + 2))
    return out


def cases() -> list[tuple[str, Json, int]]:
    return [*_rect_cases(), *_shape_cases(), *_skeleton_cases(), *_random_cases(14)]


def points_cases() -> list[Json]:
    """Direct ``interpolate_points`` calls: random outlines at awkward fractions."""
    rnd = random.Random(1414)
    out: list[Json] = []
    for i in range(24):
        type_ = ("polygon", "polyline", "points")[i % 3]
        na, nb = rnd.randint(1, 15), rnd.randint(1, 15)
        if type_ == "polygon":
            na, nb = max(na, 3), max(nb, 3)
        a = [round(rnd.uniform(0, 4000), rnd.choice([0, 2, 12])) for _ in range(2 * na)]
        b = [round(rnd.uniform(0, 4000), rnd.choice([0, 2, 12])) for _ in range(2 * nb)]
        if i % 8 == 7:  # some repeated vertices
            a[2:4] = a[0:2]
        t = rnd.choice([0.0, 1.0, 1 / 3, 2 / 7, 0.5, rnd.random()])
        out.append({"name": f"{type_} {na} to {nb} vertices", "type": type_, "a": a, "b": b, "t": t})
    return out


# --------------------------------------------------------------------------- expected values


def parse_track(raw: Json) -> LabeledTrack:
    return LabeledData.from_dict({"version": 0, "tags": [], "shapes": [], "tracks": [raw]}).tracks[0]


def _state(fs: FrameShape) -> Json:
    return {
        "frame": fs.frame,
        "points": list(fs.points),
        "rotation": fs.rotation,
        "occluded": fs.occluded,
        "outside": fs.outside,
        "z_order": fs.z_order,
        "keyframe": fs.keyframe,
        "attributes": [{"spec_id": a.spec_id, "value": a.value} for a in fs.attributes],
    }


def expected_frames(raw: Json, stop_frame: int) -> list[Json]:
    """What ``_walk`` yields, with skeleton elements as ``interpolate_track`` makes them."""
    parsed = parse_track(raw)
    walks = [{s.frame: s for s in _walk(e.shapes, stop_frame)} for e in parsed.elements]
    firsts = [w[min(w)] if w else None for w in walks]
    out: list[Json] = []
    for fs in _walk(parsed.shapes, stop_frame):
        state = _state(fs)
        elements: list[Json] = []
        for e, walked, first in zip(parsed.elements, walks, firsts, strict=True):
            found = walked.get(fs.frame)
            if found is None:
                base = first or FrameShape(fs.frame, ShapeType.POINTS, [0.0, 0.0])
                found = FrameShape(fs.frame, base.type, list(base.points), base.occluded, True)
            elements.append(
                {
                    "label_id": e.label_id,
                    "points": list(found.points),
                    "occluded": found.occluded,
                    "outside": found.outside,
                }
            )
        state["elements"] = elements
        out.append(state)
    return out


def build() -> Json:
    return {
        "about": "Generated by tests/vectors/make_interpolation_vectors.py from the server's interpolation engine;"
        " do not edit by hand.",
        "tracks": [
            {"name": name, "stop_frame": stop, "track": raw, "expected": expected_frames(raw, stop)}
            for name, raw, stop in cases()
        ],
        "points": [
            {**c, "expected": interpolate_points(ShapeType(c["type"]), c["a"], c["b"], c["t"])} for c in points_cases()
        ],
    }


def render(data: Json) -> str:
    """A track, a frame or a points case per line: readable diffs, exact floats (``json`` writes
    ``repr``)."""

    def one(value: Any) -> str:
        return json.dumps(value, allow_nan=False, separators=(",", ":"))

    tracks = []
    for t in data["tracks"]:
        frames = ",\n".join(f"    {one(f)}" for f in t["expected"])
        head = f'  {{"name":{one(t["name"])},"stop_frame":{t["stop_frame"]},\n   "track":{one(t["track"])},'
        tracks.append(f'{head}\n   "expected":[\n{frames}\n   ]}}' if frames else f'{head}\n   "expected":[]}}')
    points = ",\n".join(f"  {one(c)}" for c in data["points"])
    return (
        f'{{"about":{one(data["about"])},\n "tracks":[\n'
        + ",\n".join(tracks)
        + f'\n ],\n "points":[\n{points}\n ]\n}}\n'
    )


if __name__ == "__main__":
    VECTORS.write_text(render(build()), encoding="utf-8")
    print(f"wrote {VECTORS}")

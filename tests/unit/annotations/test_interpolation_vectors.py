"""The shared interpolation vectors (tests/vectors/interpolation.json) are what the engine computes
today: the web UI's port is tested against the same file, so an engine change that does not
regenerate the file fails here, and one that does fails the UI's tests until the port follows."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from cvat_serverless.domain.interpolation import interpolate_track

VECTORS_DIR = Path(__file__).resolve().parents[2] / "vectors"


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "make_interpolation_vectors", VECTORS_DIR / "make_interpolation_vectors.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


GEN = _generator()
STORED: dict[str, Any] = json.loads((VECTORS_DIR / "interpolation.json").read_text(encoding="utf-8"))


def test_the_file_is_what_the_engine_computes_now() -> None:
    # text equality: catches a changed bit (and -0.0 vs 0.0) that == on floats would not
    assert GEN.render(GEN.build()) == (VECTORS_DIR / "interpolation.json").read_text(encoding="utf-8")


def test_the_vectors_cover_what_the_port_must_get_right() -> None:
    tracks = STORED["tracks"]
    assert len(tracks) >= 40 and len(STORED["points"]) >= 20
    states = [s for t in tracks for s in t["expected"]]
    types = {k["type"] for t in tracks for k in t["track"]["shapes"]}
    assert types == {"rectangle", "ellipse", "cuboid", "polygon", "polyline", "points", "mask", "skeleton"}
    assert any(s["outside"] and not s["keyframe"] for s in states)  # held outside in-between frames
    assert any(s["rotation"] == 0.0 and not s["keyframe"] for s in states)
    assert any(e["outside"] for s in states for e in s["elements"])
    assert any(t["expected"] == [] for t in tracks)
    polys = [t for t in tracks if t["track"]["shapes"][0]["type"] in ("polygon", "polyline", "points")]
    assert any(len({len(k["points"]) for k in t["track"]["shapes"]}) > 1 for t in polys)  # counts differ


@pytest.mark.parametrize("case", STORED["tracks"], ids=[t["name"] for t in STORED["tracks"]])
def test_interpolate_track_agrees_with_the_vectors(case: dict[str, Any]) -> None:
    """The public API's frames are the walk's visible frames and outside keyframes, with the
    vectors' numbers and elements (the vectors are built from the private walk)."""
    track = GEN.parse_track(case["track"])
    expected = {s["frame"]: s for s in case["expected"]}  # the last state of a frame wins, as a dict of the walk
    shown = list(interpolate_track(track, stop_frame=case["stop_frame"], include_outside=True))
    wanted = [s for s in case["expected"] if not s["outside"] or s["keyframe"]]
    assert [s.frame for s in shown] == [s["frame"] for s in wanted]
    for got, want in zip(shown, wanted, strict=True):
        assert list(got.points) == want["points"] and got.rotation == want["rotation"]
        assert (got.outside, got.occluded, got.keyframe) == (want["outside"], want["occluded"], want["keyframe"])
        elements = [
            {"label_id": label, "points": list(e.points), "occluded": e.occluded, "outside": e.outside}
            for e, label in zip(got.elements, got.element_label_ids, strict=True)
        ]
        assert elements == expected[got.frame]["elements"] == want["elements"]

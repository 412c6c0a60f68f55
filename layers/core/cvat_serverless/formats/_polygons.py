"""Masks to polygons (CVAT's ``conv_mask_to_poly`` on import): each 4-connected region of a mask
becomes one polygon that follows its outer pixel edges; holes are dropped, as polygons have none.

The outline is traced on pixel corners, so it is exact (no smoothing, no lost pixels); points on a
straight run are dropped. numpy is imported inside the functions (see the package docstring).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from cvat_serverless.domain.annotations import LabeledData, LabeledShape, ShapeType, TrackedShape

from .common import cvat_mask_to_bitmap

Point = tuple[int, int]


def mask_to_polygons(points: Sequence[float], width: int, height: int) -> list[list[float]]:
    """The polygons (flat ``[x1, y1, x2, y2, ...]``) of a CVAT mask on a ``width`` x ``height``
    frame, largest first."""
    import numpy as np

    bitmap = cvat_mask_to_bitmap(points, width, height)
    ys, xs = np.nonzero(bitmap)
    if ys.size == 0:
        return []
    top, left = int(ys.min()), int(xs.min())
    crop = bitmap[top:int(ys.max()) + 1, left:int(xs.max()) + 1]
    loops = [loop for loop in _outlines(crop) if _area(loop) > 0]
    loops.sort(key=_area, reverse=True)
    return [[float(v) for x, y in loop for v in (x + left, y + top)] for loop in loops]


def _outlines(mask: Any) -> list[list[Point]]:
    """Closed loops of pixel edges with the region on their right (outer boundaries run
    clockwise on screen, holes the other way)."""
    import numpy as np

    b = np.pad(np.asarray(mask, dtype=bool), 1)
    inner = b[1:-1, 1:-1]
    starts: dict[Point, list[Point]] = {}

    def add(cells: Any, dx0: int, dy0: int, dx1: int, dy1: int) -> None:
        ys, xs = np.nonzero(cells)
        for y, x in zip(ys.tolist(), xs.tolist(), strict=True):
            starts.setdefault((x + dx0, y + dy0), []).append((x + dx1, y + dy1))

    add(inner & ~b[:-2, 1:-1], 0, 0, 1, 0)  # top edge, left to right
    add(inner & ~b[1:-1, 2:], 1, 0, 1, 1)  # right edge, downwards
    add(inner & ~b[2:, 1:-1], 1, 1, 0, 1)  # bottom edge, right to left
    add(inner & ~b[1:-1, :-2], 0, 1, 0, 0)  # left edge, upwards
    loops = []
    while starts:
        first = next(iter(starts))
        loop, at, heading = [first], first, (0, 0)
        while True:
            ends = starts[at]
            # two regions touching at a corner: turn right, staying with the current pixel
            right_turn = (at[0] - heading[1], at[1] + heading[0])
            end = right_turn if right_turn in ends and len(ends) > 1 else ends[0]
            ends.remove(end)
            if not ends:
                del starts[at]
            heading = (end[0] - at[0], end[1] - at[1])
            at = end
            if at == first:  # a closed loop (a region touching itself at a corner closes in two)
                break
            loop.append(at)
        loops.append(_corners(loop))
    return loops


def _corners(loop: list[Point]) -> list[Point]:
    """The loop without the points in the middle of a straight run."""
    n = len(loop)
    out = []
    for i, (x, y) in enumerate(loop):
        px, py = loop[i - 1]
        nx, ny = loop[(i + 1) % n]
        if (x - px) * (ny - y) - (y - py) * (nx - x) != 0:
            out.append((x, y))
    return out


def _area(loop: Sequence[Point]) -> float:
    """Twice the signed area; positive for a loop that runs clockwise on screen (y down)."""
    return sum(x0 * y1 - x1 * y0 for (x0, y0), (x1, y1) in zip(loop, [*loop[1:], loop[0]], strict=True)) / 2


def masks_to_polygons(data: LabeledData, sizes: dict[int, tuple[int, int]]) -> LabeledData:
    """``data`` with every mask shape replaced by its regions' polygons (a region too small for a
    polygon, and an empty mask, is dropped). Masks in tracks become polygons of the track's
    keyframes only when the track's every shape converts to one polygon; other tracks keep masks.
    ``sizes``: frame -> (width, height)."""
    shapes: list[LabeledShape] = []
    for shape in data.shapes:
        if shape.type != ShapeType.MASK:
            shapes.append(shape)
            continue
        width, height = sizes[shape.frame]
        for polygon in mask_to_polygons(shape.points, width, height):
            if len(polygon) >= 6:
                shapes.append(replace(shape, type=ShapeType.POLYGON, points=polygon, id=None, rotation=0.0))
    tracks = []
    for track in data.tracks:
        converted: list[TrackedShape] = []
        for ts in track.shapes:
            if ts.type != ShapeType.MASK:
                converted.append(ts)
                continue
            width, height = sizes[ts.frame]
            polygons = mask_to_polygons(ts.points, width, height) if not ts.outside else [[]]
            if len(polygons) != 1:
                converted = []
                break
            converted.append(replace(ts, type=ShapeType.POLYGON, points=polygons[0] or list(ts.points[:6])))
        tracks.append(replace(track, shapes=converted) if converted else track)
    return replace(data, shapes=shapes, tracks=tracks)

"""Masks to polygons (conv_mask_to_poly): exact outlines of each region, holes dropped."""

from __future__ import annotations

import numpy as np

from cvat_serverless.domain.annotations import LabeledData, LabeledShape, ShapeType
from cvat_serverless.formats._polygons import mask_to_polygons, masks_to_polygons
from cvat_serverless.formats.common import bitmap_to_cvat_mask


def polygon_pixels(polygon: list[float], width: int, height: int) -> set[tuple[int, int]]:
    """The pixel centres inside a polygon (even-odd rule)."""
    xs, ys = polygon[0::2], polygon[1::2]
    inside = set()
    for py in range(height):
        for px in range(width):
            cx, cy, hit = px + 0.5, py + 0.5, False
            for i in range(len(xs)):
                x0, y0, x1, y1 = xs[i - 1], ys[i - 1], xs[i], ys[i]
                if (y0 > cy) != (y1 > cy) and cx < x0 + (cy - y0) * (x1 - x0) / (y1 - y0):
                    hit = not hit
            if hit:
                inside.add((px, py))
    return inside


def test_each_region_becomes_one_exact_polygon():
    mask = np.zeros((10, 12), dtype=bool)
    mask[2:5, 3:7] = True  # a box
    mask[6:9, 1:3] = True  # an L
    mask[7, 1] = False
    mask[5, 8] = True  # one pixel, touching the box only at a corner
    polygons = mask_to_polygons(bitmap_to_cvat_mask(mask), 12, 10)
    assert len(polygons) == 3
    assert polygons[0] == [3.0, 2.0, 7.0, 2.0, 7.0, 5.0, 3.0, 5.0]
    covered = set().union(*(polygon_pixels(p, 12, 10) for p in polygons))
    assert covered == {(int(x), int(y)) for y, x in zip(*np.nonzero(mask), strict=True)}


def test_holes_are_dropped_and_diagonal_neighbours_stay_apart():
    ring = np.ones((5, 5), dtype=bool)
    ring[2, 2] = False
    assert mask_to_polygons(bitmap_to_cvat_mask(ring), 5, 5) == [[0.0, 0.0, 5.0, 0.0, 5.0, 5.0, 0.0, 5.0]]
    diagonal = np.zeros((4, 4), dtype=bool)
    diagonal[0, 0] = diagonal[1, 1] = True
    assert len(mask_to_polygons(bitmap_to_cvat_mask(diagonal), 4, 4)) == 2


def test_masks_in_labeled_data_are_replaced():
    mask = np.zeros((6, 6), dtype=bool)
    mask[1:3, 1:3] = True
    mask[4:6, 4:6] = True
    data = LabeledData(shapes=[
        LabeledShape(type=ShapeType.MASK, frame=0, label_id=1, points=bitmap_to_cvat_mask(mask) or []),
        LabeledShape(type=ShapeType.RECTANGLE, frame=0, label_id=1, points=[0, 0, 1, 1])])
    out = masks_to_polygons(data, {0: (6, 6)})
    assert [s.type for s in out.shapes] == [ShapeType.POLYGON, ShapeType.POLYGON, ShapeType.RECTANGLE]

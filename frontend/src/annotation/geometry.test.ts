// Bounding boxes and hit tests over CVAT's points encodings.
import { describe, expect, it } from "vitest";
import {
  area,
  bbox,
  bboxOfObject,
  clampPoints,
  distanceToOutline,
  distanceToSegment,
  hit,
  maskOf,
  normalizeRect,
  pointInPolygon,
  rectangleCorners,
  rotatePoint,
  type Box,
} from "./geometry";
import { encodeMask } from "./mask";
import type { FrameElement, FrameObject, ShapeType } from "./model";
import { frameObject } from "./testing";

function object(type: ShapeType, points: number[], extra: Partial<FrameObject> = {}): FrameObject {
  return frameObject({ type, points, ...extra });
}

function close(box: Box, want: [number, number, number, number]): void {
  expect(box.x1).toBeCloseTo(want[0], 9);
  expect(box.y1).toBeCloseTo(want[1], 9);
  expect(box.x2).toBeCloseTo(want[2], 9);
  expect(box.y2).toBeCloseTo(want[3], 9);
}

describe("helpers", () => {
  it("rotates clockwise on screen (y down), as the server's rotated_box", () => {
    const q = rotatePoint({ x: 10, y: 0 }, { x: 0, y: 0 }, 90);
    expect(q.x).toBeCloseTo(0, 12);
    expect(q.y).toBeCloseTo(10, 12);
  });

  it("normalises and clamps", () => {
    expect(normalizeRect([10, 20, 5, 2])).toEqual([5, 2, 10, 20]);
    expect(clampPoints([-3, 5, 120, -1, 50, 70], 100, 60)).toEqual([0, 5, 100, 0, 50, 60]);
  });

  it("measures distance to segments and outlines", () => {
    expect(distanceToSegment({ x: 5, y: 3 }, { x: 0, y: 0 }, { x: 10, y: 0 })).toBe(3);
    expect(distanceToSegment({ x: -3, y: 4 }, { x: 0, y: 0 }, { x: 10, y: 0 })).toBe(5);
    expect(distanceToSegment({ x: 3, y: 4 }, { x: 0, y: 0 }, { x: 0, y: 0 })).toBe(5);
    const square = [0, 0, 10, 0, 10, 10, 0, 10];
    expect(distanceToOutline({ x: -2, y: 5 }, square, true)).toBe(2);
    expect(distanceToOutline({ x: -2, y: 5 }, square, false)).toBeCloseTo(Math.hypot(2, 5), 12); // no closing edge
  });

  it("tells inside from outside by the even-odd rule", () => {
    const square = [0, 0, 10, 0, 10, 10, 0, 10];
    expect(pointInPolygon({ x: 5, y: 5 }, square)).toBe(true);
    expect(pointInPolygon({ x: 11, y: 5 }, square)).toBe(false);
    const bowtie = [0, 0, 10, 10, 10, 0, 0, 10];
    expect(pointInPolygon({ x: 2, y: 5 }, bowtie)).toBe(true); // the left lobe
    expect(pointInPolygon({ x: 5, y: 2 }, bowtie)).toBe(false); // between the lobes
  });
});

describe("bbox", () => {
  it("rectangles, turned about their centre", () => {
    close(bbox("rectangle", [10, 20, 0, 0], 0), [0, 0, 10, 20]);
    close(bbox("rectangle", [0, 0, 20, 10], 90), [5, -5, 15, 15]);
    const r = Math.SQRT2 * 5;
    close(bbox("rectangle", [0, 0, 10, 10], 45), [5 - r, 5 - r, 5 + r, 5 + r]);
  });

  it("ellipses [cx, cy, cx + rx, cy - ry], turned", () => {
    close(bbox("ellipse", [50, 50, 70, 40], 0), [30, 40, 70, 60]);
    close(bbox("ellipse", [50, 50, 70, 40], 90), [40, 30, 60, 70]);
    // a turned ellipse's box is tighter than the box of its turned box
    const turned = bbox("ellipse", [0, 0, 10, -2], 30);
    const loose = bbox("rectangle", [-10, -2, 10, 2], 30);
    expect(turned.x2).toBeLessThan(loose.x2);
    expect(turned.y2).toBeLessThan(loose.y2);
  });

  it("cuboids, polygons, polylines and points", () => {
    const cube = [10, 10, 10, 30, 30, 10, 30, 30, 40, 5, 40, 25, 20, 5, 20, 25];
    close(bbox("cuboid", cube, 0), [10, 5, 40, 30]);
    close(bbox("polygon", [3, 4, -1, 8, 6, 2], 0), [-1, 2, 6, 8]);
    close(bbox("points", [7, 7], 0), [7, 7, 7, 7]);
  });

  it("masks cover their inclusive pixels", () => {
    close(bbox("mask", [2, 3, 1, 5, 10, 7, 11], 0), [5, 10, 8, 12]);
  });

  it("skeletons: their visible elements", () => {
    const el = (x: number, y: number, outside = false): FrameElement => ({ labelId: 2, type: "points", points: [x, y], occluded: false, outside });
    const sk = object("skeleton", [], { elements: [el(1, 2), el(5, 9), el(100, 100, true)] });
    close(bboxOfObject(sk), [1, 2, 5, 9]);
    close(bboxOfObject(object("skeleton", [], { elements: [el(3, 4, true)] })), [3, 4, 3, 4]);
    close(bboxOfObject(object("rectangle", [0, 0, 4, 2])), [0, 0, 4, 2]);
  });
});

describe("hit", () => {
  it("rectangles, turned", () => {
    const r = object("rectangle", [0, 0, 20, 10]);
    expect(hit(r, { x: 15, y: 5 }, 0)).toBe(true);
    expect(hit(r, { x: 21, y: 5 }, 0)).toBe(false);
    expect(hit(r, { x: 21, y: 5 }, 1.5)).toBe(true);
    const turned = { ...r, rotation: 90 }; // now spans x 5..15, y -5..15
    expect(hit(turned, { x: 10, y: 14 }, 0)).toBe(true);
    expect(hit(turned, { x: 18, y: 5 }, 0)).toBe(false);
    const corners = rectangleCorners(r.points, 90);
    expect(hit(turned, { x: corners[0] as number, y: corners[1] as number }, 1e-9)).toBe(true);
  });

  it("ellipses", () => {
    const e = object("ellipse", [50, 50, 70, 40]); // rx 20, ry 10
    expect(hit(e, { x: 69, y: 50 }, 0)).toBe(true);
    expect(hit(e, { x: 50, y: 61 }, 0)).toBe(false);
    expect(hit(e, { x: 68, y: 58 }, 0)).toBe(false); // inside the box, outside the ellipse
    expect(hit({ ...e, rotation: 90 }, { x: 50, y: 69 }, 0)).toBe(true);
  });

  it("polygons inside or near their outline; polylines and points near them only", () => {
    const square = [0, 0, 10, 0, 10, 10, 0, 10];
    expect(hit(object("polygon", square), { x: 5, y: 5 }, 0)).toBe(true);
    expect(hit(object("polygon", square), { x: 11, y: 5 }, 2)).toBe(true);
    expect(hit(object("polygon", square), { x: 13, y: 5 }, 2)).toBe(false);
    expect(hit(object("polyline", square), { x: 5, y: 5 }, 2)).toBe(false);
    expect(hit(object("polyline", square), { x: 5, y: 9 }, 2)).toBe(true);
    expect(hit(object("points", [1, 1, 20, 20]), { x: 21, y: 21 }, 2)).toBe(true);
    expect(hit(object("points", [1, 1, 20, 20]), { x: 10, y: 10 }, 2)).toBe(false);
  });

  it("cuboids by their outline's hull", () => {
    const cube = object("cuboid", [10, 10, 10, 30, 30, 10, 30, 30, 40, 5, 40, 25, 20, 5, 20, 25]);
    expect(hit(cube, { x: 35, y: 20 }, 0)).toBe(true);
    expect(hit(cube, { x: 12, y: 6 }, 0)).toBe(false); // in the box, not in the hull
    expect(hit(cube, { x: 45, y: 20 }, 0)).toBe(false);
  });

  it("masks on set pixels only", () => {
    const data = Uint8Array.from([1, 0, 0, 1]);
    const m = object("mask", encodeMask(data, 10, 20, 2, 2)); // pixels (10,20) and (11,21)
    expect(hit(m, { x: 10.5, y: 20.9 }, 0)).toBe(true);
    expect(hit(m, { x: 11.5, y: 20.5 }, 0)).toBe(false);
    expect(hit(m, { x: 11.99, y: 21.99 }, 0)).toBe(true);
    expect(hit(m, { x: 12, y: 21.5 }, 0)).toBe(false);
    expect(maskOf(m.points)).toBe(maskOf(m.points)); // decoded once
  });

  it("skeletons by the box of their elements; outside objects never", () => {
    const el = (x: number, y: number): FrameElement => ({ labelId: 2, type: "points", points: [x, y], occluded: false, outside: false });
    const sk = object("skeleton", [], { elements: [el(0, 0), el(10, 10)] });
    expect(hit(sk, { x: 5, y: 5 }, 0)).toBe(true);
    expect(hit(sk, { x: 11, y: 5 }, 0)).toBe(false);
    expect(hit(object("rectangle", [0, 0, 10, 10], { outside: true }), { x: 5, y: 5 }, 0)).toBe(false);
  });
});

describe("area", () => {
  it("measures each type so the smallest hit object can win", () => {
    expect(area(object("rectangle", [0, 0, 4, 5]))).toBe(20);
    expect(area(object("ellipse", [0, 0, 2, -3]))).toBeCloseTo(Math.PI * 6, 12);
    expect(area(object("polygon", [0, 0, 4, 0, 4, 3]))).toBe(6);
    expect(area(object("cuboid", [0, 0, 0, 10, 10, 0, 10, 10, 15, 5, 15, 15, 5, 5, 5, 15]))).toBe(15 * 15 - 25) // the hull cuts two 5 x 5 corners;
    expect(area(object("mask", encodeMask(Uint8Array.from([1, 0, 1, 1]), 0, 0, 2, 2)))).toBe(3);
    expect(area(object("polyline", [0, 0, 10, 10]))).toBe(0);
  });
});

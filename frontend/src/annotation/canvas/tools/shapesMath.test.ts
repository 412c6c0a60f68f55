import { describe, expect, it } from "vitest";
import {
  bboxOf,
  canFinish,
  clampDelta,
  cropMask,
  cuboidFromRect,
  cuboidMoveBack,
  cuboidMoveFrontVertex,
  decodeEllipse,
  edgeMidpoints,
  ellipseFromBox,
  ellipseFromCentre,
  encodeEllipse,
  farEnough,
  fillPolygon,
  insertVertex,
  isTinyRect,
  nodeToRect,
  normalizeAngle,
  rectFromCorners,
  rectFromPoints,
  rectToNode,
  removeVertex,
  stampDisc,
  stampLine,
  translateMask,
  withMaskBounds,
} from "./shapesMath";

const close = (a: readonly number[], b: readonly number[]) => a.forEach((v, i) => expect(v).toBeCloseTo(b[i]!, 6));

describe("rectangles", () => {
  it("orders two corners dragged in any direction", () => {
    expect(rectFromCorners({ x: 50, y: 10 }, { x: 20, y: 40 })).toEqual([20, 10, 50, 40]);
  });
  it("takes the box of four extreme points", () => {
    expect(rectFromPoints([{ x: 30, y: 5 }, { x: 60, y: 25 }, { x: 35, y: 50 }, { x: 10, y: 20 }])).toEqual([10, 5, 60, 50]);
  });
  it("calls sub-pixel boxes tiny", () => {
    expect(isTinyRect([0, 0, 0.5, 30])).toBe(true);
    expect(isTinyRect([0, 0, 1, 1])).toBe(false);
  });
  it("keeps angles in [0, 360)", () => {
    expect(normalizeAngle(-90)).toBe(270);
    expect(normalizeAngle(720)).toBe(0);
    expect(normalizeAngle(359.99999999999)).toBe(0);
    expect(normalizeAngle(89.99999999999999)).toBe(90); // a snapped quarter turn after Konva's radians
    expect(normalizeAngle(-1e-14)).toBe(0);
    expect(normalizeAngle(12.5)).toBe(12.5);
  });
  it("puts an unrotated box's node at its top-left corner", () => {
    expect(rectToNode([10, 20, 50, 40], 0)).toEqual({ x: 10, y: 20, width: 40, height: 20, rotation: 0 });
  });
  it("rotates about the centre: a 90° box's node corner is top-right of the unrotated box", () => {
    const node = rectToNode([10, 20, 50, 40], 90);
    // centre (30, 30); the corner (-20, -10) turned 90° is (10, -20)
    expect(node.x).toBeCloseTo(40);
    expect(node.y).toBeCloseTo(10);
  });
  it("round-trips through the node at any angle", () => {
    for (const angle of [0, 33, 90, 181, 270, 359]) {
      const back = nodeToRect(rectToNode([10, 20, 50, 40], angle));
      close(back.points, [10, 20, 50, 40]);
      expect(back.rotation).toBeCloseTo(angle);
    }
  });
  it("folds a Transformer's scale into the size, the centre follows the scaled corner", () => {
    const r = nodeToRect({ x: 10, y: 20, width: 40, height: 20, rotation: 0, scaleX: 2, scaleY: 0.5 });
    close(r.points, [10, 20, 90, 30]);
    const turned = nodeToRect({ x: 0, y: 0, width: 10, height: 10, rotation: -90, scaleX: 1, scaleY: 1 });
    expect(turned.rotation).toBe(270);
    close(turned.points, [0, -10, 10, 0]);
  });
});

describe("ellipses", () => {
  it("encodes CVAT's [cx, cy, rightX, topY]", () => {
    expect(encodeEllipse({ cx: 50, cy: 40, rx: 20, ry: 10 })).toEqual([50, 40, 70, 30]);
    expect(decodeEllipse([50, 40, 70, 30])).toEqual({ cx: 50, cy: 40, rx: 20, ry: 10 });
  });
  it("builds from a centre drag or a corner-to-corner box", () => {
    expect(ellipseFromCentre({ x: 50, y: 40 }, { x: 30, y: 55 })).toEqual({ cx: 50, cy: 40, rx: 20, ry: 15 });
    expect(ellipseFromBox([10, 20, 50, 30])).toEqual({ cx: 30, cy: 25, rx: 20, ry: 5 });
  });
});

describe("cuboids", () => {
  const cuboid = cuboidFromRect([10, 20, 110, 70]);
  it("lays out CVAT's 8 points from a rectangle, the back face a tenth up and right", () => {
    expect(cuboid).toEqual([
      10, 20, 10, 70, 110, 20, 110, 70, // front tl, bl, tr, br
      120, 15, 120, 65, 20, 15, 20, 65, // back tr, br, tl, bl
    ]);
  });
  it("resizes about the opposite front corner when a front corner is dragged", () => {
    const moved = cuboidMoveFrontVertex(cuboid, 3, { x: 210, y: 120 }); // br, fixed tl (10, 20)
    expect(moved.slice(0, 8)).toEqual([10, 20, 10, 120, 210, 20, 210, 120]);
    // the back face scaled too: (120, 15) -> (10 + 110 * 2, 20 - 5 * 2)
    expect(moved.slice(8, 10)).toEqual([230, 10]);
  });
  it("stops a front corner short of crossing the opposite one", () => {
    const moved = cuboidMoveFrontVertex(cuboid, 0, { x: 500, y: 500 }); // tl, fixed br (110, 70)
    expect(moved[0]).toBeCloseTo(109);
    expect(moved[1]).toBeCloseTo(69);
  });
  it("moves only the back face for depth", () => {
    const moved = cuboidMoveBack(cuboid, 5, -3);
    expect(moved.slice(0, 8)).toEqual(cuboid.slice(0, 8));
    expect(moved.slice(8)).toEqual([125, 12, 125, 62, 25, 12, 25, 62]);
  });
});

describe("polygon vertices", () => {
  const square = [0, 0, 10, 0, 10, 10, 0, 10];
  it("inserts after a vertex", () => {
    expect(insertVertex(square, 1, { x: 12, y: 5 })).toEqual([0, 0, 10, 0, 12, 5, 10, 10, 0, 10]);
    expect(insertVertex(square, 3, { x: -2, y: 5 })).toEqual([...square, -2, 5]);
  });
  it("removes a vertex but never below the minimum", () => {
    expect(removeVertex(square, 0, 3)).toEqual([10, 0, 10, 10, 0, 10]);
    expect(removeVertex([0, 0, 10, 0, 10, 10], 1, 3)).toBeNull();
    expect(removeVertex([0, 0, 5, 5], 1, 2)).toBeNull();
    expect(removeVertex([0, 0, 5, 5], 1, 1)).toEqual([0, 0]);
  });
  it("gives edge middles; a polygon's last edge wraps, a polyline's does not", () => {
    expect(edgeMidpoints(square, true)).toHaveLength(4);
    expect(edgeMidpoints(square, true)[3]).toEqual({ after: 3, x: 0, y: 5 });
    expect(edgeMidpoints(square, false)).toHaveLength(3);
  });
  it("knows each type's minimum to finish", () => {
    expect(canFinish("polygon", [0, 0, 1, 1])).toBe(false);
    expect(canFinish("polygon", [0, 0, 1, 1, 2, 0])).toBe(true);
    expect(canFinish("polyline", [0, 0, 1, 1])).toBe(true);
    expect(canFinish("points", [])).toBe(false);
    expect(canFinish("points", [3, 3])).toBe(true);
  });
  it("adds shift-drag points only past the step", () => {
    expect(farEnough(null, { x: 0, y: 0 }, 5)).toBe(true);
    expect(farEnough({ x: 0, y: 0 }, { x: 3, y: 3 }, 5)).toBe(false);
    expect(farEnough({ x: 0, y: 0 }, { x: 3, y: 4 }, 5)).toBe(true);
  });
  it("limits a whole-shape move to the frame", () => {
    const box = bboxOf([10, 10, 30, 40]);
    expect(clampDelta(box, -50, 100, 100, 100)).toEqual({ x: -10, y: 60 });
    expect(clampDelta(box, 5, -5, 100, 100)).toEqual({ x: 5, y: -5 });
  });
});

describe("mask buffers", () => {
  it("stamps a disc of the brush's diameter", () => {
    const buf = new Uint8Array(10 * 10);
    stampDisc(buf, 10, 10, 5, 5, 4, 1);
    const set = buf.reduce((s, v) => s + v, 0);
    expect(set).toBeGreaterThan(8); // ~ pi * 2^2 = 12.6
    expect(set).toBeLessThan(17);
    expect(buf[5 * 10 + 5]).toBe(1);
    expect(buf[0]).toBe(0);
    expect(buf[5 * 10 + 8]).toBe(0); // 3.5 px from the centre, radius 2
  });
  it("erases with value 0 and paints one pixel with a 1 px brush", () => {
    const buf = new Uint8Array(4 * 4).fill(1);
    stampDisc(buf, 4, 4, 1.5, 1.5, 1, 0);
    expect(buf[1 * 4 + 1]).toBe(0);
    expect(buf.reduce((s, v) => s + v, 0)).toBe(15);
  });
  it("clips discs at the frame's edges", () => {
    const buf = new Uint8Array(5 * 5);
    const b = stampDisc(buf, 5, 5, 0, 0, 6, 1);
    expect(b).toEqual({ left: 0, top: 0, right: 3, bottom: 3 });
    expect(buf[0]).toBe(1);
  });
  it("paints a stroke without gaps", () => {
    const buf = new Uint8Array(40 * 10);
    stampLine(buf, 40, 10, { x: 2, y: 5 }, { x: 37, y: 5 }, 3, 1);
    for (let x = 2; x <= 36; x += 1) expect(buf[5 * 40 + x]).toBe(1);
  });
  it("fills a polygon's inside pixels", () => {
    const buf = new Uint8Array(10 * 10);
    fillPolygon(buf, 10, 10, [2, 2, 8, 2, 8, 6, 2, 6], 1);
    expect(buf.reduce((s, v) => s + v, 0)).toBe(6 * 4);
    expect(buf[2 * 10 + 2]).toBe(1);
    expect(buf[6 * 10 + 2]).toBe(0);
    const tri = new Uint8Array(10 * 10);
    fillPolygon(tri, 10, 10, [0, 0, 10, 0, 0, 10], 1);
    expect(tri[0]).toBe(1);
    expect(tri[9 * 10 + 9]).toBe(0);
  });
  it("crops to the set pixels", () => {
    const buf = new Uint8Array(6 * 5);
    buf[1 * 6 + 2] = 1;
    buf[3 * 6 + 4] = 1;
    const c = cropMask(buf, 6, 5)!;
    expect(c.bounds).toEqual({ left: 2, top: 1, right: 4, bottom: 3 });
    expect(Array.from(c.data)).toEqual([1, 0, 0, 0, 0, 0, 0, 0, 1]);
    expect(cropMask(new Uint8Array(4), 2, 2)).toBeNull();
  });
  it("moves a mask by its box only", () => {
    expect(translateMask([3, 4, 2, 10, 20, 12, 22], 5.4, -2)).toEqual([3, 4, 2, 15, 18, 17, 20]);
  });
  it("appends the box to a bare RLE, not to one that has it", () => {
    const bounds = { left: 1, top: 2, right: 3, bottom: 3 };
    expect(withMaskBounds([2, 4], bounds)).toEqual([2, 4, 1, 2, 3, 3]);
    expect(withMaskBounds([2, 4, 1, 2, 3, 3], bounds)).toEqual([2, 4, 1, 2, 3, 3]);
  });
});

import { describe, expect, it } from "vitest";
import type { FrameObject } from "../model";
import { frameObject } from "../testing";
import { SceneIndex, TEXT_LIMIT, drawOrder, isDrawable, labelText, objectBounds, showAllText, type PickGeometry } from "./scene";

let nextId = 1;
function obj(type: FrameObject["type"], points: number[], extra: Partial<FrameObject> = {}): FrameObject {
  return frameObject({ clientId: nextId++, type, points, ...extra });
}

// Boxes as the exact geometry (enough to test the index's ordering); area = box area.
const boxGeometry: PickGeometry = {
  hit: (o, p, tol) => {
    const b = objectBounds(o);
    return !!b && p.x >= b.minX - tol && p.x <= b.maxX + tol && p.y >= b.minY - tol && p.y <= b.maxY + tol;
  },
  area: (o) => {
    const b = objectBounds(o);
    return b ? (b.maxX - b.minX) * (b.maxY - b.minY) : 0;
  },
};

describe("objectBounds", () => {
  it("covers each shape type", () => {
    expect(objectBounds(obj("polygon", [10, 20, 30, 5, 25, 40]))).toEqual({ minX: 10, minY: 5, maxX: 30, maxY: 40 });
    const r = objectBounds(obj("rectangle", [0, 0, 20, 10], { rotation: 90 }))!;
    expect(r.minX).toBeCloseTo(5);
    expect(r.maxX).toBeCloseTo(15);
    expect(r.minY).toBeCloseTo(-5);
    expect(r.maxY).toBeCloseTo(15);
    const e = objectBounds(obj("ellipse", [50, 50, 60, 45], { rotation: 90 }))!; // rx 10, ry 5, turned
    expect(e.maxX).toBeCloseTo(55);
    expect(e.maxY).toBeCloseTo(60);
    expect(objectBounds(obj("mask", [3, 4, 5, 10, 20, 19, 29]))).toEqual({ minX: 10, minY: 20, maxX: 20, maxY: 30 });
    const skeleton = obj("skeleton", [], {
      elements: [
        { labelId: 2, type: "points", points: [5, 5], occluded: false, outside: false },
        { labelId: 3, type: "points", points: [500, 500], occluded: false, outside: true },
        { labelId: 4, type: "points", points: [9, 1], occluded: false, outside: false },
      ],
    });
    expect(objectBounds(skeleton)).toEqual({ minX: 5, minY: 1, maxX: 9, maxY: 5 });
    expect(objectBounds(obj("polyline", []))).toBeNull();
    expect(objectBounds(obj("mask", [1, 2]))).toBeNull();
    expect(objectBounds(obj("ellipse", [1, 2]))).toBeNull();
    const allOutside = obj("skeleton", [], {
      elements: [{ labelId: 2, type: "points", points: [5, 5], occluded: false, outside: true }],
    });
    expect(objectBounds(allOutside)).toBeNull();
  });
});

describe("label text", () => {
  it("names shapes by their label, tracks with their id and kind", () => {
    const names = new Map([[1, "car"]]);
    expect(labelText(obj("rectangle", [0, 0, 1, 1]), names)).toBe("car");
    const track = obj("polygon", [0, 0, 1, 1, 0, 1], { kind: "track" });
    expect(labelText(track, names)).toBe(`car #${track.clientId} (track)`);
    expect(labelText(obj("points", [1, 1], { labelId: 7 }), names)).toBe("label 7");
  });

  it("shows every object's text only when asked and under the limit", () => {
    expect(showAllText(true, TEXT_LIMIT - 1)).toBe(true);
    expect(showAllText(true, TEXT_LIMIT)).toBe(false);
    expect(showAllText(false, 1)).toBe(false);
  });
});

describe("SceneIndex", () => {
  it("culls: a query returns only the objects intersecting the rectangle, in draw order", () => {
    const a = obj("rectangle", [0, 0, 10, 10], { zOrder: 2 });
    const b = obj("rectangle", [5, 5, 50, 50], { zOrder: 1 });
    const far = obj("rectangle", [1000, 1000, 1010, 1010]);
    const index = new SceneIndex(boxGeometry);
    index.load([a, b, far]);
    expect(index.size()).toBe(3);
    expect(index.query({ minX: 0, minY: 0, maxX: 100, maxY: 100 }).map((o) => o.clientId)).toEqual([b.clientId, a.clientId]);
    expect(index.query({ minX: 900, minY: 900, maxX: 1005, maxY: 1005 })).toEqual([far]);
    expect(index.query({ minX: 200, minY: 200, maxX: 300, maxY: 300 })).toEqual([]);
    expect(index.count({ minX: 0, minY: 0, maxX: 100, maxY: 100 })).toBe(2);
  });

  it("picks the smallest area first, then the topmost", () => {
    const big = obj("rectangle", [0, 0, 100, 100], { zOrder: 5 });
    const small = obj("rectangle", [40, 40, 60, 60], { zOrder: 0 });
    const twin1 = obj("rectangle", [200, 0, 210, 10], { zOrder: 0 });
    const twin2 = obj("rectangle", [200, 0, 210, 10], { zOrder: 3 });
    const index = new SceneIndex(boxGeometry);
    index.load([big, small, twin1, twin2]);
    expect(index.pick({ x: 50, y: 50 }, 0)).toBe(small.clientId);
    expect(index.pick({ x: 10, y: 10 }, 0)).toBe(big.clientId);
    expect(index.pick({ x: 205, y: 5 }, 0)).toBe(twin2.clientId);
    expect(index.pick({ x: 150, y: 150 }, 0)).toBeNull();
    expect(index.pick({ x: 101, y: 50 }, 2)).toBe(big.clientId);
    expect(index.pick({ x: 50, y: 50 }, 0, (o) => o === small)).toBe(big.clientId);
  });

  it("the exact geometry decides among overlapping boxes", () => {
    const a = obj("polygon", [0, 0, 100, 0, 0, 100]);
    const index = new SceneIndex({ hit: () => false, area: () => 1 });
    index.load([a]);
    expect(index.pick({ x: 10, y: 10 }, 0)).toBeNull();
  });

  it("updates in place: moved objects are found at their new place, removed ones are gone", () => {
    const a = obj("rectangle", [0, 0, 10, 10]);
    const b = obj("rectangle", [20, 20, 30, 30]);
    const index = new SceneIndex(boxGeometry);
    index.load([a, b]);
    const moved = { ...a, points: [500, 500, 510, 510] };
    const c = obj("polygon", [40, 40, 45, 40, 45, 45]);
    index.update([moved, c]);
    expect(index.size()).toBe(2);
    expect(index.pick({ x: 5, y: 5 }, 0)).toBeNull();
    expect(index.pick({ x: 505, y: 505 }, 0)).toBe(a.clientId);
    expect(index.get(a.clientId)).toBe(moved);
    expect(index.get(b.clientId)).toBeUndefined();
    expect(index.query({ minX: 0, minY: 0, maxX: 100, maxY: 100 })).toEqual([c]);
  });

  it("drawOrder sorts by zOrder, stable; hidden and outside objects are not drawable", () => {
    const a = obj("points", [1, 1], { zOrder: 1 });
    const b = obj("points", [1, 1], { zOrder: 0 });
    const c = obj("points", [1, 1], { zOrder: 1 });
    expect(drawOrder([a, b, c])).toEqual([b, a, c]);
    expect(isDrawable(a, new Map())).toBe(true);
    expect(isDrawable(a, new Map([[a.clientId, { hidden: true }]]))).toBe(false);
    expect(isDrawable(obj("points", [1, 1], { outside: true }), new Map())).toBe(false);
  });
});

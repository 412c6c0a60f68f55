import { describe, expect, it } from "vitest";
import { checkMask, decodeMask, encodeMask } from "../../mask";
import { maskBufferBounds, maskBufferFrom, maskBufferPoints, maskBufferRgba } from "./maskBuffer";
import { fillPolygon, stampDisc, stampLine } from "./shapesMath";

// A 4 x 3 mask at (5, 2): an L with a hole, written in CVAT's encoding by hand.
//   row 2: 1 0 0 0
//   row 3: 1 0 0 1
//   row 4: 1 1 1 1
const L = [0, 1, 3, 1, 2, 5, 5, 2, 8, 4];

function setPixels(buffer: { width: number; data: Uint8Array }): [number, number][] {
  const out: [number, number][] = [];
  buffer.data.forEach((v, i) => {
    if (v) out.push([i % buffer.width, Math.floor(i / buffer.width)]);
  });
  return out;
}

describe("maskBufferFrom", () => {
  it("decodes a mask into a frame-sized buffer at its place", () => {
    expect(checkMask(L)).toBeNull();
    const b = maskBufferFrom(L, 20, 10);
    expect(b.width).toBe(20);
    expect(b.height).toBe(10);
    expect(b.data.length).toBe(200);
    expect(setPixels(b)).toEqual([
      [5, 2],
      [5, 3],
      [8, 3],
      [5, 4],
      [6, 4],
      [7, 4],
      [8, 4],
    ]);
  });
  it("gives an empty frame buffer without a mask", () => {
    const b = maskBufferFrom(undefined, 7, 3);
    expect([b.width, b.height, b.data.length]).toEqual([7, 3, 21]);
    expect(b.data.every((v) => v === 0)).toBe(true);
    expect(maskBufferPoints(b)).toEqual([]);
    expect(maskBufferFrom([], 7, 3).data.length).toBe(21);
  });
  it("grows past the frame for a box that reaches out of it, losing nothing", () => {
    const b = maskBufferFrom(L, 6, 4);
    expect([b.width, b.height]).toEqual([9, 5]);
    expect(maskBufferPoints(b)).toEqual(L);
    const empty = maskBufferFrom(L, 0, 0);
    expect(maskBufferPoints(empty)).toEqual(L);
  });
  it("drops pixels at negative coordinates", () => {
    // 2 x 1 mask, both set, at (-1, 0)
    const b = maskBufferFrom([0, 2, -1, 0, 0, 0], 3, 2);
    expect(setPixels(b)).toEqual([[0, 0]]);
  });
});

describe("mask buffer round trip", () => {
  it("re-encodes an untouched mask to the same points", () => {
    expect(maskBufferPoints(maskBufferFrom(L, 20, 10))).toEqual(L);
    // a bigger one, made by the encoder itself
    const src = maskBufferFrom(undefined, 64, 48);
    stampLine(src.data, 64, 48, { x: 10, y: 10 }, { x: 50, y: 30 }, 7, 1);
    stampDisc(src.data, 64, 48, 20, 35, 5, 0);
    const points = maskBufferPoints(src);
    expect(checkMask(points)).toBeNull();
    expect(maskBufferPoints(maskBufferFrom(points, 64, 48))).toEqual(points);
  });
  it("crops a mask whose box is looser than its pixels", () => {
    // 3 x 3 box at (1, 1) with only the centre set
    const loose = [4, 1, 4, 1, 1, 3, 3];
    expect(checkMask(loose)).toBeNull();
    expect(maskBufferPoints(maskBufferFrom(loose, 10, 10))).toEqual([0, 1, 2, 2, 2, 2]);
  });
});

describe("painting on an existing mask", () => {
  it("the brush adds pixels and the box grows", () => {
    const b = maskBufferFrom(L, 20, 10);
    stampDisc(b.data, b.width, b.height, 12.5, 7.5, 1, 1);
    const points = maskBufferPoints(b);
    expect(checkMask(points)).toBeNull();
    expect(points.slice(-4)).toEqual([5, 2, 12, 7]);
    const m = decodeMask(points);
    expect(m.data[(7 - 2) * m.width + (12 - 5)]).toBe(1);
    expect(m.data.reduce((s, v) => s + v, 0)).toBe(8);
  });
  it("the eraser removes pixels and the box shrinks", () => {
    const b = maskBufferFrom(L, 20, 10);
    // erase the right column (x = 8, rows 3..4)
    stampLine(b.data, b.width, b.height, { x: 8.5, y: 3.5 }, { x: 8.5, y: 4.5 }, 1, 0);
    const points = maskBufferPoints(b);
    expect(points.slice(-4)).toEqual([5, 2, 7, 4]);
    expect(Array.from(decodeMask(points).data)).toEqual([1, 0, 0, 1, 0, 0, 1, 1, 1]);
  });
  it("a polygon fill adds its inside", () => {
    const b = maskBufferFrom(L, 20, 10);
    fillPolygon(b.data, b.width, b.height, [6, 2, 9, 2, 9, 4, 6, 4], 1); // pixel centres x 6..8, y 2..3
    const m = decodeMask(maskBufferPoints(b));
    expect([m.left, m.top, m.width, m.height]).toEqual([5, 2, 4, 3]);
    expect(m.data.every((v) => v === 1)).toBe(true);
  });
  it("erasing everything leaves no mask", () => {
    const b = maskBufferFrom(L, 20, 10);
    stampDisc(b.data, b.width, b.height, 7, 3, 12, 0);
    expect(maskBufferBounds(b)).toBeNull();
    expect(maskBufferPoints(b)).toEqual([]);
  });
});

describe("maskBufferBounds and maskBufferRgba", () => {
  it("finds the set pixels' box", () => {
    expect(maskBufferBounds(maskBufferFrom(L, 20, 10))).toEqual({ left: 5, top: 2, right: 8, bottom: 4 });
    expect(maskBufferBounds(maskBufferFrom(undefined, 4, 4))).toBeNull();
  });
  it("paints set pixels opaque and clears the rest, clipped to the buffer", () => {
    const b = maskBufferFrom(L, 20, 10);
    const rgba = maskBufferRgba(b, { left: 4, top: 2, right: 5, bottom: 2 }, [10, 20, 30])!;
    expect([rgba.left, rgba.top, rgba.width, rgba.height]).toEqual([4, 2, 2, 1]);
    expect(Array.from(rgba.data)).toEqual([0, 0, 0, 0, 10, 20, 30, 255]);
    const clipped = maskBufferRgba(b, { left: -3, top: 8, right: 30, bottom: 40 }, [1, 2, 3])!;
    expect([clipped.left, clipped.top, clipped.width, clipped.height]).toEqual([0, 8, 20, 2]);
    expect(maskBufferRgba(b, { left: 25, top: 0, right: 30, bottom: 3 }, [1, 2, 3])).toBeNull();
  });
  it("encodes like encodeMask over the whole buffer", () => {
    const b = maskBufferFrom(L, 20, 10);
    expect(maskBufferPoints(b)).toEqual(encodeMask(b.data, 0, 0, b.width, b.height));
  });
});

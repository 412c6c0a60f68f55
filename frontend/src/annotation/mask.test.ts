// CVAT's mask RLE against fixtures computed by the server's code (formats/common.py
// bitmap_to_cvat_mask and cvat_mask_to_bitmap, numpy), and the fill rule of polygonToMask.
import { describe, expect, it } from "vitest";
import { pointInPolygon } from "./geometry";
import { checkMask, cropMask, decodeMask, encodeMask, maskArea, maskBox, maskToRgba, parseColor, polygonToMask, type Mask } from "./mask";

function bitmap(rows: number[][]): { data: Uint8Array; width: number; height: number } {
  return { data: Uint8Array.from(rows.flat()), width: rows[0]?.length ?? 0, height: rows.length };
}

function setPixels(m: Mask): [number, number][] {
  const out: [number, number][] = [];
  for (let y = 0; y < m.height; y++) for (let x = 0; x < m.width; x++) if (m.data[y * m.width + x]) out.push([m.left + x, m.top + y]);
  return out;
}

// fixtures: (bitmap, bitmap_to_cvat_mask(bitmap)) from Python
const FIXTURES: { name: string; rows: number[][]; points: number[] }[] = [
  {
    name: "a blob",
    rows: [
      [0, 0, 0, 0, 0, 0, 0, 0],
      [0, 0, 1, 1, 1, 0, 0, 0],
      [0, 1, 1, 1, 1, 1, 0, 0],
      [0, 0, 0, 1, 0, 0, 0, 0],
      [0, 0, 0, 0, 0, 1, 1, 0],
      [0, 0, 0, 0, 0, 0, 0, 0],
    ],
    points: [1, 3, 2, 5, 3, 1, 7, 2, 1, 1, 6, 4],
  },
  {
    name: "set first pixel: a zero-length first run",
    rows: [
      [1, 0, 0, 0, 0],
      [0, 0, 0, 0, 0],
      [0, 0, 1, 0, 0],
      [0, 0, 0, 0, 0],
      [0, 0, 0, 0, 1],
    ],
    points: [0, 1, 11, 1, 11, 1, 0, 0, 4, 4],
  },
  {
    name: "a square",
    rows: [
      [0, 0, 0, 0, 0, 0],
      [0, 0, 1, 1, 0, 0],
      [0, 0, 1, 1, 0, 0],
      [0, 0, 0, 0, 0, 0],
    ],
    points: [0, 4, 2, 1, 3, 2],
  },
  {
    name: "random (numpy seed 7)",
    rows: [
      [0, 0, 0, 1, 1, 0, 1, 0, 0],
      [0, 1, 1, 1, 0, 0, 0, 0, 0],
      [0, 0, 1, 1, 0, 1, 1, 0, 0],
      [0, 0, 0, 0, 1, 1, 1, 0, 1],
      [1, 1, 0, 1, 1, 0, 0, 0, 0],
      [0, 1, 0, 0, 0, 1, 0, 1, 1],
      [1, 1, 0, 1, 0, 0, 0, 0, 0],
    ],
    points: [3, 2, 1, 1, 3, 3, 7, 2, 1, 2, 6, 3, 1, 3, 1, 2, 5, 1, 3, 1, 1, 4, 1, 1, 5, 0, 0, 8, 6],
  },
];

describe("encodeMask / decodeMask", () => {
  it.each(FIXTURES.map((f) => [f.name, f] as const))("encodes as the server: %s", (_, f) => {
    const b = bitmap(f.rows);
    expect(encodeMask(b.data, 0, 0, b.width, b.height)).toEqual(f.points);
    expect(checkMask(f.points)).toBeNull();
  });

  it.each(FIXTURES.map((f) => [f.name, f] as const))("decodes to the same pixels: %s", (_, f) => {
    const b = bitmap(f.rows);
    const expected: [number, number][] = [];
    f.rows.forEach((row, y) => row.forEach((v, x) => v && expected.push([x, y])));
    const m = decodeMask(f.points);
    expect(setPixels(m)).toEqual(expected);
    expect(encodeMask(m.data, m.left, m.top, m.width, m.height)).toEqual(f.points);
    expect(maskArea(m)).toBe(expected.length);
    expect(b.data.length).toBe(b.width * b.height);
  });

  it("places the box where the points say (cvat_mask_to_bitmap of [2,3,1,5,10,7,11])", () => {
    const m = decodeMask([2, 3, 1, 5, 10, 7, 11]);
    expect([m.left, m.top, m.width, m.height]).toEqual([5, 10, 3, 2]);
    expect(setPixels(m)).toEqual([
      [7, 10],
      [5, 11],
      [6, 11],
    ]);
  });

  it("offsets an encoded box and crops it to the set pixels", () => {
    const b = bitmap([
      [0, 0, 0],
      [0, 1, 0],
      [0, 0, 0],
    ]);
    expect(encodeMask(b.data, 100, 50, 3, 3)).toEqual([0, 1, 101, 51, 101, 51]);
  });

  it("encodes an empty mask as []", () => {
    expect(encodeMask(new Uint8Array(12), 0, 0, 4, 3)).toEqual([]);
    expect(cropMask({ left: 0, top: 0, width: 4, height: 3, data: new Uint8Array(12) })).toBeNull();
  });

  it("round-trips random masks", () => {
    let seed = 12345;
    const rnd = (): number => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
    for (let k = 0; k < 50; k++) {
      const w = 1 + Math.floor(rnd() * 20);
      const h = 1 + Math.floor(rnd() * 20);
      const data = Uint8Array.from({ length: w * h }, () => (rnd() < 0.3 ? 1 : 0));
      const left = Math.floor(rnd() * 100);
      const top = Math.floor(rnd() * 100);
      const points = encodeMask(data, left, top, w, h);
      const crop = cropMask({ left, top, width: w, height: h, data });
      if (crop === null) {
        expect(points).toEqual([]);
        continue;
      }
      expect(checkMask(points)).toBeNull();
      const m = decodeMask(points);
      expect(setPixels(m)).toEqual(setPixels({ left, top, width: w, height: h, data }));
      expect([m.left, m.top, m.width, m.height]).toEqual([crop.left, crop.top, crop.width, crop.height]);
    }
  });

  it("reads the box with Python's rounding and reports bad points as the server does", () => {
    expect(maskBox([1, 2.5, 3.5, 4.5, 5.5])).toEqual([2, 4, 4, 6]);
    expect(checkMask([1, 0, 0, 1, 1])).toBe("mask runs cover 1 pixels, the box has 4");
    expect(checkMask([1, 0, 0])).toMatch(/>= 5 numbers/);
    expect(checkMask([1, 5, 0, 4, 0])).toMatch(/invalid/);
    expect(checkMask([0.5, 0.5, 0, 0, 0, 0])).toMatch(/integers/);
  });

  it("decodes bad runs leniently", () => {
    const short = decodeMask([1, 1, 0, 0, 1, 1]); // covers 2 of 4 pixels
    expect(Array.from(short.data)).toEqual([0, 1, 0, 0]);
    const long = decodeMask([0, 9, 0, 0, 1, 0]);
    expect(Array.from(long.data)).toEqual([1, 1]);
  });
});

describe("polygonToMask", () => {
  it("fills pixels whose centre is inside", () => {
    const m = polygonToMask([1, 1, 4, 1, 4, 3, 1, 3], 10, 10);
    expect(setPixels(m)).toEqual([
      [1, 1],
      [2, 1],
      [3, 1],
      [1, 2],
      [2, 2],
      [3, 2],
    ]);
  });

  it("clips to the image and gives an empty mask outside it", () => {
    const m = polygonToMask([-5, -5, 2, -5, 2, 2, -5, 2], 10, 10);
    expect(m.left).toBe(0);
    expect(m.top).toBe(0);
    expect(maskArea(m)).toBe(4);
    expect(maskArea(polygonToMask([20, 20, 30, 20, 30, 30], 10, 10))).toBe(0);
  });

  it("agrees with pointInPolygon on pixel centres (even-odd, self-intersecting too)", () => {
    let seed = 99;
    const rnd = (): number => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
    for (let k = 0; k < 30; k++) {
      const n = 3 + Math.floor(rnd() * 7);
      const poly = Array.from({ length: 2 * n }, () => Math.round(rnd() * 400) / 10 - 2); // some on .5 centres
      const m = polygonToMask(poly, 40, 36);
      const want: [number, number][] = [];
      for (let y = 0; y < 36; y++) for (let x = 0; x < 40; x++) if (pointInPolygon({ x: x + 0.5, y: y + 0.5 }, poly)) want.push([x, y]);
      expect(setPixels(m)).toEqual(want);
    }
  });

  it("encodes a filled triangle to valid CVAT points", () => {
    const m = polygonToMask([10, 10, 30, 10, 10, 30], 64, 64);
    const points = encodeMask(m.data, m.left, m.top, m.width, m.height);
    expect(checkMask(points)).toBeNull();
    // pixel 29's centre (29.5, 10.5) lies on the hypotenuse x + y = 40: a right edge, not inside
    expect(points.slice(-4)).toEqual([10, 10, 28, 28]);
    expect(maskArea(decodeMask(points))).toBe(maskArea(m));
  });
});

describe("maskToRgba", () => {
  it("paints set pixels in the colour and leaves the rest transparent", () => {
    const m: Mask = { left: 0, top: 0, width: 2, height: 1, data: Uint8Array.from([1, 0]) };
    expect(Array.from(maskToRgba(m, "#ff8000", 0.5))).toEqual([255, 128, 0, 128, 0, 0, 0, 0]);
    expect(Array.from(maskToRgba(m, "#0f0", 1)).slice(0, 4)).toEqual([0, 255, 0, 255]);
  });

  it("parses colours", () => {
    expect(parseColor("#123456")).toEqual([0x12, 0x34, 0x56]);
    expect(parseColor("abc")).toEqual([0xaa, 0xbb, 0xcc]);
    expect(parseColor("red")).toEqual([0, 0, 0]);
  });
});

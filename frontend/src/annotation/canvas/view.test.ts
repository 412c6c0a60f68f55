import { describe, expect, it } from "vitest";
import { MAX_SCALE, MIN_SCALE, fitView, panBy, relativeTransform, toImage, toScreen, visibleRect, zoomAbout } from "./view";

describe("view math", () => {
  it("fits a 1080p frame into a 1600x900 container, centred", () => {
    const v = fitView({ width: 1600, height: 900 }, { width: 1920, height: 1080 });
    expect(v.scale).toBeCloseTo(900 / 1080);
    expect(v.y).toBeCloseTo(0);
    expect(v.x).toBeCloseTo((1600 - 1920 * (900 / 1080)) / 2);
    const padded = fitView({ width: 1000, height: 1000 }, { width: 100, height: 50 }, 100);
    expect(padded).toEqual({ scale: 8, x: 100, y: 300 });
  });

  it("keeps the image point under the cursor when zooming", () => {
    const v = { scale: 2, x: 30, y: -40 };
    const cursor = { x: 333, y: 222 };
    const before = toImage(v, cursor);
    const z = zoomAbout(v, 1.7, cursor);
    expect(z.scale).toBeCloseTo(3.4);
    const after = toImage(z, cursor);
    expect(after.x).toBeCloseTo(before.x);
    expect(after.y).toBeCloseTo(before.y);
  });

  it("clamps the scale to 0.05..50 and still keeps the anchor", () => {
    const v = { scale: 40, x: 0, y: 0 };
    const z = zoomAbout(v, 10, { x: 100, y: 100 });
    expect(z.scale).toBe(MAX_SCALE);
    expect(toImage(z, { x: 100, y: 100 }).x).toBeCloseTo(2.5);
    expect(zoomAbout({ scale: 0.1, x: 0, y: 0 }, 0.01, { x: 0, y: 0 }).scale).toBe(MIN_SCALE);
    expect(zoomAbout(v, Number.NaN, { x: 0, y: 0 }).scale).toBe(1);
  });

  it("converts screen <-> image both ways", () => {
    const v = { scale: 0.5, x: 10, y: 20 };
    expect(toScreen(v, { x: 100, y: 40 })).toEqual({ x: 60, y: 40 });
    expect(toImage(v, { x: 60, y: 40 })).toEqual({ x: 100, y: 40 });
    expect(panBy(v, 5, -5)).toEqual({ scale: 0.5, x: 15, y: 15 });
  });

  it("gives the visible image rectangle, with a margin", () => {
    const v = { scale: 2, x: -100, y: -50 };
    expect(visibleRect(v, { width: 800, height: 600 })).toEqual({ minX: 50, minY: 25, maxX: 450, maxY: 325 });
    expect(visibleRect(v, { width: 800, height: 600 }, 0.5)).toEqual({ minX: -150, minY: -125, maxX: 650, maxY: 475 });
  });

  it("maps a bitmap rendered at one view onto another", () => {
    const from = { scale: 2, x: 10, y: 20 };
    const to = zoomAbout(panBy(from, 37, -12), 1.5, { x: 400, y: 300 });
    const t = relativeTransform(from, to);
    const p = { x: 123, y: 77 }; // an image point
    const rendered = toScreen(from, p);
    const moved = { x: rendered.x * t.scale + t.x, y: rendered.y * t.scale + t.y };
    const wanted = toScreen(to, p);
    expect(moved.x).toBeCloseTo(wanted.x);
    expect(moved.y).toBeCloseTo(wanted.y);
  });
});

import { describe, expect, it } from "vitest";
import { scrollFor, totalHeight, visibleRange } from "./virtual";

describe("visibleRange", () => {
  it("covers the rows that intersect the viewport", () => {
    expect(visibleRange(0, 100, 20, 1000)).toEqual({ start: 0, end: 5 });
    expect(visibleRange(10, 100, 20, 1000)).toEqual({ start: 0, end: 6 }); // rows 0 and 5 are half shown
    expect(visibleRange(200, 100, 20, 1000)).toEqual({ start: 10, end: 15 });
  });

  it("adds overscan on both sides within the list", () => {
    expect(visibleRange(200, 100, 20, 1000, 3)).toEqual({ start: 7, end: 18 });
    expect(visibleRange(0, 100, 20, 1000, 3)).toEqual({ start: 0, end: 8 });
    expect(visibleRange(19_900, 100, 20, 1000, 3)).toEqual({ start: 992, end: 1000 });
  });

  it("clamps odd input", () => {
    expect(visibleRange(0, 100, 20, 0)).toEqual({ start: 0, end: 0 });
    expect(visibleRange(0, 100, 0, 10)).toEqual({ start: 0, end: 0 });
    expect(visibleRange(-50, 100, 20, 3)).toEqual({ start: 0, end: 3 });
    expect(visibleRange(1e6, 100, 20, 10)).toEqual({ start: 9, end: 10 }); // past the end: the last row
    expect(visibleRange(40, 0, 20, 10)).toEqual({ start: 2, end: 3 }); // not measured yet: one row
    expect(visibleRange(Number.NaN, 100, 20, 10)).toEqual({ start: 0, end: 5 });
  });
});

describe("scrollFor", () => {
  it("leaves a visible row where it is", () => {
    expect(scrollFor(6, 100, 100, 20, 1000)).toBe(100);
    expect(scrollFor(5, 100, 100, 20, 1000)).toBe(100);
    expect(scrollFor(9, 100, 100, 20, 1000)).toBe(100);
  });

  it("scrolls up to put a row above at the top, down to put a row below at the bottom", () => {
    expect(scrollFor(2, 100, 100, 20, 1000)).toBe(40);
    expect(scrollFor(10, 100, 100, 20, 1000)).toBe(120);
    expect(scrollFor(50, 0, 100, 20, 1000)).toBe(920);
  });

  it("stays within the list and ignores indexes outside it", () => {
    expect(scrollFor(999, 0, 100, 20, 1000)).toBe(19_900);
    expect(scrollFor(1, 0, 500, 20, 3)).toBe(0);
    expect(scrollFor(1000, 40, 100, 20, 1000)).toBe(40);
    expect(scrollFor(-1, 40, 100, 20, 1000)).toBe(40);
    expect(scrollFor(1.5, 40, 100, 20, 1000)).toBe(40);
  });

  it("puts a row taller than the viewport at the top", () => {
    expect(scrollFor(3, 0, 10, 20, 100)).toBe(60);
  });
});

describe("totalHeight", () => {
  it("is rows times height", () => {
    expect(totalHeight(1000, 24)).toBe(24_000);
    expect(totalHeight(-1, 24)).toBe(0);
  });
});

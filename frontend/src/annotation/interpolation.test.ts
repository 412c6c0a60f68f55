// The port against the server's engine: the shared vectors (tests/vectors/interpolation.json,
// generated from Python and checked by pytest) must come out bit for bit, frame by frame.
import { describe, expect, it } from "vitest";
import vectorsText from "../../../tests/vectors/interpolation.json?raw";
import { interpolatePoints, keyframeAt, pyIsClose, pyMod, trackFrames, trackStateAt, type TrackState } from "./interpolation";
import type { ApiAttribute, ApiTrack, KeyShape, ShapeType, Track } from "./model";

interface ExpectedElement {
  label_id: number;
  points: number[];
  occluded: boolean;
  outside: boolean;
}

interface ExpectedState {
  frame: number;
  points: number[];
  rotation: number;
  occluded: boolean;
  outside: boolean;
  z_order: number;
  keyframe: boolean;
  attributes: ApiAttribute[];
  elements: ExpectedElement[];
}

interface Vectors {
  tracks: { name: string; stop_frame: number; track: ApiTrack; expected: ExpectedState[] }[];
  points: { name: string; type: ShapeType; a: number[]; b: number[]; t: number; expected: number[] }[];
}

const vectors = JSON.parse(vectorsText) as Vectors;

function attributes(list: readonly ApiAttribute[]): Record<number, string> {
  const out: Record<number, string> = {};
  for (const a of list) out[a.spec_id] = a.value;
  return out;
}

let ids = 1;
function toTrack(api: ApiTrack): Track {
  return {
    kind: "track",
    clientId: ids++,
    labelId: api.label_id,
    group: api.group ?? 0,
    source: api.source,
    attributes: attributes(api.attributes),
    shapes: api.shapes.map(
      (s): KeyShape => ({
        type: s.type,
        frame: s.frame,
        points: s.points,
        rotation: s.rotation,
        occluded: s.occluded,
        outside: s.outside,
        zOrder: s.z_order,
        attributes: attributes(s.attributes),
      }),
    ),
    elements: (api.elements ?? []).map(toTrack),
  };
}

/** Exact spelling of a number: equal strings <=> equal doubles (and -0 is not 0). */
function exact(values: readonly number[]): string[] {
  return values.map((v) => (Object.is(v, -0) ? "-0" : String(v)));
}

function normalise(s: TrackState): unknown {
  return {
    frame: s.frame,
    points: exact(s.points),
    rotation: exact([s.rotation]),
    occluded: s.occluded,
    outside: s.outside,
    zOrder: s.zOrder,
    keyframe: s.keyframe,
    attributes: Object.entries(s.attributes).sort(),
    elements: s.elements.map((e) => ({ labelId: e.labelId, points: exact(e.points), occluded: e.occluded, outside: e.outside })),
  };
}

function normaliseExpected(s: ExpectedState): unknown {
  return {
    frame: s.frame,
    points: exact(s.points),
    rotation: exact([s.rotation]),
    occluded: s.occluded,
    outside: s.outside,
    zOrder: s.z_order,
    keyframe: s.keyframe,
    attributes: s.attributes.map((a) => [String(a.spec_id), a.value]).sort(),
    elements: s.elements.map((e) => ({ labelId: e.label_id, points: exact(e.points), occluded: e.occluded, outside: e.outside })),
  };
}

describe("shared vectors", () => {
  it("has the cases the generator writes", () => {
    expect(vectors.tracks.length).toBeGreaterThanOrEqual(40);
    expect(vectors.points.length).toBeGreaterThanOrEqual(20);
  });

  it.each(vectors.tracks.map((c) => [c.name, c] as const))("trackFrames: %s", (_, c) => {
    const got = trackFrames(toTrack(c.track), c.stop_frame).map(normalise);
    expect(got).toEqual(c.expected.map(normaliseExpected));
  });

  it.each(vectors.tracks.map((c) => [c.name, c] as const))("trackStateAt on every frame: %s", (_, c) => {
    const track = toTrack(c.track);
    // a frame's last state wins (two keyframes on one frame), as the engine's per-frame lookups
    const byFrame = new Map(c.expected.map((s) => [s.frame, s]));
    const first = c.expected[0]?.frame ?? c.stop_frame + 1;
    for (let frame = first - 2; frame <= c.stop_frame; frame++) {
      const want = byFrame.get(frame);
      const got = trackStateAt(track, frame, c.stop_frame);
      expect(got === null ? null : normalise(got), `frame ${frame}`).toEqual(want === undefined ? null : normaliseExpected(want));
    }
    expect(trackStateAt(track, c.stop_frame + 1, c.stop_frame)).toBeNull();
  });

  it.each(vectors.points.map((c) => [c.name, c] as const))("interpolatePoints: %s", (_, c) => {
    expect(exact(interpolatePoints(c.type, c.a, c.b, c.t))).toEqual(exact(c.expected));
  });
});

describe("Python arithmetic", () => {
  it("pyMod is floored and never -0 for a positive divisor", () => {
    expect(pyMod(-10, 360)).toBe(350);
    expect(pyMod(370.5, 360)).toBe(10.5);
    expect(Object.is(pyMod(-0, 360), 0)).toBe(true);
    expect(Object.is(pyMod(-720, 360), 0)).toBe(true);
    expect(pyMod(10, -360)).toBe(-350);
    expect(-10 % 360).toBe(-10); // why pyMod exists
  });

  it("pyIsClose is math.isclose with rel_tol 1e-9", () => {
    expect(pyIsClose(359.99999999995, 360)).toBe(true);
    expect(pyIsClose(359.9999, 360)).toBe(false);
    expect(pyIsClose(0, 0)).toBe(true);
    expect(pyIsClose(Infinity, Infinity)).toBe(true);
    expect(pyIsClose(NaN, NaN)).toBe(false);
  });
});

describe("tracks in the workspace", () => {
  const box = (frame: number, points: number[], extra: Partial<KeyShape> = {}): KeyShape => ({
    type: "rectangle",
    frame,
    points,
    rotation: 0,
    occluded: false,
    outside: false,
    zOrder: 0,
    attributes: {},
    ...extra,
  });
  const track = (shapes: KeyShape[]): Track => ({ kind: "track", clientId: ids++, labelId: 1, group: 0, source: "manual", attributes: {}, shapes, elements: [] });

  it("is null before the first keyframe and holds after the last without a stop frame", () => {
    const t = track([box(5, [0, 0, 10, 10]), box(15, [10, 10, 20, 20])]);
    expect(trackStateAt(t, 4)).toBeNull();
    expect(trackStateAt(t, 10)?.points).toEqual([5, 5, 15, 15]);
    expect(trackStateAt(t, 1_000_000)?.points).toEqual([10, 10, 20, 20]);
    expect(trackStateAt(t, 1_000_000)?.keyframe).toBe(false);
  });

  it("finds keyframes by frame", () => {
    const keys = [box(0, [0, 0, 1, 1]), box(7, [1, 1, 2, 2])];
    const t = track(keys);
    expect(keyframeAt(t, 7)).toBe(keys[1]);
    expect(keyframeAt(t, 3)).toBeUndefined();
    expect(keyframeAt(t, -1)).toBeUndefined();
  });

  it("returns points a caller may change without touching the keyframe", () => {
    const keys = [box(0, [0, 0, 1, 1])];
    const state = trackStateAt(track(keys), 0);
    state?.points.push(99);
    expect(keys[0]?.points).toEqual([0, 0, 1, 1]);
  });

  it("sees a new shapes array (an edited track) at once", () => {
    const a = track([box(0, [0, 0, 10, 10]), box(10, [10, 10, 20, 20])]);
    expect(trackStateAt(a, 5)?.points).toEqual([5, 5, 15, 15]);
    const b: Track = { ...a, shapes: [a.shapes[0] as KeyShape, box(10, [20, 20, 30, 30], { attributes: { 3: "x" } })] };
    expect(trackStateAt(b, 5)?.points).toEqual([10, 10, 20, 20]);
    expect(trackStateAt(b, 10)?.attributes).toEqual({ 3: "x" });
    expect(trackStateAt(a, 10)?.attributes).toEqual({});
  });

  it("answers a frame of a long track quickly", () => {
    const keys = Array.from({ length: 5000 }, (_, i) => box(i * 2, [i, i, i + 10, i + 10], { attributes: { 1: String(i) } }));
    const t = track(keys);
    trackStateAt(t, 0); // prepares once
    const start = performance.now();
    for (let f = 0; f < 10_000; f++) trackStateAt(t, f);
    expect(performance.now() - start).toBeLessThan(1000); // ~10 ms; a per-call walk over 5000 keyframes takes seconds
    expect(trackStateAt(t, 9999)?.attributes).toEqual({ 1: "4999" });
    expect(trackStateAt(t, 3)?.points).toEqual([1.5, 1.5, 11.5, 11.5]);
  });
});

// Track interpolation in the browser: a port of the server's engine
// (layers/core/cvat_serverless/domain/interpolation.py) that gives the same numbers, bit for bit,
// so a track looks on the canvas exactly as it exports. Shared JSON vectors
// (tests/vectors/interpolation.json) are checked by this port's tests and by pytest.
//
// Exactness: every operation is done in the order Python does it; Python's floored `%`,
// `bisect_right`, `sorted(set(...))` and `math.isclose` are mirrored below; arc lengths use
// sqrt(dx*dx + dy*dy) on both sides (sqrt is correctly rounded everywhere, hypot is not).
//
// Speed: `trackStateAt` runs for every track on every frame change, so a track's keyframes are
// prepared once per `shapes` array (sorted frames, mutable attributes in effect at each keyframe)
// and a frame is found by binary search.
import type { KeyShape, ShapeType, Track } from "./model";

export interface TrackStateElement {
  labelId: number;
  points: number[];
  occluded: boolean;
  outside: boolean;
}

/** A track's state on one frame, as the server's `_walk` yields it. */
export interface TrackState {
  frame: number;
  points: number[];
  rotation: number;
  occluded: boolean;
  outside: boolean;
  zOrder: number;
  keyframe: boolean;
  /** the mutable attributes in effect on this frame (frozen: shared between frames) */
  attributes: Record<number, string>;
  /** skeletons: one per element track, in the order of `track.elements` */
  elements: TrackStateElement[];
}

// --------------------------------------------------------------------------- Python's arithmetic

/** Python's float `%` (floored; a zero result takes the divisor's sign). */
export function pyMod(a: number, b: number): number {
  let m = a % b;
  if (m !== 0) {
    if (b < 0 !== m < 0) m += b;
  } else {
    m = b < 0 ? -0 : 0;
  }
  return m;
}

/** `math.isclose(a, b)` with its defaults (rel_tol 1e-9, abs_tol 0). */
export function pyIsClose(a: number, b: number): boolean {
  if (a === b) return true;
  if (!Number.isFinite(a) || !Number.isFinite(b)) return false;
  const diff = Math.abs(b - a);
  return diff <= Math.abs(1e-9 * b) || diff <= Math.abs(1e-9 * a);
}

/** `bisect.bisect_right(sorted, x)`. */
function bisectRight(sorted: readonly number[], x: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (x < (sorted[mid] as number)) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

// --------------------------------------------------------------------------- geometry

function lerp(a: readonly number[], b: readonly number[], t: number): number[] {
  if (a.length !== b.length) throw new Error(`cannot interpolate ${a.length} numbers to ${b.length}`);
  const out = new Array<number>(a.length);
  for (let i = 0; i < a.length; i++) {
    const x = a[i] as number;
    out[i] = x + ((b[i] as number) - x) * t;
  }
  return out;
}

function lerpAngle(a: number, b: number, t: number): number {
  const delta = pyMod(b - a + 180.0, 360.0) - 180.0;
  const value = pyMod(a + delta * t, 360.0);
  return pyIsClose(value, 360.0) ? 0.0 : value;
}

/** x, y of each vertex (an odd trailing number is dropped, as Python's `_pairs`). */
type Outline = { xs: number[]; ys: number[] };

function pairs(points: readonly number[], closed: boolean): Outline {
  const xs: number[] = [];
  const ys: number[] = [];
  for (let i = 0; i < points.length - 1; i += 2) {
    xs.push(points[i] as number);
    ys.push(points[i + 1] as number);
  }
  if (closed) {
    xs.push(xs[0] as number);
    ys.push(ys[0] as number);
  }
  return { xs, ys };
}

function arcParams({ xs, ys }: Outline): number[] {
  const lengths = [0.0];
  for (let i = 1; i < xs.length; i++) {
    const dx = (xs[i] as number) - (xs[i - 1] as number);
    const dy = (ys[i] as number) - (ys[i - 1] as number);
    lengths.push((lengths[i - 1] as number) + Math.sqrt(dx * dx + dy * dy));
  }
  const total = lengths[lengths.length - 1] as number;
  if (total <= 0.0) {
    const n = xs.length - 1;
    return xs.map((_, i) => (n ? i / n : 0.0));
  }
  return lengths.map((v) => v / total);
}

function sample({ xs, ys }: Outline, params: readonly number[], t: number): [number, number] {
  if (xs.length === 1) return [xs[0] as number, ys[0] as number];
  let i = bisectRight(params, t) - 1;
  i = Math.max(0, Math.min(i, xs.length - 2));
  const p0 = params[i] as number;
  const span = (params[i + 1] as number) - p0;
  let u = span <= 0 ? 0.0 : (t - p0) / span;
  u = u < 1.0 ? u : 1.0; // Python's min(1.0, u)
  u = u > 0.0 ? u : 0.0; // max(0.0, u)
  const x0 = xs[i] as number;
  const y0 = ys[i] as number;
  return [x0 + ((xs[i + 1] as number) - x0) * u, y0 + ((ys[i + 1] as number) - y0) * u];
}

/** `sorted(set(a) | set(b))`. */
function sortedUnion(a: readonly number[], b: readonly number[]): number[] {
  const all = [...a, ...b].sort((x, y) => x - y);
  const out: number[] = [];
  for (const v of all) if (out.length === 0 || v !== out[out.length - 1]) out.push(v);
  return out;
}

function polyshape(a: readonly number[], b: readonly number[], t: number, closed: boolean): number[] {
  const xa = pairs(a, closed);
  const xb = pairs(b, closed);
  const pa = arcParams(xa);
  const pb = arcParams(xb);
  let merged: number[] = [];
  for (const u of sortedUnion(pa, pb)) {
    // drop near-duplicate positions so no vertex is emitted twice
    if (merged.length === 0 || u - (merged[merged.length - 1] as number) > 1e-9) merged.push(u);
  }
  if (closed && merged.length > 1) merged.pop(); // 1.0 is the start again
  const needed = Math.floor(Math.max(a.length, b.length) / 2);
  if (merged.length < needed) {
    // repeated vertices collapsed: sample evenly instead
    const step = closed ? needed : Math.max(needed - 1, 1);
    merged = Array.from({ length: needed }, (_, i) => i / step);
  }
  const out = new Array<number>(merged.length * 2);
  merged.forEach((u, k) => {
    const [ax, ay] = sample(xa, pa, u);
    const [bx, by] = sample(xb, pb, u);
    out[2 * k] = ax + (bx - ax) * t;
    out[2 * k + 1] = ay + (by - ay) * t;
  });
  return out;
}

/** The geometry of a shape of `type` a fraction `t` (0..1) of the way from `a` to `b`. */
export function interpolatePoints(type: ShapeType, a: readonly number[], b: readonly number[], t: number): number[] {
  if (type === "rectangle" || type === "ellipse" || type === "cuboid") return lerp(a, b, t);
  if (type === "points" && a.length === b.length) return lerp(a, b, t);
  if (type === "polygon" || type === "polyline" || type === "points") return polyshape(a, b, t, type === "polygon");
  return a.slice(); // masks and skeletons (whose geometry is in the elements) do not move
}

// --------------------------------------------------------------------------- tracks -> frames

interface Prepared {
  keys: readonly KeyShape[]; // sorted by frame (stable)
  frames: number[];
  attributes: Readonly<Record<number, string>>[]; // in effect from keys[i] on
}

const prepared = new WeakMap<readonly KeyShape[], Prepared>();

function prepare(shapes: readonly KeyShape[]): Prepared {
  const cached = prepared.get(shapes);
  if (cached) return cached;
  let sorted = true;
  for (let i = 1; i < shapes.length; i++) if ((shapes[i] as KeyShape).frame < (shapes[i - 1] as KeyShape).frame) sorted = false;
  const keys = sorted ? shapes : [...shapes].sort((x, y) => x.frame - y.frame);
  const attributes: Readonly<Record<number, string>>[] = [];
  let current: Record<number, string> = {};
  for (const key of keys) {
    current = Object.freeze({ ...current, ...key.attributes });
    attributes.push(current);
  }
  const result: Prepared = { keys, frames: keys.map((k) => k.frame), attributes };
  prepared.set(shapes, result);
  return result;
}

/** The state of the prepared keyframes on `frame` (index: the last keyframe at or before it). */
function stateOf(p: Prepared, i: number, frame: number): TrackState {
  const a = p.keys[i] as KeyShape;
  const attributes = p.attributes[i] as Record<number, string>;
  const base = { frame, occluded: a.occluded, outside: a.outside, zOrder: a.zOrder, attributes, elements: [] };
  if (frame === a.frame) return { ...base, points: a.points.slice(), rotation: a.rotation, keyframe: true };
  const b = p.keys[i + 1];
  if (b !== undefined && !a.outside) {
    const t = (frame - a.frame) / (b.frame - a.frame);
    return {
      ...base,
      points: interpolatePoints(a.type, a.points, b.points, t),
      rotation: lerpAngle(a.rotation, b.rotation, t),
      keyframe: false,
    };
  }
  return { ...base, points: a.points.slice(), rotation: a.rotation, keyframe: false };
}

function plainStateAt(shapes: readonly KeyShape[], frame: number): TrackState | null {
  const p = prepare(shapes);
  const i = bisectRight(p.frames, frame) - 1;
  return i < 0 ? null : stateOf(p, i, frame);
}

function elementAt(element: Track, frame: number, stopFrame: number | undefined): TrackStateElement {
  const state = plainStateAt(element.shapes, frame);
  if (state !== null) return { labelId: element.labelId, points: state.points, occluded: state.occluded, outside: state.outside };
  // no state on this frame: outside, where the element first appears (Python's `element_first`)
  const p = prepare(element.shapes);
  const firstFrame = p.frames[0];
  const first = firstFrame === undefined || (stopFrame !== undefined && firstFrame > stopFrame) ? null : plainStateAt(element.shapes, firstFrame);
  return { labelId: element.labelId, points: first ? first.points : [0.0, 0.0], occluded: first ? first.occluded : false, outside: true };
}

function withElements(track: Track, state: TrackState, stopFrame: number | undefined): TrackState {
  if (track.elements.length > 0) state.elements = track.elements.map((e) => elementAt(e, state.frame, stopFrame));
  return state;
}

/**
 * The track on `frame`: null before its first keyframe (and past `stopFrame`); between keyframes
 * interpolated (held after an outside keyframe, flagged outside); after the last keyframe held.
 */
export function trackStateAt(track: Track, frame: number, stopFrame?: number): TrackState | null {
  if (stopFrame !== undefined && frame > stopFrame) return null;
  const state = plainStateAt(track.shapes, frame);
  return state === null ? null : withElements(track, state, stopFrame);
}

/** Every frame from the first keyframe to `stopFrame` (inclusive), outside ones too, as `_walk`. */
export function trackFrames(track: Track, stopFrame: number): TrackState[] {
  const p = prepare(track.shapes);
  const out: TrackState[] = [];
  for (let i = 0; i < p.keys.length; i++) {
    const a = p.keys[i] as KeyShape;
    if (a.frame > stopFrame) break;
    const next = p.keys[i + 1];
    const end = Math.min(next !== undefined ? next.frame : stopFrame + 1, stopFrame + 1);
    for (let frame = a.frame; frame < end || frame === a.frame; frame++) {
      out.push(withElements(track, stateOf(p, i, frame), stopFrame));
    }
  }
  return out;
}

/** The keyframe on `frame` (the last one if several share it), or undefined. */
export function keyframeAt(track: Track, frame: number): KeyShape | undefined {
  const p = prepare(track.shapes);
  const i = bisectRight(p.frames, frame) - 1;
  const key = p.keys[i];
  return key !== undefined && key.frame === frame ? key : undefined;
}

// The geometry behind the draw and edit tools, as pure functions over CVAT's points encodings, so
// that it is tested in node (Konva needs a canvas; these do not). Image pixel coordinates throughout.
//
// Encodings (CVAT's): rectangle [x1, y1, x2, y2] + rotation about the centre in degrees [0, 360);
// ellipse [cx, cy, cx + rx, cy - ry]; cuboid 8 points (16 numbers) in the order front-left top,
// front-left bottom, front-right top, front-right bottom, back-right top, back-right bottom,
// back-left top, back-left bottom (CVAT's xtl1..ybr2 attributes of the XML in that order);
// polygons/polylines/points flat [x, y, ...]; masks RLE + [left, top, right, bottom].
import type { ShapeType } from "../../model";
import type { Point } from "../types";

export type Rect = [number, number, number, number];

// --- rectangles ------------------------------------------------------------------------------

export function rectFromCorners(a: Point, b: Point): Rect {
  return [Math.min(a.x, b.x), Math.min(a.y, b.y), Math.max(a.x, b.x), Math.max(a.y, b.y)];
}

/** CVAT's "By 4 points": the bounding box of the extreme points clicked. */
export function rectFromPoints(points: readonly Point[]): Rect {
  const xs = points.map((p) => p.x);
  const ys = points.map((p) => p.y);
  return [Math.min(...xs), Math.min(...ys), Math.max(...xs), Math.max(...ys)];
}

/** Boxes under a pixel in either direction are drawing slips, not shapes. */
export function isTinyRect(rect: Rect, min = 1): boolean {
  return rect[2] - rect[0] < min || rect[3] - rect[1] < min;
}

export function clampRect(rect: Rect, width: number, height: number): Rect {
  const cx = (v: number) => Math.min(Math.max(v, 0), width);
  const cy = (v: number) => Math.min(Math.max(v, 0), height);
  return [cx(rect[0]), cy(rect[1]), cx(rect[2]), cy(rect[3])];
}

export function normalizeAngle(degrees: number): number {
  const a = degrees % 360;
  const n = a < 0 ? a + 360 : a;
  // Konva's radians round trip leaves 89.99999999999999 for a snapped quarter turn
  const whole = Math.round(n);
  const snapped = Math.abs(n - whole) < 1e-9 ? whole : n;
  return snapped >= 360 ? 0 : snapped;
}

/** Konva's view of a node: (x, y) is the top-left corner after rotation about it. */
export interface NodeAttrs {
  x: number;
  y: number;
  width: number;
  height: number;
  rotation: number;
  scaleX?: number;
  scaleY?: number;
}

function rotate(v: Point, degrees: number): Point {
  const t = (degrees * Math.PI) / 180;
  const c = Math.cos(t);
  const s = Math.sin(t);
  return { x: v.x * c - v.y * s, y: v.x * s + v.y * c };
}

/** A CVAT rectangle (rotated about its centre) as the attributes of a Konva.Rect. */
export function rectToNode(points: readonly number[], rotation: number): NodeAttrs {
  const [x1 = 0, y1 = 0, x2 = 0, y2 = 0] = points;
  const width = x2 - x1;
  const height = y2 - y1;
  const centre = { x: (x1 + x2) / 2, y: (y1 + y2) / 2 };
  const corner = rotate({ x: -width / 2, y: -height / 2 }, rotation);
  return { x: centre.x + corner.x, y: centre.y + corner.y, width, height, rotation };
}

/** A Konva.Rect after a Transformer (scale folded in) back to CVAT's rectangle. */
export function nodeToRect(node: NodeAttrs): { points: Rect; rotation: number } {
  const width = node.width * Math.abs(node.scaleX ?? 1);
  const height = node.height * Math.abs(node.scaleY ?? 1);
  const half = rotate({ x: width / 2, y: height / 2 }, node.rotation);
  const cx = node.x + half.x;
  const cy = node.y + half.y;
  return { points: [cx - width / 2, cy - height / 2, cx + width / 2, cy + height / 2], rotation: normalizeAngle(node.rotation) };
}

// --- ellipses --------------------------------------------------------------------------------

export interface EllipseGeometry {
  cx: number;
  cy: number;
  rx: number;
  ry: number;
}

export function encodeEllipse(e: EllipseGeometry): number[] {
  return [e.cx, e.cy, e.cx + e.rx, e.cy - e.ry];
}

export function decodeEllipse(points: readonly number[]): EllipseGeometry {
  const [cx = 0, cy = 0, rightX = 0, topY = 0] = points;
  return { cx, cy, rx: Math.abs(rightX - cx), ry: Math.abs(cy - topY) };
}

/** Dragged from the centre to a point on the ellipse's bounding box. */
export function ellipseFromCentre(centre: Point, p: Point): EllipseGeometry {
  return { cx: centre.x, cy: centre.y, rx: Math.abs(p.x - centre.x), ry: Math.abs(p.y - centre.y) };
}

/** Dragged corner to corner of its bounding box. */
export function ellipseFromBox(rect: Rect): EllipseGeometry {
  return { cx: (rect[0] + rect[2]) / 2, cy: (rect[1] + rect[3]) / 2, rx: (rect[2] - rect[0]) / 2, ry: (rect[3] - rect[1]) / 2 };
}

// --- cuboids ---------------------------------------------------------------------------------

/** CVAT's depth for a cuboid drawn "from rectangle": a tenth of the box, up and to the right. */
export const CUBOID_DEPTH = 0.1;
export const CUBOID_FRONT = [0, 1, 2, 3] as const; // tl, bl, tr, br of the front face
export const CUBOID_BACK = [6, 7, 4, 5] as const; // tl, bl, tr, br of the back face
/** The edges between the 8 points, for drawing. */
export const CUBOID_EDGES: readonly [number, number][] = [
  [0, 1], [2, 3], [0, 2], [1, 3], // front
  [6, 7], [4, 5], [6, 4], [7, 5], // back
  [0, 6], [1, 7], [2, 4], [3, 5], // sides
];

export function cuboidFromRect(rect: Rect, depth = CUBOID_DEPTH): number[] {
  const [x1, y1, x2, y2] = rect;
  const dx = (x2 - x1) * depth;
  const dy = -(y2 - y1) * depth;
  return [x1, y1, x1, y2, x2, y1, x2, y2, x2 + dx, y1 + dy, x2 + dx, y2 + dy, x1 + dx, y1 + dy, x1 + dx, y2 + dy];
}

function pointAt(points: readonly number[], i: number): Point {
  return { x: points[2 * i] ?? 0, y: points[2 * i + 1] ?? 0 };
}

const OPPOSITE_FRONT: Record<number, number> = { 0: 3, 3: 0, 1: 2, 2: 1 };

/**
 * A front-face corner (0..3) dragged to `p`: the opposite front corner stays, the whole cuboid is
 * scaled about it (so the back face keeps its place relative to the front). The corner cannot
 * cross the opposite one (the face would turn inside out); it stops `min` px short.
 */
export function cuboidMoveFrontVertex(points: readonly number[], index: number, p: Point, min = 1): number[] {
  const fixed = pointAt(points, OPPOSITE_FRONT[index] ?? 3);
  const old = pointAt(points, index);
  const scaleAxis = (from: number, to: number, anchor: number): number => {
    const span = from - anchor;
    if (Math.abs(span) < 1e-9) return 1;
    const sign = Math.sign(span);
    const limited = sign > 0 ? Math.max(to, anchor + min) : Math.min(to, anchor - min);
    return (limited - anchor) / span;
  };
  const sx = scaleAxis(old.x, p.x, fixed.x);
  const sy = scaleAxis(old.y, p.y, fixed.y);
  return points.map((v, i) => (i % 2 === 0 ? fixed.x + (v - fixed.x) * sx : fixed.y + (v - fixed.y) * sy));
}

/** The back face moved by (dx, dy): the cuboid's depth changes, the front stays. */
export function cuboidMoveBack(points: readonly number[], dx: number, dy: number): number[] {
  const back = new Set<number>(CUBOID_BACK);
  return points.map((v, i) => (back.has(Math.floor(i / 2)) ? v + (i % 2 === 0 ? dx : dy) : v));
}

// --- any flat point list ---------------------------------------------------------------------

export function translatePoints(points: readonly number[], dx: number, dy: number): number[] {
  return points.map((v, i) => v + (i % 2 === 0 ? dx : dy));
}

export function clampPoints(points: readonly number[], width: number, height: number): number[] {
  return points.map((v, i) => Math.min(Math.max(v, 0), i % 2 === 0 ? width : height));
}

export function bboxOf(points: readonly number[]): Rect {
  let x1 = Infinity;
  let y1 = Infinity;
  let x2 = -Infinity;
  let y2 = -Infinity;
  for (let i = 0; i + 1 < points.length; i += 2) {
    const x = points[i]!;
    const y = points[i + 1]!;
    x1 = Math.min(x1, x);
    y1 = Math.min(y1, y);
    x2 = Math.max(x2, x);
    y2 = Math.max(y2, y);
  }
  return [x1, y1, x2, y2];
}

/** A move of a whole shape limited so that its bounding box stays inside the frame (no squashing). */
export function clampDelta(bbox: Rect, dx: number, dy: number, width: number, height: number): Point {
  const x = Math.min(Math.max(dx, -bbox[0]), width - bbox[2]);
  const y = Math.min(Math.max(dy, -bbox[1]), height - bbox[3]);
  return { x: bbox[2] - bbox[0] > width ? dx : x, y: bbox[3] - bbox[1] > height ? dy : y };
}

// --- polygons, polylines, points -------------------------------------------------------------

export function minPoints(type: ShapeType): number {
  if (type === "polygon") return 3;
  if (type === "polyline") return 2;
  return 1;
}

/** A vertex inserted after vertex `after` (on the edge after -> after + 1). */
export function insertVertex(points: readonly number[], after: number, p: Point): number[] {
  const at = 2 * (after + 1);
  return [...points.slice(0, at), p.x, p.y, ...points.slice(at)];
}

/** Vertex `index` removed, or null where that would leave fewer than `min` points. */
export function removeVertex(points: readonly number[], index: number, min: number): number[] | null {
  if (points.length / 2 - 1 < min || index < 0 || 2 * index >= points.length) return null;
  return [...points.slice(0, 2 * index), ...points.slice(2 * index + 2)];
}

export function moveVertex(points: readonly number[], index: number, p: Point): number[] {
  const out = [...points];
  out[2 * index] = p.x;
  out[2 * index + 1] = p.y;
  return out;
}

/** The middles of the edges (closed: the last one wraps to the first), `after` = the edge's first vertex. */
export function edgeMidpoints(points: readonly number[], closed: boolean): { after: number; x: number; y: number }[] {
  const n = Math.floor(points.length / 2);
  const out: { after: number; x: number; y: number }[] = [];
  const edges = closed && n >= 3 ? n : n - 1;
  for (let i = 0; i < edges; i += 1) {
    const a = pointAt(points, i);
    const b = pointAt(points, (i + 1) % n);
    out.push({ after: i, x: (a.x + b.x) / 2, y: (a.y + b.y) / 2 });
  }
  return out;
}

/** Whether a polygon-like drawing may finish with these points. */
export function canFinish(type: ShapeType, points: readonly number[]): boolean {
  return points.length / 2 >= minPoints(type);
}

/** CVAT's shift-drag: a new point once the pointer is `step` screen px from the last one. */
export function farEnough(last: Point | null, now: Point, step: number): boolean {
  return last === null || Math.hypot(now.x - last.x, now.y - last.y) >= step;
}

// --- masks -----------------------------------------------------------------------------------

export interface Bounds {
  left: number;
  top: number;
  right: number; // inclusive
  bottom: number; // inclusive
}

/** A disc of `diameter` px centred on (cx, cy) set to `value` (1 paint, 0 erase); returns the touched pixels' bounds. */
export function stampDisc(buf: Uint8Array, width: number, height: number, cx: number, cy: number, diameter: number, value: 0 | 1): Bounds | null {
  const r = Math.max(diameter, 1) / 2;
  const left = Math.max(0, Math.floor(cx - r));
  const right = Math.min(width - 1, Math.ceil(cx + r));
  const top = Math.max(0, Math.floor(cy - r));
  const bottom = Math.min(height - 1, Math.ceil(cy + r));
  if (left > right || top > bottom) return null;
  const r2 = r * r;
  let touched = false;
  for (let y = top; y <= bottom; y += 1) {
    const dy = y + 0.5 - cy;
    for (let x = left; x <= right; x += 1) {
      const dx = x + 0.5 - cx;
      if (dx * dx + dy * dy <= r2) {
        buf[y * width + x] = value;
        touched = true;
      }
    }
  }
  // a brush of 1 px always paints the pixel under the pointer
  if (!touched && cx >= 0 && cy >= 0 && cx < width && cy < height) {
    buf[Math.floor(cy) * width + Math.floor(cx)] = value;
  }
  return { left, top, right, bottom };
}

/** Discs along a pointer move a to b, close enough to leave no gaps. */
export function stampLine(buf: Uint8Array, width: number, height: number, a: Point, b: Point, diameter: number, value: 0 | 1): Bounds | null {
  const step = Math.max(diameter / 4, 0.5);
  const steps = Math.max(1, Math.ceil(Math.hypot(b.x - a.x, b.y - a.y) / step));
  let bounds: Bounds | null = null;
  for (let i = 0; i <= steps; i += 1) {
    const t = i / steps;
    bounds = unionBounds(bounds, stampDisc(buf, width, height, a.x + (b.x - a.x) * t, a.y + (b.y - a.y) * t, diameter, value));
  }
  return bounds;
}

export function unionBounds(a: Bounds | null, b: Bounds | null): Bounds | null {
  if (!a) return b;
  if (!b) return a;
  return { left: Math.min(a.left, b.left), top: Math.min(a.top, b.top), right: Math.max(a.right, b.right), bottom: Math.max(a.bottom, b.bottom) };
}

/** A polygon (flat, image px) filled into the buffer: the pixels whose centres lie inside (even-odd). */
export function fillPolygon(buf: Uint8Array, width: number, height: number, polygon: readonly number[], value: 0 | 1): void {
  const n = Math.floor(polygon.length / 2);
  if (n < 3) return;
  const [, y1, , y2] = bboxOf(polygon);
  const top = Math.max(0, Math.floor(y1));
  const bottom = Math.min(height - 1, Math.ceil(y2));
  for (let y = top; y <= bottom; y += 1) {
    const sy = y + 0.5;
    const xs: number[] = [];
    for (let i = 0; i < n; i += 1) {
      const a = pointAt(polygon, i);
      const b = pointAt(polygon, (i + 1) % n);
      if ((a.y <= sy && b.y > sy) || (b.y <= sy && a.y > sy)) xs.push(a.x + ((sy - a.y) / (b.y - a.y)) * (b.x - a.x));
    }
    xs.sort((p, q) => p - q);
    for (let k = 0; k + 1 < xs.length; k += 2) {
      const from = Math.max(0, Math.ceil(xs[k]! - 0.5));
      const to = Math.min(width - 1, Math.floor(xs[k + 1]! - 0.5));
      for (let x = from; x <= to; x += 1) buf[y * width + x] = value;
    }
  }
}

/** The set pixels' bounding box, cut out (row-major, 0/1), or null for an empty buffer. */
export function cropMask(buf: Uint8Array, width: number, height: number): { data: Uint8Array; bounds: Bounds } | null {
  let left = width;
  let top = height;
  let right = -1;
  let bottom = -1;
  for (let y = 0; y < height; y += 1) {
    const row = y * width;
    for (let x = 0; x < width; x += 1) {
      if (buf[row + x]) {
        if (x < left) left = x;
        if (x > right) right = x;
        if (y < top) top = y;
        bottom = y;
      }
    }
  }
  if (right < 0) return null;
  const w = right - left + 1;
  const h = bottom - top + 1;
  const data = new Uint8Array(w * h);
  for (let y = 0; y < h; y += 1) data.set(buf.subarray((top + y) * width + left, (top + y) * width + left + w), y * w);
  return { data, bounds: { left, top, right, bottom } };
}

/** A mask moved by whole pixels: CVAT's RLE is relative to its box, so only the box changes. */
export function translateMask(points: readonly number[], dx: number, dy: number): number[] {
  const n = points.length;
  const ix = Math.round(dx);
  const iy = Math.round(dy);
  return points.map((v, i) => (i < n - 4 ? v : v + (i % 2 === (n - 4) % 2 ? ix : iy)));
}

/** The box of a mask's points: [left, top, right, bottom] (inclusive). */
export function maskBounds(points: readonly number[]): Rect {
  const n = points.length;
  return [points[n - 4] ?? 0, points[n - 3] ?? 0, points[n - 2] ?? 0, points[n - 1] ?? 0];
}

/** The RLE with the box after it; tolerant of an encoder that already appends the box. */
export function withMaskBounds(encoded: readonly number[], bounds: Bounds): number[] {
  const tail = [bounds.left, bounds.top, bounds.right, bounds.bottom];
  const area = (bounds.right - bounds.left + 1) * (bounds.bottom - bounds.top + 1);
  const sum = (values: readonly number[]) => values.reduce((s, v) => s + v, 0);
  const n = encoded.length;
  const hasTail = n >= 4 && tail.every((v, i) => encoded[n - 4 + i] === v) && sum(encoded.slice(0, n - 4)) === area;
  return hasTail ? [...encoded] : [...encoded, ...tail];
}

// --- skeletons -------------------------------------------------------------------------------

/** Template nodes (0..100 coordinates) scaled from their own bounding box into `rect`. */
export function fitTemplate(nodes: readonly { x: number; y: number }[], rect: Rect): Point[] {
  if (nodes.length === 0) return [];
  const [x1, y1, x2, y2] = bboxOf(nodes.flatMap((n) => [n.x, n.y]));
  const w = rect[2] - rect[0];
  const h = rect[3] - rect[1];
  const map = (v: number, from: number, span: number, to: number, size: number) => (span > 0 ? to + ((v - from) / span) * size : to + size / 2);
  return nodes.map((n) => ({ x: map(n.x, x1, x2 - x1, rect[0], w), y: map(n.y, y1, y2 - y1, rect[1], h) }));
}

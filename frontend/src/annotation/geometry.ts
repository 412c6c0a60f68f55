// Plane geometry for the canvas: bounding boxes (for the spatial index and fitting), hit tests
// (which object is under the pointer) and small helpers, over CVAT's points encodings:
// rectangles x1,y1,x2,y2 turned `rotation` degrees clockwise (on screen, y down) about their
// centre; ellipses cx,cy,cx+rx,cy-ry, turned the same way; cuboids 8 points; masks RLE then
// left,top,right,bottom (inclusive pixels: the mask covers [left, right + 1) x [top, bottom + 1));
// skeletons have their geometry in their elements. Pure and allocation-light: `hit` runs for many
// objects on every pointer move.
import type { Point } from "./canvas/types";
import { decodeMask, type Mask, maskArea } from "./mask";
import type { FrameObject, ShapeType } from "./model";

export interface Box {
  x1: number;
  y1: number;
  x2: number;
  y2: number;
}

/** `p` turned `degrees` clockwise (on screen) about `center`. */
export function rotatePoint(p: Point, center: Point, degrees: number): Point {
  if (degrees === 0) return { x: p.x, y: p.y };
  const a = (degrees * Math.PI) / 180;
  const cos = Math.cos(a);
  const sin = Math.sin(a);
  const dx = p.x - center.x;
  const dy = p.y - center.y;
  return { x: center.x + dx * cos - dy * sin, y: center.y + dx * sin + dy * cos };
}

/** x1,y1,x2,y2 with x1 <= x2 and y1 <= y2. */
export function normalizeRect(points: readonly number[]): [number, number, number, number] {
  const [a = 0, b = 0, c = 0, d = 0] = points;
  return [Math.min(a, c), Math.min(b, d), Math.max(a, c), Math.max(b, d)];
}

/** Every x within [0, width] and every y within [0, height]. */
export function clampPoints(points: readonly number[], width: number, height: number): number[] {
  return points.map((v, i) => Math.min(Math.max(v, 0), i % 2 === 0 ? width : height));
}

/** Even-odd rule; `polygon` is x0,y0,x1,y1,... (closed implicitly). Points on the left and top
 * edges count as inside, on the right and bottom ones as outside (as mask.ts fills pixels). */
export function pointInPolygon(p: Point, polygon: readonly number[]): boolean {
  const n = Math.floor(polygon.length / 2);
  let inside = false;
  for (let i = 0, j = n - 1; i < n; j = i++) {
    const xi = polygon[2 * i] as number;
    const yi = polygon[2 * i + 1] as number;
    const xj = polygon[2 * j] as number;
    const yj = polygon[2 * j + 1] as number;
    if (yi > p.y !== yj > p.y && p.x < ((xj - xi) * (p.y - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

/** Distance from `p` to the segment a-b. */
export function distanceToSegment(p: Point, a: Point, b: Point): number {
  const dx = b.x - a.x;
  const dy = b.y - a.y;
  const len2 = dx * dx + dy * dy;
  let t = len2 === 0 ? 0 : ((p.x - a.x) * dx + (p.y - a.y) * dy) / len2;
  t = Math.max(0, Math.min(1, t));
  return Math.hypot(p.x - (a.x + t * dx), p.y - (a.y + t * dy));
}

/** Distance from `p` to the outline through `points` (closed: back to the first point). */
export function distanceToOutline(p: Point, points: readonly number[], closed: boolean): number {
  const n = Math.floor(points.length / 2);
  if (n === 0) return Infinity;
  if (n === 1) return Math.hypot(p.x - (points[0] as number), p.y - (points[1] as number));
  let best = Infinity;
  const last = closed ? n : n - 1;
  for (let i = 0; i < last; i++) {
    const j = (i + 1) % n;
    const a = { x: points[2 * i] as number, y: points[2 * i + 1] as number };
    const b = { x: points[2 * j] as number, y: points[2 * j + 1] as number };
    best = Math.min(best, distanceToSegment(p, a, b));
  }
  return best;
}

function boxOfPoints(points: readonly number[]): Box {
  if (points.length < 2) return { x1: 0, y1: 0, x2: 0, y2: 0 };
  let x1 = Infinity;
  let y1 = Infinity;
  let x2 = -Infinity;
  let y2 = -Infinity;
  for (let i = 0; i + 1 < points.length; i += 2) {
    const x = points[i] as number;
    const y = points[i + 1] as number;
    if (x < x1) x1 = x;
    if (x > x2) x2 = x;
    if (y < y1) y1 = y;
    if (y > y2) y2 = y;
  }
  return { x1, y1, x2, y2 };
}

/** The four corners of a (turned) rectangle, x,y each, clockwise from the top-left. */
export function rectangleCorners(points: readonly number[], rotation: number): number[] {
  const [x1, y1, x2, y2] = normalizeRect(points);
  const c = { x: (x1 + x2) / 2, y: (y1 + y2) / 2 };
  const out: number[] = [];
  for (const [x, y] of [
    [x1, y1],
    [x2, y1],
    [x2, y2],
    [x1, y2],
  ] as const) {
    const q = rotatePoint({ x, y }, c, rotation);
    out.push(q.x, q.y);
  }
  return out;
}

interface EllipseParams {
  cx: number;
  cy: number;
  rx: number;
  ry: number;
}

function ellipseParams(points: readonly number[]): EllipseParams {
  const [cx = 0, cy = 0, px = 0, py = 0] = points;
  return { cx, cy, rx: Math.abs(px - cx), ry: Math.abs(cy - py) };
}

/** The axis-aligned bounding box of a shape's geometry (a skeleton's points are its elements':
 * use `bboxOfObject`). An empty geometry gives a zero box at 0, 0. */
export function bbox(type: ShapeType, points: readonly number[], rotation: number): Box {
  switch (type) {
    case "rectangle":
      return rotation === 0 ? boxOf4(normalizeRect(points)) : boxOfPoints(rectangleCorners(points, rotation));
    case "ellipse": {
      const { cx, cy, rx, ry } = ellipseParams(points);
      const a = (rotation * Math.PI) / 180;
      const cos = Math.cos(a);
      const sin = Math.sin(a);
      const hx = Math.sqrt(rx * rx * cos * cos + ry * ry * sin * sin);
      const hy = Math.sqrt(rx * rx * sin * sin + ry * ry * cos * cos);
      return { x1: cx - hx, y1: cy - hy, x2: cx + hx, y2: cy + hy };
    }
    case "mask": {
      if (points.length < 4) return { x1: 0, y1: 0, x2: 0, y2: 0 };
      const n = points.length;
      return { x1: points[n - 4] as number, y1: points[n - 3] as number, x2: (points[n - 2] as number) + 1, y2: (points[n - 1] as number) + 1 };
    }
    default:
      return boxOfPoints(points);
  }
}

function boxOf4([x1, y1, x2, y2]: [number, number, number, number]): Box {
  return { x1, y1, x2, y2 };
}

function skeletonPoints(o: FrameObject): number[] {
  const visible = o.elements.filter((e) => !e.outside);
  const from = visible.length > 0 ? visible : o.elements;
  return from.flatMap((e) => [...e.points]);
}

/** The bounding box of an object as drawn (skeletons: of their visible elements, all if none is). */
export function bboxOfObject(o: FrameObject): Box {
  return o.type === "skeleton" ? boxOfPoints(skeletonPoints(o)) : bbox(o.type, o.points, o.rotation);
}

// Decoded masks by their points array: objects are immutable, so an array is one mask for ever.
const masks = new WeakMap<readonly number[], Mask>();

/** The decoded mask of mask points, decoded once per points array. */
export function maskOf(points: readonly number[]): Mask {
  let mask = masks.get(points);
  if (mask === undefined) {
    mask = decodeMask(points);
    masks.set(points, mask);
  }
  return mask;
}

/** The convex hull (counter-clockwise in y-up terms) of x,y pairs. */
function convexHull(points: readonly number[]): number[] {
  const pts: [number, number][] = [];
  for (let i = 0; i + 1 < points.length; i += 2) pts.push([points[i] as number, points[i + 1] as number]);
  pts.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  if (pts.length < 3) return pts.flat();
  const cross = (o: [number, number], a: [number, number], b: [number, number]): number =>
    (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0]);
  const half = (list: [number, number][]): [number, number][] => {
    const out: [number, number][] = [];
    for (const p of list) {
      while (out.length >= 2 && cross(out[out.length - 2] as [number, number], out[out.length - 1] as [number, number], p) <= 0) out.pop();
      out.push(p);
    }
    out.pop();
    return out;
  };
  return [...half(pts), ...half([...pts].reverse())].flat();
}

function polygonArea(points: readonly number[]): number {
  const n = Math.floor(points.length / 2);
  let twice = 0;
  for (let i = 0, j = n - 1; i < n; j = i++) {
    twice += (points[2 * j] as number) * (points[2 * i + 1] as number) - (points[2 * i] as number) * (points[2 * j + 1] as number);
  }
  return Math.abs(twice) / 2;
}

function inBox(p: Point, b: Box, tolerance: number): boolean {
  return p.x >= b.x1 - tolerance && p.x <= b.x2 + tolerance && p.y >= b.y1 - tolerance && p.y <= b.y2 + tolerance;
}

/**
 * Whether `p` (image pixels) picks the object. Filled types (rectangles, ellipses, polygons,
 * cuboids) are picked inside or within `tolerance` of their outline; polylines and points within
 * `tolerance`; masks on a set pixel; skeletons inside the box of their elements (grown by
 * `tolerance`). Outside objects are never picked.
 */
export function hit(o: FrameObject, p: Point, tolerance: number): boolean {
  if (o.outside) return false;
  const pts = o.points;
  switch (o.type) {
    case "rectangle": {
      const [x1, y1, x2, y2] = normalizeRect(pts);
      const q = rotatePoint(p, { x: (x1 + x2) / 2, y: (y1 + y2) / 2 }, -o.rotation);
      return q.x >= x1 - tolerance && q.x <= x2 + tolerance && q.y >= y1 - tolerance && q.y <= y2 + tolerance;
    }
    case "ellipse": {
      const { cx, cy, rx, ry } = ellipseParams(pts);
      const q = rotatePoint(p, { x: cx, y: cy }, -o.rotation);
      const ax = rx + tolerance;
      const ay = ry + tolerance;
      if (ax <= 0 || ay <= 0) return q.x === cx && q.y === cy;
      const dx = (q.x - cx) / ax;
      const dy = (q.y - cy) / ay;
      return dx * dx + dy * dy <= 1;
    }
    case "polygon":
      return pointInPolygon(p, pts) || distanceToOutline(p, pts, true) <= tolerance;
    case "polyline":
      return distanceToOutline(p, pts, false) <= tolerance;
    case "points":
      for (let i = 0; i + 1 < pts.length; i += 2) {
        if (Math.hypot(p.x - (pts[i] as number), p.y - (pts[i + 1] as number)) <= tolerance) return true;
      }
      return false;
    case "cuboid": {
      const hull = convexHull(pts);
      return pointInPolygon(p, hull) || distanceToOutline(p, hull, true) <= tolerance;
    }
    case "mask": {
      if (!inBox(p, bbox("mask", pts, 0), 0)) return false;
      const m = maskOf(pts);
      const x = Math.floor(p.x) - m.left;
      const y = Math.floor(p.y) - m.top;
      return x >= 0 && y >= 0 && x < m.width && y < m.height && m.data[y * m.width + x] !== 0;
    }
    case "skeleton":
      return o.elements.length > 0 && inBox(p, bboxOfObject(o), tolerance);
  }
}

/** The object's area in square pixels (lines and points: 0), so the smallest of several hit
 * objects can be picked. */
export function area(o: FrameObject): number {
  switch (o.type) {
    case "rectangle": {
      const [x1, y1, x2, y2] = normalizeRect(o.points);
      return (x2 - x1) * (y2 - y1);
    }
    case "ellipse": {
      const { rx, ry } = ellipseParams(o.points);
      return Math.PI * rx * ry;
    }
    case "polygon":
      return polygonArea(o.points);
    case "cuboid":
      return polygonArea(convexHull(o.points));
    case "mask":
      return maskArea(maskOf(o.points));
    case "skeleton": {
      const b = bboxOfObject(o);
      return (b.x2 - b.x1) * (b.y2 - b.y1);
    }
    case "polyline":
    case "points":
      return 0;
  }
}

// The canvas scene's index, pure: an rbush R-tree over the drawable objects' bounding boxes. It
// answers the two questions that keep the engine's cost proportional to what is on screen:
// which objects intersect the visible rectangle (only those become Konva nodes), and which object
// is under the pointer (the index narrows, the exact geometry test decides, the smallest area wins:
// a small box inside a big polygon stays clickable). No Konva and no DOM here.
import RBush from "rbush";
import type { FrameObject, ObjectView } from "../model";
import type { Point } from "./types";
import type { Rect } from "./view";

export interface SceneItem extends Rect {
  object: FrameObject;
  area: number;
}

export interface PickGeometry {
  hit(object: FrameObject, p: Point, tolerance: number): boolean;
  area(object: FrameObject): number;
}

function pointsBounds(points: readonly number[]): Rect | null {
  if (points.length < 2) return null;
  let minX = Infinity;
  let minY = Infinity;
  let maxX = -Infinity;
  let maxY = -Infinity;
  for (let i = 0; i + 1 < points.length; i += 2) {
    const x = points[i] as number;
    const y = points[i + 1] as number;
    if (x < minX) minX = x;
    if (x > maxX) maxX = x;
    if (y < minY) minY = y;
    if (y > maxY) maxY = y;
  }
  return Number.isFinite(minX) && Number.isFinite(minY) ? { minX, minY, maxX, maxY } : null;
}

function rotatedBox(cx: number, cy: number, halfW: number, halfH: number, degrees: number): Rect {
  const r = (degrees * Math.PI) / 180;
  const cos = Math.abs(Math.cos(r));
  const sin = Math.abs(Math.sin(r));
  const w = halfW * cos + halfH * sin;
  const h = halfW * sin + halfH * cos;
  return { minX: cx - w, minY: cy - h, maxX: cx + w, maxY: cy + h };
}

/** An object's axis-aligned bounding box in image pixels (null: nothing to draw). */
export function objectBounds(o: FrameObject): Rect | null {
  const p = o.points;
  switch (o.type) {
    case "rectangle": {
      const b = pointsBounds(p.slice(0, 4));
      if (!b || !o.rotation) return b;
      return rotatedBox((b.minX + b.maxX) / 2, (b.minY + b.maxY) / 2, (b.maxX - b.minX) / 2, (b.maxY - b.minY) / 2, o.rotation);
    }
    case "ellipse": {
      if (p.length < 4) return null;
      const cx = p[0] as number;
      const cy = p[1] as number;
      const rx = Math.abs((p[2] as number) - cx);
      const ry = Math.abs(cy - (p[3] as number));
      const r = (o.rotation * Math.PI) / 180;
      const w = Math.hypot(rx * Math.cos(r), ry * Math.sin(r));
      const h = Math.hypot(rx * Math.sin(r), ry * Math.cos(r));
      return { minX: cx - w, minY: cy - h, maxX: cx + w, maxY: cy + h };
    }
    case "mask": {
      if (p.length < 4) return null;
      const n = p.length;
      return { minX: p[n - 4] as number, minY: p[n - 3] as number, maxX: (p[n - 2] as number) + 1, maxY: (p[n - 1] as number) + 1 };
    }
    case "skeleton": {
      const all: number[] = [];
      for (const e of o.elements) if (!e.outside) all.push(...e.points);
      return pointsBounds(all.length ? all : p);
    }
    default:
      return pointsBounds(p);
  }
}

/** Whether the canvas draws the object at all (outside keyframes and hidden objects it does not). */
export function isDrawable(o: FrameObject, views: ReadonlyMap<number, ObjectView>): boolean {
  return !o.outside && !views.get(o.clientId)?.hidden;
}

/** Drawing order: zOrder ascending, then the input order (later on top). */
export function drawOrder(objects: readonly FrameObject[]): FrameObject[] {
  return objects
    .map((o, i) => ({ o, i }))
    .sort((a, b) => a.o.zOrder - b.o.zOrder || a.i - b.i)
    .map((e) => e.o);
}

export class SceneIndex {
  private tree = new RBush<SceneItem>();
  private items = new Map<number, SceneItem>();
  private rank = new Map<number, number>();

  constructor(private readonly geometry: PickGeometry) {}

  private item(o: FrameObject): SceneItem | null {
    const b = objectBounds(o);
    return b ? { ...b, object: o, area: this.geometry.area(o) } : null;
  }

  /** Replaces the index with these objects (the drawable ones only, see isDrawable). */
  load(objects: readonly FrameObject[]): void {
    this.tree.clear();
    this.items.clear();
    const loaded: SceneItem[] = [];
    for (const o of objects) {
      const it = this.item(o);
      if (!it) continue;
      loaded.push(it);
      this.items.set(o.clientId, it);
    }
    this.tree.load(loaded);
    this.setRank(objects);
  }

  /** Brings the index to these objects, touching only those whose value (reference) changed. */
  update(objects: readonly FrameObject[]): void {
    const next = new Map<number, FrameObject>();
    for (const o of objects) next.set(o.clientId, o);
    let changed = 0;
    for (const [id, it] of this.items) if (next.get(id) !== it.object) changed++;
    for (const [id, o] of next) if (!this.items.has(id) && objectBounds(o)) changed++;
    if (changed > Math.max(64, this.items.size / 4)) {
      this.load(objects);
      return;
    }
    for (const [id, it] of [...this.items]) {
      if (next.get(id) === it.object) continue;
      this.tree.remove(it);
      this.items.delete(id);
    }
    for (const [id, o] of next) {
      if (this.items.has(id)) continue;
      const it = this.item(o);
      if (!it) continue;
      this.tree.insert(it);
      this.items.set(id, it);
    }
    this.setRank(objects);
  }

  private setRank(objects: readonly FrameObject[]): void {
    this.rank.clear();
    drawOrder(objects).forEach((o, i) => this.rank.set(o.clientId, i));
  }

  size(): number {
    return this.items.size;
  }

  get(clientId: number): FrameObject | undefined {
    return this.items.get(clientId)?.object;
  }

  /** The objects whose boxes intersect `rect`, in drawing order. */
  query(rect: Rect): FrameObject[] {
    const found = this.tree.search(rect);
    found.sort((a, b) => (this.rank.get(a.object.clientId) ?? 0) - (this.rank.get(b.object.clientId) ?? 0));
    return found.map((it) => it.object);
  }

  /** The object under `p`: exact geometry decides among the boxes, the smallest area wins, then the topmost. */
  pick(p: Point, tolerance: number, skip?: (o: FrameObject) => boolean): number | null {
    const near = this.tree.search({ minX: p.x - tolerance, minY: p.y - tolerance, maxX: p.x + tolerance, maxY: p.y + tolerance });
    let best: SceneItem | null = null;
    for (const it of near) {
      if (skip?.(it.object) || !this.geometry.hit(it.object, p, tolerance)) continue;
      if (!best || it.area < best.area || (it.area === best.area && this.topmost(it, best))) best = it;
    }
    return best ? best.object.clientId : null;
  }

  private topmost(a: SceneItem, b: SceneItem): boolean {
    return (this.rank.get(a.object.clientId) ?? 0) > (this.rank.get(b.object.clientId) ?? 0);
  }
}

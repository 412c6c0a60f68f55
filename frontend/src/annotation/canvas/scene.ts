// The canvas scene's index, pure: an rbush R-tree over the drawable objects' bounding boxes. It
// answers the two questions that keep the engine's cost proportional to what is on screen:
// which objects intersect the visible rectangle (only those become Konva nodes), and which object
// is under the pointer (the index narrows, the exact geometry test decides, the smallest area wins:
// a small box inside a big polygon stays clickable). Boxes are geometry.ts's `bboxOfObject`. Also
// the label-text rules (what text, and when every visible object gets one). No Konva, no DOM.
import RBush from "rbush";
import { bboxOfObject } from "../geometry";
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

/** Whether the object has anything to draw: geometry.ts gives an empty geometry a zero box at
 * 0, 0, which must not enter the index (it would be culled in and picked there). */
function hasGeometry(o: FrameObject): boolean {
  if (o.type === "skeleton") return o.elements.some((e) => !e.outside && e.points.length >= 2);
  return o.points.length >= (o.type === "mask" || o.type === "ellipse" ? 4 : 2);
}

/** An object's axis-aligned bounding box in image pixels (geometry.ts `bboxOfObject` as a Rect;
 * null: nothing to draw). */
export function objectBounds(o: FrameObject): Rect | null {
  if (!hasGeometry(o)) return null;
  const b = bboxOfObject(o);
  return { minX: b.x1, minY: b.y1, maxX: b.x2, maxY: b.y2 };
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

/** Above this many objects in the viewport `showText` is ignored: one text per object (a
 * measured, stroked fillText each) would take a large part of the frame budget when the static
 * layer is re-rendered, for labels too many to read anyway. The selected and hovered objects keep
 * their text whatever the count. */
export const TEXT_LIMIT = 300;

/** The text the canvas shows beside an object, as CVAT does: the label name, and for tracks the
 * object's id and kind ("car #12 (track)"). A label without a known name shows its id. */
export function labelText(o: FrameObject, names: ReadonlyMap<number, string>): string {
  const name = names.get(o.labelId) ?? `label ${o.labelId}`;
  return o.kind === "track" ? `${name} #${o.clientId} (${o.kind})` : name;
}

/** Whether every visible object gets its text (the selected and hovered ones always do). */
export function showAllText(showText: boolean, visibleCount: number): boolean {
  return showText && visibleCount < TEXT_LIMIT;
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

  /** How many objects' boxes intersect `rect`. */
  count(rect: Rect): number {
    return this.tree.search(rect).length;
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

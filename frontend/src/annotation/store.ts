// The job's annotations in the workspace (AnnotationStoreApi): immutable objects by clientId, an
// index of shapes and tags by frame (only the touched frames are rebuilt on a change), tracks
// interpolated per frame, every edit an undoable step of object snapshots, and the baseline of the
// last load or save that `changes()` compares against (by reference first, deep only where the
// references differ).
import type {
  AnnotationStoreApi, Flag, Geometry, NewObject, SaveDiff, StoreChange,
} from "./contracts";
import { adoptIds, fromApi, toApiShape, toApiTag, toApiTrack, withoutIds } from "./convert";
import { trackStateAt } from "./interpolation";
import { defaultAttributes, labelIndex } from "./labels";
import type {
  AnnotationObject, ApiAnnotations, Attributes, FrameElement, FrameObject, KeyShape, LabelSpec, ObjectView,
  Shape, ShapeType, Tag, Track,
} from "./model";
import { newClientId } from "./model";
import { UndoStack } from "./undo";

export interface FrameRange {
  start: number;
  stop: number;
}

type Ids = { tags: number[]; shapes: number[]; tracks: number[] };

/** A SaveDiff that also says which objects it was made from, so a save can mark exactly those saved. */
export interface StoreDiff extends SaveDiff {
  updatedClientIds: Ids;
  deletedClientIds: Ids;
  /** the objects the diff was made from (undefined: deleted) */
  sent: ReadonlyMap<number, AnnotationObject | undefined>;
}

/** What `rebase` did with the server's annotations after a conflict. */
export interface RebaseResult {
  adopted: number[]; // objects others created, now ours too
  recreated: number[]; // objects we changed that others deleted: they will be created again
  removed: number[]; // objects others deleted that we had not changed
}

const emptyIds = (): Ids => ({ tags: [], shapes: [], tracks: [] });
const emptyAnnotations = (version: number): ApiAnnotations => ({ version, tags: [], shapes: [], tracks: [] });
const CACHED_FRAMES = 16;

export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a) && Array.isArray(b)) {
    return a.length === b.length && a.every((v, i) => deepEqual(v, b[i]));
  }
  const ka = Object.keys(a).filter((k) => (a as Record<string, unknown>)[k] !== undefined);
  const kb = Object.keys(b).filter((k) => (b as Record<string, unknown>)[k] !== undefined);
  return ka.length === kb.length
    && ka.every((k) => deepEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

function kindKey(object: AnnotationObject): keyof Ids {
  return object.kind === "tag" ? "tags" : object.kind === "shape" ? "shapes" : "tracks";
}

/** The keyframes with `key` put in at its frame (replacing one there), kept in frame order. */
function insertKey(shapes: readonly KeyShape[], key: KeyShape): KeyShape[] {
  let lo = 0;
  let hi = shapes.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (shapes[mid]!.frame < key.frame) lo = mid + 1;
    else hi = mid;
  }
  const out = shapes.slice();
  out.splice(lo, shapes[lo]?.frame === key.frame ? 1 : 0, key);
  return out;
}

export class AnnotationStore implements AnnotationStoreApi {
  private readonly specs: readonly LabelSpec[];
  private readonly labelById: Map<number, LabelSpec>;
  private readonly range: FrameRange;
  private current = new Map<number, AnnotationObject>();
  private baseline = new Map<number, AnnotationObject>();
  private readonly shapesByFrame = new Map<number, Set<number>>();
  private readonly tagsByFrame = new Map<number, Set<number>>();
  private readonly tracks = new Set<number>();
  private readonly frameCache = new Map<number, { version: number; objects: readonly FrameObject[] }>();
  private readonly shapeViews = new WeakMap<Shape, FrameObject>();
  private readonly history = new UndoStack<AnnotationObject>();
  private readonly listeners = new Set<(change: StoreChange) => void>();
  private readonly displayed = new Map<number, ObjectView>();
  private ver = 0;
  private objectsVer = 0; // bumps when objects change (not on display state): the frame cache's key
  private serverVersion = 0;
  private notifyPending = false;

  constructor(labels: readonly LabelSpec[], range: FrameRange) {
    this.specs = labels;
    this.labelById = labelIndex(labels);
    this.range = range;
  }

  // --- reading -------------------------------------------------------------------------------------

  load(data: ApiAnnotations): void {
    this.current = new Map();
    this.shapesByFrame.clear();
    this.tagsByFrame.clear();
    this.tracks.clear();
    for (const object of fromApi(data)) this.put(object.clientId, object);
    this.baseline = new Map(this.current);
    this.serverVersion = data.version;
    this.history.clear();
    this.displayed.clear();
    this.bump();
  }

  version(): number {
    return this.ver;
  }

  /** The API's version of the annotations last loaded or saved. */
  apiVersion(): number {
    return this.serverVersion;
  }

  subscribe(listener: (change: StoreChange) => void): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  objects(): readonly AnnotationObject[] {
    return [...this.current.values()];
  }

  get(clientId: number): AnnotationObject | undefined {
    return this.current.get(clientId);
  }

  labels(): readonly LabelSpec[] {
    return this.specs;
  }

  frameObjects(frame: number): readonly FrameObject[] {
    const cached = this.frameCache.get(frame);
    if (cached && cached.version === this.objectsVer) return cached.objects;
    const out: FrameObject[] = [];
    for (const id of this.shapesByFrame.get(frame) ?? []) {
      const shape = this.current.get(id);
      if (shape?.kind === "shape") out.push(this.shapeView(shape));
    }
    for (const id of this.tracks) {
      const track = this.current.get(id);
      if (track?.kind !== "track") continue;
      const view = this.trackView(track, frame);
      if (view) out.push(view);
    }
    out.sort((a, b) => a.zOrder - b.zOrder);
    this.frameCache.delete(frame);
    this.frameCache.set(frame, { version: this.objectsVer, objects: out });
    if (this.frameCache.size > CACHED_FRAMES) {
      const oldest = this.frameCache.keys().next().value;
      if (oldest !== undefined) this.frameCache.delete(oldest);
    }
    return out;
  }

  frameTags(frame: number): readonly Tag[] {
    const out: Tag[] = [];
    for (const id of this.tagsByFrame.get(frame) ?? []) {
      const tag = this.current.get(id);
      if (tag?.kind === "tag") out.push(tag);
    }
    return out;
  }

  /** The object as it is on `frame`, as a NewObject (copy/paste, propagate); null when it is not there. */
  snapshot(clientId: number, frame: number): NewObject | null {
    const object = this.current.get(clientId);
    if (!object) return null;
    if (object.kind === "tag") {
      return { kind: "tag", frame, labelId: object.labelId, attributes: object.attributes, source: object.source };
    }
    const view = object.kind === "shape" ? this.shapeView(object) : this.trackView(object, frame);
    if (!view) return null;
    const out: NewObject = {
      kind: object.kind,
      type: view.type,
      frame,
      labelId: view.labelId,
      points: view.points,
      rotation: view.rotation,
      attributes: view.attributes,
      occluded: view.occluded,
      zOrder: view.zOrder,
      source: object.source,
    };
    if (view.elements.length) {
      out.elements = view.elements.map((e) => ({ labelId: e.labelId, points: e.points, outside: e.outside }));
    }
    return out;
  }

  // --- editing -------------------------------------------------------------------------------------

  create(objects: readonly NewObject[]): number[] {
    return this.transaction("Create objects", () => {
      const ids: number[] = [];
      const top = new Map<number, number>();
      for (const spec of objects) {
        const label = this.labelById.get(spec.labelId);
        if (!label) continue;
        let zOrder = spec.zOrder;
        if (zOrder === undefined && spec.kind !== "tag") {
          zOrder = (top.get(spec.frame) ?? this.maxZ(spec.frame)) + 1;
          top.set(spec.frame, zOrder);
        }
        const object = this.build(spec, label, zOrder ?? 0);
        this.change(new Map([[object.clientId, object]]));
        ids.push(object.clientId);
      }
      return ids;
    });
  }

  remove(clientIds: readonly number[]): void {
    const changes = new Map<number, AnnotationObject | undefined>();
    for (const id of clientIds) if (this.current.has(id)) changes.set(id, undefined);
    this.record("Remove objects", changes);
  }

  setGeometry(clientId: number, frame: number, geometry: Geometry): void {
    const object = this.current.get(clientId);
    if (!object || object.kind === "tag") return;
    if (object.kind === "shape") {
      this.record("Change geometry", new Map([[clientId, {
        ...object,
        points: [...geometry.points],
        rotation: geometry.rotation,
        elements: geometry.elements ? this.moveElements(object.elements, geometry.elements) : object.elements,
      }]]));
      return;
    }
    let track = this.withKey(object, frame, (k) => ({ ...k, points: [...geometry.points], rotation: geometry.rotation }));
    if (geometry.elements) {
      const given = new Map(geometry.elements.map((e) => [e.labelId, e]));
      track = {
        ...track,
        elements: track.elements.map((el) => {
          const g = given.get(el.labelId);
          return g ? this.withKey(el, frame, (k) => ({ ...k, points: [...g.points], outside: g.outside })) : el;
        }),
      };
    }
    this.record("Change geometry", new Map([[clientId, track]]));
  }

  setAttribute(clientId: number, frame: number, specId: number, value: string): void {
    const object = this.current.get(clientId);
    if (!object) return;
    const spec = this.labelById.get(object.labelId)?.attributes.find((a) => a.id === specId);
    if (!spec) return;
    let next: AnnotationObject;
    if (object.kind === "track" && spec.mutable) {
      next = this.withKey(object, frame, (k) => ({ ...k, attributes: { ...k.attributes, [specId]: value } }), false);
    } else {
      next = { ...object, attributes: { ...object.attributes, [specId]: value } };
    }
    this.record("Change attribute", new Map([[clientId, next]]));
  }

  setLabel(clientId: number, labelId: number): void {
    const object = this.current.get(clientId);
    const label = this.labelById.get(labelId);
    if (!object || !label || object.labelId === labelId || label.parent_id) return;
    const type = object.kind === "tag" ? "tag" : object.kind === "shape" ? object.type : object.shapes[0]?.type;
    const skeleton = type === "skeleton";
    if (skeleton !== (label.type === "skeleton")) return;
    if (!skeleton && label.type !== "any" && label.type !== type) return;
    if (skeleton) {
      const have = object.kind === "tag" ? [] : object.elements.map((e) => e.labelId).sort((a, b) => a - b);
      const want = label.sublabels.map((s) => s.id).sort((a, b) => a - b);
      if (!deepEqual(have, want)) return;
    }
    const defaults = defaultAttributes(label);
    let next: AnnotationObject;
    if (object.kind === "track") {
      const [immutable, mutable] = this.splitAttributes(label, defaults);
      next = { ...object, labelId, attributes: immutable, shapes: object.shapes.map((s) => ({ ...s, attributes: mutable })) };
    } else {
      next = { ...object, labelId, attributes: defaults };
    }
    this.record("Change label", new Map([[clientId, next]]));
  }

  setFlag(clientId: number, frame: number, flag: Flag, value: boolean): void {
    const object = this.current.get(clientId);
    if (!object || object.kind === "tag") return;
    if (object.kind === "shape") {
      if (flag === "occluded" && object.occluded !== value) {
        this.record("Change occluded", new Map([[clientId, { ...object, occluded: value }]]));
      }
      return;
    }
    let next: Track;
    if (flag === "keyframe") {
      const has = object.shapes.some((s) => s.frame === frame);
      if (has === value) return;
      if (value) {
        next = this.withKey(object, frame, (k) => k);
      } else {
        if (object.shapes.length <= 1) return;
        next = {
          ...object,
          shapes: object.shapes.filter((s) => s.frame !== frame),
          elements: object.elements.map((e) => (e.shapes.length > 1 ? { ...e, shapes: e.shapes.filter((s) => s.frame !== frame) } : e)),
        };
      }
    } else {
      next = this.withKey(object, frame, (k) => ({ ...k, [flag]: value }));
      if (flag === "outside" && next.elements.length) {
        next = { ...next, elements: next.elements.map((e) => this.withKey(e, frame, (k) => ({ ...k, outside: value }))) };
      }
    }
    this.record(`Change ${flag}`, new Map([[clientId, next]]));
  }

  setZOrder(clientId: number, frame: number, zOrder: number): void {
    const object = this.current.get(clientId);
    if (!object || object.kind === "tag") return;
    const next = object.kind === "shape"
      ? { ...object, zOrder }
      : this.withKey(object, frame, (k) => ({ ...k, zOrder }), false);
    this.record("Change z-order", new Map([[clientId, next]]));
  }

  toFront(clientId: number, frame: number): void {
    const others = this.frameObjects(frame).filter((o) => o.clientId !== clientId);
    const own = this.frameObjects(frame).find((o) => o.clientId === clientId);
    const max = Math.max(...others.map((o) => o.zOrder));
    if (own && others.length && own.zOrder <= max) this.setZOrder(clientId, frame, max + 1);
  }

  toBack(clientId: number, frame: number): void {
    const others = this.frameObjects(frame).filter((o) => o.clientId !== clientId);
    const own = this.frameObjects(frame).find((o) => o.clientId === clientId);
    const min = Math.min(...others.map((o) => o.zOrder));
    if (own && others.length && own.zOrder >= min) this.setZOrder(clientId, frame, min - 1);
  }

  group(clientIds: readonly number[]): void {
    const targets = clientIds.map((id) => this.current.get(id)).filter((o): o is AnnotationObject => o !== undefined);
    if (!targets.length) return;
    let max = 0;
    for (const o of this.current.values()) max = Math.max(max, o.group);
    this.record("Group objects", new Map(targets.map((o) => [o.clientId, { ...o, group: max + 1 }])));
  }

  ungroup(clientIds: readonly number[]): void {
    const changes = new Map<number, AnnotationObject>();
    for (const id of clientIds) {
      const o = this.current.get(id);
      if (o && o.group !== 0) changes.set(id, { ...o, group: 0 });
    }
    this.record("Ungroup objects", changes);
  }

  /**
   * Tracks (and shapes, as CVAT's merge) of one label and type into the first selected track (or
   * a new one): their keyframes together, interpolated between; on a shared frame the first
   * selected wins. When a shape is the last keyframe, an outside keyframe follows it, so the track
   * does not stretch to the end of the job.
   */
  mergeTracks(clientIds: readonly number[]): number | null {
    const objects = clientIds.map((id) => this.current.get(id))
      .filter((o): o is Shape | Track => o !== undefined && o.kind !== "tag");
    if (objects.length < 2) return null;
    const first = objects[0]!;
    const type = first.kind === "shape" ? first.type : first.shapes[0]?.type;
    for (const o of objects) {
      const t = o.kind === "shape" ? o.type : o.shapes[0]?.type;
      if (o.labelId !== first.labelId || t !== type) return null;
    }
    // keyframes of the others are new keyframes of the first (their ids go with their tracks)
    const asTracks = objects.map((o, i) => {
      const t = o.kind === "track" ? o : this.shapeToTrack(o, false);
      return i === 0 ? t : withoutIds(t);
    });
    let merged = this.mergeTrackList(asTracks);
    const last = merged.shapes[merged.shapes.length - 1];
    const endsWithShape = last !== undefined && objects.some((o) => o.kind === "shape" && o.frame === last.frame);
    if (last && endsWithShape && !last.outside && last.frame + 1 <= this.range.stop) {
      const close = (t: Track): Track => {
        const end = t.shapes[t.shapes.length - 1];
        return !end || end.outside ? t : { ...t, shapes: [...t.shapes, { ...withoutKeyId(end), frame: end.frame + 1, outside: true }], elements: t.elements.map(close) };
      };
      merged = close(merged);
    }
    const base = first.kind === "track" ? first : { ...withoutIds(merged), clientId: newClientId() };
    const result: Track = { ...base, shapes: merged.shapes, elements: merged.elements };
    const changes = new Map<number, AnnotationObject | undefined>();
    for (const o of objects) changes.set(o.clientId, undefined);
    changes.set(result.clientId, result);
    this.record("Merge tracks", changes);
    return result.clientId;
  }

  splitTrack(clientId: number, frame: number): [number, number] | null {
    const track = this.current.get(clientId);
    if (track?.kind !== "track") return null;
    const firstFrame = track.shapes[0]?.frame;
    if (firstFrame === undefined || frame <= firstFrame) return null;
    const lastKey = track.shapes[track.shapes.length - 1];
    if (lastKey && lastKey.frame < frame && lastKey.outside) return null;
    const [before, after] = this.splitOne(track, frame);
    const second: Track = { ...withoutIds(after), clientId: newClientId() };
    this.record("Split track", new Map<number, AnnotationObject>([[clientId, before], [second.clientId, second]]));
    return [clientId, second.clientId];
  }

  propagate(clientId: number, frame: number, frames: readonly number[]): number[] {
    const snap = this.snapshot(clientId, frame);
    if (!snap || snap.kind === "tag") return [];
    const targets = frames.filter((f) => f !== frame && f >= this.range.start && f <= this.range.stop);
    return this.transaction("Propagate", () =>
      this.create(targets.map((f) => ({ ...snap, kind: "shape" as const, frame: f }))));
  }

  toTrack(clientId: number, frame: number): number | null {
    const shape = this.current.get(clientId);
    if (shape?.kind !== "shape" || shape.frame !== frame) return null;
    const track = { ...this.shapeToTrack(withoutIds(shape), false), clientId: newClientId() };
    this.record("Shape to track", new Map<number, AnnotationObject | undefined>([[clientId, undefined], [track.clientId, track]]));
    return track.clientId;
  }

  transaction<T>(name: string, body: () => T): T {
    const outer = !this.history.inTransaction();
    try {
      return this.history.transaction(name, body);
    } finally {
      if (outer) this.flush();
    }
  }

  undo(): string | null {
    const step = this.history.undo();
    if (!step) return null;
    this.apply(step.before);
    this.bump();
    return step.name;
  }

  redo(): string | null {
    const step = this.history.redo();
    if (!step) return null;
    this.apply(step.after);
    this.bump();
    return step.name;
  }

  undoName(): string | null {
    return this.history.undoName();
  }

  redoName(): string | null {
    return this.history.redoName();
  }

  // --- display state -------------------------------------------------------------------------------

  view(clientId: number): ObjectView {
    return this.displayed.get(clientId) ?? {};
  }

  setView(clientId: number, view: Partial<ObjectView>): void {
    this.displayed.set(clientId, { ...this.view(clientId), ...view });
    this.bump();
  }

  views(): ReadonlyMap<number, ObjectView> {
    return this.displayed;
  }

  // --- saving --------------------------------------------------------------------------------------

  changes(): StoreDiff {
    const v = this.serverVersion;
    const diff: StoreDiff = {
      create: emptyAnnotations(v),
      update: emptyAnnotations(v),
      delete: emptyAnnotations(v),
      createdClientIds: emptyIds(),
      updatedClientIds: emptyIds(),
      deletedClientIds: emptyIds(),
      sent: new Map(),
    };
    const sent = diff.sent as Map<number, AnnotationObject | undefined>;
    for (const [id, object] of this.current) {
      const before = this.baseline.get(id);
      if (before === object) continue;
      const key = kindKey(object);
      if (object.serverId === undefined || before?.serverId !== object.serverId) {
        // new, or restored by an undo after its deletion was saved: created (again)
        pushApi(diff.create, withoutIds(object), false);
        diff.createdClientIds[key].push(id);
        sent.set(id, object);
        if (before?.serverId !== undefined && before.serverId !== object.serverId) this.pushDelete(diff, id, before);
      } else if (!deepEqual(before, object)) {
        pushApi(diff.update, object, true);
        diff.updatedClientIds[key].push(id);
        sent.set(id, object);
      }
    }
    for (const [id, before] of this.baseline) {
      if (!this.current.has(id) && before.serverId !== undefined) {
        this.pushDelete(diff, id, before);
        sent.set(id, undefined);
      }
    }
    return diff;
  }

  hasChanges(): boolean {
    for (const [id, object] of this.current) {
      const before = this.baseline.get(id);
      if (before === object) continue;
      if (!before || object.serverId === undefined || !deepEqual(before, object)) return true;
    }
    for (const [id, before] of this.baseline) {
      if (!this.current.has(id) && before.serverId !== undefined) return true;
    }
    return false;
  }

  /**
   * After a successful save of `diff` (or a part of it): the objects it was made from become the
   * baseline (changes made since stay changes), and created objects take the answer's ids (in
   * create's order), also in the undo history so an undo never creates them twice.
   */
  saved(diff: SaveDiff, created: ApiAnnotations): void {
    const sent = (diff as Partial<StoreDiff>).sent ?? this.wholeSent(diff);
    const answers = new Map<number, ApiAnnotations["shapes"][number] | ApiAnnotations["tracks"][number] | ApiAnnotations["tags"][number]>();
    for (const key of ["tags", "shapes", "tracks"] as const) {
      diff.createdClientIds[key].forEach((id, i) => {
        const answer = created[key][i];
        if (answer) answers.set(id, answer);
      });
    }
    const renamed = new Map<AnnotationObject, AnnotationObject>();
    for (const [id, object] of sent) {
      if (object === undefined) {
        this.baseline.delete(id); // if an undo brought it back meanwhile, it is created again
        continue;
      }
      const answer = answers.get(id);
      const savedObject = answer ? adoptIds(withoutIds(object), answer) : object;
      this.baseline.set(id, savedObject);
      if (answer) renamed.set(object, savedObject);
      const now = this.current.get(id);
      if (answer && now) {
        const updated = now === object ? savedObject : adoptIds(now, answer);
        if (updated !== now) this.put(id, updated);
      }
    }
    if (answers.size) {
      this.history.mapSnapshots((id, value) => {
        const answer = answers.get(id);
        if (!answer || !value || value.serverId !== undefined) return value;
        return renamed.get(value) ?? adoptIds(value, answer);
      });
    }
    this.serverVersion = Math.max(this.serverVersion, created.version);
    this.bump();
  }

  /**
   * After a conflict: the server's annotations become the baseline, and every local change stays
   * a change. Local edits of objects others deleted become creates; objects others created (and
   * changed, where we had not) are adopted; objects others deleted that we had not touched go.
   */
  rebase(server: ApiAnnotations): RebaseResult {
    const result: RebaseResult = { adopted: [], recreated: [], removed: [] };
    const remote = new Map<string, AnnotationObject>();
    for (const o of fromApi(server)) if (o.serverId !== undefined) remote.set(`${o.kind}:${o.serverId}`, o);
    const keyOf = (o: AnnotationObject): string => `${o.kind}:${o.serverId}`;
    const known = new Set<string>();
    const nextBaseline = new Map<number, AnnotationObject>();
    for (const [id, object] of [...this.current]) {
      if (object.serverId === undefined) continue;
      known.add(keyOf(object));
      const there = remote.get(keyOf(object));
      const before = this.baseline.get(id);
      const changed = before !== object && (!before || !deepEqual(before, object));
      if (!there) {
        if (changed) {
          this.put(id, withoutIds(object));
          result.recreated.push(id);
        } else {
          this.put(id, undefined);
          result.removed.push(id);
        }
        continue;
      }
      const theirs = { ...there, clientId: id } as AnnotationObject;
      nextBaseline.set(id, theirs);
      if (!changed) this.put(id, theirs);
    }
    for (const [id, before] of this.baseline) {
      if (this.current.has(id) || before.serverId === undefined) continue;
      known.add(keyOf(before));
      const there = remote.get(keyOf(before));
      if (there) nextBaseline.set(id, { ...there, clientId: id } as AnnotationObject); // still to delete
    }
    for (const [key, object] of remote) {
      if (known.has(key)) continue;
      this.put(object.clientId, object);
      nextBaseline.set(object.clientId, object);
      result.adopted.push(object.clientId);
    }
    this.baseline = nextBaseline;
    this.serverVersion = server.version;
    this.bump();
    return result;
  }

  // --- internals -----------------------------------------------------------------------------------

  private wholeSent(diff: SaveDiff): Map<number, AnnotationObject | undefined> {
    const out = new Map<number, AnnotationObject | undefined>();
    for (const id of [...diff.createdClientIds.tags, ...diff.createdClientIds.shapes, ...diff.createdClientIds.tracks]) {
      out.set(id, this.current.get(id));
    }
    for (const [id, o] of this.current) if (o.serverId !== undefined) out.set(id, o);
    for (const id of this.baseline.keys()) if (!this.current.has(id)) out.set(id, undefined);
    return out;
  }

  private pushDelete(diff: StoreDiff, id: number, before: AnnotationObject): void {
    pushApi(diff.delete, before, true);
    diff.deletedClientIds[kindKey(before)].push(id);
  }

  private build(spec: NewObject, label: LabelSpec, zOrder: number): AnnotationObject {
    const attributes = { ...defaultAttributes(label), ...(spec.attributes ?? {}) };
    const base = { clientId: newClientId(), labelId: label.id, group: 0, source: spec.source ?? "manual" };
    if (spec.kind === "tag") return { ...base, kind: "tag", frame: spec.frame, attributes };
    const type: ShapeType = spec.type ?? (label.type === "skeleton" ? "skeleton" : "rectangle");
    const points = [...(spec.points ?? [])];
    const rotation = spec.rotation ?? 0;
    const occluded = spec.occluded ?? false;
    const given = new Map((spec.elements ?? []).map((e) => [e.labelId, e]));
    const elementShapes: Shape[] = type === "skeleton"
      ? label.sublabels.map((sub) => ({
        kind: "shape", clientId: newClientId(), labelId: sub.id, group: 0, source: base.source, type: "points",
        frame: spec.frame, points: [...(given.get(sub.id)?.points ?? [0, 0])], rotation: 0, occluded: false,
        outside: given.get(sub.id)?.outside ?? !given.has(sub.id), zOrder, attributes: defaultAttributes(sub), elements: [],
      }))
      : [];
    const shape: Shape = {
      ...base, kind: "shape", type, frame: spec.frame, points, rotation, occluded, outside: false, zOrder,
      attributes, elements: elementShapes,
    };
    return spec.kind === "shape" ? shape : this.shapeToTrack(shape, false);
  }

  /** A track of one keyframe from a shape (same clientId); `end`: an outside keyframe on the next frame. */
  private shapeToTrack(shape: Shape, end: boolean): Track {
    const label = this.labelById.get(shape.labelId);
    const [immutable, mutable] = label ? this.splitAttributes(label, shape.attributes) : [shape.attributes, {}];
    const key: KeyShape = {
      type: shape.type, frame: shape.frame, points: shape.points, rotation: shape.rotation,
      occluded: shape.occluded, outside: shape.outside, zOrder: shape.zOrder, attributes: mutable,
    };
    const next = shape.frame + 1;
    const shapes = end && next <= this.range.stop ? [key, { ...key, frame: next, outside: true }] : [key];
    const track: Track = {
      kind: "track", clientId: shape.clientId, labelId: shape.labelId, group: shape.group, source: shape.source,
      attributes: immutable, shapes, elements: shape.elements.map((e) => this.shapeToTrack(e, end)),
    };
    return shape.serverId === undefined ? track : { ...track, serverId: shape.serverId };
  }

  private splitAttributes(label: LabelSpec, attributes: Attributes): [Attributes, Attributes] {
    const immutable: Record<number, string> = {};
    const mutable: Record<number, string> = {};
    for (const [id, value] of Object.entries(attributes)) {
      const spec = label.attributes.find((a) => a.id === Number(id));
      (spec?.mutable ? mutable : immutable)[Number(id)] = value;
    }
    return [immutable, mutable];
  }

  private mergeTrackList(tracks: readonly Track[]): Track {
    const keys = new Map<number, KeyShape>();
    for (const t of tracks) for (const k of t.shapes) if (!keys.has(k.frame)) keys.set(k.frame, k);
    const shapes = [...keys.values()].sort((a, b) => a.frame - b.frame);
    const first = tracks[0]!;
    const elements = first.elements.map((el) => this.mergeTrackList(
      tracks.map((t) => t.elements.find((e) => e.labelId === el.labelId)).filter((e): e is Track => e !== undefined)));
    return { ...first, shapes, elements };
  }

  private splitOne(track: Track, frame: number): [Track, Track] {
    const at = this.keyAt(track, frame);
    const before: Track = {
      ...track,
      shapes: [...track.shapes.filter((s) => s.frame < frame), { ...withoutKeyId(at), outside: true }],
      elements: [],
    };
    const after: Track = { ...track, shapes: [at, ...track.shapes.filter((s) => s.frame > frame)], elements: [] };
    const parts = track.elements.map((e) => this.splitOne(e, frame));
    return [
      { ...before, elements: parts.map((p) => p[0]) },
      { ...after, elements: parts.map((p) => p[1]) },
    ];
  }

  /** The keyframe at `frame`, or the interpolated state there as a new keyframe. */
  private keyAt(track: Track, frame: number): KeyShape {
    const existing = track.shapes.find((s) => s.frame === frame);
    if (existing) return existing;
    const state = trackStateAt(track, frame, this.range.stop);
    const nearest = [...track.shapes].reverse().find((s) => s.frame < frame) ?? track.shapes[0];
    if (!state) {
      return { ...withoutKeyId(nearest ?? emptyKey(frame)), frame };
    }
    return {
      type: nearest?.type ?? "rectangle",
      frame,
      points: [...state.points],
      rotation: state.rotation,
      occluded: state.occluded,
      outside: state.outside,
      zOrder: state.zOrder,
      attributes: { ...state.attributes },
    };
  }

  /** The track with its keyframe at `frame` (made from the interpolated state if needed) edited; skeleton elements get keyframes there too. */
  private withKey(track: Track, frame: number, edit: (key: KeyShape) => KeyShape, elements = true): Track {
    const key = edit(this.keyAt(track, frame));
    const shapes = insertKey(track.shapes, key);
    return {
      ...track,
      shapes,
      elements: elements ? track.elements.map((e) => this.withKey(e, frame, (k) => k)) : track.elements,
    };
  }

  private moveElements(elements: readonly Shape[], given: NonNullable<Geometry["elements"]>): Shape[] {
    const byLabel = new Map(given.map((e) => [e.labelId, e]));
    return elements.map((e) => {
      const g = byLabel.get(e.labelId);
      return g ? { ...e, points: [...g.points], outside: g.outside } : e;
    });
  }

  private maxZ(frame: number): number {
    const objects = this.frameObjects(frame);
    return objects.length ? Math.max(...objects.map((o) => o.zOrder)) : -1;
  }

  private shapeView(shape: Shape): FrameObject {
    const known = this.shapeViews.get(shape);
    if (known) return known;
    const view: FrameObject = {
      clientId: shape.clientId,
      kind: "shape",
      type: shape.type,
      labelId: shape.labelId,
      points: shape.points,
      rotation: shape.rotation,
      occluded: shape.occluded,
      outside: false,
      zOrder: shape.zOrder,
      keyframe: true,
      attributes: shape.attributes,
      elements: shape.elements.map((e): FrameElement => ({
        labelId: e.labelId, type: e.type, points: e.points, occluded: e.occluded, outside: e.outside,
      })),
      group: shape.group,
    };
    this.shapeViews.set(shape, view);
    return view;
  }

  private trackView(track: Track, frame: number): FrameObject | null {
    const state = trackStateAt(track, frame, this.range.stop);
    if (!state) return null;
    let elements: FrameElement[] = state.elements.map((e) => ({
      labelId: e.labelId, type: "points", points: e.points, occluded: e.occluded, outside: e.outside,
    }));
    if (!elements.length && track.elements.length) {
      elements = track.elements.flatMap((el): FrameElement[] => {
        const s = trackStateAt(el, frame, this.range.stop);
        return s ? [{ labelId: el.labelId, type: "points", points: s.points, occluded: s.occluded, outside: s.outside }] : [];
      });
    }
    return {
      clientId: track.clientId,
      kind: "track",
      type: track.shapes[0]?.type ?? "rectangle",
      labelId: track.labelId,
      points: state.points,
      rotation: state.rotation,
      occluded: state.occluded,
      outside: state.outside,
      zOrder: state.zOrder,
      keyframe: state.keyframe,
      attributes: { ...track.attributes, ...state.attributes },
      elements,
      group: track.group,
    };
  }

  /** Records one change as an undoable step (part of the open transaction, if any). */
  private record(name: string, changes: ReadonlyMap<number, AnnotationObject | undefined>): void {
    if (!changes.size) return;
    this.history.transaction(name, () => this.change(changes));
    if (!this.history.inTransaction()) this.flush();
  }

  private change(changes: ReadonlyMap<number, AnnotationObject | undefined>): void {
    const before = new Map<number, AnnotationObject | undefined>();
    for (const id of changes.keys()) before.set(id, this.current.get(id));
    this.history.push({ name: "", before, after: new Map(changes) });
    this.apply(changes);
    this.ver++;
    this.notifyPending = true;
  }

  private apply(objects: ReadonlyMap<number, AnnotationObject | undefined>): void {
    for (const [id, object] of objects) this.put(id, object);
  }

  /** Sets one object and updates the frame index of its old and new frames. */
  private put(id: number, object: AnnotationObject | undefined): void {
    this.objectsVer++;
    const old = this.current.get(id);
    if (old) {
      if (old.kind === "track") this.tracks.delete(id);
      else (old.kind === "shape" ? this.shapesByFrame : this.tagsByFrame).get(old.frame)?.delete(id);
    }
    if (!object) {
      this.current.delete(id);
      return;
    }
    this.current.set(id, object);
    if (object.kind === "track") {
      this.tracks.add(id);
      return;
    }
    const index = object.kind === "shape" ? this.shapesByFrame : this.tagsByFrame;
    let ids = index.get(object.frame);
    if (!ids) index.set(object.frame, (ids = new Set()));
    ids.add(id);
  }

  private bump(): void {
    this.ver++;
    this.notifyPending = true;
    if (!this.history.inTransaction()) this.flush();
  }

  private flush(): void {
    if (!this.notifyPending) return;
    this.notifyPending = false;
    const change: StoreChange = { version: this.ver };
    for (const listener of [...this.listeners]) listener(change);
  }
}

function pushApi(target: ApiAnnotations, object: AnnotationObject, ids: boolean): void {
  if (object.kind === "tag") target.tags.push(toApiTag(object, ids));
  else if (object.kind === "shape") target.shapes.push(toApiShape(object, ids));
  else target.tracks.push(toApiTrack(object, ids));
}

function withoutKeyId(key: KeyShape): KeyShape {
  const { serverId: _drop, ...rest } = key;
  return rest;
}

function emptyKey(frame: number): KeyShape {
  return { type: "rectangle", frame, points: [], rotation: 0, occluded: false, outside: false, zOrder: 0, attributes: {} };
}

import { describe, expect, it } from "vitest";
import type { Label } from "../api/types";
import { labelSpecs } from "./labels";
import type { ApiAnnotations, Shape, Track } from "./model";
import { AnnotationStore } from "./store";

const apiLabels: Label[] = [
  {
    id: 1, name: "car", type: "any",
    attributes: [
      { id: 10, name: "color", mutable: false, input_type: "select", default_value: "blue", values: ["red", "blue"] },
      { id: 11, name: "parked", mutable: true, input_type: "checkbox", default_value: "false", values: ["false"] },
    ],
  },
  { id: 2, name: "person", type: "rectangle", attributes: [{ id: 20, name: "age", mutable: false, input_type: "text", default_value: "adult", values: [] }] },
  { id: 3, name: "hand", type: "skeleton", attributes: [], sublabels: [{ id: 31, name: "a", type: "points", attributes: [] }, { id: 32, name: "b", type: "points", attributes: [] }] },
  { id: 4, name: "weather", type: "tag", attributes: [] },
  { id: 5, name: "foot", type: "skeleton", attributes: [], sublabels: [{ id: 51, name: "c", type: "points", attributes: [] }] },
  { id: 6, name: "road", type: "polygon", attributes: [] },
];
const labels = labelSpecs(apiLabels);

const data = (): ApiAnnotations => ({
  version: 1,
  tags: [{ id: 100, frame: 3, label_id: 4, group: null, source: "manual", attributes: [] }],
  shapes: [
    { id: 101, type: "rectangle", frame: 0, label_id: 1, group: null, source: "manual", occluded: false, z_order: 0, rotation: 0, points: [0, 0, 10, 10], attributes: [{ spec_id: 10, value: "red" }, { spec_id: 11, value: "false" }] },
    { id: 102, type: "rectangle", frame: 0, label_id: 2, group: null, source: "manual", occluded: false, z_order: 3, rotation: 0, points: [5, 5, 10, 10], attributes: [{ spec_id: 20, value: "kid" }] },
  ],
  tracks: [{
    id: 200, frame: 0, label_id: 1, group: null, source: "manual", attributes: [{ spec_id: 10, value: "red" }],
    shapes: [
      { id: 201, type: "rectangle", frame: 0, occluded: false, outside: false, z_order: 1, rotation: 0, points: [0, 0, 10, 10], attributes: [{ spec_id: 11, value: "false" }] },
      { id: 202, type: "rectangle", frame: 10, occluded: false, outside: false, z_order: 1, rotation: 0, points: [10, 10, 20, 20], attributes: [{ spec_id: 11, value: "false" }] },
    ],
  }],
});

function loaded(): { store: AnnotationStore; track: number; car: number; person: number; tag: number } {
  const store = new AnnotationStore(labels, { start: 0, stop: 20 });
  store.load(data());
  const find = (id: number) => store.objects().find((o) => o.serverId === id)!.clientId;
  return { store, track: find(200), car: find(101), person: find(102), tag: find(100) };
}

const trackOf = (store: AnnotationStore, id: number) => store.get(id) as Track;

describe("reading", () => {
  it("lists a frame's shapes and interpolated tracks by z-order, tags apart", () => {
    const { store, track } = loaded();
    const f0 = store.frameObjects(0);
    expect(f0.map((o) => o.zOrder)).toEqual([0, 1, 3]);
    const t5 = store.frameObjects(5).find((o) => o.clientId === track)!;
    expect(t5.points).toEqual([5, 5, 15, 15]);
    expect(t5.keyframe).toBe(false);
    expect(t5.attributes).toEqual({ 10: "red", 11: "false" });
    expect(store.frameObjects(5)).toHaveLength(1);
    expect(store.frameTags(3)).toHaveLength(1);
    expect(store.frameTags(0)).toHaveLength(0);
  });

  it("caches a frame until something changes", () => {
    const { store, car } = loaded();
    const a = store.frameObjects(0);
    expect(store.frameObjects(0)).toBe(a);
    store.setView(car, { hidden: true });
    expect(store.view(car)).toEqual({ hidden: true });
    expect(store.frameObjects(0)).toBe(a); // display state does not touch objects
    expect(store.hasChanges()).toBe(false);
    store.setZOrder(car, 0, 9);
    const b = store.frameObjects(0);
    expect(b).not.toBe(a);
    expect(b.find((o) => o.clientId === car)!.zOrder).toBe(9);
  });

  it("stays fast with thousands of objects", () => {
    const store = new AnnotationStore(labels, { start: 0, stop: 999 });
    const shapes: ApiAnnotations["shapes"] = [];
    for (let i = 0; i < 20000; i++) {
      shapes.push({ id: i + 1, type: "rectangle", frame: i % 1000, label_id: 1, group: null, source: "manual", occluded: false, z_order: 0, rotation: 0, points: [i, i, i + 5, i + 5], attributes: [] });
    }
    store.load({ version: 1, tags: [], shapes, tracks: [] });
    const t0 = performance.now();
    for (let f = 0; f < 1000; f++) expect(store.frameObjects(f)).toHaveLength(20);
    const some = store.frameObjects(7)[0]!.clientId;
    for (let i = 0; i < 200; i++) {
      store.setGeometry(some, 7, { points: [i, i, 9, 9], rotation: 0 });
      expect(store.frameObjects(7)).toHaveLength(20);
    }
    expect(performance.now() - t0).toBeLessThan(1500);
  });
});

describe("creating", () => {
  it("gives new objects the label's defaults and a z-order above the frame", () => {
    const { store } = loaded();
    const [a, b] = store.create([
      { kind: "shape", type: "polygon", frame: 0, labelId: 1, points: [0, 0, 1, 0, 1, 1], attributes: { 10: "red" } },
      { kind: "shape", type: "rectangle", frame: 0, labelId: 2, points: [0, 0, 1, 1] },
    ]);
    const sa = store.get(a!) as Shape;
    expect(sa.attributes).toEqual({ 10: "red", 11: "false" });
    expect(sa.zOrder).toBe(4);
    expect((store.get(b!) as Shape).zOrder).toBe(5);
    expect(store.undoName()).toBe("Create objects");
    store.undo();
    expect(store.get(a!)).toBeUndefined();
    expect(store.get(b!)).toBeUndefined();
  });

  it("splits a new track's attributes into immutable (track) and mutable (keyframe)", () => {
    const { store } = loaded();
    const [id] = store.create([{ kind: "track", type: "rectangle", frame: 4, labelId: 1, points: [1, 1, 2, 2], zOrder: 7 }]);
    const t = trackOf(store, id!);
    expect(t.attributes).toEqual({ 10: "blue" });
    expect(t.shapes).toEqual([{ type: "rectangle", frame: 4, points: [1, 1, 2, 2], rotation: 0, occluded: false, outside: false, zOrder: 7, attributes: { 11: "false" } }]);
  });

  it("makes skeletons with one element per sublabel (shapes and tracks)", () => {
    const { store } = loaded();
    const [s, t] = store.create([
      { kind: "shape", type: "skeleton", frame: 1, labelId: 3, elements: [{ labelId: 31, points: [1, 2], outside: false }] },
      { kind: "track", type: "skeleton", frame: 1, labelId: 3, elements: [{ labelId: 31, points: [1, 2], outside: false }, { labelId: 32, points: [3, 4], outside: false }] },
    ]);
    const shape = store.get(s!) as Shape;
    expect(shape.elements.map((e) => [e.labelId, e.points, e.outside])).toEqual([[31, [1, 2], false], [32, [0, 0], true]]);
    const track = trackOf(store, t!);
    expect(track.elements.map((e) => e.labelId)).toEqual([31, 32]);
    const view = store.frameObjects(1).find((o) => o.clientId === t)!;
    expect(view.elements.map((e) => e.points)).toEqual([[1, 2], [3, 4]]);
  });

  it("ignores unknown labels and unknown clientIds", () => {
    const { store } = loaded();
    expect(store.create([{ kind: "tag", frame: 0, labelId: 999 }])).toEqual([]);
    const v = store.version();
    store.remove([12345]);
    store.setGeometry(12345, 0, { points: [], rotation: 0 });
    expect(store.version()).toBe(v);
    expect(store.undoName()).toBeNull();
  });
});

describe("tracks", () => {
  it("an edit on an interpolated frame makes a keyframe there from the interpolated state", () => {
    const { store, track } = loaded();
    store.setGeometry(track, 5, { points: [50, 50, 60, 60], rotation: 0 });
    const t = trackOf(store, track);
    expect(t.shapes.map((s) => s.frame)).toEqual([0, 5, 10]);
    expect(store.frameObjects(5).find((o) => o.clientId === track)!.keyframe).toBe(true);
    expect(store.frameObjects(3).find((o) => o.clientId === track)!.points).toEqual([30, 30, 40, 40]);
    store.setFlag(track, 7, "occluded", true);
    const k7 = trackOf(store, track).shapes.find((s) => s.frame === 7)!;
    expect(k7.occluded).toBe(true);
    expect(k7.points).toEqual([34, 34, 44, 44]); // copied from the interpolated state first
  });

  it("outside on a frame makes an outside keyframe; keyframes toggle off but never the last", () => {
    const { store, track } = loaded();
    store.setFlag(track, 4, "outside", true);
    expect(store.frameObjects(4).find((o) => o.clientId === track)!.outside).toBe(true);
    expect(store.frameObjects(6).find((o) => o.clientId === track)!.outside).toBe(true);
    expect(store.frameObjects(10).find((o) => o.clientId === track)!.outside).toBe(false);
    store.setFlag(track, 4, "keyframe", false);
    store.setFlag(track, 10, "keyframe", false);
    expect(trackOf(store, track).shapes.map((s) => s.frame)).toEqual([0]);
    store.setFlag(track, 0, "keyframe", false);
    expect(trackOf(store, track).shapes.map((s) => s.frame)).toEqual([0]);
    store.setFlag(track, 2, "keyframe", true);
    expect(trackOf(store, track).shapes.map((s) => s.frame)).toEqual([0, 2]);
  });

  it("mutable attributes change from a frame on; immutable ones on the whole track", () => {
    const { store, track } = loaded();
    store.setAttribute(track, 4, 11, "true");
    store.setAttribute(track, 4, 10, "blue");
    expect(store.frameObjects(2).find((o) => o.clientId === track)!.attributes).toEqual({ 10: "blue", 11: "false" });
    expect(store.frameObjects(4).find((o) => o.clientId === track)!.attributes).toEqual({ 10: "blue", 11: "true" });
    expect(store.frameObjects(6).find((o) => o.clientId === track)!.attributes).toEqual({ 10: "blue", 11: "true" });
  });

  it("merges tracks and shapes of one label: the first selected wins a shared frame", () => {
    const { store, track } = loaded();
    const [other] = store.create([{ kind: "track", type: "rectangle", frame: 10, labelId: 1, points: [99, 99, 100, 100] }]);
    store.setGeometry(other!, 15, { points: [0, 0, 5, 5], rotation: 0 });
    const [shape] = store.create([{ kind: "shape", type: "rectangle", frame: 18, labelId: 1, points: [7, 7, 8, 8] }]);
    const merged = store.mergeTracks([track, other!, shape!]);
    expect(merged).toBe(track);
    const t = trackOf(store, track);
    expect(t.shapes.map((s) => [s.frame, s.outside])).toEqual([[0, false], [10, false], [15, false], [18, false], [19, true]]);
  });

  it("merges shapes on several frames into one track interpolated between them (CVAT's merge)", () => {
    const { store } = loaded();
    const ids = store.create([
      { kind: "shape", type: "rectangle", frame: 2, labelId: 1, points: [0, 0, 10, 10] },
      { kind: "shape", type: "rectangle", frame: 6, labelId: 1, points: [40, 40, 50, 50] },
    ]);
    const merged = store.mergeTracks(ids)!;
    const t = trackOf(store, merged);
    // no outside keyframe between the shapes: frame 4 is halfway; one after the last shape
    expect(t.shapes.map((s) => [s.frame, s.outside])).toEqual([[2, false], [6, false], [7, true]]);
    expect(store.frameObjects(4).find((o) => o.clientId === merged)!.points).toEqual([20, 20, 30, 30]);
    expect(store.frameObjects(7).find((o) => o.clientId === merged)?.outside ?? true).toBe(true);
  });

  it("merges: undo brings the parts back", () => {
    const { store, track, car } = loaded();
    const [other] = store.create([{ kind: "track", type: "rectangle", frame: 10, labelId: 1, points: [99, 99, 100, 100] }]);
    const [shape] = store.create([{ kind: "shape", type: "rectangle", frame: 18, labelId: 1, points: [7, 7, 8, 8] }]);
    store.mergeTracks([track, other!, shape!]);
    const t = trackOf(store, track);
    expect(t.shapes[1]!.points).toEqual([10, 10, 20, 20]);
    expect(t.serverId).toBe(200);
    expect(store.get(other!)).toBeUndefined();
    expect(store.get(shape!)).toBeUndefined();
    expect(store.undoName()).toBe("Merge tracks");
    expect(store.mergeTracks([track, store.objects().find((o) => o.serverId === 102)!.clientId])).toBeNull();
    store.undo();
    expect(store.get(other!)).toBeDefined();
    expect(store.get(car)).toBeDefined();
  });

  it("splits a track at a frame into [before, from frame on]", () => {
    const { store, track } = loaded();
    expect(store.splitTrack(track, 0)).toBeNull();
    const [a, b] = store.splitTrack(track, 4)!;
    expect(a).toBe(track);
    const before = trackOf(store, a);
    const after = trackOf(store, b);
    expect(before.serverId).toBe(200);
    expect(after.serverId).toBeUndefined();
    expect(before.shapes.map((s) => [s.frame, s.outside])).toEqual([[0, false], [4, true]]);
    expect(after.shapes.map((s) => [s.frame, s.points])).toEqual([[4, [4, 4, 14, 14]], [10, [10, 10, 20, 20]]]);
    expect(after.shapes.every((s) => s.serverId === undefined)).toBe(true);
    expect(store.frameObjects(6).filter((o) => !o.outside).map((o) => o.clientId)).toEqual([b]);
  });

  it("merges and splits skeleton tracks element by element", () => {
    const { store } = loaded();
    const el = (x: number) => [{ labelId: 31, points: [x, x], outside: false }, { labelId: 32, points: [x + 1, x + 1], outside: false }];
    const [a, b] = store.create([
      { kind: "track", type: "skeleton", frame: 0, labelId: 3, elements: el(0) },
      { kind: "track", type: "skeleton", frame: 10, labelId: 3, elements: el(10) },
    ]);
    const m = store.mergeTracks([a!, b!])!;
    const merged = trackOf(store, m);
    expect(merged.elements.map((e) => e.shapes.map((k) => k.frame))).toEqual([[0, 10], [0, 10]]);
    expect(store.frameObjects(5).find((o) => o.clientId === m)!.elements.map((e) => e.points)).toEqual([[5, 5], [6, 6]]);
    const [, second] = store.splitTrack(m, 5)!;
    const after = trackOf(store, second);
    expect(after.elements.map((e) => e.shapes.map((k) => [k.frame, k.points]))).toEqual([
      [[5, [5, 5]], [10, [10, 10]]],
      [[5, [6, 6]], [10, [11, 11]]],
    ]);
    expect(trackOf(store, m).elements.every((e) => e.shapes.at(-1)!.frame === 5 && e.shapes.at(-1)!.outside)).toBe(true);
  });

  it("z-order and flags on a track frame go to a keyframe there", () => {
    const { store, track, car } = loaded();
    store.toFront(track, 4);
    // alone on frame 4: already in front, nothing changes
    expect(trackOf(store, track).shapes.find((s) => s.frame === 4)).toBeUndefined();
    expect(store.undoName()).toBeNull();
    store.create([{ kind: "shape", type: "rectangle", frame: 4, labelId: 1, points: [0, 0, 1, 1], zOrder: 5 }]);
    store.toFront(track, 4);
    expect(trackOf(store, track).shapes.find((s) => s.frame === 4)!.zOrder).toBe(6);
    expect(store.frameObjects(0).find((o) => o.clientId === track)!.zOrder).toBe(1);
    store.setFlag(car, 0, "occluded", true);
    expect((store.get(car) as Shape).occluded).toBe(true);
  });

  it("makes a shape into a track and propagates shapes to frames in range", () => {
    const { store, car } = loaded();
    const t = store.toTrack(car, 0)!;
    expect(store.get(car)).toBeUndefined();
    const track = trackOf(store, t);
    expect(track.attributes).toEqual({ 10: "red" });
    expect(track.shapes[0]!.attributes).toEqual({ 11: "false" });
    const copies = store.propagate(t, 0, [1, 2, 3, 25]);
    expect(copies).toHaveLength(3);
    expect(copies.map((id) => (store.get(id) as Shape).frame)).toEqual([1, 2, 3]);
    expect((store.get(copies[0]!) as Shape).attributes).toEqual({ 10: "red", 11: "false" });
    expect(store.undoName()).toBe("Propagate");
    store.undo();
    expect(copies.every((id) => store.get(id) === undefined)).toBe(true);
  });

  it("snapshots a track on a frame for copy/paste", () => {
    const { store, track } = loaded();
    expect(store.snapshot(track, 5)).toMatchObject({ kind: "track", type: "rectangle", frame: 5, labelId: 1, points: [5, 5, 15, 15], attributes: { 10: "red", 11: "false" } });
    const [copy] = store.create([{ ...store.snapshot(track, 5)!, frame: 6, zOrder: undefined }]);
    expect(trackOf(store, copy!).shapes[0]!.frame).toBe(6);
  });
});

describe("labels, groups, z-order", () => {
  it("a label change resets attributes to the new label's defaults; wrong types are refused", () => {
    const { store, car, person, track } = loaded();
    store.setLabel(car, 2);
    expect(store.get(car)).toMatchObject({ labelId: 2, attributes: { 20: "adult" } });
    store.setLabel(person, 6); // a polygon label for a rectangle
    expect(store.get(person)!.labelId).toBe(2);
    store.setLabel(track, 2);
    const t = trackOf(store, track);
    expect(t.attributes).toEqual({ 20: "adult" });
    expect(t.shapes.every((s) => Object.keys(s.attributes).length === 0)).toBe(true);
    const [sk] = store.create([{ kind: "shape", type: "skeleton", frame: 0, labelId: 3 }]);
    store.setLabel(sk!, 5); // other sublabels
    expect(store.get(sk!)!.labelId).toBe(3);
  });

  it("groups with a new id, ungroups to 0", () => {
    const { store, car, person } = loaded();
    store.group([car, person]);
    const g = store.get(car)!.group;
    expect(g).toBeGreaterThan(0);
    expect(store.get(person)!.group).toBe(g);
    store.ungroup([car]);
    expect(store.get(car)!.group).toBe(0);
  });

  it("moves objects to the front and back of their frame", () => {
    const { store, car } = loaded();
    store.toFront(car, 0);
    expect(store.frameObjects(0).at(-1)!.clientId).toBe(car);
    store.toBack(car, 0);
    expect(store.frameObjects(0)[0]!.clientId).toBe(car);
  });
});

describe("undo, redo and changes", () => {
  it("restores objects by reference and notifies once per step", () => {
    const { store, car } = loaded();
    const original = store.get(car);
    const versions: number[] = [];
    store.subscribe((c) => versions.push(c.version));
    store.transaction("drag", () => {
      store.setGeometry(car, 0, { points: [1, 1, 2, 2], rotation: 0 });
      store.setGeometry(car, 0, { points: [3, 3, 4, 4], rotation: 0 });
    });
    expect(versions).toHaveLength(1);
    const moved = store.get(car);
    expect(store.undo()).toBe("drag");
    expect(store.get(car)).toBe(original);
    expect(store.redo()).toBe("drag");
    expect(store.get(car)).toBe(moved);
    expect(versions).toHaveLength(3);
    expect(new Set(versions).size).toBe(3);
  });

  it("lists creates, updates and deletes; an edit undone or put back is no change", () => {
    const { store, car, person, track, tag } = loaded();
    expect(store.hasChanges()).toBe(false);
    store.setGeometry(car, 0, { points: [1, 1, 2, 2], rotation: 0 });
    store.remove([tag]);
    const [n] = store.create([{ kind: "shape", type: "rectangle", frame: 2, labelId: 2, points: [0, 0, 1, 1] }]);
    store.setAttribute(track, 3, 11, "true");
    const d = store.changes();
    expect(d.update.shapes.map((s) => s.id)).toEqual([101]);
    expect(d.update.tracks[0]!.shapes.map((s) => [s.id, s.frame])).toEqual([[201, 0], [undefined, 3], [202, 10]]);
    expect(d.delete.tags.map((t) => t.id)).toEqual([100]);
    expect(d.create.shapes).toHaveLength(1);
    expect(d.create.shapes[0]!.id).toBeUndefined();
    expect(d.createdClientIds.shapes).toEqual([n]);
    expect(d.create.version).toBe(1);
    store.undo();
    store.undo();
    store.undo();
    store.undo();
    expect(store.hasChanges()).toBe(false);
    expect(store.changes().update.shapes).toEqual([]);
    store.setGeometry(person, 0, { points: [9, 9, 10, 10], rotation: 0 });
    store.setGeometry(person, 0, { points: [5, 5, 10, 10], rotation: 0 });
    expect(store.hasChanges()).toBe(false);
  });

  it("after a save: server ids adopted (also in the undo history), baseline moved, later edits stay changes", () => {
    const { store } = loaded();
    const [sk] = store.create([{ kind: "track", type: "skeleton", frame: 1, labelId: 3, elements: [{ labelId: 31, points: [1, 1], outside: false }, { labelId: 32, points: [2, 2], outside: false }] }]);
    const diff = store.changes();
    store.setGeometry(sk!, 2, { points: [], rotation: 0 }); // made while saving
    const body = diff.create.tracks[0]!;
    store.saved(diff, {
      version: 2, tags: [], shapes: [],
      tracks: [{
        ...body, id: 900, shapes: body.shapes.map((s) => ({ ...s, id: 901 })),
        elements: body.elements!.map((e, i) => ({ ...e, id: 910 + i, shapes: e.shapes.map((s) => ({ ...s, id: 920 + i })) })),
      }],
    });
    const t = trackOf(store, sk!);
    expect(t.serverId).toBe(900);
    expect(t.shapes.find((s) => s.frame === 1)!.serverId).toBe(901);
    expect(t.elements.map((e) => e.serverId)).toEqual([910, 911]);
    const next = store.changes();
    expect(next.create.tracks).toHaveLength(0);
    expect(next.update.tracks.map((x) => x.id)).toEqual([900]);
    store.undo(); // the edit made while saving
    expect(store.hasChanges()).toBe(false);
    store.undo(); // the creation: now a delete of 900
    expect(store.changes().delete.tracks.map((x) => x.id)).toEqual([900]);
    store.redo(); // back: the saved object, with its id, not a second create
    expect(store.get(sk!)!.serverId).toBe(900);
    expect(store.hasChanges()).toBe(false);
  });

  it("an object whose delete was saved and then undone is created again", () => {
    const { store, car } = loaded();
    store.remove([car]);
    const d = store.changes();
    expect(d.delete.shapes.map((s) => s.id)).toEqual([101]);
    store.saved(d, { version: 2, tags: [], shapes: [], tracks: [] });
    expect(store.hasChanges()).toBe(false);
    store.undo();
    const again = store.changes();
    expect(again.create.shapes).toHaveLength(1);
    expect(again.create.shapes[0]!.id).toBeUndefined();
    expect(again.update.shapes).toHaveLength(0);
  });

  it("rebases on the server's annotations after a conflict", () => {
    const { store, car, person, track } = loaded();
    store.setGeometry(car, 0, { points: [1, 1, 3, 3], rotation: 0 }); // others deleted car
    store.remove([track]); // others deleted it too
    const server = data();
    server.version = 5;
    server.shapes = [{ ...server.shapes[1]!, points: [6, 6, 7, 7] }, // others moved person
      { id: 300, type: "points", frame: 1, label_id: 1, group: null, source: "manual", occluded: false, z_order: 0, rotation: 0, points: [1, 1], attributes: [] }];
    server.tracks = [];
    const r = store.rebase(server);
    expect(r.recreated).toEqual([car]);
    expect(r.adopted).toHaveLength(1);
    expect((store.get(person) as Shape).points).toEqual([6, 6, 7, 7]);
    const d = store.changes();
    expect(d.create.shapes.map((s) => s.points)).toEqual([[1, 1, 3, 3]]);
    expect(d.update.shapes).toHaveLength(0);
    expect(d.delete.tracks).toHaveLength(0);
    expect(store.get(r.adopted[0]!)!.serverId).toBe(300);
  });
});

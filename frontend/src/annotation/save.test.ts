import { afterEach, describe, expect, it, vi } from "vitest";
import { ApiError } from "../api/client";
import type { SaveState } from "./contracts";
import { labelSpecs } from "./labels";
import type { ApiAnnotations, ApiShape, ApiTag, ApiTrack, Shape, Track } from "./model";
import { batches, Saver, type SaveIo } from "./save";
import { AnnotationStore } from "./store";

const labels = labelSpecs([
  { id: 1, name: "car", type: "any", attributes: [{ id: 10, name: "parked", mutable: true, input_type: "checkbox", default_value: "false", values: ["false"] }] },
  { id: 3, name: "hand", type: "skeleton", attributes: [], sublabels: [{ id: 31, name: "a", type: "points", attributes: [] }, { id: 32, name: "b", type: "points", attributes: [] }] },
  { id: 4, name: "weather", type: "tag", attributes: [] },
]);

type Obj = ApiTag | ApiShape | ApiTrack;
type Kind = "tags" | "shapes" | "tracks";
const KINDS: Kind[] = ["tags", "shapes", "tracks"];
const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

/** The server's PATCH semantics (services/annotations.py): create gives every object and nested object a new id
 * in request order and answers the request with them; update replaces by id (409 when the id is gone) and gives
 * new nested objects ids; delete removes by id. */
class FakeServer implements SaveIo {
  data: ApiAnnotations = { version: 1, tags: [], shapes: [], tracks: [] };
  nextId = 1000;
  calls: { action: string; body: ApiAnnotations }[] = [];
  failures: { action?: string; error: Error }[] = [];
  gate: Promise<void> | null = null;

  private fresh(o: Obj, keep: boolean): void {
    if (!keep || o.id === undefined) o.id = this.nextId++;
    if ("elements" in o && o.elements) for (const e of o.elements as Obj[]) this.fresh(e, keep);
    if ("shapes" in o) for (const s of o.shapes) if (!keep || s.id === undefined) s.id = this.nextId++;
  }

  async patch(action: "create" | "update" | "delete", body: ApiAnnotations): Promise<ApiAnnotations> {
    this.calls.push({ action, body: clone(body) });
    if (this.gate) await this.gate;
    const i = this.failures.findIndex((f) => !f.action || f.action === action);
    if (i >= 0) throw this.failures.splice(i, 1)[0]!.error;
    const change = clone(body);
    for (const kind of KINDS) {
      const list = change[kind] as Obj[];
      const current = this.data[kind] as Obj[];
      if (action === "create") {
        list.forEach((o) => this.fresh(o, false));
        current.push(...clone(list));
      } else if (action === "delete") {
        const gone = new Set(list.map((o) => o.id));
        (this.data[kind] as Obj[]) = current.filter((o) => !gone.has(o.id));
      } else {
        const missing = list.filter((o) => !current.some((c) => c.id === o.id));
        if (missing.length) throw new ApiError(409, `Cannot update ${kind} ${missing.map((o) => o.id)}: they do not exist (deleted meanwhile?).`, {});
      }
    }
    if (action === "update") {
      for (const kind of KINDS) {
        for (const o of change[kind] as Obj[]) {
          this.fresh(o, true);
          const current = this.data[kind] as Obj[];
          current[current.findIndex((c) => c.id === o.id)] = clone(o);
        }
      }
    }
    this.data.version++;
    return { ...change, version: this.data.version };
  }

  async get(): Promise<ApiAnnotations> {
    return clone(this.data);
  }

  /** another client's edit */
  external(fn: (data: ApiAnnotations) => void): void {
    fn(this.data);
    this.data.version++;
  }
}

const rect = (frame: number, x: number): ApiShape => ({
  type: "rectangle", frame, label_id: 1, group: null, source: "manual", occluded: false, z_order: 0, rotation: 0,
  points: [x, x, x + 10, x + 10], attributes: [{ spec_id: 10, value: "false" }],
});

async function setup(initial: ApiShape[] = []) {
  const server = new FakeServer();
  if (initial.length) await server.patch("create", { version: 1, tags: [], shapes: initial, tracks: [] });
  server.calls = [];
  const store = new AnnotationStore(labels, { start: 0, stop: 100 });
  store.load(await server.get());
  const states: SaveState[] = [];
  const saver = new Saver(store, server, (s) => states.push(s));
  return { server, store, saver, states };
}

/** what the server holds, as comparable plain values */
const serverPoints = (server: FakeServer) => server.data.shapes.map((s) => s.points).sort((a, b) => a[0]! - b[0]!);
const localPoints = (store: AnnotationStore) => store.objects().filter((o): o is Shape => o.kind === "shape").map((s) => [...s.points]).sort((a, b) => a[0]! - b[0]!);

afterEach(() => {
  vi.useRealTimers();
});

describe("Saver", () => {
  it("sends only what changed: delete, then update, then create; ids come back", async () => {
    const { server, store, saver, states } = await setup([rect(0, 0), rect(0, 100), rect(1, 200)]);
    const [a, b] = store.objects().map((o) => o.clientId);
    store.remove([a!]);
    store.setGeometry(b!, 0, { points: [1, 1, 5, 5], rotation: 0 });
    const [created] = store.create([{ kind: "track", type: "skeleton", frame: 2, labelId: 3, elements: [{ labelId: 31, points: [1, 1], outside: false }, { labelId: 32, points: [2, 2], outside: false }] }]);
    const [tag] = store.create([{ kind: "tag", frame: 0, labelId: 4 }]);
    expect(saver.state().status).toBe("dirty");
    const state = await saver.save();
    expect(state.status).toBe("saved");
    expect(states.map((s) => s.status)).toEqual(["dirty", "saving", "saved"]);
    expect(server.calls.map((c) => c.action)).toEqual(["delete", "update", "create"]);
    expect(server.calls[1]!.body.shapes).toHaveLength(1);
    expect(server.calls[2]!.body.tracks).toHaveLength(1);
    expect(server.calls[2]!.body.tags).toHaveLength(1);
    const track = store.get(created!) as Track;
    const onServer = server.data.tracks[0]!;
    expect(track.serverId).toBe(onServer.id);
    expect(track.shapes[0]!.serverId).toBe(onServer.shapes[0]!.id);
    expect(track.elements.map((e) => e.serverId)).toEqual(onServer.elements!.map((e) => e.id));
    expect(store.get(tag!)!.serverId).toBe(server.data.tags[0]!.id);
    expect(server.data.shapes.map((s) => s.points)).toEqual([[1, 1, 5, 5], [200, 200, 210, 210]]);
    expect(store.hasChanges()).toBe(false);
    server.calls = [];
    expect((await saver.save()).status).toBe("saved");
    expect(server.calls).toEqual([]); // nothing to send
  });

  it("splits big saves into bodies under the limits", async () => {
    const { server, store } = await setup();
    store.create(Array.from({ length: 2500 }, (_, i) => ({ kind: "shape" as const, type: "rectangle" as const, frame: i % 100, labelId: 1, points: [i, i, i + 1, i + 1] })));
    const saver = new Saver(store, server, () => {}, { maxObjects: 1000, maxBytes: 100_000 });
    expect((await saver.save()).status).toBe("saved");
    expect(server.calls.length).toBeGreaterThan(3);
    for (const c of server.calls) {
      expect(c.body.shapes.length).toBeLessThanOrEqual(1000);
      expect(JSON.stringify(c.body).length).toBeLessThan(110_000);
    }
    expect(server.data.shapes).toHaveLength(2500);
    expect(new Set(store.objects().map((o) => o.serverId)).size).toBe(2500);
    expect(serverPoints(server)).toEqual(localPoints(store));
  });

  it("counts nested objects (keyframes) in a batch", () => {
    const store = new AnnotationStore(labels, { start: 0, stop: 2000 });
    const key = (frame: number) => ({ type: "rectangle" as const, frame, occluded: false, outside: false, z_order: 0, rotation: 0, points: [0, 0, 1, 1], attributes: [] });
    store.load({ version: 1, tags: [], shapes: [], tracks: [{ id: 1, frame: 0, label_id: 1, group: null, source: "manual", attributes: [], shapes: Array.from({ length: 1100 }, (_, f) => key(f)) }] });
    const t = store.objects()[0]!.clientId;
    store.setGeometry(t, 5, { points: [1, 1, 2, 2], rotation: 0 });
    store.create([{ kind: "shape", type: "rectangle", frame: 0, labelId: 1, points: [0, 0, 1, 1] }]);
    store.create([{ kind: "tag", frame: 0, labelId: 4 }]);
    const parts = batches(store.changes());
    expect(parts.map((p) => [p.action, p.body.tags.length, p.body.shapes.length, p.body.tracks.length])).toEqual([
      ["update", 0, 0, 1], // the track of 1,101 objects goes alone
      ["create", 1, 1, 0],
    ]);
    expect(parts[1]!.diff.createdClientIds.tags).toHaveLength(1);
    expect([...parts[1]!.diff.sent.keys()]).toHaveLength(2);
  });

  it("keeps edits made during a save dirty, and a second save sends them", async () => {
    const { server, store, saver } = await setup([rect(0, 0)]);
    const [a] = store.objects().map((o) => o.clientId);
    store.setGeometry(a!, 0, { points: [1, 1, 2, 2], rotation: 0 });
    let open!: () => void;
    server.gate = new Promise((r) => (open = r));
    const first = saver.save();
    await Promise.resolve();
    store.setGeometry(a!, 0, { points: [3, 3, 4, 4], rotation: 0 });
    const [b] = store.create([{ kind: "shape", type: "rectangle", frame: 0, labelId: 1, points: [7, 7, 8, 8] }]);
    open();
    server.gate = null;
    expect((await first).status).toBe("dirty");
    expect(server.data.shapes[0]!.points).toEqual([1, 1, 2, 2]);
    expect(store.hasChanges()).toBe(true);
    expect((await saver.save()).status).toBe("saved");
    expect(serverPoints(server)).toEqual([[3, 3, 4, 4], [7, 7, 8, 8]]);
    expect(store.get(b!)!.serverId).toBeDefined();
  });

  it("a save asked for while one runs follows it", async () => {
    const { server, store, saver } = await setup();
    store.create([{ kind: "shape", type: "rectangle", frame: 0, labelId: 1, points: [1, 1, 2, 2] }]);
    let open!: () => void;
    server.gate = new Promise((r) => (open = r));
    const first = saver.save();
    await Promise.resolve();
    store.create([{ kind: "shape", type: "rectangle", frame: 0, labelId: 1, points: [5, 5, 6, 6] }]);
    const second = saver.save();
    server.gate = null;
    open();
    expect((await second).status).toBe("saved");
    await first;
    expect(server.data.shapes).toHaveLength(2); // none sent twice
    expect(serverPoints(server)).toEqual(localPoints(store));
  });

  it("merges a 409: an update of an object others deleted becomes a create; their new objects are adopted", async () => {
    const { server, store, saver, states } = await setup([rect(0, 0), rect(0, 100)]);
    const [a, b] = store.objects().map((o) => o.clientId);
    const aId = store.get(a!)!.serverId;
    server.external((d) => {
      d.shapes = d.shapes.filter((s) => s.id !== aId);
      d.shapes.push({ ...rect(3, 500), id: 5000 });
    });
    store.setGeometry(a!, 0, { points: [9, 9, 19, 19], rotation: 0 });
    store.setGeometry(b!, 0, { points: [50, 50, 60, 60], rotation: 0 });
    const state = await saver.save();
    expect(state.status).toBe("saved");
    // the user is told what the merge did: one of theirs taken in, one of ours saved again as new
    expect(state.status === "saved" && state.merged).toEqual({ adopted: 1, recreated: 1, removed: 0 });
    expect(states.some((s) => s.status === "conflict" || s.status === "error")).toBe(false);
    expect(serverPoints(server)).toEqual([[9, 9, 19, 19], [50, 50, 60, 60], [500, 500, 510, 510]]);
    expect(localPoints(store)).toEqual(serverPoints(server));
    expect(store.get(a!)!.serverId).not.toBe(aId);
    expect(store.hasChanges()).toBe(false);
  });

  it("shows a conflict when the retry fails too, and drops nothing", async () => {
    const { server, store, saver } = await setup([rect(0, 0)]);
    const [a] = store.objects().map((o) => o.clientId);
    store.setGeometry(a!, 0, { points: [9, 9, 19, 19], rotation: 0 });
    const conflict = () => new ApiError(409, "Cannot update shapes: they do not exist", {});
    server.failures.push({ action: "update", error: conflict() }, { action: "update", error: conflict() });
    const state = await saver.save();
    expect(state.status).toBe("conflict");
    expect(state.status === "conflict" && state.message).toContain("Cannot update shapes");
    expect((store.get(a!) as Shape).points).toEqual([9, 9, 19, 19]);
    expect(store.hasChanges()).toBe(true);
    expect((await saver.save()).status).toBe("saved");
    expect(serverPoints(server)).toEqual([[9, 9, 19, 19]]);
  });

  it("keeps changes on other errors, with CVAT's message, and never sends a saved batch twice", async () => {
    const { server, store } = await setup([rect(0, 0)]);
    const states: SaveState[] = [];
    const saver = new Saver(store, server, (s) => states.push(s), { maxObjects: 2, maxBytes: 1_000_000 });
    store.create([0, 1, 2, 3].map((i) => ({ kind: "shape" as const, type: "rectangle" as const, frame: 0, labelId: 1, points: [i, i, 1, 1] })));
    // the first create batch passes, the second fails
    let calls = 0;
    const patch = server.patch.bind(server);
    server.patch = async (action, body) => {
      if (action === "create" && ++calls === 2) throw new ApiError(400, "frame: Frame 900 is outside the job's frames", {});
      return patch(action, body);
    };
    const state = await saver.save();
    expect(state).toEqual({ status: "error", message: "frame: Frame 900 is outside the job's frames" });
    expect(server.data.shapes).toHaveLength(3);
    expect(store.hasChanges()).toBe(true);
    expect(store.changes().create.shapes).toHaveLength(2);
    expect((await saver.save()).status).toBe("saved");
    expect(server.data.shapes).toHaveLength(5);
    expect(serverPoints(server)).toEqual(localPoints(store));
  });

  it("autosaves after the last change (debounced), and not when off", async () => {
    vi.useFakeTimers();
    const { server, store, saver } = await setup();
    saver.setAutosave(1000);
    store.create([{ kind: "shape", type: "rectangle", frame: 0, labelId: 1, points: [1, 1, 2, 2] }]);
    await vi.advanceTimersByTimeAsync(600);
    store.create([{ kind: "shape", type: "rectangle", frame: 0, labelId: 1, points: [3, 3, 4, 4] }]);
    await vi.advanceTimersByTimeAsync(600);
    expect(server.calls).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(500);
    expect(server.calls).toHaveLength(1);
    expect(server.data.shapes).toHaveLength(2);
    expect(saver.state().status).toBe("saved");
    saver.setAutosave(0);
    store.create([{ kind: "shape", type: "rectangle", frame: 0, labelId: 1, points: [5, 5, 6, 6] }]);
    await vi.advanceTimersByTimeAsync(5000);
    expect(server.calls).toHaveLength(1);
    expect(saver.state().status).toBe("dirty");
    saver.destroy();
  });
});

// The saver: sends only what changed since the last save as CVAT's PATCH ?action=delete, update,
// create (never a PUT of the whole job), in batches that keep a body under ~2 MB / 1,000 objects.
// Each batch that succeeds is marked saved at once, so a failure later never sends it twice; edits
// made while a save runs stay changes. A 409 (an update of an object someone else deleted) is
// merged with the server's annotations (store.rebase) and the save retried once; other errors keep
// every change for the next try. Autosave is debounced after the last change.
import { ApiError } from "../api/client";
import type { MergeReport, SaveState } from "./contracts";
import type { ApiAnnotations } from "./model";
import type { AnnotationStore, StoreDiff } from "./store";

export interface SaveIo {
  patch(action: "create" | "update" | "delete", body: ApiAnnotations): Promise<ApiAnnotations>;
  get(): Promise<ApiAnnotations>;
}

export interface BatchLimits {
  maxObjects: number; // objects per body, nested ones (keyframes, elements) counted
  maxBytes: number; // JSON characters per body
}

export const DEFAULT_LIMITS: BatchLimits = { maxObjects: 1000, maxBytes: 2_000_000 };

type Kind = "tags" | "shapes" | "tracks";
const KINDS: readonly Kind[] = ["tags", "shapes", "tracks"];
type ApiObject = ApiAnnotations[Kind][number];

/** One PATCH of a save: its body and the part of the store's diff it carries. */
export interface SaveBatch {
  action: "create" | "update" | "delete";
  body: ApiAnnotations;
  diff: StoreDiff;
}

function weight(object: ApiObject): number {
  let n = 1;
  if ("shapes" in object) n += object.shapes.length;
  if ("elements" in object && object.elements) for (const e of object.elements) n += weight(e);
  return n;
}

function emptyPart(version: number): StoreDiff {
  const empty = (): ApiAnnotations => ({ version, tags: [], shapes: [], tracks: [] });
  const ids = (): StoreDiff["createdClientIds"] => ({ tags: [], shapes: [], tracks: [] });
  return {
    create: empty(), update: empty(), delete: empty(),
    createdClientIds: ids(), updatedClientIds: ids(), deletedClientIds: ids(), sent: new Map(),
  };
}

const ID_FIELDS = {
  create: "createdClientIds",
  update: "updatedClientIds",
  delete: "deletedClientIds",
} as const;

/** The diff as PATCH bodies in the order they must go: deletes, updates, creates; each within `limits`. */
export function batches(diff: StoreDiff, limits: BatchLimits = DEFAULT_LIMITS): SaveBatch[] {
  const out: SaveBatch[] = [];
  for (const action of ["delete", "update", "create"] as const) {
    const source = diff[action];
    const ids = diff[ID_FIELDS[action]];
    let part = emptyPart(source.version);
    let objects = 0;
    let bytes = 0;
    const flush = (): void => {
      if (objects === 0) return;
      out.push({ action, body: part[action], diff: part });
      part = emptyPart(source.version);
      objects = 0;
      bytes = 0;
    };
    for (const kind of KINDS) {
      (source[kind] as readonly ApiObject[]).forEach((object, i) => {
        const w = weight(object);
        const size = JSON.stringify(object).length + 1;
        if (objects > 0 && (objects + w > limits.maxObjects || bytes + size > limits.maxBytes)) flush();
        (part[action][kind] as ApiObject[]).push(object);
        const clientId = ids[kind][i];
        if (clientId !== undefined) {
          part[ID_FIELDS[action]][kind].push(clientId);
          (part.sent as Map<number, unknown>).set(clientId, action === "delete" ? undefined : diff.sent.get(clientId));
        }
        objects += w;
        bytes += size;
      });
    }
    flush();
  }
  return out;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function isConflict(error: unknown): boolean {
  return error instanceof ApiError && error.status === 409;
}

export class Saver {
  private current: SaveState;
  private running: Promise<SaveState> | null = null;
  private again = false;
  private autosaveMs = 0;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private readonly unsubscribe: () => void;
  private destroyed = false;

  constructor(
    private readonly store: AnnotationStore,
    private readonly io: SaveIo,
    private readonly onState: (state: SaveState) => void,
    private readonly limits: BatchLimits = DEFAULT_LIMITS,
  ) {
    this.current = store.hasChanges() ? { status: "dirty" } : { status: "saved", at: null };
    this.unsubscribe = store.subscribe(() => this.changed());
  }

  state(): SaveState {
    return this.current;
  }

  /** Saves what changed; a save asked for while one runs follows it (with what changed meanwhile). */
  save(): Promise<SaveState> {
    this.clearTimer();
    if (this.running) {
      this.again = true;
      return this.running;
    }
    const run = (async (): Promise<SaveState> => {
      let state = await this.saveOnce();
      while (this.again && !this.destroyed) {
        this.again = false;
        state = await this.saveOnce();
      }
      return state;
    })();
    this.running = run;
    void run.finally(() => {
      if (this.running === run) this.running = null;
    });
    return run;
  }

  /** Autosave after `ms` without changes (0: off). */
  setAutosave(ms: number): void {
    this.autosaveMs = Math.max(0, ms);
    this.clearTimer();
    if (this.autosaveMs > 0 && this.store.hasChanges()) this.schedule();
  }

  destroy(): void {
    this.destroyed = true;
    this.clearTimer();
    this.unsubscribe();
  }

  private async saveOnce(): Promise<SaveState> {
    if (!this.store.hasChanges()) return this.set({ status: "saved", at: this.lastSavedAt() });
    this.set({ status: "saving" });
    let merged: MergeReport | undefined;
    try {
      await this.send();
    } catch (error) {
      if (!isConflict(error)) return this.set({ status: "error", message: messageOf(error) });
      try {
        const rebased = this.store.rebase(await this.io.get());
        merged = { adopted: rebased.adopted.length, recreated: rebased.recreated.length, removed: rebased.removed.length };
        await this.send();
      } catch (retryError) {
        const message = isConflict(retryError)
          ? `Others changed these annotations at the same time and the merge failed: ${messageOf(retryError)}. Your changes are kept; save again.`
          : messageOf(retryError);
        return this.set(isConflict(retryError) ? { status: "conflict", message } : { status: "error", message });
      }
    }
    const at = new Date();
    this.savedAt = at;
    return this.set(this.store.hasChanges() ? { status: "dirty" } : { status: "saved", at, ...(merged ? { merged } : {}) });
  }

  private savedAt: Date | null = null;

  private lastSavedAt(): Date | null {
    return this.current.status === "saved" ? this.current.at : this.savedAt;
  }

  private async send(): Promise<void> {
    for (const batch of batches(this.store.changes(), this.limits)) {
      const answer = await this.io.patch(batch.action, batch.body);
      if (batch.action === "create") this.store.saved(batch.diff, answer);
      else {
        this.store.saved(batch.diff, { version: answer.version, tags: [], shapes: [], tracks: [] });
      }
    }
  }

  private changed(): void {
    if (this.destroyed) return;
    if (this.current.status !== "saving") {
      const dirty = this.store.hasChanges();
      if (dirty && this.current.status !== "dirty" && this.current.status !== "error" && this.current.status !== "conflict") {
        this.set({ status: "dirty" });
      } else if (!dirty && this.current.status === "dirty") {
        this.set({ status: "saved", at: this.savedAt });
      }
    }
    if (this.autosaveMs > 0) this.schedule();
  }

  private schedule(): void {
    this.clearTimer();
    this.timer = setTimeout(() => {
      this.timer = null;
      if (this.store.hasChanges()) void this.save();
    }, this.autosaveMs);
  }

  private clearTimer(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }

  private set(state: SaveState): SaveState {
    this.current = state;
    if (!this.destroyed) this.onState(state);
    return state;
  }
}

// A generic undo stack of object snapshots: a step maps each touched id to the object before and
// after (by reference; undefined = absent). Undo puts the `before` objects back, redo the `after`
// ones. A transaction merges every step pushed inside it into one. At most `limit` steps are kept.

export interface UndoStep<T> {
  name: string;
  before: Map<number, T | undefined>;
  after: Map<number, T | undefined>;
}

export const UNDO_LIMIT = 200;

export class UndoStack<T> {
  private done: UndoStep<T>[] = [];
  private undone: UndoStep<T>[] = [];
  private open: UndoStep<T> | null = null;
  private depth = 0;

  constructor(private readonly limit: number = UNDO_LIMIT) {}

  /** Records a step (merged into the open transaction, if any); a new step clears redo. */
  push(step: UndoStep<T>): void {
    if (this.open) {
      mergeInto(this.open, step);
      return;
    }
    this.commit(step);
  }

  /** Runs `body` with every push inside it merged into one step named `name` (nested: the outer one). */
  transaction<R>(name: string, body: () => R): R {
    if (this.depth === 0) this.open = { name, before: new Map(), after: new Map() };
    this.depth++;
    try {
      return body();
    } finally {
      this.depth--;
      if (this.depth === 0) {
        const step = this.open;
        this.open = null;
        if (step) this.commit(step);
      }
    }
  }

  inTransaction(): boolean {
    return this.depth > 0;
  }

  /** The step to undo (moved to the redo side), or null. */
  undo(): UndoStep<T> | null {
    const step = this.done.pop();
    if (!step) return null;
    this.undone.push(step);
    return step;
  }

  redo(): UndoStep<T> | null {
    const step = this.undone.pop();
    if (!step) return null;
    this.done.push(step);
    return step;
  }

  undoName(): string | null {
    return this.done[this.done.length - 1]?.name ?? null;
  }

  redoName(): string | null {
    return this.undone[this.undone.length - 1]?.name ?? null;
  }

  size(): { undo: number; redo: number } {
    return { undo: this.done.length, redo: this.undone.length };
  }

  clear(): void {
    this.done = [];
    this.undone = [];
  }

  /** Replaces every snapshot by `map(id, snapshot)` (e.g. to give saved objects their server ids). */
  mapSnapshots(map: (id: number, value: T | undefined) => T | undefined): void {
    for (const step of [...this.done, ...this.undone, ...(this.open ? [this.open] : [])]) {
      for (const side of [step.before, step.after]) {
        for (const [id, value] of side) side.set(id, map(id, value));
      }
    }
  }

  private commit(step: UndoStep<T>): void {
    dropNoOps(step);
    if (step.after.size === 0) return;
    this.done.push(step);
    if (this.done.length > this.limit) this.done.splice(0, this.done.length - this.limit);
    this.undone = [];
  }
}

function mergeInto<T>(target: UndoStep<T>, step: UndoStep<T>): void {
  for (const [id, value] of step.before) {
    if (!target.before.has(id)) target.before.set(id, value);
  }
  for (const [id, value] of step.after) target.after.set(id, value);
}

function dropNoOps<T>(step: UndoStep<T>): void {
  for (const [id, value] of step.after) {
    if (step.before.get(id) === value) {
      step.after.delete(id);
      step.before.delete(id);
    }
  }
}

import { describe, expect, it } from "vitest";
import { UndoStack } from "./undo";

type O = { v: number };
const step = (name: string, id: number, before: O | undefined, after: O | undefined) => ({
  name, before: new Map([[id, before]]), after: new Map([[id, after]]),
});

describe("UndoStack", () => {
  it("undoes and redoes steps in order, by reference", () => {
    const s = new UndoStack<O>();
    const a = { v: 1 };
    const b = { v: 2 };
    s.push(step("create", 1, undefined, a));
    s.push(step("move", 1, a, b));
    expect(s.undoName()).toBe("move");
    const undone = s.undo()!;
    expect(undone.before.get(1)).toBe(a);
    expect(s.redoName()).toBe("move");
    expect(s.undo()!.before.get(1)).toBeUndefined();
    expect(s.undo()).toBeNull();
    expect(s.redo()!.after.get(1)).toBe(a);
  });

  it("clears redo on a new step", () => {
    const s = new UndoStack<O>();
    s.push(step("a", 1, undefined, { v: 1 }));
    s.undo();
    expect(s.redoName()).toBe("a");
    s.push(step("b", 2, undefined, { v: 2 }));
    expect(s.redoName()).toBeNull();
  });

  it("keeps at most the limit of steps (the oldest go)", () => {
    const s = new UndoStack<O>();
    for (let i = 0; i < 250; i++) s.push(step(`s${i}`, i, undefined, { v: i }));
    expect(s.size().undo).toBe(200);
    let last = "";
    while (s.undoName()) last = s.undo()!.name;
    expect(last).toBe("s50");
  });

  it("merges a transaction into one step: first before, last after", () => {
    const s = new UndoStack<O>();
    const a = { v: 1 };
    const b = { v: 2 };
    const c = { v: 3 };
    s.push(step("create", 1, undefined, a));
    s.transaction("drag", () => {
      s.push(step("x", 1, a, b));
      s.transaction("inner", () => s.push(step("y", 1, b, c)));
      s.push(step("z", 2, undefined, { v: 9 }));
    });
    expect(s.size().undo).toBe(2);
    const merged = s.undo()!;
    expect(merged.name).toBe("drag");
    expect(merged.before.get(1)).toBe(a);
    expect(merged.after.get(1)).toBe(c);
    expect(merged.before.get(2)).toBeUndefined();
  });

  it("drops a transaction that ends where it started", () => {
    const s = new UndoStack<O>();
    const a = { v: 1 };
    s.transaction("noop", () => {
      s.push(step("x", 1, a, { v: 2 }));
      s.push(step("y", 1, { v: 2 }, a));
    });
    expect(s.size().undo).toBe(0);
  });

  it("maps snapshots (server ids after a save)", () => {
    const s = new UndoStack<O>();
    const a = { v: 1 };
    s.push(step("create", 1, undefined, a));
    const a2 = { v: 100 };
    s.mapSnapshots((_, value) => (value === a ? a2 : value));
    s.undo();
    expect(s.redo()!.after.get(1)).toBe(a2);
  });
});

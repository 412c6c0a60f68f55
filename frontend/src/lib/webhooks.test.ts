import { describe, expect, it } from "vitest";
import { groupEvents, selectionState, showPayload, toggleEvent } from "./webhooks";

describe("groupEvents", () => {
  it("groups by display name in a stable order", () => {
    const groups = groupEvents([
      { key: "update:task", group: { display_name: "Task" } },
      { key: "create:task", group: { display_name: "Task" } },
      { key: "create:job", group: { display_name: "Job" } },
      { key: "x", group: { display_name: "" } },
    ]);
    expect(groups).toEqual([
      ["Job", ["create:job"]],
      ["Other", ["x"]],
      ["Task", ["create:task", "update:task"]],
    ]);
  });
});

describe("selection", () => {
  const all = ["a", "b", "c"];
  it("says all, some or none", () => {
    expect(selectionState(all, ["a", "b", "c"])).toBe("all");
    expect(selectionState(all, ["b"])).toBe("some");
    expect(selectionState(all, ["zzz"])).toBe("none");
    expect(selectionState([], [])).toBe("none");
  });

  it("toggles in the available order", () => {
    expect(toggleEvent(all, ["c"], "a")).toEqual(["a", "c"]);
    expect(toggleEvent(all, ["a", "c"], "a")).toEqual(["c"]);
  });
});

describe("showPayload", () => {
  it("pretty-prints JSON and keeps text", () => {
    expect(showPayload({ a: 1 })).toBe('{\n  "a": 1\n}');
    expect(showPayload('{"b":2}')).toBe('{\n  "b": 2\n}');
    expect(showPayload("plain")).toBe("plain");
    expect(showPayload(null)).toBe("(empty)");
  });
});

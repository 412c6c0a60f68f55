import { describe, expect, it } from "vitest";
import type { AttributeSpec, FrameObject } from "../../annotation/model";
import { frameObject } from "../../annotation/testing";
import { clampNumber, commitsDraft, numberRange } from "./AttributesPanel";
import { labelShortcut } from "./LabelsPanel";
import { typeText, type ObjectRowData } from "./ObjectItem";
import { sortRows } from "./ObjectsSidebar";
import { parseStep } from "./SettingsPanel";
import { canTrack, minPoints } from "./Toolbar";
import { DEFAULT_SETTINGS, parseSettings } from "./useWorkspace";
import { isFieldEditingKey, takesText } from "./useWorkspaceKeys";

function spec(values: string[]): AttributeSpec {
  return { id: 1, name: "age", mutable: false, input_type: "number", default_value: "0", values };
}

describe("number attributes", () => {
  it("read min;max;step from the values", () => {
    expect(numberRange(spec(["0", "100", "5"]))).toEqual({ min: 0, max: 100, step: 5 });
    expect(numberRange(spec([]))).toEqual({ min: 0, max: Number.MAX_SAFE_INTEGER, step: 1 });
  });
  it("clamp and snap a typed value; refuse text", () => {
    expect(clampNumber(spec(["0", "100", "5"]), "42")).toBe("40");
    expect(clampNumber(spec(["0", "100", "5"]), "130")).toBe("100");
    expect(clampNumber(spec(["10", "20", "1"]), "-3")).toBe("10");
    expect(clampNumber(spec(["0", "1", "0.1"]), "0.33")).toBe("0.3");
    expect(clampNumber(spec(["0", "100", "5"]), "abc")).toBeNull();
    expect(clampNumber(spec(["0", "100", "5"]), " ")).toBeNull();
  });
});

describe("settings", () => {
  it("fall back to the defaults for missing, broken or out-of-range values", () => {
    expect(parseSettings(null)).toEqual(DEFAULT_SETTINGS);
    expect(parseSettings("{not json")).toEqual(DEFAULT_SETTINGS);
    const parsed = parseSettings(JSON.stringify({ fps: 50, autosaveMinutes: 5, opacity: 300, brightness: 120, showDeleted: true, step: "x" }));
    expect(parsed.fps).toBe(50);
    expect(parsed.autosaveMinutes).toBe(5);
    expect(parsed.opacity).toBe(DEFAULT_SETTINGS.opacity);
    expect(parsed.brightness).toBe(120);
    expect(parsed.showDeleted).toBe(true);
    expect(parsed.step).toBe(DEFAULT_SETTINGS.step);
  });
  it("take only CVAT's speeds and autosave choices", () => {
    // the default speed is the task's own frame rate (null), an unknown speed falls back to it
    expect(parseSettings(JSON.stringify({ fps: 24, autosaveMinutes: 3 }))).toMatchObject({ fps: null, autosaveMinutes: 1 });
    expect(parseSettings(JSON.stringify({ fps: 10 })).fps).toBe(10);
    expect(parseSettings(JSON.stringify({ fps: 10 }).replace("10", "null")).fps).toBeNull();
  });
});

function row(clientId: number, labelId: number, kind: ObjectRowData["kind"] = "shape"): ObjectRowData {
  return { clientId, kind, type: kind === "tag" ? "tag" : "rectangle", labelId, color: "#000", occluded: false, outside: false, keyframe: true, view: {} };
}

function rectangleAt(clientId: number, zOrder: number): FrameObject {
  return frameObject({ clientId, type: "rectangle", zOrder });
}

describe("the objects list", () => {
  const rows = [row(3, 2), row(1, 1), row(9, 1, "tag"), row(2, 2)];
  const objects = new Map([
    [3, rectangleAt(3, 5)],
    [1, rectangleAt(1, 0)],
    [2, rectangleAt(2, 9)],
  ]);
  const names = (id: number) => (id === 1 ? "person" : "car");
  it("sorts objects by id, z order (front first) or label, tags last", () => {
    expect(sortRows(rows, objects, "id", names).map((r) => r.clientId)).toEqual([1, 2, 3, 9]);
    expect(sortRows(rows, objects, "z_order", names).map((r) => r.clientId)).toEqual([2, 3, 1, 9]);
    expect(sortRows(rows, objects, "label", names).map((r) => r.clientId)).toEqual([2, 3, 1, 9]);
  });
  it("names an object's type as CVAT does", () => {
    expect(typeText({ kind: "track", type: "polygon" })).toBe("polygon track");
    expect(typeText({ kind: "tag", type: "tag" })).toBe("tag");
  });
});

describe("toolbar rules", () => {
  it("offers tracks for every shape but masks", () => {
    expect(canTrack("rectangle")).toBe(true);
    expect(canTrack("skeleton")).toBe(true);
    expect(canTrack("mask")).toBe(false);
    expect(minPoints("polygon")).toBe(3);
    expect(minPoints("polyline")).toBe(2);
  });
  it("numbers the first ten labels' shortcuts", () => {
    expect(labelShortcut(0)).toBe("Ctrl+1");
    expect(labelShortcut(9)).toBe("Ctrl+0");
    expect(labelShortcut(10)).toBeNull();
  });
});

describe("a text attribute's draft", () => {
  const key = (k: string, ctrlKey = true) => ({ key: k, ctrlKey, metaKey: false });
  it("is committed before Ctrl shortcuts (Ctrl+S saves what was typed)", () => {
    expect(commitsDraft(key("s"))).toBe(true);
    expect(commitsDraft({ key: "s", ctrlKey: false, metaKey: true })).toBe(true);
  });
  it("is not committed by typing or by the field's own editing keys", () => {
    expect(commitsDraft(key("s", false))).toBe(false);
    expect(commitsDraft(key("f", false))).toBe(false);
    expect(commitsDraft(key("z"))).toBe(false);
    expect(commitsDraft(key("v"))).toBe(false);
    expect(commitsDraft(key("Control"))).toBe(false);
  });
});

describe("the frame step field", () => {
  it("takes the whole typed number, clamped to 2..1000", () => {
    expect(parseStep("15")).toBe(15);
    expect(parseStep("1")).toBe(2);
    expect(parseStep("5000")).toBe(1000);
    expect(parseStep("7.8")).toBe(7);
  });
  it("ignores an empty or unusable field", () => {
    expect(parseStep("")).toBeNull();
    expect(parseStep("abc")).toBeNull();
  });
});

describe("keys in a text field", () => {
  const text = { tagName: "INPUT", type: "text" };
  it("leave copy, paste and undo to the field", () => {
    for (const keys of ["ctrl+c", "ctrl+v", "ctrl+x", "ctrl+z", "ctrl+shift+z", "ctrl+a"]) expect(isFieldEditingKey(keys, text)).toBe(true);
    expect(isFieldEditingKey("ctrl+v", { tagName: "TEXTAREA" })).toBe(true);
    expect(isFieldEditingKey("ctrl+z", { tagName: "INPUT", type: "search" })).toBe(true);
  });
  it("run the workspace's other combinations (Ctrl+S) and every combination outside text fields", () => {
    expect(isFieldEditingKey("ctrl+s", text)).toBe(false);
    expect(isFieldEditingKey("ctrl+z", { tagName: "INPUT", type: "checkbox" })).toBe(false);
    expect(isFieldEditingKey("ctrl+c", { tagName: "SELECT" })).toBe(false);
    expect(isFieldEditingKey("ctrl+v", { tagName: "CANVAS" })).toBe(false);
    expect(takesText(null)).toBe(false);
  });
});

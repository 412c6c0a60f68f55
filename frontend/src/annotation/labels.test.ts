import { describe, expect, it } from "vitest";
import type { Label } from "../api/types";
import { defaultAttributes, defaultValue, labelIndex, labelSpecs, labelsForShape } from "./labels";

const api: Label[] = [
  {
    id: 1, name: "car", color: "#ff0000", type: "any",
    attributes: [
      { id: 10, name: "color", mutable: false, input_type: "select", default_value: "blue", values: ["red", "blue"] },
      { id: 11, name: "parked", mutable: true, input_type: "checkbox", default_value: "false", values: ["false"] },
      { id: 12, name: "kind", mutable: false, input_type: "radio", default_value: "", values: ["sedan", "suv"] },
      { id: 13, name: "note", mutable: true, input_type: "text", default_value: "", values: [] },
    ],
  },
  {
    id: 3, name: "hand", type: "skeleton", svg: "<circle data-label-id=\"31\" cx=\"1\" cy=\"2\"/>", attributes: [],
    sublabels: [
      { id: 31, name: "wrist", type: "points", attributes: [] },
      { id: 32, name: "thumb", type: "points", attributes: [] },
    ],
  },
  // the flat form: a sublabel listed on its own with parent_id (and again under its parent)
  { id: 31, name: "wrist", type: "points", attributes: [], parent_id: 3 },
  { id: 4, name: "weather", type: "tag", attributes: [] },
  { id: 5, name: "box", type: "rectangle", attributes: [] },
];

describe("labelSpecs", () => {
  it("nests sublabels once and keeps only top-level labels at the top", () => {
    const specs = labelSpecs(api);
    expect(specs.map((s) => s.id)).toEqual([1, 3, 4, 5]);
    const hand = specs[1]!;
    expect(hand.sublabels.map((s) => s.id)).toEqual([31, 32]);
    expect(hand.sublabels[0]!.parent_id).toBe(3);
    expect(hand.svg).toContain("data-label-id");
    expect(specs[0]!.color).toBe("#ff0000");
    expect(specs[1]!.color).toMatch(/^#/); // a fallback colour
    expect(labelIndex(specs).get(32)?.name).toBe("thumb");
  });

  it("builds the tree from a flat list with parent_id", () => {
    const specs = labelSpecs([
      { id: 9, name: "elbow", type: "points", attributes: [], parent_id: 8 },
      { id: 8, name: "arm", type: "skeleton", attributes: [] },
    ]);
    expect(specs.map((s) => s.id)).toEqual([8]);
    expect(specs[0]!.sublabels.map((s) => s.id)).toEqual([9]);
  });
});

describe("defaultAttributes", () => {
  it("takes default_value, else the first value", () => {
    const car = labelSpecs(api)[0]!;
    expect(defaultAttributes(car)).toEqual({ 10: "blue", 11: "false", 12: "sedan", 13: "" });
  });

  it("does not take a default that is not among a select's values", () => {
    expect(defaultValue({ id: 1, name: "x", mutable: false, input_type: "select", default_value: "green", values: ["a", "b"] })).toBe("a");
    expect(defaultValue({ id: 1, name: "n", mutable: false, input_type: "number", default_value: "", values: ["5", "10", "1"] })).toBe("5");
  });
});

describe("labelsForShape", () => {
  it("keeps labels of type any or the shape's type; skeletons only for skeletons", () => {
    const specs = labelSpecs(api);
    expect(labelsForShape(specs, "rectangle").map((s) => s.id)).toEqual([1, 5]);
    expect(labelsForShape(specs, "polygon").map((s) => s.id)).toEqual([1]);
    expect(labelsForShape(specs, "skeleton").map((s) => s.id)).toEqual([3]);
    expect(labelsForShape(specs, "tag").map((s) => s.id)).toEqual([1, 4]);
  });
});

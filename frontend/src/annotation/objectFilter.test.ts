import { describe, expect, it } from "vitest";
import type { FrameObject, LabelSpec } from "./model";
import { frameObject } from "./testing";
import { compileFilter, FilterError, objectSize, parseFilterInput, parseFilterText, parseSimpleFilter } from "./objectFilter";

function label(id: number, name: string, attributes: LabelSpec["attributes"] = []): LabelSpec {
  return { id, name, color: "#fff", type: "any", attributes, sublabels: [], svg: "" };
}

const car = label(1, "car", [
  { id: 10, name: "model", mutable: false, input_type: "select", default_value: "bmw", values: ["bmw", "audi"] },
  { id: 11, name: "doors", mutable: false, input_type: "number", default_value: "4", values: ["2", "5", "1"] },
  { id: 12, name: "parked", mutable: true, input_type: "checkbox", default_value: "false", values: ["false"] },
  { id: 13, name: "plate no.", mutable: false, input_type: "text", default_value: "", values: [] },
]);
const person = label(2, "person", [{ id: 20, name: "model", mutable: false, input_type: "text", default_value: "", values: [] }]);
const labels: ReadonlyMap<number, LabelSpec> = new Map([
  [1, car],
  [2, person],
]);

function object(extra: Partial<FrameObject> = {}): FrameObject {
  return frameObject({ clientId: 7, type: "rectangle", points: [10, 20, 110, 70], attributes: { 10: "audi", 11: "2", 12: "true", 13: "AB 12" }, ...extra });
}

function matches(rule: unknown, o: FrameObject = object()): boolean {
  return compileFilter(rule)(o, labels);
}

describe("compileFilter", () => {
  it("compares the plain fields", () => {
    expect(matches({ "==": [{ var: "label" }, "car"] })).toBe(true);
    expect(matches({ "==": [{ var: "label" }, "person"] })).toBe(false);
    expect(matches({ "!=": [{ var: "label" }, "person"] })).toBe(true);
    expect(matches({ "==": [{ var: "type" }, "shape"] })).toBe(true);
    expect(matches({ "==": [{ var: "type" }, "track"] }, object({ kind: "track" }))).toBe(true);
    expect(matches({ "==": [{ var: "shape" }, "rectangle"] })).toBe(true);
    expect(matches({ "==": [{ var: "occluded" }, true] }, object({ occluded: true }))).toBe(true);
    expect(matches({ "==": [{ var: "occluded" }, true] })).toBe(false);
    expect(matches({ "==": [{ var: "objectID" }, 7] })).toBe(true);
    expect(matches({ "==": [{ var: "clientID" }, 8] })).toBe(false);
  });

  it("measures width and height as CVAT does", () => {
    expect(matches({ "==": [{ var: "width" }, 100] })).toBe(true);
    expect(matches({ ">": [{ var: "height" }, 49] })).toBe(true);
    expect(matches({ ">": [{ var: "height" }, 50] })).toBe(false);
    expect(matches({ "<=": [40, { var: "width" }, 100] })).toBe(true); // between
    expect(matches({ "<": [40, { var: "width" }, 100] })).toBe(false);
    expect(matches({ ">": [120, { var: "width" }] })).toBe(true); // value first: 120 > width
    expect(objectSize({ type: "ellipse", points: [50, 50, 80, 30], elements: [] })).toEqual({ width: 60, height: 40 });
    expect(objectSize({ type: "mask", points: [3, 4, 5, 10, 20, 19, 29], elements: [] })).toEqual({ width: 10, height: 10 });
    expect(
      objectSize({
        type: "skeleton",
        points: [],
        elements: [
          { labelId: 3, type: "points", points: [0, 0], occluded: false, outside: false },
          { labelId: 4, type: "points", points: [30, 5], occluded: false, outside: false },
        ],
      }),
    ).toEqual({ width: 30, height: 5 });
    expect(objectSize({ type: "polygon", points: [], elements: [] })).toBeNull();
    expect(matches({ "<": [{ var: "width" }, 1000] }, object({ points: [] }))).toBe(false);
  });

  it("coerces values to the field's type as the server does", () => {
    expect(matches({ "==": [{ var: "occluded" }, "false"] })).toBe(true);
    expect(matches({ "==": [{ var: "width" }, "100"] })).toBe(true);
    expect(() => compileFilter({ "==": [{ var: "occluded" }, "maybe"] })).toThrow(FilterError);
    expect(() => compileFilter({ ">": [{ var: "width" }, "wide"] })).toThrow(/width expects a number/);
  });

  it("reads attributes by the label's spec names, typed by input type", () => {
    expect(matches({ "==": [{ var: "attr.car.model" }, "audi"] })).toBe(true);
    expect(matches({ "==": [{ var: "attr.model" }, "audi"] })).toBe(true);
    expect(matches({ "==": [{ var: "attr.person.model" }, "audi"] })).toBe(false); // another label's attribute
    expect(matches({ "<": [{ var: "attr.doors" }, 3] })).toBe(true);
    expect(matches({ "==": [{ var: "attr.doors" }, "2"] })).toBe(true);
    expect(matches({ "==": [{ var: "attr.parked" }, true] })).toBe(true);
    expect(matches({ "==": [{ var: "attr.parked" }, "true"] })).toBe(true);
    expect(matches({ "==": [{ var: "attr.plate no\u2219" }, "AB 12"] })).toBe(true);
    // missing values take the spec's default
    expect(matches({ "==": [{ var: "attr.model" }, "bmw"] }, object({ attributes: {} }))).toBe(true);
    expect(matches({ "==": [{ var: "attr.nope" }, "x"] })).toBe(false);
  });

  it("supports and, or, !, !!, var, in (list and substring)", () => {
    const occluded = object({ occluded: true });
    expect(matches({ and: [{ "==": [{ var: "label" }, "car"] }, { var: "occluded" }] }, occluded)).toBe(true);
    expect(matches({ and: [{ "==": [{ var: "label" }, "car"] }, { var: "occluded" }] })).toBe(false);
    expect(matches({ or: [{ "==": [{ var: "label" }, "person"] }, { "!": { var: "occluded" } }] })).toBe(true);
    expect(matches({ "!": [{ "==": [{ var: "label" }, "car"] }] })).toBe(false);
    expect(matches({ "!!": { var: "attr.plate no\u2219" } })).toBe(true);
    expect(matches({ "!!": { var: "attr.plate no\u2219" } }, object({ attributes: {} }))).toBe(false);
    expect(matches({ in: [{ var: "label" }, ["bus", "car"]] })).toBe(true);
    expect(matches({ in: [{ var: "label" }, ["bus", "person"]] })).toBe(false);
    expect(matches({ in: ["ud", { var: "attr.model" }] })).toBe(true);
    expect(matches({ in: [{ var: "attr.doors" }, [2, 5]] })).toBe(true);
  });

  it("accepts CVAT's stable label:<id> values", () => {
    expect(matches({ "==": [{ var: "label" }, "label:1"] })).toBe(true);
    expect(matches({ in: [{ var: "label" }, ["label:2"]] })).toBe(false);
  });

  it("matches everything without a filter and needs all rules of a list", () => {
    expect(matches(null)).toBe(true);
    expect(matches([])).toBe(true);
    expect(matches([{ "==": [{ var: "label" }, "car"] }, { var: "occluded" }])).toBe(false);
  });

  it("reads a server id when the objects carry one", () => {
    expect(matches({ "==": [{ var: "serverID" }, 5] }, { ...object(), serverId: 5 } as FrameObject)).toBe(true);
    expect(matches({ "==": [{ var: "serverID" }, null] })).toBe(true);
    expect(matches({ ">": [{ var: "serverID" }, 0] })).toBe(false);
  });

  it("refuses malformed logic with a clear message", () => {
    expect(() => compileFilter({})).toThrow(/exactly one operator/);
    expect(() => compileFilter({ "==": [{ var: "colour" }, "red"] })).toThrow(/"colour" is not a filter field/);
    expect(() => compileFilter({ xor: [1, 2] })).toThrow(/"xor" is not a supported operator/);
    expect(() => compileFilter({ and: [] })).toThrow(/non-empty list/);
    expect(() => compileFilter({ "==": [{ var: "label" }] })).toThrow(/two arguments/);
    expect(() => compileFilter({ "==": ["a", "b"] })).toThrow(/compares a field with a value/);
    expect(() => compileFilter({ in: [{ var: "label" }, "car"] })).toThrow(FilterError);
    expect(() => compileFilter("label == car")).toThrow(FilterError);
  });
});

describe("parseFilterText", () => {
  it("parses JSON and refuses the rest", () => {
    expect(parseFilterText('{"==":[{"var":"label"},"car"]}')).toEqual({ "==": [{ var: "label" }, "car"] });
    expect(() => parseFilterText("{label")).toThrow(/not valid JSON/);
    expect(() => parseFilterText("  ")).toThrow(/empty/);
  });
});

describe("parseSimpleFilter", () => {
  it("turns the text form into JSON Logic", () => {
    expect(parseSimpleFilter('label == "car" && occluded == true')).toEqual({
      and: [{ "==": [{ var: "label" }, "car"] }, { "==": [{ var: "occluded" }, true] }],
    });
    expect(parseSimpleFilter("width >= 10.5 || !(shape == rectangle)")).toEqual({
      or: [{ ">=": [{ var: "width" }, 10.5] }, { "!": { "==": [{ var: "shape" }, "rectangle"] } }],
    });
    expect(parseSimpleFilter("attr.car.model != 'bmw'")).toEqual({ "!=": [{ var: "attr.car.model" }, "bmw"] });
    expect(parseSimpleFilter('attr."plate no." contains "AB"')).toEqual({ in: ["AB", { var: "attr.plate no\u2219" }] });
    expect(parseSimpleFilter("label in (car, 'bus') and not occluded")).toEqual({
      and: [{ in: [{ var: "label" }, ["car", "bus"]] }, { "!": { "!!": { var: "occluded" } } }],
    });
    expect(parseSimpleFilter("label not in [car]")).toEqual({ "!": { in: [{ var: "label" }, ["car"]] } });
    expect(parseSimpleFilter("a == 1 && b == 2 && c == -3")).toEqual({
      and: [{ "==": [{ var: "a" }, 1] }, { "==": [{ var: "b" }, 2] }, { "==": [{ var: "c" }, -3] }],
    });
    expect(parseSimpleFilter("serverID = null")).toEqual({ "==": [{ var: "serverID" }, null] });
    // CVAT's older single & and |
    expect(parseSimpleFilter('label == "car" & width > 50 | occluded == true')).toEqual(
      parseSimpleFilter('label == "car" && width > 50 || occluded == true'),
    );
  });

  it("gives && precedence over ||", () => {
    expect(parseSimpleFilter("a == 1 || b == 2 && c == 3")).toEqual({
      or: [{ "==": [{ var: "a" }, 1] }, { and: [{ "==": [{ var: "b" }, 2] }, { "==": [{ var: "c" }, 3] }] }],
    });
  });

  it("compiles and filters end to end", () => {
    const filter = compileFilter(parseSimpleFilter('label == "car" && attr.doors < 3 && !occluded'));
    expect(filter(object(), labels)).toBe(true);
    expect(filter(object({ occluded: true }), labels)).toBe(false);
    expect(filter(object({ labelId: 2 }), labels)).toBe(false);
    expect(compileFilter(parseFilterInput('{"==":[{"var":"label"},"person"]}'))(object({ labelId: 2 }), labels)).toBe(true);
    expect(compileFilter(parseFilterInput("type == track"))(object(), labels)).toBe(false);
  });

  it("reports syntax errors with a position", () => {
    expect(() => parseSimpleFilter('label == "car')).toThrow(/unterminated string/);
    expect(() => parseSimpleFilter("label ==")).toThrow(/expected a value at 9/);
    expect(() => parseSimpleFilter("(label == car")).toThrow(/expected "\)"/);
    expect(() => parseSimpleFilter("label == car )")).toThrow(/unexpected "\)"/);
    expect(() => parseSimpleFilter("== car")).toThrow(/expected a field/);
    expect(() => parseSimpleFilter("label # 3")).toThrow(/unexpected "#"/);
    expect(() => parseSimpleFilter("")).toThrow(FilterError);
  });
});

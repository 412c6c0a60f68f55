import { describe, expect, it } from "vitest";
import type { Label } from "../api/types";
import {
  addPoint,
  attributeProblem,
  buildSkeletonSvg,
  cleanLabel,
  edgesToText,
  labelsPatch,
  labelsToRaw,
  layOut,
  parseSkeleton,
  rawToLabels,
  removePoint,
  renamePoint,
  textToEdges,
  textToValues,
  validateLabels,
  valuesToText,
  withInputType,
  withType,
} from "./labels";

// As GET /api/labels?project_id= answers.
const SERVER: Label[] = [
  {
    id: 1,
    name: "car",
    color: "#9dc9a9",
    type: "any",
    svg: "",
    project_id: 1,
    parent_id: null,
    attributes: [{ id: 1, name: "color", mutable: false, input_type: "select", default_value: "red", values: ["red", "blue"] }],
    sublabels: [],
  },
  {
    id: 2,
    name: "person",
    color: "#83cbd6",
    type: "skeleton",
    project_id: 1,
    attributes: [],
    svg:
      '<line x1="50" y1="10" x2="50" y2="90" data-type="edge" data-node-from="1" data-node-to="2"></line>' +
      '<circle r="0.75" cx="50" cy="10" data-type="element node" data-element-id="1" data-node-id="1" data-label-id="3"></circle>' +
      '<circle r="0.75" cx="50" cy="90" data-type="element node" data-element-id="2" data-node-id="2" data-label-id="4"></circle>',
    sublabels: [
      { id: 3, name: "head", color: "#ba9109", attributes: [], type: "any" },
      { id: 4, name: "foot", color: "#2eceda", attributes: [], type: "any" },
    ],
  },
];

describe("attribute values", () => {
  it("writes numbers as CVAT's min;max;step and choices as a list", () => {
    expect(valuesToText({ name: "n", mutable: false, input_type: "number", values: ["0", "10", "2"], default_value: "0" })).toBe("0;10;2");
    expect(textToValues("number", "1; 5;1")).toEqual(["1", "5", "1"]);
    expect(textToValues("select", "red, blue,, green ")).toEqual(["red", "blue", "green"]);
  });

  it("explains what the API would refuse", () => {
    const base = { name: "a", mutable: false, values: [] as string[], default_value: "" };
    expect(attributeProblem({ ...base, name: "", input_type: "text" })).toMatch(/name/);
    expect(attributeProblem({ ...base, input_type: "select" })).toMatch(/needs values/);
    expect(attributeProblem({ ...base, input_type: "select", values: ["x", "x"] })).toMatch(/unique/);
    expect(attributeProblem({ ...base, input_type: "select", values: ["x"], default_value: "y" })).toMatch(/one of the values/);
    expect(attributeProblem({ ...base, input_type: "number", values: ["0", "10"] })).toMatch(/min;max;step/);
    expect(attributeProblem({ ...base, input_type: "number", values: ["5", "1", "1"] })).toMatch(/min <= max/);
    expect(attributeProblem({ ...base, input_type: "number", values: ["0", "10", "1"], default_value: "11" })).toMatch(/within/);
    expect(attributeProblem({ ...base, input_type: "number", values: ["0", "10", "1"], default_value: "3" })).toBeNull();
    expect(attributeProblem({ ...base, input_type: "checkbox", values: ["false"], default_value: "maybe" })).toMatch(/true or false/);
    expect(attributeProblem(withInputType({ ...base, input_type: "select" }, "checkbox"))).toBeNull();
    expect(attributeProblem(withInputType({ ...base, input_type: "select" }, "number"))).toBeNull();
  });

  it("finds duplicate labels and broken skeletons", () => {
    const problems = validateLabels([
      { name: "a", attributes: [] },
      { name: "a", attributes: [] },
      { name: "s", type: "skeleton", attributes: [], sublabels: [{ name: "p", attributes: [] }, { name: "p", attributes: [] }] },
    ]);
    expect(problems).toContain("Label 'a' is there twice.");
    expect(problems).toContain("s: Point names must be unique.");
    expect(validateLabels(SERVER.map(cleanLabel))).toEqual([]);
  });
});

describe("skeletons", () => {
  it("lays points without coordinates out on a circle", () => {
    const points = layOut([{ name: "a" }, { name: "b" }, { name: "c", x: 1, y: 2 }]);
    expect(points[0]).toEqual({ name: "a", x: 50, y: 15 });
    expect(Math.hypot(points[1]!.x - 50, points[1]!.y - 50)).toBeCloseTo(35, 1);
    expect(points[2]).toEqual({ name: "c", x: 1, y: 2 });
  });

  it("builds CVAT's svg with point names that the API maps to ids", () => {
    const svg = buildSkeletonSvg([{ name: "head", x: 50, y: 10 }, { name: 'f"oot', x: 50, y: 90 }], [[0, 1]]);
    expect(svg).toContain('data-type="edge" data-node-from="1" stroke-width="0.5" data-node-to="2"');
    expect(svg).toContain('cx="50" cy="10" stroke-width="0.1" data-type="element node" data-element-id="1" data-node-id="1" data-label-name="head"');
    expect(svg).toContain('data-label-name="f&quot;oot"');
    expect(parseSkeleton({ svg, sublabels: [{ name: "head", attributes: [] }, { name: 'f"oot', attributes: [] }] })).toEqual({
      points: [
        { name: "head", x: 50, y: 10 },
        { name: 'f"oot', x: 50, y: 90 },
      ],
      edges: [[0, 1]],
    });
  });

  it("reads the API's svg (data-label-id) and keeps coordinates through edits", () => {
    const person = cleanLabel(SERVER[1]!);
    expect(person.svg).toContain('data-label-name="head"');
    expect(person.svg).not.toContain("data-label-id");
    const grown = addPoint(person, "hand");
    expect(grown.sublabels!.map((s) => s.name)).toEqual(["head", "foot", "hand"]);
    expect(parseSkeleton(grown).points.slice(0, 2)).toEqual([
      { name: "head", x: 50, y: 10 },
      { name: "foot", x: 50, y: 90 },
    ]);
    const renamed = renamePoint(grown, 0, "skull");
    expect(parseSkeleton(renamed).points[0]).toEqual({ name: "skull", x: 50, y: 10 });
    expect(renamed.sublabels![0]!.id).toBe(3);
    const shrunk = removePoint(renamed, 0);
    expect(shrunk.sublabels!.map((s) => s.id)).toEqual([4, undefined]);
    expect(parseSkeleton(shrunk).edges).toEqual([]); // the edge went with its point
  });

  it("reads and writes edges as 1-based pairs", () => {
    expect(edgesToText([[0, 1], [1, 2]])).toBe("1-2, 2-3");
    expect(textToEdges("1-2, 2 - 3", 3)).toEqual({ edges: [[0, 1], [1, 2]], error: null });
    expect(textToEdges("1-4", 3).error).toMatch(/not an edge/);
  });

  it("turns a label into a skeleton and back", () => {
    const skeleton = withType({ name: "s", attributes: [] }, "skeleton");
    expect(skeleton.sublabels).toHaveLength(2);
    expect(skeleton.svg).toContain('data-label-name="2"');
    const plain = withType(skeleton, "rectangle");
    expect(plain).toEqual({ name: "s", attributes: [], type: "rectangle" });
  });
});

describe("raw view", () => {
  it("round-trips the label list", () => {
    const labels = SERVER.map(cleanLabel);
    const raw = labelsToRaw(SERVER);
    expect(raw).not.toContain("project_id");
    const back = rawToLabels(raw);
    expect(back.error).toBeNull();
    expect(back.labels).toEqual(labels);
    expect(labelsToRaw(back.labels!)).toBe(raw);
  });

  it("says why text cannot be read", () => {
    expect(rawToLabels("[{").error).toMatch(/^Not JSON/);
    expect(rawToLabels("{}").error).toMatch(/JSON list/);
    expect(rawToLabels('[{"nme": "x"}]').error).toMatch(/Label 1: a label is an object with a "name"/);
    expect(rawToLabels('[{"name": "x", "type": "box"}]').error).toMatch(/not a label type/);
    expect(rawToLabels('[{"name": "x", "attributes": [{"name": "a", "input_type": "slider"}]}]').error).toMatch(/attribute 1/);
  });

  it("fills in a skeleton's svg when the raw text has none", () => {
    const result = rawToLabels('[{"name": "s", "type": "skeleton", "sublabels": [{"name": "a"}, {"name": "b"}]}]');
    expect(result.labels![0]!.svg).toContain('data-label-name="b"');
  });
});

describe("labelsPatch", () => {
  const before = SERVER;

  it("is empty when nothing changed", () => {
    expect(labelsPatch(before, before.map(cleanLabel))).toEqual([]);
  });

  it("creates new labels without id, updates changed ones by id and deletes removed ones", () => {
    const [car, person] = before.map(cleanLabel);
    const after: Label[] = [
      { ...car!, name: "auto", attributes: [{ ...car!.attributes[0]!, values: ["red", "blue", "green"] }, { name: "parked", mutable: true, input_type: "checkbox", values: ["false"], default_value: "false" }] },
      { name: "tree", color: "#00ff00", type: "polygon", attributes: [] },
    ];
    expect(person).toBeDefined();
    expect(labelsPatch(before, after)).toEqual([
      {
        id: 1,
        name: "auto",
        attributes: [
          { id: 1, name: "color", mutable: false, input_type: "select", default_value: "red", values: ["red", "blue", "green"] },
          { name: "parked", mutable: true, input_type: "checkbox", values: ["false"], default_value: "false" },
        ],
      },
      { name: "tree", color: "#00ff00", type: "polygon", attributes: [] },
      { id: 2, deleted: true },
    ]);
  });

  it("deletes attributes and edits a skeleton's points", () => {
    const [car, person] = before.map(cleanLabel);
    const edited = addPoint(removePoint(person!, 1), "hand");
    const patch = labelsPatch(before, [{ ...car!, attributes: [] }, edited]);
    expect(patch[0]).toEqual({ id: 1, attributes: [{ id: 1, deleted: true }] });
    expect(patch[1]).toMatchObject({
      id: 2,
      sublabels: [{ name: "hand", type: "any", attributes: [] }, { id: 4, deleted: true }],
    });
    expect(patch[1]!.svg).toContain('data-label-name="hand"');
    expect(patch[1]!.svg).not.toContain('data-label-name="foot"');
  });

  it("sends a new skeleton with its points and svg", () => {
    const skeleton = withType({ name: "hand", attributes: [] }, "skeleton");
    const [patch] = labelsPatch([], [skeleton]);
    expect(patch).toMatchObject({ name: "hand", type: "skeleton", sublabels: [{ name: "1" }, { name: "2" }] });
    expect(patch!.svg).toContain("data-node-from");
  });
});

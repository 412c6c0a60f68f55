import { describe, expect, it } from "vitest";
import { buildFilter, filterJoin, parseFilter, type FieldSpec } from "./filter";

const FIELDS: FieldSpec[] = [
  { name: "name", label: "Name", kind: "text" },
  { name: "id", label: "ID", kind: "number" },
  { name: "status", label: "Status", kind: "choice", choices: ["annotation", "validation", "completed"] },
];

describe("buildFilter", () => {
  it("joins complete conditions as CVAT's JSON Logic", () => {
    const filter = buildFilter(
      [
        { field: "status", op: "==", value: "annotation" },
        { field: "name", op: "in", value: "car" },
        { field: "id", op: ">", value: "7" },
      ],
      FIELDS,
    );
    expect(JSON.parse(filter)).toEqual({
      and: [{ "==": [{ var: "status" }, "annotation"] }, { in: ["car", { var: "name" }] }, { ">": [{ var: "id" }, 7] }],
    });
  });

  it("skips empty values and numbers that are not numbers", () => {
    expect(buildFilter([{ field: "name", op: "==", value: "  " }, { field: "id", op: "==", value: "x" }], FIELDS)).toBe("");
  });

  it("uses or when asked", () => {
    const filter = buildFilter([{ field: "id", op: "==", value: "1" }, { field: "id", op: "==", value: "2" }], FIELDS, "or");
    expect(Object.keys(JSON.parse(filter))).toEqual(["or"]);
  });
});

describe("parseFilter", () => {
  it("reads back what buildFilter made", () => {
    const conditions = [
      { field: "name", op: "in" as const, value: "car" },
      { field: "id", op: "<=" as const, value: "3" },
    ];
    expect(parseFilter(buildFilter(conditions, FIELDS))).toEqual(conditions);
  });

  it("gives nothing for text that is not a filter", () => {
    expect(parseFilter("{nope")).toEqual([]);
    expect(parseFilter("")).toEqual([]);
  });
});

describe("filterJoin", () => {
  it("keeps an or filter an or filter when it is applied again", () => {
    const or = buildFilter([{ field: "id", op: "==", value: "1" }, { field: "id", op: "==", value: "2" }], FIELDS, "or");
    expect(filterJoin(or)).toBe("or");
    expect(buildFilter(parseFilter(or), FIELDS, filterJoin(or))).toBe(or);
    expect(filterJoin(buildFilter([{ field: "id", op: "==", value: "1" }], FIELDS))).toBe("and");
    expect(filterJoin("")).toBe("and");
    expect(filterJoin("{bad")).toBe("and");
  });
});

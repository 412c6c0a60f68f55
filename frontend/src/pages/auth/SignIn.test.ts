import { describe, expect, it } from "vitest";
import { registrationOpen, safeNext } from "./SignIn";

describe("safeNext", () => {
  it("keeps paths of this app", () => {
    expect(safeNext("/tasks/3?page=2")).toBe("/tasks/3?page=2");
    expect(safeNext(null)).toBe("/tasks");
  });
  it("refuses what a browser reads as another origin", () => {
    for (const next of ["https://evil.example", "//evil.example", "/\\evil.example", "/\t/evil.example", "/\n/evil.example", "javascript:alert(1)"]) {
      expect(safeNext(next)).toBe("/tasks");
    }
  });
});

describe("registrationOpen", () => {
  it("follows the register path of the API schema, as CVAT's UI does", () => {
    expect(registrationOpen({ paths: { "/api/auth/login": {}, "/api/auth/register": {} } })).toBe(true);
    expect(registrationOpen({ paths: { "/api/auth/login": {} } })).toBe(false);
  });
  it("offers registration when the schema says nothing", () => {
    for (const schema of [null, undefined, "", {}, { paths: null }]) {
      expect(registrationOpen(schema)).toBe(true);
    }
  });
});

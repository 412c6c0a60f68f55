import { describe, expect, it } from "vitest";
import { canManageOrg, endOfDay, fieldErrors, otherErrors, slugProblem } from "./forms";

describe("fieldErrors", () => {
  it("maps CVAT's field lists to one message per field", () => {
    const errors = fieldErrors({ target_url: ["private address."], non_field_errors: ["Bad."], detail: "Nope." });
    expect(errors).toEqual({ target_url: "private address.", "": "Bad. Nope." });
  });

  it("handles list and empty bodies", () => {
    expect(fieldErrors(["a", "b"])).toEqual({ "": "a b" });
    expect(fieldErrors(null)).toEqual({});
    expect(fieldErrors("text")).toEqual({});
  });

  it("leaves shown fields out of the rest", () => {
    expect(otherErrors({ email: "x", role: "y", "": "z" }, ["email"])).toBe("role: y; z");
  });
});

describe("slugProblem", () => {
  it("accepts CVAT's slugs and explains the others", () => {
    expect(slugProblem("my-org_1")).toBeNull();
    expect(slugProblem("")).toMatch(/required/);
    expect(slugProblem("a".repeat(17))).toMatch(/16/);
    expect(slugProblem("with space")).toMatch(/letters/);
  });
});

describe("canManageOrg / endOfDay", () => {
  it("lets owners, maintainers and admins manage", () => {
    expect(canManageOrg("owner", false)).toBe(true);
    expect(canManageOrg("maintainer", false)).toBe(true);
    expect(canManageOrg("worker", false)).toBe(false);
    expect(canManageOrg(undefined, true)).toBe(true);
  });

  it("turns a date into the end of that day in UTC", () => {
    expect(endOfDay("2027-01-31")).toBe("2027-01-31T23:59:59Z");
    expect(endOfDay("")).toBeNull();
  });
});

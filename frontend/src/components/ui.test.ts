import { describe, expect, it } from "vitest";
import { formatDate, safeHref, sameOriginHref } from "./ui";

describe("safeHref", () => {
  it("links http(s) only", () => {
    expect(safeHref("https://tracker.example.com/issues/1")).toBe("https://tracker.example.com/issues/1");
    expect(safeHref("javascript:alert(1)")).toBeNull();
    expect(safeHref(" JaVaScRiPt:alert(1)")).toBeNull();
    expect(safeHref("data:text/html,<script>alert(1)</script>")).toBeNull();
    expect(safeHref("not a url")).toBeNull();
    expect(safeHref("")).toBeNull();
  });
});

describe("formatDate", () => {
  it("formats ISO dates and keeps text that is not one", () => {
    expect(formatDate("2026-12-06T14:35:30Z")).toMatch(/\d/);
    expect(formatDate("soon")).toBe("soon");
    expect(formatDate(null)).toBe("");
  });
});

describe("sameOriginHref", () => {
  const origin = "https://cvat.example.com";
  it("keeps this app's links as paths", () => {
    expect(sameOriginHref("/api/requests/abc/result?x=1", origin)).toBe("/api/requests/abc/result?x=1");
    expect(sameOriginHref("https://cvat.example.com/api/events/download?rq_id=1", origin)).toBe("/api/events/download?rq_id=1");
  });
  it("refuses other origins and schemes", () => {
    expect(sameOriginHref("https://evil.example/x", origin)).toBeNull();
    expect(sameOriginHref("//evil.example/x", origin)).toBeNull();
    expect(sameOriginHref("javascript:alert(1)", origin)).toBeNull();
    expect(sameOriginHref("data:text/html,x", origin)).toBeNull();
    expect(sameOriginHref(null, origin)).toBeNull();
  });
});

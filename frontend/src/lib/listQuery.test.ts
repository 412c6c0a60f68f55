import { describe, expect, it } from "vitest";
import { firstListRequest, listParams, listSearch, parseListQuery } from "./listQuery";

describe("list queries", () => {
  it("reads the URL with defaults and bad pages made 1", () => {
    expect(parseListQuery(new URLSearchParams("page=x&search=car"))).toEqual({ page: 1, pageSize: 10, search: "car", sort: "-id", filter: "" });
    expect(parseListQuery(new URLSearchParams("page=3&sort=name"), "-id", 20).page).toBe(3);
  });

  it("writes back only what differs from the defaults", () => {
    const query = parseListQuery(new URLSearchParams("page=2&sort=-id&filter=%7B%7D"));
    expect(listSearch(query).toString()).toBe("page=2&filter=%7B%7D");
  });

  it("asks CVAT's list parameters", () => {
    expect(listParams(parseListQuery(new URLSearchParams("search=a")))).toEqual({ page: 1, page_size: 10, sort: "-id", search: "a" });
  });

  it("prefetches the same request the list page makes, and nothing elsewhere", () => {
    expect(firstListRequest("/tasks", "?page=2")).toEqual({ path: "/api/tasks", params: { page: 2, page_size: 10, sort: "-id" } });
    expect(firstListRequest("/", "")?.path).toBe("/api/tasks");
    expect(firstListRequest("/jobs/", "")?.path).toBe("/api/jobs");
    expect(firstListRequest("/tasks/7", "")).toBeNull();
    expect(firstListRequest("/auth/login", "")).toBeNull();
  });
});

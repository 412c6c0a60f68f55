import { describe, expect, it } from "vitest";
import { ApiClient, ApiError, cookie, errorMessage } from "./client";

function fakeFetch(status: number, body: unknown, seen: { url?: string; init?: RequestInit }[] = []): typeof fetch {
  return (async (input: RequestInfo | URL, init?: RequestInit) => {
    seen.push({ url: String(input), init });
    return new Response(body === undefined ? "" : JSON.stringify(body), {
      status,
      headers: { "Content-Type": "application/json" },
    });
  }) as typeof fetch;
}

describe("errorMessage", () => {
  it("reads CVAT's error bodies", () => {
    expect(errorMessage({ detail: "Not found." }, 404)).toBe("Not found.");
    expect(errorMessage(["Task has data"], 400)).toBe("Task has data");
    expect(errorMessage({ name: ["This field is required."] }, 400)).toBe("name: This field is required.");
    expect(errorMessage({ non_field_errors: ["Unable to log in."] }, 400)).toBe("Unable to log in.");
    expect(errorMessage(null, 502)).toBe("Request failed with status 502");
  });
});

describe("ApiClient", () => {
  it("sends the organization and the CSRF token on unsafe methods", async () => {
    const seen: { url?: string; init?: RequestInit }[] = [];
    const client = new ApiClient({ org: () => "acme", fetch: fakeFetch(201, { id: 1 }, seen), cookies: () => "a=1; csrftoken=tok%3D" });
    expect(await client.post("/api/projects", { name: "P" })).toEqual({ id: 1 });
    expect(seen[0]!.url).toBe("/api/projects?org=acme");
    const headers = seen[0]!.init!.headers as Record<string, string>;
    expect(headers["X-CSRFToken"]).toBe("tok=");
    expect(headers["Content-Type"]).toBe("application/json");
    await client.get("/api/projects", { page: 2, search: undefined });
    expect(seen[1]!.url).toBe("/api/projects?org=acme&page=2");
    expect((seen[1]!.init!.headers as Record<string, string>)["X-CSRFToken"]).toBeUndefined();
  });

  it("sends the personal workspace as org= and nothing when none is chosen", async () => {
    const seen: { url?: string }[] = [];
    await new ApiClient({ org: () => "", fetch: fakeFetch(200, {}, seen) }).get("/api/tasks");
    await new ApiClient({ org: () => null, fetch: fakeFetch(200, {}, seen) }).get("/api/tasks");
    expect(seen.map((s) => s.url)).toEqual(["/api/tasks?org=", "/api/tasks"]);
  });

  it("throws ApiError with CVAT's message", async () => {
    const client = new ApiClient({ fetch: fakeFetch(403, { detail: "You do not have permission to perform this action." }) });
    await expect(client.get("/api/tasks/1")).rejects.toMatchObject({ status: 403, message: "You do not have permission to perform this action." });
    await expect(client.get("/api/tasks/1")).rejects.toBeInstanceOf(ApiError);
  });

  it("finds a cookie among many", () => {
    expect(cookie("csrftoken", "sessionid=abc; csrftoken=xyz")).toBe("xyz");
    expect(cookie("missing", "a=b")).toBeNull();
  });
});

describe("prefetch", () => {
  it("hands a prefetched answer to the next get of the same URL, once", async () => {
    const seen: { url?: string }[] = [];
    const client = new ApiClient({ org: () => "", fetch: fakeFetch(200, { count: 1 }, seen) });
    client.prefetch("/api/tasks", { page: 1 });
    expect(await client.get("/api/tasks", { page: 1 })).toEqual({ count: 1 });
    expect(seen).toHaveLength(1);
    await client.get("/api/tasks", { page: 1 });
    await client.get("/api/tasks", { page: 2 });
    expect(seen.map((s) => s.url)).toEqual(["/api/tasks?org=&page=1", "/api/tasks?org=&page=1", "/api/tasks?org=&page=2"]);
  });

  it("asks again when the prefetched answer was an error (signed in since)", async () => {
    const answers = [401, 200];
    const seen: string[] = [];
    const client = new ApiClient({
      fetch: (async (input: RequestInfo | URL) => {
        seen.push(String(input));
        const status = answers.shift()!;
        return new Response(JSON.stringify(status === 200 ? { count: 0 } : { detail: "Authentication credentials were not provided." }), {
          status,
          headers: { "Content-Type": "application/json" },
        });
      }) as typeof fetch,
    });
    client.prefetch("/api/jobs");
    expect(await client.get("/api/jobs")).toEqual({ count: 0 });
    expect(seen).toEqual(["/api/jobs", "/api/jobs"]);
  });
});

import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { BackgroundRequest } from "../api/types";
import {
  actionLabel,
  formatBytes,
  isActive,
  isAutoAnnotation,
  operationLabel,
  partSlices,
  pollRequest,
  PollTimeoutError,
  progressPercent,
  RequestFailedError,
  statusLabel,
  targetPath,
} from "./requests";

function rq(status: BackgroundRequest["status"], changes: Partial<BackgroundRequest> = {}): BackgroundRequest {
  return {
    id: "export:task-3-dataset-abc",
    status,
    message: "",
    progress: null,
    created_date: "2026-12-06T10:00:00Z",
    started_date: null,
    finished_date: null,
    expiry_date: null,
    owner: null,
    result_url: null,
    result_id: null,
    operation: { type: "export:dataset", target: "task", project_id: null, task_id: 3, job_id: null, format: "COCO 1.0" },
    ...changes,
  };
}

/** A server whose answers are read one per poll; the last one repeats. */
function server(...answers: BackgroundRequest[]) {
  let i = 0;
  return vi.fn(async (_id: string) => answers[Math.min(i++, answers.length - 1)]!);
}

describe("pollRequest", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it("reads until finished, once per interval, reporting each read", async () => {
    const read = server(rq("queued"), rq("started", { progress: 0.5 }), rq("finished", { result_url: "/x" }));
    const updates: number[] = [];
    const done = pollRequest(read, "r1", { interval: 2000, onUpdate: (r) => updates.push(progressPercent(r)) });
    await vi.advanceTimersByTimeAsync(0);
    expect(read).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(1999);
    expect(read).toHaveBeenCalledTimes(1); // not before the interval
    await vi.advanceTimersByTimeAsync(1);
    expect(read).toHaveBeenCalledTimes(2);
    await vi.advanceTimersByTimeAsync(2000);
    await expect(done).resolves.toMatchObject({ status: "finished", result_url: "/x" });
    expect(read).toHaveBeenCalledTimes(3);
    expect(updates).toEqual([0, 50, 100]);
  });

  it("rejects with the server's message when the request failed", async () => {
    const read = server(rq("started"), rq("failed", { message: "annotations.json, line 3: bad label" }));
    const done = pollRequest(read, "r1", { interval: 100 });
    const check = expect(done).rejects.toThrow(RequestFailedError);
    await vi.advanceTimersByTimeAsync(100);
    await check;
    await expect(done).rejects.toThrow("annotations.json, line 3: bad label");
  });

  it("gives up after the timeout without one more read", async () => {
    const read = server(rq("started"));
    const done = pollRequest(read, "r1", { interval: 1000, timeout: 3500 });
    const check = expect(done).rejects.toBeInstanceOf(PollTimeoutError);
    await vi.advanceTimersByTimeAsync(10_000);
    await check;
    expect(read).toHaveBeenCalledTimes(4); // at 0, 1000, 2000, 3000; a wait to 4000 would pass 3500
  });

  it("stops at once when aborted while waiting", async () => {
    const read = server(rq("queued"));
    const controller = new AbortController();
    const done = pollRequest(read, "r1", { interval: 1000, signal: controller.signal });
    const check = expect(done).rejects.toMatchObject({ name: "AbortError" });
    await vi.advanceTimersByTimeAsync(500);
    controller.abort();
    await check;
    await vi.advanceTimersByTimeAsync(5000);
    expect(read).toHaveBeenCalledTimes(1);
  });

  it("does not read at all when already aborted", async () => {
    const read = server(rq("queued"));
    const controller = new AbortController();
    controller.abort();
    await expect(pollRequest(read, "r1", { signal: controller.signal })).rejects.toMatchObject({ name: "AbortError" });
    expect(read).not.toHaveBeenCalled();
  });

  it("passes a failed read's error through", async () => {
    const read = vi.fn(async () => {
      throw new Error("Request r1 not found.");
    });
    await expect(pollRequest(read, "r1")).rejects.toThrow("Request r1 not found.");
  });
});

describe("labels", () => {
  it("formats progress as a clamped percentage", () => {
    expect(progressPercent({ status: "started", progress: 0.456 })).toBe(46);
    expect(progressPercent({ status: "queued", progress: null })).toBe(0);
    expect(progressPercent({ status: "started", progress: 7 })).toBe(100);
    expect(progressPercent({ status: "finished", progress: 0 })).toBe(100);
  });

  it("names statuses and operations in CVAT's words", () => {
    expect(statusLabel("started")).toBe("In progress");
    expect(statusLabel("weird")).toBe("weird");
    expect(isActive("queued") && isActive("started") && !isActive("failed")).toBe(true);
    expect(actionLabel("import:backup")).toBe("Restore backup");
    expect(actionLabel("frobnicate:thing")).toBe("Frobnicate thing");
    expect(operationLabel(rq("queued").operation)).toBe("Export dataset of task #3 in COCO 1.0");
    expect(operationLabel({ type: "import:annotations", target: "job", project_id: null, task_id: 3, job_id: 9, format: "CVAT 1.1" })).toBe(
      "Import annotations of job #9 (task #3) in CVAT 1.1",
    );
    expect(operationLabel({ type: "import:backup", target: "task", project_id: null, task_id: null, job_id: null, format: null })).toBe("Restore backup of new task");
  });

  it("names automatic annotation requests with their function", () => {
    const op = { type: "autoannotate:annotations", target: "task", project_id: null, task_id: 3, job_id: null, format: null, function_id: "yolox-nano" };
    expect(actionLabel("autoannotate:annotations")).toBe("Automatic annotation");
    expect(actionLabel("autoannotate")).toBe("Automatic annotation");
    expect(operationLabel(op)).toBe("Automatic annotation of task #3 with yolox-nano");
    expect(isAutoAnnotation(op) && !isAutoAnnotation(rq("queued").operation)).toBe(true);
  });

  it("links a restore to what it made and others to their object", () => {
    const restore = rq("finished", { result_id: 12, operation: { type: "import:backup", target: "project", project_id: null, task_id: null, job_id: null, format: null } });
    expect(targetPath(restore)).toBe("/projects/12");
    expect(targetPath(rq("queued"))).toBe("/tasks/3");
    expect(targetPath(rq("queued", { operation: { type: "export:dataset", target: "job", project_id: null, task_id: 3, job_id: 5, format: null } }))).toBe("/tasks/3/jobs/5");
  });

  it("formats sizes", () => {
    expect(formatBytes(999)).toBe("999 B");
    expect(formatBytes(1500)).toBe("1.5 kB");
    expect(formatBytes(25_000_000)).toBe("25 MB");
  });
});

describe("partSlices", () => {
  it("cuts the file in part order whatever order the parts came in", () => {
    expect(partSlices(25, [{ part_number: 2, size: 5 }, { part_number: 1, size: 20 }])).toEqual([
      { part_number: 1, start: 0, end: 20 },
      { part_number: 2, start: 20, end: 25 },
    ]);
  });

  it("refuses parts that do not cover the file", () => {
    expect(() => partSlices(30, [{ part_number: 1, size: 20 }])).toThrow("cover 20 bytes");
  });
});

import { describe, expect, it } from "vitest";
import { compactFrames, frameRange, frameRows, frameSizes, frameStep, jobsProgress, userName, type DataMeta } from "./frames";

const meta = (over: Partial<DataMeta> = {}): DataMeta => ({
  chunks_updated_date: "2026-01-01T00:00:00Z",
  chunk_size: 72,
  size: 3,
  image_quality: 70,
  start_frame: 4,
  stop_frame: 6,
  frame_filter: "",
  frames: [
    { width: 40, height: 30, name: "a.png", related_files: 0 },
    { width: 40, height: 30, name: "b.png", related_files: 0 },
    { width: 64, height: 48, name: "c.png", related_files: 0 },
  ],
  deleted_frames: [5],
  included_frames: null,
  ...over,
});

describe("frameRange", () => {
  it("shows a range or a single frame", () => {
    expect(frameRange(0, 4)).toBe("0–4");
    expect(frameRange(7, 7)).toBe("7");
  });
});

describe("jobsProgress", () => {
  it("counts completed jobs", () => {
    expect(jobsProgress({ count: 3, completed: 1 })).toEqual({ completed: 1, count: 3, percent: 33, text: "1 of 3 jobs completed" });
  });
  it("handles no jobs and nulls", () => {
    expect(jobsProgress({ count: 0, completed: null }).text).toBe("No jobs");
    expect(jobsProgress(undefined).percent).toBe(0);
    expect(jobsProgress({ count: 1, completed: 5 }).percent).toBe(100);
  });
});

describe("userName", () => {
  it("prefers the full name", () => {
    expect(userName({ id: 1, username: "jd", first_name: "Jane", last_name: "Doe" })).toBe("Jane Doe (jd)");
    expect(userName({ id: 1, username: "jd", first_name: "", last_name: "" })).toBe("jd");
    expect(userName(null)).toBe("");
  });
});

describe("frameRows", () => {
  it("numbers frames from the job's start and marks deleted ones", () => {
    expect(frameRows(meta())).toEqual([
      { frame: 4, name: "a.png", size: "40×30", deleted: false },
      { frame: 5, name: "b.png", size: "40×30", deleted: true },
      { frame: 6, name: "c.png", size: "64×48", deleted: false },
    ]);
    expect(frameRows(meta(), 1)).toHaveLength(1);
  });
  it("applies a step and one entry for a video", () => {
    const video = meta({ frame_filter: "step=2", start_frame: 0, stop_frame: 4, frames: [{ width: 8, height: 6, name: "v.mp4", related_files: 0 }], deleted_frames: [] });
    expect(frameRows(video).map((r) => r.frame)).toEqual([0, 2, 4]);
    expect(frameRows(meta({ frames: null }))).toEqual([]);
  });
  it("numbers by task frame when the job's first task frame is known (a start frame and a step)", () => {
    // task data from source frame 10 with step 5: the job's task frames 2..4 are source 20, 25, 30
    const stepped = meta({ frame_filter: "step=5", start_frame: 20, stop_frame: 30, deleted_frames: [3] });
    expect(frameRows(stepped, 10, 2).map((r) => [r.frame, r.deleted])).toEqual([[2, false], [3, true], [4, false]]);
  });
  it("uses the included frames when given", () => {
    expect(frameRows(meta({ included_frames: [4, 9, 12] })).map((r) => r.frame)).toEqual([4, 9, 12]);
  });
});

describe("frameSizes", () => {
  it("lists distinct sizes, most frequent first", () => {
    expect(frameSizes(meta())).toBe("40×30 (2), 64×48 (1)");
    expect(frameSizes(meta({ frames: [{ width: 1, height: 2, name: "x", related_files: 0 }] }))).toBe("1×2");
  });
});

describe("frameStep and compactFrames", () => {
  it("parses step=N", () => {
    expect(frameStep("step=3")).toBe(3);
    expect(frameStep("")).toBe(1);
    expect(frameStep("step=0")).toBe(1);
  });
  it("compresses frame numbers", () => {
    expect(compactFrames([7, 1, 2, 3, 3])).toBe("1–3, 7");
    expect(compactFrames([])).toBe("");
  });
});

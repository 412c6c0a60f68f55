// Tests of the frame provider's pure logic: job frames, the chunk and entry of a frame (as the
// server's data_reads.JobFrames numbers them), the prefetch plan and the LRU.
import { describe, expect, it } from "vitest";
import type { DataMeta } from "../../lib/frames";
import { chunkFrames, chunkOf, chunkSize, firstTaskFrame, frameIndex, jobFrames, Lru, prefetchPlan } from "./chunks";

/** A job's meta as the server makes it (domain/data_reads.job_meta): source frames, job size. */
function jobMeta(options: { start: number; stop: number; step?: number; taskStart?: number; chunk?: number | null; included?: number[] }): DataMeta {
  const step = options.step ?? 1;
  const taskStart = options.taskStart ?? 0;
  return {
    chunks_updated_date: "2026-01-01T00:00:00Z",
    chunk_size: options.chunk === undefined ? 10 : options.chunk,
    size: options.stop - options.start + 1,
    image_quality: 70,
    start_frame: taskStart + options.start * step,
    stop_frame: taskStart + options.stop * step,
    frame_filter: step === 1 ? "" : `step=${step}`,
    frames: [{ name: "video.mp4", width: 1920, height: 1080, related_files: 0 }],
    deleted_frames: [],
    included_frames: options.included ?? null,
  };
}

describe("jobFrames", () => {
  it("lists a job's task frames", () => {
    expect(jobFrames(jobMeta({ start: 0, stop: 4 }))).toEqual([0, 1, 2, 3, 4]);
    expect(jobFrames(jobMeta({ start: 20, stop: 24 }))).toEqual([20, 21, 22, 23, 24]);
  });

  it("turns source frames into task frames with the frame step", () => {
    // task frames 20..24 of a step=3 task are source frames 60, 63, .. 72
    const meta = jobMeta({ start: 20, stop: 24, step: 3 });
    expect([meta.start_frame, meta.stop_frame]).toEqual([60, 72]);
    expect(jobFrames(meta)).toEqual([20, 21, 22, 23, 24]);
  });

  it("takes the job's start frame when the task's data does not start at source frame 0", () => {
    const meta = jobMeta({ start: 20, stop: 24, step: 2, taskStart: 7 }); // source 47..55
    expect(jobFrames(meta, 20)).toEqual([20, 21, 22, 23, 24]);
    expect(firstTaskFrame(meta, 20)).toBe(20);
    expect(firstTaskFrame(meta)).toBe(23); // the meta alone cannot know: the documented guess
  });

  it("keeps a last frame cut short by the task's stop frame", () => {
    const meta = { ...jobMeta({ start: 10, stop: 14, step: 2 }), stop_frame: 27 }; // source 20..27, step 2
    expect(jobFrames(meta)).toEqual([10, 11, 12, 13]);
  });

  it("uses included frames (source frames) when the meta lists them", () => {
    const meta = jobMeta({ start: 0, stop: 99, step: 2, included: [40, 8, 12, 12, 13] });
    expect(jobFrames(meta)).toEqual([4, 6, 20]); // 13 is not on the step grid
  });

  it("is empty for an empty range", () => {
    expect(jobFrames({ ...jobMeta({ start: 5, stop: 5 }), stop_frame: 4 })).toEqual([]);
  });
});

describe("chunkOf", () => {
  it("numbers chunks from 0 in the job, entries from 0 in the chunk", () => {
    const meta = jobMeta({ start: 25, stop: 49, chunk: 10 });
    expect(chunkOf(meta, 25)).toEqual({ index: 0, position: 0 });
    expect(chunkOf(meta, 34)).toEqual({ index: 0, position: 9 });
    expect(chunkOf(meta, 35)).toEqual({ index: 1, position: 0 });
    expect(chunkOf(meta, 49)).toEqual({ index: 2, position: 4 });
  });

  it("counts task frames, not source frames, with a step", () => {
    const meta = jobMeta({ start: 100, stop: 199, step: 5, chunk: 36 });
    expect(chunkOf(meta, 100)).toEqual({ index: 0, position: 0 });
    expect(chunkOf(meta, 137)).toEqual({ index: 1, position: 1 });
    expect(chunkOf(meta, 137, 100)).toEqual({ index: 1, position: 1 });
  });

  it("places included frames by their order", () => {
    const meta = jobMeta({ start: 0, stop: 99, chunk: 2, included: [3, 9, 50, 70, 71] });
    expect(chunkOf(meta, 50)).toEqual({ index: 1, position: 0 });
    expect(chunkOf(meta, 71)).toEqual({ index: 2, position: 0 });
    expect(() => chunkOf(meta, 4)).toThrow(RangeError);
  });

  it("rejects frames outside the job and metas without a chunk size", () => {
    const meta = jobMeta({ start: 10, stop: 19 });
    expect(() => chunkOf(meta, 9)).toThrow(/Frame 9 is not a frame of this job/);
    expect(() => chunkOf(meta, 20)).toThrow(RangeError);
    expect(() => chunkOf(meta, 10.5)).toThrow(RangeError);
    expect(frameIndex(meta, 19)).toBe(9);
    expect(frameIndex(meta, 20)).toBe(-1);
    expect(() => chunkOf(jobMeta({ start: 0, stop: 9, chunk: null }), 0)).toThrow(/no chunk size/);
    expect(() => chunkSize(jobMeta({ start: 0, stop: 9, chunk: 0 }))).toThrow(/no chunk size/);
  });

  it("agrees with chunkFrames for every frame", () => {
    const meta = jobMeta({ start: 7, stop: 50, step: 3, chunk: 8 });
    for (const frame of jobFrames(meta)) {
      const { index, position } = chunkOf(meta, frame);
      expect(chunkFrames(meta, index)[position]).toBe(frame);
    }
    expect(chunkFrames(meta, 5)).toEqual([47, 48, 49, 50]); // the last chunk is short
    expect(chunkFrames(meta, 6)).toEqual([]);
  });
});

describe("prefetchPlan", () => {
  const frames = [0, 1, 2, 3, 5, 8, 9];

  it("takes the next frames forward, nearest first, without the current one", () => {
    expect(prefetchPlan(frames, 1, 1, 3)).toEqual([2, 3, 5]);
    expect(prefetchPlan(frames, 8, 1, 5)).toEqual([9]);
    expect(prefetchPlan(frames, 9, 1, 5)).toEqual([]);
  });

  it("goes backward", () => {
    expect(prefetchPlan(frames, 8, -1, 3)).toEqual([5, 3, 2]);
    expect(prefetchPlan(frames, 0, -1, 3)).toEqual([]);
  });

  it("starts at the neighbour of a frame not in the list (a deleted frame skipped)", () => {
    expect(prefetchPlan(frames, 4, 1, 2)).toEqual([5, 8]);
    expect(prefetchPlan(frames, 4, -1, 2)).toEqual([3, 2]);
    expect(prefetchPlan(frames, -10, 1, 2)).toEqual([0, 1]);
    expect(prefetchPlan(frames, 100, -1, 2)).toEqual([9, 8]);
  });

  it("plans nothing for no frames or no look-ahead", () => {
    expect(prefetchPlan([], 0, 1, 5)).toEqual([]);
    expect(prefetchPlan(frames, 0, 1, 0)).toEqual([]);
  });
});

describe("Lru", () => {
  function closing(capacity: number) {
    const closed: string[] = [];
    const lru = new Lru<number, { name: string; close(): void }>(capacity, (value) => value.close());
    const item = (name: string) => ({ name, close: () => closed.push(name) });
    return { lru, closed, item };
  }

  it("evicts the least recently used value and hands it to onEvict", () => {
    const { lru, closed, item } = closing(2);
    lru.set(1, item("a"));
    lru.set(2, item("b"));
    lru.get(1); // 1 is now the most recent
    lru.set(3, item("c"));
    expect(closed).toEqual(["b"]);
    expect(lru.keys()).toEqual([1, 3]);
    expect(lru.size).toBe(2);
    expect(lru.has(2)).toBe(false);
  });

  it("peek does not refresh a value", () => {
    const { lru, closed, item } = closing(2);
    lru.set(1, item("a"));
    lru.set(2, item("b"));
    expect(lru.peek(1)?.name).toBe("a");
    lru.set(3, item("c"));
    expect(closed).toEqual(["a"]);
  });

  it("evicts a replaced value (not when it is the same one), deleted and cleared ones", () => {
    const { lru, closed, item } = closing(3);
    const a = item("a");
    lru.set(1, a);
    lru.set(1, a);
    expect(closed).toEqual([]);
    lru.set(1, item("a2"));
    expect(closed).toEqual(["a"]);
    lru.set(2, item("b"));
    expect(lru.delete(2)).toBe(true);
    expect(lru.delete(2)).toBe(false);
    expect(closed).toEqual(["a", "b"]);
    lru.set(3, item("c"));
    lru.clear();
    expect(closed).toEqual(["a", "b", "a2", "c"]);
    expect(lru.size).toBe(0);
    expect(lru.get(1)).toBeUndefined();
  });

  it("needs a capacity of at least one", () => {
    expect(() => new Lru(0)).toThrow(RangeError);
  });
});

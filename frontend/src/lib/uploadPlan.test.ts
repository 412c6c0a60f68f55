import { describe, expect, it } from "vitest";
import {
  abortBody,
  basename,
  batchForStart,
  completeBody,
  duplicateNames,
  formatBytes,
  isComplete,
  markDone,
  maxPartsFor,
  MIN_PART_SIZE,
  pendingParts,
  planFromAnswer,
  progressOf,
  type DirectUploadsRead,
} from "./uploadPlan";

const MIB = 1024 * 1024;

function answer(files: { name: string; sizes: number[] }[]): DirectUploadsRead {
  return {
    expires_in: 3600,
    files: files.map((f, i) => ({
      name: f.name,
      upload_id: `u${i}`,
      part_size: f.sizes[0] ?? 0,
      parts: f.sizes.map((size, p) => ({ part_number: p + 1, url: `https://s3/${f.name}?part=${p + 1}`, size })),
    })),
  };
}

describe("planFromAnswer", () => {
  it("lays the server's parts over the bytes, whatever the part size", () => {
    const plan = planFromAnswer(answer([{ name: "a.mp4", sizes: [20 * MIB, 20 * MIB, 5] }, { name: "b.png", sizes: [100] }]), [0, 1], [40 * MIB + 5, 100]);
    expect(plan[0]!.parts.map((p) => [p.number, p.start, p.end])).toEqual([
      [1, 0, 20 * MIB],
      [2, 20 * MIB, 40 * MIB],
      [3, 40 * MIB, 40 * MIB + 5],
    ]);
    expect(plan[1]).toMatchObject({ index: 1, name: "b.png", uploadId: "u1", size: 100 });
  });

  it("orders parts by number and maps a batch to the client's indices", () => {
    const a = answer([{ name: "c.png", sizes: [10, 5] }]);
    a.files[0]!.parts.reverse();
    const plan = planFromAnswer(a, [2], [1, 1, 15]);
    expect(plan[0]!.index).toBe(2);
    expect(plan[0]!.parts.map((p) => [p.number, p.start])).toEqual([[1, 0], [2, 10]]);
  });

  it("refuses an answer that does not cover the file", () => {
    expect(() => planFromAnswer(answer([{ name: "a", sizes: [10] }]), [0], [11])).toThrow(/cover 10 of 11/);
    expect(() => planFromAnswer(answer([]), [0], [11])).toThrow(/0 uploads for 1 files/);
  });
});

describe("resume bookkeeping", () => {
  const plan = planFromAnswer(answer([{ name: "a", sizes: [10, 10, 3] }, { name: "b", sizes: [7] }]), [0, 1], [23, 7]);

  it("lists only parts without an ETag, and keeps the plan it was given", () => {
    expect(pendingParts(plan)).toHaveLength(4);
    const done = markDone(markDone(plan, { file: 0, part: 1 }, '"e2"'), { file: 1, part: 0 }, '"e4"');
    expect(pendingParts(done)).toEqual([{ file: 0, part: 0 }, { file: 0, part: 2 }]);
    expect(pendingParts(plan)).toHaveLength(4);
    expect(isComplete(done)).toBe(false);
    const all = markDone(markDone(done, { file: 0, part: 0 }, '"e1"'), { file: 0, part: 2 }, '"e3"');
    expect(isComplete(all)).toBe(true);
    expect(completeBody(all).files[0]).toEqual({
      name: "a",
      upload_id: "u0",
      parts: [
        { part_number: 1, etag: '"e1"' },
        { part_number: 2, etag: '"e2"' },
        { part_number: 3, etag: '"e3"' },
      ],
    });
    expect(abortBody(all)).toEqual({ files: [{ name: "a", upload_id: "u0" }, { name: "b", upload_id: "u1" }] });
  });

  it("will not complete an upload with a part missing", () => {
    expect(() => completeBody(plan)).toThrow(/part 1 is not uploaded/);
  });
});

describe("progressOf", () => {
  const plan = planFromAnswer(answer([{ name: "a", sizes: [10, 10] }, { name: "b", sizes: [20] }]), [0, 1], [20, 20]);

  it("counts done parts whole and parts in flight by their bytes, capped at their size", () => {
    const done = markDone(plan, { file: 0, part: 0 }, "e");
    const p = progressOf(done, new Map([["0:1", 4], ["1:0", 99]]));
    expect(p.files).toEqual([14, 20]);
    expect(p.loaded).toBe(34);
    expect(p.total).toBe(40);
    expect(p.fraction).toBeCloseTo(0.85);
  });

  it("is whole for an empty plan and zero before anything is sent", () => {
    expect(progressOf([]).fraction).toBe(1);
    expect(progressOf(plan).fraction).toBe(0);
  });
});

describe("batchForStart", () => {
  it("keeps every batch under the server's URL and file limits", () => {
    expect(maxPartsFor(1)).toBe(1);
    expect(maxPartsFor(MIN_PART_SIZE + 1)).toBe(2);
    expect(maxPartsFor(10 * 1024 ** 4)).toBe(1024);
    expect(batchForStart([1, 1, 1], 2000, 2)).toEqual([[0, 1], [2]]);
    const big = 1000 * MIN_PART_SIZE; // 1000 URLs each
    expect(batchForStart([big, big, 1, big])).toEqual([[0, 1], [2, 3]]);
    expect(batchForStart([])).toEqual([]);
  });
});

describe("names", () => {
  it("stages by basename and finds the names chosen twice", () => {
    expect(basename("frames/day1/a.png")).toBe("a.png");
    expect(basename("a.png")).toBe("a.png");
    expect(duplicateNames(["x/a.png", "y/a.png", "b.png"])).toEqual(["a.png"]);
    expect(duplicateNames(["a", "b"])).toEqual([]);
  });

  it("formats sizes", () => {
    expect(formatBytes(512)).toBe("512 B");
    expect(formatBytes(1536)).toBe("1.5 KiB");
    expect(formatBytes(300 * MIB)).toBe("300 MiB");
  });
});

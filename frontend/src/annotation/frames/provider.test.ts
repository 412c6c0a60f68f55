// Tests of the frame provider with a fake worker (node has neither Worker nor ImageBitmap): the
// message protocol, dedupe, the LRU closing bitmaps (never the shown one), prefetch order and
// bounds, the next chunk fetched past the middle, the one-frame fallback and destroy.
import { describe, expect, it } from "vitest";
import type { DataMeta } from "../../lib/frames";
import { FrameProvider } from "./provider";
import type { WorkerReply, WorkerRequest } from "./worker";

interface FakeBitmap {
  width: number;
  height: number;
  frame: string;
  closed: boolean;
  close(): void;
}

function bitmap(tag: string): FakeBitmap {
  return { width: 1920, height: 1080, frame: tag, closed: false, close() { this.closed = true; } };
}

class FakeWorker {
  onmessage: ((event: MessageEvent<WorkerReply>) => void) | null = null;
  onerror: ((event: ErrorEvent) => void) | null = null;
  sent: WorkerRequest[] = [];
  terminated = false;
  bitmaps: FakeBitmap[] = [];
  /** answers every request by itself when set */
  auto: ((request: WorkerRequest) => WorkerReply | null) | null = null;

  postMessage(request: WorkerRequest): void {
    this.sent.push(request);
    const auto = this.auto;
    if (auto) setTimeout(() => { const reply = auto(request); if (reply) this.reply(reply); }, 0);
  }

  terminate(): void {
    this.terminated = true;
  }

  reply(reply: WorkerReply): void {
    if ("bitmap" in reply) this.bitmaps.push(reply.bitmap as unknown as FakeBitmap);
    this.onmessage?.({ data: reply } as MessageEvent<WorkerReply>);
  }

  /** a bitmap answer for request `id` tagged with what was asked */
  decoded(request: WorkerRequest): WorkerReply {
    const tag = request.type === "decode" ? `${request.chunkUrl}#${request.position}` : request.type === "image" ? request.url : "";
    return { id: request.id, bitmap: bitmap(tag) as unknown as ImageBitmap, width: 1920, height: 1080 };
  }

  decodes(): string[] {
    return this.sent.flatMap((r) => (r.type === "decode" ? [`${r.chunkUrl}#${r.position}`] : r.type === "image" ? [r.url] : []));
  }
}

/** A job of task frames `start .. stop` (step 1, task data from source frame 0). */
function meta(start: number, stop: number, chunk = 10): DataMeta {
  return {
    chunks_updated_date: "2026-01-01T00:00:00Z",
    chunk_size: chunk,
    size: stop - start + 1,
    image_quality: 70,
    start_frame: start,
    stop_frame: stop,
    frame_filter: "",
    frames: [{ name: "video.mp4", width: 1920, height: 1080, related_files: 0 }],
    deleted_frames: [],
    included_frames: null,
  };
}

function setup(options: { start?: number; stop?: number; chunk?: number; cacheSize?: number; ahead?: number; maxInFlight?: number; chunkAheadAt?: number } = {}) {
  const worker = new FakeWorker();
  const provider = new FrameProvider({
    jobId: 3,
    meta: meta(options.start ?? 0, options.stop ?? 99, options.chunk ?? 10),
    chunkUrl: (index) => `chunk/${index}`,
    frameUrl: (frame) => `frame/${frame}`,
    workerFactory: () => worker as unknown as Worker,
    cacheSize: options.cacheSize,
    chunkAheadAt: options.chunkAheadAt,
    ahead: options.ahead,
    maxInFlight: options.maxInFlight,
  });
  return { worker, provider };
}

const flush = () => new Promise((resolve) => setTimeout(resolve, 0));
const tagOf = (image: { bitmap: ImageBitmap }) => (image.bitmap as unknown as FakeBitmap).frame;
const closed = (image: { bitmap: ImageBitmap }) => (image.bitmap as unknown as FakeBitmap).closed;

describe("FrameProvider", () => {
  it("asks the worker for the frame's job chunk and entry and gives the decoded image", async () => {
    const { worker, provider } = setup({ start: 100, stop: 199, chunkAheadAt: 0.5 });
    const pending = provider.get(123);
    expect(worker.sent).toEqual([{ type: "decode", id: 1, chunkUrl: "chunk/2", position: 3 }]);
    worker.reply(worker.decoded(worker.sent[0]!));
    const image = await pending;
    expect(image).toMatchObject({ frame: 123, width: 1920, height: 1080 });
    expect(tagOf(image)).toBe("chunk/2#3");
    expect(provider.peek(123)).toBe(image);
    expect(provider.peek(124)).toBeNull();
    expect(provider.timings()).toHaveLength(1);
    expect(provider.timings()[0]).toBeGreaterThanOrEqual(0);
  });

  it("maps frames with the job's start frame, a frame step and included frames", async () => {
    const worker = new FakeWorker();
    worker.auto = (request) => worker.decoded(request);
    const options = { jobId: 1, chunkUrl: (index: number) => `chunk/${index}`, workerFactory: () => worker as unknown as Worker };
    // task frames 20..39 of a step=2 task whose data starts at source frame 7: source 47..85
    const stepped = new FrameProvider({ ...options, meta: { ...meta(0, 0, 8), start_frame: 47, stop_frame: 85, frame_filter: "step=2" }, startFrame: 20 });
    expect(tagOf(await stepped.get(37))).toBe("chunk/2#1");
    await expect(stepped.get(40)).rejects.toThrow(/Frame 40 is not a frame of this job/);
    const included = new FrameProvider({ ...options, meta: { ...meta(0, 99, 2), included_frames: [3, 9, 50, 70, 71] } });
    expect(tagOf(await included.get(50))).toBe("chunk/1#0");
    expect(tagOf(await included.get(71))).toBe("chunk/2#0");
    await expect(included.get(4)).rejects.toThrow(RangeError);
  });

  it("answers a decoded frame from the cache without asking again", async () => {
    const { worker, provider } = setup();
    worker.auto = (request) => worker.decoded(request);
    const first = await provider.get(4);
    const again = await provider.get(4);
    expect(again).toBe(first);
    expect(worker.decodes()).toEqual(["chunk/0#4"]);
    expect(provider.timings()).toHaveLength(2);
  });

  it("dedupes concurrent requests for one frame, prefetch included", async () => {
    const { worker, provider } = setup();
    const a = provider.get(2);
    const b = provider.get(2);
    provider.prefetch([2]);
    expect(worker.decodes()).toEqual(["chunk/0#2"]);
    worker.reply(worker.decoded(worker.sent[0]!));
    expect(await a).toBe(await b);
  });

  it("rejects a frame outside the job", async () => {
    const { worker, provider } = setup({ start: 10, stop: 19 });
    await expect(provider.get(20)).rejects.toThrow(/Frame 20 is not a frame of this job/);
    expect(worker.sent).toEqual([]);
  });

  it("decodes prefetched frames in order, a bounded number at a time, up to `ahead`", async () => {
    const { worker, provider } = setup({ ahead: 12, maxInFlight: 3 });
    provider.prefetch(Array.from({ length: 20 }, (_, i) => i + 1));
    expect(worker.decodes()).toEqual(["chunk/0#1", "chunk/0#2", "chunk/0#3"]);
    worker.reply(worker.decoded(worker.sent[1]!)); // frame 2 done: one more starts
    await flush();
    expect(worker.decodes()).toEqual(["chunk/0#1", "chunk/0#2", "chunk/0#3", "chunk/0#4"]);
    // a get goes ahead of the queue and past the bound
    const shown = provider.get(9);
    expect(worker.decodes().at(-1)).toBe("chunk/0#9");
    worker.auto = (request) => worker.decoded(request);
    for (const request of worker.sent) if (request.type === "decode" && !["chunk/0#2"].includes(`${request.chunkUrl}#${request.position}`)) worker.reply(worker.decoded(request));
    await shown;
    for (let i = 0; i < 10; i++) await flush();
    const decodes = worker.decodes();
    expect(decodes).toHaveLength(12); // 12 planned (9 among them, asked once)
    expect(decodes.filter((d) => d === "chunk/0#9")).toHaveLength(1);
    expect(decodes).not.toContain("chunk/1#3"); // frame 13 is past the look-ahead
    for (let frame = 1; frame <= 12; frame++) expect(provider.peek(frame)).not.toBeNull();
  });

  it("replaces the prefetch list with the newest one", async () => {
    const { worker, provider } = setup({ maxInFlight: 1 });
    provider.prefetch([1, 2, 3]);
    provider.prefetch([50, 49]);
    worker.auto = (request) => worker.decoded(request);
    worker.reply(worker.decoded(worker.sent[0]!));
    for (let i = 0; i < 5; i++) await flush();
    expect(worker.decodes()).toEqual(["chunk/0#1", "chunk/5#0", "chunk/4#9"]);
  });

  it("closes bitmaps the LRU pushes out, but never the frame being shown", async () => {
    const { worker, provider } = setup({ cacheSize: 2 });
    worker.auto = (request) => worker.decoded(request);
    const shown = await provider.get(0);
    provider.prefetch([1, 2, 3]);
    for (let i = 0; i < 5; i++) await flush();
    expect(provider.peek(0)).toBeNull(); // out of the cache ...
    expect(closed(shown)).toBe(false); // ... but still on screen
    const one = worker.bitmaps.find((b) => b.frame === "chunk/0#1")!;
    expect(one.closed).toBe(true);
    expect(await provider.get(0)).toBe(shown); // the shown frame is served again, open, back in the cache
    const next = await provider.get(3);
    expect(closed(next)).toBe(false);
    expect(closed(shown)).toBe(false); // no longer shown, but still cached
    expect(worker.bitmaps.filter((b) => b.closed).map((b) => b.frame)).toEqual(["chunk/0#1", "chunk/0#2"]);
    await provider.get(2);
    await provider.get(7);
    await provider.get(8); // 0 and 3 leave the cache, and are not shown
    expect(closed(shown)).toBe(true);
    expect(closed(next)).toBe(true);
  });

  it("fetches the next chunk once playback passes the middle of the current one, once", async () => {
    const { worker, provider } = setup({ stop: 29, chunkAheadAt: 0.5 });
    worker.auto = (request) => (request.type === "chunk" ? { id: request.id, frames: 10 } : worker.decoded(request));
    for (const frame of [0, 1, 2, 3, 4]) await provider.get(frame);
    expect(worker.sent.filter((r) => r.type === "chunk")).toEqual([]);
    await provider.get(5);
    await provider.get(6);
    expect(worker.sent.filter((r) => r.type === "chunk").map((r) => (r as { url: string }).url)).toEqual(["chunk/1"]);
    for (const frame of [25, 26]) await provider.get(frame); // the last chunk: nothing after it
    // backward: once below the middle of chunk 1, chunk 0 is fetched
    await provider.get(14);
    await provider.get(13);
    expect(worker.sent.filter((r) => r.type === "chunk").map((r) => (r as { url: string }).url)).toEqual(["chunk/1", "chunk/0"]);
  });

  it("fetches the next chunk a quarter into the current one by default", async () => {
    const { worker, provider } = setup({ stop: 29 });
    worker.auto = (request) => (request.type === "chunk" ? { id: request.id, frames: 10 } : worker.decoded(request));
    for (const frame of [0, 1, 2]) await provider.get(frame);
    expect(worker.sent.filter((r) => r.type === "chunk")).toEqual([]);
    await provider.get(3);
    expect(worker.sent.filter((r) => r.type === "chunk").map((r) => (r as { url: string }).url)).toEqual(["chunk/1"]);
  });

  it("fetches the next chunk as soon as a chunk is entered with chunkAheadAt 0", async () => {
    const worker = new FakeWorker();
    worker.auto = (request) => (request.type === "chunk" ? { id: request.id, frames: 10 } : worker.decoded(request));
    const provider = new FrameProvider({ jobId: 1, meta: meta(0, 29), chunkUrl: (i) => `chunk/${i}`, workerFactory: () => worker as unknown as Worker, chunkAheadAt: 0 });
    await provider.get(0);
    await provider.get(10);
    expect(worker.sent.filter((r) => r.type === "chunk").map((r) => (r as { url: string }).url)).toEqual(["chunk/1", "chunk/2"]);
  });

  it("falls back to the one-frame endpoint when the chunk fails, and skips that chunk for a while", async () => {
    const { worker, provider } = setup({ start: 0, stop: 29 });
    const pending = provider.get(12);
    worker.reply({ id: worker.sent[0]!.id, error: "Internal Server Error", status: 500, chunk: true });
    await flush();
    expect(worker.sent[1]).toEqual({ type: "image", id: 2, url: "frame/12" });
    worker.reply(worker.decoded(worker.sent[1]!));
    expect(tagOf(await pending)).toBe("frame/12");
    worker.auto = (request) => worker.decoded(request);
    await provider.get(13);
    expect(worker.decodes()).toEqual(["chunk/1#2", "frame/12", "frame/13"]);
    await provider.get(3); // another chunk is still read from its chunk
    expect(worker.decodes().at(-1)).toBe("chunk/0#3");
  });

  it("a frame error (not the chunk's) falls back for that frame only", async () => {
    const { worker, provider } = setup();
    worker.auto = (request) =>
      request.type === "decode" && request.position === 1 ? { id: request.id, error: "the image cannot be decoded", status: 0 } : worker.decoded(request);
    await provider.get(1);
    await provider.get(2);
    expect(worker.decodes()).toEqual(["chunk/0#1", "frame/1", "chunk/0#2"]);
  });

  it("gives a clear error when the one-frame endpoint fails too", async () => {
    const { worker, provider } = setup();
    worker.auto = (request) =>
      request.type === "decode"
        ? { id: request.id, error: "Internal Server Error", status: 500, chunk: true }
        : { id: request.id, error: "Not found.", status: 404 };
    await expect(provider.get(12)).rejects.toThrow("Frame 12 could not be loaded: 404 Not found.");
    // a failed frame is not cached: asking again asks again
    await expect(provider.get(12)).rejects.toThrow(/Frame 12 could not be loaded/);
    expect(worker.decodes().filter((d) => d === "frame/12")).toHaveLength(2);
  });

  it("destroy terminates the worker, closes every bitmap and rejects what is pending", async () => {
    const { worker, provider } = setup();
    worker.auto = (request) => worker.decoded(request);
    const shown = await provider.get(0);
    await provider.get(1);
    const cached = provider.peek(0)!;
    worker.auto = null;
    const pending = provider.get(5);
    provider.destroy();
    expect(worker.terminated).toBe(true);
    await expect(pending).rejects.toThrow(/destroyed/);
    expect(closed(shown)).toBe(true);
    expect(closed(cached)).toBe(true);
    expect(worker.bitmaps.every((b) => b.closed)).toBe(true);
    // a late answer is closed, not kept
    worker.reply(worker.decoded(worker.sent.at(-1)!));
    expect(worker.bitmaps.at(-1)!.closed).toBe(true);
    await expect(provider.get(0)).rejects.toThrow(/destroyed/);
  });

  it("fails pending and later requests clearly when the worker cannot run", async () => {
    const { worker, provider } = setup();
    const pending = provider.get(0);
    worker.onerror?.({ message: "SyntaxError: bad module" } as ErrorEvent);
    await expect(pending).rejects.toThrow("Frame 0 could not be loaded: 0 The frame decoder failed: SyntaxError: bad module");
    await expect(provider.get(1)).rejects.toThrow(/The frame decoder failed/);
  });

  it("keeps the last 200 timings", async () => {
    const { worker, provider } = setup({ stop: 299, cacheSize: 300 });
    worker.auto = (request) => (request.type === "chunk" ? { id: request.id, frames: 10 } : worker.decoded(request));
    for (let frame = 0; frame < 250; frame++) await provider.get(frame);
    expect(provider.timings()).toHaveLength(200);
  });
});

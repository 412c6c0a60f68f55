// The player's frames: decoded ImageBitmaps of a job's task frames, from its compressed chunks,
// fetched, unzipped and decoded in a Worker (worker.ts) so that playback never waits on the main
// thread. Bitmaps stay in an LRU (evicted ones closed; the frame being shown never), the frames
// the player names in `prefetch` are decoded ahead (a few requests at a time), the next chunk is
// fetched once playback passes the middle of the current one, and a chunk that cannot be loaded
// falls back to the one-frame endpoint.
import { api } from "../../api/client";
import type { DataMeta } from "../../lib/frames";
import type { FrameImage, FrameProviderApi } from "../contracts";
import { jobFrames, Lru, type Direction } from "./chunks";
import type { WorkerReply, WorkerRequest } from "./worker";

export interface FrameProviderOptions {
  jobId: number;
  meta: DataMeta;
  /** the job's first task frame (the job's `start_frame`); default: derived from `meta` (chunks.ts) */
  startFrame?: number;
  chunkUrl?: (index: number) => string;
  /** the one-frame endpoint (the fallback) */
  frameUrl?: (frame: number) => string;
  workerFactory?: () => Worker;
  cacheSize?: number; // decoded frames kept (default 40)
  ahead?: number; // frames of a prefetch list decoded ahead (default 12)
  maxInFlight?: number; // prefetch decodes at a time (default 3)
  /** how far into a chunk (a fraction, in playback's direction) playback goes before the next
   *  chunk is fetched (default 0.25: a chunk from S3 over a slow link still arrives before it is
   *  needed, measured with 1 s chunk latency; 0: as soon as a chunk is entered) */
  chunkAheadAt?: number;
}

/** The worker as the provider uses it (a fake in tests). */
type WorkerPort = Pick<Worker, "postMessage" | "terminate" | "onmessage" | "onerror">;

type Success = Exclude<WorkerReply, { error: string }>;
type WithoutId<T> = T extends unknown ? Omit<T, "id"> : never;
type Request = WithoutId<WorkerRequest>;

class DecodeError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly chunk: boolean,
  ) {
    super(message);
  }
}

const FAILED_CHUNK_RETRY_MS = 10_000;
const TIMINGS_KEPT = 200;

export class FrameProvider implements FrameProviderApi {
  private readonly worker: WorkerPort;
  private readonly chunkUrl: (index: number) => string;
  private readonly frameUrl: (frame: number) => string;
  private readonly indexOf: (frame: number) => number; // the frame's place in the job, -1: not the job's
  private readonly size: number | null; // the chunk size; null: frames one by one
  private readonly lastChunk: number;
  private readonly ahead: number;
  private readonly maxInFlight: number;
  private readonly chunkAheadAt: number;
  private readonly cache: Lru<number, FrameImage>;
  private readonly inflight = new Map<number, Promise<FrameImage>>();
  private readonly pending = new Map<number, { resolve: (reply: Success) => void; reject: (error: DecodeError) => void }>();
  private readonly failedChunks = new Map<number, number>(); // chunk index -> when it failed
  private readonly chunksAsked = new Set<number>();
  private readonly latencies: number[] = [];
  private queue: number[] = [];
  private prefetching = 0;
  private nextId = 1;
  private pinned: FrameImage | null = null;
  private pinnedSeq = 0;
  private seq = 0;
  private lastFrame: number | null = null;
  private direction: Direction = 1;
  private destroyed = false;
  private broken: string | null = null; // the worker failed: every request fails with this

  constructor(options: FrameProviderOptions) {
    const { jobId } = options;
    const frames = jobFrames(options.meta, options.startFrame);
    this.indexOf = indexer(frames);
    const size = options.meta.chunk_size;
    this.size = size && size > 0 ? size : null;
    this.lastChunk = this.size ? Math.max(0, Math.ceil(frames.length / this.size) - 1) : 0;
    this.ahead = options.ahead ?? 12;
    this.maxInFlight = Math.max(1, options.maxInFlight ?? 3);
    this.chunkAheadAt = Math.min(1, Math.max(0, options.chunkAheadAt ?? 0.25));
    this.chunkUrl = options.chunkUrl ?? ((index) => absolute(api.url(`/api/jobs/${jobId}/data`, { type: "chunk", index, quality: "compressed" })));
    this.frameUrl = options.frameUrl ?? ((frame) => absolute(api.url(`/api/jobs/${jobId}/data`, { type: "frame", number: frame, quality: "compressed" })));
    this.cache = new Lru<number, FrameImage>(options.cacheSize ?? 40, (image) => {
      if (image !== this.pinned) image.bitmap.close();
    });
    this.worker = (options.workerFactory ?? defaultWorker)();
    this.worker.onmessage = (event: MessageEvent<WorkerReply>) => this.receive(event.data);
    this.worker.onerror = (event: ErrorEvent) => {
      this.broken = `The frame decoder failed: ${event.message || "the worker did not start"}`;
      this.failAll(this.broken);
    };
  }

  async get(frame: number): Promise<FrameImage> {
    const started = performance.now();
    const seq = ++this.seq;
    this.queue = this.queue.filter((f) => f !== frame);
    const loading = this.load(frame);
    this.follow(frame);
    const image = await loading;
    this.record(performance.now() - started);
    this.pin(image, seq);
    this.pump();
    return image;
  }

  /** The decoded frame or null; a frame it gives is pinned (kept open) as one `get` gives. */
  peek(frame: number): FrameImage | null {
    const image = this.cache.get(frame);
    if (!image) return null;
    this.pin(image, ++this.seq);
    return image;
  }

  prefetch(frames: readonly number[]): void {
    if (this.destroyed) return;
    const wanted: number[] = [];
    for (const frame of frames) {
      if (wanted.length >= this.ahead) break;
      if (!wanted.includes(frame) && this.indexOf(frame) >= 0) wanted.push(frame);
    }
    this.queue = wanted;
    this.pump();
  }

  timings(): number[] {
    return [...this.latencies];
  }

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.queue = [];
    this.worker.terminate();
    this.failAll("The frame provider was destroyed");
    const pinned = this.pinned;
    this.pinned = null;
    this.cache.clear();
    pinned?.bitmap.close();
  }

  // --- loading --------------------------------------------------------------------------------

  /** The frame from the cache, the request already running for it, or a new one. */
  private load(frame: number): Promise<FrameImage> {
    const cached = this.cache.get(frame);
    if (cached) return Promise.resolve(cached);
    if (this.pinned?.frame === frame && !this.destroyed) {
      this.cache.set(frame, this.pinned); // shown, then pushed out of the cache: still open
      return Promise.resolve(this.pinned);
    }
    const running = this.inflight.get(frame);
    if (running) return running;
    const loading = this.decode(frame).then(
      (image) => {
        this.inflight.delete(frame);
        if (this.destroyed) {
          image.bitmap.close();
          throw new Error("The frame provider was destroyed");
        }
        this.cache.set(frame, image);
        return image;
      },
      (error: unknown) => {
        this.inflight.delete(frame);
        throw error;
      },
    );
    this.inflight.set(frame, loading);
    return loading;
  }

  private async decode(frame: number): Promise<FrameImage> {
    const i = this.indexOf(frame);
    if (i < 0) throw new RangeError(`Frame ${frame} is not a frame of this job`);
    if (this.size !== null) {
      const index = Math.floor(i / this.size);
      if (!this.chunkFailed(index)) {
        try {
          return image(frame, await this.call({ type: "decode", chunkUrl: this.chunkUrl(index), position: i % this.size }));
        } catch (error) {
          if (this.destroyed) throw error;
          if (error instanceof DecodeError && error.chunk) this.failedChunks.set(index, performance.now());
        }
      }
    }
    try {
      return image(frame, await this.call({ type: "image", url: this.frameUrl(frame) }));
    } catch (error) {
      if (this.destroyed) throw error;
      const status = error instanceof DecodeError ? `${error.status} ` : "";
      throw new Error(`Frame ${frame} could not be loaded: ${status}${error instanceof Error ? error.message : String(error)}`);
    }
  }

  private chunkFailed(index: number): boolean {
    const at = this.failedChunks.get(index);
    if (at === undefined) return false;
    if (performance.now() - at < FAILED_CHUNK_RETRY_MS) return true;
    this.failedChunks.delete(index);
    return false;
  }

  /** Decodes queued prefetch frames, at most `maxInFlight` at a time, in the queue's order. */
  private pump(): void {
    while (!this.destroyed && this.prefetching < this.maxInFlight && this.queue.length) {
      const frame = this.queue.shift()!;
      if (this.cache.has(frame) || this.inflight.has(frame)) continue;
      this.prefetching++;
      this.load(frame)
        .catch(() => undefined) // a prefetch failure shows when the frame is asked for
        .finally(() => {
          this.prefetching--;
          this.pump();
        });
    }
  }

  /** Playback's direction, and the next chunk fetched once it passes the middle of this one. */
  private follow(frame: number): void {
    if (this.lastFrame !== null && frame !== this.lastFrame) this.direction = frame > this.lastFrame ? 1 : -1;
    this.lastFrame = frame;
    if (this.size === null || this.destroyed) return;
    const i = this.indexOf(frame);
    if (i < 0) return;
    const index = Math.floor(i / this.size);
    const position = i % this.size;
    const travelled = this.direction === 1 ? position : this.size - 1 - position;
    const past = travelled >= this.size * this.chunkAheadAt;
    const next = index + this.direction;
    if (!past || next < 0 || next > this.lastChunk || this.chunksAsked.has(next) || this.chunkFailed(next)) return;
    this.chunksAsked.add(next);
    if (this.chunksAsked.size > 8) this.chunksAsked.delete(this.chunksAsked.values().next().value as number);
    this.call({ type: "chunk", url: this.chunkUrl(next) }).catch((error: unknown) => {
      this.chunksAsked.delete(next);
      if (error instanceof DecodeError && error.chunk) this.failedChunks.set(next, performance.now());
    });
  }

  private pin(image: FrameImage, seq: number): void {
    if (seq < this.pinnedSeq || this.destroyed) return;
    const previous = this.pinned;
    this.pinned = image;
    this.pinnedSeq = seq;
    if (previous && previous !== image && this.cache.peek(previous.frame) !== previous) previous.bitmap.close();
  }

  private record(ms: number): void {
    this.latencies.push(ms);
    if (this.latencies.length > TIMINGS_KEPT) this.latencies.splice(0, this.latencies.length - TIMINGS_KEPT);
  }

  // --- the worker -----------------------------------------------------------------------------

  private call(request: Request): Promise<Success> {
    if (this.destroyed) return Promise.reject(new DecodeError("The frame provider was destroyed", 0, false));
    if (this.broken) return Promise.reject(new DecodeError(this.broken, 0, false));
    const id = this.nextId++;
    return new Promise<Success>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ ...request, id } as WorkerRequest);
    });
  }

  private receive(reply: WorkerReply): void {
    const waiting = this.pending.get(reply.id);
    this.pending.delete(reply.id);
    if (!waiting || this.destroyed) {
      if ("bitmap" in reply) reply.bitmap.close();
      return;
    }
    if ("error" in reply) waiting.reject(new DecodeError(reply.error, reply.status, reply.chunk ?? false));
    else waiting.resolve(reply);
  }

  private failAll(message: string): void {
    const waiting = [...this.pending.values()];
    this.pending.clear();
    for (const { reject } of waiting) reject(new DecodeError(message, 0, false));
  }
}

function image(frame: number, reply: Success): FrameImage {
  if (!("bitmap" in reply)) throw new DecodeError("The frame decoder answered without an image", 0, false);
  return { frame, bitmap: reply.bitmap, width: reply.width, height: reply.height };
}

/** Places of the job's frames: arithmetic for a contiguous run, a map otherwise. */
function indexer(frames: readonly number[]): (frame: number) => number {
  const first = frames[0] ?? 0;
  if (frames.every((frame, i) => frame === first + i)) return (frame) => (Number.isInteger(frame) && frame >= first && frame - first < frames.length ? frame - first : -1);
  const places = new Map(frames.map((frame, i) => [frame, i]));
  return (frame) => places.get(frame) ?? -1;
}

function defaultWorker(): Worker {
  if (typeof Worker === "undefined") throw new Error("Web Workers are not available here: pass a workerFactory");
  return new Worker(new URL("./worker.ts", import.meta.url), { type: "module" });
}

/** The worker resolves relative URLs against its own script: make them absolute on the page. */
function absolute(url: string): string {
  return typeof location === "undefined" ? url : new URL(url, location.href).href;
}

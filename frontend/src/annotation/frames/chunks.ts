// The pure side of the frame provider: which task frames a job has, which of the job's chunks
// (`/api/jobs/{id}/data?type=chunk&index=N`) holds a frame and at which entry, the frames to decode
// ahead of the player, and a small LRU cache (evicted values handed to a callback: bitmaps closed).
//
// The server's rules (data_reads.JobFrames): a job holds the contiguous task frames
// `start .. stop`; its chunk N holds its frames `start + N*chunk_size ..`, entry i being the i-th
// of them. Job meta reports *source* frames (`start_frame = task start + job start * step`), so the
// job's first task frame is `startFrame` when the caller knows it (the job's `start_frame`), else
// `meta.start_frame / step` (exact when the task's data starts at source frame 0, the usual case).
// `included_frames` (source frames, CVAT's ground-truth jobs) list the job's frames instead.
import { frameStep, type DataMeta } from "../../lib/frames";

export type Direction = 1 | -1;

export interface ChunkPosition {
  index: number; // the job's chunk (from 0 in the job)
  position: number; // the frame's entry in it
}

/** The job's first task frame: `startFrame` when given, else derived from the meta. */
export function firstTaskFrame(meta: DataMeta, startFrame?: number): number {
  if (startFrame !== undefined) return startFrame;
  return Math.floor(meta.start_frame / frameStep(meta.frame_filter));
}

/** The job's task frame numbers in order (deleted frames included: chunks hold them). */
export function jobFrames(meta: DataMeta, startFrame?: number): number[] {
  const step = frameStep(meta.frame_filter);
  const first = firstTaskFrame(meta, startFrame);
  if (meta.included_frames) {
    const taskStart = meta.start_frame - first * step; // the task's first source frame
    const frames = meta.included_frames.map((source) => (source - taskStart) / step).filter((f) => Number.isInteger(f) && f >= 0);
    return [...new Set(frames)].sort((a, b) => a - b);
  }
  const count = Math.max(0, Math.floor((meta.stop_frame - meta.start_frame) / step) + 1);
  return Array.from({ length: count }, (_, i) => first + i);
}

/** The job's chunk size; an Error when the meta has none. */
export function chunkSize(meta: DataMeta): number {
  const size = meta.chunk_size;
  if (!size || size < 1) throw new Error("The job's data has no chunk size");
  return size;
}

/** The job chunk holding a task frame and the frame's entry in it; a RangeError outside the job. */
export function chunkOf(meta: DataMeta, frame: number, startFrame?: number): ChunkPosition {
  const i = frameIndex(meta, frame, startFrame);
  if (i < 0) throw new RangeError(`Frame ${frame} is not a frame of this job`);
  const size = chunkSize(meta);
  return { index: Math.floor(i / size), position: i % size };
}

/** The task frames job chunk `index` holds, in entry order. */
export function chunkFrames(meta: DataMeta, index: number, startFrame?: number): number[] {
  const size = chunkSize(meta);
  return jobFrames(meta, startFrame).slice(index * size, (index + 1) * size);
}

/** The frame's place among the job's frames, -1 when it is not one of them. */
export function frameIndex(meta: DataMeta, frame: number, startFrame?: number): number {
  if (!Number.isInteger(frame)) return -1;
  if (meta.included_frames) return sortedIndexOf(jobFrames(meta, startFrame), frame);
  const i = frame - firstTaskFrame(meta, startFrame);
  const count = Math.floor((meta.stop_frame - meta.start_frame) / frameStep(meta.frame_filter)) + 1;
  return i >= 0 && i < count ? i : -1;
}

/**
 * The frames to decode ahead: up to `ahead` of `frames` (sorted ascending: the frames the player
 * may show) after `current` in `direction`, nearest first. `current` itself is left out (the
 * player asks for it); when it is not in `frames` the plan starts at its neighbour.
 */
export function prefetchPlan(frames: readonly number[], current: number, direction: Direction, ahead: number): number[] {
  if (ahead <= 0 || frames.length === 0) return [];
  const out: number[] = [];
  if (direction === 1) {
    for (let i = upperBound(frames, current); i < frames.length && out.length < ahead; i++) out.push(frames[i]!);
  } else {
    for (let i = lowerBound(frames, current) - 1; i >= 0 && out.length < ahead; i--) out.push(frames[i]!);
  }
  return out;
}

/** A least-recently-used map of at most `capacity` values; `onEvict` gets every value that leaves
 *  it (pushed out, deleted, replaced or cleared), e.g. to close a bitmap. */
export class Lru<K, V> {
  private readonly items = new Map<K, V>();

  constructor(
    readonly capacity: number,
    private readonly onEvict: (value: V, key: K) => void = () => undefined,
  ) {
    if (!(capacity >= 1)) throw new RangeError("An LRU needs a capacity of at least 1");
  }

  get size(): number {
    return this.items.size;
  }

  has(key: K): boolean {
    return this.items.has(key);
  }

  /** The value, now the most recently used. */
  get(key: K): V | undefined {
    if (!this.items.has(key)) return undefined;
    const value = this.items.get(key) as V;
    this.items.delete(key);
    this.items.set(key, value);
    return value;
  }

  /** The value, its place unchanged. */
  peek(key: K): V | undefined {
    return this.items.get(key);
  }

  set(key: K, value: V): void {
    if (this.items.has(key)) {
      const old = this.items.get(key) as V;
      this.items.delete(key);
      if (old !== value) this.onEvict(old, key);
    }
    this.items.set(key, value);
    while (this.items.size > this.capacity) {
      const [oldest, evicted] = this.items.entries().next().value as [K, V];
      this.items.delete(oldest);
      this.onEvict(evicted, oldest);
    }
  }

  delete(key: K): boolean {
    if (!this.items.has(key)) return false;
    const value = this.items.get(key) as V;
    this.items.delete(key);
    this.onEvict(value, key);
    return true;
  }

  clear(): void {
    const entries = [...this.items.entries()];
    this.items.clear();
    for (const [key, value] of entries) this.onEvict(value, key);
  }

  /** Keys, least recently used first. */
  keys(): K[] {
    return [...this.items.keys()];
  }
}

function lowerBound(sorted: readonly number[], value: number): number {
  let low = 0;
  let high = sorted.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (sorted[mid]! < value) low = mid + 1;
    else high = mid;
  }
  return low;
}

function upperBound(sorted: readonly number[], value: number): number {
  let low = 0;
  let high = sorted.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (sorted[mid]! <= value) low = mid + 1;
    else high = mid;
  }
  return low;
}

function sortedIndexOf(sorted: readonly number[], value: number): number {
  const i = lowerBound(sorted, value);
  return sorted[i] === value ? i : -1;
}

// Pure helpers of the tasks and jobs pages: frame ranges, job progress, frame metadata summaries
// and user names, kept out of the components so they can be tested without a browser.
import type { BasicUser, JobsSummary } from "../api/types";

/** One frame's metadata as `GET /api/jobs/{id}/data/meta` lists it (CVAT's FrameMeta). */
export interface FrameMeta {
  width: number;
  height: number;
  name: string;
  related_files: number;
  has_related_context?: boolean;
}

/** `GET /api/{tasks,jobs}/{id}/data/meta` (CVAT's DataMetaRead). */
export interface DataMeta {
  chunks_updated_date: string;
  chunk_size: number | null;
  size: number;
  image_quality: number;
  start_frame: number;
  stop_frame: number;
  frame_filter: string;
  frames: FrameMeta[] | null;
  deleted_frames: number[];
  included_frames: number[] | null;
  frame_rate?: number | null; // an extension: a video's frames per second
}

export const JOB_STAGES = ["annotation", "validation", "acceptance"] as const;
export const JOB_STATES = ["new", "in progress", "rejected", "completed"] as const;

/** "0–4", or "7" for a one-frame range. */
export function frameRange(start: number, stop: number): string {
  return start === stop ? String(start) : `${start}–${stop}`;
}

export interface Progress {
  completed: number;
  count: number;
  percent: number; // 0..100, rounded down
  text: string;
}

/** The jobs progress of a task: completed jobs of all jobs, from the task's `jobs` summary. */
export function jobsProgress(jobs: Pick<JobsSummary, "count" | "completed"> | null | undefined): Progress {
  const count = Math.max(0, jobs?.count ?? 0);
  const completed = Math.min(count, Math.max(0, jobs?.completed ?? 0));
  const percent = count ? Math.floor((completed * 100) / count) : 0;
  return { completed, count, percent, text: count ? `${completed} of ${count} job${count === 1 ? "" : "s"} completed` : "No jobs" };
}

/** "Jane Doe (jane)", or the username alone; "" for nobody. */
export function userName(user: BasicUser | null | undefined): string {
  if (!user) return "";
  const full = [user.first_name, user.last_name].filter(Boolean).join(" ").trim();
  return full ? `${full} (${user.username})` : user.username;
}

export interface FrameRow {
  frame: number; // the task's frame number (the meta's source frame numbers when the job's first task frame is not given)
  name: string;
  size: string; // "640×480"
  deleted: boolean;
}

/**
 * The first `limit` frames of a job's meta with their task frame numbers. `frames` may list one
 * entry per frame or, as CVAT does for videos, a single entry for all of them. The meta counts
 * source frames (a task's start frame and step apply), deleted frames are task frames: with
 * `firstTaskFrame` (the job's `start_frame`) rows are numbered, and deleted ones found, by task frame.
 */
export function frameRows(meta: DataMeta, limit = 10, firstTaskFrame?: number): FrameRow[] {
  const frames = meta.frames ?? [];
  if (frames.length === 0) return [];
  const step = frameStep(meta.frame_filter);
  const deleted = new Set(meta.deleted_frames);
  const numbers = meta.included_frames ?? range(meta.start_frame, meta.stop_frame, step);
  const rows: FrameRow[] = [];
  for (let i = 0; i < numbers.length && rows.length < limit; i++) {
    const entry = frames.length === 1 ? frames[0]! : frames[i];
    if (!entry) break;
    const frame = firstTaskFrame !== undefined ? firstTaskFrame + i : numbers[i]!;
    rows.push({ frame, name: entry.name, size: `${entry.width}×${entry.height}`, deleted: deleted.has(frame) });
  }
  return rows;
}

/** The distinct frame sizes of a job, most frequent first: "640×480 (3), 800×600 (1)". */
export function frameSizes(meta: DataMeta): string {
  const counts = new Map<string, number>();
  for (const f of meta.frames ?? []) {
    const key = `${f.width}×${f.height}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return [...counts.entries()]
    .sort((a, b) => b[1] - a[1])
    .map(([size, n]) => (counts.size === 1 ? size : `${size} (${n})`))
    .join(", ");
}

/** CVAT's frame filter "step=N" as N (1 when absent or malformed). */
export function frameStep(filter: string | null | undefined): number {
  const match = /^step=(\d+)$/.exec((filter ?? "").trim());
  const step = match ? Number(match[1]) : 1;
  return step > 0 ? step : 1;
}

/** Compresses sorted or unsorted frame numbers into ranges: [1,2,3,7] -> "1–3, 7". */
export function compactFrames(frames: number[]): string {
  const sorted = [...new Set(frames)].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j]! + 1) j++;
    parts.push(frameRange(sorted[i]!, sorted[j]!));
    i = j + 1;
  }
  return parts.join(", ");
}

function range(start: number, stop: number, step: number): number[] {
  const out: number[] = [];
  for (let f = start; f <= stop; f += step) out.push(f);
  return out;
}

// The frame player's decisions, kept pure so they can be tested without a browser: which frames
// can be shown (deleted ones skipped unless "show deleted"), moving by one frame or a step,
// validating a typed frame number, and what the play loop does on each tick at a given speed.

export const PLAY_SPEEDS: readonly number[] = [5, 10, 25, 50];
export const DEFAULT_FPS = 25;
export const DEFAULT_STEP = 10;

/** The frames the player walks over, in order: the job's frames less the deleted ones (unless shown). */
export function playableFrames(frames: readonly number[], deleted: ReadonlySet<number>, showDeleted: boolean): number[] {
  if (showDeleted || deleted.size === 0) return [...frames];
  return frames.filter((frame) => !deleted.has(frame));
}

/** The position of `frame` in `list`, or the position of the first frame after it (a hidden deleted frame). */
export function positionOf(list: readonly number[], frame: number): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (list[mid]! < frame) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * The frame `delta` playable frames away from `current` (negative: back), clamped to the ends;
 * `current` itself when the list is empty. From a frame not in the list, +1 is the next playable
 * one and -1 the previous one.
 */
export function moveFrame(list: readonly number[], current: number, delta: number): number {
  if (list.length === 0) return current;
  const at = positionOf(list, current);
  const inList = list[at] === current;
  let target: number;
  if (inList) target = at + delta;
  else if (delta > 0) target = at + delta - 1;
  else if (delta < 0) target = at + delta;
  else target = at;
  return list[Math.min(list.length - 1, Math.max(0, target))]!;
}

export function firstFrame(list: readonly number[], fallback: number): number {
  return list[0] ?? fallback;
}

export function lastFrame(list: readonly number[], fallback: number): number {
  return list[list.length - 1] ?? fallback;
}

export type FrameInput = { ok: true; frame: number } | { ok: false; error: string };

/** A typed "jump to frame" value: an integer among the job's frames; a deleted one only if shown. */
export function parseFrameInput(text: string, frames: readonly number[], deleted: ReadonlySet<number>, showDeleted: boolean): FrameInput {
  const trimmed = text.trim();
  if (!/^\d+$/.test(trimmed)) return { ok: false, error: "Enter a frame number." };
  const frame = Number(trimmed);
  if (frames.length === 0) return { ok: false, error: "The job has no frames." };
  const first = frames[0]!;
  const last = frames[frames.length - 1]!;
  if (frame < first || frame > last) return { ok: false, error: `Frames of this job are ${first}–${last}.` };
  const at = positionOf(frames, frame);
  if (frames[at] !== frame) return { ok: false, error: `Frame ${frame} is not in this job (a frame step applies).` };
  if (deleted.has(frame) && !showDeleted) return { ok: false, error: `Frame ${frame} is deleted (turn on "Show deleted frames" to see it).` };
  return { ok: true, frame };
}

/** The frames to fetch and decode ahead while playing from `current` (the next `count`). */
export function prefetchWindow(list: readonly number[], current: number, count: number): number[] {
  const at = positionOf(list, current);
  const start = list[at] === current ? at + 1 : at;
  return list.slice(start, start + Math.max(0, count));
}

/** How many frames to keep decoded ahead at a speed: about one second, at least 4. */
export function prefetchCount(fps: number): number {
  return Math.max(4, Math.ceil(fps));
}

export function frameInterval(fps: number): number {
  return 1000 / Math.max(1, fps);
}

export type PlayTick =
  | { action: "stop" } // the last frame is shown: playing ends
  | { action: "wait" } // too early, or the next frame is not decoded yet (buffering: never skip ahead)
  | { action: "show"; frame: number; at: number };

/**
 * One tick of the play loop at `now` (ms): shows the next playable frame once a frame interval has
 * passed since the last one was shown and the frame is decoded. A late tick does not skip frames:
 * the next one is shown and the clock restarts from now if it fell more than a frame behind.
 */
export function playTick(list: readonly number[], current: number, shownAt: number, now: number, fps: number, isDecoded: (frame: number) => boolean): PlayTick {
  const next = moveFrame(list, current, 1);
  if (list.length === 0 || next === current) return { action: "stop" };
  const interval = frameInterval(fps);
  if (now - shownAt < interval) return { action: "wait" };
  if (!isDecoded(next)) return { action: "wait" };
  const due = shownAt + interval;
  return { action: "show", frame: next, at: now - due > interval ? now : due };
}

/** The keyframes before and after `frame` (track navigation), null where there is none. */
export function neighbourKeyframes(keyframes: readonly number[], frame: number): { prev: number | null; next: number | null } {
  let prev: number | null = null;
  let next: number | null = null;
  for (const k of keyframes) {
    if (k < frame && (prev === null || k > prev)) prev = k;
    if (k > frame && (next === null || k < next)) next = k;
  }
  return { prev, next };
}

/** The frame's file name from the job's meta (`frames` lists one entry per job frame, or one for a whole video). */
export function frameName(metaFrames: readonly { name: string }[] | null | undefined, jobFrames: readonly number[], frame: number): string {
  if (!metaFrames || metaFrames.length === 0) return "";
  if (metaFrames.length === 1 && jobFrames.length > 1) return metaFrames[0]!.name;
  const at = positionOf(jobFrames, frame);
  return jobFrames[at] === frame ? (metaFrames[at]?.name ?? "") : "";
}

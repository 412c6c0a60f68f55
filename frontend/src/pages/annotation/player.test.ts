import { describe, expect, it } from "vitest";
import { frameName, moveFrame, neighbourKeyframes, parseFrameInput, playableFrames, playTick, prefetchCount, prefetchWindow } from "./player";

const frames = [0, 2, 4, 6, 8, 10]; // a frame step of 2
const deleted = new Set([4, 6]);

describe("playableFrames", () => {
  it("skips deleted frames unless they are shown", () => {
    expect(playableFrames(frames, deleted, false)).toEqual([0, 2, 8, 10]);
    expect(playableFrames(frames, deleted, true)).toEqual(frames);
  });
});

describe("moveFrame", () => {
  const list = playableFrames(frames, deleted, false);
  it("moves by one playable frame and by a step, clamped to the ends", () => {
    expect(moveFrame(list, 2, 1)).toBe(8);
    expect(moveFrame(list, 8, -1)).toBe(2);
    expect(moveFrame(list, 0, 10)).toBe(10);
    expect(moveFrame(list, 2, -10)).toBe(0);
    expect(moveFrame(list, 10, 1)).toBe(10);
  });
  it("leaves a frame that is not playable to its neighbours", () => {
    expect(moveFrame(list, 4, 1)).toBe(8);
    expect(moveFrame(list, 4, -1)).toBe(2);
    expect(moveFrame(list, 5, 2)).toBe(10);
  });
  it("keeps the frame when there is nothing to play", () => {
    expect(moveFrame([], 3, 1)).toBe(3);
  });
});

describe("parseFrameInput", () => {
  it("accepts a job frame", () => {
    expect(parseFrameInput(" 8 ", frames, deleted, false)).toEqual({ ok: true, frame: 8 });
  });
  it("refuses text, frames outside the job, frames off the step and hidden deleted frames", () => {
    expect(parseFrameInput("x", frames, deleted, false).ok).toBe(false);
    expect(parseFrameInput("-1", frames, deleted, false).ok).toBe(false);
    expect(parseFrameInput("12", frames, deleted, false)).toEqual({ ok: false, error: "Frames of this job are 0–10." });
    expect(parseFrameInput("3", frames, deleted, false).ok).toBe(false);
    expect(parseFrameInput("4", frames, deleted, false).ok).toBe(false);
    expect(parseFrameInput("4", frames, deleted, true)).toEqual({ ok: true, frame: 4 });
  });
});

describe("prefetch", () => {
  it("lists the next frames after the current one", () => {
    expect(prefetchWindow([0, 2, 8, 10], 2, 2)).toEqual([8, 10]);
    expect(prefetchWindow([0, 2, 8, 10], 4, 3)).toEqual([8, 10]);
    expect(prefetchWindow([0, 2, 8, 10], 10, 3)).toEqual([]);
  });
  it("keeps about a second ahead", () => {
    expect(prefetchCount(25)).toBe(25);
    expect(prefetchCount(5)).toBe(5);
    expect(prefetchCount(1)).toBe(4);
  });
});

describe("playTick", () => {
  const list = [0, 1, 2, 3];
  const all = () => true;
  it("waits until a frame interval has passed (25 fps: 40 ms)", () => {
    expect(playTick(list, 0, 1000, 1030, 25, all)).toEqual({ action: "wait" });
    expect(playTick(list, 0, 1000, 1041, 25, all)).toEqual({ action: "show", frame: 1, at: 1040 });
  });
  it("never skips a frame that is not decoded yet", () => {
    expect(playTick(list, 0, 1000, 1200, 25, (f) => f !== 1)).toEqual({ action: "wait" });
  });
  it("restarts the clock after buffering instead of racing to catch up", () => {
    expect(playTick(list, 0, 1000, 1200, 25, all)).toEqual({ action: "show", frame: 1, at: 1200 });
  });
  it("stops at the last frame", () => {
    expect(playTick(list, 3, 0, 1000, 25, all)).toEqual({ action: "stop" });
  });
  it("plays slower at a lower speed", () => {
    expect(playTick(list, 1, 0, 150, 5, all)).toEqual({ action: "wait" });
    expect(playTick(list, 1, 0, 200, 5, all)).toEqual({ action: "show", frame: 2, at: 200 });
  });
});

describe("neighbourKeyframes", () => {
  it("finds the keyframes around a frame", () => {
    expect(neighbourKeyframes([0, 5, 9], 5)).toEqual({ prev: 0, next: 9 });
    expect(neighbourKeyframes([0, 5, 9], 7)).toEqual({ prev: 5, next: 9 });
    expect(neighbourKeyframes([5], 5)).toEqual({ prev: null, next: null });
  });
});

describe("frameName", () => {
  it("names a frame by its position in the job, or the video's one entry", () => {
    expect(frameName([{ name: "a.jpg" }, { name: "b.jpg" }], [10, 11], 11)).toBe("b.jpg");
    expect(frameName([{ name: "v.mp4" }], [10, 11, 12], 12)).toBe("v.mp4");
    expect(frameName([{ name: "a.jpg" }], [10], 9)).toBe("");
    expect(frameName(null, [10], 10)).toBe("");
  });
});

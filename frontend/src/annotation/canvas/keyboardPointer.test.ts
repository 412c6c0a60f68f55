import { describe, expect, it } from "vitest";
import { FAST_STEP_PX, STEP_PX, movePointer } from "./keyboardPointer";

const frame = { width: 100, height: 50 };

describe("movePointer", () => {
  it("moves by a constant number of screen pixels whatever the zoom", () => {
    expect(movePointer({ x: 10, y: 10 }, "right", false, 1, frame)).toEqual({ x: 10 + STEP_PX, y: 10 });
    expect(movePointer({ x: 10, y: 10 }, "down", false, 2, frame)).toEqual({ x: 10, y: 10 + STEP_PX / 2 });
    expect(movePointer({ x: 40, y: 10 }, "left", true, 1, frame)).toEqual({ x: 40 - FAST_STEP_PX, y: 10 });
    expect(movePointer({ x: 40, y: 30 }, "up", true, 4, frame)).toEqual({ x: 40, y: 30 - FAST_STEP_PX / 4 });
  });

  it("stays inside the frame", () => {
    expect(movePointer({ x: 1, y: 1 }, "left", true, 1, frame)).toEqual({ x: 0, y: 1 });
    expect(movePointer({ x: 99, y: 49 }, "down", true, 1, frame)).toEqual({ x: 99, y: 50 });
  });
});

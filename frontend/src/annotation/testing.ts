// Test data shared by the workspace's unit tests (never imported by the app).
import type { FrameObject } from "./model";

/** A visible shape on a frame: a polygon with no points, label 1, unless `over` says otherwise. */
export function frameObject(over: Partial<FrameObject> = {}): FrameObject {
  return {
    clientId: 1,
    kind: "shape",
    type: "polygon",
    labelId: 1,
    points: [],
    rotation: 0,
    occluded: false,
    outside: false,
    zOrder: 0,
    keyframe: true,
    attributes: {},
    elements: [],
    group: 0,
    ...over,
  };
}

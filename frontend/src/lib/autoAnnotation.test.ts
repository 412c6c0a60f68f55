import { describe, expect, it } from "vitest";
import type { FunctionCall, FunctionLabelSpec, Label, LambdaFunction } from "../api/types";
import {
  callActive,
  callPercent,
  callSummary,
  choiceProblem,
  defaultMapping,
  detectors,
  removeMapping,
  requestBody,
  runningCallOf,
  setMapping,
  targetsFor,
  typesCompatible,
  unmappedLabels,
} from "./autoAnnotation";

const model: FunctionLabelSpec[] = [
  { name: "person", type: "rectangle", attributes: [] },
  { name: "stop sign", type: "rectangle", attributes: [] },
  { name: "clock", type: "rectangle", attributes: [] },
  { name: "car", type: "mask", attributes: [] },
];

function label(name: string, type = "any", extra: Partial<Label> = {}): Label {
  return { id: name.length, name, type, attributes: [], parent_id: null, ...extra };
}

function fn(id: string, kind: string, name = id): LambdaFunction {
  return { id, kind, name, description: "", version: 1, labels_v2: [] };
}

function call(changes: Partial<FunctionCall> = {}): FunctionCall {
  return {
    id: "autoannotate:task-3-ab",
    function: { id: "yolox-nano", task: 3, threshold: 0.5 },
    status: "started",
    enqueued: "2026-12-06T10:00:00Z",
    started: "2026-12-06T10:00:01Z",
    ended: null,
    progress: 40,
    exc_info: null,
    ...changes,
  };
}

describe("detectors", () => {
  it("keeps the detectors, by name", () => {
    const listed = detectors([fn("b", "detector", "YOLO"), fn("sam", "interactor"), fn("a", "detector", "Faster RCNN"), fn("t", "tracker")]);
    expect(listed.map((f) => f.id)).toEqual(["a", "b"]);
  });
});

describe("typesCompatible", () => {
  it("follows the server's rule", () => {
    expect(typesCompatible("rectangle", "any")).toBe(true);
    expect(typesCompatible("rectangle", undefined)).toBe(true);
    expect(typesCompatible("unknown", "polygon")).toBe(true);
    expect(typesCompatible(undefined, "points")).toBe(true);
    expect(typesCompatible("rectangle", "rectangle")).toBe(true);
    expect(typesCompatible("mask", "polygon")).toBe(true);
    expect(typesCompatible("polygon", "mask")).toBe(true);
    expect(typesCompatible("rectangle", "polygon")).toBe(false);
    expect(typesCompatible("mask", "rectangle")).toBe(false);
  });
});

describe("the mapping", () => {
  const task = [label("clock"), label("sign"), label("car", "rectangle"), label("person", "rectangle"), label("head", "any", { parent_id: 4 })];

  it("starts with the model labels that match a task label by name and type, in the model's order", () => {
    expect(defaultMapping(model, task)).toEqual([
      { model: "person", task: "person" },
      { model: "clock", task: "clock" },
    ]); // "car" is a mask: the task's rectangle label cannot take it
  });

  it("offers the top-level task labels of a fitting type", () => {
    expect(targetsFor(model[3]!, task).map((l) => l.name)).toEqual(["clock", "sign"]);
    expect(targetsFor(model[1]!, task).map((l) => l.name)).toEqual(["clock", "sign", "car", "person"]);
  });

  it("adds, changes and removes rows; the unmapped model labels are the ones left to add", () => {
    let rows = defaultMapping(model, task);
    expect(unmappedLabels(model, rows).map((m) => m.name)).toEqual(["stop sign", "car"]);
    rows = setMapping(rows, "stop sign", "sign");
    expect(rows.at(-1)).toEqual({ model: "stop sign", task: "sign" });
    rows = setMapping(rows, "person", "sign");
    expect(rows).toEqual([
      { model: "person", task: "sign" },
      { model: "clock", task: "clock" },
      { model: "stop sign", task: "sign" },
    ]);
    rows = removeMapping(rows, "person");
    expect(rows.map((r) => r.model)).toEqual(["clock", "stop sign"]);
    expect(unmappedLabels(model, rows).map((m) => m.name)).toEqual(["person", "car"]);
  });

  it("is empty when no name matches", () => {
    expect(defaultMapping(model, [label("sign")])).toEqual([]);
  });
});

describe("the request", () => {
  const choice = {
    functionId: "yolox-nano",
    taskId: 7,
    threshold: 0.5,
    cleanup: true,
    convMaskToPoly: false,
    mapping: [
      { model: "clock", task: "clock" },
      { model: "stop sign", task: "sign" },
    ],
  };

  it("sends an explicit mapping and every option", () => {
    expect(requestBody(choice)).toEqual({
      function: "yolox-nano",
      task: 7,
      threshold: 0.5,
      cleanup: true,
      conv_mask_to_poly: false,
      mapping: { clock: { name: "clock" }, "stop sign": { name: "sign" } },
    });
    expect(requestBody({ ...choice, jobId: 9 }).job).toBe(9);
    expect("job" in requestBody(choice)).toBe(false);
  });

  it("says what is missing before it can be sent", () => {
    expect(choiceProblem(choice)).toBeNull();
    expect(choiceProblem({ ...choice, functionId: "" })).toMatch(/model/);
    expect(choiceProblem({ ...choice, threshold: 1.5 })).toMatch(/threshold/);
    expect(choiceProblem({ ...choice, threshold: Number.NaN })).toMatch(/threshold/);
    expect(choiceProblem({ ...choice, mapping: [] })).toMatch(/at least one label/);
    expect(choiceProblem({ ...choice, mapping: [{ model: "clock", task: "" }] })).toMatch(/every mapped/);
  });
});

describe("a running request", () => {
  it("is the newest active request of the task", () => {
    const calls = [
      call({ id: "a", status: "finished" }),
      call({ id: "b", function: { id: "x", task: 4, threshold: null } }),
      call({ id: "c", status: "queued" }),
    ];
    expect(runningCallOf(calls, 3)?.id).toBe("c");
    expect(runningCallOf(calls, 4)?.id).toBe("b");
    expect(runningCallOf(calls.slice(0, 1), 3)).toBeNull();
    expect(runningCallOf([], 3)).toBeNull();
  });

  it("reads as the task page shows it", () => {
    expect(callActive(call())).toBe(true);
    expect(callActive(call({ status: "failed" }))).toBe(false);
    expect(callPercent(call({ progress: 42 }))).toBe(42);
    expect(callPercent(call({ progress: null }))).toBe(0);
    expect(callPercent(call({ status: "finished", progress: 90 }))).toBe(100);
    expect(callSummary(call({ progress: 42 }))).toBe("Automatic annotation in progress: 42%");
    expect(callSummary(call({ status: "queued", progress: 0 }))).toBe("Automatic annotation queued…");
    expect(callSummary(call({ status: "finished" }))).toBe("Automatic annotation finished.");
    expect(callSummary(call({ status: "failed", exc_info: "Canceled by the user." }))).toBe("Automatic annotation canceled.");
    expect(callSummary(call({ status: "failed", exc_info: "The endpoint no-such-endpoint is missing." }))).toBe(
      "Automatic annotation failed: The endpoint no-such-endpoint is missing.",
    );
  });
});

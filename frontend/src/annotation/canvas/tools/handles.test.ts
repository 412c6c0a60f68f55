// The two tool lifecycles in handles.ts, driven through real tools (poly, skeleton, mask, rectangle)
// with Konva nodes in memory and a host whose pointer events are plain DOM events (screen = image).
import Konva from "konva";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { FrameElement, FrameObject } from "../../model";
import { frameObject } from "../../testing";
import type { DrawResult, EditResult, ToolHost } from "../types";
import { handleEditTool } from "./handles";
import { maskEditTool } from "./mask";
import { polyEditTool, polyTool } from "./poly";
import { rectangleTool } from "./rectangle";
import { skeletonEditTool } from "./skeleton";

type Change = Omit<EditResult, "clientId">;

interface FakeHost {
  host: ToolHost;
  layer: Konva.Group;
  container: EventTarget;
  captured(): boolean;
  redraws(): number;
}

function fakeHost(width = 100, height = 100): FakeHost {
  const layer = new Konva.Group();
  const container = Object.assign(new EventTarget(), { getBoundingClientRect: () => ({ left: 0, top: 0 }) });
  let captured = false;
  let redraws = 0;
  const host = {
    stage: { container: () => container },
    layer,
    toImage: (p: { x: number; y: number }) => ({ ...p }),
    toScreen: (p: { x: number; y: number }) => ({ ...p }),
    scale: () => 1,
    imageSize: () => ({ width, height }),
    clamp: (p: { x: number; y: number }) => ({ x: Math.min(width, Math.max(0, p.x)), y: Math.min(height, Math.max(0, p.y)) }),
    pointer: () => null,
    redraw: () => {
      redraws += 1;
    },
    capturePointer: (on: boolean) => {
      captured = on;
    },
  } as unknown as ToolHost;
  return { host, layer, container, captured: () => captured, redraws: () => redraws };
}

function mouse(type: string, x: number, y: number, more: { button?: number; altKey?: boolean; shiftKey?: boolean } = {}): Event {
  return Object.assign(new Event(type), { clientX: x, clientY: y, button: 0, altKey: false, shiftKey: false, preventDefault() {}, ...more });
}

/** A press on a Konva node, as the stage would fire it. */
function press(node: Konva.Node, x: number, y: number, more: { button?: number; altKey?: boolean } = {}): void {
  node.fire("mousedown", { evt: mouse("mousedown", x, y, more) }, true);
}

function moveTo(x: number, y: number): void {
  window.dispatchEvent(mouse("mousemove", x, y));
}

function release(x: number, y: number): void {
  window.dispatchEvent(mouse("mouseup", x, y));
}

function dragNode(node: Konva.Node, from: [number, number], to: [number, number]): void {
  press(node, ...from);
  moveTo((from[0] + to[0]) / 2, (from[1] + to[1]) / 2);
  moveTo(...to);
  release(...to);
}

function toolGroup(f: FakeHost): Konva.Group {
  const group = f.layer.getChildren()[0];
  if (!(group instanceof Konva.Group)) throw new Error("no tool group on the layer");
  return group;
}

function vertices(f: FakeHost): Konva.Circle[] {
  return toolGroup(f).getChildren().filter((n): n is Konva.Circle => n instanceof Konva.Circle);
}

function object(over: Partial<FrameObject>): FrameObject {
  return frameObject({ labelId: 7, ...over });
}

function element(labelId: number, x: number, y: number): FrameElement {
  return { labelId, type: "points", points: [x, y], occluded: false, outside: false };
}

/** `window` for the tools: listeners keyed by type and function (Node's EventTarget drops a boolean `capture` on removal). */
class FakeWindow {
  private listeners = new Map<string, Set<(e: Event) => void>>();
  addEventListener(type: string, fn: (e: Event) => void): void {
    const set = this.listeners.get(type) ?? new Set();
    set.add(fn);
    this.listeners.set(type, set);
  }
  removeEventListener(type: string, fn: (e: Event) => void): void {
    this.listeners.get(type)?.delete(fn);
  }
  dispatchEvent(e: Event): boolean {
    for (const fn of [...(this.listeners.get(e.type) ?? [])]) fn(e);
    return true;
  }
  count(): number {
    return [...this.listeners.values()].reduce((n, set) => n + set.size, 0);
  }
}

let fakeWindow = new FakeWindow();
beforeEach(() => {
  fakeWindow = new FakeWindow();
  vi.stubGlobal("window", fakeWindow);
});
afterEach(() => {
  vi.unstubAllGlobals();
});

describe("handleEditTool", () => {
  it("renders on attach and on updates, skips updates during a drag, and reports once per drag", () => {
    const f = fakeHost();
    let points: number[] = [];
    const renders: number[][] = [];
    const changes: Change[] = [];
    const tool = handleEditTool({
      load: (o) => {
        points = [...o.points];
      },
      result: () => ({ points, rotation: 0 }),
      render({ group, drag }) {
        renders.push(points);
        const node = new Konva.Rect({ x: points[0], y: points[1], width: 5, height: 5 });
        node.on("mousedown", (e) =>
          drag(e, {
            move(p, from) {
              points = [p.x - from.x, p.y - from.y];
            },
          }),
        );
        group.add(node);
      },
    });
    tool.attach(f.host, object({ points: [1, 2] }), "#ff0000", (c) => changes.push(c));
    expect(renders).toEqual([[1, 2]]);
    expect(f.layer.getChildren()).toHaveLength(1);

    const node = () => toolGroup(f).getChildren()[0]!;
    press(node(), 10, 10);
    expect(f.captured()).toBe(true);
    moveTo(15, 13);
    tool.update(object({ points: [50, 50] })); // ignored while the drag runs
    expect(renders.at(-1)).toEqual([5, 3]);
    release(20, 30);
    expect(f.captured()).toBe(false);
    expect(changes).toEqual([{ points: [10, 20], rotation: 0 }]);

    tool.update(object({ points: [50, 50] }));
    expect(renders.at(-1)).toEqual([50, 50]);
    expect(changes).toHaveLength(1);
  });

  it("dashes an occluded object's outline while it is selected, never its handles", () => {
    const f = fakeHost();
    const tool = polyEditTool("polygon");
    tool.attach(f.host, object({ points: [10, 10, 50, 10, 30, 40], occluded: true }), "#00ff00", () => {});
    const body = toolGroup(f).getChildren().find((n): n is Konva.Line => n instanceof Konva.Line);
    expect(body?.dash()).toEqual([6, 4]);
    expect(vertices(f).every((v) => !v.dash()?.length)).toBe(true);
    tool.update(object({ points: [10, 10, 50, 10, 30, 40], occluded: false }));
    const again = toolGroup(f).getChildren().find((n): n is Konva.Line => n instanceof Konva.Line);
    expect(again?.dash() ?? []).toEqual([]);
  });

  it("ignores a click without a move and presses of other buttons", () => {
    const f = fakeHost();
    const changes: Change[] = [];
    const tool = polyEditTool("polygon");
    tool.attach(f.host, object({ points: [10, 10, 50, 10, 30, 40] }), "#00ff00", (c) => changes.push(c));
    press(vertices(f)[0]!, 10, 10);
    release(11, 10);
    press(vertices(f)[0]!, 10, 10, { button: 1 });
    moveTo(40, 40);
    release(40, 40);
    expect(changes).toEqual([]);
    expect(f.captured()).toBe(false);
  });

  it("detach mid-drag stops the drag, releases the pointer and removes the nodes", () => {
    const f = fakeHost();
    const changes: Change[] = [];
    const tool = polyEditTool("polyline");
    tool.attach(f.host, object({ type: "polyline", points: [10, 10, 50, 10] }), "#00ff00", (c) => changes.push(c));
    press(vertices(f)[0]!, 10, 10);
    moveTo(30, 30);
    tool.detach();
    release(30, 30);
    expect(changes).toEqual([]);
    expect(f.captured()).toBe(false);
    expect(f.layer.getChildren()).toHaveLength(0);
    expect(fakeWindow.count()).toBe(0);
  });
});

describe("edit tools on handleEditTool", () => {
  it("polygon: a vertex drag is clamped to the frame; Alt+click removes a vertex above the minimum", () => {
    const f = fakeHost();
    const changes: Change[] = [];
    const tool = polyEditTool("polygon");
    tool.attach(f.host, object({ points: [10, 10, 50, 10, 50, 40, 10, 40] }), "#00ff00", (c) => changes.push(c));
    dragNode(vertices(f)[0]!, [10, 10], [-20, 5]);
    expect(changes.at(-1)).toEqual({ points: [0, 5, 50, 10, 50, 40, 10, 40], rotation: 0 });

    press(vertices(f)[3]!, 10, 40, { altKey: true });
    expect(changes.at(-1)).toEqual({ points: [0, 5, 50, 10, 50, 40], rotation: 0 });
    press(vertices(f)[2]!, 50, 40, { altKey: true }); // a triangle keeps its three
    expect(changes).toHaveLength(2);
    expect(vertices(f)).toHaveLength(3);
  });

  it("skeleton: a node drag moves that element only, and the result carries every element", () => {
    const f = fakeHost();
    const changes: Change[] = [];
    const tool = skeletonEditTool();
    tool.attach(f.host, object({ type: "skeleton", elements: [element(2, 10, 10), element(3, 30, 10)] }), "#0000ff", (c) => changes.push(c));
    dragNode(vertices(f)[1]!, [30, 10], [35, 20]);
    expect(changes).toEqual([
      {
        points: [],
        rotation: 0,
        elements: [
          { labelId: 2, points: [10, 10], outside: false },
          { labelId: 3, points: [35, 20], outside: false },
        ],
      },
    ]);
  });

  it("mask: a box drag moves the mask by whole pixels inside the frame", () => {
    const f = fakeHost(100, 100);
    const changes: Change[] = [];
    // RLE of a 2x2 box at (10, 20)-(11, 21): four set pixels
    const tool = maskEditTool();
    tool.attach(f.host, object({ type: "mask", points: [0, 4, 10, 20, 11, 21] }), "#ff00ff", (c) => changes.push(c));
    const box = toolGroup(f).getChildren()[0]!;
    dragNode(box, [10, 20], [13.4, 22.6]);
    expect(changes).toEqual([{ points: [0, 4, 13, 23, 14, 24], rotation: 0 }]);
    expect((toolGroup(f).getChildren()[0] as Konva.Rect).position()).toEqual({ x: 13, y: 23 });
  });
});

describe("drawTool", () => {
  function click(f: FakeHost, x: number, y: number): void {
    f.container.dispatchEvent(mouse("mousedown", x, y));
    release(x, y);
  }

  it("polyline: clicks add points, finish reports once and tears down; a destroyed tool refuses", () => {
    const f = fakeHost();
    const results: (DrawResult | null)[] = [];
    const tool = polyTool("polyline");
    tool.start(f.host, { type: "polyline", labelId: 4, color: "#123456" } as Parameters<typeof tool.start>[1], (r) => results.push(r));
    expect(tool.finish()).toBe(false); // no points yet
    click(f, 10, 10);
    click(f, 10, 10); // a double-click's second click adds nothing
    click(f, 40, 20);
    click(f, 60, 20);
    expect(tool.undoPoint?.()).toBe(true);
    expect(tool.finish()).toBe(true);
    expect(results).toEqual([{ type: "polyline", labelId: 4, points: [10, 10, 40, 20], rotation: 0 }]);
    expect(f.layer.getChildren()).toHaveLength(0);
    click(f, 80, 80); // listeners are off
    expect(tool.finish()).toBe(false);
    expect(tool.undoPoint?.()).toBe(false);
    expect(results).toHaveLength(1);

    const other = polyTool("points");
    other.start(f.host, { type: "points", labelId: 4, color: "#123456" } as Parameters<typeof other.start>[1], (r) => results.push(r));
    click(f, 5, 5);
    other.destroy();
    expect(other.finish()).toBe(false);
    expect(results).toHaveLength(1);
    expect(f.layer.getChildren()).toHaveLength(0);
    expect(fakeWindow.count()).toBe(0);
  });

  it("rectangle: holds the pointer while drawing, a drag gives the box, then the pointer is released", () => {
    const f = fakeHost();
    const results: (DrawResult | null)[] = [];
    const tool = rectangleTool();
    tool.start(f.host, { type: "rectangle", labelId: 4, color: "#123456" } as Parameters<typeof tool.start>[1], (r) => results.push(r));
    expect(f.captured()).toBe(true);
    f.container.dispatchEvent(mouse("mousedown", 10, 10));
    moveTo(30, 25);
    moveTo(120, 40);
    release(120, 40);
    expect(results).toEqual([{ type: "rectangle", labelId: 4, points: [10, 10, 100, 40], rotation: 0 }]);
    expect(f.captured()).toBe(false);
    expect(f.layer.getChildren()).toHaveLength(0);
  });
});

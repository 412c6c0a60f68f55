// What every tool shares: pointer input in image coordinates (DOM events on the stage's container
// and on window, so a drag that leaves the canvas still ends), drag gestures that hold the engine's
// panning off, and handles drawn at a constant screen size whatever the zoom.
import Konva from "konva";
import type { Point, ToolHost } from "../types";

/** Handle radius and stroke in screen pixels. */
export const HANDLE_PX = 5;
export const STROKE_PX = 1.5;
/** CVAT's shift-drag step for polygons and polylines, in screen pixels. */
export const SHIFT_STEP_PX = 5;
/** A press that moves less than this (screen px) before its release is a click. */
export const CLICK_SLOP_PX = 3;
const HANDLE_NAME = "tool-handle";

export interface PointerInfo {
  image: Point; // not clamped
  screen: Point;
  shift: boolean;
  alt: boolean;
  button: number;
  event: MouseEvent;
}

export function pointerInfo(host: ToolHost, event: MouseEvent): PointerInfo {
  const rect = host.stage.container().getBoundingClientRect();
  const screen = { x: event.clientX - rect.left, y: event.clientY - rect.top };
  return { image: host.toImage(screen), screen, shift: event.shiftKey, alt: event.altKey, button: event.button, event };
}

export interface PointerHandlers {
  down?(p: PointerInfo): void;
  move?(p: PointerInfo): void;
  up?(p: PointerInfo): void;
  dblclick?(p: PointerInfo): void;
  contextmenu?(p: PointerInfo): void;
}

/** Presses, double-clicks and context menus on the canvas; moves and releases anywhere. Returns the off switch. */
export function listenPointer(host: ToolHost, handlers: PointerHandlers): () => void {
  const container = host.stage.container();
  const wrap = (fn: ((p: PointerInfo) => void) | undefined) => (event: MouseEvent) => fn?.(pointerInfo(host, event));
  const down = wrap(handlers.down);
  const move = wrap(handlers.move);
  const up = wrap(handlers.up);
  const dbl = wrap(handlers.dblclick);
  const menu = (event: MouseEvent) => {
    if (!handlers.contextmenu) return;
    event.preventDefault();
    handlers.contextmenu(pointerInfo(host, event));
  };
  container.addEventListener("mousedown", down);
  container.addEventListener("dblclick", dbl);
  container.addEventListener("contextmenu", menu);
  window.addEventListener("mousemove", move, true);
  window.addEventListener("mouseup", up, true);
  return () => {
    container.removeEventListener("mousedown", down);
    container.removeEventListener("dblclick", dbl);
    container.removeEventListener("contextmenu", menu);
    window.removeEventListener("mousemove", move, true);
    window.removeEventListener("mouseup", up, true);
  };
}

/**
 * A drag that began on a tool's node: panning is held off until the release; `move` gets every
 * pointer move (for live feedback on the layer), `end` the release once (the one `changed`).
 */
export function startGesture(host: ToolHost, start: Point, handlers: { move(p: Point, info: PointerInfo): void; end(p: Point, moved: boolean, info: PointerInfo): void }): () => void {
  host.capturePointer(true);
  let moved = false;
  const startScreen = host.toScreen(start);
  const off = listenPointer(host, {
    move(info) {
      if (!moved && Math.hypot(info.screen.x - startScreen.x, info.screen.y - startScreen.y) < CLICK_SLOP_PX) return;
      moved = true;
      handlers.move(info.image, info);
    },
    up(info) {
      stop();
      handlers.end(info.image, moved, info);
    },
  });
  const stop = () => {
    off();
    host.capturePointer(false);
  };
  return stop;
}

/** The pointer's image position of a Konva event (the stage's pointer, or the DOM event's). */
export function eventImage(host: ToolHost, e: Konva.KonvaEventObject<MouseEvent>): Point {
  return host.pointer() ?? pointerInfo(host, e.evt).image;
}

export function makeHandle(host: ToolHost, p: Point, color: string, shape: "circle" | "square" = "circle"): Konva.Shape {
  const size = HANDLE_PX / host.scale();
  const common = { stroke: color, fill: "#ffffff", strokeWidth: STROKE_PX, strokeScaleEnabled: false, name: HANDLE_NAME };
  if (shape === "square") {
    return new Konva.Rect({ ...common, x: p.x, y: p.y, width: size * 1.4, height: size * 1.4, offsetX: size * 0.7, offsetY: size * 0.7, opacity: 0.8 });
  }
  return new Konva.Circle({ ...common, x: p.x, y: p.y, radius: size });
}

function resizeHandles(host: ToolHost, root: Konva.Container): void {
  const size = HANDLE_PX / host.scale();
  for (const node of root.find(`.${HANDLE_NAME}`)) {
    if (node instanceof Konva.Circle) node.radius(size);
    else if (node instanceof Konva.Rect) node.setAttrs({ width: size * 1.4, height: size * 1.4, offsetX: size * 0.7, offsetY: size * 0.7 });
  }
}

let nextNamespace = 1;
/** Handles under `root` keep their screen size as the engine zooms (checked before every draw). */
export function keepHandleSize(host: ToolHost, root: Konva.Container): () => void {
  const event = `beforeDraw.toolhandles${nextNamespace++}`;
  let scale = host.scale();
  host.layer.on(event, () => {
    const now = host.scale();
    if (now === scale) return;
    scale = now;
    resizeHandles(host, root);
  });
  return () => host.layer.off(event);
}

/** The shared look of a shape being drawn or edited (stroke width constant on screen). */
export function outlineStyle(color: string, fillOpacity = 0.15): Konva.ShapeConfig {
  return { stroke: color, strokeWidth: STROKE_PX, strokeScaleEnabled: false, fill: withAlpha(color, fillOpacity), hitStrokeWidth: 8 };
}

/** `#rrggbb` (or `#rgb`) with an alpha; other CSS colours are returned as they are. */
export function withAlpha(color: string, alpha: number): string {
  const hex = /^#([0-9a-f]{3}|[0-9a-f]{6})$/i.exec(color.trim());
  if (!hex) return color;
  let h = hex[1]!;
  if (h.length === 3) h = h.split("").map((c) => c + c).join("");
  const n = parseInt(h, 16);
  return `rgba(${(n >> 16) & 255}, ${(n >> 8) & 255}, ${n & 255}, ${alpha})`;
}

export function clampAll(host: ToolHost, points: readonly number[]): number[] {
  const out: number[] = [];
  for (let i = 0; i + 1 < points.length; i += 2) {
    const p = host.clamp({ x: points[i]!, y: points[i + 1]! });
    out.push(p.x, p.y);
  }
  return out;
}

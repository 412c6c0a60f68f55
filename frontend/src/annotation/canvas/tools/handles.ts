// What every tool shares: pointer input in image coordinates (DOM events on the stage's container
// and on window, so a drag that leaves the canvas still ends), drag gestures that hold the engine's
// panning off, handles drawn at a constant screen size whatever the zoom, and the two lifecycles:
// a draw tool's start and teardown (`drawTool`), an edit tool's attach, update and detach around
// nodes it re-renders (`handleEditTool`).
import Konva from "konva";
import type { FrameObject } from "../../model";
import type { DrawRequest, DrawResult, DrawTool, EditResult, EditTool, Point, ToolHost } from "../types";

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
      if (!moved && isClick(startScreen, info.screen)) return;
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

/** A press at `press` released at `release` (screen px) is a click, not a drag or a pan. */
export function isClick(press: Point, release: Point): boolean {
  return Math.hypot(release.x - press.x, release.y - press.y) < CLICK_SLOP_PX;
}

/** Whether a click (screen px) falls on the last of `points` (image): a double-click's second click. */
export function onLastPoint(host: ToolHost, points: readonly number[], screen: Point): boolean {
  const n = points.length;
  if (n < 2) return false;
  const last = host.toScreen({ x: points[n - 2]!, y: points[n - 1]! });
  return Math.hypot(last.x - screen.x, last.y - screen.y) < 2;
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

/** What a draw tool sets going when it starts. */
export interface DrawSteps {
  pointer: PointerHandlers;
  /** Enter/N: finish now if the shape is complete enough (default: false) */
  finish?(): boolean;
  /** Backspace: drop the last point (default: false, nothing to drop) */
  undoPoint?(): boolean;
  /** more to undo at the end, after the listeners are off */
  teardown?(): void;
}

export interface DrawSession {
  readonly host: ToolHost;
  /** the preview, on the tool layer, not listening */
  readonly group: Konva.Group;
  /** the drawing ended: done, or destroyed */
  readonly ended: boolean;
  /** ends the drawing (listeners off, preview gone, pointer released), then `done(result)`; once */
  end(result: DrawResult | null): void;
}

/**
 * A draw tool's lifecycle: each start gets a fresh session; finish and undo are refused once it
 * ended. `capture`: every left press belongs to the drawing (it never pans) until the end.
 */
export function drawTool(options: { capture: boolean }, begin: (session: DrawSession, request: DrawRequest) => DrawSteps): DrawTool {
  let live: { session: DrawSession; steps: DrawSteps; stop(): void } | null = null;
  const running = () => (live && !live.session.ended ? live.steps : null);

  return {
    start(host, request, done) {
      let ended = false;
      let off: (() => void) | null = null;
      let steps: DrawSteps | null = null;
      const group = new Konva.Group({ listening: false });
      host.layer.add(group);
      if (options.capture) host.capturePointer(true);
      const stop = () => {
        if (ended) return;
        ended = true;
        off?.();
        steps?.teardown?.();
        group.destroy();
        if (options.capture) host.capturePointer(false);
        host.redraw();
      };
      const session: DrawSession = {
        host,
        group,
        get ended() {
          return ended;
        },
        end(result) {
          if (ended) return;
          stop();
          done(result);
        },
      };
      steps = begin(session, request);
      off = listenPointer(host, steps.pointer);
      live = { session, steps, stop };
    },
    finish: () => running()?.finish?.() ?? false,
    undoPoint: () => running()?.undoPoint?.() ?? false,
    destroy() {
      live?.stop();
    },
  };
}

type EditChange = Omit<EditResult, "clientId">;

/** What an edit tool made of handles keeps in its closure: how it loads, draws and reports its state. */
export interface HandleEditSpec {
  /** the object's geometry into the state (on attach, and on updates from outside between drags) */
  load(object: FrameObject): void;
  /** draws the state into `session.group` (emptied before, redrawn after) */
  render(session: EditSession): void;
  /** the state as the edit's result */
  result(): EditChange;
}

export interface DragSteps {
  /** the state for the pointer at `p` (the drag began at `from`); drawn again after each move */
  move(p: Point, from: Point): void;
  /** the release; by default, after a move: `move` to the release point and `commit` */
  end?(p: Point, moved: boolean, from: Point): void;
}

export interface EditSession {
  readonly host: ToolHost;
  readonly group: Konva.Group;
  readonly color: string;
  /** draws the state again */
  render(): void;
  /** draws the state again and reports it: a gesture's one `changed` */
  commit(): void;
  /** a left press on a node starts a drag (other buttons: nothing); updates wait for its end */
  drag(e: Konva.KonvaEventObject<MouseEvent>, steps: DragSteps): void;
}

/** An edit tool whose group of nodes and handles is drawn again from its state on every change. */
/** CVAT's dash for occluded shapes (screen px, as the engine draws the unselected ones). */
export const OCCLUDED_DASH = [6, 4];

/** Dashes the outlines under `root` (not the handles) when the object is occluded. */
export function dashOccluded(root: Konva.Container, occluded: boolean): void {
  if (!occluded) return;
  const outlines = root.find((n: Konva.Node) => n instanceof Konva.Shape && !n.hasName(HANDLE_NAME) && !(n instanceof Konva.Image) && !n.dash()?.length);
  for (const node of outlines) (node as Konva.Shape).dash(OCCLUDED_DASH);
}

export function handleEditTool(spec: HandleEditSpec): EditTool {
  let session: EditSession | null = null;
  let occluded = false;
  let stopGesture: (() => void) | null = null;
  let unsize: (() => void) | null = null;

  return {
    attach(host, object, color, changed) {
      spec.load(object);
      occluded = object.occluded;
      const group = new Konva.Group();
      host.layer.add(group);
      unsize = keepHandleSize(host, group);
      const s: EditSession = {
        host,
        group,
        color,
        render() {
          if (session !== s) return;
          group.destroyChildren();
          spec.render(s);
          dashOccluded(group, occluded);
          host.redraw();
        },
        commit() {
          s.render();
          changed(spec.result());
        },
        drag(e, steps) {
          if (e.evt.button !== 0) return;
          e.cancelBubble = true;
          const from = eventImage(host, e);
          stopGesture = startGesture(host, from, {
            move(p) {
              steps.move(p, from);
              s.render();
            },
            end(p, moved) {
              stopGesture = null;
              if (steps.end) steps.end(p, moved, from);
              else if (moved) {
                steps.move(p, from);
                s.commit();
              }
            },
          });
        },
      };
      session = s;
      s.render();
    },
    update(object) {
      if (stopGesture || !session) return;
      spec.load(object);
      occluded = object.occluded;
      session.render();
    },
    detach() {
      stopGesture?.();
      stopGesture = null;
      unsize?.();
      unsize = null;
      const s = session;
      session = null;
      s?.group.destroy();
      s?.host.redraw();
    },
  };
}

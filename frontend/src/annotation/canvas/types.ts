// The canvas engine's contracts: what the workspace asks of the engine (`Engine` in engine.ts
// implements it), and what the draw and edit tools get from the engine (`ToolHost`). Coordinates
// are image pixels unless a name says "screen". Nothing here imports React.
import type Konva from "konva";
import type { FrameObject, ObjectView, ShapeType } from "../model";

export interface Point {
  x: number;
  y: number;
}

/** screen = image * scale + (x, y), in CSS pixels of the canvas container. */
export interface ViewTransform {
  scale: number;
  x: number;
  y: number;
}

/** A skeleton label's template, parsed from its SVG (`lib` of the tools: skeletonTemplate()). */
export interface SkeletonTemplate {
  nodes: { labelId: number; x: number; y: number }[]; // template coordinates, 0..100
  edges: [number, number][]; // indexes into nodes
}

export interface DrawRequest {
  type: ShapeType;
  labelId: number;
  color: string;
  /** rectangles: by two corners (default) or four extreme points (CVAT's "By 4 points"). */
  rectangleBy?: "2points" | "4points";
  /** polygons, polylines, points: finish by itself after this many points (0: with N / Enter / double-click). */
  pointsCount?: number;
  /** cuboids: CVAT draws them "from rectangle" (a box, then the depth offset); the only mode here. */
  skeleton?: SkeletonTemplate;
  /** masks: the brush size in image pixels. */
  brushSize?: number;
  /**
   * masks: start from this mask (CVAT mask points: RLE + left, top, right, bottom) to edit an
   * existing one: its pixels are shown and painted on (brush adds, eraser or Shift removes, polygons
   * add), and the `drawn` result (the whole mask, re-encoded and cropped) replaces it. Nothing
   * painted gives the same points back. When everything is erased, finish() returns false (an empty
   * mask is not a mask): Escape cancels the edit; deleting the object is the workspace's call.
   */
  initialMask?: readonly number[];
}

/** A finished drawing, in CVAT's points encoding for its type (masks: RLE + [left, top, right, bottom]). */
export interface DrawResult {
  type: ShapeType;
  labelId: number;
  points: number[];
  rotation: number;
  elements?: { labelId: number; points: [number, number]; outside: boolean }[];
}

/** An edited shape's new geometry (the workspace turns it into an undoable change). */
export interface EditResult {
  clientId: number;
  points: number[];
  rotation: number;
  elements?: { labelId: number; points: [number, number]; outside: boolean }[];
}

export interface IssueMarker {
  id: number;
  points: number[]; // a rectangle x1,y1,x2,y2 (CVAT's issue position)
  resolved: boolean;
  selected?: boolean;
}

export interface EngineEvents {
  /** additive: Ctrl (Cmd) was held: add the object to (or take it out of) a multiple selection */
  select(clientId: number | null, additive?: boolean): void;
  hover(clientId: number | null): void;
  drawn(result: DrawResult): void;
  drawCancelled(): void;
  edited(result: EditResult): void;
  /** a rectangle dragged out in region mode (a new review issue) */
  region(points: [number, number, number, number]): void;
  issueClicked(id: number): void;
  view(transform: ViewTransform): void;
  pointer(image: Point | null): void;
  contextMenu(clientId: number | null, screen: Point): void;
}

export interface Appearance {
  opacity: number; // fill opacity of shapes, 0..1 (CVAT's default 0.1... we use 0.15)
  selectedOpacity: number; // fill opacity of the selected shape
  outlineWidth: number; // screen pixels
  showText: boolean; // label names beside every shape (when fewer than 300 are in view; the selected and hovered always)
}

export interface ImageFilters {
  brightness: number; // 100 = as is (percent, CSS filter)
  contrast: number;
  saturation: number;
}

export type Mode = "idle" | "draw" | "region";

/** What the workspace drives. */
export interface Engine {
  setFrame(image: CanvasImageSource | null, width: number, height: number): void;
  /** The frame's objects, any order (the engine sorts by zOrder). */
  setObjects(objects: readonly FrameObject[], colorOf: (labelId: number) => string, views: ReadonlyMap<number, ObjectView>): void;
  select(clientId: number | null): void;
  selected(): number | null;
  fit(): void;
  zoomBy(factor: number, screenCenter?: Point): void;
  transform(): ViewTransform;
  setFilters(filters: ImageFilters): void;
  setAppearance(appearance: Partial<Appearance>): void;
  setIssues(markers: readonly IssueMarker[]): void;
  startDraw(request: DrawRequest): void;
  startRegion(): void;
  cancel(): void; // ends draw or region mode (drawCancelled fires for a draw)
  /** Enter/N while drawing a polygon-like shape: finish it (false: nothing to finish). */
  finishDraw(): boolean;
  mode(): Mode;
  pick(image: Point): number | null;
  resize(): void;
  destroy(): void;
}

/** What a draw or edit tool gets from the engine. Tools draw on `layer` only. */
export interface ToolHost {
  readonly stage: Konva.Stage;
  /** the interaction layer: listening, transformed like the image (image coordinates) */
  readonly layer: Konva.Layer;
  toImage(screen: Point): Point;
  toScreen(image: Point): Point;
  /** screen pixels per image pixel: handles are drawn `size / scale()` so they look constant */
  scale(): number;
  imageSize(): { width: number; height: number };
  /** the point kept inside the frame */
  clamp(p: Point): Point;
  /** the pointer's image coordinates now (null: outside the stage) */
  pointer(): Point | null;
  redraw(): void;
  /** while true, a left-button drag does not pan the view */
  capturePointer(on: boolean): void;
}

export interface DrawTool {
  /** `done(null)` cancels. */
  start(host: ToolHost, request: DrawRequest, done: (result: DrawResult | null) => void): void;
  /** Enter/N: finish now if the shape is complete enough; false otherwise. */
  finish(): boolean;
  /** Backspace/Ctrl+Z while drawing: drop the last point (false: nothing to drop). */
  undoPoint?(): boolean;
  destroy(): void;
}

export interface EditTool {
  attach(host: ToolHost, object: FrameObject, color: string, changed: (result: Omit<EditResult, "clientId">) => void): void;
  /** the object changed from outside (undo, another frame of a track): show its new geometry */
  update(object: FrameObject): void;
  detach(): void;
}

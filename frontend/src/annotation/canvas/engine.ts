// The annotation canvas engine: Konva 10 core driven imperatively (no react-konva), implementing
// the `Engine` contract of ./types for the workspace and hosting the draw/edit tools of ./tools.
//
// Canvas: four Konva layers in one stage that fills the container. The image layer holds the frame
// bitmap (brightness/contrast/saturation are a CSS filter on its canvas, never a pixel pass). The
// static layer holds every drawn object except the selected one, with listening(false),
// perfectDraw and stroke shadows off and strokeScaleEnabled(false) (outlines keep their screen
// width). Only objects whose bounding boxes intersect the visible rectangle (plus a margin) are
// Konva nodes: an rbush index (scene.ts) answers that query after each settled view change, and
// nodes are reused while an object's value is unchanged. Hover and click picking go through the
// same index plus exact geometry (geometry.ts `hit`, smallest area first), never Konva's hit canvas,
// so 1,000+ shapes cost no hit-graph pass. During a wheel zoom or a drag pan the image and static
// layers are not redrawn: their canvases, as rendered at the gesture's start, are moved by a CSS
// transform (constant cost per frame whatever the shape count), and about 100 ms after the gesture
// ends they are re-rendered crisp at the final view (in ~10 ms time slices over several frames
// when more than 1,500 objects are visible, so input never waits for a full software raster).
// The engine alone draws those two layers (their Konva auto-redraw is off). The interaction layer
// (listening) holds the selected object with its edit tool, the draw tools and the single
// hover-outline node; the issues layer holds review markers. Masks are decoded once per points
// array into a canvas (WeakMap).
//
// Label text (CVAT's: the label name, "car #12 (track)" for tracks; scene.ts `labelText`) is drawn
// at a constant screen size just above the object's bbox top-left: for the selected and hovered
// objects always, on the interaction layer; for every other culled object only when
// `Appearance.showText` is on and fewer than TEXT_LIMIT (300) objects are in the viewport, on the
// static layer, so it is culled with the shapes and moves with the cached bitmap during gestures.
// Past that count text would cost a large part of the re-render (a measured, stroked fillText per
// object) for labels too dense to read, so only the selected/hovered ones keep theirs.
import Konva from "konva";
import { area as geometryArea, hit as geometryHit } from "../geometry";
import type { FrameObject, ObjectView } from "../model";
import { keyboardPointer } from "./keyboardPointer";
import { maskCanvas } from "./maskBitmap";
import { drawToolFor, editToolFor, regionTool } from "./tools";
import { SceneIndex, drawOrder, isDrawable, labelText, objectBounds, showAllText } from "./scene";
import type {
  Appearance,
  DrawRequest,
  DrawResult,
  DrawTool,
  EditTool,
  Engine,
  EngineEvents,
  ImageFilters,
  IssueMarker,
  Mode,
  Point,
  ToolHost,
  ViewTransform,
} from "./types";
import { type Size, cssMatrix, fitView, panBy, relativeTransform, toImage, toScreen, visibleRect, zoomAbout } from "./view";

/** What the engine offers beyond the `Engine` contract. */
export interface EngineExtras {
  /** A skeleton label's edges (indexes into its elements) so skeletons are drawn with lines. */
  setSkeletonEdges(labelId: number, edges: readonly (readonly [number, number])[]): void;
  /** Colour objects by their group (ungrouped ones keep their label colour). */
  setColorByGroup(on: boolean): void;
  /** Backspace while drawing: the draw tool drops its last point (false: nothing to drop). */
  undoPoint(): boolean;
  /** How many objects are Konva nodes on the static layer now (the culled set). */
  renderedCount(): number;
  /** While drawing or in region mode: arrows move a crosshair, "click" clicks at it (false: not now). */
  keyboardPointer(key: "left" | "right" | "up" | "down" | "click", fast: boolean): boolean;
  /** Label names by label id, for the text beside objects (unknown ids show "label <id>"). */
  setLabelNames(names: ReadonlyMap<number, string>): void;
}

export type CanvasEngine = Engine & EngineExtras;

const SETTLE_MS = 100;
const SYNC_DRAW_LIMIT = 1500; // more visible objects than this are drawn in time slices
const SLICE_MS = 10;
const CULL_MARGIN = 0.25; // of the viewport, each side: small pans show no empty border
const PICK_TOLERANCE_PX = 4;
const POINT_RADIUS_PX = 4;
const DRAG_THRESHOLD_PX = 3;
const OCCLUDED_DASH = [6, 4];
const TEXT_FONT_PX = 12;
const TEXT_GAP_PX = 3; // between the text's baseline and the bbox top

const DEFAULT_APPEARANCE: Appearance = { opacity: 0.15, selectedOpacity: 0.35, outlineWidth: 2, showText: false };

interface Style {
  color: string;
  fill: string | undefined;
  strokeWidth: number;
  radius: () => number; // image pixels, for points and skeleton nodes
}

type Edges = readonly (readonly [number, number])[];
type ColorOf = (labelId: number) => string;

interface CachedNode {
  object: FrameObject;
  color: string;
  version: number;
  node: Konva.Shape;
}

/** What the static layer was last drawn from: an object change that leaves it all the same (the
 * selected object's edits: it is on the interaction layer) need not draw it again. */
interface DrawnStatic {
  view: ViewTransform;
  objects: FrameObject[];
  colors: string[];
  version: number;
  showAll: boolean;
  names: ReadonlyMap<number, string>;
}

interface CachedText {
  object: FrameObject;
  text: string;
  node: Konva.Text;
}

/** `color` with alpha `a` (hex colours; others are returned as they are). */
export function withAlpha(color: string, a: number): string {
  const hex = /^#([0-9a-f]{3}|[0-9a-f]{6})$/i.exec(color.trim());
  if (!hex?.[1]) return color;
  const h = hex[1].length === 3 ? [...hex[1]].map((c) => c + c).join("") : hex[1];
  const n = Number.parseInt(h, 16);
  return `rgba(${(n >> 16) & 255}, ${(n >> 8) & 255}, ${n & 255}, ${a})`;
}

function groupColor(group: number, a: number): string {
  return `hsla(${Math.round((group * 137.508) % 360)}, 85%, 50%, ${a})`;
}


function pairs(points: readonly number[], count: number): Point[] {
  const out: Point[] = [];
  for (let i = 0; i < count && 2 * i + 1 < points.length; i++) out.push({ x: points[2 * i] as number, y: points[2 * i + 1] as number });
  return out;
}

function cuboidNode(o: FrameObject): Konva.Shape {
  const p = pairs(o.points, 8);
  // CVAT's layout: four vertical edges (0-1 front left, 2-3 front right, 4-5 back right, 6-7 back left)
  const faces = [
    [0, 2, 3, 1],
    [2, 4, 5, 3],
  ];
  const edges = [[0, 1], [2, 3], [4, 5], [6, 7], [0, 2], [2, 4], [4, 6], [6, 0], [1, 3], [3, 5], [5, 7], [7, 1]];
  return new Konva.Shape({
    sceneFunc(ctx, shape) {
      if (p.length < 8) return;
      ctx.beginPath();
      for (const face of faces) {
        face.forEach((i, k) => {
          const q = p[i] as Point;
          if (k === 0) ctx.moveTo(q.x, q.y);
          else ctx.lineTo(q.x, q.y);
        });
        ctx.closePath();
      }
      ctx.fillShape(shape);
      ctx.beginPath();
      for (const [a, b] of edges) {
        const qa = p[a as number] as Point;
        const qb = p[b as number] as Point;
        ctx.moveTo(qa.x, qa.y);
        ctx.lineTo(qb.x, qb.y);
      }
      ctx.strokeShape(shape);
    },
  });
}

function pointsNode(points: readonly number[], radius: () => number): Konva.Shape {
  const p = pairs(points, points.length / 2);
  return new Konva.Shape({
    sceneFunc(ctx, shape) {
      const r = radius();
      ctx.beginPath();
      for (const q of p) {
        ctx.moveTo(q.x + r, q.y);
        ctx.arc(q.x, q.y, r, 0, 2 * Math.PI);
      }
      ctx.fillStrokeShape(shape);
    },
  });
}

function skeletonNode(o: FrameObject, edges: Edges, colorOf: ColorOf, radius: () => number): Konva.Shape {
  const els = o.elements;
  return new Konva.Shape({
    sceneFunc(ctx, shape) {
      ctx.beginPath();
      for (const [a, b] of edges) {
        const ea = els[a];
        const eb = els[b];
        if (!ea || !eb || ea.outside || eb.outside || ea.points.length < 2 || eb.points.length < 2) continue;
        ctx.moveTo(ea.points[0] as number, ea.points[1] as number);
        ctx.lineTo(eb.points[0] as number, eb.points[1] as number);
      }
      ctx.strokeShape(shape);
      const r = radius();
      for (const e of els) {
        if (e.outside || e.points.length < 2) continue;
        const x = e.points[0] as number;
        const y = e.points[1] as number;
        ctx.beginPath();
        ctx.moveTo(x + r, y);
        ctx.arc(x, y, r, 0, 2 * Math.PI);
        ctx.setAttr("fillStyle", colorOf(e.labelId));
        ctx.fill();
        ctx.strokeShape(shape);
      }
    },
  });
}

/** The Konva node that draws one object (not yet styled: see styleNode). */
function objectNode(o: FrameObject, style: Style, edgesOf: (labelId: number) => Edges, colorOf: ColorOf): Konva.Shape {
  const p = o.points;
  switch (o.type) {
    case "rectangle": {
      const x1 = Math.min(p[0] ?? 0, p[2] ?? 0);
      const y1 = Math.min(p[1] ?? 0, p[3] ?? 0);
      const w = Math.abs((p[2] ?? 0) - (p[0] ?? 0));
      const h = Math.abs((p[3] ?? 0) - (p[1] ?? 0));
      return new Konva.Rect({ x: x1 + w / 2, y: y1 + h / 2, width: w, height: h, offsetX: w / 2, offsetY: h / 2, rotation: o.rotation });
    }
    case "ellipse": {
      const cx = p[0] ?? 0;
      const cy = p[1] ?? 0;
      return new Konva.Ellipse({ x: cx, y: cy, radiusX: Math.abs((p[2] ?? cx) - cx), radiusY: Math.abs(cy - (p[3] ?? cy)), rotation: o.rotation });
    }
    case "polygon":
      return new Konva.Line({ points: [...p], closed: true });
    case "polyline":
      return new Konva.Line({ points: [...p], closed: false });
    case "points":
      return pointsNode(p, style.radius);
    case "cuboid":
      return cuboidNode(o);
    case "skeleton":
      return skeletonNode(o, edgesOf(o.labelId), colorOf, style.radius);
    case "mask": {
      const m = maskCanvas(p, style.color);
      if (!m) return new Konva.Shape({});
      return new Konva.Image({ image: m.canvas, x: m.left, y: m.top, width: m.canvas.width, height: m.canvas.height });
    }
  }
}

function styleNode(node: Konva.Shape, o: FrameObject, style: Style): void {
  node.listening(false);
  node.perfectDrawEnabled(false);
  node.shadowForStrokeEnabled(false);
  node.strokeScaleEnabled(false);
  if (o.type === "mask") return;
  node.stroke(style.color);
  node.strokeWidth(style.strokeWidth);
  const fill = o.type === "polyline" ? undefined : o.type === "points" ? style.color : style.fill;
  if (fill) node.fill(fill);
  if (o.occluded) node.dash(OCCLUDED_DASH);
}

/** An outline-only copy for hover (thicker, no fill); masks get their box. */
function outlineNode(
  o: FrameObject,
  color: string,
  width: number,
  edgesOf: (labelId: number) => Edges,
  colorOf: ColorOf,
  radius: () => number,
): Konva.Shape {
  let node: Konva.Shape;
  if (o.type === "mask") {
    const b = objectBounds(o);
    node = new Konva.Rect(b ? { x: b.minX, y: b.minY, width: b.maxX - b.minX, height: b.maxY - b.minY } : {});
  } else {
    node = objectNode(o, { color, fill: undefined, strokeWidth: width, radius }, edgesOf, colorOf);
  }
  node.listening(false);
  node.perfectDrawEnabled(false);
  node.shadowForStrokeEnabled(false);
  node.strokeScaleEnabled(false);
  node.stroke(color);
  node.strokeWidth(width);
  if (o.type === "points") node.fill(color);
  return node;
}

/** A label text whose bottom-left sits just above the object's bbox top-left, `1 / scale` so it
 * keeps its screen size in a layer scaled by `scale` (null: the object has no box). */
function textNode(o: FrameObject, text: string, scale: number): Konva.Text | null {
  const b = objectBounds(o);
  if (!b) return null;
  return new Konva.Text({
    x: b.minX,
    y: b.minY,
    offsetY: TEXT_FONT_PX + TEXT_GAP_PX,
    scaleX: 1 / scale,
    scaleY: 1 / scale,
    text,
    fontSize: TEXT_FONT_PX,
    fontFamily: "sans-serif",
    fill: "#ffffff",
    stroke: "rgba(0, 0, 0, 0.75)",
    strokeWidth: 3,
    fillAfterStrokeEnabled: true,
    listening: false,
    perfectDrawEnabled: false,
    shadowForStrokeEnabled: false,
  });
}

export function createEngine(container: HTMLDivElement, events: Partial<EngineEvents>): CanvasEngine {
  const stage = new Konva.Stage({ container, width: container.clientWidth, height: container.clientHeight });
  const imageLayer = new Konva.Layer({ listening: false });
  const staticLayer = new Konva.Layer({ listening: false });
  const issuesLayer = new Konva.Layer({ listening: false });
  const interaction = new Konva.Layer({ listening: true });
  stage.add(imageLayer, staticLayer, issuesLayer, interaction);
  const frameNode = new Konva.Image({ image: undefined, listening: false });
  imageLayer.add(frameNode);
  const cssLayers = [imageLayer, staticLayer].map((l) => l.getNativeCanvasElement());
  for (const c of cssLayers) c.style.transformOrigin = "0 0";
  // The engine alone draws these two layers, once per settled view: Konva's automatic redraw on
  // every node change would draw them a second time on the next frame.
  imageLayer.batchDraw = () => imageLayer;
  staticLayer.batchDraw = () => staticLayer;

  let size: Size = { width: container.clientWidth, height: container.clientHeight };
  let image: Size = { width: 0, height: 0 };
  let view: ViewTransform = { scale: 1, x: 0, y: 0 };
  let rendered: ViewTransform = view; // the view the image and static layers were drawn at
  let settleTimer: ReturnType<typeof setTimeout> | null = null;
  let needsFit = true;

  let appearance: Appearance = { ...DEFAULT_APPEARANCE };
  let colorByGroup = false;
  let styleVersion = 0;
  let colorOf: (labelId: number) => string = () => "#ff6037";
  let views: ReadonlyMap<number, ObjectView> = new Map();
  const skeletonEdges = new Map<number, Edges>();
  const edgesOf = (labelId: number): Edges => skeletonEdges.get(labelId) ?? [];
  const scene = new SceneIndex({ hit: geometryHit, area: geometryArea });
  const nodes = new Map<number, CachedNode>();
  const texts = new Map<number, CachedText>();
  let labelNames: ReadonlyMap<number, string> = new Map();
  const staticTextIds = new Set<number>(); // the objects whose text is on the static layer now
  let selectedText: Konva.Text | null = null;
  let hoverText: Konva.Text | null = null;
  let renderedCount = 0;
  let drawnStatic: DrawnStatic | null = null; // what the static layer shows now
  let slices: { nodes: Konva.Shape[]; next: number } | null = null;
  let sliceFrame: number | null = null;

  let selectedId: number | null = null;
  let selectedObject: FrameObject | null = null;
  let editTool: EditTool | null = null;
  let selectedNode: Konva.Shape | null = null;
  let hoveredId: number | null = null;
  let hoverNode: Konva.Shape | null = null;
  let issues: readonly IssueMarker[] = [];

  let currentMode: Mode = "idle";
  let drawTool: DrawTool | null = null;
  let toolToken = 0;
  let captured = false;

  const renderScale = (): number => rendered.scale;
  const liveScale = (): number => view.scale;

  function colorFor(o: FrameObject): string {
    return colorByGroup && o.group > 0 ? groupColor(o.group, 1) : colorOf(o.labelId);
  }

  function fillFor(o: FrameObject, opacity: number): string {
    return colorByGroup && o.group > 0 ? groupColor(o.group, opacity) : withAlpha(colorOf(o.labelId), opacity);
  }

  function styleFor(o: FrameObject, opacity: number, scaleOf: () => number): Style {
    return { color: colorFor(o), fill: fillFor(o, opacity), strokeWidth: appearance.outlineWidth, radius: () => POINT_RADIUS_PX / scaleOf() };
  }

  function staticNode(o: FrameObject): Konva.Shape {
    const color = colorFor(o);
    const cached = nodes.get(o.clientId);
    if (cached && cached.object === o && cached.color === color && cached.version === styleVersion) return cached.node;
    cached?.node.destroy();
    const style = styleFor(o, appearance.opacity, renderScale);
    const node = objectNode(o, style, edgesOf, colorOf);
    styleNode(node, o, style);
    nodes.set(o.clientId, { object: o, color, version: styleVersion, node });
    return node;
  }

  /** The static layer's text node for `o` at the render scale, reused while its object and text are. */
  function staticText(o: FrameObject): Konva.Text | null {
    const text = labelText(o, labelNames);
    const cached = texts.get(o.clientId);
    let node: Konva.Text | null;
    if (cached && cached.object === o && cached.text === text) {
      node = cached.node;
      node.scale({ x: 1 / rendered.scale, y: 1 / rendered.scale });
    } else {
      cached?.node.destroy();
      texts.delete(o.clientId);
      node = textNode(o, text, rendered.scale);
      if (node) texts.set(o.clientId, { object: o, text, node });
    }
    return node;
  }

  /** The selected and hovered objects' texts on the interaction layer (the hovered one's only when
   * the static layer does not already show it). */
  function updateOverlayText(): void {
    selectedText?.destroy();
    hoverText?.destroy();
    selectedText = null;
    hoverText = null;
    if (selectedObject) selectedText = textNode(selectedObject, labelText(selectedObject, labelNames), view.scale);
    const hovered = hoveredId === null || hoveredId === selectedId || staticTextIds.has(hoveredId) ? undefined : scene.get(hoveredId);
    if (hovered) hoverText = textNode(hovered, labelText(hovered, labelNames), view.scale);
    if (selectedText) interaction.add(selectedText);
    if (hoverText) interaction.add(hoverText);
    interaction.batchDraw();
  }

  function setLayerView(layer: Konva.Layer, v: ViewTransform): void {
    layer.scale({ x: v.scale, y: v.scale });
    layer.position({ x: v.x, y: v.y });
  }

  function stopSlices(): void {
    if (sliceFrame !== null) cancelAnimationFrame(sliceFrame);
    sliceFrame = null;
    slices = null;
  }

  /** Draws the next objects of a big static layer within SLICE_MS, then yields to the next frame. */
  function drawSlice(): void {
    sliceFrame = null;
    const job = slices;
    if (!job) return;
    const canvas = staticLayer.getCanvas();
    const started = performance.now();
    while (job.next < job.nodes.length) {
      job.nodes[job.next++]?.drawScene(canvas);
      if (performance.now() - started > SLICE_MS) break;
    }
    if (job.next < job.nodes.length) sliceFrame = requestAnimationFrame(drawSlice);
    else slices = null;
  }

  /** Rebuilds the culled node set and draws the image and static layers crisp at the current view
   * (over several frames, bottom to top, when more than SYNC_DRAW_LIMIT objects are visible). */
  function renderStatic(): void {
    if (settleTimer !== null) clearTimeout(settleTimer);
    settleTimer = null;
    stopSlices();
    rendered = view;
    const visible = scene.query(visibleRect(view, size, CULL_MARGIN));
    staticLayer.removeChildren();
    const list: Konva.Shape[] = [];
    for (const o of visible) {
      if (o.clientId === selectedId) continue;
      const node = staticNode(o);
      staticLayer.add(node);
      list.push(node);
    }
    renderedCount = list.length;
    staticTextIds.clear();
    const showAll = showAllText(appearance.showText, appearance.showText ? scene.count(visibleRect(view, size, 0)) : 0);
    const shown = visible.filter((o) => o.clientId !== selectedId);
    drawnStatic = { view, objects: shown, colors: shown.map(colorFor), version: styleVersion, showAll, names: labelNames };
    if (showAll) {
      for (const o of visible) {
        if (o.clientId === selectedId) continue;
        const text = staticText(o);
        if (!text) continue;
        staticLayer.add(text);
        list.push(text);
        staticTextIds.add(o.clientId);
      }
    }
    updateOverlayText();
    setLayerView(imageLayer, view);
    setLayerView(staticLayer, view);
    for (const c of cssLayers) c.style.transform = "";
    imageLayer.draw();
    if (list.length <= SYNC_DRAW_LIMIT) {
      staticLayer.draw();
    } else {
      staticLayer.clear();
      slices = { nodes: list, next: 0 };
      drawSlice();
    }
  }

  /** Whether renderStatic would draw exactly what the static layer shows now (same view, objects,
   * order, colours, style and text). */
  function staticUnchanged(): boolean {
    const d = drawnStatic;
    if (!d || d.view !== view || rendered !== view || settleTimer !== null) return false;
    if (d.version !== styleVersion || d.names !== labelNames) return false;
    const visible = scene.query(visibleRect(view, size, CULL_MARGIN));
    let i = 0;
    for (const o of visible) {
      if (o.clientId === selectedId) continue;
      if (d.objects[i] !== o || d.colors[i] !== colorFor(o)) return false;
      i++;
    }
    if (i !== d.objects.length) return false;
    return d.showAll === showAllText(appearance.showText, appearance.showText ? scene.count(visibleRect(view, size, 0)) : 0);
  }

  function drawOverlays(): void {
    for (const t of [selectedText, hoverText]) t?.scale({ x: 1 / view.scale, y: 1 / view.scale });
    setLayerView(interaction, view);
    setLayerView(issuesLayer, view);
    interaction.batchDraw();
    issuesLayer.batchDraw();
  }

  /** A view change: during a gesture only CSS-transforms the cached layers, then settles. */
  function setView(next: ViewTransform, gesture: boolean): void {
    view = next;
    drawOverlays();
    if (gesture) {
      stopSlices();
      const css = cssMatrix(relativeTransform(rendered, view));
      for (const c of cssLayers) c.style.transform = css;
      if (settleTimer !== null) clearTimeout(settleTimer);
      settleTimer = setTimeout(renderStatic, SETTLE_MS);
    } else {
      renderStatic();
    }
    events.view?.({ ...view });
  }

  // --- selection, hover ---------------------------------------------------------------------

  const host: ToolHost = {
    stage,
    layer: interaction,
    toImage: (s) => toImage(view, s),
    toScreen: (p) => toScreen(view, p),
    scale: () => view.scale,
    imageSize: () => ({ ...image }),
    clamp: (p) => ({ x: Math.min(image.width, Math.max(0, p.x)), y: Math.min(image.height, Math.max(0, p.y)) }),
    pointer: () => {
      const p = stage.getPointerPosition();
      return p ? toImage(view, p) : null;
    },
    redraw: () => interaction.batchDraw(),
    capturePointer: (on) => {
      captured = on;
    },
  };

  // the crosshair starts at the centre of what is visible of the frame
  const keys = keyboardPointer(host, () => toImage(view, { x: size.width / 2, y: size.height / 2 }));

  function detachSelection(): void {
    editTool?.detach();
    editTool = null;
    selectedNode?.destroy();
    selectedNode = null;
  }

  function attachSelection(o: FrameObject): void {
    detachSelection();
    selectedObject = o;
    const locked = !!views.get(o.clientId)?.locked;
    const tool = locked ? null : editToolFor(o);
    if (tool) {
      editTool = tool;
      const id = o.clientId;
      tool.attach(host, o, colorFor(o), (r) => events.edited?.({ clientId: id, ...r }));
    } else {
      const style = styleFor(o, appearance.selectedOpacity, liveScale);
      selectedNode = objectNode(o, { ...style, strokeWidth: appearance.outlineWidth + 1 }, edgesOf, colorOf);
      styleNode(selectedNode, o, { ...style, strokeWidth: appearance.outlineWidth + 1 });
      interaction.add(selectedNode);
      selectedNode.moveToBottom();
    }
    interaction.batchDraw();
  }

  function setSelection(id: number | null, emit: boolean): void {
    const o = id === null ? undefined : scene.get(id);
    const next = o ? o.clientId : null;
    if (next === selectedId) return;
    detachSelection();
    selectedId = next;
    selectedObject = null;
    if (o) attachSelection(o);
    if (hoveredId !== null && hoveredId === selectedId) setHover(null);
    renderStatic();
    interaction.batchDraw();
    if (emit) events.select?.(selectedId);
  }

  function setHover(id: number | null): void {
    if (id === hoveredId) return;
    hoveredId = id;
    hoverNode?.destroy();
    hoverNode = null;
    const o = id === null || id === selectedId ? undefined : scene.get(id);
    if (o) {
      hoverNode = outlineNode(o, colorFor(o), appearance.outlineWidth * 2 + 1, edgesOf, colorOf, () => POINT_RADIUS_PX / view.scale);
      interaction.add(hoverNode);
      hoverNode.moveToBottom();
    }
    updateOverlayText();
    events.hover?.(id);
  }

  function pickAt(p: Point): number | null {
    return scene.pick(p, PICK_TOLERANCE_PX / view.scale);
  }

  function issueAt(p: Point): number | null {
    const tol = PICK_TOLERANCE_PX / view.scale;
    let best: { id: number; area: number } | null = null;
    for (const m of issues) {
      const [x1 = 0, y1 = 0, x2 = 0, y2 = 0] = m.points;
      const inside = p.x >= Math.min(x1, x2) - tol && p.x <= Math.max(x1, x2) + tol && p.y >= Math.min(y1, y2) - tol && p.y <= Math.max(y1, y2) + tol;
      const a = Math.abs((x2 - x1) * (y2 - y1));
      if (inside && (!best || a < best.area)) best = { id: m.id, area: a };
    }
    return best ? best.id : null;
  }

  // --- tools --------------------------------------------------------------------------------

  function endTool(): void {
    toolToken++;
    const tool = drawTool;
    drawTool = null;
    currentMode = "idle";
    captured = false;
    keys.reset();
    tool?.destroy();
    interaction.batchDraw();
  }

  function startTool(mode: Mode, tool: DrawTool, request: DrawRequest, done: (points: number[] | null, result: DrawResult | null) => void): void {
    if (currentMode !== "idle") endTool();
    setSelection(null, true);
    setHover(null);
    currentMode = mode;
    drawTool = tool;
    const token = ++toolToken;
    tool.start(host, request, (result) => {
      if (token !== toolToken) return;
      endTool();
      done(result ? result.points : null, result);
    });
  }

  // --- input ----------------------------------------------------------------------------------

  function screenOf(e: MouseEvent): Point {
    const r = container.getBoundingClientRect();
    return { x: e.clientX - r.left, y: e.clientY - r.top };
  }

  interface Press {
    start: Point;
    button: number;
    canPan: boolean;
    onEmpty: boolean;
    moved: boolean;
    startView: ViewTransform;
  }
  let press: Press | null = null;

  function onWindowMove(e: PointerEvent): void {
    if (!press) return;
    const s = screenOf(e);
    const dx = s.x - press.start.x;
    const dy = s.y - press.start.y;
    if (!press.moved && Math.hypot(dx, dy) < DRAG_THRESHOLD_PX) return;
    press.moved = true;
    if (press.canPan && !(captured && press.button === 0)) {
      container.style.cursor = "grabbing";
      setView(panBy(press.startView, dx, dy), true);
    }
  }

  function onWindowUp(e: PointerEvent): void {
    window.removeEventListener("pointermove", onWindowMove);
    window.removeEventListener("pointerup", onWindowUp);
    const p = press;
    press = null;
    container.style.cursor = "";
    if (!p || p.moved || p.button !== 0 || !p.onEmpty || currentMode !== "idle") return;
    const at = toImage(view, screenOf(e));
    const issue = issueAt(at);
    if (issue !== null) {
      events.issueClicked?.(issue);
      return;
    }
    const picked = pickAt(at);
    if ((e.ctrlKey || e.metaKey) && picked !== null) {
      // a multiple selection is the workspace's: the canvas keeps showing one selected object
      events.select?.(picked, true);
      return;
    }
    setSelection(picked, true);
  }

  stage.on("pointerdown", (e) => {
    const ev = e.evt;
    if (ev.button !== 0 && ev.button !== 1) return;
    if (ev.button === 1) ev.preventDefault();
    const onEmpty = e.target === stage;
    press = {
      start: screenOf(ev),
      button: ev.button,
      canPan: ev.button === 1 || (onEmpty && !captured),
      onEmpty,
      moved: false,
      startView: view,
    };
    window.addEventListener("pointermove", onWindowMove);
    window.addEventListener("pointerup", onWindowUp);
  });

  function onContainerMove(e: PointerEvent): void {
    const p = toImage(view, screenOf(e));
    events.pointer?.(p);
    if (press?.moved || currentMode !== "idle") return;
    setHover(pickAt(p));
  }

  function onContainerLeave(): void {
    events.pointer?.(null);
    if (!press) setHover(null);
  }

  function onWheel(e: WheelEvent): void {
    e.preventDefault();
    const unit = e.deltaMode === 1 ? 16 : e.deltaMode === 2 ? size.height : 1;
    const delta = Math.max(-300, Math.min(300, e.deltaY * unit));
    setView(zoomAbout(view, Math.exp(-delta * 0.002), screenOf(e)), true);
  }

  function onContextMenu(e: MouseEvent): void {
    e.preventDefault();
    const s = screenOf(e);
    events.contextMenu?.(currentMode === "idle" ? pickAt(toImage(view, s)) : null, s);
  }

  function onAuxClick(e: MouseEvent): void {
    if (e.button === 1) e.preventDefault();
  }

  container.addEventListener("pointermove", onContainerMove);
  container.addEventListener("pointerleave", onContainerLeave);
  container.addEventListener("wheel", onWheel, { passive: false });
  container.addEventListener("contextmenu", onContextMenu);
  container.addEventListener("auxclick", onAuxClick);

  function resize(): void {
    const next = { width: container.clientWidth, height: container.clientHeight };
    if (next.width === size.width && next.height === size.height && stage.width() === next.width) return;
    size = next;
    stage.size(size);
    if (needsFit && image.width > 0 && size.width > 0) {
      needsFit = false;
      setView(fitView(size, image), false);
    } else {
      setView(view, false);
    }
  }

  const observer = new ResizeObserver(() => resize());
  observer.observe(container);

  function renderIssues(): void {
    issuesLayer.destroyChildren();
    for (const m of issues) {
      const [x1 = 0, y1 = 0, x2 = 0, y2 = 0] = m.points;
      issuesLayer.add(
        new Konva.Rect({
          x: Math.min(x1, x2),
          y: Math.min(y1, y2),
          width: Math.abs(x2 - x1),
          height: Math.abs(y2 - y1),
          stroke: m.resolved ? "#52c41a" : "#ff4d4f",
          strokeWidth: m.selected ? 3 : 1.5,
          dash: m.resolved ? [4, 4] : undefined,
          fill: m.selected ? "rgba(255, 77, 79, 0.12)" : undefined,
          strokeScaleEnabled: false,
          perfectDrawEnabled: false,
          listening: false,
        }),
      );
    }
    issuesLayer.batchDraw();
  }

  const engine: CanvasEngine = {
    setFrame(source, width, height) {
      const changed = width !== image.width || height !== image.height;
      image = { width, height };
      frameNode.image(source ?? undefined);
      frameNode.size({ width, height });
      frameNode.visible(!!source);
      if (changed || needsFit) {
        needsFit = size.width <= 0;
        setView(fitView(size, image), false);
      } else {
        imageLayer.draw();
      }
    },

    setObjects(objects, nextColorOf, nextViews) {
      colorOf = nextColorOf;
      views = nextViews;
      const drawable = drawOrder(objects.filter((o) => isDrawable(o, nextViews)));
      if (scene.size() === 0) scene.load(drawable);
      else scene.update(drawable);
      for (const cache of [nodes, texts]) {
        for (const [id, cached] of cache) {
          if (scene.get(id) !== cached.object) {
            cached.node.destroy();
            cache.delete(id);
          }
        }
      }
      if (selectedId !== null) {
        const o = scene.get(selectedId);
        if (!o) {
          // gone with the frame (or deleted): the workspace knows that already, nothing to report
          setSelection(null, false);
        } else if (o !== selectedObject || !!views.get(o.clientId)?.locked === !!editTool) {
          const lockedNow = !!views.get(o.clientId)?.locked;
          if (editTool && !lockedNow) {
            selectedObject = o;
            editTool.update(o);
          } else {
            attachSelection(o);
          }
        }
      }
      if (hoveredId !== null && !scene.get(hoveredId)) setHover(null);
      if (staticUnchanged()) updateOverlayText();
      else renderStatic();
      interaction.batchDraw();
    },

    select(clientId) {
      setSelection(clientId, false);
    },

    selected: () => selectedId,

    fit() {
      setView(fitView(size, image), false);
    },

    zoomBy(factor, screenCenter) {
      setView(zoomAbout(view, factor, screenCenter ?? { x: size.width / 2, y: size.height / 2 }), true);
    },

    transform: () => ({ ...view }),

    setFilters(filters: ImageFilters) {
      imageLayer.getNativeCanvasElement().style.filter =
        `brightness(${filters.brightness}%) contrast(${filters.contrast}%) saturate(${filters.saturation}%)`;
    },

    setAppearance(next) {
      appearance = { ...appearance, ...next };
      styleVersion++;
      if (selectedObject) attachSelection(selectedObject);
      renderStatic();
    },

    setIssues(markers) {
      issues = markers;
      renderIssues();
    },

    startDraw(request) {
      startTool("draw", drawToolFor(request.type), request, (_points, result) => {
        if (result) events.drawn?.(result);
        else events.drawCancelled?.();
      });
    },

    startRegion() {
      const request: DrawRequest = { type: "rectangle", labelId: 0, color: "#ff4d4f" };
      startTool("region", regionTool(), request, (points) => {
        if (!points || points.length < 4) return;
        const [x1 = 0, y1 = 0, x2 = 0, y2 = 0] = points;
        events.region?.([Math.min(x1, x2), Math.min(y1, y2), Math.max(x1, x2), Math.max(y1, y2)]);
      });
    },

    cancel() {
      const was = currentMode;
      if (was === "idle") return;
      endTool();
      if (was === "draw") events.drawCancelled?.();
    },

    finishDraw: () => (currentMode === "draw" && drawTool ? drawTool.finish() : false),

    mode: () => currentMode,

    pick: (p) => pickAt(p),

    resize,

    destroy() {
      if (settleTimer !== null) clearTimeout(settleTimer);
      stopSlices();
      observer.disconnect();
      window.removeEventListener("pointermove", onWindowMove);
      window.removeEventListener("pointerup", onWindowUp);
      container.removeEventListener("pointermove", onContainerMove);
      container.removeEventListener("pointerleave", onContainerLeave);
      container.removeEventListener("wheel", onWheel);
      container.removeEventListener("contextmenu", onContextMenu);
      container.removeEventListener("auxclick", onAuxClick);
      toolToken++;
      drawTool?.destroy();
      drawTool = null;
      detachSelection();
      nodes.clear();
      texts.clear();
      stage.destroy();
    },

    setSkeletonEdges(labelId, edges) {
      skeletonEdges.set(labelId, edges.map(([a, b]) => [a, b] as const));
      styleVersion++;
      renderStatic();
    },

    setColorByGroup(on) {
      if (on === colorByGroup) return;
      colorByGroup = on;
      styleVersion++;
      if (selectedObject) attachSelection(selectedObject);
      renderStatic();
    },

    undoPoint: () => (currentMode === "draw" && drawTool?.undoPoint ? drawTool.undoPoint() : false),

    renderedCount: () => renderedCount,

    keyboardPointer: (key, fast) => (currentMode === "idle" ? false : keys.key(key, fast)),

    setLabelNames(names) {
      labelNames = names;
      renderStatic();
    },
  };
  return engine;
}

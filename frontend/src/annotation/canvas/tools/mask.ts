// Masks. Drawing paints into a frame-sized 0/1 buffer (the truth) mirrored on an offscreen canvas
// (the preview): the brush paints a disc of the brush size along the pointer, the eraser (or the
// brush with Shift held) clears, and the polygon tool fills clicked polygons in (closed by a
// double-click; a pending one is filled by finish()). Strokes and polygons combine until N/Enter;
// the result is CVAT's RLE of the set pixels' box, then [left, top, right, bottom]. With the
// request's `initialMask` the buffer starts from that mask (editing it: CVAT's "Edit" of a mask)
// and the result is the whole edited mask. An empty buffer is not a mask: finish() returns false
// and the draw stays open (Escape cancels it). The edit tool moves a mask by whole pixels (only
// its box changes).
import Konva from "konva";
import type { FrameObject } from "../../model";
import type { DrawTool, EditTool, Point, ToolHost } from "../types";
import { CLICK_SLOP_PX, eventImage, listenPointer, makeHandle, outlineStyle, startGesture, STROKE_PX, withAlpha } from "./handles";
import { maskBufferBounds, maskBufferFrom, maskBufferPoints, maskBufferRgba } from "./maskBuffer";
import { clampDelta, fillPolygon, maskBounds, stampLine, translateMask, type Bounds } from "./shapesMath";

export type MaskTool = "brush" | "eraser" | "polygon";

/** The toolbar's settings, shared by the mask being drawn now and the next ones. */
export const maskSettings: { tool: MaskTool; brushSize: number; onChange: (() => void) | null } = { tool: "brush", brushSize: 10, onChange: null };

function rgb(color: string): [number, number, number] {
  const hex = /^#([0-9a-f]{6})$/i.exec(color.trim());
  if (!hex) return [255, 0, 0];
  const n = parseInt(hex[1]!, 16);
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
}

export function maskTool(): DrawTool {
  let off: (() => void) | null = null;
  let group: Konva.Group | null = null;
  let hostRef: ToolHost | null = null;
  let finishNow: () => boolean = () => false;
  let undo: () => boolean = () => false;

  const teardown = () => {
    off?.();
    off = null;
    maskSettings.onChange = null;
    group?.destroy();
    group = null;
    if (hostRef) {
      hostRef.capturePointer(false);
      hostRef.redraw();
    }
    hostRef = null;
  };

  return {
    start(host, request, done) {
      hostRef = host;
      if (request.brushSize && request.brushSize > 0) maskSettings.brushSize = request.brushSize;
      const frame = host.imageSize();
      // frame-sized; larger only when an edited mask's box reaches past the frame
      const buffer = maskBufferFrom(request.initialMask, frame.width, frame.height);
      const { width, height, data: buf } = buffer;
      const canvas = document.createElement("canvas");
      canvas.width = width;
      canvas.height = height;
      const ctx = canvas.getContext("2d");
      const [r, g, b] = rgb(request.color);
      group = new Konva.Group({ listening: false });
      const image = new Konva.Image({ image: canvas, x: 0, y: 0, width, height, opacity: 0.6 });
      const cursor = new Konva.Circle({ radius: maskSettings.brushSize / 2, stroke: request.color, strokeWidth: STROKE_PX, strokeScaleEnabled: false, visible: false });
      const polygonGroup = new Konva.Group();
      group.add(image, polygonGroup, cursor);
      host.layer.add(group);
      host.capturePointer(true);

      let polygon: number[] = [];
      let painting: { last: Point; value: 0 | 1 } | null = null;
      let press: Point | null = null;
      let pointer: Point | null = null;
      let ended = false;

      const paintPreview = (bounds: Bounds | null) => {
        if (!bounds || !ctx) return;
        const region = maskBufferRgba(buffer, bounds, [r, g, b]);
        if (!region) return;
        ctx.putImageData(new ImageData(region.data, region.width, region.height), region.left, region.top);
        image.getLayer()?.batchDraw();
      };
      const renderPolygon = () => {
        polygonGroup.destroyChildren();
        const live = pointer && polygon.length ? [...polygon, pointer.x, pointer.y] : polygon;
        if (live.length >= 4) polygonGroup.add(new Konva.Line({ ...outlineStyle(request.color), points: live, closed: live.length >= 6, listening: false }));
        for (let i = 0; i + 1 < polygon.length; i += 2) polygonGroup.add(makeHandle(host, { x: polygon[i]!, y: polygon[i + 1]! }, request.color));
      };
      const renderCursor = () => {
        const brushing = maskSettings.tool !== "polygon" && pointer !== null;
        cursor.visible(brushing);
        if (pointer) cursor.position(pointer);
        cursor.radius(Math.max(maskSettings.brushSize, 1) / 2);
        host.redraw();
      };
      const closePolygon = (): boolean => {
        if (polygon.length < 6) return false;
        fillPolygon(buf, width, height, polygon, 1);
        const xs = polygon.filter((_, i) => i % 2 === 0);
        const ys = polygon.filter((_, i) => i % 2 === 1);
        paintPreview({
          left: Math.max(0, Math.floor(Math.min(...xs))),
          top: Math.max(0, Math.floor(Math.min(...ys))),
          right: Math.min(width - 1, Math.ceil(Math.max(...xs))),
          bottom: Math.min(height - 1, Math.ceil(Math.max(...ys))),
        });
        polygon = [];
        renderPolygon();
        host.redraw();
        return true;
      };
      maskSettings.onChange = () => {
        if (maskSettings.tool !== "polygon" && polygon.length) {
          polygon = [];
          renderPolygon();
        }
        renderCursor();
      };
      finishNow = () => {
        if (ended) return false;
        closePolygon();
        const points = maskBufferPoints(buffer);
        if (points.length === 0) return false; // nothing set: not a mask; Escape cancels
        ended = true;
        teardown();
        done({ type: "mask", labelId: request.labelId, points, rotation: 0 });
        return true;
      };
      undo = () => {
        if (!polygon.length) return false;
        polygon.splice(-2, 2);
        renderPolygon();
        host.redraw();
        return true;
      };

      paintPreview(maskBufferBounds(buffer));

      off = listenPointer(host, {
        down(p) {
          if (p.button !== 0) return;
          press = p.screen;
          if (maskSettings.tool === "polygon") return;
          const value: 0 | 1 = maskSettings.tool === "eraser" || p.shift ? 0 : 1;
          const at = host.clamp(p.image);
          painting = { last: at, value };
          paintPreview(stampLine(buf, width, height, at, at, maskSettings.brushSize, value));
        },
        move(p) {
          pointer = host.clamp(p.image);
          if (painting) {
            paintPreview(stampLine(buf, width, height, painting.last, pointer, maskSettings.brushSize, painting.value));
            painting.last = pointer;
          }
          if (maskSettings.tool === "polygon") renderPolygon();
          renderCursor();
        },
        up(p) {
          if (p.button !== 0) return;
          painting = null;
          if (maskSettings.tool !== "polygon" || !press) return;
          const click = Math.hypot(p.screen.x - press.x, p.screen.y - press.y) < CLICK_SLOP_PX;
          press = null;
          if (!click) return;
          const at = host.clamp(p.image);
          const n = polygon.length;
          if (n >= 2) {
            const last = host.toScreen({ x: polygon[n - 2]!, y: polygon[n - 1]! });
            if (Math.hypot(last.x - p.screen.x, last.y - p.screen.y) < 2) return;
          }
          polygon.push(at.x, at.y);
          renderPolygon();
          host.redraw();
        },
        dblclick() {
          if (maskSettings.tool === "polygon") closePolygon();
        },
        contextmenu() {
          undo();
        },
      });
    },
    finish() {
      return finishNow();
    },
    undoPoint() {
      return undo();
    },
    destroy() {
      finishNow = () => false;
      undo = () => false;
      teardown();
    },
  };
}

/** Moves a mask: drag its box; the RLE is kept, the box shifts by whole pixels inside the frame. */
export function maskEditTool(): EditTool {
  let host: ToolHost | null = null;
  let group: Konva.Group | null = null;
  let points: number[] = [];
  let color = "#000000";
  let emit: (points: number[]) => void = () => {};
  let stopGesture: (() => void) | null = null;

  const render = (dx = 0, dy = 0) => {
    if (!host || !group) return;
    const h = host;
    group.destroyChildren();
    const [left, top, right, bottom] = maskBounds(points);
    const box = new Konva.Rect({ ...outlineStyle(color, 0.05), x: left + dx, y: top + dy, width: right - left + 1, height: bottom - top + 1, dash: [4, 4], fill: withAlpha(color, 0.05) });
    box.on("mousedown", (e) => {
      if (e.evt.button !== 0) return;
      e.cancelBubble = true;
      const from = eventImage(h, e);
      const size = h.imageSize();
      // the box is inclusive: its last pixel must stay on the frame
      const bbox: [number, number, number, number] = [left, top, right + 1, bottom + 1];
      const delta = (p: Point) => {
        const d = clampDelta(bbox, Math.round(p.x - from.x), Math.round(p.y - from.y), size.width, size.height);
        return { x: Math.round(d.x), y: Math.round(d.y) };
      };
      stopGesture = startGesture(h, from, {
        move(p) {
          const d = delta(p);
          render(d.x, d.y);
        },
        end(p, moved) {
          stopGesture = null;
          const d = delta(p);
          if (!moved || (d.x === 0 && d.y === 0)) {
            render();
            return;
          }
          points = translateMask(points, d.x, d.y);
          render();
          emit(points);
        },
      });
    });
    group.add(box);
    h.redraw();
  };

  return {
    attach(h, object, c, changed) {
      host = h;
      color = c;
      points = [...object.points];
      emit = (p) => changed({ points: p, rotation: 0 });
      group = new Konva.Group();
      h.layer.add(group);
      render();
    },
    update(object: FrameObject) {
      if (stopGesture) return;
      points = [...object.points];
      render();
    },
    detach() {
      stopGesture?.();
      stopGesture = null;
      group?.destroy();
      group = null;
      host?.redraw();
      host = null;
    },
  };
}

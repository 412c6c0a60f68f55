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
import type { DrawTool, EditTool, Point } from "../types";
import { drawTool, handleEditTool, isClick, makeHandle, onLastPoint, outlineStyle, STROKE_PX, withAlpha } from "./handles";
import { maskCanvas } from "../maskBitmap";
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
  return drawTool({ capture: true }, (session, request) => {
    const { host, group } = session;
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
    const image = new Konva.Image({ image: canvas, x: 0, y: 0, width, height, opacity: 0.6 });
    const cursor = new Konva.Circle({ radius: maskSettings.brushSize / 2, stroke: request.color, strokeWidth: STROKE_PX, strokeScaleEnabled: false, visible: false });
    const polygonGroup = new Konva.Group();
    group.add(image, polygonGroup, cursor);

    let polygon: number[] = [];
    let painting: { last: Point; value: 0 | 1 } | null = null;
    let press: Point | null = null;
    let pointer: Point | null = null;

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
    const finish = () => {
      if (session.ended) return false;
      closePolygon();
      const points = maskBufferPoints(buffer);
      if (points.length === 0) return false; // nothing set: not a mask; Escape cancels
      session.end({ type: "mask", labelId: request.labelId, points, rotation: 0 });
      return true;
    };
    const undoPoint = () => {
      if (!polygon.length) return false;
      polygon.splice(-2, 2);
      renderPolygon();
      host.redraw();
      return true;
    };

    paintPreview(maskBufferBounds(buffer));

    return {
      finish,
      undoPoint,
      teardown() {
        maskSettings.onChange = null;
      },
      pointer: {
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
          const click = isClick(press, p.screen);
          press = null;
          if (!click || onLastPoint(host, polygon, p.screen)) return;
          const at = host.clamp(p.image);
          polygon.push(at.x, at.y);
          renderPolygon();
          host.redraw();
        },
        dblclick() {
          if (maskSettings.tool === "polygon") closePolygon();
        },
        contextmenu() {
          undoPoint();
        },
      },
    };
  });
}

/** Moves a mask: drag its box; the RLE is kept, the box shifts by whole pixels inside the frame. */
export function maskEditTool(): EditTool {
  let points: number[] = [];
  let offset: Point = { x: 0, y: 0 }; // the drag's shift, shown until its end

  return handleEditTool({
    load(object) {
      points = [...object.points];
      offset = { x: 0, y: 0 };
    },
    result: () => ({ points, rotation: 0 }),
    render({ host: h, group, color, render, commit, drag }) {
      const [left, top, right, bottom] = maskBounds(points);
      // the mask's own pixels: the engine leaves the selected object to its edit tool
      const bitmap = maskCanvas(points, color);
      if (bitmap) group.add(new Konva.Image({ image: bitmap.canvas, x: bitmap.left + offset.x, y: bitmap.top + offset.y, listening: false }));
      const box = new Konva.Rect({ ...outlineStyle(color, 0.05), x: left + offset.x, y: top + offset.y, width: right - left + 1, height: bottom - top + 1, dash: [4, 4], fill: withAlpha(color, 0.05) });
      box.on("mousedown", (e) => {
        const size = h.imageSize();
        // the box is inclusive: its last pixel must stay on the frame
        const bbox: [number, number, number, number] = [left, top, right + 1, bottom + 1];
        const delta = (p: Point, from: Point): Point => {
          const d = clampDelta(bbox, Math.round(p.x - from.x), Math.round(p.y - from.y), size.width, size.height);
          return { x: Math.round(d.x), y: Math.round(d.y) };
        };
        drag(e, {
          move(p, from) {
            offset = delta(p, from);
          },
          end(p, moved, from) {
            const d = delta(p, from);
            offset = { x: 0, y: 0 };
            if (!moved || (d.x === 0 && d.y === 0)) {
              render();
              return;
            }
            points = translateMask(points, d.x, d.y);
            commit();
          },
        });
      });
      group.add(box);
    },
  });
}

// Editing rectangles and ellipses: a Konva.Transformer (8 resize anchors and the rotater, snapping
// to right angles) and a body drag that moves the shape. One `changed` per gesture end, in CVAT's
// encoding: rotation about the centre in degrees [0, 360); unrotated shapes are kept in the frame.
import Konva from "konva";
import type { FrameObject } from "../../model";
import type { EditTool, Point, ToolHost } from "../types";
import { eventImage, OCCLUDED_DASH, outlineStyle, startGesture } from "./handles";
import { clampDelta, clampRect, decodeEllipse, encodeEllipse, nodeToRect, normalizeAngle, rectToNode, type Rect } from "./shapesMath";

const MIN_SIZE = 1;

interface Geometry {
  points: number[];
  rotation: number;
}

interface Kind {
  make(color: string): Konva.Shape;
  /** the object's geometry onto the node (scale 1) */
  apply(node: Konva.Shape, g: Geometry): void;
  /** the node (after a Transformer: scaled) back to the geometry */
  read(node: Konva.Shape): Geometry;
}

const rectangleKind: Kind = {
  make: (color) => new Konva.Rect(outlineStyle(color)),
  apply(node, g) {
    node.setAttrs({ ...rectToNode(g.points, g.rotation), scaleX: 1, scaleY: 1 });
  },
  read(node) {
    const r = nodeToRect({ x: node.x(), y: node.y(), width: node.width(), height: node.height(), rotation: node.rotation(), scaleX: node.scaleX(), scaleY: node.scaleY() });
    return { points: [...r.points], rotation: r.rotation };
  },
};

const ellipseKind: Kind = {
  make: (color) => new Konva.Ellipse({ ...outlineStyle(color), radiusX: 1, radiusY: 1 }),
  apply(node, g) {
    const e = decodeEllipse(g.points);
    node.setAttrs({ x: e.cx, y: e.cy, radiusX: e.rx, radiusY: e.ry, rotation: g.rotation, scaleX: 1, scaleY: 1 });
  },
  read(node) {
    const el = node as Konva.Ellipse;
    const e = { cx: el.x(), cy: el.y(), rx: el.radiusX() * Math.abs(el.scaleX()), ry: el.radiusY() * Math.abs(el.scaleY()) };
    return { points: encodeEllipse(e), rotation: normalizeAngle(el.rotation()) };
  },
};

function boxOf(kindName: "rectangle" | "ellipse", g: Geometry): Rect {
  if (kindName === "rectangle") return [g.points[0] ?? 0, g.points[1] ?? 0, g.points[2] ?? 0, g.points[3] ?? 0];
  const e = decodeEllipse(g.points);
  return [e.cx - e.rx, e.cy - e.ry, e.cx + e.rx, e.cy + e.ry];
}

/** An unrotated shape kept inside the frame (a rotated one is left as the user placed it). */
function keepInFrame(kindName: "rectangle" | "ellipse", g: Geometry, width: number, height: number): Geometry {
  if (g.rotation !== 0) return g;
  if (kindName === "rectangle") return { points: [...clampRect(boxOf(kindName, g), width, height)], rotation: 0 };
  const [x1, y1, x2, y2] = clampRect(boxOf(kindName, g), width, height);
  return { points: encodeEllipse({ cx: (x1 + x2) / 2, cy: (y1 + y2) / 2, rx: (x2 - x1) / 2, ry: (y2 - y1) / 2 }), rotation: 0 };
}

export function transformEditTool(kindName: "rectangle" | "ellipse"): EditTool {
  const kind = kindName === "rectangle" ? rectangleKind : ellipseKind;
  let host: ToolHost | null = null;
  let group: Konva.Group | null = null;
  let node: Konva.Shape | null = null;
  let transformer: Konva.Transformer | null = null;
  let geometry: Geometry = { points: [], rotation: 0 };
  let busy = false;
  let stopGesture: (() => void) | null = null;

  return {
    attach(h, object, color, changed) {
      host = h;
      geometry = { points: [...object.points], rotation: object.rotation };
      group = new Konva.Group();
      node = kind.make(color);
      kind.apply(node, geometry);
      node.dash(object.occluded ? OCCLUDED_DASH : []);
      transformer = new Konva.Transformer({
        nodes: [node],
        rotateEnabled: true,
        keepRatio: false,
        flipEnabled: false,
        ignoreStroke: true,
        rotationSnaps: [0, 90, 180, 270],
        rotationSnapTolerance: 5,
        anchorSize: 8,
        borderStroke: color,
        anchorStroke: color,
        anchorFill: "#ffffff",
        boundBoxFunc: (oldBox, newBox) => {
          // the box is in screen pixels here: the shape may not shrink under MIN_SIZE image pixels
          const min = MIN_SIZE * h.scale();
          return Math.abs(newBox.width) < min || Math.abs(newBox.height) < min ? oldBox : newBox;
        },
      });
      group.add(node, transformer);
      h.layer.add(group);

      const finish = (g: Geometry) => {
        const size = h.imageSize();
        geometry = keepInFrame(kindName, g, size.width, size.height);
        kind.apply(node!, geometry);
        transformer?.forceUpdate();
        h.redraw();
        changed({ points: geometry.points, rotation: geometry.rotation });
      };

      transformer.on("mousedown", (e) => {
        e.cancelBubble = true;
      });
      transformer.on("transformstart", () => {
        busy = true;
        h.capturePointer(true);
      });
      transformer.on("transformend", () => {
        busy = false;
        h.capturePointer(false);
        finish(kind.read(node!));
      });

      node.on("mousedown", (e) => {
        if (e.evt.button !== 0 || !node) return;
        e.cancelBubble = true;
        const from = eventImage(h, e);
        const start = { x: node.x(), y: node.y() };
        const size = h.imageSize();
        const box = node.getClientRect({ relativeTo: h.layer, skipStroke: true });
        const bbox: Rect = [box.x, box.y, box.x + box.width, box.y + box.height];
        const moveTo = (p: Point) => {
          const d = clampDelta(bbox, p.x - from.x, p.y - from.y, size.width, size.height);
          node!.position({ x: start.x + d.x, y: start.y + d.y });
        };
        busy = true;
        stopGesture = startGesture(h, from, {
          move(p) {
            moveTo(p);
            h.redraw();
          },
          end(p, moved) {
            busy = false;
            stopGesture = null;
            if (!moved) return;
            moveTo(p);
            finish(kind.read(node!));
          },
        });
      });
      h.redraw();
    },
    update(object: FrameObject) {
      if (busy || !node) return;
      geometry = { points: [...object.points], rotation: object.rotation };
      kind.apply(node, geometry);
      node.dash(object.occluded ? OCCLUDED_DASH : []);
      transformer?.forceUpdate();
      host?.redraw();
    },
    detach() {
      stopGesture?.();
      stopGesture = null;
      if (busy) host?.capturePointer(false);
      busy = false;
      transformer?.destroy();
      group?.destroy();
      transformer = null;
      node = null;
      group = null;
      host?.redraw();
      host = null;
    },
  };
}

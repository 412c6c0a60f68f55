// Cuboids, CVAT's "from rectangle": the dragged box is the front face, the back face is offset by
// CVAT's default depth (a tenth of the box, up and right). The edit tool: a front corner resizes
// (about the opposite corner), the back face (its corners or its visible area) sets the depth,
// the front face moves the whole cuboid.
import Konva from "konva";
import type { DrawTool, EditTool, Point } from "../types";
import { twoPointTool } from "./box";
import { clampAll, handleEditTool, makeHandle, outlineStyle, STROKE_PX, withAlpha } from "./handles";
import {
  bboxOf,
  clampDelta,
  CUBOID_BACK,
  CUBOID_EDGES,
  CUBOID_FRONT,
  cuboidFromRect,
  cuboidMoveBack,
  cuboidMoveFrontVertex,
  isTinyRect,
  rectFromCorners,
  translatePoints,
} from "./shapesMath";

function face(points: readonly number[], indexes: readonly number[]): number[] {
  // a face's outline runs tl, tr, br, bl
  const order = [indexes[0]!, indexes[2]!, indexes[3]!, indexes[1]!];
  return order.flatMap((i) => [points[2 * i] ?? 0, points[2 * i + 1] ?? 0]);
}

function drawEdges(group: Konva.Group, points: readonly number[], color: string): void {
  for (const [a, b] of CUBOID_EDGES) {
    group.add(
      new Konva.Line({ points: [points[2 * a]!, points[2 * a + 1]!, points[2 * b]!, points[2 * b + 1]!], stroke: color, strokeWidth: STROKE_PX, strokeScaleEnabled: false, listening: false }),
    );
  }
}

export function cuboidTool(): DrawTool {
  return twoPointTool({
    render(group, _host, request, a, b) {
      const points = cuboidFromRect(rectFromCorners(a, b));
      group.add(new Konva.Line({ ...outlineStyle(request.color), points: face(points, CUBOID_FRONT), closed: true }));
      drawEdges(group, points, request.color);
    },
    build(_host, request, a, b) {
      const rect = rectFromCorners(a, b);
      return isTinyRect(rect) ? null : { type: "cuboid", labelId: request.labelId, points: cuboidFromRect(rect), rotation: 0 };
    },
  });
}

export function cuboidEditTool(): EditTool {
  let points: number[] = [];

  return handleEditTool({
    load(object) {
      points = [...object.points];
    },
    result: () => ({ points, rotation: 0 }),
    render({ host: h, group, color, commit, drag }) {
      const back = new Konva.Line({ ...outlineStyle(color, 0.05), points: face(points, CUBOID_BACK), closed: true });
      const front = new Konva.Line({ ...outlineStyle(color), points: face(points, CUBOID_FRONT), closed: true });
      group.add(back, front);
      const edges = new Konva.Group({ listening: false });
      drawEdges(edges, points, color);
      group.add(edges);
      const dragPoints = (e: Konva.KonvaEventObject<MouseEvent>, apply: (start: readonly number[], p: Point, from: Point) => number[]) => {
        const start = points;
        drag(e, {
          move(p, from) {
            points = apply(start, p, from);
          },
          end(p, moved, from) {
            if (!moved) return;
            points = clampAll(h, apply(start, p, from));
            commit();
          },
        });
      };
      const size = h.imageSize();
      const moveBack = (e: Konva.KonvaEventObject<MouseEvent>) => dragPoints(e, (start, p, from) => cuboidMoveBack(start, p.x - from.x, p.y - from.y));
      front.on("mousedown", (e) =>
        dragPoints(e, (start, p, from) => {
          const d = clampDelta(bboxOf(start), p.x - from.x, p.y - from.y, size.width, size.height);
          return translatePoints(start, d.x, d.y);
        }),
      );
      back.on("mousedown", moveBack);
      CUBOID_FRONT.forEach((index) => {
        const handle = makeHandle(h, { x: points[2 * index]!, y: points[2 * index + 1]! }, color);
        handle.on("mousedown", (e) => dragPoints(e, (start, p) => cuboidMoveFrontVertex(start, index, h.clamp(p))));
        group.add(handle);
      });
      CUBOID_BACK.forEach((index) => {
        const handle = makeHandle(h, { x: points[2 * index]!, y: points[2 * index + 1]! }, withAlpha(color, 0.8), "square");
        handle.on("mousedown", moveBack);
        group.add(handle);
      });
    },
  });
}

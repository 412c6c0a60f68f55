// Skeletons: drawn as a box that the label's template (its sublabels' points, 0..100) is scaled
// into, one element per node, none outside. Edited by dragging one node, or an edge or the
// skeleton's box to move every element together.
import Konva from "konva";
import type { FrameElement, FrameObject } from "../../model";
import type { DrawTool, EditResult, EditTool, SkeletonTemplate } from "../types";
import { twoPointTool } from "./box";
import { handleEditTool, makeHandle, outlineStyle, STROKE_PX } from "./handles";
import { bboxOf, clampDelta, isTinyRect, rectFromCorners, translatePoints } from "./shapesMath";
import { skeletonElements } from "./skeletonTemplate";

function drawTemplate(group: Konva.Group, template: SkeletonTemplate, positions: readonly [number, number][], color: string): void {
  for (const [a, b] of template.edges) {
    const pa = positions[a];
    const pb = positions[b];
    if (pa && pb) group.add(new Konva.Line({ points: [...pa, ...pb], stroke: color, strokeWidth: STROKE_PX, strokeScaleEnabled: false }));
  }
}

export function skeletonTool(): DrawTool {
  return twoPointTool({
    render(group, host, request, a, b) {
      const rect = rectFromCorners(a, b);
      const box = new Konva.Rect({ ...outlineStyle(request.color, 0), x: rect[0], y: rect[1], width: rect[2] - rect[0], height: rect[3] - rect[1], dash: [4, 4] });
      group.add(box);
      if (!request.skeleton) return;
      const elements = skeletonElements(request.skeleton, rect);
      drawTemplate(group, request.skeleton, elements.map((e) => e.points), request.color);
      for (const e of elements) group.add(makeHandle(host, { x: e.points[0], y: e.points[1] }, request.color));
    },
    build(_host, request, a, b) {
      const rect = rectFromCorners(a, b);
      if (!request.skeleton || request.skeleton.nodes.length === 0 || isTinyRect(rect)) return null;
      return { type: "skeleton", labelId: request.labelId, points: [], rotation: 0, elements: skeletonElements(request.skeleton, rect) };
    },
  });
}

type Elements = NonNullable<EditResult["elements"]>;

function toElements(elements: readonly FrameElement[]): Elements {
  return elements.map((e) => ({ labelId: e.labelId, points: [e.points[0] ?? 0, e.points[1] ?? 0], outside: e.outside }));
}

/**
 * `edges` (indexes into the object's elements) come from the label's template, which the object
 * does not carry; without them only the nodes and the box are shown.
 */
export function skeletonEditTool(edgesOf?: (object: FrameObject) => [number, number][]): EditTool {
  let object: FrameObject | null = null;
  let elements: Elements = [];
  let own: number[] = [];

  const visible = () => elements.filter((e) => !e.outside).flatMap((e) => e.points);

  return handleEditTool({
    load(o) {
      object = o;
      elements = toElements(o.elements);
      own = [...o.points];
    },
    result: () => ({ points: own, rotation: object?.rotation ?? 0, elements }),
    render({ host: h, group, color, drag }) {
      if (!object) return;
      const shown = visible();
      const moveAll = (e: Konva.KonvaEventObject<MouseEvent>) => {
        const start = elements;
        const startOwn = own;
        const size = h.imageSize();
        const box = bboxOf(shown);
        drag(e, {
          move(p, from) {
            const d = clampDelta(box, p.x - from.x, p.y - from.y, size.width, size.height);
            elements = start.map((el) => ({ ...el, points: [el.points[0] + d.x, el.points[1] + d.y] }));
            own = translatePoints(startOwn, d.x, d.y);
          },
        });
      };
      if (shown.length >= 2) {
        const [x1, y1, x2, y2] = bboxOf(shown);
        const box = new Konva.Rect({ ...outlineStyle(color, 0.05), x: x1, y: y1, width: x2 - x1, height: y2 - y1, dash: [4, 4] });
        box.on("mousedown", moveAll);
        group.add(box);
      }
      const edges = edgesOf?.(object) ?? [];
      for (const [a, b] of edges) {
        const ea = elements[a];
        const eb = elements[b];
        if (!ea || !eb || ea.outside || eb.outside) continue;
        const line = new Konva.Line({ points: [...ea.points, ...eb.points], stroke: color, strokeWidth: STROKE_PX, strokeScaleEnabled: false, hitStrokeWidth: 8 });
        line.on("mousedown", moveAll);
        group.add(line);
      }
      elements.forEach((el, index) => {
        if (el.outside) return;
        const handle = makeHandle(h, { x: el.points[0], y: el.points[1] }, color);
        handle.on("mousedown", (e) =>
          drag(e, {
            move(p) {
              const c = h.clamp(p);
              elements = elements.map((x, i) => (i === index ? { ...x, points: [c.x, c.y] } : x));
            },
          }),
        );
        group.add(handle);
      });
    },
  });
}

// Rectangles: by two corners (drag, or two clicks) or by four extreme points (CVAT's "By 4
// points": their bounding box); and the review region, a rectangle dragged out.
import Konva from "konva";
import type { DrawTool, Point } from "../types";
import { twoPointTool, type TwoPointShape } from "./box";
import { drawTool, isClick, makeHandle, outlineStyle } from "./handles";
import { isTinyRect, rectFromCorners, rectFromPoints, type Rect } from "./shapesMath";

function rectNode(rect: Rect, color: string): Konva.Rect {
  return new Konva.Rect({ ...outlineStyle(color), x: rect[0], y: rect[1], width: rect[2] - rect[0], height: rect[3] - rect[1] });
}

/** The rectangle between two corners, or null for a slip. */
const byCorners: TwoPointShape["build"] = (_host, request, a, b) => {
  const rect = rectFromCorners(a, b);
  return isTinyRect(rect) ? null : { type: "rectangle", labelId: request.labelId, points: [...rect], rotation: 0 };
};

export function rectangleTool(): DrawTool {
  return twoPointTool({
    render(group, _host, request, a, b) {
      group.add(rectNode(rectFromCorners(a, b), request.color));
    },
    build: byCorners,
  });
}

/** A review issue's region: a dashed rectangle, result type "rectangle". */
export function regionDrawTool(): DrawTool {
  return twoPointTool({
    render(group, _host, request, a, b) {
      const node = rectNode(rectFromCorners(a, b), request.color || "#ff4136");
      node.dash([6, 4]);
      node.dashEnabled(true);
      group.add(node);
    },
    build: byCorners,
  });
}

/** Four clicks on the object's extreme points; the box finishes itself on the fourth. */
export function rectangleBy4PointsTool(): DrawTool {
  return drawTool({ capture: false }, (session, request) => {
    const { host, group } = session;
    const clicks: Point[] = [];
    let press: Point | null = null;
    const render = (pointer: Point | null) => {
      if (session.ended) return;
      group.destroyChildren();
      const all = pointer ? [...clicks, pointer] : clicks;
      if (all.length >= 2) group.add(rectNode(rectFromPoints(all), request.color));
      for (const p of clicks) group.add(makeHandle(host, p, request.color));
      host.redraw();
    };
    const undoPoint = () => {
      if (!clicks.pop()) return false;
      render(null);
      return true;
    };
    return {
      undoPoint,
      pointer: {
        down(p) {
          if (p.button === 0) press = p.screen;
        },
        move(p) {
          if (clicks.length) render(host.clamp(p.image));
        },
        up(p) {
          if (p.button !== 0 || !press) return;
          const click = isClick(press, p.screen);
          press = null;
          if (!click) return; // the view was panned
          clicks.push(host.clamp(p.image));
          if (clicks.length < 4) {
            render(null);
            return;
          }
          const rect = rectFromPoints(clicks);
          session.end(isTinyRect(rect) ? null : { type: "rectangle", labelId: request.labelId, points: [...rect], rotation: 0 });
        },
        contextmenu() {
          undoPoint();
        },
      },
    };
  });
}

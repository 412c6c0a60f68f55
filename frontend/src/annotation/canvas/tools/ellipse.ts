// Ellipses: dragged (or clicked) from the centre out to the bounding box; with Shift held, corner
// to corner of the bounding box instead. Result in CVAT's encoding [cx, cy, rightX, topY].
import Konva from "konva";
import type { DrawTool, Point } from "../types";
import { twoPointTool } from "./box";
import { outlineStyle } from "./handles";
import { ellipseFromBox, ellipseFromCentre, encodeEllipse, rectFromCorners, type EllipseGeometry } from "./shapesMath";

function geometry(a: Point, b: Point, byBox: boolean): EllipseGeometry {
  return byBox ? ellipseFromBox(rectFromCorners(a, b)) : ellipseFromCentre(a, b);
}

export function ellipseTool(): DrawTool {
  return twoPointTool({
    render(group, _host, request, a, b, shift) {
      const e = geometry(a, b, shift);
      group.add(new Konva.Ellipse({ ...outlineStyle(request.color), x: e.cx, y: e.cy, radiusX: e.rx, radiusY: e.ry }));
    },
    build(_host, request, a, b, shift) {
      const e = geometry(a, b, shift);
      if (e.rx < 0.5 || e.ry < 0.5) return null;
      return { type: "ellipse", labelId: request.labelId, points: encodeEllipse(e), rotation: 0 };
    },
  });
}

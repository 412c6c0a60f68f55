// The gesture that rectangles, ellipses, cuboids, skeletons and review regions share: two points,
// given either by press-drag-release or by two clicks (CVAT's "By 2 points"). Each shape type
// supplies its preview and how the two points become its result.
import Konva from "konva";
import type { DrawRequest, DrawResult, DrawTool, Point, ToolHost } from "../types";
import { drawTool, isClick } from "./handles";

export interface TwoPointShape {
  /** draws the shape-to-be into `group` (emptied before each call) */
  render(group: Konva.Group, host: ToolHost, request: DrawRequest, a: Point, b: Point, shift: boolean): void;
  /** the result, or null for a slip (too small) */
  build(host: ToolHost, request: DrawRequest, a: Point, b: Point, shift: boolean): DrawResult | null;
}

export function twoPointTool(shape: TwoPointShape): DrawTool {
  // every press belongs to the drawing: a left drag draws, it never pans
  return drawTool({ capture: true }, (session, request) => {
    const { host, group } = session;
    let first: Point | null = null;
    let pressScreen: Point | null = null;
    let pressedFirst = false;
    let shift = false;

    const end = (b: Point) => {
      if (session.ended || !first) return;
      session.end(shape.build(host, request, first, host.clamp(b), shift));
    };
    const preview = (b: Point) => {
      if (session.ended || !first) return;
      group.destroyChildren();
      shape.render(group, host, request, first, host.clamp(b), shift);
      host.redraw();
    };

    return {
      pointer: {
        down(p) {
          if (p.button !== 0) return;
          shift = p.shift;
          pressScreen = p.screen;
          if (!first) {
            first = host.clamp(p.image);
            pressedFirst = true;
          } else {
            pressedFirst = false;
            end(p.image);
          }
        },
        move(p) {
          shift = p.shift;
          if (first) preview(p.image);
        },
        up(p) {
          if (p.button !== 0 || !first || !pressScreen || !pressedFirst) return;
          if (!isClick(pressScreen, p.screen)) end(p.image); // a drag; a click waits for the second corner
        },
      },
    };
  });
}

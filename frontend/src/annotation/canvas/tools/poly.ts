// Polygons, polylines and points. Drawing: a click adds a point, double-click / N / Enter
// finishes, `pointsCount` finishes by itself, Backspace or a right click drops the last point, and
// Shift held while moving adds a point every few screen pixels (CVAT's shift-drag, for polygons
// and polylines). Editing: drag a vertex; press an edge's middle handle to add a vertex there (and
// drag it); Alt+click or right-click a vertex to remove it (never below the type's minimum); drag
// the body to move the whole shape.
import Konva from "konva";
import type { ShapeType } from "../../model";
import type { DrawTool, EditTool, Point } from "../types";
import { clampAll, drawTool, handleEditTool, isClick, makeHandle, onLastPoint, outlineStyle, SHIFT_STEP_PX, STROKE_PX } from "./handles";
import { bboxOf, canFinish, clampDelta, edgeMidpoints, farEnough, insertVertex, minPoints, moveVertex, removeVertex, translatePoints } from "./shapesMath";

export function polyTool(type: ShapeType): DrawTool {
  return drawTool({ capture: false }, (session, request) => {
    const { host, group } = session;
    const points: number[] = [];
    let pointer: Point | null = null;
    let press: Point | null = null;
    let lastScreen: Point | null = null;

    const render = () => {
      if (session.ended) return;
      group.destroyChildren();
      const live = pointer && type !== "points" ? [...points, pointer.x, pointer.y] : points;
      if (type !== "points" && live.length >= 4) {
        group.add(new Konva.Line({ ...outlineStyle(request.color, type === "polygon" ? 0.15 : 0), points: live, closed: type === "polygon" && live.length >= 6 }));
      }
      for (let i = 0; i + 1 < points.length; i += 2) group.add(makeHandle(host, { x: points[i]!, y: points[i + 1]! }, request.color));
      host.redraw();
    };
    const complete = () => session.end({ type, labelId: request.labelId, points: [...points], rotation: 0 });
    const add = (image: Point, screen: Point) => {
      const p = host.clamp(image);
      if (onLastPoint(host, points, screen)) return; // the second click of a double-click
      points.push(p.x, p.y);
      lastScreen = screen;
      if (request.pointsCount && points.length / 2 >= request.pointsCount) complete();
      else render();
    };
    const finish = () => {
      if (session.ended || !canFinish(type, points)) return false;
      complete();
      return true;
    };
    const undoPoint = () => {
      if (points.length === 0) return false;
      points.splice(-2, 2);
      lastScreen = null;
      render();
      return true;
    };

    return {
      finish,
      undoPoint,
      pointer: {
        down(p) {
          if (p.button === 0) press = p.screen;
        },
        up(p) {
          if (p.button !== 0 || !press) return;
          const click = isClick(press, p.screen);
          press = null;
          if (click) add(p.image, p.screen); // otherwise the view was panned
        },
        move(p) {
          pointer = host.clamp(p.image);
          if (p.shift && (type === "polygon" || type === "polyline") && points.length > 0 && farEnough(lastScreen, p.screen, SHIFT_STEP_PX)) {
            add(p.image, p.screen);
          } else render();
        },
        dblclick() {
          finish();
        },
        contextmenu() {
          undoPoint();
        },
      },
    };
  });
}

export function polyEditTool(type: ShapeType): EditTool {
  let points: number[] = [];
  const min = minPoints(type);

  return handleEditTool({
    load(object) {
      points = [...object.points];
    },
    result: () => ({ points, rotation: 0 }),
    render({ host: h, group, color, commit, drag }) {
      const size = h.imageSize();

      const dragPoints = (e: Konva.KonvaEventObject<MouseEvent>, start: number[], apply: (start: number[], p: Point, from: Point) => number[], emitWithoutMove: boolean) =>
        drag(e, {
          move(p, from) {
            points = apply(start, p, from);
          },
          end(p, moved, from) {
            if (moved) points = apply(start, p, from);
            else if (!emitWithoutMove) return;
            points = clampAll(h, points);
            commit();
          },
        });
      const moveAll = (e: Konva.KonvaEventObject<MouseEvent>) => {
        const box = bboxOf(points);
        dragPoints(e, points, (start, p, from) => {
          const d = clampDelta(box, p.x - from.x, p.y - from.y, size.width, size.height);
          return translatePoints(start, d.x, d.y);
        }, false);
      };

      if (type !== "points") {
        const body = new Konva.Line({ ...outlineStyle(color, type === "polygon" ? 0.15 : 0), points, closed: type === "polygon" });
        body.on("mousedown", moveAll);
        group.add(body);
        for (const mid of edgeMidpoints(points, type === "polygon")) {
          const handle = makeHandle(h, mid, color, "square");
          handle.on("mousedown", (e) => {
            if (e.evt.button !== 0) return;
            const inserted = insertVertex(points, mid.after, mid);
            points = inserted;
            dragPoints(e, inserted, (start, p) => moveVertex(start, mid.after + 1, h.clamp(p)), true);
          });
          group.add(handle);
        }
      } else {
        // points have no body to grab; a thin hull shows what moves with Shift+drag on a point
        if (points.length >= 4) group.add(new Konva.Line({ points, stroke: color, strokeWidth: STROKE_PX / 2, strokeScaleEnabled: false, dash: [2, 4], listening: false }));
      }

      for (let i = 0; 2 * i + 1 < points.length; i += 1) {
        const index = i;
        const handle = makeHandle(h, { x: points[2 * i]!, y: points[2 * i + 1]! }, color);
        handle.on("mousedown", (e) => {
          if (e.evt.button === 2 || (e.evt.button === 0 && e.evt.altKey)) {
            e.cancelBubble = true;
            e.evt.preventDefault();
            const next = removeVertex(points, index, min);
            if (!next) return;
            points = next;
            commit();
            return;
          }
          if (type === "points" && e.evt.shiftKey) moveAll(e);
          else dragPoints(e, points, (start, p) => moveVertex(start, index, h.clamp(p)), false);
        });
        handle.on("contextmenu", (e) => {
          e.cancelBubble = true;
          e.evt.preventDefault();
        });
        group.add(handle);
      }
    },
  });
}

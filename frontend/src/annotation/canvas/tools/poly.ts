// Polygons, polylines and points. Drawing: a click adds a point, double-click / N / Enter
// finishes, `pointsCount` finishes by itself, Backspace or a right click drops the last point, and
// Shift held while moving adds a point every few screen pixels (CVAT's shift-drag, for polygons
// and polylines). Editing: drag a vertex; press an edge's middle handle to add a vertex there (and
// drag it); Alt+click or right-click a vertex to remove it (never below the type's minimum); drag
// the body to move the whole shape.
import Konva from "konva";
import type { FrameObject, ShapeType } from "../../model";
import type { DrawTool, EditTool, Point, ToolHost } from "../types";
import { CLICK_SLOP_PX, clampAll, eventImage, keepHandleSize, listenPointer, makeHandle, outlineStyle, SHIFT_STEP_PX, startGesture, STROKE_PX } from "./handles";
import { bboxOf, canFinish, clampDelta, edgeMidpoints, farEnough, insertVertex, minPoints, moveVertex, removeVertex, translatePoints } from "./shapesMath";

export function polyTool(type: ShapeType): DrawTool {
  let off: (() => void) | null = null;
  let group: Konva.Group | null = null;
  let hostRef: ToolHost | null = null;
  let points: number[] = [];
  let finishNow: () => boolean = () => false;
  let undo: () => boolean = () => false;

  const teardown = () => {
    off?.();
    off = null;
    group?.destroy();
    group = null;
    hostRef?.redraw();
    hostRef = null;
  };

  return {
    start(host, request, done) {
      hostRef = host;
      points = [];
      group = new Konva.Group({ listening: false });
      host.layer.add(group);
      let pointer: Point | null = null;
      let press: Point | null = null;
      let lastScreen: Point | null = null;
      let ended = false;

      const render = () => {
        if (!group) return;
        group.destroyChildren();
        const live = pointer && type !== "points" ? [...points, pointer.x, pointer.y] : points;
        if (type !== "points" && live.length >= 4) {
          group.add(new Konva.Line({ ...outlineStyle(request.color, type === "polygon" ? 0.15 : 0), points: live, closed: type === "polygon" && live.length >= 6 }));
        }
        for (let i = 0; i + 1 < points.length; i += 2) group.add(makeHandle(host, { x: points[i]!, y: points[i + 1]! }, request.color));
        host.redraw();
      };
      const complete = () => {
        if (ended) return;
        ended = true;
        const result = { type, labelId: request.labelId, points: [...points], rotation: 0 };
        teardown();
        done(result);
      };
      const add = (image: Point, screen: Point) => {
        const p = host.clamp(image);
        const n = points.length;
        if (n >= 2) {
          const last = host.toScreen({ x: points[n - 2]!, y: points[n - 1]! });
          if (Math.hypot(last.x - screen.x, last.y - screen.y) < 2) return; // the second click of a double-click
        }
        points.push(p.x, p.y);
        lastScreen = screen;
        if (request.pointsCount && points.length / 2 >= request.pointsCount) complete();
        else render();
      };
      finishNow = () => {
        if (ended || !canFinish(type, points)) return false;
        complete();
        return true;
      };
      undo = () => {
        if (points.length === 0) return false;
        points.splice(-2, 2);
        lastScreen = null;
        render();
        return true;
      };

      off = listenPointer(host, {
        down(p) {
          if (p.button === 0) press = p.screen;
        },
        up(p) {
          if (p.button !== 0 || !press) return;
          const click = Math.hypot(p.screen.x - press.x, p.screen.y - press.y) < CLICK_SLOP_PX;
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
          finishNow();
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

export function polyEditTool(type: ShapeType): EditTool {
  let host: ToolHost | null = null;
  let group: Konva.Group | null = null;
  let points: number[] = [];
  let color = "#000000";
  let emit: (points: number[]) => void = () => {};
  let unsize: (() => void) | null = null;
  let stopGesture: (() => void) | null = null;
  const min = minPoints(type);

  const render = () => {
    if (!host || !group) return;
    const h = host;
    group.destroyChildren();
    const size = h.imageSize();

    const drag = (e: Konva.KonvaEventObject<MouseEvent>, start: number[], apply: (start: number[], p: Point, from: Point) => number[], emitWithoutMove: boolean) => {
      e.cancelBubble = true;
      const from = eventImage(h, e);
      stopGesture = startGesture(h, from, {
        move(p) {
          points = apply(start, p, from);
          render();
        },
        end(p, moved) {
          stopGesture = null;
          if (moved) points = apply(start, p, from);
          else if (!emitWithoutMove) return;
          points = clampAll(h, points);
          render();
          emit(points);
        },
      });
    };

    if (type !== "points") {
      const body = new Konva.Line({ ...outlineStyle(color, type === "polygon" ? 0.15 : 0), points, closed: type === "polygon" });
      body.on("mousedown", (e) => {
        if (e.evt.button !== 0) return;
        const box = bboxOf(points);
        drag(e, points, (start, p, from) => {
          const d = clampDelta(box, p.x - from.x, p.y - from.y, size.width, size.height);
          return translatePoints(start, d.x, d.y);
        }, false);
      });
      group.add(body);
      for (const mid of edgeMidpoints(points, type === "polygon")) {
        const handle = makeHandle(h, mid, color, "square");
        handle.on("mousedown", (e) => {
          if (e.evt.button !== 0) return;
          const inserted = insertVertex(points, mid.after, mid);
          points = inserted;
          drag(e, inserted, (start, p) => moveVertex(start, mid.after + 1, h.clamp(p)), true);
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
      const remove = () => {
        const next = removeVertex(points, index, min);
        if (!next) return;
        points = next;
        render();
        emit(points);
      };
      handle.on("mousedown", (e) => {
        if (e.evt.button === 2 || (e.evt.button === 0 && e.evt.altKey)) {
          e.cancelBubble = true;
          e.evt.preventDefault();
          remove();
          return;
        }
        if (e.evt.button !== 0) return;
        if (type === "points" && e.evt.shiftKey) {
          const box = bboxOf(points);
          drag(e, points, (start, p, from) => {
            const d = clampDelta(box, p.x - from.x, p.y - from.y, size.width, size.height);
            return translatePoints(start, d.x, d.y);
          }, false);
          return;
        }
        drag(e, points, (start, p) => moveVertex(start, index, h.clamp(p)), false);
      });
      handle.on("contextmenu", (e) => {
        e.cancelBubble = true;
        e.evt.preventDefault();
      });
      group.add(handle);
    }
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
      unsize = keepHandleSize(h, group);
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
      unsize?.();
      group?.destroy();
      group = null;
      host?.redraw();
      host = null;
    },
  };
}

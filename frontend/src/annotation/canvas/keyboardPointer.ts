// Drawing without a mouse: while a draw or review tool is active, the arrow keys move a crosshair
// over the frame and Enter (or Space) clicks where it stands. The tools see ordinary mouse
// events (a move, then a press and a release at the crosshair), so every tool that can be drawn
// by clicks (rectangles and regions by two corners, polygons, polylines, points, ellipses,
// cuboids, skeletons) can be drawn from the keyboard, and N finishes as usual.
import Konva from "konva";
import type { Point, ToolHost } from "./types";

export type PointerKey = "left" | "right" | "up" | "down" | "click";

/** Screen pixels a key moves the crosshair (Shift: the fast step). */
export const STEP_PX = 4;
export const FAST_STEP_PX = 24;

/** The crosshair after a key, in image pixels, kept inside the frame. */
export function movePointer(at: Point, key: Exclude<PointerKey, "click">, fast: boolean, scale: number, frame: { width: number; height: number }): Point {
  const step = (fast ? FAST_STEP_PX : STEP_PX) / scale;
  const dx = key === "left" ? -step : key === "right" ? step : 0;
  const dy = key === "up" ? -step : key === "down" ? step : 0;
  return { x: Math.min(frame.width, Math.max(0, at.x + dx)), y: Math.min(frame.height, Math.max(0, at.y + dy)) };
}

export interface KeyboardPointer {
  /** a key while a tool is active; false when the key is not one of the pointer's */
  key(key: PointerKey, fast: boolean): boolean;
  /** the tool ended: the crosshair goes */
  reset(): void;
}

export function keyboardPointer(host: ToolHost, start: () => Point): KeyboardPointer {
  let at: Point | null = null;
  let cross: Konva.Group | null = null;

  const draw = (p: Point) => {
    if (!cross) {
      cross = new Konva.Group({ listening: false, name: "keyboard-pointer" });
      const style = { stroke: "#ffffff", strokeWidth: 1, strokeScaleEnabled: false, shadowColor: "#000", shadowBlur: 2, listening: false };
      cross.add(new Konva.Line({ ...style, points: [-1, 0, 1, 0] }), new Konva.Line({ ...style, points: [0, -1, 0, 1] }));
      host.layer.add(cross);
    }
    const arm = 12 / host.scale();
    const [h, v] = cross.getChildren() as Konva.Line[];
    h?.points([p.x - arm, p.y, p.x + arm, p.y]);
    v?.points([p.x, p.y - arm, p.x, p.y + arm]);
    cross.moveToTop();
    host.redraw();
  };

  const fire = (type: "mousemove" | "mousedown" | "mouseup", p: Point, shift: boolean) => {
    const container = host.stage.container();
    const rect = container.getBoundingClientRect();
    const s = host.toScreen(p);
    const init: MouseEventInit = { bubbles: true, cancelable: true, clientX: rect.left + s.x, clientY: rect.top + s.y, button: 0, buttons: type === "mouseup" ? 0 : 1, shiftKey: shift, view: window };
    (type === "mousedown" ? container : window).dispatchEvent(new MouseEvent(type, init));
  };

  return {
    key(key, fast) {
      const from = at ?? host.clamp(start());
      const to = key === "click" ? from : movePointer(from, key, fast, host.scale(), host.imageSize());
      at = to;
      draw(to);
      fire("mousemove", to, false);
      if (key === "click") {
        // the press may finish the drawing, and the tool's end resets this pointer: keep `to`
        fire("mousedown", to, false);
        fire("mouseup", to, false);
      }
      return true;
    },
    reset() {
      at = null;
      cross?.destroy();
      cross = null;
    },
  };
}

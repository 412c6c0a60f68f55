// The canvas view's math, pure: fitting a frame into the container, zooming about a screen point
// with a clamped scale, panning, screen <-> image coordinates, the image rectangle on screen, and
// the CSS transform that maps a bitmap rendered at one view onto another (pan/zoom gestures move
// cached layer bitmaps instead of redrawing shapes). screen = image * scale + (x, y).
import type { Point, ViewTransform } from "./types";

export const MIN_SCALE = 0.05;
export const MAX_SCALE = 50;

export interface Size {
  width: number;
  height: number;
}

/** An axis-aligned rectangle, in rbush's shape. */
export interface Rect {
  minX: number;
  minY: number;
  maxX: number;
  maxY: number;
}

export function clampScale(scale: number): number {
  if (!Number.isFinite(scale)) return 1;
  return Math.min(MAX_SCALE, Math.max(MIN_SCALE, scale));
}

/** The view that shows the whole image centred in the container, `padding` screen pixels around. */
export function fitView(container: Size, image: Size, padding = 0): ViewTransform {
  if (image.width <= 0 || image.height <= 0 || container.width <= 0 || container.height <= 0) {
    return { scale: 1, x: 0, y: 0 };
  }
  const availableW = Math.max(1, container.width - 2 * padding);
  const availableH = Math.max(1, container.height - 2 * padding);
  const scale = clampScale(Math.min(availableW / image.width, availableH / image.height));
  return {
    scale,
    x: (container.width - image.width * scale) / 2,
    y: (container.height - image.height * scale) / 2,
  };
}

/** Zoom by `factor` keeping the image point under `screen` where it is (the scale is clamped). */
export function zoomAbout(view: ViewTransform, factor: number, screen: Point): ViewTransform {
  const scale = clampScale(view.scale * factor);
  const anchor = toImage(view, screen);
  return { scale, x: screen.x - anchor.x * scale, y: screen.y - anchor.y * scale };
}

export function panBy(view: ViewTransform, dx: number, dy: number): ViewTransform {
  return { scale: view.scale, x: view.x + dx, y: view.y + dy };
}

export function toImage(view: ViewTransform, screen: Point): Point {
  return { x: (screen.x - view.x) / view.scale, y: (screen.y - view.y) / view.scale };
}

export function toScreen(view: ViewTransform, image: Point): Point {
  return { x: image.x * view.scale + view.x, y: image.y * view.scale + view.y };
}

/** The image rectangle the container shows, grown by `margin` (a fraction of its size) on each side. */
export function visibleRect(view: ViewTransform, container: Size, margin = 0): Rect {
  const topLeft = toImage(view, { x: 0, y: 0 });
  const bottomRight = toImage(view, { x: container.width, y: container.height });
  const padX = (bottomRight.x - topLeft.x) * margin;
  const padY = (bottomRight.y - topLeft.y) * margin;
  return { minX: topLeft.x - padX, minY: topLeft.y - padY, maxX: bottomRight.x + padX, maxY: bottomRight.y + padY };
}

/** The transform (uniform scale k, then translate) that maps what was rendered at `from` onto `to`. */
export function relativeTransform(from: ViewTransform, to: ViewTransform): ViewTransform {
  const k = to.scale / from.scale;
  return { scale: k, x: to.x - from.x * k, y: to.y - from.y * k };
}

export function cssMatrix(t: ViewTransform): string {
  return `matrix(${t.scale}, 0, 0, ${t.scale}, ${t.x}, ${t.y})`;
}

export function sameView(a: ViewTransform, b: ViewTransform): boolean {
  return a.scale === b.scale && a.x === b.x && a.y === b.y;
}

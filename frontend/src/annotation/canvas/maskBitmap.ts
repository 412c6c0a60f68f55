// A mask's pixels as a canvas to draw (decoded once per points array and colour): the engine's
// static layer and the mask edit tool both show masks with it.
import { maskOf } from "../geometry";
import { maskToRgba } from "../mask";

const maskCache = new WeakMap<readonly number[], { key: string; canvas: HTMLCanvasElement }>();

/** The mask's canvas and where its top-left pixel goes; null for an empty mask (or without a DOM). */
export function maskCanvas(points: readonly number[], color: string): { canvas: HTMLCanvasElement; left: number; top: number } | null {
  if (typeof document === "undefined") return null; // no DOM (unit tests): nothing to draw
  const mask = maskOf(points);
  if (mask.width <= 0 || mask.height <= 0) return null;
  const cached = maskCache.get(points);
  if (cached && cached.key === color) return { canvas: cached.canvas, left: mask.left, top: mask.top };
  const canvas = document.createElement("canvas");
  canvas.width = mask.width;
  canvas.height = mask.height;
  const rgba = maskToRgba(mask, color, 0.5) as Uint8ClampedArray<ArrayBuffer>;
  canvas.getContext("2d")?.putImageData(new ImageData(rgba, mask.width, mask.height), 0, 0);
  maskCache.set(points, { key: color, canvas });
  return { canvas, left: mask.left, top: mask.top };
}

// The mask tool's paint buffer: a 0/1 byte per pixel over the whole frame, which the brush, the
// eraser and the polygon fill write into (shapesMath's stampLine / fillPolygon) and which finish()
// encodes as CVAT mask points. Editing an existing mask starts from its decoded pixels; the buffer
// grows past the frame when the mask's box does, so an untouched mask re-encodes to itself.
import { decodeMask, encodeMask } from "../../mask";
import type { Bounds } from "./shapesMath";

export interface MaskBuffer {
  width: number;
  height: number;
  /** row-major, width * height bytes, 0 or 1 */
  data: Uint8Array;
}

/**
 * A paint buffer of the frame (`frameWidth` x `frameHeight`) with the pixels of `points` (CVAT
 * mask points) set; empty without points. It is grown right and down to hold a box that reaches
 * past the frame; pixels at negative coordinates (invalid for CVAT) are dropped.
 */
export function maskBufferFrom(points: readonly number[] | undefined, frameWidth: number, frameHeight: number): MaskBuffer {
  const mask = points && points.length >= 5 ? decodeMask(points) : null;
  const has = mask !== null && mask.width > 0 && mask.height > 0;
  const width = Math.max(0, Math.floor(frameWidth), has ? mask.left + mask.width : 0);
  const height = Math.max(0, Math.floor(frameHeight), has ? mask.top + mask.height : 0);
  const data = new Uint8Array(width * height);
  if (has) {
    for (let y = Math.max(0, -mask.top); y < mask.height; y += 1) {
      const x0 = Math.max(0, -mask.left);
      if (x0 >= mask.width) break;
      const from = y * mask.width;
      const to = (mask.top + y) * width + mask.left;
      for (let x = x0; x < mask.width; x += 1) data[to + x] = mask.data[from + x] ? 1 : 0;
    }
  }
  return { width, height, data };
}

/** The box of the set pixels (inclusive), or null when none is set. */
export function maskBufferBounds(buffer: MaskBuffer): Bounds | null {
  const { width, height, data } = buffer;
  let left = width;
  let top = -1;
  let right = -1;
  let bottom = -1;
  for (let y = 0; y < height; y += 1) {
    const row = y * width;
    let first = -1;
    let last = -1;
    for (let x = 0; x < width; x += 1) {
      if (!data[row + x]) continue;
      if (first < 0) first = x;
      last = x;
    }
    if (first < 0) continue;
    if (top < 0) top = y;
    bottom = y;
    if (first < left) left = first;
    if (last > right) right = last;
  }
  return top < 0 ? null : { left, top, right, bottom };
}

/** CVAT mask points of the set pixels, cropped to them; `[]` when none is set (not a mask). */
export function maskBufferPoints(buffer: MaskBuffer): number[] {
  return encodeMask(buffer.data, 0, 0, buffer.width, buffer.height);
}

/**
 * RGBA pixels of the buffer inside `bounds` (clipped to the buffer), for the preview's
 * putImageData: set pixels opaque in `rgb`, the rest transparent (so erased pixels clear).
 */
export function maskBufferRgba(buffer: MaskBuffer, bounds: Bounds, rgb: readonly [number, number, number]): { data: Uint8ClampedArray<ArrayBuffer>; left: number; top: number; width: number; height: number } | null {
  const left = Math.max(0, Math.floor(bounds.left));
  const top = Math.max(0, Math.floor(bounds.top));
  const right = Math.min(buffer.width - 1, Math.floor(bounds.right));
  const bottom = Math.min(buffer.height - 1, Math.floor(bounds.bottom));
  if (right < left || bottom < top) return null;
  const width = right - left + 1;
  const height = bottom - top + 1;
  const data = new Uint8ClampedArray(width * height * 4);
  for (let y = 0; y < height; y += 1) {
    const row = (top + y) * buffer.width + left;
    for (let x = 0; x < width; x += 1) {
      if (!buffer.data[row + x]) continue;
      const o = 4 * (y * width + x);
      data[o] = rgb[0];
      data[o + 1] = rgb[1];
      data[o + 2] = rgb[2];
      data[o + 3] = 255;
    }
  }
  return { data, left, top, width, height };
}

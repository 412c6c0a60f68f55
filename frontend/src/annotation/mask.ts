// CVAT's mask encoding, as the server reads and writes it (domain/annotations.py mask_bbox /
// mask_runs, formats/common.py cvat_mask_to_bitmap / bitmap_to_cvat_mask): `points` are run
// lengths over the mask's bounding box, row by row, alternating unset/set and starting with an
// unset run (0 when the first pixel is set), followed by `left, top, right, bottom` (right and
// bottom inclusive). The canvas decodes a mask to draw and hit-test it; the brush encodes one.
//
// A `Mask` is a byte per pixel (non-zero: set) over a box of the image.

export interface Mask {
  left: number;
  top: number;
  width: number;
  height: number;
  /** row-major, width * height bytes; non-zero is set */
  data: Uint8Array;
}

/** Python's round() for the numbers of a mask (ties to even), so odd input decodes as on the server. */
function pyRound(v: number): number {
  const r = Math.round(v);
  return r - v === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** `[left, top, right, bottom]` (inclusive) of CVAT mask points. */
export function maskBox(points: readonly number[]): [number, number, number, number] {
  const n = points.length;
  return [pyRound(points[n - 4] ?? 0), pyRound(points[n - 3] ?? 0), pyRound(points[n - 2] ?? 0), pyRound(points[n - 1] ?? 0)];
}

/** Why CVAT mask points are invalid (the server's check), or null. */
export function checkMask(points: readonly number[]): string | null {
  if (points.length < 5) return `a mask needs RLE runs and a bounding box (>= 5 numbers), got ${points.length}`;
  if (!points.every(Number.isFinite)) return "points must be finite numbers";
  const [left, top, right, bottom] = maskBox(points);
  if (right < left || bottom < top || left < 0 || top < 0) return `mask bounding box ${JSON.stringify([left, top, right, bottom])} is invalid`;
  let total = 0;
  for (let i = 0; i < points.length - 4; i++) {
    const r = points[i] as number;
    if (r < 0 || r !== Math.trunc(r)) return "mask runs must be non-negative integers";
    total += r;
  }
  const area = (right - left + 1) * (bottom - top + 1);
  return total === area ? null : `mask runs cover ${total} pixels, the box has ${area}`;
}

/**
 * The mask of CVAT mask points. Lenient, for drawing: runs past the box are ignored and a box
 * the runs do not fill stays unset (`checkMask` says whether the points are valid).
 */
export function decodeMask(points: readonly number[]): Mask {
  if (points.length < 4) return { left: 0, top: 0, width: 0, height: 0, data: new Uint8Array(0) };
  const [left, top, right, bottom] = maskBox(points);
  const width = Math.max(0, right - left + 1);
  const height = Math.max(0, bottom - top + 1);
  const data = new Uint8Array(width * height);
  let at = 0;
  for (let i = 0; i < points.length - 4 && at < data.length; i++) {
    const run = Math.max(0, pyRound(points[i] as number));
    const end = Math.min(data.length, at + run);
    if (i % 2 === 1) data.fill(1, at, end);
    at = end;
  }
  return { left, top, width, height, data };
}

/** The tight box of set pixels, in the mask's own coordinates, or null when none is set. */
function setBounds(data: Uint8Array, width: number, height: number): [number, number, number, number] | null {
  let x0 = width;
  let y0 = height;
  let x1 = -1;
  let y1 = -1;
  for (let y = 0; y < height; y++) {
    const row = y * width;
    let first = -1;
    let last = -1;
    for (let x = 0; x < width; x++) {
      if (data[row + x]) {
        if (first < 0) first = x;
        last = x;
      }
    }
    if (first < 0) continue;
    if (y0 === height) y0 = y;
    y1 = y;
    if (first < x0) x0 = first;
    if (last > x1) x1 = last;
  }
  return y1 < 0 ? null : [x0, y0, x1, y1];
}

/** The mask cropped to its set pixels (null when none is set). */
export function cropMask(mask: Mask): Mask | null {
  const bounds = setBounds(mask.data, mask.width, mask.height);
  if (bounds === null) return null;
  const [x0, y0, x1, y1] = bounds;
  const width = x1 - x0 + 1;
  const height = y1 - y0 + 1;
  if (width === mask.width && height === mask.height) return mask;
  const data = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) {
    const from = (y0 + y) * mask.width + x0;
    data.set(mask.data.subarray(from, from + width), y * width);
  }
  return { left: mask.left + x0, top: mask.top + y0, width, height, data };
}

/**
 * CVAT mask points of `data` (a `width` x `height` box whose top-left pixel is `left, top`),
 * cropped to the set pixels first, as the server writes them; `[]` when nothing is set.
 */
export function encodeMask(data: Uint8Array, left: number, top: number, width: number, height: number): number[] {
  const crop = cropMask({ left, top, width, height, data });
  if (crop === null) return [];
  const runs: number[] = [];
  let value = 0;
  let count = 0;
  const n = crop.width * crop.height;
  for (let i = 0; i < n; i++) {
    const bit = crop.data[i] ? 1 : 0;
    if (bit === value) {
      count++;
    } else {
      runs.push(count);
      value = bit;
      count = 1;
    }
  }
  runs.push(count);
  runs.push(crop.left, crop.top, crop.left + crop.width - 1, crop.top + crop.height - 1);
  return runs;
}

/**
 * A polygon filled into a mask over its bounding box (clipped to the `width` x `height` image):
 * a pixel is set when its centre is inside the polygon by the even-odd rule, the rule of
 * geometry.ts's `pointInPolygon`.
 */
export function polygonToMask(polygon: readonly number[], width: number, height: number): Mask {
  const n = Math.floor(polygon.length / 2);
  let minX = Infinity;
  let minY = Infinity;
  let maxX = -Infinity;
  let maxY = -Infinity;
  for (let i = 0; i < n; i++) {
    const x = polygon[2 * i] as number;
    const y = polygon[2 * i + 1] as number;
    if (x < minX) minX = x;
    if (x > maxX) maxX = x;
    if (y < minY) minY = y;
    if (y > maxY) maxY = y;
  }
  const left = Math.max(0, Math.floor(minX));
  const top = Math.max(0, Math.floor(minY));
  const right = Math.min(width - 1, Math.ceil(maxX));
  const bottom = Math.min(height - 1, Math.ceil(maxY));
  if (n < 3 || right < left || bottom < top) return { left: 0, top: 0, width: 0, height: 0, data: new Uint8Array(0) };
  const w = right - left + 1;
  const h = bottom - top + 1;
  const data = new Uint8Array(w * h);
  const xs: number[] = [];
  for (let y = top; y <= bottom; y++) {
    const py = y + 0.5;
    xs.length = 0;
    for (let i = 0, j = n - 1; i < n; j = i++) {
      const xi = polygon[2 * i] as number;
      const yi = polygon[2 * i + 1] as number;
      const xj = polygon[2 * j] as number;
      const yj = polygon[2 * j + 1] as number;
      if (yi > py !== yj > py) xs.push(((xj - xi) * (py - yi)) / (yj - yi) + xi);
    }
    xs.sort((a, b) => a - b);
    for (let k = 0; k + 1 < xs.length; k += 2) {
      const xa = xs[k] as number;
      const xb = xs[k + 1] as number;
      // pixels whose centre x + 0.5 lies in [xa, xb)
      let from = Math.ceil(xa - 0.5);
      while (from + 0.5 < xa) from++;
      while (from - 0.5 >= xa) from--;
      let to = Math.ceil(xb - 0.5);
      while (to + 0.5 < xb) to++;
      while (to - 0.5 >= xb) to--;
      from = Math.max(from, left);
      to = Math.min(to, right + 1);
      if (to > from) data.fill(1, (y - top) * w + (from - left), (y - top) * w + (to - left));
    }
  }
  return { left, top, width: w, height: h, data };
}

/** `#rgb` / `#rrggbb` -> [r, g, b] (black for anything else). */
export function parseColor(color: string): [number, number, number] {
  const hex = color.trim().replace(/^#/, "");
  const full = hex.length === 3 ? hex.replace(/./g, (c) => c + c) : hex;
  if (!/^[0-9a-fA-F]{6}$/.test(full)) return [0, 0, 0];
  const v = parseInt(full, 16);
  return [(v >> 16) & 255, (v >> 8) & 255, v & 255];
}

/** RGBA pixels of the mask (for `new ImageData(rgba, mask.width, mask.height)`): set pixels in
 * `color` at `alpha` (0..1), the rest transparent. */
export function maskToRgba(mask: Mask, color: string, alpha: number): Uint8ClampedArray {
  const [r, g, b] = parseColor(color);
  const a = Math.round(Math.min(1, Math.max(0, alpha)) * 255);
  const out = new Uint8ClampedArray(mask.width * mask.height * 4);
  const n = mask.width * mask.height;
  for (let i = 0; i < n; i++) {
    if (!mask.data[i]) continue;
    const o = i * 4;
    out[o] = r;
    out[o + 1] = g;
    out[o + 2] = b;
    out[o + 3] = a;
  }
  return out;
}

/** How many pixels are set. */
export function maskArea(mask: Mask): number {
  let count = 0;
  for (let i = 0; i < mask.data.length; i++) if (mask.data[i]) count++;
  return count;
}

// The arithmetic of a virtualised list with fixed row heights: which rows a viewport shows (so
// that only those are in the DOM) and where to scroll so that a row is in view. Kept apart from
// the component so it can be tested without a DOM.

export interface Range {
  start: number; // first row to render
  end: number; // one past the last row to render
}

function finite(value: number, fallback = 0): number {
  return Number.isFinite(value) ? value : fallback;
}

/** The whole list's height. */
export function totalHeight(count: number, rowHeight: number): number {
  return Math.max(0, Math.floor(finite(count))) * Math.max(0, finite(rowHeight));
}

/**
 * The rows that intersect the viewport [scrollTop, scrollTop + viewport), widened by `overscan`
 * rows on each side and clamped to [0, count). Empty when there is nothing to show.
 */
export function visibleRange(scrollTop: number, viewport: number, rowHeight: number, count: number, overscan = 0): Range {
  const rows = Math.max(0, Math.floor(finite(count)));
  if (rows === 0 || !(rowHeight > 0)) return { start: 0, end: 0 };
  const extra = Math.max(0, Math.floor(finite(overscan)));
  const top = Math.max(0, finite(scrollTop)); // elastic overscroll can report < 0
  const height = Math.max(0, finite(viewport));
  const first = Math.min(rows - 1, Math.floor(top / rowHeight));
  const last = height > 0 ? Math.ceil((top + height) / rowHeight) : first + 1;
  return { start: Math.max(0, first - extra), end: Math.min(rows, Math.max(last, first + 1) + extra) };
}

/**
 * The scrollTop that brings row `index` fully into view with the least movement: unchanged when
 * it already is, the row at the top when it is above, at the bottom when it is below. The result
 * stays within [0, total - viewport]; an index outside the list leaves scrollTop as it is.
 */
export function scrollFor(index: number, scrollTop: number, viewport: number, rowHeight: number, count: number): number {
  const current = Math.max(0, finite(scrollTop));
  if (!Number.isInteger(index) || index < 0 || index >= count || !(rowHeight > 0)) return current;
  const height = Math.max(0, finite(viewport));
  const maxScroll = Math.max(0, totalHeight(count, rowHeight) - height);
  const rowTop = index * rowHeight;
  const rowBottom = rowTop + rowHeight;
  let next = current;
  if (rowTop < current || rowHeight > height) next = rowTop;
  else if (rowBottom > current + height) next = rowBottom - height;
  return Math.min(maxScroll, Math.max(0, next));
}

// A list that keeps only its visible rows (and a few around them) in the DOM, so the objects and
// labels sidebars stay fast with thousands of entries (CVAT's own sidebar is not virtualised and
// lags with 3,000+ objects). Rows have one fixed height; a spacer gives the scrollbar the whole
// list's height. The arithmetic lives in lib/virtual.ts.
import { useEffect, useLayoutEffect, useRef, useState, type CSSProperties, type ReactNode, type RefObject } from "react";
import { scrollFor, totalHeight, visibleRange } from "../lib/virtual";

export interface VirtualListProps<T> {
  items: readonly T[];
  rowHeight: number;
  /** pixels, or "fill": the height the parent gives the list (measured with a ResizeObserver) */
  height: number | "fill";
  /** rows rendered beyond each edge of the viewport (default 4) */
  overscan?: number;
  getKey: (item: T, index: number) => string | number;
  render: (item: T, index: number) => ReactNode;
  /** a row kept in view (e.g. the selected object): scrolled to whenever it changes */
  scrollToIndex?: number | null;
  ariaLabel?: string;
  className?: string;
}

/** The element's height, kept current while it resizes ("fill" lists). */
function useMeasuredHeight(ref: RefObject<HTMLElement | null>, enabled: boolean): number {
  const [height, setHeight] = useState(0);
  useLayoutEffect(() => {
    const element = ref.current;
    if (!enabled || !element) return;
    setHeight(element.clientHeight);
    if (typeof ResizeObserver === "undefined") return;
    const observer = new ResizeObserver(() => setHeight(element.clientHeight));
    observer.observe(element);
    return () => observer.disconnect();
  }, [ref, enabled]);
  return height;
}

export function VirtualList<T>({ items, rowHeight, height, overscan = 4, getKey, render, scrollToIndex = null, ariaLabel, className }: VirtualListProps<T>) {
  const ref = useRef<HTMLDivElement>(null);
  const [scrollTop, setScrollTop] = useState(0);
  const measured = useMeasuredHeight(ref, height === "fill");
  const viewport = height === "fill" ? measured : height;
  const count = items.length;

  useEffect(() => {
    const element = ref.current;
    if (!element || scrollToIndex === null || viewport <= 0) return;
    const target = scrollFor(scrollToIndex, element.scrollTop, viewport, rowHeight, count);
    if (target !== element.scrollTop) {
      element.scrollTop = target;
      setScrollTop(target);
    }
  }, [scrollToIndex, viewport, rowHeight, count]);

  // a shorter list (a filter applied) can leave scrollTop past its end
  useEffect(() => {
    const element = ref.current;
    if (element && element.scrollTop !== scrollTop) setScrollTop(element.scrollTop);
  }, [count, scrollTop]);

  const { start, end } = visibleRange(scrollTop, viewport, rowHeight, count, overscan);
  const rows: ReactNode[] = [];
  for (let index = start; index < end; index++) {
    const item = items[index] as T;
    rows.push(
      <div
        key={getKey(item, index)}
        role="listitem"
        aria-setsize={count}
        aria-posinset={index + 1}
        style={{ position: "absolute", top: index * rowHeight, left: 0, right: 0, height: rowHeight }}
      >
        {render(item, index)}
      </div>,
    );
  }

  const outer: CSSProperties = { overflowY: "auto", position: "relative", height: height === "fill" ? "100%" : height };
  return (
    <div ref={ref} className={className} style={outer} role="list" aria-label={ariaLabel} tabIndex={0} onScroll={(event) => setScrollTop(event.currentTarget.scrollTop)}>
      <div style={{ position: "relative", height: totalHeight(count, rowHeight), width: "100%" }}>{rows}</div>
    </div>
  );
}

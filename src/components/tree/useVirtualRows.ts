import { useCallback, useLayoutEffect, useRef, useState } from 'react';

/** Every tree row is this tall (px), so a row's place is its index times it; styles.css sets the same height (--tree-row). */
export const ROW_HEIGHT = 26;
/** Rows drawn beyond each edge of the view, so a fast scroll or a keypress never shows a blank. */
const OVERSCAN = 10;

/** The drawn slice of a fixed-height list: the first and last index to render, inclusive. */
export interface VirtualWindow {
  first: number;
  last: number;
}

/**
 * Windowing for a list of `count` rows of ROW_HEIGHT in a scroll container:
 * tracks the scroll position and the container's height (ResizeObserver). The
 * container's height is the layout's (styles.css: the tree fills the rest of
 * the model pane). Attach `scrollRef` and `onScroll` to the container.
 */
export function useVirtualRows(count: number) {
  const scrollRef = useRef<HTMLDivElement>(null);
  const [scrollTop, setScrollTop] = useState(0);
  const [viewport, setViewport] = useState(480);

  useLayoutEffect(() => {
    const element = scrollRef.current;
    if (!element) return;
    const measure = () => {
      if (element.clientHeight > 0) setViewport(element.clientHeight);
    };
    measure();
    const observer = new ResizeObserver(measure);
    observer.observe(element);
    return () => observer.disconnect();
  }, []);

  const onScroll = useCallback(() => {
    if (scrollRef.current) setScrollTop(scrollRef.current.scrollTop);
  }, []);

  /** Scrolls the least needed to show row `index` whole. */
  const scrollToIndex = useCallback(
    (index: number) => {
      const element = scrollRef.current;
      if (!element) return;
      const top = index * ROW_HEIGHT;
      const height = element.clientHeight || viewport;
      let next = element.scrollTop;
      if (top < next) next = top;
      else if (top + ROW_HEIGHT > next + height) next = top + ROW_HEIGHT - height;
      if (next !== element.scrollTop) {
        element.scrollTop = next;
        setScrollTop(element.scrollTop);
      }
    },
    [viewport],
  );

  const range: VirtualWindow = {
    first: Math.max(0, Math.floor(scrollTop / ROW_HEIGHT) - OVERSCAN),
    last: Math.min(count - 1, Math.ceil((scrollTop + viewport) / ROW_HEIGHT) + OVERSCAN),
  };
  return { scrollRef, onScroll, scrollToIndex, range, totalHeight: count * ROW_HEIGHT };
}

import { useCallback, useLayoutEffect, useRef, useState } from 'react';

/** Every tree row is this tall (px), so a row's place is its index times it; styles.css sets the same height. */
export const ROW_HEIGHT = 30;
/** Rows drawn beyond each edge of the view, so a fast scroll or a keypress never shows a blank. */
const OVERSCAN = 10;
/** The scroll area never gets shorter than this (px), even when the column above it is tall. */
const MIN_HEIGHT = 240;
/** …nor shorter than this share of the window's height. */
const MIN_SCREEN_SHARE = 0.6;
/** Room left under the tree for the panel's padding (px). */
const BOTTOM_GAP = 36;

/** The drawn slice of a fixed-height list: the first and last index to render, inclusive. */
export interface VirtualWindow {
  first: number;
  last: number;
}

/**
 * Windowing for a list of `count` rows of ROW_HEIGHT in a scroll container:
 * tracks the scroll position and the container's height (ResizeObserver), and
 * sizes the container to reach the bottom of the viewport. Attach `scrollRef`
 * and `onScroll` to the container.
 */
export function useVirtualRows(count: number) {
  const scrollRef = useRef<HTMLDivElement>(null);
  const [scrollTop, setScrollTop] = useState(0);
  const [viewport, setViewport] = useState(480);
  const [maxHeight, setMaxHeight] = useState(480);

  useLayoutEffect(() => {
    const element = scrollRef.current;
    if (!element) return;
    const measure = () => {
      if (element.clientHeight > 0) setViewport(element.clientHeight);
      // Fill the column down to the viewport's bottom edge, measured from the page's top so scrolling does not
      // change it; when the tree starts low, take most of a screen anyway and let the page scroll to it.
      const top = element.getBoundingClientRect().top + window.scrollY;
      const height = Math.max(window.innerHeight - top - BOTTOM_GAP, window.innerHeight * MIN_SCREEN_SHARE, MIN_HEIGHT);
      setMaxHeight(Math.round(height));
    };
    measure();
    const observer = new ResizeObserver(measure);
    observer.observe(element);
    // What sits above the tree in the panel can grow or shrink; the panel's size says so.
    const panel = element.closest('.panel');
    if (panel) observer.observe(panel);
    window.addEventListener('resize', measure);
    return () => {
      observer.disconnect();
      window.removeEventListener('resize', measure);
    };
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
  return { scrollRef, onScroll, scrollToIndex, range, maxHeight, totalHeight: count * ROW_HEIGHT };
}

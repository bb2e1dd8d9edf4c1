import { memo, useCallback, useEffect, useLayoutEffect, useRef, useState } from 'react';
import { imageByteLength, toRgbaForThumbnail } from '../../data/pixels';
import type { ImageShape } from '../../data/types';
import type { DatasetImage } from '../../store/store';

/** Every grid cell is this wide and tall (px), gap included; styles.css draws the thumbnail inside it. */
export const THUMB_CELL = 48;
/** Rows drawn beyond each edge of the view, so a fast scroll does not show blanks. */
const OVERSCAN_ROWS = 3;
/** Width assumed before the first measurement (px). */
const DEFAULT_WIDTH = 8 * THUMB_CELL;
/** Height assumed before the first measurement (px); styles.css bounds the scroll area's height. */
const DEFAULT_HEIGHT = 4 * THUMB_CELL;

/** Props of `ThumbnailGrid`. */
export interface ThumbnailGridProps {
  images: DatasetImage[];
  shape: ImageShape;
  /** When given, every thumbnail gets a "Remove <path>" button that calls it with the image's id. */
  onRemove?(id: number): void;
  /** Accessible name of the grid, e.g. "Images of class cat". */
  label: string;
}

/** The rows to draw for a scroll position: first and last row index, inclusive (last < first when empty). */
export function visibleRows(
  scrollTop: number,
  viewport: number,
  rowCount: number,
  rowHeight = THUMB_CELL,
  overscan = OVERSCAN_ROWS,
): { first: number; last: number } {
  const first = Math.max(0, Math.floor(scrollTop / rowHeight) - overscan);
  const last = Math.min(rowCount - 1, Math.ceil((scrollTop + viewport) / rowHeight) + overscan);
  return { first, last };
}

/**
 * One thumbnail at model resolution, scaled by CSS. Pixels of another shape (the moment
 * between a model change and their re-derivation) draw nothing rather than fail.
 */
const GridThumb = memo(function GridThumb({ pixels, shape, label }: { pixels: Uint8Array; shape: ImageShape; label: string }) {
  const canvasRef = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    const context = canvasRef.current?.getContext('2d');
    if (!context) return;
    if (pixels.length !== imageByteLength(shape)) {
      context.clearRect(0, 0, shape.width, shape.height);
      return;
    }
    context.putImageData(new ImageData(toRgbaForThumbnail(pixels, shape), shape.width, shape.height), 0, 0);
  }, [pixels, shape]);
  return <canvas ref={canvasRef} className="thumb" width={shape.width} height={shape.height} role="img" aria-label={label} />;
});

/**
 * A class's thumbnails in a virtualised grid: fixed cells of THUMB_CELL px, as many columns as
 * fit the width, and only the rows in view (plus a few) in the DOM, so 10,000 images scroll
 * smoothly. The grid is its own scroll container of bounded height (styles.css `.thumb-grid`).
 */
export function ThumbnailGrid({ images, shape, onRemove, label }: ThumbnailGridProps) {
  const scrollRef = useRef<HTMLDivElement>(null);
  const [scrollTop, setScrollTop] = useState(0);
  const [size, setSize] = useState({ width: DEFAULT_WIDTH, height: DEFAULT_HEIGHT });

  useLayoutEffect(() => {
    const element = scrollRef.current;
    if (!element) return;
    const measure = () => {
      if (element.clientWidth > 0) setSize({ width: element.clientWidth, height: element.clientHeight || DEFAULT_HEIGHT });
    };
    measure();
    const observer = new ResizeObserver(measure);
    observer.observe(element);
    return () => observer.disconnect();
  }, []);

  const onScroll = useCallback(() => {
    if (scrollRef.current) setScrollTop(scrollRef.current.scrollTop);
  }, []);

  const columns = Math.max(1, Math.floor(size.width / THUMB_CELL));
  const rowCount = Math.ceil(images.length / columns);
  const { first, last } = visibleRows(scrollTop, size.height, rowCount);
  const rows = [];
  for (let row = first; row <= last; row++) {
    const cells = [];
    for (let i = row * columns; i < Math.min(images.length, (row + 1) * columns); i++) {
      const image = images[i];
      cells.push(
        <div key={image.id} className="thumb-cell" role="listitem" aria-posinset={i + 1} aria-setsize={images.length}>
          <GridThumb pixels={image.pixels} shape={shape} label={image.path} />
          {onRemove ? (
            <button
              type="button"
              className="thumb-remove"
              aria-label={`Remove ${image.path}`}
              title={`Remove ${image.path}`}
              onClick={() => onRemove(image.id)}
            >
              ×
            </button>
          ) : null}
        </div>,
      );
    }
    rows.push(
      <div key={row} className="thumb-row" role="presentation" style={{ top: row * THUMB_CELL, height: THUMB_CELL }}>
        {cells}
      </div>,
    );
  }

  return (
    <div ref={scrollRef} className="thumb-grid" onScroll={onScroll} tabIndex={0} role="list" aria-label={label}>
      <div className="thumb-grid-inner" style={{ height: rowCount * THUMB_CELL }}>
        {rows}
      </div>
    </div>
  );
}

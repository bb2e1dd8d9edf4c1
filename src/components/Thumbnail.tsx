import { useEffect, useRef } from 'react';
import { toRgbaForThumbnail } from '../data/pixels';
import type { ImageShape } from '../data/types';

/** One image's pixels drawn at model resolution and scaled up by CSS (pixelated). */
export function Thumbnail({ pixels, shape, label }: { pixels: Uint8Array; shape: ImageShape; label: string }) {
  const canvasRef = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    const context = canvasRef.current?.getContext('2d');
    if (!context) return;
    context.putImageData(new ImageData(toRgbaForThumbnail(pixels, shape), shape.width, shape.height), 0, 0);
  }, [pixels, shape]);
  return <canvas ref={canvasRef} className="thumb" width={shape.width} height={shape.height} role="img" aria-label={label} />;
}

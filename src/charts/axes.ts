import type uPlot from 'uplot';

/** Canvas cannot read `currentColor`: take the theme's text colour (light or dark) from CSS. */
export const themeTextColour = (): string => getComputedStyle(document.documentElement).getPropertyValue('--text').trim() || '#1d2330';

/** One chart axis in the studio's look: labelled, theme-coloured text, faint grid and ticks; `size` in px for a y axis with long numbers. */
export function studioAxis(label: string, size?: number): uPlot.Axis {
  return { label, stroke: themeTextColour, grid: { stroke: 'rgba(128,128,128,0.15)' }, ticks: { stroke: 'rgba(128,128,128,0.3)' }, ...(size ? { size } : {}) };
}

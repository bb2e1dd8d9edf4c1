import { useMemo } from 'react';
import { presetBlocks, type PresetBlock } from '../core/presets';
import type { LayerInfo } from '../core/types';
import { transferLayers } from './selectors';
import { useStudio } from './store';

/** The tree's rows (pretrained layers up to the cut, then the new head), recomputed only when their inputs change. */
export function useTransferLayers(): LayerInfo[] {
  const model = useStudio((s) => s.model);
  const cutLayer = useStudio((s) => s.cutLayer);
  const classNames = useStudio((s) => s.classNames);
  const head = useStudio((s) => s.head);
  return useMemo(() => transferLayers({ model, cutLayer, classNames, head }), [model, cutLayer, classNames, head]);
}

/** The model's blocks as presets, schedules and per-block rates see them (the head left out), recomputed with the rows. */
export function useRunBlocks(): PresetBlock[] {
  const rows = useTransferLayers();
  return useMemo(() => presetBlocks(rows), [rows]);
}

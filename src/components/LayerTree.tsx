import { useMemo, useRef, useState, type KeyboardEvent } from 'react';
import { isFrozen } from '../engine/params';
import type { LayerInfo } from '../engine/types';
import { useTransferLayers } from '../store/hooks';
import { useStudio } from '../store/store';
import { formatCount, formatShape } from './format';

/** A lock for frozen layers, a spark for the new head, a dot for trained layers (shape, not only colour). */
function LayerIcon({ kind }: { kind: 'frozen' | 'head' | 'trained' }) {
  return (
    <svg className={`layer-icon ${kind}`} viewBox="0 0 16 16" width="14" height="14" aria-hidden="true">
      {kind === 'frozen' ? (
        <path fill="currentColor" d="M5 7V5a3 3 0 0 1 6 0v2h.5A1.5 1.5 0 0 1 13 8.5v5A1.5 1.5 0 0 1 11.5 15h-7A1.5 1.5 0 0 1 3 13.5v-5A1.5 1.5 0 0 1 4.5 7H5zm1.5 0h3V5a1.5 1.5 0 0 0-3 0v2z" />
      ) : kind === 'head' ? (
        <path fill="currentColor" d="M8 1l1.8 4.7L15 8l-5.2 2.3L8 15l-1.8-4.7L1 8l5.2-2.3z" />
      ) : (
        <circle cx="8" cy="8" r="3.5" fill="currentColor" />
      )}
    </svg>
  );
}

function LayerRow({ layer, frozen, focused, onFocus }: { layer: LayerInfo; frozen: boolean; focused: boolean; onFocus(): void }) {
  const setLayerFrozen = useStudio((s) => s.setLayerFrozen);
  const isHead = layer.origin === 'head';
  const params = layer.trainableParams + layer.nonTrainableParams;
  return (
    <li
      role="treeitem"
      aria-level={1}
      aria-selected={focused}
      tabIndex={focused ? 0 : -1}
      data-layer={layer.name}
      className={`layer-row${frozen ? ' frozen' : ''}${isHead ? ' head' : ''}`}
      onFocus={onFocus}
    >
      <input
        type="checkbox"
        tabIndex={-1}
        aria-label={`Freeze ${layer.name}`}
        checked={frozen}
        disabled={isHead}
        title={isHead ? 'The new head is always trained' : frozen ? 'Frozen: click to train this layer' : 'Trained: click to freeze this layer'}
        onChange={(event) => setLayerFrozen(layer.name, event.target.checked)}
      />
      <span className="layer-name" title={layer.name}>
        <LayerIcon kind={frozen ? 'frozen' : isHead ? 'head' : 'trained'} />
        <span className="layer-label">{layer.name}</span>
        <span className="visually-hidden">{isHead ? ', new head, always trained' : frozen ? ', frozen' : ', trained'}</span>
      </span>
      <span className="layer-type" title={layer.className}>
        {layer.className}
      </span>
      <span className="layer-shape">{formatShape(layer.outputShape)}</span>
      <span className="layer-params" title={layer.nonTrainableParams ? `${formatCount(layer.nonTrainableParams)} of them are moving statistics, never trained` : undefined}>
        {formatCount(params)}
      </span>
    </li>
  );
}

/**
 * The model's layers as a WAI-ARIA tree: arrow keys move, Space toggles the
 * focused layer's freeze, Home/End jump. Each row carries a "Freeze <name>"
 * checkbox; frozen rows are tinted and marked with a lock and the word "frozen".
 */
export function LayerTree() {
  const layers = useTransferLayers();
  const freezePlan = useStudio((s) => s.freezePlan);
  const filter = useStudio((s) => s.layerFilter);
  const setLayerFrozen = useStudio((s) => s.setLayerFrozen);
  const [focusedName, setFocusedName] = useState<string | null>(null);
  const listRef = useRef<HTMLUListElement>(null);

  const visible = useMemo(() => {
    const needle = filter.trim().toLowerCase();
    return needle ? layers.filter((l) => l.name.toLowerCase().includes(needle)) : layers;
  }, [layers, filter]);
  const focusIndex = Math.max(0, visible.findIndex((l) => l.name === focusedName));

  function moveFocus(index: number) {
    const clamped = Math.min(Math.max(index, 0), visible.length - 1);
    const name = visible[clamped]?.name;
    if (!name) return;
    setFocusedName(name);
    listRef.current?.querySelector<HTMLElement>(`[data-layer="${CSS.escape(name)}"]`)?.focus();
  }

  function onKeyDown(event: KeyboardEvent<HTMLUListElement>) {
    const current = visible[focusIndex];
    switch (event.key) {
      case 'ArrowDown':
        moveFocus(focusIndex + 1);
        break;
      case 'ArrowUp':
        moveFocus(focusIndex - 1);
        break;
      case 'Home':
        moveFocus(0);
        break;
      case 'End':
        moveFocus(visible.length - 1);
        break;
      case ' ':
        if (current && current.origin === 'pretrained') setLayerFrozen(current.name, !isFrozen(current, freezePlan));
        break;
      default:
        return;
    }
    event.preventDefault();
  }

  if (layers.length === 0) return null;
  return (
    <div className="tree-wrap">
      <div className="tree-header" aria-hidden="true">
        <span />
        <span>Layer</span>
        <span>Type</span>
        <span>Output</span>
        <span>Params</span>
      </div>
      <ul role="tree" aria-label="Layers" className="layer-tree" ref={listRef} onKeyDown={onKeyDown}>
        {visible.map((layer, i) => (
          <LayerRow
            key={layer.name}
            layer={layer}
            frozen={isFrozen(layer, freezePlan)}
            focused={i === focusIndex}
            onFocus={() => setFocusedName(layer.name)}
          />
        ))}
      </ul>
      {visible.length === 0 ? <p className="muted">No layer name contains “{filter}”.</p> : null}
    </div>
  );
}

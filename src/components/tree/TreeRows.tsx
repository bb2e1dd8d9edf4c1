import { memo, useEffect, useRef, type ReactNode } from 'react';
import { layerRowKey, groupRowKey, type LayerGroup } from '../../core/layerGroups';
import type { BatchNormMode as BatchNormModeName, LayerInfo } from '../../core/types';
import { blockMultiplierByFirstLayer } from '../../store/selectors';
import { useStudio } from '../../store/store';
import { formatCount, formatShape } from '../../core/format';

/**
 * ‖ΔW‖/‖W‖ since the run's start as a thin bar under the layer's name, on a log
 * scale (1e-5 → empty, 1 → full); its label carries the number.
 */
function UpdateBar({ name }: { name: string }) {
  const value = useStudio((s) => s.layerUpdates?.[name]);
  return value === undefined ? null : <UpdateBarView value={value} words="relative update" />;
}

/** A group's bar: the largest relative update among its layers, so a group that learned anything shows it closed. */
function GroupUpdateBar({ names }: { names: readonly string[] }) {
  const value = useStudio((s) => {
    const updates = s.layerUpdates;
    if (!updates) return undefined;
    let max: number | undefined;
    for (const name of names) {
      const v = updates[name];
      if (v !== undefined && (max === undefined || !(v <= max))) max = v; // NaN wins, as it should be seen
    }
    return max;
  });
  return value === undefined ? null : <UpdateBarView value={value} words="largest relative update in the group" />;
}

function UpdateBarView({ value, words }: { value: number; words: string }) {
  const shown = value === 0 ? '0' : Number.isFinite(value) ? value.toPrecision(3) : '∞';
  const fill = value === 0 ? 0 : Number.isFinite(value) ? Math.min(1, Math.max(0.04, (Math.log10(value) + 5) / 5)) : 1;
  return (
    <span className="update-bar" role="img" aria-label={`${words} ${shown}`} title={`‖ΔW‖/‖W‖ since the start of the run (${words}): ${shown}`}>
      <span style={{ width: `${fill * 100}%` }} />
    </span>
  );
}

/** The block's learning-rate multiplier while per-block rates are on ("lr ×0.32"), on the row of the block's first layer or group. */
function RateBadge({ name }: { name: string }) {
  const multiplier = useStudio((s) => blockMultiplierByFirstLayer(s)[name]);
  if (multiplier === undefined) return null;
  return (
    // Two significant digits keep the badge short beside the name; the label and title carry the value. The text is drawn by CSS
    // (content: attr(data-value)) so the row's own visible text stays exactly what its accessible name repeats.
    <span
      className="rate-badge"
      role="img"
      aria-label={`learning rate × ${multiplier}`}
      title={`This block learns at ${multiplier} × the base rate`}
      data-value={`×${Number(multiplier.toPrecision(2))}`}
    />
  );
}

/** What a BatchNorm layer does in the run, in words (label), short (badge) and explained (title). */
function batchNormWords(frozen: boolean, override: BatchNormModeName | undefined): { mode: string; badge: string; title: string } {
  if (frozen && override === 'train-stats') {
    return {
      mode: 'trains statistics',
      badge: 'trains stats',
      title: 'Frozen, but uses and updates batch statistics (gamma and beta stay frozen). Click to use the moving statistics again.',
    };
  }
  if (frozen && override === 'inference') {
    // Set by the Keras two-phase recipe: frozen now (moving statistics), and kept in inference mode when a step unfreezes it.
    return {
      mode: 'moving statistics, inference once unfrozen',
      badge: 'inference',
      title:
        'Frozen: normalises with its moving statistics and never updates them. When a schedule step unfreezes it, it stays in inference mode and trains gamma and beta only (the Keras fine-tuning rule). Click to let it train its statistics instead.',
    };
  }
  if (frozen) {
    return {
      mode: 'moving statistics',
      badge: 'moving',
      title: 'Frozen: normalises with its moving statistics and never updates them (Keras). Click to let it train its statistics.',
    };
  }
  if (override === 'inference') {
    return {
      mode: 'inference, keeps moving statistics',
      badge: 'inference',
      title:
        'Trains gamma and beta but normalises with its moving statistics and never updates them — the Keras fine-tuning guide’s rule, since small batches wreck batch statistics. Click to use batch statistics.',
    };
  }
  return {
    mode: 'batch statistics',
    badge: 'batch',
    title:
      'Trained: normalises with batch statistics and updates its moving statistics. Click to keep it in inference mode (train gamma and beta only, the Keras fine-tuning rule).',
  };
}

/**
 * A BatchNorm layer's mode: a frozen one uses its moving statistics (Keras
 * semantics) unless set to train them; a trained one uses batch statistics
 * unless set to inference mode. The button toggles the override that fits
 * the layer's state. Like "Freeze up to", it is in the Tab order on the active row.
 */
function BatchNormMode({ name, frozen, active }: { name: string; frozen: boolean; active: boolean }) {
  const override = useStudio((s) => s.batchNormOverrides[name]);
  const setOverride = useStudio((s) => s.setBatchNormOverride);
  const { mode, badge, title } = batchNormWords(frozen, override);
  const pressed = frozen ? override === 'train-stats' : override === 'inference';
  return (
    <button
      type="button"
      className={`bn-mode${pressed ? ' override' : ''}`}
      // Tabbable on the active row only (like "Freeze up to"), so Tab reaches it from the tree and the tree stays one stop.
      tabIndex={active ? 0 : -1}
      aria-pressed={pressed}
      // The visible badge is part of the name (WCAG 2.5.3, label in name).
      aria-label={`BatchNorm mode of ${name}: ${mode} (BN · ${badge})`}
      title={title}
      onClick={() => setOverride(name, pressed ? null : frozen ? 'train-stats' : 'inference')}
    >
      BN · {badge}
    </button>
  );
}

type IconKind = 'frozen' | 'partly-frozen' | 'head' | 'trained';

/** A lock for frozen layers, a half lock for partly frozen groups, a spark for the new head, a dot for trained layers (shape, not only colour). */
function LayerIcon({ kind }: { kind: IconKind }) {
  return (
    <svg className={`layer-icon ${kind}`} viewBox="0 0 16 16" width="14" height="14" aria-hidden="true">
      {kind === 'frozen' ? (
        <path
          fill="currentColor"
          d="M5 7V5a3 3 0 0 1 6 0v2h.5A1.5 1.5 0 0 1 13 8.5v5A1.5 1.5 0 0 1 11.5 15h-7A1.5 1.5 0 0 1 3 13.5v-5A1.5 1.5 0 0 1 4.5 7H5zm1.5 0h3V5a1.5 1.5 0 0 0-3 0v2z"
        />
      ) : kind === 'partly-frozen' ? (
        <path
          fill="currentColor"
          d="M5 7V5a3 3 0 0 1 6 0v2h.5A1.5 1.5 0 0 1 13 8.5v5A1.5 1.5 0 0 1 11.5 15h-7A1.5 1.5 0 0 1 3 13.5v-5A1.5 1.5 0 0 1 4.5 7H5zm1.5 0h3V5a1.5 1.5 0 0 0-3 0v2zM4.5 8.5v5h7v-5z"
          fillRule="evenodd"
        />
      ) : kind === 'head' ? (
        <path fill="currentColor" d="M8 1l1.8 4.7L15 8l-5.2 2.3L8 15l-1.8-4.7L1 8l5.2-2.3z" />
      ) : (
        <circle cx="8" cy="8" r="3.5" fill="currentColor" />
      )}
    </svg>
  );
}

/** What a row's state is in words, for screen readers (the icon and tint say it to the eye). */
function stateWords(isHead: boolean, frozen: boolean): string {
  return isHead ? 'new head, always trained' : frozen ? 'frozen' : 'trained';
}

/**
 * A row's accessible name: its visible text in the order drawn (name, type, output, params), then its state — so the
 * name contains what the row shows (WCAG 2.5.3, axe's label-content-name-mismatch) and still starts with the layer.
 */
function rowName(name: string, type: string, shape: string, params: number, state: string): string {
  return `${name}, ${type}, ${shape}, ${formatCount(params)} params, ${state}`;
}

/** One layer's row. `top` is its offset (px) inside its parent: the tree, or its group's row. */
export const LayerItem = memo(function LayerItem(props: {
  layer: LayerInfo;
  level: 1 | 2;
  posInSet: number;
  setSize: number;
  top: number;
  frozen: boolean;
  active: boolean;
  onToggle(name: string, frozen: boolean, range: boolean): void;
  onFreezeUpTo(name: string): void;
}) {
  const { layer, frozen, active } = props;
  const isHead = layer.origin === 'head';
  const params = layer.trainableParams + layer.nonTrainableParams;
  const bnOverride = useStudio((s) => (layer.className === 'BatchNormalization' ? s.batchNormOverrides[layer.name] : undefined));
  const type = layer.className === 'BatchNormalization' ? `BN · ${batchNormWords(frozen, bnOverride).badge}` : layer.className;
  const shape = formatShape(layer.outputShape);
  return (
    <div
      role="treeitem"
      aria-level={props.level}
      aria-setsize={props.setSize}
      aria-posinset={props.posInSet}
      aria-selected={active}
      aria-label={rowName(layer.name, type, shape, params, stateWords(isHead, frozen))}
      tabIndex={active ? 0 : -1}
      data-key={layerRowKey(layer.name)}
      className={`tree-item layer-row${props.level === 2 ? ' child' : ''}${frozen ? ' frozen' : ''}${isHead ? ' head' : ''}`}
      style={{ top: props.top }}
    >
      <input
        type="checkbox"
        tabIndex={-1}
        aria-label={`Freeze ${layer.name}`}
        checked={frozen}
        disabled={isHead}
        title={
          isHead
            ? 'The new head is always trained'
            : frozen
              ? 'Frozen: click to train this layer (Shift+click: the range from the last one clicked)'
              : 'Trained: click to freeze this layer (Shift+click: the range from the last one clicked)'
        }
        // React reports a checkbox change from its click event, which carries the Shift key.
        onChange={(event) => props.onToggle(layer.name, event.target.checked, (event.nativeEvent as MouseEvent).shiftKey === true)}
      />
      {/* The spaces between the cells keep the row's visible text apart word by word, as its name says it. */}{' '}
      <span className="layer-name" title={layer.name}>
        <LayerIcon kind={frozen ? 'frozen' : isHead ? 'head' : 'trained'} />
        <span className="layer-label">{layer.name}</span>
        <UpdateBar name={layer.name} />
        <RateBadge name={layer.name} />
        {isHead ? null : (
          <button
            type="button"
            className="upto-button"
            tabIndex={active ? 0 : -1}
            aria-label={`Freeze up to ${layer.name}`}
            title={`Freeze every layer from the first one to ${layer.name}, and train every layer after it`}
            onClick={() => props.onFreezeUpTo(layer.name)}
          >
            <svg viewBox="0 0 16 16" width="12" height="12" aria-hidden="true">
              <path fill="currentColor" d="M2 2h12v2H2zm6 3l4.5 4.5-1.4 1.4L9 8.8V15H7V8.8l-2.1 2.1-1.4-1.4z" />
            </svg>
          </button>
        )}
      </span>{' '}
      <span className="layer-type" title={layer.className}>
        {layer.className === 'BatchNormalization' ? <BatchNormMode name={layer.name} frozen={frozen} active={active} /> : layer.className}
      </span>{' '}
      <span className="layer-shape">{shape}</span>{' '}
      <span
        className="layer-params"
        title={layer.nonTrainableParams ? `${formatCount(layer.nonTrainableParams)} of them are moving statistics, never trained` : undefined}
      >
        {formatCount(params)}
      </span>
    </div>
  );
});

/** A native checkbox that shows the mixed state too. */
function TriStateCheckbox(props: { state: 'all' | 'none' | 'mixed'; label: string; title: string; onChange(): void }) {
  const ref = useRef<HTMLInputElement>(null);
  useEffect(() => {
    // `indeterminate` has no HTML attribute; the browser reports it to screen readers as aria-checked="mixed".
    if (ref.current) ref.current.indeterminate = props.state === 'mixed';
  }, [props.state]);
  return (
    <input ref={ref} type="checkbox" tabIndex={-1} aria-label={props.label} title={props.title} checked={props.state === 'all'} onChange={props.onChange} />
  );
}

/**
 * A group's row (a nested model or a repeated block) and, when expanded, its
 * children in a role=group container. The container follows the row in the
 * DOM and the row owns it (aria-owns), so the row's visible text is its own
 * and its accessible name can repeat it. `top` is its offset (px) in the tree.
 */
export function GroupItem(props: {
  group: LayerGroup;
  posInSet: number;
  setSize: number;
  top: number;
  expanded: boolean;
  state: 'all' | 'none' | 'mixed';
  frozenCount: number;
  params: number;
  active: boolean;
  onToggleGroup(group: LayerGroup): void;
  onToggleExpanded(groupId: string): void;
  children: ReactNode;
}) {
  const { group, state } = props;
  const count = group.layers.length;
  const words = state === 'all' ? 'frozen' : state === 'none' ? 'trained' : `${props.frozenCount} of ${count} frozen`;
  const last = group.layers[count - 1];
  const type = `${group.kind === 'nested' ? 'Model · ' : ''}${state === 'mixed' ? `${props.frozenCount}/${count} frozen` : `${count} layers`}`;
  const shape = formatShape(last.outputShape);
  const childrenId = `tree-group-${groupRowKey(group.id).replace(/[^\w-]/g, '_')}`;
  return (
    <>
      <div
        role="treeitem"
        aria-level={1}
        aria-expanded={props.expanded}
        aria-owns={props.expanded ? childrenId : undefined}
        aria-setsize={props.setSize}
        aria-posinset={props.posInSet}
        aria-selected={props.active}
        aria-label={rowName(group.label, type, shape, props.params, words)}
        tabIndex={props.active ? 0 : -1}
        data-key={groupRowKey(group.id)}
        className="tree-item tree-group"
        style={{ top: props.top }}
      >
        <div
          className={`layer-row group-row${state === 'all' ? ' frozen' : state === 'mixed' ? ' partly-frozen' : ''}`}
          onClick={(event) => {
            if ((event.target as HTMLElement).tagName !== 'INPUT') props.onToggleExpanded(group.id);
          }}
        >
          <TriStateCheckbox
            state={state}
            label={`Freeze group ${group.label}`}
            title={state === 'all' ? 'Frozen: click to train the whole group' : 'Click to freeze the whole group'}
            onChange={() => props.onToggleGroup(group)}
          />{' '}
          <span className="layer-name" title={`${group.label}: ${group.layers[0].name} … ${last.name}`}>
            <svg className={`tree-chevron${props.expanded ? ' open' : ''}`} viewBox="0 0 16 16" width="12" height="12" aria-hidden="true">
              <path fill="currentColor" d="M5.5 3l5 5-5 5-1.2-1.2L8.1 8 4.3 4.2z" />
            </svg>
            <LayerIcon kind={state === 'all' ? 'frozen' : state === 'mixed' ? 'partly-frozen' : 'trained'} />
            <span className="layer-label">{group.label}</span>
            <GroupUpdateBar names={group.layers.map((l) => l.name)} />
            <RateBadge name={group.layers[0].name} />
          </span>{' '}
          <span className="layer-type">{type}</span> <span className="layer-shape">{shape}</span>{' '}
          <span className="layer-params">{formatCount(props.params)}</span>
        </div>
      </div>
      {props.expanded ? (
        <div role="group" id={childrenId} className="tree-children">
          {props.children}
        </div>
      ) : null}
    </>
  );
}

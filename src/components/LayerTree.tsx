import { useCallback, useLayoutEffect, useMemo, useRef, useState, type CSSProperties, type FocusEvent, type KeyboardEvent, type ReactNode } from 'react';
import {
  filterTree,
  freezeUpTo,
  groupFrozenState,
  groupLayers,
  groupRowKey,
  groupTotals,
  layerRange,
  layerRowKey,
  visibleRows,
  type LayerGroup,
  type TreeFilter,
  type TreeRow,
} from '../core/layerGroups';
import { isFrozen } from '../core/params';
import { useTransferLayers } from '../store/hooks';
import { useStudio } from '../store/store';
import { GroupItem, LayerItem } from './tree/TreeRows';
import { ROW_HEIGHT, useVirtualRows } from './tree/useVirtualRows';

const treeItemOf = (target: EventTarget) => (target as HTMLElement).closest<HTMLElement>('[role="treeitem"]');
const groupIdOf = (row: TreeRow) => (row.kind === 'layer' ? row.groupId : null);

/**
 * The model's layers as a WAI-ARIA tree. Layers of a nested model or of one
 * repeated block (block_3_…) sit under an expandable group row with its own
 * tri-state "Freeze group" checkbox. Keys: Up/Down/Home/End/PageUp/PageDown
 * move, Right opens or enters a group, Left closes it or goes to the parent,
 * Enter opens/closes, Space toggles the freeze (Shift+Space: the range from
 * the last toggled layer), * opens every group. Shift+click on a checkbox
 * freezes or trains the range too. Only the rows in view are in the DOM.
 * `tools` (the pane's freeze-all and filter controls) lead the tree's tool row.
 */
export function LayerTree({ tools }: { tools?: ReactNode }) {
  const layers = useTransferLayers();
  const freezePlan = useStudio((s) => s.freezePlan);
  const filterText = useStudio((s) => s.layerFilter);
  const setLayerFrozen = useStudio((s) => s.setLayerFrozen);
  const setLayersFrozen = useStudio((s) => s.setLayersFrozen);

  const nodes = useMemo(() => groupLayers(layers), [layers]);
  const groups = useMemo(() => nodes.flatMap((n) => (n.kind === 'group' ? [n.group] : [])), [nodes]);
  const filter = useMemo(() => filterTree(nodes, filterText), [nodes, filterText]);
  const [expanded, setExpanded] = useState<ReadonlySet<string>>(() => new Set());
  // A new filter opens the groups holding its matches; the user may close them again.
  const [seenFilter, setSeenFilter] = useState<TreeFilter | null>(null);
  if (filter !== seenFilter) {
    setSeenFilter(filter);
    if (filter?.expand.size) setExpanded((open) => new Set([...open, ...filter.expand]));
  }

  const rows = useMemo(() => visibleRows(nodes, expanded, filter), [nodes, expanded, filter]);
  const indexOfKey = useMemo(() => new Map(rows.map((row, i) => [row.key, i])), [rows]);
  const groupKeyOfLayer = useMemo(() => new Map(groups.flatMap((g) => g.layers.map((l) => [layerRowKey(l.name), groupRowKey(g.id)] as const))), [groups]);

  // Roving tabindex: the active row is the focused one, or its group when that is closed, or the first.
  const [focusedKey, setFocusedKey] = useState<string | null>(null);
  const activeIndex = focusedKey === null ? 0 : (indexOfKey.get(focusedKey) ?? indexOfKey.get(groupKeyOfLayer.get(focusedKey) ?? '') ?? 0);

  const { scrollRef, onScroll, scrollToIndex, range, totalHeight } = useVirtualRows(rows.length);
  const pendingFocus = useRef<string | null>(null);
  useLayoutEffect(() => {
    const key = pendingFocus.current;
    if (key === null) return;
    pendingFocus.current = null;
    const item = scrollRef.current?.querySelector<HTMLElement>(`[data-key="${CSS.escape(key)}"]`);
    // The tree already scrolled the row into its view; only the page may still need to move.
    item?.focus({ preventScroll: true });
    item?.scrollIntoView({ block: 'nearest' });
  });

  // Row callbacks stay the same function across renders (rows are memoised), so they read the latest values here.
  const latest = useRef({ layers, filter, freezePlan });
  useLayoutEffect(() => {
    latest.current = { layers, filter, freezePlan };
  });
  const anchor = useRef<string | null>(null);

  const toggleLayer = useCallback(
    (name: string, frozen: boolean, asRange: boolean) => {
      const { layers: all, filter: f } = latest.current;
      const shown = f ? all.filter((l) => f.matches.has(l.name)) : all;
      const names = asRange && anchor.current !== null ? layerRange(shown, anchor.current, name) : [];
      if (names.length > 1) {
        setLayersFrozen(names, frozen);
        return;
      }
      setLayerFrozen(name, frozen);
      anchor.current = name;
    },
    [setLayerFrozen, setLayersFrozen],
  );
  // A clean split, like fastai's freeze_to: frozen up to the layer, trained after it.
  const freezeUpToLayer = useCallback(
    (name: string) => {
      const frozen = freezeUpTo(latest.current.layers, name);
      const upTo = new Set(frozen);
      setLayersFrozen(frozen, true);
      setLayersFrozen(
        latest.current.layers.filter((l) => l.origin === 'pretrained' && !upTo.has(l.name)).map((l) => l.name),
        false,
      );
    },
    [setLayersFrozen],
  );
  const toggleGroup = useCallback(
    (group: LayerGroup) => {
      const names = group.layers.filter((l) => l.origin === 'pretrained').map((l) => l.name);
      setLayersFrozen(names, groupFrozenState(group, latest.current.freezePlan) !== 'all');
    },
    [setLayersFrozen],
  );
  const toggleExpanded = useCallback((id: string) => {
    setExpanded((open) => {
      const next = new Set(open);
      if (!next.delete(id)) next.add(id);
      return next;
    });
  }, []);

  function moveTo(index: number) {
    const row = rows[Math.min(Math.max(index, 0), rows.length - 1)];
    if (!row) return;
    setFocusedKey(row.key);
    pendingFocus.current = row.key;
    scrollToIndex(indexOfKey.get(row.key)!);
  }

  function onKeyDown(event: KeyboardEvent<HTMLDivElement>) {
    const item = treeItemOf(event.target);
    if (!item) return;
    // Space and Enter on the checkbox or button inside a row do what they do natively.
    if (item !== event.target && (event.key === ' ' || event.key === 'Enter')) return;
    const index = indexOfKey.get(item.dataset.key ?? '') ?? activeIndex;
    const row = rows[index];
    const page = Math.max(1, Math.floor((scrollRef.current?.clientHeight ?? ROW_HEIGHT) / ROW_HEIGHT) - 1);
    switch (event.key) {
      case 'ArrowDown':
        moveTo(index + 1);
        break;
      case 'ArrowUp':
        moveTo(index - 1);
        break;
      case 'PageDown':
        moveTo(index + page);
        break;
      case 'PageUp':
        moveTo(index - page);
        break;
      case 'Home':
        moveTo(0);
        break;
      case 'End':
        moveTo(rows.length - 1);
        break;
      case 'ArrowRight':
        if (row.kind === 'group' && !row.expanded) toggleExpanded(row.group.id);
        else if (row.kind === 'group' && rows[index + 1]?.kind === 'layer') moveTo(index + 1);
        break;
      case 'ArrowLeft':
        if (row.kind === 'group' && row.expanded) toggleExpanded(row.group.id);
        else if (row.kind === 'layer' && row.groupId !== null) moveTo(indexOfKey.get(groupRowKey(row.groupId))!);
        break;
      case 'Enter':
        if (row.kind === 'group') toggleExpanded(row.group.id);
        break;
      case '*':
        setExpanded(new Set(groups.map((g) => g.id)));
        break;
      case ' ':
        if (row.kind === 'group') toggleGroup(row.group);
        else if (row.layer.origin === 'pretrained') toggleLayer(row.layer.name, !isFrozen(row.layer, freezePlan), event.shiftKey);
        break;
      default:
        return;
    }
    event.preventDefault();
  }

  function onFocus(event: FocusEvent<HTMLDivElement>) {
    const key = treeItemOf(event.target)?.dataset.key;
    if (key) setFocusedKey(key);
  }

  if (layers.length === 0) return null;

  // The rows in view, the active row (so focus is never lost to a scroll), and the groups of the children drawn.
  const drawn = new Set<number>();
  for (let i = range.first; i <= range.last; i++) drawn.add(i);
  if (rows.length) drawn.add(activeIndex);
  for (const i of [...drawn]) {
    const row = rows[i];
    if (row.kind === 'layer' && row.groupId !== null) drawn.add(indexOfKey.get(groupRowKey(row.groupId))!);
  }
  const order = [...drawn].sort((a, b) => a - b);
  const items: ReactNode[] = [];
  const layerItem = (i: number, top: number) => {
    const row = rows[i];
    if (row.kind !== 'layer') return null;
    return (
      <LayerItem
        key={row.key}
        layer={row.layer}
        level={row.level}
        posInSet={row.posInSet}
        setSize={row.setSize}
        top={top}
        frozen={isFrozen(row.layer, freezePlan)}
        active={i === activeIndex}
        onToggle={toggleLayer}
        onFreezeUpTo={freezeUpToLayer}
      />
    );
  };
  for (let p = 0; p < order.length;) {
    const i = order[p++];
    const row = rows[i];
    if (row.kind === 'layer') {
      items.push(layerItem(i, i * ROW_HEIGHT));
      continue;
    }
    const children: ReactNode[] = [];
    while (p < order.length && groupIdOf(rows[order[p]]) === row.group.id) {
      // Children sit in their group's container, which is not positioned: their offset is in the tree, like every row's.
      children.push(layerItem(order[p], order[p] * ROW_HEIGHT));
      p++;
    }
    const totals = groupTotals(row.group, freezePlan);
    items.push(
      <GroupItem
        key={row.key}
        group={row.group}
        posInSet={row.posInSet}
        setSize={row.setSize}
        top={i * ROW_HEIGHT}
        expanded={row.expanded}
        state={groupFrozenState(row.group, freezePlan)}
        frozenCount={totals.frozen}
        params={totals.params}
        active={i === activeIndex}
        onToggleGroup={toggleGroup}
        onToggleExpanded={toggleExpanded}
      >
        {children}
      </GroupItem>,
    );
  }

  return (
    <div className="tree-wrap">
      <div className="tree-tools">
        {tools}
        {groups.length > 0 ? (
          <span className="tree-group-tools">
            <span className="muted small">{groups.length} groups</span>
            <button type="button" onClick={() => setExpanded(new Set(groups.map((g) => g.id)))}>
              Expand all
            </button>
            <button type="button" onClick={() => setExpanded(new Set())}>
              Collapse all
            </button>
          </span>
        ) : null}
      </div>
      <div className="tree-header" aria-hidden="true">
        <span />
        <span>Layer</span>
        <span>Type</span>
        <span>Output</span>
        <span>Params</span>
      </div>
      <div className="tree-scroll" ref={scrollRef} onScroll={onScroll} style={{ '--tree-content': `${totalHeight}px` } as CSSProperties}>
        <div role="tree" aria-label="Layers" className="layer-tree" style={{ height: totalHeight }} onKeyDown={onKeyDown} onFocus={onFocus}>
          {items}
        </div>
      </div>
      {rows.length === 0 ? <p className="muted tree-empty">No layer name or type contains “{filterText.trim()}”.</p> : null}
    </div>
  );
}

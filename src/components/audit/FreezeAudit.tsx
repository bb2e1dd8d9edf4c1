import { useMemo, useState } from 'react';
import { studioClient } from '../../app/studio';
import type { AuditReport, LayerAudit } from '../../core/auditCompare';
import { countParams, isFrozen, layerParams } from '../../core/params';
import type { FreezePlan, LayerInfo } from '../../core/types';
import { useTransferLayers } from '../../store/hooks';
import { isRunActive } from '../../store/selectors';
import { useStudio } from '../../store/store';
import { formatCount, formatShape } from '../../core/format';

/** A weight change as read: exactly "0", or 3 significant digits. */
export function formatChange(value: number): string {
  if (value === 0) return '0';
  if (!Number.isFinite(value)) return '∞';
  return value >= 0.01 && value < 1000 ? value.toPrecision(3) : value.toExponential(2);
}

/** The sentence of one failed check: colour is never the only signal. */
function failedSentence(layer: LayerAudit): string {
  const moved = layer.weights.filter((w) => w.maxAbsChange !== 0 || w.before !== w.after).map((w) => w.name);
  const why = layer.frozen ? 'although it is frozen' : 'although its BatchNorm layer kept inference mode (moving statistics must not move)';
  return `FAILED: ${layer.layer} changed by ${formatChange(layer.maxAbsChange)} ${why} (${moved.join(', ')}).`;
}

/** Totals under the current plan, as Keras' model.summary() states them. */
function PlanTotals({ layers, plan }: { layers: LayerInfo[]; plan: FreezePlan }) {
  const totals = useMemo(() => countParams(layers, plan), [layers, plan]);
  return (
    <dl className="stats audit-totals" aria-label="Parameters under the current plan">
      <div>
        <dt>Trainable params</dt>
        <dd>{formatCount(totals.trainable)}</dd>
      </div>
      <div>
        <dt>Non-trainable params</dt>
        <dd>{formatCount(totals.nonTrainable)}</dd>
      </div>
      <div>
        <dt>Total params</dt>
        <dd>{formatCount(totals.total)}</dd>
      </div>
    </dl>
  );
}

/** The variables the optimizer updates: the latest list from the worker, with the step it took effect. */
function OptimizerVariables() {
  const setup = useStudio((s) => s.runSetup);
  const changes = useStudio((s) => s.trainableChanges);
  if (!setup) return null;
  const latest = changes.at(-1);
  const variables = latest ? latest.optimizerVariables : setup.optimizerVariables;
  const params = variables.reduce((sum, v) => sum + v.shape.reduce((p, d) => p * Math.max(d, 1), 1), 0);
  const since = latest
    ? `since step ${formatCount(latest.step)} (epoch ${latest.epoch + 1}, ${latest.cause === 'live' ? 'live change' : 'schedule'}: ${latest.label})`
    : 'since the start of the run';
  return (
    <details className="audit-variables">
      <summary>
        Optimizer variables: {variables.length} ({formatCount(params)} parameters), {since}
      </summary>
      <table className="audit-table">
        <caption className="visually-hidden">Variables the optimizer updates, as the worker reports them</caption>
        <thead>
          <tr>
            <th scope="col">Variable</th>
            <th scope="col">Shape</th>
          </tr>
        </thead>
        <tbody>
          {variables.map((v) => (
            <tr key={v.name}>
              <td className="mono">{v.name}</td>
              <td>{formatShape(v.shape)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </details>
  );
}

/** One layer's rows: the layer's own row (totals and the check), then one row per weight with its fingerprints. */
function LayerRows({ layer, info, plan }: { layer: LayerAudit; info: LayerInfo | undefined; plan: FreezePlan }) {
  const split = info ? layerParams(info, plan) : null;
  const weightless = layer.weights.length === 0;
  const state = weightless
    ? 'no weights'
    : layer.frozen
      ? layer.statisticsMayChange
        ? 'frozen (BN statistics train)'
        : 'frozen'
      : layer.statisticsFixed
        ? 'trained (BN inference mode: statistics kept)'
        : 'trained';
  const rowClass = layer.ok ? (layer.frozen ? 'frozen' : undefined) : 'failed';
  return (
    <tbody className={rowClass} data-layer={layer.layer}>
      <tr className="audit-layer">
        <th scope="rowgroup">
          <span className="mono">{layer.layer}</span>
          <span className="audit-meta" title="State in the run; trainable / non-trainable parameters under the current plan, as Keras counts them">
            {state}
            {split ? ` · ${formatCount(split.trainable)} / ${formatCount(split.nonTrainable)} params` : ''}
          </span>
        </th>
        <td>{layer.ok ? layer.frozen ? 'ok: unchanged' : 'ok' : <strong>FAILED</strong>}</td>
        <td className="num">{weightless ? '—' : formatChange(layer.maxAbsChange)}</td>
        <td className="num">{weightless ? '—' : formatChange(layer.relativeUpdate)}</td>
      </tr>
      {weightless ? (
        <tr className="audit-weight">
          <td colSpan={4} className="muted">
            no weights
          </td>
        </tr>
      ) : (
        layer.weights.map((w) => (
          <tr key={w.name} className="audit-weight">
            <td className="mono" title={w.statistic ? 'BatchNorm moving statistic (non-trainable)' : undefined}>
              {w.name}
              <span className="muted"> {formatShape(w.shape)}</span>
              <span className="audit-print" aria-label={`fingerprint before ${w.before}, after ${w.after}`}>
                {w.before} → {w.before === w.after ? 'same' : w.after}
              </span>
            </td>
            <td className="muted">{w.statistic ? 'statistic' : ''}</td>
            <td className="num">{formatChange(w.maxAbsChange)}</td>
            <td />
          </tr>
        ))
      )}
    </tbody>
  );
}

/** Per layer: state, params under the plan, largest change, ‖ΔW‖/‖W‖ and the check; under it each weight's fingerprints and largest change. */
function AuditTable({ report, layers, plan }: { report: AuditReport; layers: LayerInfo[]; plan: FreezePlan }) {
  const [withoutWeights, setWithoutWeights] = useState(false);
  const infoByName = useMemo(() => new Map(layers.map((l) => [l.name, l])), [layers]);
  const shown = withoutWeights ? report.layers : report.layers.filter((l) => l.weights.length > 0);
  return (
    <>
      <label className="checkbox-field small">
        <input type="checkbox" checked={withoutWeights} onChange={(e) => setWithoutWeights(e.target.checked)} /> Show layers without weights
      </label>
      {/* A scroll box of its own: focusable, so a keyboard can scroll it (axe scrollable-region-focusable). */}
      <div className="audit-scroll" tabIndex={0} role="region" aria-label="Per-layer freeze audit, scrollable">
        <table className="audit-table" aria-label="Per-layer freeze audit">
          <thead>
            <tr>
              <th scope="col">Layer / weight: fingerprint before → after</th>
              <th scope="col">Check</th>
              <th scope="col">Max |Δ|</th>
              <th scope="col">‖ΔW‖/‖W‖</th>
            </tr>
          </thead>
          {shown.map((layer) => (
            <LayerRows key={layer.layer} layer={layer} info={infoByName.get(layer.layer)} plan={plan} />
          ))}
        </table>
      </div>
    </>
  );
}

/** One line on the audit's outcome, and a sentence per failed check. */
function Verdict({ report }: { report: AuditReport }) {
  const failed = report.layers.filter((l) => !l.ok);
  const when = report.when === 'verify' ? 'weights re-read from the worker (Verify)' : 'weights read right after the run';
  if (failed.length === 0) {
    return (
      <p className="audit-ok" role="status">
        Passed: all {report.frozenLayers} frozen layer{report.frozenLayers === 1 ? '' : 's'} unchanged (max change 0, BatchNorm statistics included) — {when}.
      </p>
    );
  }
  return (
    <div className="audit-failed" role="alert">
      <p>
        {failed.length} of {report.frozenLayers} frozen layers changed — {when}:
      </p>
      <ul>
        {failed.map((l) => (
          <li key={l.layer}>{failedSentence(l)}</li>
        ))}
      </ul>
    </div>
  );
}

/**
 * "Freeze audit", after (and during) a run: parameter totals under the plan,
 * the optimizer's variables as the worker reports them, and per layer the
 * fingerprints and largest change of every weight since the run's start —
 * frozen layers must show exactly 0. Verify re-reads every weight.
 */
export function FreezeAudit() {
  const report = useStudio((s) => s.audit);
  const setup = useStudio((s) => s.runSetup);
  const running = useStudio((s) => isRunActive(s));
  const plan = useStudio((s) => s.freezePlan);
  const layers = useTransferLayers();
  const [verifying, setVerifying] = useState(false);
  const [verifyError, setVerifyError] = useState<string | null>(null);
  if (!setup && !report) return null;

  async function verify() {
    setVerifying(true);
    setVerifyError(null);
    try {
      await studioClient().verify();
    } catch (error) {
      setVerifyError(error instanceof Error ? error.message : String(error));
    } finally {
      setVerifying(false);
    }
  }

  const frozenNow = layers.filter((l) => isFrozen(l, plan)).length;
  return (
    <details className="freeze-audit">
      <summary>
        Freeze audit{' '}
        <span className={report ? (report.failed.length ? 'audit-badge failed' : 'audit-badge ok') : 'audit-badge'}>
          {report ? (report.failed.length ? `${report.failed.length} FAILED` : 'passed') : running ? 'after the run' : 'no report'}
        </span>
      </summary>
      <PlanTotals layers={layers} plan={plan} />
      <p className="muted small">
        {frozenNow} layers frozen under the current plan. The check compares every weight with its value at the start of the last run; moving statistics count
        as non-trainable, as in Keras.
      </p>
      <OptimizerVariables />
      <div className="toolbar">
        <button type="button" onClick={verify} disabled={verifying}>
          {verifying ? 'Verifying…' : 'Verify'}
        </button>
        <span className="muted small">Re-reads all weights from the worker and repeats the check.</span>
      </div>
      {verifyError ? (
        <p className="error" role="alert">
          Verify failed: {verifyError}
        </p>
      ) : null}
      {report ? (
        <>
          <Verdict report={report} />
          <AuditTable report={report} layers={layers} plan={plan} />
        </>
      ) : (
        <p className="muted small">The per-layer check appears when the run ends.</p>
      )}
    </details>
  );
}

import type { AuditReport } from '../../core/auditCompare';
import { formatChange } from '../audit/FreezeAudit';
import { useStudio } from '../../store/store';

/** The verdict on a PyTorch run's frozen layers, in words (colour is never the only signal). */
function Verdict({ report }: { report: AuditReport }) {
  if (report.failed.length === 0) {
    return (
      <p className="audit-ok" role="status">
        Passed: all {report.frozenLayers} frozen layer{report.frozenLayers === 1 ? '' : 's'} unchanged bit for bit against the source model, BatchNorm
        statistics included.
      </p>
    );
  }
  return (
    <div className="audit-failed" role="alert">
      <p>
        {report.failed.length} of {report.frozenLayers} frozen layers changed in the PyTorch run: {report.failed.join(', ')}.
      </p>
    </div>
  );
}

/**
 * The last PyTorch run brought back with Import model (app/importPytorchRun.ts): which run of Compare runs it is,
 * the torch build, and its freeze audit against the model the export was made from, layer by layer.
 */
export function PytorchRunAudit() {
  const run = useStudio((s) => s.pytorchRun);
  if (!run) return null;
  const report = run.audit;
  return (
    <section className="pytorch-run" aria-label="PyTorch run">
      <h3>
        PyTorch run: {run.name} (torch {run.torch}, {run.processes} process{run.processes === 1 ? '' : 'es'})
      </h3>
      <p className="muted small">{run.note}</p>
      {report ? (
        <>
          <Verdict report={report} />
          <details>
            <summary>Layers audited against the source ({report.layers.length})</summary>
            <table className="audit-table" aria-label="PyTorch run freeze audit">
              <thead>
                <tr>
                  <th scope="col">Layer</th>
                  <th scope="col">In the run</th>
                  <th scope="col">Check</th>
                  <th scope="col">Max |Δ|</th>
                </tr>
              </thead>
              <tbody>
                {report.layers.map((layer) => (
                  <tr key={layer.layer} className={layer.ok ? (layer.frozen ? 'frozen' : undefined) : 'failed'}>
                    <td className="mono">{layer.layer}</td>
                    <td>{layer.frozen ? (layer.statisticsMayChange ? 'frozen (BN statistics train)' : 'frozen') : 'trained'}</td>
                    <td>{layer.ok ? layer.frozen ? 'ok: unchanged' : 'ok' : <strong>FAILED</strong>}</td>
                    <td className="num">{formatChange(layer.maxAbsChange)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </details>
        </>
      ) : null}
    </section>
  );
}

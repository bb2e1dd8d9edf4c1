import { useId, useMemo, useState } from 'react';
import { pytorchCode } from '../../core/pytorchCode';
import { useTransferLayers } from '../../store/hooks';
import { runPlanSettings } from '../../store/selectors';
import { useStudio } from '../../store/store';

/** The generated text for the store's current plan, BN modes, multipliers and optimizer (core/pytorchCode.ts). */
function useCode(): string {
  const layers = useTransferLayers();
  const model = useStudio((s) => s.model);
  const cutLayer = useStudio((s) => s.cutLayer);
  const freezePlan = useStudio((s) => s.freezePlan);
  const batchNormOverrides = useStudio((s) => s.batchNormOverrides);
  const config = useStudio((s) => s.config);
  const classNames = useStudio((s) => s.classNames);
  const head = useStudio((s) => s.head);
  const scheduleSteps = useStudio((s) => s.scheduleSteps);
  const blockMultipliers = useStudio((s) => s.blockMultipliers);
  return useMemo(() => {
    const { rateMultipliers } = runPlanSettings({ model, cutLayer, classNames, head, scheduleSteps, blockMultipliers, config });
    return pytorchCode({
      modelName: model?.name ?? '',
      cutLayer: cutLayer ?? '',
      layers,
      freezePlan,
      batchNormOverrides,
      config: { learningRate: config.learningRate, optimizer: config.optimizer, rateMultipliers },
    });
  }, [layers, model, cutLayer, freezePlan, batchNormOverrides, config, classNames, head, scheduleSteps, blockMultipliers]);
}

function CodeBody() {
  const code = useCode();
  const [copied, setCopied] = useState<'idle' | 'copied' | 'failed'>('idle');
  const codeId = useId();
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(code);
      setCopied('copied');
    } catch {
      setCopied('failed');
    }
  };
  return (
    <>
      <p className="muted small">
        The freeze plan as the seed writes it in PyTorch, for this model and these settings: <code>requires_grad</code> per layer, frozen layers in{' '}
        <code>eval()</code>, the optimizer over the trainable parameters. It runs on the model of <em>Export PyTorch project</em>.
      </p>
      <div className="toolbar">
        <button type="button" aria-label="Copy PyTorch code" aria-controls={codeId} onClick={copy}>
          Copy
        </button>
        <span role="status" className="muted small">
          {copied === 'copied' ? 'Copied.' : copied === 'failed' ? 'The browser refused the clipboard; select the code and copy it.' : null}
        </span>
      </div>
      <pre className="pytorch-code" id={codeId} role="region" aria-label="PyTorch code of the freeze plan" tabIndex={0}>
        <code>{code}</code>
      </pre>
    </>
  );
}

/** *PyTorch code*: an expander with the current plan as PyTorch lines and a copy button; the text follows every toggle while open. */
export function PytorchCode() {
  const [open, setOpen] = useState(false);
  return (
    <details className="settings" onToggle={(e) => setOpen((e.currentTarget as HTMLDetailsElement).open)}>
      <summary>PyTorch code</summary>
      {open ? <CodeBody /> : null}
    </details>
  );
}

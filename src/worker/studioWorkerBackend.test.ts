/**
 * Issue 15: with `auto`, a run that trains through the model times a step of its plan on each backend
 * and trains on the fastest; the choice and each figure go out in runStarted. Here the real wasm
 * backend (with the studio's gradient kernels) races a deliberately slow copy of cpu.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { prepareWasmInNode } from '../engine/testing/wasmNode';
import type { WorkerReply, WorkerRequest } from './protocol';
import { createStudioWorker } from './studioWorker';
import { auditOf, tinyDeps, trainRequest } from './testing/workerHarness';

/** cpu, but every kernel call also spins for 2 ms: certainly slower than wasm on any machine. */
const SLOW = 'cpu-slow';

beforeAll(async () => {
  await prepareWasmInNode();
  if (!tf.findBackendFactory(SLOW)) {
    tf.registerBackend(SLOW, tf.findBackendFactory('cpu')!);
    for (const kernel of tf.getKernelsForBackend('cpu')) {
      tf.registerKernel({
        ...kernel,
        backendName: SLOW,
        kernelFunc: (args) => {
          const until = performance.now() + 2;
          while (performance.now() < until);
          return kernel.kernelFunc(args);
        },
      });
    }
  }
});

const load: WorkerRequest = { type: 'loadModel', requestId: 1, source: { kind: 'url', url: 'x' } };
const config = { epochs: 4, batchSize: 8, learningRate: 0.01, seed: 1 };

function started(replies: WorkerReply[], runId: number) {
  const reply = replies.find((r) => r.type === 'runStarted' && r.runId === runId);
  if (reply?.type !== 'runStarted') throw new Error(`run ${runId} did not start`);
  return reply.setup;
}

function worker(preference: 'auto' | 'cpu') {
  const replies: WorkerReply[] = [];
  const handle = createStudioWorker((reply) => replies.push(reply), tinyDeps({ batchFlushMs: 0, trainingCandidates: () => ['wasm'] }));
  return { replies, handle, init: () => handle({ type: 'init', requestId: 0, backend: preference, allowSoftwareWebgl: false }) };
}

describe('the training backend picked by measurement', () => {
  it('times the plan on both, trains on wasm, keeps the frozen layers bit-identical and the loss falls; the next run reuses the measurement', async () => {
    await tf.setBackend(SLOW);
    const { replies, handle, init } = worker('auto');
    await init();
    await handle(load);
    await handle(trainRequest(1, { config }));
    const setup = started(replies, 1);
    expect(setup.backend).toBe('wasm');
    expect(setup.backendProbes!.map((p) => p.backend)).toEqual([SLOW, 'wasm']);
    const [slow, wasm] = setup.backendProbes!;
    // The slowed cpu is either timed slower or, its first step already over 4× wasm's, given up on.
    if (slow.msPerStep === null) expect(slow.error).toMatch(/over 4× the fastest/);
    else expect(wasm.msPerStep!).toBeLessThan(slow.msPerStep / 1.2);
    expect(wasm.msPerStep).toBeGreaterThan(0);
    expect(tf.getBackend()).toBe('wasm');
    expect(replies.find((r) => r.type === 'runFailed')).toBeUndefined();
    // conv1 and bn1 frozen: bit for bit as loaded after training on wasm (BN statistics included).
    const audit = auditOf(replies, 1);
    expect(audit.failed).toEqual([]);
    expect(audit.layers.filter((l) => l.frozen).map((l) => [l.layer, l.maxAbsChange])).toEqual([
      ['conv1', 0],
      ['bn1', 0],
    ]);
    const losses = replies.flatMap((r) => (r.type === 'epoch' && r.runId === 1 ? [r.metrics.trainLoss] : []));
    expect(losses).toHaveLength(4);
    expect(losses[3]).toBeLessThan(losses[0]);

    // The same plan again: no new timing, the same figures, still on wasm.
    await handle(trainRequest(2, { config }));
    expect(started(replies, 2).backendProbes).toEqual(setup.backendProbes);
    expect(started(replies, 2).backend).toBe('wasm');
    await tf.setBackend('cpu');
  });

  it('does not measure when the backend was forced (?backend=cpu)', async () => {
    await tf.setBackend('cpu');
    const { replies, handle, init } = worker('cpu');
    await init();
    await handle(load);
    await handle(trainRequest(1, { config: { ...config, epochs: 1 } }));
    const setup = started(replies, 1);
    expect(setup.backend).toBe('cpu');
    expect(setup.backendProbes).toBeUndefined();
    expect(tf.getBackend()).toBe('cpu');
  });
});

describe('a run that runs out of memory', () => {
  it('fails with a message that names the backend and the batch and offers a smaller one; the worker takes the next request', async () => {
    // A cpu copy whose convolution fails the way the wasm heap does when it cannot grow.
    const OOM = 'cpu-oom';
    if (!tf.findBackendFactory(OOM)) {
      tf.registerBackend(OOM, tf.findBackendFactory('cpu')!);
      for (const kernel of tf.getKernelsForBackend('cpu')) {
        const fails = kernel.kernelName === 'Conv2DBackpropFilter';
        tf.registerKernel({
          ...kernel,
          backendName: OOM,
          kernelFunc: fails
            ? () => {
                throw new RangeError('WebAssembly.Memory.grow(): Maximum memory size exceeded');
              }
            : kernel.kernelFunc,
        });
      }
    }
    await tf.setBackend(OOM);
    const replies: WorkerReply[] = [];
    const handle = createStudioWorker(
      (reply) => replies.push(reply),
      tinyDeps({ batchFlushMs: 0, selectBackend: async () => ({ backend: 'wasm', notes: [] }) }),
    );
    await handle({ type: 'init', requestId: 0, backend: 'wasm', allowSoftwareWebgl: false });
    await handle(load);
    await handle(trainRequest(1, { config: { ...config, batchSize: 32 } }));
    const failed = replies.find((r) => r.type === 'runFailed');
    expect(failed?.type === 'runFailed' && failed.error).toMatchObject({
      name: 'OutOfMemory',
      message: expect.stringMatching(
        /^Out of memory on wasm at batch size 32: .* Try batch size 16, or freeze more layers .*reload the page to go on\. \(.*Maximum memory size exceeded\)$/,
      ),
    });
    // Nothing is left running: the next request is answered.
    await handle({ type: 'verify', requestId: 5 });
    expect(replies.some((r) => 'requestId' in r && r.requestId === 5)).toBe(true);
    await tf.setBackend('cpu');
  });

  it('on wasm, refuses a batch whose step cannot fit in the 4 GiB heap before the run starts, naming a batch that fits', async () => {
    const replies: WorkerReply[] = [];
    const handle = createStudioWorker(
      (reply) => replies.push(reply),
      tinyDeps({
        batchFlushMs: 0,
        selectBackend: async () => {
          await tf.setBackend('wasm');
          return { backend: 'wasm', notes: [] };
        },
      }),
    );
    await handle({ type: 'init', requestId: 0, backend: 'wasm', allowSoftwareWebgl: false });
    await handle(load);
    const huge = 2 ** 24; // the tiny model keeps a few hundred floats per image: millions of images overflow the heap
    await handle(trainRequest(1, { config: { ...config, batchSize: huge } }));
    const failed = replies.find((r) => r.type === 'runFailed');
    if (failed?.type !== 'runFailed') throw new Error('the run was not refused');
    expect(failed.error.name).toBe('OutOfMemory');
    const m =
      /^Out of memory on wasm at batch size 16777216: a training step of this plan needs about ([\d.]+) GiB, more than the 4\.0 GiB WebAssembly can hold, so the run was not started\. Try batch size (\d+), or freeze more layers/.exec(
        failed.error.message,
      );
    expect(m).not.toBeNull();
    expect(Number(m![1])).toBeGreaterThan(4);
    const suggested = Number(m![2]);
    expect(Number.isInteger(Math.log2(huge / suggested)) && suggested < huge).toBe(true);
    expect(replies.some((r) => r.type === 'runStarted')).toBe(false);
    // The suggested batch is accepted by the same check: the run starts (and trains on the 32 images it has).
    await handle(trainRequest(2, { config: { ...config, epochs: 1, batchSize: suggested } }));
    expect(replies.some((r) => r.type === 'runStarted' && r.runId === 2)).toBe(true);
    await tf.setBackend('cpu');
  });
});

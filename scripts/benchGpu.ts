/**
 * `npm run bench -- --gpu` (issue 15): on a machine with a GPU, the studio's
 * MobileNetV2 full fine-tuning step at batch 32 on WebGPU in headless
 * Chromium, and the same step with PyTorch on CUDA (bench/torch_bench.py
 * --gpu). Each side says plainly when it found no GPU: Chromium's adapter is
 * named (SwiftShader or a fallback adapter is software, not a GPU), and
 * PyTorch reports torch.cuda.is_available(). Writes bench/results-gpu.json
 * and the GPU section of bench/results.md (replacing the last one).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { cpus, hostname } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'vite';
import { runCpuPage, runTorchBench } from './benchCpu';

/** Chromium flags that let headless Chromium use a real GPU through Vulkan where the driver allows it. */
const GPU_ARGS = ['--enable-unsafe-webgpu', '--enable-features=Vulkan', '--use-angle=vulkan', '--ignore-gpu-blocklist'];

/** Runs both sides and writes what they found. */
export async function benchGpu(root: string): Promise<void> {
  const server = await createServer({ root, logLevel: 'error', server: { port: 0, host: '127.0.0.1', watch: null, hmr: false } });
  await server.listen();
  let studio;
  try {
    console.log('WebGPU in headless Chromium: MobileNetV2 full fine-tune, batch 32…');
    const port = (server.httpServer!.address() as { port: number }).port;
    studio = await runCpuPage(port, { backend: 'webgpu', parts: 'steps', plans: 'full fine-tune', stepBatch: '32', steps: '3', requireGpu: '1' }, GPU_ARGS);
  } finally {
    await server.close();
  }
  console.log('PyTorch on CUDA: the same step…');
  const torch = await runTorchBench(['--gpu', '--repeats', '5']);
  const step = studio.result?.steps[0];
  const adapter = studio.result?.adapter ?? 'none';
  const software = /swiftshader|fallback|no adapter|none/i.test(adapter);
  const cuda = torch.cuda && 'steps' in torch.cuda ? torch.cuda : null;
  const cudaMs = cuda?.steps['full fine-tune']?.msPerStep ?? null;
  const result = {
    date: new Date().toISOString(),
    machine: { host: hostname(), cores: cpus().length, cpu: cpus()[0]?.model ?? 'unknown' },
    webgpu: {
      browser: studio.browser,
      adapter,
      realGpu: studio.result ? !software : false,
      msPerStep: step?.msPerStep ?? null,
      error: studio.error ?? (studio.result ? undefined : 'webgpu did not start in headless Chromium here'),
    },
    pytorch: torch.error ? { error: torch.error } : torch.cuda,
    studio_vs_pytorch_cuda: step?.msPerStep && cudaMs ? step.msPerStep / cudaMs : null,
  };
  writeFileSync(join(root, 'bench/results-gpu.json'), `${JSON.stringify(result, null, 2)}\n`);
  const lines = [
    `## GPU: MobileNetV2 full fine-tuning step, batch 32 (\`npm run bench -- --gpu\`, ${result.date.slice(0, 10)}, ${result.machine.host})`,
    '',
    '| side | where | ms / step |',
    '|---|---|---:|',
    `| studio, WebGPU in headless ${studio.browser} | adapter: ${adapter}${software ? ' — **not a GPU** (software or fallback adapter: Chromium here cannot reach the GPU)' : ''} | ${step?.msPerStep?.toFixed(0) ?? result.webgpu.error ?? '–'} |`,
    `| PyTorch ${torch.torch ?? ''} | ${cuda ? `CUDA: ${cuda.name}` : torch.cuda && 'unavailable' in torch.cuda ? torch.cuda.unavailable : (torch.error ?? '–')} | ${cudaMs?.toFixed(1) ?? '–'} |`,
    '',
    result.studio_vs_pytorch_cuda
      ? `studio ÷ PyTorch CUDA: ${result.studio_vs_pytorch_cuda.toFixed(1)}×${software ? ' (against a software adapter: not a GPU figure)' : ''}`
      : 'No ratio: one side has no GPU figure.',
  ];
  // bench/results.md keeps one GPU section: this run's replaces the last one.
  const mdPath = join(root, 'bench/results.md');
  const old = readFileSync(mdPath, 'utf8').replace(/\n## GPU: [\s\S]*?(?=\n## |$)/, '');
  writeFileSync(mdPath, `${old.trimEnd()}\n\n${lines.join('\n')}\n`);
  console.log(`\n${lines.join('\n')}\n\nwrote bench/results-gpu.json and the GPU section of bench/results.md`);
}

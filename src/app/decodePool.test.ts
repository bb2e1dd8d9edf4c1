import { describe, expect, it, vi } from 'vitest';
import type { DecodeReply, DecodeRequest } from '../data/decode';
import { DataError } from '../data/errors';
import { ingestFiles } from '../data/ingest';
import type { ImageShape } from '../data/types';
import { createDecodePool, poolSizeFor, type DecodeWorkerLike } from './decodePool';

const SHAPE: ImageShape = { height: 2, width: 2, channels: 1 };

/** A fake worker: records requests; the test answers them by hand. */
class FakeWorker implements DecodeWorkerLike {
  static all: FakeWorker[] = [];
  requests: DecodeRequest[] = [];
  terminated = false;
  onmessage: ((event: { data: DecodeReply }) => void) | null = null;
  onerror: ((event: { message?: string; preventDefault?(): void }) => void) | null = null;
  constructor() {
    FakeWorker.all.push(this);
  }
  postMessage(message: DecodeRequest): void {
    if (this.terminated) throw new Error('posted to a terminated worker');
    this.requests.push(message);
  }
  terminate(): void {
    this.terminated = true;
  }
  reply(data: DecodeReply): void {
    this.onmessage?.({ data });
  }
  crash(message: string): void {
    this.onerror?.({ message, preventDefault() {} });
  }
}

function fresh() {
  FakeWorker.all = [];
  return () => new FakeWorker();
}

const blob = (text: string) => new Blob([text]);
const tick = () => new Promise((r) => setTimeout(r, 0));

describe('createDecodePool', () => {
  it('sizes itself by cores: one worker on small machines, two from 4 cores', () => {
    expect(poolSizeFor(undefined)).toBe(1);
    expect(poolSizeFor(2)).toBe(1);
    expect(poolSizeFor(16)).toBe(2);
  });

  it('spreads requests over the workers, at most perWorker each, and matches replies by id', async () => {
    const pool = createDecodePool({ size: 2, perWorker: 1, createWorker: fresh() });
    const a = pool.decode(blob('a'), SHAPE, 'stretch');
    const b = pool.decode(blob('b'), SHAPE, 'center-crop');
    const c = pool.decode(blob('c'), SHAPE, 'stretch');
    expect(FakeWorker.all).toHaveLength(2);
    const [w1, w2] = FakeWorker.all;
    expect(w1.requests.map((r) => r.resize)).toEqual(['stretch']);
    expect(w2.requests.map((r) => r.resize)).toEqual(['center-crop']);
    // Answer out of order: b first.
    w2.reply({ id: w2.requests[0].id, ok: true, pixels: new Uint8Array([2, 2, 2, 2]) });
    expect(await b).toEqual(new Uint8Array([2, 2, 2, 2]));
    // The freed worker takes the queued request c.
    expect(w2.requests).toHaveLength(2);
    w1.reply({ id: w1.requests[0].id, ok: true, pixels: new Uint8Array([1, 1, 1, 1]) });
    w2.reply({ id: w2.requests[1].id, ok: true, pixels: new Uint8Array([3, 3, 3, 3]) });
    expect(await a).toEqual(new Uint8Array([1, 1, 1, 1]));
    expect(await c).toEqual(new Uint8Array([3, 3, 3, 3]));
    pool.close();
    expect(FakeWorker.all.every((w) => w.terminated)).toBe(true);
  });

  it('turns a failed decode into a plain rejection, and a decoder that cannot run into DataError', async () => {
    const pool = createDecodePool({ size: 1, createWorker: fresh() });
    const bad = pool.decode(blob('x'), SHAPE, 'stretch');
    const noCanvas = pool.decode(blob('y'), SHAPE, 'stretch');
    const [w] = FakeWorker.all;
    w.reply({ id: w.requests[0].id, ok: false, message: 'The source image could not be decoded.' });
    w.reply({ id: w.requests[1].id, ok: false, message: 'no OffscreenCanvas', code: 'no-canvas' });
    await expect(bad).rejects.toThrow('could not be decoded');
    await expect(bad).rejects.not.toBeInstanceOf(DataError);
    await expect(noCanvas).rejects.toBeInstanceOf(DataError);
  });

  it('a crashing worker fails only its own requests and is replaced', async () => {
    const pool = createDecodePool({ size: 1, perWorker: 1, createWorker: fresh() });
    const first = pool.decode(blob('a'), SHAPE, 'stretch');
    const second = pool.decode(blob('b'), SHAPE, 'stretch');
    FakeWorker.all[0].crash('out of memory');
    await expect(first).rejects.toThrow('The decode worker stopped: out of memory');
    expect(FakeWorker.all).toHaveLength(2);
    expect(FakeWorker.all[0].terminated).toBe(true);
    const w2 = FakeWorker.all[1];
    w2.reply({ id: w2.requests[0].id, ok: true, pixels: new Uint8Array(4) });
    expect(await second).toHaveLength(4);
  });

  it('a worker that stops answering is taken for dead after timeoutMs: its request fails, a fresh worker takes the queue', async () => {
    vi.useFakeTimers();
    try {
      const pool = createDecodePool({ size: 1, perWorker: 1, timeoutMs: 5000, createWorker: fresh() });
      const hung = pool.decode(blob('a'), SHAPE, 'stretch');
      const next = pool.decode(blob('b'), SHAPE, 'stretch');
      const failed = expect(hung).rejects.toThrow('no answer within 5 s');
      vi.advanceTimersByTime(4999);
      expect(FakeWorker.all).toHaveLength(1);
      vi.advanceTimersByTime(1);
      await failed;
      expect(FakeWorker.all[0].terminated).toBe(true);
      const w2 = FakeWorker.all[1];
      w2.reply({ id: w2.requests[0].id, ok: true, pixels: new Uint8Array(4) });
      expect(await next).toHaveLength(4);
      pool.close();
    } finally {
      vi.useRealTimers();
    }
  });

  it('cancel rejects queued and running requests with AbortError, stops the workers, and ignores late replies', async () => {
    const pool = createDecodePool({ size: 1, perWorker: 1, createWorker: fresh() });
    const running = pool.decode(blob('a'), SHAPE, 'stretch');
    const queued = pool.decode(blob('b'), SHAPE, 'stretch');
    const [w] = FakeWorker.all;
    pool.cancel();
    await expect(running).rejects.toMatchObject({ name: 'AbortError' });
    await expect(queued).rejects.toMatchObject({ name: 'AbortError' });
    expect(w.terminated).toBe(true);
    expect(() => w.reply({ id: w.requests[0].id, ok: true, pixels: new Uint8Array(4) })).not.toThrow();
    await expect(pool.decode(blob('c'), SHAPE, 'stretch')).rejects.toMatchObject({ name: 'AbortError' });
    expect(FakeWorker.all).toHaveLength(1);
  });

  it('as the ingest decoder: a worker error becomes a rejected file, the other files are kept', async () => {
    const pool = createDecodePool({ size: 1, perWorker: 1, createWorker: fresh() });
    // Answers every request as it arrives: 'b' crashes its worker, the rest decode.
    const answer = async () => {
      for (let round = 0; round < 50; round++) {
        await tick();
        for (const w of FakeWorker.all) {
          if (w.terminated) continue;
          for (const request of w.requests.splice(0)) {
            const text = await request.blob.text();
            if (text.includes('CRASH')) {
              w.crash('decoder crashed');
              break;
            }
            w.reply({ id: request.id, ok: true, pixels: new Uint8Array(4).fill(text.length) });
          }
        }
      }
    };
    const png = (extra: string) => new Blob([new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), extra]);
    const files = [
      { path: 'set/a/1.png', blob: png('one') },
      { path: 'set/a/2.png', blob: png('CRASH') },
      { path: 'set/b/3.png', blob: png('three') },
      { path: 'set/b/4.png', blob: png('four') },
    ];
    const answering = answer();
    const result = await ingestFiles(files, SHAPE, pool.decoder('stretch'));
    await answering;
    pool.close();
    expect(result.rejected.map((r) => r.path)).toContain('set/a/2.png');
    expect(result.rejected.find((r) => r.path === 'set/a/2.png')?.reason).toMatch(/could not be decoded/);
    expect(result.images.map((i) => i.path)).toEqual(expect.arrayContaining(['set/a/1.png', 'set/b/3.png', 'set/b/4.png']));
  });
});

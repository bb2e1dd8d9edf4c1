/** app/ingest: adding files to the store through a decode pool (a fake one here: Node has no Worker). */
import { PNG } from 'pngjs';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { DecodePool } from './decodePool';
import { addFiles, cancelIngest, rederiveIfNeeded } from './ingest';
import { useStudio } from '../store/store';
import type { ModelDescription } from '../worker/protocol';

/** What the fake pool does per decode: by default, answers at once with pixels of the file's first byte after the PNG header. */
const pool = { gate: null as Promise<void> | null, holdAfter: Infinity, decoded: 0 };

vi.mock('./decodePool', () => ({
  createDecodePool: (): DecodePool => {
    let cancelled = false;
    const decode = async (_blob: Blob, shape: { height: number; width: number; channels: number }) => {
      if (pool.decoded >= pool.holdAfter && pool.gate) await pool.gate;
      if (cancelled) throw new DOMException('Adding images was cancelled.', 'AbortError');
      pool.decoded++;
      return new Uint8Array(shape.height * shape.width * shape.channels).fill(pool.decoded);
    };
    return {
      size: 1,
      decode: (blob, shape) => decode(blob, shape),
      decoder: () => (_bytes, blob, shape) => decode(blob, shape),
      cancel: () => {
        cancelled = true;
      },
      close: () => {},
    };
  },
}));

const model: ModelDescription = {
  name: 'tiny',
  layers: [],
  defaultCutLayer: 'flat',
  inputShape: { height: 2, width: 2, channels: 1 },
  preprocessing: { range: [0, 1], resize: 'stretch' },
  provenance: null,
  sourceHash: 'ab',
  cutCandidates: ['flat'],
  layerCount: 1,
};

/** A real 4×4 PNG (the ingest sniffs bytes and reads the header before decoding); `variant` changes its bytes. */
function png(variant: number): Blob {
  const image = new PNG({ width: 4, height: 4 });
  image.data.fill(variant);
  return new Blob([new Uint8Array(PNG.sync.write(image))], { type: 'image/png' });
}

beforeEach(() => {
  pool.gate = null;
  pool.holdAfter = Infinity;
  pool.decoded = 0;
  useStudio.setState(useStudio.getInitialState(), true);
  useStudio.getState().modelLoaded(model, {}, { kind: 'builtin', id: 'tiny', label: 'Tiny' });
});

describe('adding files', () => {
  it('decodes each file once at the model input, names the duplicate, and records what the pixels were decoded for', async () => {
    await addFiles([
      { path: 'pets/cats/1.png', blob: png(1) },
      { path: 'pets/cats/2.png', blob: png(2) },
      { path: 'pets/dogs/3.png', blob: png(3) },
      { path: 'pets/dogs/copy.png', blob: png(1) },
    ]);
    const s = useStudio.getState();
    expect(s.datasetSource).toBe('user');
    expect(s.images.map((i) => i.path)).toEqual(['pets/cats/1.png', 'pets/cats/2.png', 'pets/dogs/3.png']);
    expect(s.images.every((i) => i.pixels.length === 4 && typeof i.hash === 'string')).toBe(true);
    expect(s.rejected).toEqual([{ path: 'pets/dogs/copy.png', reason: "'pets/dogs/copy.png' has the same content as 'pets/cats/1.png', which was kept." }]);
    // The duplicate was hashed and refused, never decoded.
    expect(pool.decoded).toBe(3);
    expect(s.decodedFor?.key).toBe('2×2×1 stretch');
    expect(s.ingest).toBeNull();
  });

  it('a second drop with a file already in the dataset names it as a duplicate of the kept one', async () => {
    await addFiles([
      { path: 'a/x/1.png', blob: png(1) },
      { path: 'a/y/2.png', blob: png(2) },
    ]);
    await addFiles([{ path: 'b/x/again.png', blob: png(2) }]);
    const s = useStudio.getState();
    expect(s.images).toHaveLength(2);
    expect(s.rejected.map((r) => r.reason)).toEqual(["'b/x/again.png' has the same content as 'a/y/2.png', which was kept."]);
  });

  it('Cancel keeps the images decoded so far and says how many', async () => {
    let release: () => void = () => {};
    const files = Array.from({ length: 12 }, (_, i) => ({ path: `r/${i % 2 ? 'odd' : 'even'}/${i}.png`, blob: png(10 + i) }));
    // Three decodes answer, then the pool holds until the cancel.
    pool.holdAfter = 3;
    pool.gate = new Promise((resolve) => (release = resolve));
    const adding = addFiles(files);
    await vi.waitFor(() => expect(pool.decoded).toBe(3));
    cancelIngest();
    release();
    await adding;
    const s = useStudio.getState();
    expect(s.images.length).toBe(pool.decoded);
    expect(s.images.length).toBeLessThan(12);
    expect(s.notices.map((n) => n.message)).toEqual([
      expect.stringMatching(new RegExp(`^Cancelled after \\d+ of 12 files; the ${s.images.length} images decoded so far were added\\.`)),
    ]);
    expect(s.rejected).toEqual([]);
  });

  it('re-derives every image from its file when the model takes another size', async () => {
    await addFiles([
      { path: 'p/a/1.png', blob: png(1) },
      { path: 'p/b/2.png', blob: png(2) },
    ]);
    const ids = useStudio.getState().images.map((i) => i.id);
    useStudio.setState({ model: { ...model, inputShape: { height: 3, width: 3, channels: 1 } } });
    rederiveIfNeeded();
    await vi.waitFor(() => expect(useStudio.getState().decodedFor?.key).toBe('3×3×1 stretch'));
    const s = useStudio.getState();
    expect(s.images.map((i) => i.id)).toEqual(ids);
    expect(s.images.every((i) => i.pixels.length === 9)).toBe(true);
  });
});

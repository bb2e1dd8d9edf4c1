import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { convertNsfwjsMobileNetV2, inputsHash, locateNsfwjs, NsfwjsSourceError, readNsfwjsSources, type NsfwjsSources } from './builtInModelsLib';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const OUT_DIR = join(ROOT, 'public/models/mobilenet_v2');

let sources: NsfwjsSources;

beforeAll(() => {
  sources = readNsfwjsSources(locateNsfwjs(ROOT));
});

/** A deep copy of the real sources with `edit` applied to the copy. */
function edited(edit: (s: NsfwjsSources & { model: any; classes: any }) => void): NsfwjsSources {
  const copy = { ...sources, model: structuredClone(sources.model), classes: structuredClone(sources.classes) } as NsfwjsSources & { model: any; classes: any };
  edit(copy);
  return copy;
}

describe('convertNsfwjsMobileNetV2', () => {
  it('is deterministic: two conversions give the same bytes', () => {
    const a = convertNsfwjsMobileNetV2(sources);
    const b = convertNsfwjsMobileNetV2(readNsfwjsSources(locateNsfwjs(ROOT)));
    expect(b.modelJson).toBe(a.modelJson);
    expect(Buffer.compare(b.weights, a.weights)).toBe(0);
    expect(b.notice).toBe(a.notice);
  });

  it('keeps the shard byte for byte and the uint8 quantization, renaming the path to weights.bin', () => {
    const { modelJson, weights } = convertNsfwjsMobileNetV2(sources);
    expect(Buffer.compare(weights, Buffer.from(sources.shardBase64 as string, 'base64'))).toBe(0);
    const json = JSON.parse(modelJson);
    const source = sources.model as { modelTopology: unknown; weightsManifest: { weights: unknown[] }[] };
    // Through JSON as the file holds it (a quantization min of -0 is written as 0).
    const asJson = (value: unknown) => JSON.parse(JSON.stringify(value));
    expect(json.weightsManifest).toEqual([{ paths: ['weights.bin'], weights: asJson(source.weightsManifest[0].weights) }]);
    expect(json.weightsManifest[0].weights.every((w: { quantization?: { dtype: string } }) => w.quantization?.dtype === 'uint8')).toBe(true);
    expect(json.modelTopology).toEqual(asJson(source.modelTopology));
    expect(json.format).toBe('layers-model');
  });

  it('copies nsfwjs’s MIT license verbatim into the notice', () => {
    const { notice } = convertNsfwjsMobileNetV2(sources);
    expect(sources.licenseText).toMatch(/^MIT License\s+Copyright \(c\) 2019 Infinite Red, Inc\./);
    expect(notice).toContain(sources.licenseText.trimEnd());
    expect(notice).toContain('nsfwjs 4.4.0');
  });

  it('matches the files npm run models wrote (they are current)', () => {
    const converted = convertNsfwjsMobileNetV2(sources);
    expect(readFileSync(join(OUT_DIR, 'model.json'), 'utf8')).toBe(converted.modelJson);
    expect(Buffer.compare(readFileSync(join(OUT_DIR, 'weights.bin')), converted.weights)).toBe(0);
    expect(readFileSync(join(OUT_DIR, 'NOTICE.txt'), 'utf8')).toBe(converted.notice);
  });

  it.each<[string, (s: any) => void, RegExp]>([
    [
      'a shard that is not a string',
      (s) => {
        s.shardBase64 = { default: 'x' };
      },
      /exported a object, not a base64 string/,
    ],
    [
      'a shard cut short',
      (s) => {
        s.shardBase64 = (sources.shardBase64 as string).slice(0, 1000);
      },
      /decodes to 750 bytes, but the manifest describes 2619461/,
    ],
    [
      'two shards',
      (s) => {
        s.model.weightsManifest[0].paths.push('group1-shard2of2');
      },
      /not one group of one shard/,
    ],
    [
      'a 4-class label list',
      (s) => {
        delete s.classes.NSFW_CLASSES[4];
      },
      /Dense with 5 units, but nsfw_classes.js names 4 classes/,
    ],
    [
      'no label list',
      (s) => {
        s.classes = {};
      },
      /exported no NSFW_CLASSES/,
    ],
    [
      'another input size',
      (s) => {
        s.model.modelTopology.model_config.config.layers[0].config.batch_input_shape = [null, 160, 160, 3];
      },
      /\[null,160,160,3\], not an InputLayer \[null, 224, 224, 3\]/,
    ],
    [
      'another width multiplier',
      (s) => {
        s.model.modelTopology.model_config.config.layers.find((l: any) => l.config.name === 'Conv_1').config.filters = 1024;
      },
      /Conv_1 1024, not 32 and 1280/,
    ],
    [
      'no topology',
      (s) => {
        s.model = { default: {} };
      },
      /did not export \{modelTopology/,
    ],
  ])('refuses %s with a message that names it', (_, edit, message) => {
    expect(() => convertNsfwjsMobileNetV2(edited(edit))).toThrow(NsfwjsSourceError);
    expect(() => convertNsfwjsMobileNetV2(edited(edit))).toThrow(message);
  });
});

describe('reading the package', () => {
  it('says to install nsfwjs when it cannot be found', () => {
    const empty = mkdtempSync(join(tmpdir(), 'no-nsfwjs-'));
    expect(() => locateNsfwjs(empty)).toThrow(/'nsfwjs' is not installed .*run 'npm install'/);
  });

  it('refuses another nsfwjs version, naming both', () => {
    const dir = mkdtempSync(join(tmpdir(), 'nsfwjs-9-'));
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'nsfwjs', version: '9.9.9' }));
    expect(() => readNsfwjsSources(dir)).toThrow(/nsfwjs 9\.9\.9 is installed, but .* checked against 4\.4\.0/);
  });

  it('records the SHA-256 of every file it read', () => {
    expect(sources.files.map((f) => f.path)).toEqual([
      'dist/models/mobilenet_v2/model.min.js',
      'dist/models/mobilenet_v2/group1-shard1of1.min.js',
      'dist/cjs/nsfw_classes.js',
      'LICENSE',
    ]);
    for (const file of sources.files) expect(file.sha256).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe('inputsHash (when npm run models converts again)', () => {
  it('changes with any nsfwjs file or with the converter source, and only then', () => {
    const base = inputsHash(sources.files, ['a', 'b']);
    expect(inputsHash(sources.files, ['a', 'b'])).toBe(base);
    expect(inputsHash(sources.files, ['a', 'b '])).not.toBe(base);
    expect(inputsHash([{ ...sources.files[0], sha256: '0'.repeat(64) }, ...sources.files.slice(1)], ['a', 'b'])).not.toBe(base);
  });
});

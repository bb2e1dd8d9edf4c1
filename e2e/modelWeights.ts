/**
 * Reads a tfjs model.json manifest and its weight bytes in Node the way tfjs
 * does (tfjs-core io_utils `decodeWeight`: uint8/uint16 quantized values
 * become `q * scale + min` in float32), so tests can compare weights by name.
 */

/** The parts of a model.json these tests read. */
export interface ManifestJson {
  modelTopology: unknown;
  weightsManifest: {
    paths: string[];
    weights: { name: string; shape: number[]; dtype: string; quantization?: { dtype: 'uint8' | 'uint16'; min: number; scale: number } }[];
  }[];
}

/** Every weight of `json` as float32 values, by manifest name; `bin` is all shards concatenated. */
export function manifestWeights(json: ManifestJson, bin: Uint8Array): Map<string, Float32Array> {
  const out = new Map<string, Float32Array>();
  let offset = 0;
  for (const spec of json.weightsManifest.flatMap((group) => group.weights)) {
    if (spec.dtype !== 'float32') throw new Error(`${spec.name}: dtype ${spec.dtype} is not handled here`);
    const count = spec.shape.reduce((p, d) => p * d, 1);
    const q = spec.quantization;
    if (q) {
      const bytesPer = q.dtype === 'uint8' ? 1 : 2;
      const raw = bin.slice(offset, offset + count * bytesPer);
      const quantized = q.dtype === 'uint8' ? raw : new Uint16Array(raw.buffer);
      const values = new Float32Array(count);
      for (let i = 0; i < count; i++) values[i] = quantized[i] * q.scale + q.min;
      out.set(spec.name, values);
      offset += count * bytesPer;
    } else {
      out.set(spec.name, new Float32Array(bin.slice(offset, offset + count * 4).buffer));
      offset += count * 4;
    }
  }
  if (offset !== bin.byteLength) throw new Error(`the manifest describes ${offset} bytes, the weight data holds ${bin.byteLength}`);
  return out;
}

/** True when both arrays hold the same bits. */
export function sameBits(a: Float32Array, b: Float32Array): boolean {
  return Buffer.compare(Buffer.from(a.buffer, a.byteOffset, a.byteLength), Buffer.from(b.buffer, b.byteOffset, b.byteLength)) === 0;
}

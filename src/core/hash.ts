/** Hex SHA-256 of `parts` concatenated (Web Crypto: in browsers, workers and Node ≥ 20). One part is hashed without a copy. */
export async function sha256Hex(parts: readonly (ArrayBuffer | Uint8Array)[]): Promise<string> {
  let all: Uint8Array;
  if (parts.length === 1) all = parts[0] instanceof Uint8Array ? parts[0] : new Uint8Array(parts[0]);
  else {
    all = new Uint8Array(parts.reduce((sum, p) => sum + p.byteLength, 0));
    let offset = 0;
    for (const part of parts) {
      all.set(part instanceof Uint8Array ? part : new Uint8Array(part), offset);
      offset += part.byteLength;
    }
  }
  const digest = await crypto.subtle.digest('SHA-256', all as Uint8Array<ArrayBuffer>);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
}

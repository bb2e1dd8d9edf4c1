import type { WireError } from './protocol';

export { assertNever } from '../core/assertNever';

/** Turns anything thrown into a WireError that survives structured cloning; a typed error keeps its `code`. */
export function toWireError(error: unknown): WireError {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return { name: error.name, message: error.message, ...(typeof code === 'string' ? { code } : {}), stack: error.stack };
  }
  return { name: 'Error', message: String(error) };
}

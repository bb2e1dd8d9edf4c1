/**
 * The studio's one contract for bad user input: an operation that can be refused answers `{ ok: true, … }`
 * or `{ ok: false, code, reason }` — a stable code for programs and tests, and a sentence that quotes the
 * value and says what to do for people. Programmer errors throw typed errors instead.
 */

/** A refusal: why, in words and as a code. */
export interface Refusal<C extends string = string> {
  ok: false;
  code: C;
  reason: string;
}

/** What a refusable operation answers; `T` is what it gives back when it works. */
export type Result<T extends object = object, C extends string = string> = ({ ok: true } & T) | Refusal<C>;

/** A refusal with `code` and `reason`. */
export function refused<C extends string>(code: C, reason: string): Refusal<C> {
  return { ok: false, code, reason };
}

/** The reason of a refusal, or null when it worked: for a form that shows the reason under its field. */
export function reasonOf(result: Result<object>): string | null {
  return result.ok ? null : result.reason;
}

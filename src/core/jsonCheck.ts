/**
 * Field-by-field checks of parsed JSON that a file brought in (a project's manifest, a model.json): each
 * check returns the typed value or names the first field that is wrong by its path
 * (`dataset.images[3].className`), its value and what was expected. Objects are strict: a field the
 * schema does not know is refused too. `object<T>` needs one check per key of `T`, so a field added to
 * a type fails to compile here until its check (and the schema version) is written.
 */

/** Reads `value` (found at `path`) as a `T`, or throws a FieldProblem that `runCheck` turns into a result. */
export type Check<T> = (value: unknown, path: string) => T;

/** Thrown inside a check only; `runCheck` catches it, so it never reaches a caller. */
class FieldProblem extends Error {
  constructor(
    readonly path: string,
    message: string,
  ) {
    super(message);
  }
}

/** Runs `check` on `value`: the typed value, or the first problem found. Other errors (programmer errors) propagate. */
export function runCheck<T>(check: Check<T>, value: unknown, root = ''): { ok: true; value: T } | { ok: false; path: string; message: string } {
  try {
    return { ok: true, value: check(value, root) };
  } catch (error) {
    if (error instanceof FieldProblem) return { ok: false, path: error.path, message: error.message };
    throw error;
  }
}

/** Fails the check at `path` with `message` as is (for problems between fields). */
export function failAt(path: string, message: string): never {
  throw new FieldProblem(path, message);
}

/** `42`, `'cat'`, `a list`, `an object`, `null`, cut to 60 characters. */
export function shownValue(value: unknown): string {
  if (value === undefined) return 'missing';
  if (Array.isArray(value)) return `a list of ${value.length}`;
  if (value !== null && typeof value === 'object') return 'an object';
  const text = typeof value === 'string' ? `'${value}'` : String(value);
  return text.length > 60 ? `${text.slice(0, 57)}…` : text;
}

/** Fails at `path`: "Field 'a.b' is 42; expected text." (or "… is missing; …"). */
export function wrong(path: string, value: unknown, expected: string): never {
  const is = value === undefined ? 'is missing' : `is ${shownValue(value)}`;
  throw new FieldProblem(path, `Field '${path || '(top level)'}' ${is}; expected ${expected}.`);
}

/** `a.b`, `a[3]`: the path of a key or index under `path`. */
export function child(path: string, key: string | number): string {
  if (typeof key === 'number') return `${path}[${key}]`;
  return path ? `${path}.${key}` : key;
}

/** Any text. */
export const text: Check<string> = (value, path) => (typeof value === 'string' ? value : wrong(path, value, 'text'));

/** Text that is not empty. */
export const nonEmptyText: Check<string> = (value, path) => (typeof value === 'string' && value !== '' ? value : wrong(path, value, 'text that is not empty'));

/** true or false. */
export const bool: Check<boolean> = (value, path) => (typeof value === 'boolean' ? value : wrong(path, value, 'true or false'));

/** Bounds of a number check; `integer` asks for a whole number. */
export type NumberRange = { integer?: boolean; min?: number; max?: number; below?: number };

/** A finite number within `range`. */
export function num(range: NumberRange = {}): Check<number> {
  const { integer = false, min, max, below } = range;
  const parts = [integer ? 'a whole number' : 'a number'];
  if (min !== undefined) parts.push(`≥ ${min}`);
  if (max !== undefined) parts.push(`≤ ${max}`);
  if (below !== undefined) parts.push(`< ${below}`);
  const expected = parts.join(' ');
  return (value, path) => {
    const ok =
      typeof value === 'number' &&
      Number.isFinite(value) &&
      (!integer || Number.isInteger(value)) &&
      (min === undefined || value >= min) &&
      (max === undefined || value <= max) &&
      (below === undefined || value < below);
    return ok ? (value as number) : wrong(path, value, expected);
  };
}

/** How non-finite numbers are written in JSON (which has no NaN): `JSON.stringify(x, nonFiniteReplacer)`. */
export function nonFiniteReplacer(_key: string, value: unknown): unknown {
  return typeof value === 'number' && !Number.isFinite(value) ? String(value) : value;
}

const NON_FINITE: Record<string, number> = { NaN: NaN, Infinity: Infinity, '-Infinity': -Infinity };

/** Any number, NaN and ±Infinity included (written as the strings 'NaN', 'Infinity', '-Infinity'): a measured loss may be any. */
export const measured: Check<number> = (value, path) => {
  if (typeof value === 'number') return value;
  if (typeof value === 'string' && Object.hasOwn(NON_FINITE, value)) return NON_FINITE[value];
  return wrong(path, value, "a number (or 'NaN', 'Infinity', '-Infinity')");
};

/** One of `values`, compared with `===`. */
export function oneOf<const T extends string | number>(...values: T[]): Check<T> {
  const expected = `one of ${values.map((v) => (typeof v === 'string' ? `'${v}'` : String(v))).join(', ')}`;
  return (value, path) => ((values as unknown[]).includes(value) ? (value as T) : wrong(path, value, expected));
}

/** null, or what `check` reads. */
export function nullable<T>(check: Check<T>): Check<T | null> {
  return (value, path) => (value === null ? null : check(value, path));
}

/** An optional field: absent (undefined), or what `check` reads; `null` is not absent. */
export function optional<T>(check: Check<T>): Check<T | undefined> {
  return (value, path) => (value === undefined ? undefined : check(value, path));
}

/** A list of what `check` reads, at most `maxLength` long. */
export function listOf<T>(check: Check<T>, maxLength = Number.MAX_SAFE_INTEGER): Check<T[]> {
  return (value, path) => {
    if (!Array.isArray(value)) return wrong(path, value, 'a list');
    if (value.length > maxLength) return wrong(path, value, `a list of at most ${maxLength.toLocaleString('en-US')}`);
    return value.map((item, i) => check(item, child(path, i)));
  };
}

/** A list of exactly `length` items (a tuple such as a range `[min, max]`). */
export function tupleOf<T>(check: Check<T>, length: number): Check<T[]> {
  return (value, path) =>
    Array.isArray(value) && value.length === length ? value.map((item, i) => check(item, child(path, i))) : wrong(path, value, `a list of ${length}`);
}

/** True for a JSON object (not null, not a list). */
export function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** An object whose every value `check` reads (keys are free: layer names, block labels). */
export function recordOf<T>(check: Check<T>): Check<Record<string, T>> {
  return (value, path) => {
    if (!isObject(value)) return wrong(path, value, 'an object');
    // defineProperty, not assignment: a key '__proto__' (an own key after JSON.parse) stays a key instead of setting the prototype.
    const out: Record<string, T> = {};
    for (const [key, item] of Object.entries(value)) {
      Object.defineProperty(out, key, { value: check(item, child(path, key)), enumerable: true, writable: true, configurable: true });
    }
    return out;
  };
}

/** One check per key of `T`: optional keys take an `optional(…)` check. */
export type Fields<T> = { [K in keyof T]-?: Check<T[K]> };

/** An object with exactly the keys of `fields` (absent optional keys stay absent); an unknown key is refused. */
export function object<T extends object>(fields: Fields<T>): Check<T> {
  const known = new Set(Object.keys(fields));
  return (value, path) => {
    if (!isObject(value)) return wrong(path, value, 'an object');
    for (const key of Object.keys(value)) {
      if (!known.has(key))
        failAt(child(path, key), `Field '${child(path, key)}' is not one this schema knows; expected only ${[...known].map((k) => `'${k}'`).join(', ')}.`);
    }
    const out: Record<string, unknown> = {};
    for (const key of known) {
      const read = (fields as Record<string, Check<unknown>>)[key](value[key], child(path, key));
      if (read !== undefined) out[key] = read;
    }
    return out as T;
  };
}

/** A union told apart by the text field `tag`: each case's check reads the whole object. */
export function tagged<T extends object>(tag: string, cases: Record<string, Check<T>>): Check<T> {
  const expected = `one of ${Object.keys(cases)
    .map((k) => `'${k}'`)
    .join(', ')}`;
  return (value, path) => {
    if (!isObject(value)) return wrong(path, value, 'an object');
    const kind = value[tag];
    if (typeof kind !== 'string' || !Object.hasOwn(cases, kind)) return wrong(child(path, tag), kind, expected);
    return cases[kind](value, path);
  };
}

/** What `check` reads, then `rule` on it: null when it holds, else what was expected ("a file name without folders"). */
export function refine<T>(check: Check<T>, rule: (value: T) => string | null): Check<T> {
  return (value, path) => {
    const read = check(value, path);
    const problem = rule(read);
    return problem === null ? read : wrong(path, value, problem);
  };
}

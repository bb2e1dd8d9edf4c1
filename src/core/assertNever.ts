/** Compile-time exhaustiveness check for `switch (msg.type)`: every protocol switch ends in it. */
export function assertNever(value: never): never {
  throw new Error(`Unexpected message: ${JSON.stringify(value)}`);
}

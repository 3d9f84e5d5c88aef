/**
 * Reads `read()` until `done` holds and returns that value: for outcomes that activities write a few
 * milliseconds after the workflow moved on. Bounded, so a missed outcome fails with what was last seen;
 * the bound is generous and only decides how long a broken test takes to fail, never whether it passes.
 */
export async function eventually<T>(read: () => Promise<T>, done: (value: T) => boolean, boundMs = 30_000): Promise<T> {
  const deadline = Date.now() + boundMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`still not there after ${boundMs / 1000} s; last seen: ${JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v))}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** What a caller of a grouped call learns: its key's value, and its place among the callers of the same key in that call. */
export interface GroupedResult<R> {
  value: R | undefined;
  index: number;
  callers: number;
}

type Waiting<R> = { resolve: (result: GroupedResult<R>) => void; reject: (err: unknown) => void };

/**
 * Groups calls as a database commits in groups: the first key asked for is sent at once, and keys asked
 * for while its call runs wait for it and go together in the next (at most `maxKeys` per call), so a
 * busy process makes one call per round trip rather than one per request, and an idle one adds no
 * delay. `call` is given each key with how many callers asked for it, and answers by key. Keys that
 * `apart` puts in the same class never share a call: the later waits for the next, in arrival order
 * (two different votes of one member, whose order matters).
 */
export function groupedCalls<R>(
  call: (keys: Array<{ key: string; callers: number }>) => Promise<Map<string, R>>,
  maxKeys: number,
  apart?: (key: string) => string,
): (key: string) => Promise<GroupedResult<R>> {
  const pending = new Map<string, Waiting<R>[]>();
  let calling = false;
  /** The next call's keys: the first `maxKeys` waiting, at most one of each class. */
  const nextBatch = () => {
    const batch: Array<[string, Waiting<R>[]]> = [];
    const classes = new Set<string>();
    for (const entry of pending) {
      if (batch.length === maxKeys) break;
      const of = apart?.(entry[0]);
      if (of !== undefined && classes.has(of)) continue;
      if (of !== undefined) classes.add(of);
      batch.push(entry);
    }
    return batch;
  };
  const drain = async () => {
    calling = true;
    while (pending.size > 0) {
      const batch = nextBatch();
      for (const [key] of batch) pending.delete(key);
      try {
        const values = await call(batch.map(([key, waiting]) => ({ key, callers: waiting.length })));
        for (const [key, waiting] of batch) waiting.forEach((w, index) => w.resolve({ value: values.get(key), index, callers: waiting.length }));
      } catch (err) {
        for (const [, waiting] of batch) for (const w of waiting) w.reject(err);
      }
    }
    calling = false;
  };
  return (key) =>
    new Promise((resolve, reject) => {
      const waiting = pending.get(key);
      if (waiting) waiting.push({ resolve, reject });
      else pending.set(key, [{ resolve, reject }]);
      if (!calling) void drain();
    });
}

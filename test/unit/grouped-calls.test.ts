import { groupedCalls } from '../../api/grouped-calls';

/** A call that records the keys it was given and answers after the test lets it. */
function recordingCall() {
  const calls: Array<Array<{ key: string; callers: number }>> = [];
  const release: Array<() => void> = [];
  const call = (keys: Array<{ key: string; callers: number }>) => {
    calls.push(keys);
    return new Promise<Map<string, string>>((resolve) => release.push(() => resolve(new Map(keys.map(({ key }) => [key, `value of ${key}`])))));
  };
  const releaseNext = async () => {
    while (release.length === 0) await new Promise((r) => setImmediate(r));
    release.shift()!();
  };
  return { call, calls, releaseNext };
}

describe('groupedCalls', () => {
  it('sends the first key at once and the keys asked for meanwhile together, identical keys once', async () => {
    const { call, calls, releaseNext } = recordingCall();
    const get = groupedCalls(call, 10);
    const first = get('a');
    const rest = [get('b'), get('c'), get('b')];
    await releaseNext();
    await releaseNext();
    const results = await Promise.all([first, ...rest]);
    expect(calls).toEqual([[{ key: 'a', callers: 1 }], [{ key: 'b', callers: 2 }, { key: 'c', callers: 1 }]]);
    expect(results.map((r) => [r.value, r.index, r.callers])).toEqual([['value of a', 0, 1], ['value of b', 0, 2], ['value of c', 0, 1], ['value of b', 1, 2]]);
  });

  it('never puts two keys of one class in the same call, and keeps their arrival order', async () => {
    const { call, calls, releaseNext } = recordingCall();
    // The class is the part before the colon: one member's two different votes.
    const get = groupedCalls(call, 10, (key) => key.split(':')[0]!);
    const results = [get('x:first'), get('m:yes'), get('n:yes'), get('m:no'), get('m:abstain'), get('n:no')];
    for (let i = 0; i < 4; i++) await releaseNext();
    await Promise.all(results);
    expect(calls.map((keys) => keys.map((k) => k.key))).toEqual([['x:first'], ['m:yes', 'n:yes'], ['m:no', 'n:no'], ['m:abstain']]);
  });

  it('takes at most maxKeys keys per call', async () => {
    const { call, calls, releaseNext } = recordingCall();
    const get = groupedCalls(call, 2);
    const results = ['a', 'b', 'c', 'd', 'e'].map((k) => get(k));
    for (let i = 0; i < 3; i++) await releaseNext();
    await Promise.all(results);
    expect(calls.map((keys) => keys.map((k) => k.key))).toEqual([['a'], ['b', 'c'], ['d', 'e']]);
  });

  it('fails every caller of a call that fails, and goes on with the next', async () => {
    let n = 0;
    const get = groupedCalls(async (keys) => {
      if (n++ === 0) throw new Error('database away');
      return new Map(keys.map(({ key }) => [key, key.toUpperCase()]));
    }, 10);
    const failed = get('a');
    const next = get('b');
    await expect(failed).rejects.toThrow('database away');
    await expect(next).resolves.toMatchObject({ value: 'B' });
  });
});

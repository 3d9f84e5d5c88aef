/**
 * What a flow moved over an interval, from its history on the chain. A Superfluid flow moves `rate` wei
 * every second from the timestamp of the block that set the rate until the block that changes it
 * (FlowUpdated; rate 0 when it stops). So over [start, end) it moved the sum, over the rates in force,
 * of rate × the seconds of the interval each was in force: exact in wei, with no rounding anywhere.
 */

/** A change of the flow's rate (a FlowUpdated event), in force from `timestamp` (Unix seconds) on. */
export interface FlowChange {
  timestamp: bigint;
  flowRate: bigint;
}

export interface FlowOverInterval {
  /** Wei moved over [start, end). */
  amount: bigint;
  /** The rate in force from `end` on: the start of the next interval. */
  endRate: bigint;
}

/**
 * The wei a flow moved over [start, end), given the rate in force at `start` and every change with a
 * timestamp in [start, end], in chain order. A change at exactly `end` moves nothing in this interval
 * and sets the next one's rate.
 */
export function flowOver(startRate: bigint, start: bigint, end: bigint, changes: readonly FlowChange[]): FlowOverInterval {
  if (end <= start) throw new RangeError(`an interval ends after it starts (got [${start}, ${end}))`);
  if (startRate < 0n) throw new RangeError('a flow rate is not negative');
  let amount = 0n;
  let rate = startRate;
  let since = start;
  for (const change of changes) {
    if (change.timestamp < since || change.timestamp > end) throw new RangeError(`flow changes are in order within [${start}, ${end}] (got one at ${change.timestamp} after ${since})`);
    if (change.flowRate < 0n) throw new RangeError('a flow rate is not negative');
    amount += rate * (change.timestamp - since);
    rate = change.flowRate;
    since = change.timestamp;
  }
  return { amount: amount + rate * (end - since), endRate: rate };
}
